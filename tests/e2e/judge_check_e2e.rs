//! `evalrun judge-check` end to end (the drift canary, issue 16): a run recorded against the
//! simulator is frozen; its answers are re-graded by the simulator's judge, unchanged or under the
//! `judge:drift` fault, and `gate --judge-check` words the result apart from a regression.

use crate::common;

use std::path::Path;

use common::{openai_config, repo_file, Sim, TestDir};
use serde_json::Value;

const BASE: &str = "ernie-speed";
const CAND: &str = "sft-full-e6-lr3e-5";
const ITEMS: usize = 40;

/// The frozen run `frozen` (two models, 40 shipped items, graded by the simulator's judge), recorded
/// against `sim`.
fn frozen(sim: &Sim) -> TestDir {
    let dir = TestDir::new();
    let items: Vec<&str> = include_str!("../../evalsets/oral_english.jsonl")
        .lines()
        .take(ITEMS)
        .collect();
    dir.write("set.jsonl", &(items.join("\n") + "\n"));
    write_config(&dir, "evalrun.toml", sim);
    dir.cmd(&[
        "run",
        "--models",
        &format!("{BASE},{CAND}"),
        "--judge",
        "judge",
    ])
    .args(["--evalset", "set.jsonl", "--out", "frozen", "--quiet"])
    .arg("--rubric")
    .arg(repo_file("rubrics/oral_english.toml"))
    .code(0);
    dir
}

fn write_config(dir: &TestDir, name: &str, sim: &Sim) {
    let base_url = sim.openai_base_url();
    dir.write(
        name,
        &openai_config(&base_url, &[BASE, CAND, "judge"], "concurrency = 8"),
    );
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn drifted(v: &Value) -> Vec<&str> {
    v["drifted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect()
}

#[test]
fn an_unchanged_judge_shows_no_drift_and_asks_no_model() {
    let sim = Sim::start("");
    let dir = frozen(&sim);
    let scores_before = std::fs::read(dir.path().join("frozen/scores.jsonl")).unwrap();
    let before = sim.requests_per_model();
    let out = dir
        .cmd(&[
            "judge-check",
            "--frozen",
            "frozen",
            "--json",
            "jc.json",
            "--quiet",
        ])
        .code(0);
    let md = out.stdout();
    assert!(md.starts_with("## evalrun judge-check: NO DRIFT"), "{md}");
    let after = sim.requests_per_model();
    for m in [BASE, CAND] {
        assert_eq!(before.get(m), after.get(m), "{m} was asked: {after:?}");
    }
    assert!(after["judge"] > before["judge"], "the judge was not asked");
    // The frozen run is left as it was.
    assert_eq!(
        std::fs::read(dir.path().join("frozen/scores.jsonl")).unwrap(),
        scores_before
    );
    let v = json(&dir.path().join("jc.json"));
    assert_eq!(v["schema"], "evalrun-judge-check/1");
    assert_eq!(v["verdict"], "NO DRIFT");
    assert!(drifted(&v).is_empty());
    let reply = &v["dimensions"]["reply"];
    assert_eq!(reply["n_pairs"], 2 * ITEMS as u64, "{reply}");
    assert_eq!(reply["status"], "OK", "{reply}");
    assert!(md.contains("| reply |"), "{md}");

    // The gate says the judge did not change.
    let gate = dir
        .cmd(&["gate", "--baseline", "frozen", "--candidate", "frozen"])
        .args(["--judge-check", "jc.json"])
        .code(0);
    assert!(
        gate.stdout().contains("### The judge did not change"),
        "{}",
        gate.stdout()
    );
}

#[test]
fn a_drifted_judge_is_detected_and_the_gate_says_the_judge_changed() {
    let sim = Sim::start("");
    let dir = frozen(&sim);
    let drifting = Sim::start("judge:drift=0.3");
    write_config(&dir, "drift.toml", &drifting);
    let out = dir
        .cmd(&[
            "judge-check",
            "--frozen",
            "frozen",
            "--config",
            "drift.toml",
        ])
        .args(["--json", "jc.json", "--out", "rejudged", "--quiet"])
        .code(1);
    let md = out.stdout();
    assert!(md.starts_with("## evalrun judge-check: DRIFT"), "{md}");
    let v = json(&dir.path().join("jc.json"));
    assert_eq!(v["verdict"], "DRIFT");
    let names = drifted(&v);
    for d in ["reply", "suggestion"] {
        assert!(names.contains(&d), "{d} not among {names:?}");
        assert!(md.contains(&format!("`{d}` (−0.")), "{md}");
        let diff = v["dimensions"][d]["mean_diff"].as_f64().unwrap();
        assert!((-0.45..-0.1).contains(&diff), "{d}: {diff}");
    }
    // The kept copy is a whole run, graded by today's judge: the gate, told of the drift, fails on
    // the same answers and says the judge changed, apart from any regression of the models.
    let gate = dir
        .cmd(&["gate", "--baseline", "frozen", "--candidate", "rejudged"])
        .args(["--primary", "reply", "--judge-check", "jc.json"])
        .output();
    let text = gate.stdout();
    assert_eq!(gate.code(), Some(1), "{text}{}", gate.stderr());
    assert!(text.contains("### The judge changed"), "{text}");
    assert!(text.contains("`reply` (−0."), "{text}");
    assert!(text.contains(&format!("{CAND} `reply` (FAIL)")), "{text}");
    assert!(text.contains("may be the judge's doing"), "{text}");
    assert!(
        text.contains("nothing here shows that the model regressed"),
        "{text}"
    );
    // The gate's JSON is the same with or without --judge-check.
    let plain = dir
        .cmd(&["gate", "--baseline", "frozen", "--candidate", "rejudged"])
        .args(["--primary", "reply", "--json", "a.json"])
        .output();
    assert_eq!(plain.code(), Some(1));
    let with = dir
        .cmd(&["gate", "--baseline", "frozen", "--candidate", "rejudged"])
        .args([
            "--primary",
            "reply",
            "--json",
            "b.json",
            "--judge-check",
            "jc.json",
        ])
        .output();
    assert_eq!(with.code(), Some(1));
    assert_eq!(
        json(&dir.path().join("a.json")),
        json(&dir.path().join("b.json"))
    );

    // A drift of one dimension is found on that dimension alone.
    let one = Sim::start("judge:drift=reply:0.3");
    write_config(&dir, "one.toml", &one);
    dir.cmd(&["judge-check", "--frozen", "frozen", "--config", "one.toml"])
        .args(["--json", "one.json", "--quiet"])
        .code(1);
    assert_eq!(drifted(&json(&dir.path().join("one.json"))), ["reply"]);
}

#[test]
fn bad_input_exits_2_with_the_reason() {
    let dir = TestDir::new();
    let out = dir.cmd(&["judge-check", "--frozen", "nowhere"]).code(2);
    assert!(out.stderr().contains("nowhere"), "{}", out.stderr());
    let out = dir
        .cmd(&["judge-check", "--frozen", "nowhere", "--alpha", "0"])
        .code(2);
    assert!(out.stderr().contains("--alpha"), "{}", out.stderr());
    let out = dir
        .cmd(&[
            "gate",
            "--baseline",
            "a",
            "--candidate",
            "b",
            "--judge-check",
            "x.json",
        ])
        .code(2);
    assert!(out.stderr().contains("x.json"), "{}", out.stderr());
}
