//! `--shard K/N` + `evalrun merge`: the merged directory has the content of the unsharded run.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{jsonl, openai_config, reply, repo_file, Out, Sim, TestDir};
use serde_json::Value;

use common::GOOD_ANSWER;
const FENCED: &str = "```json\n{\"Reply\": \"Great! What do you usually do on your birthday?\", \"Suggestion\": [\"I usually have a party.\", \"We go out to eat.\", \"I stay home.\"], \"Analysis\": \"学生回答正确。\"}\n```";
const LONG: &str = "{\"Reply\": \"It has a to-do list feature that helps you prioritize and keep track of your daily tasks. Plus, it has reminders and notifications so you never miss an important commitment. You can even set reminders for specific times or locations.\", \"Suggestion\": [\"The app is user-friendly.\", \"I love the reminders.\", \"It syncs with my calendar.\"], \"Analysis\": \"学生的问题很好。\"}";

/// Fields that measure time, not content: they differ between any two runs.
const TIMING: [&str; 3] = ["ttft_ms", "total_ms", "queue_ms"];

fn setup(server: &Sim, items: usize) -> TestDir {
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &openai_config(&server.openai_base_url(), &["a", "b"], ""),
    );
    let markers = ["STRICT", "FENCED", "LONG"];
    let set: String = (0..items)
        .map(|i| {
            format!(
                "{{\"id\": \"q{i}\", \"prompt\": \"{} {i}: the student said something\"}}\n",
                markers[i % 3]
            )
        })
        .collect();
    dir.write("set.jsonl", &set);
    dir
}

fn run(dir: &TestDir, out: &str, extra: &[&str]) {
    let o = dir
        .cmd(&[
            "--models",
            "a,b",
            "--judge",
            "none",
            "--evalset",
            "set.jsonl",
            "--samples",
            "2",
            "--out",
            out,
            "--quiet",
            // Every run asks the server: the shards must not be answered from the full run's cache.
            "--no-cache",
        ])
        .arg("--rubric")
        .arg(repo_file("rubrics/oral_english.toml"))
        .args(extra)
        .output();
    assert_eq!(o.code(), Some(0), "{out}: {}", o.stderr());
}

fn merge(dir: &TestDir, args: &[&str]) -> Out {
    dir.cmd(&["merge"]).args(args).output()
}

/// The records of a file as a set of JSON texts, timing fields removed.
fn content(path: &Path) -> BTreeSet<String> {
    jsonl(path)
        .into_iter()
        .map(|mut r| {
            for f in TIMING {
                r.as_object_mut().unwrap().remove(f);
            }
            r.to_string()
        })
        .collect()
}

/// summary.json without what depends on timing.
fn summary(path: &Path) -> Value {
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for (_, m) in s["models"].as_object_mut().unwrap() {
        let m = m.as_object_mut().unwrap();
        m.remove("latency");
        m.remove("output_tokens_per_s");
    }
    s
}

#[test]
fn shards_merged_equal_the_unsharded_run() {
    let server = Sim::scripted(
        "",
        vec![
            reply("STRICT", GOOD_ANSWER),
            reply("FENCED", FENCED),
            reply("LONG", LONG),
        ],
    );
    // 11 items: the shards have 6 and 5, so the interleave is uneven.
    let dir = setup(&server, 11);
    run(&dir, "full", &[]);
    run(&dir, "s1", &["--shard", "1/2"]);
    run(&dir, "s2", &["--shard", "2/2"]);
    // Arguments in any order; shard 2 given twice, as when a retried CI job uploads again.
    let o = merge(&dir, &["s2", "s1", "s2", "--out", "merged"]);
    assert_eq!(o.code(), Some(0), "{}", o.stderr());
    let (full, merged) = (dir.path().join("full"), dir.path().join("merged"));
    assert_eq!(
        std::fs::read(full.join("items.jsonl")).unwrap(),
        std::fs::read(merged.join("items.jsonl")).unwrap(),
        "items in eval-set order"
    );
    for file in ["responses.jsonl", "scores.jsonl"] {
        let (a, b) = (content(&full.join(file)), content(&merged.join(file)));
        assert_eq!(a.len(), 44, "{file}: 2 models × 11 items × 2 samples");
        assert_eq!(a, b, "{file}");
        assert_eq!(jsonl(&merged.join(file)).len(), 44, "{file}: no duplicates");
    }
    assert_eq!(
        summary(&full.join("summary.json")),
        summary(&merged.join("summary.json"))
    );
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(merged.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["shard"], Value::Null);
    assert_eq!(manifest["items"], 11);
    assert!(merged.join("report.md").exists());
    // The merged run passes the gate against the unsharded one with --exact.
    let o = dir
        .cmd(&[
            "gate",
            "--baseline",
            "full",
            "--candidate",
            "merged",
            "--exact",
            "--max-latency-increase",
            "100",
        ])
        .output();
    assert_eq!(o.code(), Some(0), "{}", o.stdout());
}

#[test]
fn merge_refuses_an_incomplete_or_foreign_set_of_shards() {
    let server = Sim::start("");
    let dir = setup(&server, 4);
    run(&dir, "s1", &["--shard", "1/2"]);
    let o = merge(&dir, &["s1", "--out", "m"]);
    assert_eq!(o.code(), Some(2));
    assert!(
        o.stderr().contains("shard(s) 2/2 missing"),
        "{}",
        o.stderr()
    );

    // A shard of another eval set.
    dir.write(
        "set.jsonl",
        "{\"id\": \"z\", \"prompt\": \"other\"}\n{\"id\": \"y\", \"prompt\": \"other\"}\n",
    );
    run(&dir, "s2", &["--shard", "2/2"]);
    let o = merge(&dir, &["s1", "s2", "--out", "m"]);
    assert_eq!(o.code(), Some(2));
    let err = o.stderr();
    assert!(
        err.contains("not shards of one run") && err.contains("eval set: sha256"),
        "{err}"
    );
    assert!(!dir.path().join("m/responses.jsonl").exists());
}
