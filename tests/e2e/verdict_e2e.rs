//! The release headline over the real binary and the simulator (issue 13): a model over its error
//! budget, a run stopped by `--max-cost`, and candidates tied with the best each get the headline the
//! decision rules call for.

use crate::common;

use common::{openai_config, repo_file, shipped_items, Sim, TestDir};
use serde_json::Value;

const BASE: &str = "ernie-speed";
const CAND: &str = "sft-full-e6-lr3e-5";

fn evalset(n: usize) -> String {
    shipped_items(n)
}

fn run(dir: &TestDir, models: &str, extra: &[&str]) -> std::process::Output {
    let mut cmd = dir.evalrun();
    cmd.args([
        "run",
        "--models",
        models,
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

/// The `## Decision` headline of `report.md`.
fn headline(dir: &TestDir) -> String {
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    let start = md.find("## Decision").expect("decision section");
    md[start..].lines().nth(2).unwrap_or_default().to_string()
}

#[test]
fn a_model_over_its_error_budget_blocks_the_release_decision() {
    let sim = Sim::start(&format!("{CAND}:error500=0.34"));
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &openai_config(
            &sim.openai_base_url(),
            &[BASE, CAND, "judge"],
            "concurrency = 4",
        )
        .replace("retries = 3", "retries = 0"),
    );
    dir.write("set.jsonl", &evalset(40));
    let out = run(&dir, &format!("{BASE},{CAND}"), &["--judge", "judge"]);
    let h = headline(&dir);
    assert!(
        h.starts_with("**No release decision**"),
        "{h}\n{}",
        text(&out)
    );
    assert!(h.contains(&format!("errors — `{CAND}` failed")), "{h}");
    assert!(h.contains("over the error budget 2"), "{h}");
    assert!(!h.contains("Ship"), "{h}");
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap(),
    )
    .unwrap();
    let rate = summary["models"][CAND]["errors"]["error_rate"]
        .as_f64()
        .unwrap();
    assert!(rate > 0.1, "{rate}");
    // The quality table states, beside the means, how many answers of each model failed (request
    // errors plus answers the judge could not score): they are in no mean, so they are shown.
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    let quality = &md[md.find("## Quality").unwrap()..];
    let header = quality.lines().nth(2).unwrap();
    assert!(header.contains("failed answers"), "{header}");
    let failed = |m: &str| {
        summary["models"][m]["errors"]["n_errors"].as_u64().unwrap()
            + summary["judge"]["per_model"][m]["n_unjudged_answers"]
                .as_u64()
                .unwrap_or(0)
    };
    for m in [BASE, CAND] {
        let row = quality
            .lines()
            .find(|l| l.starts_with(&format!("| `{m}`")))
            .unwrap();
        let cell = row.trim_end_matches('|').rsplit('|').next().unwrap().trim();
        assert_eq!(cell, format!("{} of 40", failed(m)), "{row}");
    }
    assert!(failed(CAND) >= 4, "the failed requests are counted");
    // The terminal table ends with the same verdict.
    assert!(String::from_utf8_lossy(&out.stdout).contains("No release decision"));
    // The budget can be raised: then errors are no longer a reason.
    let dir2 = TestDir::new();
    dir2.write(
        "evalrun.toml",
        &std::fs::read_to_string(dir.path().join("evalrun.toml")).unwrap(),
    );
    dir2.write("set.jsonl", &evalset(40));
    run(
        &dir2,
        &format!("{BASE},{CAND}"),
        &["--judge", "judge", "--max-error-rate", "0.9"],
    );
    assert!(!headline(&dir2).contains("errors —"), "{}", headline(&dir2));
}

#[test]
fn a_run_stopped_by_max_cost_is_incomplete() {
    let sim = Sim::start("");
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &openai_config(
            &sim.openai_base_url(),
            &[BASE, CAND],
            "concurrency = 1\nparams = { max_tokens = 100 }",
        )
        .replace("price_input_per_1k = 0.01", "price_input_per_1k = 1.0")
        .replace("price_output_per_1k = 0.02", "price_output_per_1k = 1.0"),
    );
    dir.write("set.jsonl", &evalset(20));
    let out = run(
        &dir,
        &format!("{BASE},{CAND}"),
        &["--judge", "none", "--max-cost", "2"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let h = headline(&dir);
    assert!(h.starts_with("**No release decision**"), "{h}");
    assert!(
        h.contains("the run is incomplete — `--max-cost 2` stopped it"),
        "{h}"
    );
    assert!(h.contains("of 20 answers"), "{h}");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/manifest.json")).unwrap(),
    )
    .unwrap();
    assert!(manifest["max_cost_reached_utc"].is_string(), "{manifest}");
    // `evalrun report` re-derives the same verdict from the files.
    let again = dir.cmd(&["report", "out"]).output();
    assert_eq!(again.code(), Some(0));
    assert_eq!(headline(&dir), h);
}

#[test]
fn tied_candidates_are_named_and_the_cheapest_is_picked() {
    // `a` and `ft-greetings` are the same simulated model under two names: tied by construction.
    let sim = Sim::start("");
    let dir = TestDir::new();
    let cfg = openai_config(
        &sim.openai_base_url(),
        &[BASE, "a", "judge"],
        "concurrency = 4",
    ) + &openai_config(&sim.openai_base_url(), &["ft-greetings"], "concurrency = 4")
        .replace("price_input_per_1k = 0.01", "price_input_per_1k = 0.001")
        .replace("price_output_per_1k = 0.02", "price_output_per_1k = 0.002");
    dir.write("evalrun.toml", &cfg);
    dir.write("set.jsonl", &evalset(60));
    let out = run(
        &dir,
        &format!("{BASE},a,ft-greetings"),
        &["--judge", "judge"],
    );
    let h = headline(&dir);
    assert!(
        h.starts_with("**Ship `ft-greetings`**"),
        "{h}\n{}",
        text(&out)
    );
    assert!(
        h.contains("`a` and `ft-greetings` are tied with the best")
            || h.contains("`ft-greetings` and `a` are tied with the best"),
        "{h}"
    );
    assert!(h.contains("picked as the cheapest per item"), "{h}");
    assert!(h.contains("better than the baseline `ernie-speed`"), "{h}");
}

/// Issue 14: with every answer unjudged (a judge that only replies garbage), the decision says that
/// instead of ranking the models on rule caps alone.
#[test]
fn a_judge_that_produced_nothing_blocks_the_release_decision() {
    let sim = Sim::start("judge:garbage=1");
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &openai_config(
            &sim.openai_base_url(),
            &[BASE, CAND, "judge"],
            "concurrency = 4",
        ),
    );
    dir.write("set.jsonl", &evalset(6));
    let out = run(&dir, &format!("{BASE},{CAND}"), &["--judge", "judge"]);
    let h = headline(&dir);
    assert!(
        h.starts_with("**No release decision**"),
        "{h}\n{}",
        text(&out)
    );
    assert!(h.contains("no judge output"), "{h}");
    assert!(
        !h.contains("Ship") && !h.contains("highest overall quality"),
        "{h}"
    );
}
