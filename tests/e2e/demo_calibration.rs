//! `evalrun demo` end to end: the real binary, the built-in simulator, the shipped eval set, rubric
//! and line-up. Its quality table must reproduce seed 000 §3.3.2 (every cell within 0.06, and the
//! seed's order wherever two cells differ by 0.1 or more), and its report must show what the issue
//! promises a newcomer: a simulated run of all eight models, GSB against ERNIE-Speed, rule pass
//! rates, latency, cost, and the injected faults handled. The simulated latencies are checked against
//! seed 000 §4.3 without a clock (`sim::calibration::latency_on_the_eval_set_matches_the_seed`):
//! wall-clock ratios measured here depend on the machine's load, and speed is never asserted in a test.

use crate::common;

use common::TestDir;
use serde_json::Value;

/// Seed 000 §3.3.2: prompt adherence, Reply, Suggestion, Analysis (means over its 50 items).
const SEED_TABLE: &[(&str, [f64; 4])] = &[
    ("ernie-4.0", [2.96, 2.74, 2.58, 2.30]),
    ("ernie-speed", [2.62, 2.52, 1.92, 2.21]),
    ("sft-full-e3-lr3e-5", [3.00, 2.80, 2.86, 2.58]),
    ("sft-full-e3-lr6e-5", [3.00, 2.84, 2.88, 2.64]),
    ("sft-full-e6-lr3e-5", [3.00, 2.86, 2.84, 2.73]),
    ("sft-lora-e3-lr3e-4", [2.98, 2.82, 2.82, 2.61]),
    ("sft-lora-e3-lr6e-4", [2.96, 2.76, 2.80, 2.64]),
    ("sft-lora-e6-lr3e-4", [3.00, 2.70, 2.72, 2.70]),
];
const DIMS: [&str; 4] = ["adherence", "reply", "suggestion", "analysis"];
const TOLERANCE: f64 = 0.06;
/// Seed cells this far apart (or more) must keep their order; the epsilon absorbs 2.80 − 2.70.
const ORDERED_GAP: f64 = 0.1 - 1e-9;

/// One demo run, shared by the tests of this file (it takes a few seconds).
fn demo() -> &'static (TestDir, Value, String) {
    static RUN: std::sync::OnceLock<(TestDir, Value, String)> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let dir = TestDir::new();
        let out = dir
            .evalrun()
            .args(["demo", "--out", "run", "--quiet"])
            .output()
            .expect("evalrun runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "demo failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let run = dir.path().join("run");
        let summary: Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap())
                .unwrap();
        let report = std::fs::read_to_string(run.join("report.md")).unwrap();
        (dir, summary, report)
    })
}

fn mean(summary: &Value, model: &str, dim: &str) -> f64 {
    summary["models"][model]["dimensions"][dim]["mean"]
        .as_f64()
        .unwrap_or_else(|| panic!("{model} has no mean for {dim}"))
}

#[test]
fn quality_table_matches_seed_000() {
    let (_, summary, _) = demo();
    let mut off = Vec::new();
    for (model, seed) in SEED_TABLE {
        for (dim, want) in DIMS.iter().zip(seed) {
            let got = mean(summary, model, dim);
            if (got - want).abs() > TOLERANCE {
                off.push(format!("{model} {dim}: {got:.3}, seed {want:.2}"));
            }
        }
    }
    assert!(
        off.is_empty(),
        "cells more than {TOLERANCE} from seed 000:\n{}",
        off.join("\n")
    );
}

#[test]
fn ordering_matches_seed_000_where_the_seed_separates_models() {
    let (_, summary, _) = demo();
    let mut wrong = Vec::new();
    for (i, dim) in DIMS.iter().enumerate() {
        for (a, sa) in SEED_TABLE {
            for (b, sb) in SEED_TABLE {
                if sa[i] - sb[i] >= ORDERED_GAP {
                    let (ma, mb) = (mean(summary, a, dim), mean(summary, b, dim));
                    if ma <= mb {
                        wrong.push(format!(
                            "{dim}: seed has {a} {:.2} > {b} {:.2}, demo {ma:.3} vs {mb:.3}",
                            sa[i], sb[i]
                        ));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn report_shows_the_whole_comparison_as_simulated() {
    let (_, summary, report) = demo();
    assert!(
        report.contains("**Simulated run.**"),
        "not labelled simulated"
    );
    for (model, _) in SEED_TABLE {
        assert!(report.contains(&format!("`{model}`")), "{model} missing");
        let m = &summary["models"][model];
        // Every item answered, despite the injected faults.
        assert_eq!(m["errors"]["n_responses"], 50, "{model}");
        assert_eq!(m["errors"]["n_errors"], 0, "{model}");
        assert_eq!(m["latency"]["ttft_ms"]["n"], 50, "{model}");
        assert!(m["cost"]["total"].as_f64().unwrap() > 0.0, "{model}");
        for rule in ["json_strict", "reply_max_30_words", "suggestion_count_3"] {
            assert!(m["rules"][rule]["pass_rate"].is_number(), "{model} {rule}");
        }
        if *model != "ernie-speed" {
            assert_eq!(
                summary["gsb"]["ernie-speed"][model]["baseline"], "ernie-speed",
                "{model}"
            );
        }
    }
    for section in [
        "## Quality",
        "## Side by side (GSB) against `ernie-speed`",
        "## Judge",
        "## Rule checks",
        "## Latency",
        "## Cost",
        "## Errors",
    ] {
        assert!(report.contains(section), "{section} missing");
    }
    // The faults the demo injects show up as retried answers, and the judge's unusable replies as
    // unjudged answers.
    let retried: u64 = SEED_TABLE
        .iter()
        .map(|(m, _)| {
            summary["models"][m]["errors"]["n_retried"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert!(retried > 0, "no retried answers");
    assert!(report.contains("| retried |"), "Errors table lacks retries");
    let unjudged: u64 = SEED_TABLE
        .iter()
        .map(|(m, _)| {
            summary["models"][m]["dimensions"]["reply"]["n_null"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert!(unjudged > 0, "no unjudged answers");
}
