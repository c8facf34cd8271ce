//! Ctrl-C during the judge phase, end to end: the real binary against the simulator, whose judge is
//! slowed by a scripted fault. The first SIGINT stops the judge calls, writes what was judged and
//! exits 130 without `finished_utc`; `--resume` judges the rest without asking a recorded call again.
#![cfg(unix)]

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{jsonl, openai_config, repo_file, Sim, TestDir};
use evalrun::sim::{Faults, Script};
use serde_json::Value;

const ITEMS: usize = 6;
/// In every answer, so in every judge prompt (which quotes the answers) and in no answer prompt.
const JUDGE_MARKER: &str = "JSLOW";
/// How long the judge takes to its first token: a call in flight at Ctrl-C ends well inside the
/// 5 s grace period.
const JUDGE_TTFT_MS: u64 = 700;

fn evalset() -> String {
    (0..ITEMS)
        .map(|i| {
            format!("{{\"id\": \"it-{i:02}\", \"prompt\": \"P{i:02}: I went to the park.\"}}\n")
        })
        .collect()
}

fn sim() -> Sim {
    let answer = format!(
        r#"{{"Reply": "That sounds fun! What did you do there?", "Suggestion": ["I played football.", "I read a book.", "I met my friends."], "Analysis": "{JUDGE_MARKER} 学生的回答正确。"}}"#
    );
    let slow_judge: Script = format!("@{JUDGE_MARKER}:ttft_ms={JUDGE_TTFT_MS}")
        .parse::<Faults>()
        .unwrap()
        .scripts
        .pop()
        .unwrap();
    // The first matching script applies: judge prompts contain both markers.
    Sim::scripted("", vec![slow_judge, common::reply("P", &answer)])
}

fn run(dir: &TestDir, extra: &[&str]) -> Command {
    let mut cmd = dir.evalrun();
    cmd.args([
        "run",
        "--models",
        "a,b",
        "--baseline",
        "a",
        "--judge",
        "judge",
        "--evalset",
        "set.jsonl",
        "--out",
        "out",
        "--quiet",
    ])
    .arg("--rubric")
    .arg(repo_file("rubrics/oral_english.toml"))
    .args(extra);
    cmd
}

fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

fn manifest(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

/// A judge call as `--resume` identifies it.
fn call_id(j: &Value) -> String {
    [
        "task",
        "model",
        "baseline",
        "item_id",
        "sample",
        "order",
        "attempt",
        "dimensions",
    ]
    .iter()
    .map(|k| j[*k].to_string())
    .collect::<Vec<_>>()
    .join("|")
}

#[test]
fn ctrl_c_in_the_judge_phase_writes_what_was_judged_exits_130_and_resume_finishes() {
    let server = sim();
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &openai_config(
            &server.openai_base_url(),
            &["a", "b", "judge"],
            "concurrency = 3",
        ),
    );
    dir.write("set.jsonl", &evalset());
    let out = dir.path().join("out");
    let judgements = out.join("judgements.jsonl");

    let mut child = run(&dir, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while line_count(&judgements) < 2 {
        assert!(Instant::now() < deadline, "the judge phase never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let asked_at_signal = server.requests_with(JUDGE_MARKER);
    let t0 = Instant::now();
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -INT failed");
    let status =
        wait_with_timeout(&mut child, Duration::from_secs(15)).expect("exits after Ctrl-C");
    let stderr = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    // Calls in flight (≈ 0.7 s each) finish inside the grace period; nothing new is started.
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    assert!(stderr.contains("interrupted"), "{stderr}");
    let asked = server.requests_with(JUDGE_MARKER);
    assert!(
        asked <= asked_at_signal + 3,
        "judge calls sent after Ctrl-C: {asked_at_signal} → {asked}"
    );

    // Every record file is whole and valid; the judge phase was cut short.
    let m = manifest(&out);
    assert!(m["interrupted_utc"].is_string(), "{m}");
    assert!(m["finished_utc"].is_null(), "{m}");
    let first = jsonl(&judgements);
    assert_eq!(first.len(), asked, "every call that returned is recorded");
    let scores = jsonl(&out.join("scores.jsonl"));
    assert_eq!(scores.len(), 2 * ITEMS, "one score line per answer");
    let judged = scores
        .iter()
        .filter(|s| s["judge_samples"].is_object())
        .count();
    let pairs = jsonl(&out.join("pairwise.jsonl"));
    assert!(
        judged < 2 * ITEMS || pairs.len() < ITEMS,
        "the judge phase finished before Ctrl-C: {judged} graded, {} pairs",
        pairs.len()
    );
    for p in &pairs {
        assert!(
            p["first_order"].is_string() && p["second_order"].is_string(),
            "{p}"
        );
    }
    assert!(out.join("report.md").exists());
    assert!(out.join("summary.json").exists());

    // --resume judges the rest; a recorded call is not asked again.
    let o = run(&dir, &["--resume"]).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("reused from judgements.jsonl"));
    let m = manifest(&out);
    assert!(m["finished_utc"].is_string(), "{m}");
    let all = jsonl(&judgements);
    let ids: BTreeSet<String> = all.iter().map(call_id).collect();
    assert_eq!(ids.len(), all.len(), "a judge call recorded twice");
    assert_eq!(
        server.requests_with(JUDGE_MARKER),
        all.len(),
        "a recorded judge call was asked again"
    );
    assert_eq!(&all[..first.len()], &first[..], "recorded judgements kept");
    let scores = jsonl(&out.join("scores.jsonl"));
    assert_eq!(scores.len(), 2 * ITEMS);
    assert!(
        scores
            .iter()
            .all(|s| s["judge_samples"].is_object() && s["judge_error"].is_null()),
        "every answer judged after --resume"
    );
    assert_eq!(jsonl(&out.join("pairwise.jsonl")).len(), ITEMS);
    assert_eq!(line_count(&out.join("responses.jsonl")), 2 * ITEMS);
}
