#!/usr/bin/env bash
# Soak benchmark (issue 14): UNITS answers (default 20,000: 2 models × 10,000 items) against
# `evalrun sim` with 5 % HTTP 500s, 5 % torn streams, per-model rate limits (429 / v1 error 18) and
# Qianfan v1 token expiry, the release binary SIGKILLed and resumed KILLS times (default 10) at random
# moments, then checked:
#   - no key lost or duplicated: responses.jsonl and scores.jsonl end with exactly one line per unit;
#   - nothing asked twice that was recorded: a unit recorded with an answer before a session started
#     was never requested in that session (each session has its own simulator, whose request log
#     counts every request by model and prompt);
#   - peak RSS flat: the peak RSS of evalrun (sampled every 50 ms from /proc) while the last quarter of
#     the units is being recorded is within 20 % of the peak during the first quarter (the report
#     derivation after the last unit is shown apart: it holds the run's latency samples).
# Usage: scripts/soak.sh [UNITS] [KILLS] [SEED]     (builds with `cargo build --release`; SOAK_BIN overrides)
set -euo pipefail
cd "$(dirname "$0")/.."
UNITS="${1:-20000}"
KILLS="${2:-10}"
SEED="${3:-$RANDOM}"
# SOAK_BIN=path/to/evalrun skips the build (e.g. a release binary built elsewhere).
if [ -z "${SOAK_BIN:-}" ]; then
  cargo build --release --quiet
fi
BIN="${SOAK_BIN:-$PWD/target/release/evalrun}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
python3 - "$BIN" "$WORK" "$UNITS" "$KILLS" "$SEED" "$PWD/rubrics/oral_english.toml" <<'EOF'
import json, os, random, signal, socket, subprocess, sys, time, urllib.request

bin_, work, units, kills, seed, rubric = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
rng = random.Random(seed)
items = units // 2
os.chdir(work)
with open("set.jsonl", "w") as f:
    for i in range(items):
        f.write(json.dumps({"id": f"it-{i:05}", "prompt": f"P{i:05}: tell me about your weekend"}) + "\n")

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

port = free_port()
with open("evalrun.toml", "w") as f:
    f.write(f'''[models.a]
provider = "openai"
base_url = "http://127.0.0.1:{port}/v1"
model = "sft-full-e6-lr3e-5"
concurrency = 8
retries = 6
timeout_s = 20
[models.b]
provider = "qianfan"
endpoint = "ernie_speed"
api_key_env = "QF_AK"
secret_key_env = "QF_SK"
concurrency = 8
retries = 6
timeout_s = 20
''')
FAULTS = "error500=0.05,tear=0.05,rate=150,expire_every=500"
env = {"PATH": os.environ["PATH"], "QF_AK": "soak-ak", "QF_SK": "soak-sk",
       "QIANFAN_BASE_URL": f"http://127.0.0.1:{port}"}

def start_sim():
    p = subprocess.Popen([bin_, "sim", "--addr", f"127.0.0.1:{port}", "--time-scale", "0",
                          "--faults", FAULTS, "--seed", str(rng.randrange(1 << 30))],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/sim/stats", timeout=1).read()
            return p
        except Exception:
            time.sleep(0.02)
    sys.exit("soak: the simulator did not start")

def sim_stats():
    return json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/sim/stats", timeout=30).read())

def records(path):
    out = []
    try:
        text = open(path, encoding="utf-8").read()
    except FileNotFoundError:
        return out
    for line in text.split("\n"):
        try:
            out.append(json.loads(line))
        except ValueError:
            pass  # a torn last line
    return out

def recorded_answers():
    return {(r["model"], r["item_id"]) for r in records("out/responses.jsonl") if r.get("error") is None}

def rss_kib(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None

def line_count():
    try:
        with open("out/responses.jsonl", "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0

model_of = {"sft-full-e6-lr3e-5": "a", "ernie_speed": "b"}
cmd = [bin_, "--models", "a,b", "--judge", "none", "--evalset", "set.jsonl", "--out", "out",
       "--quiet", "--rubric", rubric, "--resume"]
samples = []  # (units recorded so far, rss KiB)
reasked = 0
sessions = 0
killed = 0
requests_total = 0
logged = 0
started = time.time()
while True:
    sim = start_sim()
    before = recorded_answers()
    sessions += 1
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open("stderr.log", "a"))
    # Kill after a random time (0–2 s) or after a random number (200–1,800) of new records.
    by_time = killed < kills and rng.random() < 0.4
    deadline = time.time() + rng.uniform(0, 2.0)
    target = line_count() + rng.randrange(200, 1800)
    while child.poll() is None:
        rss = rss_kib(child.pid)
        if rss is not None:
            samples.append((line_count(), rss, sessions))
        if killed < kills and ((by_time and time.time() >= deadline) or (not by_time and line_count() >= target)):
            child.send_signal(signal.SIGKILL)
            child.wait()
            killed += 1
            break
        time.sleep(0.05)
    code = child.wait()
    stats = sim_stats()
    sim.send_signal(signal.SIGTERM); sim.wait()
    requests_total += sum(r["requests"] for k, r in stats["routes"].items() if "/sim/" not in k and "oauth" not in k)
    assert stats.get("requests_not_logged", 0) == 0, "a session outgrew the simulator's request log"
    logged += len(stats.get("requests", []))
    for r in stats.get("requests", []):
        prompt = r["prompt"]
        if not prompt.startswith("P"):
            continue
        key = (model_of.get(r["model"], r["model"]), "it-" + prompt[1:6])
        if key in before:
            reasked += 1
    if code != -signal.SIGKILL:
        print(f"soak: session {sessions} ended with exit code {code}")
        if code != 0:
            sys.exit(open("stderr.log").read()[-3000:])
        break

resp = records("out/responses.jsonl")
scores = records("out/scores.jsonl")
keys = [(r["model"], r["item_id"], r["sample"]) for r in resp]
score_keys = [(r["model"], r["item_id"], r["sample"]) for r in scores]
want = {(m, f"it-{i:05}", 0) for m in ("a", "b") for i in range(items)}
lost = len(want - set(keys))
dup = len(keys) - len(set(keys)) + len(score_keys) - len(set(score_keys))
lost += len(want - set(score_keys))
errors = sum(1 for r in resp if r.get("error") is not None)
q = units // 4
first = max((rss for n, rss, _ in samples if n < q), default=0)
last = max((rss for n, rss, _ in samples if units - q <= n < units), default=0)
# Once every unit is recorded the summary and reports are derived from all records: a phase of its
# own, whose memory follows the run's size (latency samples for the percentiles), shown apart.
derive = max((rss for n, rss, _ in samples if n >= units), default=0)
for b in range(10):
    sel = [r for n, r, _ in samples if b * units // 10 <= n < (b + 1) * units // 10]
    print(f"soak: units {b * 10}-{b * 10 + 10} %: peak RSS {max(sel, default=0) / 1024:.1f} MiB")
for s in range(1, sessions + 1):
    mine = [(n, rss) for n, rss, k in samples if k == s]
    if mine:
        print(f"soak: session {s}: units {mine[0][0]}..{mine[-1][0]}, peak RSS {max(r for _, r in mine) / 1024:.1f} MiB")
ratio = last / first if first else float("nan")
print(f"soak: seed {seed}; {units} units, {sessions} sessions, {killed} SIGKILLs, {requests_total} requests "
      f"sent in {time.time() - started:.0f} s")
if logged < requests_total:
    print(f"soak: only {logged} of {requests_total} requests were in the simulator's log")
    ok_log = False
else:
    ok_log = True
print(f"soak: lost {lost}, duplicated {dup}, re-asked after recorded {reasked}, error records left {errors}")
print(f"soak: peak RSS first quarter {first / 1024:.1f} MiB, last quarter {last / 1024:.1f} MiB "
      f"(ratio {ratio:.2f}; {len(samples)} samples); deriving the reports at the end {derive / 1024:.1f} MiB")
ok = ok_log and lost == 0 and dup == 0 and reasked == 0 and first and ratio <= 1.2
print("soak: PASS" if ok else "soak: FAIL")
sys.exit(0 if ok else 1)
EOF
