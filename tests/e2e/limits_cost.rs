//! `--dry-run` (sends nothing, prints requests, tokens, cost and the minimum wall time) and
//! `--max-cost` (stops sending before the spend would pass X, keeps what arrived, exits 1).

use crate::common;

use common::{openai_config, reply, repo_file, Out, Sim, TestDir};

fn set(n: usize) -> String {
    (0..n)
        .map(|i| format!("{{\"id\": \"c-{i:02}\", \"prompt\": \"Item {i}: I like tea.\"}}\n"))
        .collect()
}

fn run(dir: &TestDir, extra: &[&str]) -> Out {
    dir.cmd(&["--models", "a", "--judge", "none", "--evalset", "set.jsonl"])
        .args(["--out", "out", "--quiet"])
        .args(extra)
        .arg("--rubric")
        .arg(repo_file("rubrics/oral_english.toml"))
        .output()
}

#[test]
fn dry_run_prints_the_plan_and_sends_nothing() {
    let server = Sim::start("");
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &openai_config(
            &server.openai_base_url(),
            &["a"],
            "rps = 2.0\nparams = { max_tokens = 100 }",
        ),
    );
    dir.write("set.jsonl", &set(11));
    let out = run(&dir, &["--dry-run", "--samples", "2"]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    let text = out.stdout();
    assert!(text.contains("nothing was sent"), "{text}");
    let row = text.lines().find(|l| l.starts_with("a ")).expect(&text);
    // 22 requests; 2200 output tokens at most; 21 gaps of 0.5 s at rps 2.
    assert!(row.contains(" 22 ") && row.contains(" 2200 "), "{row}");
    assert!(row.contains("10.5 s (rps 2)"), "{row}");
    assert!(row.contains("CNY"), "{row}");
    assert_eq!(server.requests(), 0);
    assert!(!dir.path().join("out").exists(), "a dry run writes nothing");
}

#[test]
fn max_cost_stops_sending_keeps_what_arrived_and_exits_1() {
    // A long answer, cut at max_tokens = 100.
    let server = Sim::scripted("", vec![reply("Item", &"word ".repeat(150))]);
    let dir = TestDir::new();
    // 1 CNY per 1000 tokens; an answer is ~10 prompt and 100 completion tokens, so it costs ~0.11
    // and the cap of 1.0 allows about nine of the twenty.
    dir.write(
        "evalrun.toml",
        &openai_config(
            &server.openai_base_url(),
            &["a"],
            "concurrency = 1\nparams = { max_tokens = 100 }",
        )
        .replace("price_input_per_1k = 0.01", "price_input_per_1k = 1.0")
        .replace("price_output_per_1k = 0.02", "price_output_per_1k = 1.0"),
    );
    dir.write("set.jsonl", &set(20));
    let out = run(&dir, &["--max-cost", "1.0"]);
    let err = out.stderr();
    assert_eq!(out.code(), Some(1), "{err}");
    assert!(err.contains("--max-cost 1 reached"), "{err}");
    let records = dir.jsonl("out/responses.jsonl");
    assert!(
        !records.is_empty() && records.len() < 20,
        "{} records",
        records.len()
    );
    assert_eq!(
        records.len(),
        server.requests(),
        "one record per request sent"
    );
    let spent: f64 = records
        .iter()
        .map(|r| {
            (r["prompt_tokens"].as_f64().unwrap() + r["completion_tokens"].as_f64().unwrap())
                / 1000.0
        })
        .sum();
    assert!(spent <= 1.0, "spent {spent}");
    assert!(records.iter().all(|r| r["error"].is_null()));
    assert!(
        dir.path().join("out/report.md").exists(),
        "what arrived is reported"
    );
}

#[test]
fn max_cost_needs_prices() {
    let server = Sim::start("");
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &openai_config(&server.openai_base_url(), &["a"], "")
            .replace("price_input_per_1k = 0.01\n", ""),
    );
    dir.write("set.jsonl", &set(2));
    let out = run(&dir, &["--max-cost", "5"]);
    assert_eq!(out.code(), Some(2));
    let err = out.stderr();
    assert!(err.contains("price_input_per_1k"), "{err}");
    assert_eq!(server.requests(), 0);
}
