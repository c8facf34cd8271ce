//! Power planning end to end (STATS §8): `evalrun plan --from RUN` and `run --dry-run --from RUN`
//! over a real demo run, their figures recomputed here from that run's `summary.json`.

use crate::common;

use common::TestDir;
use serde_json::Value;
use statrs::distribution::{ContinuousCDF, Normal};

/// One demo run, shared by the tests of this file.
fn demo() -> &'static (TestDir, Value) {
    static RUN: std::sync::OnceLock<(TestDir, Value)> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let dir = TestDir::new();
        let out = dir
            .evalrun()
            .args(["demo", "--out", "run", "--quiet", "--time-scale", "0"])
            .output()
            .expect("evalrun runs");
        assert_eq!(out.status.code(), Some(0), "demo failed: {out:?}");
        let text = std::fs::read_to_string(dir.path().join("run/summary.json")).unwrap();
        let summary = serde_json::from_str(&text).unwrap();
        (dir, summary)
    })
}

/// (z_{1−α/(2m)} + z₀.₈) for a two-sided test in a Holm family of m.
fn multiplier(alpha: f64, m: f64) -> f64 {
    let z = Normal::new(0.0, 1.0).unwrap();
    z.inverse_cdf(1.0 - alpha / (2.0 * m)) + z.inverse_cdf(0.8)
}

/// Per dimension, the largest value of `f(sd_diff, m_family)` over the candidates against the baseline.
fn worst_per_dimension(summary: &Value, f: impl Fn(f64, f64) -> f64) -> Vec<(String, f64)> {
    let baseline = summary["params"]["references"]["baseline"]
        .as_str()
        .unwrap();
    let mut worst: std::collections::BTreeMap<String, f64> = Default::default();
    for dims in summary["paired"][baseline].as_object().unwrap().values() {
        for (dim, row) in dims.as_object().unwrap() {
            let (Some(sd), Some(m)) = (row["sd_diff"].as_f64(), row["m_family"].as_f64()) else {
                continue;
            };
            let v = f(sd, m);
            let e = worst.entry(dim.clone()).or_insert(v);
            *e = e.max(v);
        }
    }
    worst.into_iter().collect()
}

fn stdout(out: &std::process::Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn plan_prints_the_items_each_dimension_needs() {
    let (dir, summary) = demo();
    let alpha = summary["params"]["alpha"].as_f64().unwrap();
    let text = stdout(
        &dir.evalrun()
            .args(["plan", "--from", "run", "--effect", "0.2"])
            .output()
            .unwrap(),
    );
    let expected = worst_per_dimension(summary, |sd, m| {
        let x = multiplier(alpha, m) * sd / 0.2;
        (x * x - 1e-9).ceil()
    });
    assert_eq!(
        expected.len(),
        4,
        "four dimensions with a spread: {expected:?}"
    );
    for (dim, n) in expected {
        let line = format!("- {dim}: {n} items × 1 sample(s)");
        assert!(text.contains(&line), "expected `{line}` in:\n{text}");
    }
}

#[test]
fn dry_run_from_a_run_states_the_planned_mde() {
    let (dir, summary) = demo();
    let alpha = summary["params"]["alpha"].as_f64().unwrap();
    let models: Vec<&str> = summary["models"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let text = stdout(
        &dir.evalrun()
            .args([
                "run",
                "--config",
                "run/inputs/evalrun.toml",
                "--evalset",
                "run/inputs/oral_english.jsonl",
                "--rubric",
                "run/inputs/oral_english.toml",
                "--models",
                &models.join(","),
                "--baseline",
                "ernie-speed",
                "--judge",
                "judge",
                "--limit",
                "20",
                "--out",
                "planned",
                "--dry-run",
                "--from",
                "run",
            ])
            .env("EVALRUN_SIM_AK", "ak")
            .env("EVALRUN_SIM_SK", "sk")
            .output()
            .unwrap(),
    );
    assert!(text.contains("dry run: nothing was sent"), "{text}");
    assert!(
        text.contains("Smallest detectable difference of this run (20 items"),
        "{text}"
    );
    for (dim, mde) in worst_per_dimension(summary, |sd, m| multiplier(alpha, m) * sd / 20f64.sqrt())
    {
        let line = format!("  {dim}: {mde:.3} (largest over the candidates: ");
        assert!(text.contains(&line), "expected `{line}` in:\n{text}");
    }
    assert!(
        !dir.path().join("planned").exists(),
        "a dry run writes nothing"
    );
}
