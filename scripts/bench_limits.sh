#!/usr/bin/env bash
# The timing measurements of issue #4, on a release build, one at a time:
#   - rps 20 against a simulator enforcing 20 requests/s, for BENCH_SECS (default 20) seconds;
#   - tpm 60000 against a simulator enforcing 60000 tokens/min, same length (set BENCH_SECS=75 to
#     cover the simulator's whole rolling minute);
#   - ttft_ms against a scripted Qianfan v1 server's own clock, 640 answers, 32 streams in flight.
# Each prints one line of numbers. Usage: scripts/bench_limits.sh [extra cargo test filter]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --test limits_rate --test qianfan_ttft -- \
    --ignored --nocapture --test-threads=1 "${1:-bench_}" 2>&1 |
    grep -E 'achieved|ttft_ms vs|test result|panicked|FAILED'
