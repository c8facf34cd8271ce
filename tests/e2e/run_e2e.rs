//! End to end: the real binary against the simulator on loopback, asserting on the run directory.

use crate::common;

use std::time::Duration;

use common::{
    files_under, insta_settings, openai_config, reply, repo_file, script, Out, Sim, TestDir,
};
use evalrun::sim::Script;
use serde_json::Value;

use common::GOOD_ANSWER;

const FENCED: &str = "```json\n{\"Reply\": \"Great! What do you usually do on your birthday?\", \"Suggestion\": [\"I usually have a party.\", \"We go out to eat.\", \"I stay home.\"], \"Analysis\": \"学生回答正确。\"}\n```";
const PROSE: &str = "Hello everyone! As exams are approaching, let's share tips.\n\n{\"Reply\": \"Hi, I'm preparing for exams too.\", \"Suggestion\": [\"I set a schedule.\", \"I revise often.\", \"I take breaks.\"]}\n\n[学生回复]\nI really need to work on my time management.";
const LONG: &str = "{\"Reply\": \"It has a to-do list feature that helps you prioritize and keep track of your daily tasks. Plus, it has reminders and notifications so you never miss an important commitment. You can even set reminders for specific times or locations.\", \"Suggestion\": [\"The app is user-friendly.\", \"I love the reminders.\", \"It syncs with my calendar.\"], \"Analysis\": \"学生的问题很好。\"}";
const CHINESE: &str = "{\"Reply\": \"当然，这场比赛非常精彩！\", \"Suggestion\": [\"It was exciting!\", \"What a game!\", \"I loved it.\"], \"Analysis\": \"学生使用了中文。\"}";

fn evalset(markers: &[&str]) -> String {
    markers
        .iter()
        .enumerate()
        .map(|(i, m)| {
            format!("{{\"id\": \"it-{i:02}\", \"prompt\": \"{m}: the student said something\"}}\n")
        })
        .collect()
}

struct Case {
    dir: TestDir,
    server: Sim,
}

impl Case {
    fn new(script: Vec<Script>, markers: &[&str], models: &[&str], extra: &str) -> Case {
        let server = Sim::scripted("", script);
        let dir = TestDir::new();
        dir.write(
            "evalrun.toml",
            &openai_config(&server.openai_base_url(), models, extra),
        );
        dir.write("set.jsonl", &evalset(markers));
        Case { dir, server }
    }

    fn run(&self, models: &str, envs: &[(&str, &str)]) -> Out {
        let mut cmd = self.dir.rules_only(models);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.output()
    }

    fn records(&self, file: &str) -> Vec<Value> {
        self.dir.jsonl(&format!("out/{file}"))
    }
}

fn by_item<'a>(records: &'a [Value], model: &str, item: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["model"] == model && r["item_id"] == item)
        .unwrap_or_else(|| panic!("no record for {model}/{item}"))
}

#[test]
fn two_models_rules_only_write_every_file_with_right_outcomes() {
    let script = vec![
        reply("STRICT", GOOD_ANSWER),
        reply("FENCED", FENCED),
        reply("PROSE", PROSE),
        reply("LONG", LONG),
        reply("CHINESE", CHINESE),
    ];
    let case = Case::new(
        script,
        &["STRICT", "FENCED", "PROSE", "LONG", "CHINESE"],
        &["a", "b"],
        "",
    );
    let out = case.run("a,b", &[]);
    assert_eq!(out.code(), Some(0), "stderr: {}", out.stderr());
    let run = case.dir.path().join("out");
    for f in [
        "manifest.json",
        "responses.jsonl",
        "scores.jsonl",
        "summary.json",
        "report.md",
        "summary.csv",
        "items.jsonl",
    ] {
        assert!(run.join(f).exists(), "{f} missing");
    }
    let responses = case.records("responses.jsonl");
    assert_eq!(responses.len(), 10);
    let r = by_item(&responses, "a", "it-00");
    for field in [
        "model",
        "item_id",
        "sample",
        "output",
        "ttft_ms",
        "total_ms",
        "queue_ms",
        "prompt_tokens",
        "completion_tokens",
        "finish_reason",
        "attempts",
        "error",
        "cached",
    ] {
        assert!(r.get(field).is_some(), "responses.jsonl lacks {field}: {r}");
    }
    assert_eq!(r["output"], GOOD_ANSWER);
    assert_eq!(r["finish_reason"], "stop");
    // The simulator's own usage count of the same prompt, for either model.
    let prompt_tokens = r["prompt_tokens"].as_u64().unwrap();
    assert!(prompt_tokens > 0);
    assert_eq!(
        by_item(&responses, "b", "it-00")["prompt_tokens"],
        prompt_tokens
    );
    assert!(r["ttft_ms"].as_f64().unwrap() <= r["total_ms"].as_f64().unwrap());

    let scores = case.records("scores.jsonl");
    let rule = |item: &str, id: &str| {
        by_item(&scores, "b", item)["rules"][id]["pass"]
            .as_bool()
            .unwrap()
    };
    let adherence = |item: &str| by_item(&scores, "b", item)["dimensions"]["adherence"].clone();
    // strict JSON, short, English: no cap; adherence needs the judge.
    assert!(rule("it-00", "json_strict") && rule("it-00", "reply_max_30_words"));
    assert_eq!(adherence("it-00")["score"], Value::Null);
    // fenced: recoverable but not strict → adherence capped at 1. Without a judge a judged dimension
    // stays null (a mean over only the rule-decided answers would be biased); the bound is recorded.
    assert!(!rule("it-01", "json_strict") && rule("it-01", "json_extractable"));
    assert_eq!(adherence("it-01")["score"], Value::Null);
    assert_eq!(adherence("it-01")["rule_cap"], 1.0);
    assert_eq!(adherence("it-01")["source"], "rules+judge");
    // prose around the JSON plus an invented student turn → 1.
    assert!(!rule("it-02", "json_strict") && !rule("it-02", "no_invented_student_turn"));
    assert_eq!(adherence("it-02")["rule_cap"], 1.0);
    // over 30 words → capped at 2, the judge decides within it.
    assert!(rule("it-03", "json_strict") && !rule("it-03", "reply_max_30_words"));
    assert_eq!(adherence("it-03")["score"], Value::Null);
    assert_eq!(adherence("it-03")["rule_cap"], 2.0);
    assert!(
        by_item(&scores, "b", "it-03")["rules"]["reply_max_30_words"]["detail"]
            .as_str()
            .unwrap()
            .contains("41")
    );
    // Chinese where English is required → 1.
    assert!(!rule("it-04", "reply_english_only"));
    assert_eq!(adherence("it-04")["rule_cap"], 1.0);
    assert_eq!(adherence("it-00")["rule_cap"], Value::Null);

    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    let strict = &summary["models"]["a"]["rules"]["json_strict"];
    assert_eq!(
        (strict["n"].as_u64(), strict["passed"].as_u64()),
        (Some(5), Some(3))
    );
    assert_eq!(summary["models"]["a"]["latency"]["total_ms"]["n"], 5);
    assert_eq!(summary["models"]["b"]["errors"]["n_errors"], 0);
    let report = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(report.contains("json_strict"), "report lacks rule table");
    let stdout = out.stdout();
    assert!(stdout.contains("report.md"), "{stdout}");
}

#[test]
fn malformed_jsonl_exits_2_naming_the_line_before_any_request() {
    let case = Case::new(vec![], &[], &["a"], "");
    case.dir.write(
        "set.jsonl",
        "{\"id\": \"x\", \"prompt\": \"hi\"}\n{\"id\": \"y\", \"prompt\": \n",
    );
    let out = case.run("a", &[]);
    assert_eq!(out.code(), Some(2));
    assert!(out.stderr().contains("set.jsonl:2:"), "{}", out.stderr());
    assert_eq!(case.server.requests(), 0);
    insta_settings(&case.dir).bind(|| insta::assert_snapshot!("malformed_jsonl", out.stderr()));
}

#[test]
fn unknown_model_exits_2_listing_configured_ones() {
    let case = Case::new(vec![], &["STRICT"], &["a"], "");
    let out = case.run("a,zzz", &[]);
    assert_eq!(out.code(), Some(2));
    let e = out.stderr();
    assert!(
        e.contains("unknown model `zzz`") && e.contains("configured models: a"),
        "{e}"
    );
    assert_eq!(case.server.requests(), 0);
    insta_settings(&case.dir).bind(|| insta::assert_snapshot!("unknown_model", e));
}

#[test]
fn unknown_config_key_exits_2_naming_key_and_line() {
    let case = Case::new(vec![], &["STRICT"], &["a"], "rpz = 3");
    let out = case.run("a", &[]);
    assert_eq!(out.code(), Some(2));
    let e = out.stderr();
    assert!(e.contains("evalrun.toml:10:") && e.contains("rpz"), "{e}");
}

#[test]
fn missing_env_var_exits_2_naming_it_before_any_request() {
    let case = Case::new(vec![], &["STRICT"], &["a"], "api_key_env = \"MY_TEST_KEY\"");
    let out = case.run("a", &[]);
    assert_eq!(out.code(), Some(2));
    assert!(out.stderr().contains("MY_TEST_KEY"), "{}", out.stderr());
    assert_eq!(case.server.requests(), 0);
}

#[test]
fn torn_streams_are_retried_and_a_persistent_tear_keeps_the_partial_text() {
    let script = vec![
        script("ONCE", GOOD_ANSWER, &[("tear", "1"), ("first", "1")]),
        script("ALWAYS", GOOD_ANSWER, &[("tear", "1")]),
    ];
    let case = Case::new(script, &["ONCE", "ALWAYS"], &["a"], "");
    let out = case.run("a", &[]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    let responses = case.records("responses.jsonl");
    let once = by_item(&responses, "a", "it-00");
    assert_eq!(
        (once["attempts"].as_u64(), &once["error"]),
        (Some(2), &Value::Null)
    );
    assert_eq!(once["output"], GOOD_ANSWER);
    let always = by_item(&responses, "a", "it-01");
    assert_eq!(always["attempts"], 4, "retries = 3 → 4 attempts");
    assert_eq!(always["error"]["kind"], "truncated");
    let partial = always["output"]
        .as_str()
        .unwrap_or_else(|| panic!("{always}"));
    assert!(
        !partial.is_empty() && GOOD_ANSWER.starts_with(partial),
        "partial text kept: {partial:?}"
    );
    let scores = case.records("scores.jsonl");
    assert_eq!(
        by_item(&scores, "a", "it-01")["dimensions"]["adherence"]["score"],
        Value::Null
    );
}

#[test]
fn a_429_storm_is_waited_out_and_attempts_are_recorded() {
    let script = vec![script(
        "STORM",
        GOOD_ANSWER,
        &[("status", "429"), ("first", "3"), ("retry_after_ms", "50")],
    )];
    let case = Case::new(script, &["STORM"], &["a"], "");
    let out = case.run("a", &[]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    let r = &case.records("responses.jsonl")[0];
    assert_eq!(
        (r["attempts"].as_u64(), &r["error"]),
        (Some(4), &Value::Null)
    );
    assert_eq!(r["output"], GOOD_ANSWER);
}

#[test]
fn awkward_sse_gives_byte_identical_answers() {
    let script = vec![
        reply("TIDY", CHINESE),
        script("AWKWARD", CHINESE, &[("sse", "awkward")]),
    ];
    let case = Case::new(script, &["TIDY", "AWKWARD"], &["a"], "");
    let out = case.run("a", &[]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    let responses = case.records("responses.jsonl");
    assert_eq!(by_item(&responses, "a", "it-00")["output"], CHINESE);
    assert_eq!(by_item(&responses, "a", "it-01")["output"], CHINESE);
}

#[test]
fn secrets_never_reach_any_output_of_a_failing_or_succeeding_run() {
    const SECRET: &str = "sk-TEST-9f8e7d6c5b4a-NEVER-PRINT";
    let script = vec![script("DENIED", GOOD_ANSWER, &[("status", "401")])];
    let case = Case::new(
        script,
        &["DENIED", "STRICT"],
        &["a"],
        "api_key_env = \"TEST_API_KEY\"",
    );
    let out = case.run("a", &[("TEST_API_KEY", SECRET)]);
    assert_eq!(
        out.code(),
        Some(0),
        "one item failed, one answered: {}",
        out.stderr()
    );
    let seen = case.server.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen
        .iter()
        .all(|r| r.authorization.as_deref() == Some(format!("Bearer {SECRET}").as_str())));
    let mut texts = vec![out.stdout(), out.stderr()];
    for entry in files_under(&case.dir.path().join("out")) {
        texts.push(String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned());
    }
    let models = case
        .dir
        .cmd(&["models"])
        .env("TEST_API_KEY", SECRET)
        .output();
    texts.push(models.stdout());
    assert!(texts
        .iter()
        .all(|t| !t.contains(SECRET) && !t.contains("9f8e7d6c5b4a")));
    let responses = case.records("responses.jsonl");
    assert_eq!(by_item(&responses, "a", "it-00")["error"]["kind"], "auth");
    assert!(models.stdout().contains("TEST_API_KEY (set)"));
}

#[test]
fn every_request_of_a_model_failing_exits_1() {
    let case = Case::new(
        vec![script("DOWN", GOOD_ANSWER, &[("status", "400")])],
        &["DOWN"],
        &["a"],
        "",
    );
    let out = case.run("a", &[]);
    assert_eq!(out.code(), Some(1), "{}", out.stderr());
    assert!(out.stderr().contains("every request of a failed"));
}

#[test]
fn a_killed_run_leaves_readable_jsonl() {
    let markers: Vec<String> = (0..40).map(|i| format!("SLOW{i:02}")).collect();
    let script = vec![script("SLOW", GOOD_ANSWER, &[("delay_ms", "15")])];
    let marker_refs: Vec<&str> = markers.iter().map(String::as_str).collect();
    let case = Case::new(script, &marker_refs, &["a", "b"], "concurrency = 2");
    let mut cmd = case.dir.evalrun();
    cmd.args([
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
    ])
    .arg(repo_file("rubrics/oral_english.toml"));
    let mut child = cmd.spawn().unwrap();
    let responses = case.dir.path().join("out/responses.jsonl");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(&responses)
        .map(|t| t.lines().count())
        .unwrap_or(0)
        < 5
    {
        assert!(std::time::Instant::now() < deadline, "no records appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for file in ["responses.jsonl", "scores.jsonl"] {
        let text = std::fs::read_to_string(case.dir.path().join("out").join(file)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines.len() >= 4 && lines.len() < 80,
            "{file}: {} lines",
            lines.len()
        );
        for (i, l) in lines.iter().enumerate() {
            let ok = serde_json::from_str::<Value>(l).is_ok();
            assert!(
                ok || (i + 1 == lines.len() && !text.ends_with('\n')),
                "{file}:{}: torn line not at the end",
                i + 1
            );
        }
    }
}

#[test]
fn help_teaches_with_examples_and_unlanded_flags_say_so() {
    let dir = TestDir::new();
    let out = dir.cmd(&["--help"]).code(0);
    let help = out.stdout();
    assert!(
        help.contains("evalrun demo") && help.contains("Exit codes"),
        "{help}"
    );
    let case = Case::new(vec![], &["STRICT"], &["a"], "");
    let out = case.dir.cmd(&["--models", "a", "--resume"]).output();
    assert_eq!(out.code(), Some(2));
    assert!(out.stderr().contains("--resume"), "{}", out.stderr());
}

#[test]
fn report_rederives_summary_byte_for_byte_from_the_records() {
    let script = vec![reply("FENCED", FENCED), reply("LONG", LONG)];
    let case = Case::new(
        script,
        &["STRICT", "FENCED", "LONG", "CHINESE"],
        &["a", "b"],
        "",
    );
    let out = case.run("a,b", &[]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    let run = case.dir.path().join("out");
    let before = std::fs::read(run.join("summary.json")).unwrap();
    let md_before = std::fs::read_to_string(run.join("report.md")).unwrap();
    std::fs::remove_file(run.join("summary.json")).unwrap();
    std::fs::remove_file(run.join("report.md")).unwrap();
    let again = case.dir.cmd(&["report", "out"]).output();
    assert_eq!(again.code(), Some(0), "{}", again.stderr());
    assert_eq!(std::fs::read(run.join("summary.json")).unwrap(), before);
    assert_eq!(
        std::fs::read_to_string(run.join("report.md")).unwrap(),
        md_before
    );
    assert_eq!(case.server.requests(), 8, "report calls no endpoint");

    let bad = case.dir.cmd(&["report", "out", "--format", "pdf"]).output();
    assert_eq!(bad.code(), Some(2));
    assert!(bad.stderr().contains("pdf"), "{}", bad.stderr());
    let missing = case.dir.cmd(&["report", "nowhere"]).output();
    assert_eq!(missing.code(), Some(2));
    assert!(
        missing.stderr().contains("not a run directory"),
        "{}",
        missing.stderr()
    );
}

#[test]
fn legacy_completions_api_sends_prompt_and_stop_and_reads_text_deltas() {
    // A canned completion the request's stop string must cut.
    let server = Sim::scripted(
        "",
        vec![reply("新年祝福", "新年快乐，万事如意。愿你来年心想事成！")],
    );
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &format!(
            "[models.ft]\nprovider = \"openai\"\napi = \"completions\"\nbase_url = \"{}\"\nmodel = \"ft-greetings\"\nparams = {{ stop = [\"。\"], max_tokens = 64 }}\n",
            server.openai_base_url()
        ),
    );
    dir.write(
        "set.jsonl",
        "{\"prompt\": \"写一句新年祝福 ->\", \"completion\": \"新年快乐，万事如意\"}\n",
    );
    dir.rules_only("ft").code(0);
    let r = &dir.jsonl("out/responses.jsonl")[0];
    assert_eq!(r["output"], "新年快乐，万事如意");
    assert_eq!(r["item_id"], "line-1");
    let seen = server.seen();
    assert_eq!(seen[0].route, "POST /v1/completions");
    let body = &seen[0].body;
    assert_eq!(body["prompt"], "写一句新年祝福 ->");
    assert_eq!(body["stop"][0], "。");
    assert_eq!(body["max_tokens"], 64);
    assert!(body.get("messages").is_none());
}
