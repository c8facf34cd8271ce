//! `evalrun gate` end to end (SPEC §7, STATS.md §7): the real binary, runs recorded against
//! `evalrun sim` (the shipped line-up's fine-tune, the simulator's judge, 40 shipped items).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::sim_proc::SimProcess;
use serde_json::Value;

const MODEL: &str = "sft-full-e3-lr3e-5";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_evalrun"));
    c.env_clear();
    c
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The folder shared by this file's tests, with its runs (recorded once).
struct Runs {
    dir: tempfile::TempDir,
}

impl Runs {
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
}

/// Record run `out` of MODEL over the first 40 shipped items against a fresh simulator.
fn record(dir: &Path, out: &str, seed: u64, faults: Option<&str>) {
    let sim = SimProcess::start(seed, faults);
    let config = std::fs::read_to_string(repo("evalrun.toml"))
        .unwrap()
        .replace("127.0.0.1:8765", &format!("127.0.0.1:{}", sim.port));
    std::fs::write(dir.join(format!("{out}.toml")), config).unwrap();
    let o = bin()
        .current_dir(dir)
        .env("EVALRUN_SIM_AK", "sim-ak")
        .env("EVALRUN_SIM_SK", "sim-sk")
        .args([
            "run",
            "--models",
            MODEL,
            "--baseline",
            MODEL,
            "--judge",
            "judge",
        ])
        .args([
            "--evalset",
            "items.jsonl",
            "--quiet",
            "--no-cache",
            "--out",
            out,
        ])
        .arg("--config")
        .arg(format!("{out}.toml"))
        .arg("--rubric")
        .arg(repo("rubrics/oral_english.toml"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn runs() -> &'static Runs {
    static RUNS: OnceLock<Runs> = OnceLock::new();
    RUNS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<&str> = include_str!("../../evalsets/oral_english.jsonl")
            .lines()
            .take(40)
            .collect();
        std::fs::write(dir.path().join("items.jsonl"), items.join("\n") + "\n").unwrap();
        record(dir.path(), "base", 1, None);
        record(dir.path(), "again", 2, None);
        let worse = format!("{MODEL}:degrade=reply:1");
        record(dir.path(), "worse", 1, Some(&worse));
        Runs { dir }
    })
}

/// `evalrun gate --baseline base --candidate CAND …` in the runs' folder: (exit code, stdout, stderr).
fn gate(cand: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let o = bin()
        .current_dir(runs().dir.path())
        .args(["gate", "--baseline", "base", "--candidate", cand])
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn row<'a>(out: &'a str, check: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with('|') && l.contains(check))
        .unwrap_or_else(|| panic!("no row {check}:\n{out}"))
}

/// A copy of run `base` as `name`, with `edit` applied to each `responses.jsonl` record (by index).
fn copy_with(name: &str, edit: impl Fn(usize, &mut Value)) -> String {
    let r = runs();
    let (from, to) = (r.path("base"), r.path(name));
    std::fs::create_dir_all(&to).unwrap();
    for f in ["manifest.json", "scores.jsonl", "items.jsonl"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    let text = std::fs::read_to_string(from.join("responses.jsonl")).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let mut v: Value = serde_json::from_str(line).unwrap();
        edit(i, &mut v);
        out.push_str(&v.to_string());
        out.push('\n');
    }
    std::fs::write(to.join("responses.jsonl"), out).unwrap();
    name.to_string()
}

#[test]
fn a_degraded_candidate_fails_on_the_degraded_dimension() {
    let (code, out, err) = gate("worse", &["--primary", "reply"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.starts_with("## evalrun gate: FAIL"), "{out}");
    let reply = row(&out, "dimension `reply` mean (primary)");
    assert!(reply.contains("| **FAIL** |"), "{reply}");
    assert!(reply.contains("≥ tolerance 0.050, significant"), "{reply}");
    // The fault touches Reply only: the other dimensions did not move, and they only warn anyway.
    assert!(
        row(&out, "dimension `suggestion` mean").contains("| PASS |"),
        "{out}"
    );
    // Failures come first in the table.
    let first = out.lines().find(|l| l.starts_with("| sft")).unwrap();
    assert!(first.contains("FAIL"), "{first}");
}

#[test]
fn an_a_a_comparison_passes_and_every_pass_row_states_its_mde() {
    let (code, out, err) = gate("again", &["--primary", "reply"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.starts_with("## evalrun gate: PASS"), "{out}");
    let pass_rows: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with('|') && l.contains("| PASS |"))
        .collect();
    assert!(pass_rows.len() > 10, "{out}");
    for l in &pass_rows {
        let states = l.contains("MDE")
            || l.contains("nothing varied")
            || l.contains("no cached answer")
            || l.contains("unchanged");
        assert!(states, "a PASS row without its MDE: {l}");
    }
    assert!(
        row(&out, "dimension `reply` mean").contains("MDE 0."),
        "{out}"
    );
    assert!(
        row(&out, "p90 total latency").contains("MDE ratio"),
        "{out}"
    );
}

#[test]
fn json_carries_the_names_of_stats_section_7() {
    let json = runs().path("gate.json");
    let (code, out, _) = gate("worse", &["--primary", "reply", "--json", "gate.json"]);
    assert_eq!(code, Some(1), "{out}");
    let g: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(g["schema"], "evalrun-gate/2");
    assert_eq!(g["verdict"], "FAIL");
    assert!(g["n_fail"].as_u64().unwrap() >= 1);
    assert!(g["n_warn"].is_u64());
    assert_eq!(g["params"]["alpha"], 0.05);
    let m = &g["models"][MODEL];
    let has = |v: &Value, keys: &[&str]| {
        for k in keys {
            assert!(v.get(*k).is_some(), "missing `{k}` in {v}");
        }
    };
    has(
        &m["coverage"],
        &["n_shared_units", "n_baseline_units", "n_candidate_units"],
    );
    let reply = &m["dimensions"]["reply"];
    has(
        reply,
        &[
            "n_pairs",
            "n_clusters",
            "df",
            "mean_baseline",
            "mean_candidate",
            "mean_diff",
            "se_diff",
            "t",
            "p",
            "p_holm",
            "m_family",
            "tolerance",
            "primary",
            "mde80",
            "status",
        ],
    );
    assert_eq!(reply["status"], "FAIL");
    assert_eq!(reply["primary"], true);
    assert_eq!(reply["m_family"], 1);
    assert!((reply["tolerance"].as_f64().unwrap() - 0.05).abs() < 1e-12);
    let rule = m["rules"]["json_strict"].clone();
    has(
        &rule,
        &[
            "test",
            "n_units",
            "n_items",
            "pass_rate_baseline",
            "pass_rate_candidate",
            "se_diff",
            "lost",
            "gained",
            "p",
            "p_holm",
            "m_family",
            "mde80",
            "status",
        ],
    );
    assert_eq!(rule["test"], "mcnemar");
    has(
        &m["latency"],
        &[
            "n_items",
            "n_units",
            "p90_baseline",
            "p90_candidate",
            "ratio",
            "ci95_low",
            "ci95_high",
            "sd_log_ratio",
            "threshold",
            "mde80_ratio",
        ],
    );
    has(
        &m["errors"],
        &[
            "n_units",
            "error_rate_baseline",
            "error_rate_candidate",
            "max_error_rate",
            "new_errors",
            "fixed_errors",
            "p",
            "mde80",
        ],
    );
    has(
        &m["cached"],
        &["n_cached_baseline", "n_cached_candidate", "allowed"],
    );
}

#[test]
fn cached_answers_are_refused_unless_allowed() {
    let cand = copy_with("cached", |i, v| {
        if i < 3 {
            v["cached"] = Value::Bool(true);
        }
    });
    let (code, out, err) = gate(&cand, &[]);
    assert_eq!(code, Some(1), "{out}{err}");
    let cached = row(&out, "cached answers");
    assert!(
        cached.contains("**FAIL**") && cached.contains("3 of the candidate's answers"),
        "{cached}"
    );
    let (code, out, err) = gate(&cand, &["--allow-cached"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        row(&out, "cached answers").contains("allowed by --allow-cached"),
        "{out}"
    );
}

#[test]
fn the_error_budget_fails_a_candidate_with_too_many_failed_requests() {
    let cand = copy_with("errors", |i, v| {
        if i % 10 == 0 {
            v["error"] = serde_json::json!({"kind": "server", "message": "HTTP 500", "status": 500, "code": null});
            v["output"] = Value::Null;
        }
    });
    let (code, out, err) = gate(&cand, &[]);
    assert_eq!(code, Some(1), "{out}{err}");
    let errors = row(&out, "failed requests");
    assert!(
        errors.contains("**FAIL**") && errors.contains("10.0 %"),
        "{errors}"
    );
    // Under a 20 % budget it passes: 4 new errors of 40 units and none fixed is not significant
    // (one-sided McNemar p = 1/16 = 0.0625 ≥ 0.05).
    let (code, out, _) = gate(&cand, &["--max-error-rate", "0.2"]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn deprecated_max_drop_still_works_and_unknown_models_are_usage_errors() {
    let (code, out, err) = gate("again", &["--max-drop", "0.1"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(err.contains("--max-drop is deprecated"), "{err}");
    assert!(
        row(&out, "dimension `reply` mean").contains("| PASS |"),
        "{out}"
    );
    let (code, _, err) = gate("again", &["--models", "nope"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--models: `nope` is not in both runs"),
        "{err}"
    );
    let (code, _, err) = gate("again", &["--primary", "nope"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("dimension `nope` is not in the runs' rubric"),
        "{err}"
    );
}
