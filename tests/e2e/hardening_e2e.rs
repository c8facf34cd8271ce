//! Issue #14 hardening, end to end over the real binary: one writer per run directory, exit codes
//! for a file named as `--out` and for a corrupt record line, and `--resume` dropping derived lines
//! whose answer is gone.

use crate::common;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{openai_config, repo_file, script, Sim, TestDir, GOOD_ANSWER};
use serde_json::Value;

fn evalset(n: usize, prefix: &str) -> String {
    (0..n)
        .map(|i| format!("{{\"id\": \"it-{i:02}\", \"prompt\": \"{prefix}{i:02}: what did you do today?\"}}\n"))
        .collect()
}

/// A rules-only run of models `a,b` into `out`, plus `extra` flags.
fn run_args(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "--models",
        "a,b",
        "--judge",
        "none",
        "--evalset",
        "set.jsonl",
        "--out",
        "out",
        "--quiet",
        "--rubric",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(repo_file("rubrics/oral_english.toml").display().to_string());
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn setup(server: &Sim, items: usize) -> TestDir {
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &openai_config(&server.openai_base_url(), &["a", "b"], "concurrency = 2"),
    );
    dir.write("set.jsonl", &evalset(items, "P"));
    dir
}

fn keys(records: &[Value]) -> Vec<(String, String, u64)> {
    records
        .iter()
        .map(|r| {
            (
                r["model"].as_str().unwrap().to_string(),
                r["item_id"].as_str().unwrap().to_string(),
                r["sample"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_second_writer_is_refused_naming_the_holder_and_a_killed_holder_leaves_no_obstacle() {
    // Slow answers (≈ 0.3 s each) keep the first run writing while the others try.
    let server = Sim::scripted("", vec![script("P", GOOD_ANSWER, &[("delay_ms", "10")])]);
    let dir = setup(&server, 12);
    let mut first = dir
        .evalrun()
        .args(run_args(&[]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let manifest = dir.path().join("out/manifest.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !manifest.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(manifest.exists(), "the first run never started writing");
    let pid = format!("pid {}", first.id());

    let second = dir.cmd(&[]).args(run_args(&["--resume"])).code(2);
    let err = second.stderr();
    assert!(err.contains("out") && err.contains(&pid), "{err}");
    let rescore = dir.cmd(&["rescore", "out", "--judge", "none"]).code(2);
    assert!(rescore.stderr().contains(&pid), "{}", rescore.stderr());
    let merge = dir.cmd(&["merge", "x", "--out", "out"]).code(2);
    assert!(merge.stderr().contains(&pid), "{}", merge.stderr());

    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run ended before the second writer was tried; the test proves nothing"
    );
    first.kill().unwrap(); // SIGKILL: the lock file stays, the OS lock goes
    first.wait().unwrap();
    assert!(dir.path().join("out/.evalrun.lock").exists());

    dir.cmd(&[]).args(run_args(&["--resume"])).code(0);
    let responses = dir.jsonl("out/responses.jsonl");
    let unique: BTreeSet<_> = keys(&responses).into_iter().collect();
    assert_eq!(responses.len(), 24, "one line per unit");
    assert_eq!(unique.len(), 24);
}

#[test]
fn out_naming_an_existing_file_is_a_usage_error() {
    let server = Sim::start("");
    let dir = setup(&server, 2);
    dir.write("taken", "not a directory\n");
    let mut args = run_args(&[]);
    let at = args.iter().position(|a| a == "out").unwrap();
    args[at] = "taken".into();
    let out = dir.cmd(&[]).args(&args).code(2);
    assert!(
        out.stderr().contains("--out") && out.stderr().contains("taken"),
        "{}",
        out.stderr()
    );
    assert_eq!(server.requests(), 0, "nothing is sent on a usage error");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("taken")).unwrap(),
        "not a directory\n"
    );
}

#[test]
fn report_on_a_corrupt_middle_line_exits_2_naming_file_and_line() {
    let server = Sim::start("");
    let dir = setup(&server, 3);
    dir.cmd(&[]).args(run_args(&[])).code(0);
    let path = dir.path().join("out/responses.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1] = "{\"model\": \"a\", \"item_id\": ";
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let out = dir.cmd(&["report", "out"]).code(2);
    assert!(
        out.stderr().contains("responses.jsonl:2"),
        "{}",
        out.stderr()
    );
}

#[test]
fn resume_drops_the_score_of_an_answer_a_torn_file_lost() {
    let server = Sim::start("");
    let dir = setup(&server, 4);
    dir.cmd(&[]).args(run_args(&[])).code(0);
    let responses = dir.path().join("out/responses.jsonl");
    // A torn write lost the last answer: half its line remains, its score line stays behind.
    let text = std::fs::read_to_string(&responses).unwrap();
    let body = text.trim_end_matches('\n');
    let start = body.rfind('\n').map_or(0, |i| i + 1);
    let last = &body[start..];
    let lost: Value = serde_json::from_str(last).unwrap();
    std::fs::write(
        &responses,
        format!("{}{}", &body[..start], &last[..last.len() / 2]),
    )
    .unwrap();
    let asked = server.requests();

    let out = dir.cmd(&[]).args(run_args(&["--resume"])).code(0);
    assert!(
        out.stderr().contains("whose answer is gone"),
        "{}",
        out.stderr()
    );
    assert_eq!(
        server.requests(),
        asked + 1,
        "only the lost answer is asked again"
    );
    let responses = keys(&dir.jsonl("out/responses.jsonl"));
    let scores = keys(&dir.jsonl("out/scores.jsonl"));
    assert_eq!(
        scores.len(),
        8,
        "one score line per unit, no stale one: {scores:?}"
    );
    assert_eq!(
        scores.iter().collect::<BTreeSet<_>>(),
        responses.iter().collect::<BTreeSet<_>>()
    );
    assert!(responses.contains(&keys(&[lost])[0]));
}

/// A rules-only dimension: 3 for a strict JSON answer, capped to 1 otherwise.
const FORMAT_RUBRIC: &str = r#"
id = "format"
name = "Format"
description = "Strict JSON or not."
judge_mode = "joint"

[[dimensions]]
id = "format"
name = "Format"
description = "Rules only."
scale = [1, 3]
judged = false
[dimensions.levels]
1 = "not JSON"
2 = "-"
3 = "strict JSON"

[[rules]]
id = "strict"
check = "json_strict"
description = "One JSON object."

[[caps]]
dimension = "format"
max = 1
if_any_fails = ["strict"]
reason = "not JSON"
"#;

/// Issue 14: three items, every one exactly two points lower (sd = 0). The MDE is undefined and the
/// summary and the report say why; they never claim "the smallest detectable difference is 0.00".
#[test]
fn equal_paired_differences_give_no_mde_of_zero() {
    let sim = Sim::scripted("", vec![common::reply("MDE", GOOD_ANSWER)]);
    let dir = TestDir::new();
    let url = sim.openai_base_url();
    // `b` is the same endpoint cut after 3 tokens: never JSON, so always capped to 1.
    dir.write(
        "evalrun.toml",
        &(openai_config(&url, &["a"], "")
            + &openai_config(&url, &["b"], "params = { max_tokens = 3 }")),
    );
    dir.write("set.jsonl", &evalset(3, "MDE item "));
    dir.write("format.toml", FORMAT_RUBRIC);
    let out = dir
        .cmd(&[
            "--models",
            "a,b",
            "--baseline",
            "a",
            "--judge",
            "none",
            "--evalset",
            "set.jsonl",
            "--rubric",
            "format.toml",
            "--out",
            "out",
            "--quiet",
        ])
        .output();
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap(),
    )
    .unwrap();
    let p = &summary["paired"]["a"]["b"]["format"];
    assert_eq!(p["n_pairs"], 3, "{p}");
    assert_eq!(p["mean_diff"].as_f64(), Some(-2.0), "{p}");
    assert!(p["mde80"].is_null(), "{p}");
    assert!(p["mde80_why"].is_string(), "{p}");
    let report = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(
        !report.contains("detectable difference is 0.00"),
        "{report}"
    );
}
