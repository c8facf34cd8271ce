#!/usr/bin/env bash
# Fuzz every parser of outside input (issue 14): property tests with arbitrary bytes and
# structure-aware mutations, PROPTEST_CASES cases per parser (default 10000), release build.
# Parsers: SSE decoder, OpenAI (chat, legacy) and Qianfan v1 chunk/whole-answer/error parsers
# (src/provider/fuzz.rs); JSONL record readers, eval-set loader, rubric loader, judge-reply
# parsers (tests/fuzz_parsers.rs). A panic fails the run and proptest prints the minimal input.
set -euo pipefail
cd "$(dirname "$0")/.."
export PROPTEST_CASES="${PROPTEST_CASES:-10000}"
echo "fuzz: ${PROPTEST_CASES} cases per parser"
start=$(date +%s)
cargo test --release --lib provider::fuzz -- --test-threads 2
cargo test --release --test fuzz_parsers -- --test-threads 2
echo "fuzz: done in $(( $(date +%s) - start )) s, no panic"
