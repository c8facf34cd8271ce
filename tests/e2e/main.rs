//! The end-to-end tests: the real `evalrun` binary against the built-in simulator, one module per
//! feature. They are one test binary (not one per file) so that a clean build links the test code once:
//! every binary links the whole dependency tree, and two dozen of them filled a CI machine's disk.
//! `cargo test --test e2e MODULE::` runs one module, e.g. `cargo test --test e2e history_e2e::`.
//! The clock-sensitive rate and TTFT tests (`limits_rate`, `qianfan_ttft`) and the fuzzer
//! (`fuzz_parsers`, run long by `scripts/fuzz.sh`) stay binaries of their own.

#[path = "../common/mod.rs"]
mod common;

mod assistant_first_e2e;
mod cache_e2e;
mod demo_calibration;
mod diff_e2e;
mod evalsets_e2e;
mod gate_ci_outputs;
mod gate_e2e;
mod hardening_e2e;
mod history_e2e;
mod html_browser;
mod interrupt_judge_e2e;
mod judge_check_e2e;
mod judge_e2e;
mod judge_panel_e2e;
mod limits_cost;
mod merge_e2e;
mod plan_e2e;
mod provider_hardening;
mod qianfan_run;
mod resume_e2e;
mod review_e2e;
mod run_e2e;
mod shipped_evalsets;
mod sim_protocol;
mod verdict_e2e;
