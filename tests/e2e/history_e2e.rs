//! `evalrun history` end to end: fifteen simulated nightly runs of one model, each against a fresh
//! `evalrun sim` process with its own seed (the nights differ as real nights do), added to a history
//! file with `history add`. In the drifting series the judge scores the model's Reply lower by
//! 0.04 × (night − 1) levels (`degrade=reply:AMOUNT`): no single night falls far, but the last five
//! sit clearly below the release baseline (night 1), and `history show` flags it. The steady series
//! is not flagged. Bad history lines are named by file and line.

use crate::common;

use std::path::Path;

use common::sim_proc::SimProcess;
use common::{openai_config, repo_file, shipped_items, TestDir};
use serde_json::Value;

const MODEL: &str = "sft-full-e6-lr3e-5";
const ITEMS: usize = 40;
const NIGHTS: usize = 15;

fn evalset(dir: &TestDir) {
    dir.write("set.jsonl", &shipped_items(ITEMS));
}

/// Night `i` (1-based) of `series`, added to `series.jsonl`.
fn night(dir: &TestDir, series: &str, i: usize, drift_per_night: f64) {
    let amount = drift_per_night * (i - 1) as f64;
    let faults = (amount > 0.0).then(|| format!("{MODEL}:degrade=reply:{amount:.2}"));
    let sim = SimProcess::start(1000 + i as u64, faults.as_deref());
    let config = format!("{series}-{i}.toml");
    dir.write(
        &config,
        &openai_config(&sim.openai_base_url(), &[MODEL, "judge"], "concurrency = 8"),
    );
    let out = format!("{series}/night-{i:02}");
    let o = dir
        .evalrun()
        .args([
            "run",
            "--models",
            MODEL,
            "--judge",
            "judge",
            "--evalset",
            "set.jsonl",
        ])
        .args(["--quiet", "--out", &out, "--config", &config])
        .arg("--rubric")
        .arg(repo_file("rubrics/oral_english.toml"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let o = dir
        .evalrun()
        .args(["history", "add", &out, "--db", &format!("{series}.jsonl")])
        .args(["--commit", &format!("c{i:02}")])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
}

fn show(dir: &Path, db: &str, extra: &[&str]) -> std::process::Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_evalrun"));
    c.env_clear()
        .current_dir(dir)
        .args(["history", "show", "--db", db])
        .args(extra);
    c.output().unwrap()
}

/// The drift row of (MODEL, reply) from `history show --format json`.
fn reply_row(dir: &Path, db: &str) -> Value {
    let o = show(dir, db, &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["runs"].as_array().unwrap().len(), NIGHTS);
    j["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == MODEL && r["dimension"] == "reply")
        .cloned()
        .expect("a reply row")
}

#[test]
fn a_slow_drift_over_fifteen_nights_is_flagged() {
    let dir = TestDir::new();
    evalset(&dir);
    for i in 1..=NIGHTS {
        night(&dir, "drift", i, 0.04);
    }
    let row = reply_row(dir.path(), "drift.jsonl");
    println!("drifting series, Reply: {row}");
    assert_eq!(row["status"], "drift", "{row:#}");
    assert!(row["change"].as_f64().unwrap() <= -0.05, "{row:#}");

    let o = show(
        dir.path(),
        "drift.jsonl",
        &["--svg", "trend.svg", "--fail-on-drift"],
    );
    assert_eq!(o.status.code(), Some(1), "--fail-on-drift exits 1: {o:?}");
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(
        md.starts_with("## evalrun history: DRIFT — 1 (model, dimension)"),
        "{md}"
    );
    let line = md
        .lines()
        .find(|l| l.contains("| reply ") && l.contains("**DRIFT**"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(line.contains(MODEL), "{line}");
    assert!(md.contains("night-01 (baseline)"), "{md}");
    let svg = std::fs::read_to_string(dir.path().join("trend.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(
        svg.contains("\nrelease baseline\n") && svg.contains("\ndrift\n"),
        "{svg}"
    );

    // Bad lines are named by file and line.
    let db = dir.path().join("drift.jsonl");
    let text = std::fs::read_to_string(&db).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[3] = lines[3].replacen("\"run_id\":", "\"run_id\":0,\"x\":", 1);
    std::fs::write(&db, lines.join("\n") + "\n").unwrap();
    let o = show(dir.path(), "drift.jsonl", &[]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("drift.jsonl:4: not a history line: "), "{err}");
}

#[test]
fn fifteen_steady_nights_are_not_flagged() {
    let dir = TestDir::new();
    evalset(&dir);
    for i in 1..=NIGHTS {
        night(&dir, "steady", i, 0.0);
    }
    let row = reply_row(dir.path(), "steady.jsonl");
    println!("steady series, Reply: {row}");
    assert_eq!(row["status"], "stable", "{row:#}");
    let o = show(
        dir.path(),
        "steady.jsonl",
        &["--fail-on-drift", "--svg", "trend.svg"],
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(
        md.starts_with("## evalrun history: no sustained drift"),
        "{md}"
    );
    assert!(!md.contains("**DRIFT**"), "{md}");
    let svg = std::fs::read_to_string(dir.path().join("trend.svg")).unwrap();
    assert!(svg.contains("\nrelease baseline\n") && !svg.contains("\ndrift\n"));
}
