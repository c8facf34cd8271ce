//! End to end with the judge: the real binary against the in-process simulator, whose `judge` model
//! grades the tutor answers and compares them, and — with the `garbage` fault — cannot grade some of
//! them on any call.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{jsonl, openai_config, repo_file, Sim, TestDir};
use serde_json::Value;

const BASE: &str = "ernie-speed";
const CAND: &str = "sft-full-e6-lr3e-5";
const ITEMS: usize = 14;

/// The first items of the shipped tutor eval set; every third one gets a reference answer.
fn evalset() -> String {
    let text = std::fs::read_to_string(repo_file("evalsets/oral_english.jsonl")).unwrap();
    text.lines()
        .take(ITEMS)
        .enumerate()
        .map(|(i, l)| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            if i % 3 == 0 {
                v["reference"] = Value::String(
                    "{\"Reply\": \"That sounds great! What did you enjoy most?\", \"Suggestion\": [\"I enjoyed the game a lot.\", \"My favorite part was the end.\", \"I want to watch it again.\"]}".into(),
                );
            }
            format!("{v}\n")
        })
        .collect()
}

fn setup(sim: &Sim) -> TestDir {
    let dir = TestDir::new();
    let base_url = sim.openai_base_url();
    dir.write(
        "evalrun.toml",
        &openai_config(&base_url, &[BASE, CAND, "judge"], "concurrency = 4"),
    );
    dir.write("set.jsonl", &evalset());
    dir
}

fn run(dir: &TestDir, extra: &[&str]) -> std::process::Output {
    let mut cmd = dir.evalrun();
    cmd.args([
        "run",
        "--models",
        &format!("{BASE},{CAND}"),
        "--baseline",
        BASE,
        "--evalset",
        "set.jsonl",
        "--out",
        "out",
        "--quiet",
    ])
    .arg("--rubric")
    .arg(repo_file("rubrics/oral_english.toml"))
    .args(extra);
    cmd.output().unwrap()
}

fn text(o: &std::process::Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn records(dir: &Path, file: &str) -> Vec<Value> {
    jsonl(&dir.join(file))
}

fn verdict_rule(a: &str, b: &str) -> &'static str {
    match (a, b) {
        ("G", "G") => "G",
        ("B", "B") => "B",
        _ => "S",
    }
}

#[test]
fn judged_run_has_right_sources_both_orders_and_honest_judge_errors() {
    let sim = Sim::start("judge:garbage=0.25");
    let dir = setup(&sim);
    let out = run(&dir, &["--judge", "judge"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run_dir = dir.path().join("out");
    let scores = records(&run_dir, "scores.jsonl");
    let judgements = records(&run_dir, "judgements.jsonl");
    let pairs = records(&run_dir, "pairwise.jsonl");
    assert_eq!(scores.len(), 2 * ITEMS, "one final score line per answer");

    // Every judged dimension: the right source; scores only where the judge (bounded by the rules)
    // or the rules alone decided them.
    let mut unjudged = BTreeMap::<String, usize>::new();
    for s in &scores {
        let judged = s["judge_samples"]
            .as_object()
            .expect("judge_samples recorded");
        let error = s["judge_error"].as_str();
        if error.is_some() {
            *unjudged
                .entry(s["model"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        for (id, d) in s["dimensions"].as_object().unwrap() {
            let (score, source, cap) = (&d["score"], d["source"].as_str().unwrap(), &d["rule_cap"]);
            match (judged.get(id), cap.as_f64()) {
                (Some(samples), Some(c)) => {
                    assert_eq!(source, "rules+judge", "{id}: {s}");
                    assert_eq!(
                        score.as_f64(),
                        Some(samples[0].as_f64().unwrap().min(c)),
                        "{s}"
                    );
                }
                (Some(samples), None) => {
                    assert_eq!(source, "judge", "{id}: {s}");
                    assert_eq!(score, &samples[0], "{s}");
                }
                // No judge score: null, unless the rules pin the dimension to the scale's minimum.
                (None, Some(c)) if c <= 1.0 => {
                    assert_eq!((source, score.as_f64()), ("rules", Some(1.0)), "{s}")
                }
                (None, _) => {
                    assert!(score.is_null(), "{id} scored without the judge: {s}");
                    let na = d["justification"]
                        .as_str()
                        .is_some_and(|j| j.contains("does not apply"));
                    assert!(
                        na || error.is_some_and(|e| e.contains(id.as_str())),
                        "{id}: {s}"
                    );
                }
            }
        }
    }

    // The garbage fault spoils some answers on every call: after at most three attempts they carry a
    // judge_error, and every failed reply is kept raw in judgements.jsonl.
    let n_unjudged: usize = unjudged.values().sum();
    assert!((1..2 * ITEMS).contains(&n_unjudged), "{unjudged:?}");
    assert!(judgements
        .iter()
        .all(|j| j["attempt"].as_u64().unwrap() <= 3));
    for s in scores.iter().filter(|s| s["judge_error"].is_string()) {
        let calls: Vec<&Value> = judgements
            .iter()
            .filter(|j| {
                j["task"] == "grade" && j["model"] == s["model"] && j["item_id"] == s["item_id"]
            })
            .collect();
        assert_eq!(calls.len(), 3, "three attempts, then give up: {s}");
        for c in calls {
            assert!(c["parse_error"].is_string() && c["raw"].is_string(), "{c}");
        }
    }

    // GSB: every line carries both raw verdicts, the verdict follows the both-orders rule, and both
    // orders' calls are in judgements.jsonl with blind labels (order 1 = candidate shown first).
    assert!(!pairs.is_empty());
    for p in &pairs {
        let (a, b) = (
            p["first_order"].as_str().unwrap(),
            p["second_order"].as_str().unwrap(),
        );
        assert_eq!(p["verdict"], verdict_rule(a, b), "{p}");
        assert_eq!(
            (p["candidate"].as_str(), p["baseline"].as_str()),
            (Some(CAND), Some(BASE))
        );
        for order in [1, 2] {
            assert!(
                judgements.iter().any(|j| j["task"] == "pair"
                    && j["item_id"] == p["item_id"]
                    && j["order"] == order
                    && j["parse_error"].is_null()
                    && j["parsed"]["winner"].is_string()),
                "order {order} of {p}"
            );
        }
    }

    // The summary's means are over the judged answers; the unjudged count is shown.
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap())
            .unwrap();
    for (model, n) in &unjudged {
        assert_eq!(
            summary["judge"]["per_model"][model]["n_unjudged_answers"],
            *n as u64
        );
    }
    for model in [BASE, CAND] {
        let vals: Vec<f64> = scores
            .iter()
            .filter(|s| s["model"] == model)
            .filter_map(|s| s["dimensions"]["reply"]["score"].as_f64())
            .collect();
        let mean = vals.iter().sum::<f64>() / vals.len() as f64;
        let got = summary["models"][model]["dimensions"]["reply"]["mean"]
            .as_f64()
            .unwrap();
        assert!((got - mean).abs() < 1e-12, "{model}: {got} vs {mean}");
    }
    assert!(summary["judge"]["cost"]["total"].as_f64().unwrap() > 0.0);
    assert!(
        summary["judge"]["position"]["n_both_orders"]
            .as_u64()
            .unwrap()
            > 0
    );
    // Reference metrics for the items that have a reference.
    let with_ref = scores
        .iter()
        .filter(|s| s["reference_metrics"].is_object())
        .count();
    assert_eq!(
        with_ref,
        2 * ITEMS.div_ceil(3),
        "every answered item with a reference"
    );
    for s in scores.iter().filter(|s| s["reference_metrics"].is_object()) {
        for k in ["bleu-4", "rouge-1", "rouge-2", "rouge-l", "edit-distance"] {
            let v = s["reference_metrics"][k].as_f64().unwrap();
            assert!((0.0..=100.0).contains(&v), "{k} = {v}");
        }
    }
    assert_eq!(
        summary["reference_metrics"][CAND]["bleu-4"]["n_items"],
        ITEMS.div_ceil(3) as u64
    );

    let md = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(md.contains("## Judge"), "{md}");
    assert!(md.contains("## Reference metrics"), "{md}");
    assert!(
        md.contains(&format!(
            "**{n_unjudged} of {} answers went unjudged**",
            2 * ITEMS
        )),
        "{md}"
    );
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["judge"], "judge");
    assert_eq!(manifest["judge_model"]["price_input_per_1k"], 0.01);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("without a usable verdict"), "{stderr}");
}

#[test]
fn rescore_asks_no_model_for_an_answer_and_rewrites_scores_pairs_and_summary() {
    let sim = Sim::start("");
    let dir = setup(&sim);
    let out = run(&dir, &["--judge", "judge"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run_dir = dir.path().join("out");
    let before = sim.requests_per_model();
    let scores_before = std::fs::read_to_string(run_dir.join("scores.jsonl")).unwrap();
    let pairs_before = records(&run_dir, "pairwise.jsonl").len();
    assert!(pairs_before > 0);

    let out = dir
        .evalrun()
        .args([
            "rescore",
            "out",
            "--judge",
            "judge",
            "--judge-samples",
            "3",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let after = sim.requests_per_model();
    for m in [BASE, CAND] {
        assert_eq!(
            before.get(m),
            after.get(m),
            "{m} was asked again: {after:?}"
        );
    }
    assert!(after["judge"] > before["judge"], "{after:?}");

    // Scores rewritten with three judge samples per dimension, one line per answer.
    let scores = records(&run_dir, "scores.jsonl");
    assert_eq!(scores.len(), 2 * ITEMS);
    assert_ne!(
        std::fs::read_to_string(run_dir.join("scores.jsonl")).unwrap(),
        scores_before
    );
    let most: usize = scores
        .iter()
        .flat_map(|s| s["judge_samples"].as_object().unwrap().values())
        .map(|v| v.as_array().unwrap().len())
        .max()
        .unwrap();
    assert_eq!(most, 3);
    // Judgements hold only the rescore's calls; pairwise lines are its verdicts.
    let judgements = records(&run_dir, "judgements.jsonl");
    assert!(judgements
        .iter()
        .any(|j| j["task"] == "grade" && j["order"] == 3));
    assert!(judgements
        .iter()
        .all(|j| j["task"] != "grade" || j["order"].as_u64().unwrap() <= 3));
    assert_eq!(records(&run_dir, "pairwise.jsonl").len(), pairs_before);
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap())
            .unwrap();
    assert!(
        summary["judge"]["self_agreement"]["n_units"]
            .as_u64()
            .unwrap()
            > 0
    );
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["judge_samples"], 3);
    assert!(manifest["rescored"]["command_line"]
        .as_str()
        .unwrap()
        .contains("rescore"));
    let md = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(md.contains("up to 3 judge samples per answer"), "{md}");

    // Rescoring with no judge asks nobody: rules only, no pairs, no judge section.
    let before = sim.requests_per_model();
    let out = dir
        .evalrun()
        .args(["rescore", "out", "--judge", "none", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(sim.requests_per_model(), before);
    assert!(records(&run_dir, "pairwise.jsonl").is_empty());
    assert!(records(&run_dir, "judgements.jsonl").is_empty());
    assert!(records(&run_dir, "scores.jsonl")
        .iter()
        .all(|s| s["judge_samples"].is_null() && s["judge_error"].is_null()));
    let md = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(
        !md.contains("## Judge") && md.contains("- **Judge:** none"),
        "{md}"
    );
}

#[test]
fn judge_flags_are_checked_before_any_request() {
    let sim = Sim::start("");
    let dir = setup(&sim);
    let out = run(&dir, &["--judge", "nosuch"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("unknown model `nosuch`"),
        "{}",
        text(&out)
    );
    let out = run(&dir, &["--judge", "none", "--judge-samples", "3"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--judge-samples needs a judge"),
        "{}",
        text(&out)
    );
    let out = run(&dir, &["--judge", "judge", "--judge-samples", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        sim.requests_per_model().is_empty(),
        "{:?}",
        sim.requests_per_model()
    );
}

/// `structured_replies = true` on the judge: every judge request carries the reply's JSON schema
/// (`response_format` json_schema, strict), and the simulator's judge — which, like a constrained
/// decoder, then always answers in that shape — never leaves a reply unparsed, even under the
/// `garbage` fault that spoils half the free-text replies of the same run without it.
#[test]
fn structured_judge_replies_carry_the_schema_and_always_parse() {
    let parse_errors = |structured: bool| {
        let sim = Sim::start("judge:garbage=0.5");
        let dir = TestDir::new();
        let base_url = sim.openai_base_url();
        let judge_extra = if structured {
            "concurrency = 4\nstructured_replies = true"
        } else {
            "concurrency = 4"
        };
        dir.write(
            "evalrun.toml",
            &(openai_config(&base_url, &[BASE, CAND], "concurrency = 4")
                + &openai_config(&base_url, &["judge"], judge_extra)),
        );
        dir.write("set.jsonl", &evalset());
        let out = run(&dir, &["--judge", "judge"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let judge_calls: Vec<Value> = sim
            .seen()
            .into_iter()
            .filter(|r| r.model == "judge")
            .map(|r| r.body)
            .collect();
        assert!(!judge_calls.is_empty());
        for body in &judge_calls {
            let rf = &body["response_format"];
            if !structured {
                assert!(rf.is_null(), "{rf}");
                continue;
            }
            assert_eq!(rf["type"], "json_schema", "{rf}");
            assert_eq!(rf["json_schema"]["strict"], true, "{rf}");
            let schema = &rf["json_schema"]["schema"];
            match rf["json_schema"]["name"].as_str() {
                Some("evalrun_pair") => {
                    assert_eq!(
                        schema["required"],
                        serde_json::json!(["winner", "justification"])
                    )
                }
                Some("evalrun_grade") => {
                    let required = schema["required"].as_array().unwrap();
                    assert!(!required.is_empty(), "{schema}");
                    for d in required {
                        let score =
                            &schema["properties"][d.as_str().unwrap()]["properties"]["score"];
                        assert_eq!(
                            (&score["minimum"], &score["maximum"]),
                            (&1.into(), &3.into())
                        );
                    }
                }
                other => panic!("unexpected schema name {other:?}"),
            }
        }
        let report = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
        assert_eq!(report.contains("judge replies: structured"), structured);
        records(&dir.path().join("out"), "judgements.jsonl")
            .iter()
            .filter(|r| !r["parse_error"].is_null())
            .count()
    };
    assert_eq!(parse_errors(true), 0);
    assert!(
        parse_errors(false) > 5,
        "the garbage fault spoils free-text replies"
    );
}

/// A judge of the same family as models it grades gets a warning among the report's first notes:
/// here the judge is declared an ERNIE model, `ernie-speed` is one by its name and the fine-tune by
/// its `family`; without the declaration nothing is said.
#[test]
fn a_same_family_judge_is_named_in_the_report() {
    let notes = |judge_family: &str| {
        let sim = Sim::start("");
        let dir = TestDir::new();
        let base_url = sim.openai_base_url();
        dir.write(
            "evalrun.toml",
            &(openai_config(&base_url, &[BASE], "concurrency = 4")
                + &openai_config(&base_url, &[CAND], "concurrency = 4\nfamily = \"ERNIE\"")
                + &openai_config(
                    &base_url,
                    &["judge"],
                    &format!("concurrency = 4\n{judge_family}"),
                )),
        );
        dir.write("set.jsonl", &evalset());
        let out = run(&dir, &["--judge", "judge"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
        md.lines()
            .find(|l| l.contains("same-family judge"))
            .map(str::to_string)
    };
    let warned = notes("family = \"ernie\"").expect("the warning");
    assert!(
        warned.contains(&format!("`{BASE}` and `{CAND}`"))
            || warned.contains(&format!("{BASE} and {CAND}")),
        "{warned}"
    );
    assert!(warned.contains("evalrun review"), "{warned}");
    assert_eq!(notes(""), None);
}
