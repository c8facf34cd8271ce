//! `evalrun gate` end to end: runs against scripted loopback servers, then the gate's verdict and exit
//! code.

mod common;

use std::time::Duration;

use common::{openai_config, repo_file, Behaviour, ScriptedServer, TestDir, GOOD_ANSWER};

/// Over 30 words in `Reply`: fails `reply_max_30_words`.
const LONG: &str = "{\"Reply\": \"It has a to-do list feature that helps you prioritize and keep track of your daily tasks. Plus, it has reminders and notifications so you never miss an important commitment. You can even set reminders for specific times or locations.\", \"Suggestion\": [\"The app is user-friendly.\", \"I love the reminders.\", \"It syncs with my calendar.\"], \"Analysis\": \"学生的问题很好。\"}";
/// Not JSON at all: fails `json_strict` and `json_extractable`.
const PROSE: &str = "Sure! You could say that you enjoyed the music and the food. Keep practising!";

const ITEMS: usize = 20;

fn evalset(prefix: &str) -> String {
    (0..ITEMS)
        .map(|i| format!("{{\"id\": \"g-{i:02}\", \"prompt\": \"{prefix}{i:02}: the student said something\"}}\n"))
        .collect()
}

/// A run of model `m` against `server`, into `out`.
fn run(dir: &TestDir, server: &ScriptedServer, out: &str) {
    dir.write(
        "evalrun.toml",
        &openai_config(&server.base_url(), &["m"], "concurrency = 4"),
    );
    let o = dir
        .evalrun()
        .args([
            "--models",
            "m",
            "--judge",
            "none",
            "--evalset",
            "set.jsonl",
            "--out",
            out,
            "--quiet",
        ])
        .arg("--rubric")
        .arg(repo_file("rubrics/oral_english.toml"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn gate(dir: &TestDir, extra: &[&str]) -> (Option<i32>, String, String) {
    let o = dir
        .evalrun()
        .args(["gate", "--baseline", "base", "--candidate", "cand"])
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Answers streamed at a realistic pace (≈ 0.1 s), so that latency noise is small against it.
fn good() -> Behaviour {
    Behaviour::Slow {
        answer: GOOD_ANSWER.into(),
        delay: Duration::from_millis(3),
    }
}

#[test]
fn a_degraded_candidate_fails_and_the_table_says_why() {
    let dir = TestDir::new();
    dir.write("set.jsonl", &evalset("P"));
    let healthy = ScriptedServer::start(vec![("P", good())]);
    run(&dir, &healthy, "base");
    // The same model name after a bad deployment: over-long replies on half the items, prose instead
    // of JSON on the other half.
    let set: Vec<String> = (0..ITEMS).map(|i| format!("P{i:02}:")).collect();
    let script: Vec<(&str, Behaviour)> = set
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let answer = if i % 2 == 0 { LONG } else { PROSE };
            (m.as_str(), Behaviour::Answer(answer.into()))
        })
        .collect();
    let degraded = ScriptedServer::start(script);
    run(&dir, &degraded, "cand");

    let (code, out, err) = gate(&dir, &["--out", "reports/gate.md"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.starts_with("## evalrun gate: FAIL"), "{out}");
    let row = |rule: &str| {
        out.lines()
            .find(|l| l.contains(&format!("rule `{rule}`")))
            .unwrap_or_else(|| panic!("no row for {rule}: {out}"))
            .to_string()
    };
    let strict = row("json_strict");
    assert!(
        strict.contains("**REGRESSION**")
            && strict.contains("100.0 % (20/20)")
            && strict.contains("50.0 % (10/20)")
            && strict.contains("10 pass→fail, 0 fail→pass")
            && strict.contains("more answers now fail"),
        "{strict}"
    );
    let words = row("reply_max_30_words");
    assert!(words.contains("**REGRESSION**"), "{words}");
    // Rows that did not regress say why too.
    let chinese = row("no_invented_student_turn");
    assert!(chinese.contains("| ok |"), "{chinese}");
    // Dimensions need a judge: listed as not compared, with the reason.
    assert!(out.contains("no item scored in both runs"), "{out}");
    eprintln!("{out}");
    let written = std::fs::read_to_string(dir.path().join("reports/gate.md")).unwrap();
    assert_eq!(written, out);
}

#[test]
fn an_a_a_comparison_passes() {
    let dir = TestDir::new();
    dir.write("set.jsonl", &evalset("P"));
    let server = ScriptedServer::start(vec![("P", good())]);
    run(&dir, &server, "base");
    run(&dir, &server, "cand");
    let (code, out, err) = gate(&dir, &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.starts_with("## evalrun gate: PASS"), "{out}");
    assert!(out.contains("every outcome is unchanged"), "{out}");
    assert!(out.contains("p90 total latency"), "{out}");
    assert!(!out.contains("REGRESSION"), "{out}");
    // --exact: identical outcomes are still a pass.
    let (code, out, _) = gate(&dir, &["--exact", "--max-latency-increase", "10"]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn changed_inputs_are_refused_unless_allowed_and_then_stated() {
    let dir = TestDir::new();
    let server = ScriptedServer::start(vec![("P", good())]);
    dir.write("set.jsonl", &evalset("P"));
    run(&dir, &server, "base");
    // One more item in the candidate's eval set.
    let mut set = evalset("P");
    set.push_str("{\"id\": \"g-99\", \"prompt\": \"P99: one more\"}\n");
    dir.write("set.jsonl", &set);
    run(&dir, &server, "cand");

    let (code, out, err) = gate(&dir, &[]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        err.contains("eval set: sha256") && err.contains("--allow-changed"),
        "{err}"
    );
    assert!(out.is_empty());

    let (code, out, err) = gate(&dir, &["--allow-changed", "--max-latency-increase", "10"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("compared despite changed inputs (--allow-changed)"),
        "{out}"
    );
    // Only the items both runs have are compared.
    assert!(out.contains("m 20 (of 20 / 21)"), "{out}");
}

#[test]
fn runs_without_a_model_in_common_cannot_be_compared() {
    let dir = TestDir::new();
    dir.write("set.jsonl", &evalset("P"));
    let server = ScriptedServer::start(vec![]);
    run(&dir, &server, "base");
    dir.write(
        "evalrun.toml",
        &openai_config(&server.base_url(), &["other"], ""),
    );
    let o = dir
        .evalrun()
        .args([
            "--models",
            "other",
            "--judge",
            "none",
            "--evalset",
            "set.jsonl",
            "--out",
            "cand",
            "--quiet",
        ])
        .arg("--rubric")
        .arg(repo_file("rubrics/oral_english.toml"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let (code, _, err) = gate(&dir, &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no model is in both runs"), "{err}");
}
