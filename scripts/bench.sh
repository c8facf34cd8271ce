#!/usr/bin/env bash
# Whole-run benchmarks (issue #17), on a release build, one command at a time:
#   - `evalrun run` against `evalrun sim --time-scale 0` (no simulated delays, so evalrun itself is the
#     limit): N items × 2 OpenAI-protocol models, rules-only and judged (`--judge judge`);
#   - `evalrun report` over a run directory of R responses (a real 1,000-item × 2 run, its items
#     copied under new ids until it holds R responses).
# Each line gives the median of BENCH_REPS runs: wall time, CPU (user+sys), CPU per answer
# request (items × 2; a judged run's judge calls are included in its CPU, not in the count), peak RSS
# (/usr/bin/time -v), and the command line measured.
# Environment: BENCH_SIZES (default "10000 20000 100000"), BENCH_JUDGED_SIZES ("10000 100000"),
# BENCH_REPORT_SIZES ("200000 1000000"), BENCH_REPS (3), BENCH_PORT (18765), BENCH_BIN (a binary to
# measure instead of building target/release/evalrun, e.g. an older build to compare with).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${BENCH_SIZES-"10000 20000 100000"}
JUDGED_SIZES=${BENCH_JUDGED_SIZES-"10000 100000"}
REPORT_SIZES=${BENCH_REPORT_SIZES-"200000 1000000"}
REPS=${BENCH_REPS:-3}
PORT=${BENCH_PORT:-18765}

if [ -z "${BENCH_BIN-}" ]; then
    nice -n 10 cargo build --release --locked --quiet
fi
BIN=${BENCH_BIN:-$PWD/target/release/evalrun}
work=$(mktemp -d)
"$BIN" sim --addr "127.0.0.1:$PORT" --time-scale 0 >"$work/sim.log" 2>&1 &
sim=$!
trap 'kill "$sim" 2>/dev/null; rm -rf "$work"' EXIT

cat >"$work/evalrun.toml" <<TOML
[run]
rubric = "rubric.toml"
judge = "none"

[models.a]
provider = "openai"
base_url = "http://127.0.0.1:$PORT/v1"
model = "sft-full-e3-lr3e-5"
concurrency = 32

[models.b]
provider = "openai"
base_url = "http://127.0.0.1:$PORT/v1"
model = "sft-lora-e3-lr3e-4"
concurrency = 32

[models.judge]
provider = "openai"
base_url = "http://127.0.0.1:$PORT/v1"
model = "judge"
concurrency = 32
TOML
cp rubrics/oral_english.toml "$work/rubric.toml"

# The seed's items, repeated under new ids until there are $1.
evalset() {
    python3 - "$1" >"$work/items-$1.jsonl" <<'PY'
import json, sys
n = int(sys.argv[1])
base = [json.loads(l) for l in open("evalsets/oral_english.jsonl") if l.strip()]
for i in range(n):
    item = dict(base[i % len(base)])
    item["id"] = f"{item['id']}-{i}"
    print(json.dumps(item, ensure_ascii=False))
PY
}

# measure LABEL REQUESTS CMD…: run CMD $REPS times under /usr/bin/time -v, print the medians.
measure() {
    local label=$1 requests=$2
    shift 2
    for r in $(seq "$REPS"); do
        rm -rf "$work/out"
        /usr/bin/time -v -o "$work/time.$r" "$@" >/dev/null 2>"$work/stderr.$r" ||
            { echo "$label: failed:"; tail -5 "$work/stderr.$r"; return 1; }
    done
    python3 - "$label" "$requests" "$REPS" "$work" "$*" <<'PY'
import re, statistics, sys
label, requests, reps, work, cmd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def field(text, name):
    return re.search(re.escape(name) + r": (.*)", text).group(1).strip()
def secs(s):
    parts = [float(p) for p in s.split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
walls, cpus, rss = [], [], []
for r in range(1, reps + 1):
    t = open(f"{work}/time.{r}").read()
    walls.append(secs(field(t, "Elapsed (wall clock) time (h:mm:ss or m:ss)")))
    cpus.append(float(field(t, "User time (seconds)")) + float(field(t, "System time (seconds)")))
    rss.append(int(field(t, "Maximum resident set size (kbytes)")) / 1024)
cpu = statistics.median(cpus)
print(f"{label:<34} wall {statistics.median(walls):7.2f} s  cpu {cpu:7.2f} s  "
      f"cpu/request {cpu / requests * 1000:6.3f} ms  peak RSS {statistics.median(rss):6.0f} MB  (median of {reps})")
print(f"    $ {cmd}")
PY
}

run_cmd() { # ITEMS JUDGE
    echo "$BIN" run --quiet --config "$work/evalrun.toml" --evalset "$work/items-$1.jsonl" \
        --models a,b --baseline a --judge "$2" --concurrency 64 --out "$work/out"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average now:$(uptime | sed 's/.*load average://')"
for n in $SIZES; do
    evalset "$n"
    # shellcheck disable=SC2046
    measure "run ${n}×2 rules-only" $((n * 2)) $(run_cmd "$n" none)
done
for n in $JUDGED_SIZES; do
    [ -f "$work/items-$n.jsonl" ] || evalset "$n"
    # shellcheck disable=SC2046
    measure "run ${n}×2 judged" $((n * 2)) $(run_cmd "$n" judge)
done

if [ -n "$REPORT_SIZES" ]; then
    evalset 1000
    rm -rf "$work/out"
    # shellcheck disable=SC2046
    $(run_cmd 1000 none) >/dev/null 2>"$work/base.stderr" ||
        { echo "the 1000-item base run failed:"; tail -5 "$work/base.stderr"; exit 1; }
    mv "$work/out" "$work/base"
    for r in $REPORT_SIZES; do
        # Copy the base run's items and responses under new ids until it holds $r responses.
        python3 - "$work/base" "$work/report-$r" "$r" <<'PY'
import json, os, re, shutil, sys
base, out, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
shutil.copytree(base, out)
man = json.load(open(f"{out}/manifest.json"))
items = [l for l in open(f"{base}/items.jsonl", encoding="utf-8") if l.strip()]
copies = max(1, total // (2 * len(items)))
def rename(line, key, k):
    return re.sub(r'("%s": ?")([^"]*)"' % key, lambda m: f'{m.group(1)}{m.group(2)}~{k}"', line, count=1)
for name in os.listdir(base):
    if name.endswith(".jsonl"):
        key = "id" if name == "items.jsonl" else "item_id"
        lines = open(f"{base}/{name}", encoding="utf-8").readlines()
        with open(f"{out}/{name}", "w", encoding="utf-8") as f:
            for k in range(copies):
                for l in lines:
                    f.write(rename(l, key, k))
man["items"] = copies * len(items)
json.dump(man, open(f"{out}/manifest.json", "w"), indent=2)
PY
        measure "report over $r responses" "$r" "$BIN" report "$work/report-$r"
        rm -rf "$work/report-$r"
    done
fi
