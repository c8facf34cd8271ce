//! `--resume` and Ctrl-C, end to end: the real binary, killed at random moments, against the
//! simulator, which counts how often each answer was asked for.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{jsonl, openai_config, repo_file, script, Sim, TestDir};
use evalrun::sim::Script;
use serde_json::Value;

type Unit = (String, String, u64);

fn evalset(n: usize, prefix: &str) -> String {
    (0..n)
        .map(|i| format!("{{\"id\": \"it-{i:02}\", \"prompt\": \"{prefix}{i:02}: the student said something\"}}\n"))
        .collect()
}

use common::GOOD_ANSWER;

/// Prompts containing `marker` get a good answer, `delay_ms` of real time between tokens.
fn slow(marker: &str, delay_ms: u64) -> Script {
    script(marker, GOOD_ANSWER, &[("delay_ms", &delay_ms.to_string())])
}

fn run_cmd(dir: &TestDir, models: &str, extra: &[&str]) -> Command {
    let mut cmd = dir.evalrun();
    cmd.args([
        "--models",
        models,
        "--judge",
        "none",
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

/// Lines of a record file: every line but a torn last one must parse. Returns the parsed records.
fn valid_records(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        match serde_json::from_str::<Value>(l) {
            Ok(v) => out.push(v),
            Err(_) => assert!(
                i + 1 == lines.len() && !text.ends_with('\n'),
                "{}:{}: torn line not at the end",
                path.display(),
                i + 1
            ),
        }
    }
    out
}

fn unit(r: &Value) -> Unit {
    (
        r["model"].as_str().unwrap().to_string(),
        r["item_id"].as_str().unwrap().to_string(),
        r["sample"].as_u64().unwrap(),
    )
}

fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.matches('\n').count())
        .unwrap_or(0)
}

/// SplitMix64: a reproducible random stream without a crate (the seed is printed on failure).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn kill(mut child: Child) {
    let _ = child.kill(); // SIGKILL on Unix: no handler runs
    child.wait().unwrap();
}

#[test]
fn killed_again_and_again_and_resumed_loses_nothing_and_never_asks_twice() {
    const ITEMS: usize = 50;
    const KILLS: usize = 22;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = Rng(seed);
    // Every prompt streams slowly (≈ 0.2 s an answer), so kills land mid-request, mid-write and
    // between runs; one prompt is rate-limited for its first 6 requests, so its unit ends some
    // sessions as an error record, which a resume asks for again.
    let server = Sim::scripted(
        "",
        vec![
            script(
                "P07",
                GOOD_ANSWER,
                &[("status", "429"), ("first", "6"), ("retry_after_ms", "50")],
            ),
            slow("P", 6),
        ],
    );
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &openai_config(&server.openai_base_url(), &["a", "b"], "concurrency = 2"),
    );
    dir.write("set.jsonl", &evalset(ITEMS, "P"));
    let responses = dir.path().join("out/responses.jsonl");
    let scores = dir.path().join("out/scores.jsonl");

    // (model, prompt) → request count when its answer was first seen recorded.
    let mut frozen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let prompt_of = |item: &str| {
        let i: usize = item.trim_start_matches("it-").parse().unwrap();
        format!("P{i:02}: the student said something")
    };
    let mut kills = 0;
    let started = Instant::now();
    while kills < KILLS {
        let before = line_count(&responses);
        let mut child = run_cmd(&dir, "a,b", &["--resume"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill either after a random delay (possibly before the manifest is even written) or once
        // one or two new answers are on disk (possibly mid-line).
        let deadline = Instant::now() + Duration::from_secs(20);
        if rng.below(3) == 0 {
            std::thread::sleep(Duration::from_millis(rng.below(300)));
        } else {
            let want = before + 1 + rng.below(2) as usize;
            while line_count(&responses) < want && Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        if child.try_wait().unwrap().is_some() {
            break; // finished before we could kill it: no more work to interrupt
        }
        kill(child);
        kills += 1;
        // A kill inside a write leaves a torn last line. The writer's single write per line makes that
        // rare on a local disk, so leave one by hand now and then, as a full disk or a crash would.
        if rng.below(3) == 0 {
            let path = if rng.below(2) == 0 {
                &responses
            } else {
                &scores
            };
            let text = std::fs::read_to_string(path).unwrap_or_default();
            if let Some(last) = text.lines().last().filter(|_| text.ends_with('\n')) {
                let cut: String = last.chars().take(last.chars().count() / 2).collect();
                let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
                std::io::Write::write_all(&mut f, cut.as_bytes()).unwrap();
            }
        }

        let recorded = valid_records(&responses);
        valid_records(&scores);
        let counts = server.requests_by_prompt();
        for r in &recorded {
            if !r["error"].is_null() {
                continue;
            }
            let (model, item, _) = unit(r);
            let key = (model, prompt_of(&item));
            let now = counts.get(&key).copied().unwrap_or(0);
            let then = *frozen.entry(key.clone()).or_insert(now);
            assert_eq!(
                now, then,
                "seed {seed}: {key:?} was asked again after its answer was recorded"
            );
        }
    }
    assert!(
        kills >= 20,
        "seed {seed}: only {kills} kills before the run finished; slow the server down"
    );

    let out = run_cmd(&dir, "a,b", &["--resume"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "seed {seed}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: BTreeSet<Unit> = ["a", "b"]
        .iter()
        .flat_map(|m| (0..ITEMS).map(move |i| (m.to_string(), format!("it-{i:02}"), 0)))
        .collect();
    for file in ["responses.jsonl", "scores.jsonl"] {
        let records = jsonl(&dir.path().join("out").join(file));
        let units: Vec<Unit> = records.iter().map(unit).collect();
        let distinct: BTreeSet<Unit> = units.iter().cloned().collect();
        assert_eq!(
            units.len(),
            distinct.len(),
            "seed {seed}: {file} repeats a unit"
        );
        assert_eq!(distinct, expected, "seed {seed}: {file} lost a unit");
    }
    let records = jsonl(&responses);
    assert!(
        records.iter().all(|r| r["error"].is_null()),
        "seed {seed}: an error record survived the final resume"
    );
    // Every recorded answer was asked for exactly as often as when it was first seen recorded.
    let counts = server.requests_by_prompt();
    for (key, then) in &frozen {
        assert_eq!(counts.get(key), Some(then), "seed {seed}: {key:?}");
    }
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["models"]["a"]["errors"]["n_responses"], ITEMS);
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/manifest.json")).unwrap(),
    )
    .unwrap();
    assert!(manifest["finished_utc"].is_string());
    assert!(!manifest["resumed_utc"].as_array().unwrap().is_empty());
    eprintln!(
        "{kills} kills, {} requests for {} units, {:.1} s",
        server.requests(),
        2 * ITEMS,
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn resume_refuses_changed_inputs_naming_each_change() {
    let server = Sim::start("");
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &openai_config(&server.openai_base_url(), &["a", "b"], ""),
    );
    dir.write("set.jsonl", &evalset(4, "P"));
    let out = run_cmd(&dir, "a,b", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let sent = server.requests();

    // A plain rerun into the same folder is refused: it would mix two runs.
    let out = run_cmd(&dir, "a,b", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resume"));

    // Eval set, model parameters, the model list and the sample count: each named.
    dir.write("set.jsonl", &evalset(5, "P"));
    dir.write(
        "evalrun.toml",
        &openai_config(
            &server.openai_base_url(),
            &["a", "b", "c"],
            "params = { temperature = 0.5 }",
        ),
    );
    let out = run_cmd(&dir, "a,c", &["--resume", "--samples", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for want in [
        "eval set: sha256",
        "models: added c; removed b",
        "model a: params.temperature (unset) → 0.5",
        "--samples: 1 → 2",
    ] {
        assert!(err.contains(want), "missing `{want}` in: {err}");
    }
    assert_eq!(server.requests(), sent, "a refused resume sends nothing");

    // The same inputs again: nothing left to do, nothing sent, exit 0.
    dir.write("set.jsonl", &evalset(4, "P"));
    dir.write(
        "evalrun.toml",
        &openai_config(&server.openai_base_url(), &["a", "b"], ""),
    );
    let out = run_cmd(&dir, "a,b", &["--resume"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.requests(), sent);
    assert_eq!(jsonl(&dir.path().join("out/responses.jsonl")).len(), 8);
}

#[test]
fn resume_scores_an_answer_whose_score_line_was_lost_without_asking_again() {
    let server = Sim::start("");
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &openai_config(&server.openai_base_url(), &["a"], ""),
    );
    dir.write("set.jsonl", &evalset(3, "P"));
    let out = run_cmd(&dir, "a", &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let scores = dir.path().join("out/scores.jsonl");
    let text = std::fs::read_to_string(&scores).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Drop one score line and tear the last one, as a kill between and inside writes would.
    let cut = format!("{}\n{}", lines[0], &lines[2][..lines[2].len() / 2]);
    std::fs::write(&scores, cut).unwrap();
    let sent = server.requests();
    let out = run_cmd(&dir, "a", &["--resume"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cut a torn last line"));
    assert_eq!(server.requests(), sent);
    let restored: BTreeSet<String> = jsonl(&scores)
        .iter()
        .map(|s| serde_json::to_string(&s["rules"]).unwrap() + s["item_id"].as_str().unwrap())
        .collect();
    let original: BTreeSet<String> = lines
        .iter()
        .map(|l| {
            let s: Value = serde_json::from_str(l).unwrap();
            serde_json::to_string(&s["rules"]).unwrap() + s["item_id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(restored, original);
}

#[cfg(unix)]
fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} failed");
}

#[cfg(unix)]
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

#[cfg(unix)]
#[test]
fn ctrl_c_writes_what_arrived_exits_130_and_resume_finishes() {
    const ITEMS: usize = 30;
    let server = Sim::scripted("", vec![slow("P", 8)]);
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &openai_config(&server.openai_base_url(), &["a", "b"], "concurrency = 2"),
    );
    dir.write("set.jsonl", &evalset(ITEMS, "P"));
    let responses = dir.path().join("out/responses.jsonl");
    let mut child = run_cmd(&dir, "a,b", &[])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while line_count(&responses) < 4 {
        assert!(Instant::now() < deadline, "no answers arrived");
        std::thread::sleep(Duration::from_millis(5));
    }
    let t0 = Instant::now();
    signal(&child, "-INT");
    let status =
        wait_with_timeout(&mut child, Duration::from_secs(15)).expect("exits after Ctrl-C");
    assert_eq!(status.code(), Some(130));
    // In-flight answers (≈ 0.25 s each) finish well inside the 5 s grace period.
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    let arrived = jsonl(&responses);
    assert!(
        arrived.len() < 2 * ITEMS,
        "stopped early: {}",
        arrived.len()
    );
    assert!(
        arrived.iter().all(|r| r["error"].is_null()),
        "in-flight answers finished"
    );
    let out = dir.path().join("out");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["interrupted_utc"].is_string());
    assert!(manifest["finished_utc"].is_null());
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let n = |m: &str| {
        summary["models"][m]["errors"]["n_responses"]
            .as_u64()
            .unwrap()
    };
    assert_eq!((n("a") + n("b")) as usize, arrived.len());
    assert!(out.join("report.md").exists());

    let asked = server.requests_by_prompt();
    let o = run_cmd(&dir, "a,b", &["--resume"]).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let all = jsonl(&responses);
    assert_eq!(all.len(), 2 * ITEMS);
    let after = server.requests_by_prompt();
    for r in &arrived {
        let (model, item, _) = unit(r);
        let i: usize = item.trim_start_matches("it-").parse().unwrap();
        let key = (model, format!("P{i:02}: the student said something"));
        assert_eq!(asked.get(&key), after.get(&key), "{key:?} asked again");
    }
}

#[cfg(unix)]
#[test]
fn a_second_ctrl_c_exits_at_once() {
    // Answers that take ~10 s: the first Ctrl-C would wait the whole grace period.
    let server = Sim::scripted("", vec![slow("P", 300)]);
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &openai_config(&server.openai_base_url(), &["a"], ""),
    );
    dir.write("set.jsonl", &evalset(4, "P"));
    let mut child = run_cmd(&dir, "a", &[])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.requests() < 4 {
        assert!(Instant::now() < deadline, "requests never arrived");
        std::thread::sleep(Duration::from_millis(5));
    }
    let t0 = Instant::now();
    signal(&child, "-INT");
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "-INT");
    let status = wait_with_timeout(&mut child, Duration::from_secs(4)).expect("exits at once");
    assert_eq!(status.code(), Some(130));
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    // What was written stays readable, and a resume picks the run up.
    valid_records(&dir.path().join("out/responses.jsonl"));
}

/// A one-dimension rubric with the built-in judge templates, whose prompts carry these markers.
const JUDGED_RUBRIC: &str = "id = \"t\"\nname = \"Test\"\n\n[[dimensions]]\nid = \"quality\"\nname = \"Quality\"\nscale = [1, 3]\nlevels = { \"1\" = \"bad\", \"2\" = \"ok\", \"3\" = \"good\" }\n";
const GRADE_MARKER: &str = "逐项打分";
const PAIR_MARKER: &str = "判断哪一个整体更好";

/// A server whose `judge` grades every answer 2 and prefers the answer shown first, each judge reply
/// streamed with `delay_ms` between deltas; answers come at once.
fn judging_server(delay_ms: u64) -> Sim {
    let delay = [("delay_ms", delay_ms.to_string())];
    let delay: Vec<(&str, &str)> = delay.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Sim::scripted(
        "",
        vec![
            script(
                GRADE_MARKER,
                r#"{"quality": {"score": 2, "justification": "fine"}}"#,
                &delay,
            ),
            script(
                PAIR_MARKER,
                r#"{"winner": "A", "justification": "first"}"#,
                &delay,
            ),
        ],
    )
}

fn judged_setup(server: &Sim, items: usize) -> TestDir {
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &openai_config(
            &server.openai_base_url(),
            &["a", "b", "judge"],
            "concurrency = 2",
        ),
    );
    dir.write("set.jsonl", &evalset(items, "P"));
    dir.write("rubric.toml", JUDGED_RUBRIC);
    dir
}

/// `run` with the judge, the response cache not read (so only the records can spare a judge call).
fn judged_cmd(dir: &TestDir, extra: &[&str]) -> Command {
    let mut cmd = dir.evalrun();
    cmd.args([
        "--models",
        "a,b",
        "--baseline",
        "a",
        "--judge",
        "judge",
        "--evalset",
        "set.jsonl",
        "--rubric",
        "rubric.toml",
        "--out",
        "out",
        "--quiet",
        "--no-cache",
    ])
    .args(extra);
    cmd
}

/// Judge requests so far.
fn judge_requests(server: &Sim) -> usize {
    server
        .requests_by_prompt()
        .iter()
        .filter(|((model, _), _)| model == "judge")
        .map(|(_, n)| n)
        .sum()
}

/// Sorted JSON texts of a record file.
fn sorted_lines(path: &Path) -> Vec<String> {
    let mut v: Vec<String> = jsonl(path).iter().map(Value::to_string).collect();
    v.sort();
    v
}

/// The judge calls of a judgements.jsonl, as (task, model, item, order, attempt): each exactly once.
fn judge_calls(path: &Path) -> BTreeSet<(String, String, String, u64, u64)> {
    let records = jsonl(path);
    let calls: BTreeSet<_> = records
        .iter()
        .map(|j| {
            (
                j["task"].as_str().unwrap().to_string(),
                j["model"].as_str().unwrap().to_string(),
                j["item_id"].as_str().unwrap().to_string(),
                j["order"].as_u64().unwrap(),
                j["attempt"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(calls.len(), records.len(), "a judge call recorded twice");
    calls
}

#[test]
fn a_cut_short_judge_phase_resumes_asking_only_missing_and_failed_calls() {
    const ITEMS: usize = 6;
    let server = judging_server(0);
    let dir = judged_setup(&server, ITEMS);
    let out = judged_cmd(&dir, &[]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run_dir = dir.path().join("out");
    let calls = 2 * ITEMS + 2 * ITEMS; // a grade per answer, two orders per pair
    assert_eq!(judge_requests(&server), calls);
    let scores = sorted_lines(&run_dir.join("scores.jsonl"));
    let pairs = sorted_lines(&run_dir.join("pairwise.jsonl"));
    assert_eq!(pairs.len(), ITEMS);

    // As if killed in the judge phase: 7 judgements recorded (the first of them a transport failure),
    // a torn eighth, scores still the rules-only ones, no verdict yet.
    let text = std::fs::read_to_string(run_dir.join("judgements.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut failed: Value = serde_json::from_str(lines[0]).unwrap();
    failed["raw"] = Value::Null;
    failed["parsed"] = Value::Null;
    failed["error"] = serde_json::json!({"kind": "server", "message": "scripted 500", "status": 500, "code": null});
    let mut cut = format!("{failed}\n");
    for l in &lines[1..7] {
        cut.push_str(l);
        cut.push('\n');
    }
    cut.push_str(&lines[7][..lines[7].len() / 2]);
    std::fs::write(run_dir.join("judgements.jsonl"), cut).unwrap();
    let rules_only: String = jsonl(&run_dir.join("scores.jsonl"))
        .into_iter()
        .map(|mut s| {
            s["judge_samples"] = Value::Null;
            s["dimensions"]["quality"]["score"] = Value::Null;
            format!("{s}\n")
        })
        .collect();
    std::fs::write(run_dir.join("scores.jsonl"), rules_only).unwrap();
    std::fs::write(run_dir.join("pairwise.jsonl"), "").unwrap();

    let answers = server.requests() - judge_requests(&server);
    let before = judge_requests(&server);
    let out = judged_cmd(&dir, &["--resume"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // The 6 usable judgements are reused; the failed one and the missing ones are asked.
    assert_eq!(judge_requests(&server) - before, calls - 6, "{err}");
    assert_eq!(
        server.requests() - judge_requests(&server),
        answers,
        "an answer was asked again"
    );
    assert!(
        err.contains("6 replies reused from judgements.jsonl"),
        "{err}"
    );
    // Complete again, as the uninterrupted run left it; the failed call's line is superseded by its retry.
    assert_eq!(sorted_lines(&run_dir.join("scores.jsonl")), scores);
    assert_eq!(sorted_lines(&run_dir.join("pairwise.jsonl")), pairs);
    let records = jsonl(&run_dir.join("judgements.jsonl"));
    assert_eq!(records.len(), calls + 1);
    assert_eq!(records.iter().filter(|j| !j["error"].is_null()).count(), 1);

    // Resuming a complete run asks the judge nothing.
    let before = server.requests();
    let out = judged_cmd(&dir, &["--resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.requests(), before);
    assert_eq!(sorted_lines(&run_dir.join("scores.jsonl")), scores);
    assert_eq!(jsonl(&run_dir.join("judgements.jsonl")).len(), calls + 1);
}

#[test]
fn killed_in_the_judge_phase_and_resumed_never_asks_the_judge_twice() {
    const ITEMS: usize = 12;
    const KILLS: usize = 3;
    // Each judge reply takes ≈ 0.1 s, two at a time: the judge phase lasts a few seconds.
    let server = judging_server(10);
    let dir = judged_setup(&server, ITEMS);
    let judgements = dir.path().join("out/judgements.jsonl");
    let calls = 2 * ITEMS + 2 * ITEMS;
    let mut kills = 0;
    let mut want = 4;
    while kills < KILLS {
        let mut child = judged_cmd(&dir, &["--resume"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while valid_records(&judgements).len() < want && Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        kill(child);
        kills += 1;
        want += 8;
        // A recorded call was asked; at most the calls in flight at each kill went unrecorded.
        let recorded = valid_records(&judgements).len();
        let asked = judge_requests(&server);
        assert!(
            (recorded..=recorded + 2 * kills).contains(&asked),
            "{asked} asked, {recorded} recorded"
        );
    }
    assert_eq!(
        kills, KILLS,
        "the judge phase ended before it could be killed"
    );

    // The last session: every request it sends is a judge call missing from the records.
    let recorded = valid_records(&judgements).len();
    let before = server.requests();
    let out = judged_cmd(&dir, &["--resume"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = judge_calls(&judgements);
    assert_eq!(
        all.len(),
        calls,
        "one line per judge call, none lost or repeated"
    );
    assert_eq!(server.requests() - before, calls - recorded);
    // At most the calls in flight at each kill (two at a time) were asked twice.
    let twice: usize = server
        .requests_by_prompt()
        .iter()
        .filter(|((model, _), n)| model == "judge" && **n > 1)
        .count();
    assert!(twice <= 2 * KILLS, "{twice} judge prompts asked twice");
    let run_dir = dir.path().join("out");
    let scores = jsonl(&run_dir.join("scores.jsonl"));
    assert_eq!(scores.len(), 2 * ITEMS);
    assert!(scores
        .iter()
        .all(|s| s["dimensions"]["quality"]["score"] == 2.0 && s["judge_error"].is_null()));
    let pairs = jsonl(&run_dir.join("pairwise.jsonl"));
    assert_eq!(pairs.len(), ITEMS);
    assert!(
        pairs.iter().all(|p| p["verdict"] == "S"),
        "A first in both orders: S"
    );
    // Answers were asked once each, whatever the kills.
    assert!(server
        .requests_by_prompt()
        .iter()
        .filter(|((model, _), _)| model != "judge")
        .all(|(_, n)| *n == 1));
}
