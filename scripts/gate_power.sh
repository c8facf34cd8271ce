#!/usr/bin/env bash
# The regression gate's false-alarm rate and power, measured against the simulator (issue #13).
# A benchmark, not a test: release build, a few minutes of both cores.
#
# Items: the shipped oral_english set (50) plus 50 copies whose topic carries a suffix, so the
# simulator (which hashes the conversation) answers them independently: 100 items, 1 sample.
# For pair i, three runs with independent simulator seeds: the baseline, an A/A candidate, and an
# A/B candidate whose MODEL has `degrade=DIM:AMOUNT` (the judge scores it AMOUNT lower on DIM).
#   one-model:   `--models MODEL` runs, gated with `--primary DIM`;
#   eight-model: the whole line-up; the A/B candidate degrades MODEL only and is gated with
#                `--models MODEL`; the A/A candidate is gated over all eight models.
# Prints the share of pairs that FAIL (false alarms for A/A, detections for A/B), and which checks
# failed. Usage: scripts/gate_power.sh [PAIRS (40)] [EIGHT_PAIRS (20)]
# Env: MODEL (sft-full-e3-lr3e-5), DIM (reply), AMOUNT (0.2), TIME_SCALE (0.02), KEEP=1 keeps runs.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs="${1:-40}"
eight_pairs="${2:-20}"
model="${MODEL:-sft-full-e3-lr3e-5}"
dim="${DIM:-reply}"
amount="${AMOUNT:-0.2}"
time_scale="${TIME_SCALE:-0.02}"

# EVALRUN_BIN: a binary already built (skips the release build).
bin="${EVALRUN_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release --quiet
  bin="$PWD/target/release/evalrun"
fi
work="$(mktemp -d)"
sim_pid=""
cleanup_sim() { if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; sim_pid=""; fi; }
trap 'cleanup_sim; [ "${KEEP:-0}" = 1 ] || rm -rf "$work"' EXIT

python3 - "$work/items.jsonl" <<'EOF'
import json, sys
items = [json.loads(l) for l in open("evalsets/oral_english.jsonl", encoding="utf-8") if l.strip()]
with open(sys.argv[1], "w", encoding="utf-8") as out:
    for it in items:
        out.write(json.dumps(it, ensure_ascii=False) + "\n")
    for it in items:
        copy = json.loads(json.dumps(it))
        copy["id"] = it["id"].replace("oe-", "oe-1")
        copy["vars"]["topic"] = it["vars"]["topic"] + "（第二组）"
        out.write(json.dumps(copy, ensure_ascii=False) + "\n")
EOF

line_up="ernie-4.0,ernie-speed,sft-full-e3-lr3e-5,sft-full-e3-lr6e-5,sft-full-e6-lr3e-5,sft-lora-e3-lr3e-4,sft-lora-e3-lr6e-4,sft-lora-e6-lr3e-4"
port=$((20000 + RANDOM % 20000))
export EVALRUN_SIM_AK=sim-ak EVALRUN_SIM_SK=sim-sk

# run OUT SEED MODELS [FAULTS]: one run against a fresh simulator.
run() {
  local out="$1" seed="$2" models="$3" faults="${4:-}"
  port=$((port + 1))
  sed "s/127.0.0.1:8765/127.0.0.1:$port/g" evalrun.toml >"$work/cfg-$port.toml"
  local args=(sim --addr "127.0.0.1:$port" --time-scale "$time_scale" --seed "$seed")
  [ -n "$faults" ] && args+=(--faults "$faults")
  "$bin" "${args[@]}" >/dev/null 2>&1 &
  sim_pid=$!
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/sim/models" >/dev/null 2>&1 && break
    sleep 0.1
  done
  "$bin" run --config "$work/cfg-$port.toml" --models "$models" --judge judge \
    --baseline "${models%%,*}" --evalset "$work/items.jsonl" --rubric rubrics/oral_english.toml --no-cache --quiet \
    --out "$out" >/dev/null 2>"$out.log" || true
  cleanup_sim
}

# gate NAME BASE CAND [gate flags…]: record the verdict and the failing checks.
gate() {
  local name="$1" base="$2" cand="$3"
  shift 3
  local rc=0
  "$bin" gate --baseline "$base" --candidate "$cand" --primary "$dim" --json "$cand.$name.json" \
    "$@" >/dev/null 2>&1 || rc=$?
  python3 - "$cand.$name.json" "$name" "$rc" >>"$work/results.tsv" <<'EOF'
import json, sys
path, name, rc = sys.argv[1:]
try:
    g = json.load(open(path))
except Exception:
    print(f"{name}\t{rc}\tno-json"); sys.exit()
failing = []
for m, rows in g["models"].items():
    for kind in ("dimensions", "rules"):
        failing += [f"{m}:{k}" for k, r in rows[kind].items() if r["status"] == "FAIL"]
    failing += [f"{m}:{k}" for k in ("latency", "errors", "cached") if rows[k]["status"] == "FAIL"]
print(f"{name}\t{rc}\t{','.join(failing) or '-'}")
EOF
}

: >"$work/results.tsv"
for i in $(seq 1 "$pairs"); do
  s=$((1000 + 3 * i))
  run "$work/one-$i-a" "$s" "$model"
  run "$work/one-$i-aa" "$((s + 1))" "$model"
  run "$work/one-$i-ab" "$((s + 2))" "$model" "$model:degrade=$dim:$amount"
  gate one-aa "$work/one-$i-a" "$work/one-$i-aa"
  gate one-ab "$work/one-$i-a" "$work/one-$i-ab"
  printf '\rone-model pairs: %d/%d' "$i" "$pairs" >&2
done
echo >&2
for i in $(seq 1 "$eight_pairs"); do
  s=$((5000 + 3 * i))
  run "$work/eight-$i-a" "$s" "$line_up"
  run "$work/eight-$i-aa" "$((s + 1))" "$line_up"
  run "$work/eight-$i-ab" "$((s + 2))" "$line_up" "$model:degrade=$dim:$amount"
  gate eight-aa "$work/eight-$i-a" "$work/eight-$i-aa"
  gate eight-ab-models "$work/eight-$i-a" "$work/eight-$i-ab" --models "$model"
  printf '\reight-model pairs: %d/%d' "$i" "$eight_pairs" >&2
done
echo >&2
# Every pair of the unchanged one-model runs (the A and A/A runs, all independent seeds) gated A/A,
# the same way (pairs share runs, so they are not independent trials; the estimate is unbiased).
one_unchanged=()
for i in $(seq 1 "$pairs"); do one_unchanged+=("$work/one-$i-a" "$work/one-$i-aa"); done
for ((i = 0; i < ${#one_unchanged[@]}; i++)); do
  for ((j = i + 1; j < ${#one_unchanged[@]}; j++)); do
    gate one-aa-all "${one_unchanged[i]}" "${one_unchanged[j]}"
  done
  printf '\rall pairs of unchanged one-model runs: %d/%d' "$((i + 1))" "${#one_unchanged[@]}" >&2
done
echo >&2
# Every pair of the unchanged eight-model runs (the A and A/A runs, all independent seeds) gated A/A:
# an unbiased estimate of the same false-alarm rate from many more comparisons (the pairs share runs,
# so they are not independent trials).
unchanged=()
for i in $(seq 1 "$eight_pairs"); do unchanged+=("$work/eight-$i-a" "$work/eight-$i-aa"); done
for ((i = 0; i < ${#unchanged[@]}; i++)); do
  for ((j = i + 1; j < ${#unchanged[@]}; j++)); do
    gate eight-aa-all "${unchanged[i]}" "${unchanged[j]}"
  done
  printf '\rall pairs of unchanged runs: %d/%d' "$((i + 1))" "${#unchanged[@]}" >&2
done
echo >&2

python3 - "$work/results.tsv" "$model" "$dim" "$amount" <<'EOF'
import collections, sys
path, model, dim, amount = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
by = collections.defaultdict(list)
for name, rc, failing in rows:
    by[name].append((rc, failing))
label = {
    "one-aa": f"A/A, {model} alone (false alarms)",
    "one-ab": f"A/B, {model} {dim} −{amount} (detections)",
    "one-aa-all": f"A/A, {model} alone, every pair of the unchanged runs (false alarms)",
    "eight-aa": "A/A, all eight models gated (false alarms)",
    "eight-ab-models": f"A/B in the eight-model run, --models {model} (detections)",
    "eight-aa-all": "A/A, all eight models, every pair of the unchanged runs (false alarms)",
}
print(f"gate power: 100 items, 1 sample, --primary {dim}, independent simulator seeds")
for name in ("one-aa", "one-ab", "one-aa-all", "eight-aa", "eight-ab-models", "eight-aa-all"):
    v = by.get(name, [])
    if not v:
        continue
    fails = sum(rc == "1" for rc, _ in v)
    other = sum(rc not in ("0", "1") for rc, _ in v)
    checks = collections.Counter(c.split(":", 1)[1] for rc, f in v if f != "-" for c in f.split(","))
    extra = f", {other} unusable" if other else ""
    print(f"  {label[name]}: {fails}/{len(v)} = {100 * fails / len(v):.1f} % FAIL{extra}"
          f"  [failing checks: {dict(checks) or 'none'}]")
EOF
