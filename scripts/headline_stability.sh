#!/usr/bin/env bash
# Headline stability (issue 13): the demo line-up rerun against the simulator with 20 different
# `--seed`s (same items, same judge). For each run: the set the headline names (the model picked by
# "Ship X", plus every model named as tied with it), whether it contains the simulator's true best
# model (sft-full-e6-lr3e-5, the seed's best), and whether the recommended model is significantly
# beaten by another candidate of the same run (a paired test in summary.json with p_holm < α against
# it). A benchmark, not a test: release build, a few minutes of both cores.
# Usage: scripts/headline_stability.sh [RUNS (20)]   Env: TIME_SCALE (0.02), BEST, KEEP=1 keeps runs.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
best="${BEST:-sft-full-e6-lr3e-5}"
time_scale="${TIME_SCALE:-0.02}"
line_up="ernie-4.0,ernie-speed,sft-full-e3-lr3e-5,sft-full-e3-lr6e-5,sft-full-e6-lr3e-5,sft-lora-e3-lr3e-4,sft-lora-e3-lr6e-4,sft-lora-e6-lr3e-4"

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
port=$((20000 + RANDOM % 20000))
export EVALRUN_SIM_AK=sim-ak EVALRUN_SIM_SK=sim-sk

for seed in $(seq 1 "$runs"); do
  port=$((port + 1))
  sed "s/127.0.0.1:8765/127.0.0.1:$port/g" evalrun.toml >"$work/cfg-$port.toml"
  "$bin" sim --addr "127.0.0.1:$port" --time-scale "$time_scale" --seed "$seed" \
    --faults "error500=0.01,tear=0.01,judge:garbage=0.02" >/dev/null 2>&1 &
  sim_pid=$!
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/sim/models" >/dev/null 2>&1 && break
    sleep 0.1
  done
  out="$work/run-$seed"
  "$bin" run --config "$work/cfg-$port.toml" --models "$line_up" --judge judge --baseline ernie-speed \
    --evalset evalsets/oral_english.jsonl --rubric rubrics/oral_english.toml --quiet --out "$out" \
    >/dev/null 2>"$out.log" || true
  cleanup_sim
done

python3 - "$work" "$runs" "$best" <<'EOF'
import json, re, sys
work, runs, best = sys.argv[1], int(sys.argv[2]), sys.argv[3]
contains = beaten = ships = 0
for seed in range(1, runs + 1):
    d = f"{work}/run-{seed}"
    md = open(f"{d}/report.md", encoding="utf-8").read()
    head = md[md.index("## Decision"):].splitlines()[2]
    s = json.load(open(f"{d}/summary.json"))
    alpha = s["params"]["alpha"]
    m = re.match(r"\*\*Ship `([^`]+)`\*\*", head)
    if not m:
        print(f"seed {seed:2}: {head[:110]}")
        continue
    ships += 1
    pick = m.group(1)
    tied = re.search(r"((?:`[^`]+`(?:, | and )?)+) are tied with the best", head)
    named = set(re.findall(r"`([^`]+)`", tied.group(1))) if tied else {pick}
    named.add(pick)
    # Models tied with the best that the headline names but does not recommend (and says why).
    held = re.search(r"Also tied with the best, but not recommended: (.*)", head)
    if held:
        for clause in held.group(1).split("; "):
            named |= set(re.findall(r"`([^`]+)`", clause.split(" — ")[0]))
    # Beaten: some reference of the run is significantly better than the pick on a dimension.
    hit = [f"{ref}>{pick}:{d}" for ref, cands in s["paired"].items() if ref != pick
           for d, p in cands.get(pick, {}).items()
           if p["p_holm"] is not None and p["p_holm"] < alpha and p["mean_diff"] < 0]
    contains += best in named
    beaten += bool(hit)
    print(f"seed {seed:2}: Ship {pick}; named {sorted(named)}; true best named: {best in named}; beaten: {hit or 'no'}")
print(f"\n{ships}/{runs} runs recommend a model; the named set contains {best} in {contains}/{ships}; "
      f"the recommended model is significantly beaten by another candidate in {beaten}/{ships}.")
EOF
