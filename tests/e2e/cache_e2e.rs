//! The response cache, end to end: the real binary against the simulator, which counts every request
//! per (model, prompt). Without `--cache` nothing is read or written; with it a repeated run asks
//! nothing; `--no-cache` asks everything but still writes;
//! another sample, other params or another cache folder miss; a damaged entry is asked again; judge
//! calls are cached like answers.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{jsonl, openai_config, reply, Out, Sim, TestDir};
use serde_json::Value;

const ITEMS: usize = 4;

/// A one-dimension rubric with the built-in judge templates, so the judge's prompts are known.
const RUBRIC: &str = r#"
id = "t"
name = "Test"

[[dimensions]]
id = "quality"
name = "Quality"
scale = [1, 3]
levels = { "1" = "bad", "2" = "ok", "3" = "good" }
"#;

/// Markers of the built-in grading and pairwise templates.
const GRADE: &str = "逐项打分";
const PAIR: &str = "判断哪一个整体更好";

/// A simulator whose judge grades every answer 2 and prefers the answer shown first; every other
/// prompt gets a generated answer.
fn server() -> Sim {
    Sim::scripted(
        "",
        vec![
            reply(
                GRADE,
                r#"{"quality": {"score": 2, "justification": "fine"}}"#,
            ),
            reply(PAIR, r#"{"winner": "A", "justification": "first"}"#),
        ],
    )
}

fn setup(server: &Sim, extra: &str) -> TestDir {
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &openai_config(&server.openai_base_url(), &["a", "b", "judge"], extra),
    );
    let set: String = (0..ITEMS)
        .map(|i| format!("{{\"id\": \"it-{i}\", \"prompt\": \"Q{i}: the student said hello\"}}\n"))
        .collect();
    dir.write("set.jsonl", &set);
    dir.write("rubric.toml", RUBRIC);
    dir
}

fn run(dir: &TestDir, out: &str, extra: &[&str]) -> Out {
    let o = dir
        .cmd(&[
            "--models",
            "a,b",
            "--evalset",
            "set.jsonl",
            "--rubric",
            "rubric.toml",
            "--out",
            out,
            "--quiet",
            "--cache",
        ])
        .args(extra)
        .output();
    assert_eq!(o.code(), Some(0), "{out}: {}", o.stderr());
    o
}

fn records(dir: &TestDir, out: &str, file: &str) -> Vec<Value> {
    jsonl(&dir.path().join(out).join(file))
}

fn summary(dir: &TestDir, out: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(out).join("summary.json")).unwrap(),
    )
    .unwrap()
}

/// Requests so far per model.
fn by_model(server: &Sim) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for ((model, _), n) in server.requests_by_prompt() {
        *out.entry(model).or_default() += n;
    }
    out
}

/// Every entry file of a cache folder.
fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(shards) = std::fs::read_dir(cache.join("v1")) else {
        return out;
    };
    for shard in shards {
        for f in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            out.push(f.unwrap().path());
        }
    }
    out.sort();
    out
}

fn unit(r: &Value) -> (String, String, u64) {
    (
        r["model"].as_str().unwrap().into(),
        r["item_id"].as_str().unwrap().into(),
        r["sample"].as_u64().unwrap(),
    )
}

#[test]
fn a_second_identical_run_is_served_from_the_cache_without_a_request() {
    let server = server();
    let dir = setup(&server, "");
    run(&dir, "first", &["--judge", "none", "--samples", "2"]);
    let n = 2 * ITEMS * 2;
    assert_eq!(server.requests(), n);
    let first = records(&dir, "first", "responses.jsonl");
    assert!(first
        .iter()
        .all(|r| r["cached"] == false && r["attempts"] == 1));
    let cache = dir.path().join(".evalrun-cache");
    assert_eq!(
        entries(&cache).len(),
        n,
        "one entry per answer, beside the config"
    );
    for e in entries(&cache) {
        let name = e.file_name().unwrap().to_str().unwrap().to_string();
        assert_eq!(name.len(), 64 + ".json".len(), "{name}");
        assert_eq!(
            e.parent().unwrap().file_name().unwrap().to_str(),
            Some(&name[..2])
        );
    }

    let o = run(&dir, "second", &["--judge", "none", "--samples", "2"]);
    assert_eq!(server.requests(), n, "the second run asked the endpoint");
    assert!(
        o.stderr()
            .contains(&format!("{n} answer(s) served from the response cache")),
        "{}",
        o.stderr()
    );
    let second = records(&dir, "second", "responses.jsonl");
    assert_eq!(second.len(), n);
    let before: BTreeMap<_, _> = first.iter().map(|r| (unit(r), r)).collect();
    for r in &second {
        assert_eq!(r["cached"], true, "{r}");
        assert_eq!(
            (r["attempts"].as_u64(), r["queue_ms"].as_f64()),
            (Some(0), Some(0.0)),
            "{r}"
        );
        let old = before[&unit(r)];
        // The original latency fields, answer and usage are kept.
        for f in [
            "output",
            "ttft_ms",
            "total_ms",
            "prompt_tokens",
            "completion_tokens",
            "finish_reason",
        ] {
            assert_eq!(r[f], old[f], "{f} of {r}");
        }
    }
    // Same scores; latency statistics leave the cached answers out.
    let scores = |out: &str| {
        let mut v: Vec<String> = records(&dir, out, "scores.jsonl")
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(scores("first"), scores("second"));
    let s = summary(&dir, "second");
    for m in ["a", "b"] {
        let model = &s["models"][m];
        assert_eq!(model["latency"]["ttft_ms"]["n"], 0, "{model}");
        assert_eq!(model["latency"]["total_ms"]["n"], 0, "{model}");
        assert_eq!(model["errors"]["n_cached"], 2 * ITEMS);
        assert_eq!(model["errors"]["n_responses"], 2 * ITEMS);
    }
    assert_eq!(
        summary(&dir, "first")["models"]["a"]["latency"]["total_ms"]["n"],
        2 * ITEMS
    );
}

#[test]
fn no_cache_asks_every_request_again_but_still_writes_the_cache() {
    let server = server();
    let dir = setup(&server, "");
    let n = 2 * ITEMS;
    // An empty cache written under --no-cache …
    run(&dir, "r1", &["--judge", "none", "--no-cache"]);
    assert_eq!(server.requests(), n);
    assert_eq!(entries(&dir.path().join(".evalrun-cache")).len(), n);
    // … serves the next run completely.
    run(&dir, "r2", &["--judge", "none"]);
    assert_eq!(server.requests(), n);
    assert!(records(&dir, "r2", "responses.jsonl")
        .iter()
        .all(|r| r["cached"] == true));
    // --no-cache with a full cache: every request is sent again, nothing is marked cached.
    run(&dir, "r3", &["--judge", "none", "--no-cache"]);
    assert_eq!(server.requests(), 2 * n);
    assert!(server.requests_by_prompt().values().all(|&c| c == 2));
    let r3 = records(&dir, "r3", "responses.jsonl");
    assert!(r3
        .iter()
        .all(|r| r["cached"] == false && r["attempts"] == 1));
    assert_eq!(summary(&dir, "r3")["models"]["a"]["errors"]["n_cached"], 0);
    assert_eq!(
        entries(&dir.path().join(".evalrun-cache")).len(),
        n,
        "rewritten in place"
    );
}

#[test]
fn another_sample_other_params_or_another_cache_folder_miss() {
    let server = server();
    let dir = setup(&server, "");
    run(&dir, "one", &["--judge", "none"]);
    assert_eq!(server.requests(), 2 * ITEMS);

    // --samples 2: sample 0 of each unit is cached, sample 1 is a new generation.
    run(&dir, "two", &["--judge", "none", "--samples", "2"]);
    assert_eq!(server.requests(), 2 * 2 * ITEMS);
    let two = records(&dir, "two", "responses.jsonl");
    for r in &two {
        assert_eq!(r["cached"], r["sample"] == 0, "{r}");
    }

    // Another temperature is another request.
    dir.write(
        "evalrun.toml",
        &openai_config(
            &server.openai_base_url(),
            &["a", "b", "judge"],
            "params = { temperature = 0.3 }",
        ),
    );
    run(&dir, "warm", &["--judge", "none"]);
    assert_eq!(server.requests(), 3 * 2 * ITEMS);
    assert!(records(&dir, "warm", "responses.jsonl")
        .iter()
        .all(|r| r["cached"] == false));

    // Another cache folder (--cache-dir) holds nothing yet; the folder beside the config is untouched.
    let beside = entries(&dir.path().join(".evalrun-cache")).len();
    run(
        &dir,
        "elsewhere",
        &["--judge", "none", "--cache-dir", "other-cache"],
    );
    assert_eq!(server.requests(), 4 * 2 * ITEMS);
    assert_eq!(entries(&dir.path().join("other-cache")).len(), 2 * ITEMS);
    assert_eq!(entries(&dir.path().join(".evalrun-cache")).len(), beside);
    run(
        &dir,
        "elsewhere-again",
        &["--judge", "none", "--cache-dir", "other-cache"],
    );
    assert_eq!(server.requests(), 4 * 2 * ITEMS);
}

#[test]
fn a_corrupt_cache_entry_is_ignored_asked_again_and_rewritten() {
    let server = server();
    let dir = setup(&server, "");
    run(&dir, "first", &["--judge", "none"]);
    let files = entries(&dir.path().join(".evalrun-cache"));
    assert_eq!(files.len(), 2 * ITEMS);
    // A torn entry (a crash mid-write on a file system without atomic rename) and plain garbage.
    let text = std::fs::read_to_string(&files[0]).unwrap();
    std::fs::write(&files[0], &text[..text.len() / 2]).unwrap();
    std::fs::write(&files[1], "not json at all").unwrap();

    let o = run(&dir, "second", &["--judge", "none"]);
    assert_eq!(
        server.requests(),
        2 * ITEMS + 2,
        "exactly the two damaged entries are asked again"
    );
    let err = o.stderr();
    assert_eq!(
        err.matches("ignoring unreadable entry").count(),
        1,
        "warned once: {err}"
    );
    let second = records(&dir, "second", "responses.jsonl");
    assert_eq!(second.iter().filter(|r| r["cached"] == false).count(), 2);
    assert!(second.iter().all(|r| r["error"].is_null()));

    // The fresh answers replaced the damaged entries.
    run(&dir, "third", &["--judge", "none"]);
    assert_eq!(server.requests(), 2 * ITEMS + 2);
    assert!(records(&dir, "third", "responses.jsonl")
        .iter()
        .all(|r| r["cached"] == true));
}

#[test]
fn judge_calls_are_cached_too() {
    let server = server();
    let dir = setup(&server, "");
    run(&dir, "first", &["--judge", "judge", "--baseline", "a"]);
    let asked = by_model(&server);
    // One grade per answer, both orders per pair.
    assert_eq!(
        asked.get("judge"),
        Some(&(2 * ITEMS + 2 * ITEMS)),
        "{asked:?}"
    );
    let first_judgements = records(&dir, "first", "judgements.jsonl");
    assert!(first_judgements
        .iter()
        .all(|j| j.get("cached").is_none() && j["parse_error"].is_null()));

    let o = run(&dir, "second", &["--judge", "judge", "--baseline", "a"]);
    assert_eq!(
        by_model(&server),
        asked,
        "the second judged run asked somebody"
    );
    assert!(
        o.stderr().contains(&format!(
            "{} from the response cache, 0 call(s) sent",
            4 * ITEMS
        )),
        "{}",
        o.stderr()
    );
    let judgements = records(&dir, "second", "judgements.jsonl");
    assert_eq!(judgements.len(), first_judgements.len());
    assert!(
        judgements.iter().all(|j| j["cached"] == true),
        "{judgements:?}"
    );
    // The same scores and verdicts as the run that asked.
    for file in ["scores.jsonl", "pairwise.jsonl"] {
        let mut a: Vec<String> = records(&dir, "first", file)
            .iter()
            .map(Value::to_string)
            .collect();
        let mut b: Vec<String> = records(&dir, "second", file)
            .iter()
            .map(Value::to_string)
            .collect();
        a.sort();
        b.sort();
        assert_eq!(a, b, "{file}");
        assert!(!a.is_empty());
    }
    assert!(records(&dir, "second", "scores.jsonl")
        .iter()
        .all(|s| s["dimensions"]["quality"]["score"] == 2.0));

    // --judge-samples 2 with the cache: judge sample 1 is cached, judge sample 2 is new; pairs cached.
    run(
        &dir,
        "third",
        &[
            "--judge",
            "judge",
            "--baseline",
            "a",
            "--judge-samples",
            "2",
        ],
    );
    assert_eq!(by_model(&server)["judge"], asked["judge"] + 2 * ITEMS);
}

#[test]
fn without_cache_no_cache_file_is_read_or_written() {
    let server = server();
    let dir = setup(&server, "");
    // A full cache from a run with --cache …
    run(&dir, "warm", &["--judge", "none"]);
    let cache = dir.path().join(".evalrun-cache");
    let mut before = entries(&cache);
    before.sort();
    assert_eq!(before.len(), 2 * ITEMS);
    let asked = by_model(&server);
    // … is neither read nor written by a run without it: every request is sent again.
    let o = dir
        .cmd(&[
            "--models",
            "a,b",
            "--evalset",
            "set.jsonl",
            "--rubric",
            "rubric.toml",
            "--out",
            "plain",
            "--quiet",
            "--judge",
            "none",
            "--cache-dir",
            "never",
        ])
        .output();
    assert_eq!(o.code(), Some(0), "{}", o.stderr());
    assert!(
        !dir.path().join("never").exists(),
        "a cache folder was created"
    );
    let mut after = entries(&cache);
    after.sort();
    assert_eq!(after, before);
    assert_eq!(by_model(&server)["a"], asked["a"] + ITEMS);
    assert!(records(&dir, "plain", "responses.jsonl")
        .iter()
        .all(|r| r["cached"] == false && r["attempts"] == 1));
}

#[test]
fn a_fresh_judged_run_and_rescore_without_cache_write_no_cache_file() {
    let server = server();
    let dir = setup(&server, "");
    // --no-cache and --cache-dir alone do not turn the cache on.
    for (out, extra) in [
        ("out1", &[][..]),
        ("out2", &["--no-cache", "--cache-dir", "elsewhere"][..]),
    ] {
        let o = dir
            .cmd(&[
                "--models",
                "a,b",
                "--evalset",
                "set.jsonl",
                "--rubric",
                "rubric.toml",
                "--out",
                out,
                "--quiet",
                "--judge",
                "judge",
                "--baseline",
                "a",
            ])
            .args(extra)
            .output();
        assert_eq!(o.code(), Some(0), "{extra:?}: {}", o.stderr());
    }
    dir.cmd(&["rescore", "out1", "--quiet"]).code(0);
    assert!(by_model(&server)["judge"] > 0, "the judge was not called");
    // Every file left is an input or under the run directory: no cache folder, no entry anywhere.
    let stray: Vec<PathBuf> = common::files_under(dir.path())
        .into_iter()
        .filter(|p| {
            !["out1", "out2"]
                .iter()
                .any(|o| p.starts_with(dir.path().join(o)))
        })
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            !["evalrun.toml", "set.jsonl", "rubric.toml"].contains(&name)
        })
        .collect();
    assert_eq!(stray, Vec::<PathBuf>::new());
    assert!(!dir.path().join(".evalrun-cache").exists());
    assert!(!dir.path().join("elsewhere").exists());
}
