//! Qianfan v1 end to end: the real binary against the built-in simulator (tokens that expire, rate
//! limits answered with error 18, torn streams, 500s) and with scripted faults (awkward SSE, errors
//! in HTTP 200 bodies, blocked content, slow streams). Secrets are searched for in every output.

use crate::common;

use std::path::Path;

use common::sim_bg::BgSim;
use common::{files_under, jsonl, script, Out, Sim, TestDir};
use evalrun::sim::Script;
use evalrun::sim::{Faults, SimConfig};
use regex::Regex;
use serde_json::Value;

const AK: &str = "AKqf-RECOGNISABLE-api-key-5e1f0c";
const SK: &str = "SKqf-RECOGNISABLE-secret-9a8b7c";
const CHAT_ROUTE: &str = "POST /rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint}";

fn evalset(n: usize, prefix: &str) -> String {
    (0..n)
        .map(|i| format!("{{\"id\": \"q-{i:03}\", \"prompt\": \"{prefix} {i}: I went to the park yesterday with my friends.\"}}\n"))
        .collect()
}

/// Qianfan v1 models; no base_url, so `QIANFAN_BASE_URL` decides where they go.
fn qianfan_config(models: &[(&str, &str)], extra: &str) -> String {
    models
        .iter()
        .map(|(name, endpoint)| {
            format!(
                "[models.\"{name}\"]\nprovider = \"qianfan\"\nendpoint = \"{endpoint}\"\napi_key_env = \"QF_AK\"\nsecret_key_env = \"QF_SK\"\nprice_input_per_1k = 0.1\nprice_output_per_1k = 0.1\ncurrency = \"CNY\"\n{extra}\n"
            )
        })
        .collect()
}

fn run(dir: &TestDir, models: &str, envs: &[(&str, &str)]) -> Out {
    let mut cmd = dir.rules_only(models);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output()
}

/// Every file in `dir` plus stdout and stderr: none holds the keys or a minted access token.
fn assert_no_secret(dir: &Path, out: &Out) {
    let token = Regex::new(r"24\.[0-9a-f]{32}").unwrap();
    let mut texts = vec![
        ("stdout".to_string(), out.stdout()),
        ("stderr".to_string(), out.stderr()),
    ];
    for f in files_under(dir) {
        texts.push((
            f.display().to_string(),
            String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned(),
        ));
    }
    for (what, t) in &texts {
        for needle in [AK, SK, "RECOGNISABLE", "5e1f0c", "9a8b7c"] {
            assert!(!t.contains(needle), "{what} contains `{needle}`");
        }
        assert!(!token.is_match(t), "{what} contains an access token");
        for p in ["access_token=", "client_secret=", "client_id="] {
            for (i, _) in t.match_indices(p) {
                assert!(
                    t[i + p.len()..].starts_with("***"),
                    "{what}: unredacted {p}"
                );
            }
        }
    }
}

#[test]
fn two_hundred_items_through_expiring_tokens_rate_limits_tears_and_500s_all_answered() {
    let faults: Faults = "expire_every=20,rate=50,rate_code=18,tear=0.05,error500=0.03"
        .parse()
        .unwrap();
    let sim = BgSim::start(SimConfig {
        time_scale: 0.002,
        faults,
        credentials: Some((AK.into(), SK.into())),
        ..Default::default()
    });
    let dir = TestDir::new();
    // Two models on one deployment and one pair of keys: they share the token (one refresh per
    // expiry for both) and the server's rate (each learns 50/s from the headers, together they send
    // too fast, so error 18 comes back and both must slow down).
    dir.write(
        "evalrun.toml",
        &qianfan_config(
            &[
                ("ernie-speed", "ERNIE-Speed-8K"),
                ("speed-copy", "ernie_speed"),
            ],
            "concurrency = 8\nretries = 8\ntimeout_s = 20\nparams = { temperature = 0.9 }",
        ),
    );
    dir.write("set.jsonl", &evalset(200, "Talk about a trip"));
    let base = sim.base_url();
    let out = run(
        &dir,
        "ernie-speed,speed-copy",
        &[("QF_AK", AK), ("QF_SK", SK), ("QIANFAN_BASE_URL", &base)],
    );
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    let records = jsonl(&dir.path().join("out/responses.jsonl"));
    assert_eq!(records.len(), 400);
    for r in &records {
        assert_eq!(r["error"], Value::Null, "{r}");
        assert!(!r["output"].as_str().unwrap().is_empty());
        assert!(r["ttft_ms"].as_f64().unwrap() <= r["total_ms"].as_f64().unwrap());
    }

    let stats = sim.stats();
    let m = &stats.models["ernie-speed"];
    assert!(m.faults.tear > 0 && m.faults.error500 > 0, "{m:?}");
    assert!(
        m.rate_limited > 0,
        "the shared deployment refused some: {m:?}"
    );
    let retried = records.iter().filter(|r| r["attempts"] != 1).count();
    assert!(retried > 0);
    // One refresh per expiry: every token but the last served exactly 20 calls before it expired,
    // so with `issued` tokens the valid calls are in (20·(issued−1), 20·issued].
    let a = &stats.auth;
    let valid_calls = stats.routes[CHAT_ROUTE].requests - a.expired_token - a.unknown_token;
    assert_eq!(a.unknown_token, 0);
    assert_eq!(
        a.tokens_issued,
        a.token_refreshes + 1,
        "one token for both models"
    );
    assert!(a.token_refreshes >= 20, "{a:?}");
    assert!(
        20 * (a.tokens_issued - 1) < valid_calls && valid_calls <= 20 * a.tokens_issued,
        "{valid_calls} valid calls with {} tokens: a token was refreshed before it expired",
        a.tokens_issued
    );
    assert_no_secret(dir.path(), &out);
}

#[test]
fn failing_runs_never_print_keys_or_urls() {
    // Wrong secret key: the token request is refused, every answer fails with `auth`, exit 1.
    let sim = BgSim::start(SimConfig {
        time_scale: 0.0,
        credentials: Some((AK.into(), "the-right-secret".into())),
        ..Default::default()
    });
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &qianfan_config(&[("ernie-4.0", "completions_pro")], "retries = 1"),
    );
    dir.write("set.jsonl", &evalset(3, "Hello"));
    let base = sim.base_url();
    let out = run(
        &dir,
        "ernie-4.0",
        &[("QF_AK", AK), ("QF_SK", SK), ("QIANFAN_BASE_URL", &base)],
    );
    assert_eq!(out.code(), Some(1), "{}", out.stderr());
    let records = jsonl(&dir.path().join("out/responses.jsonl"));
    assert_eq!(records.len(), 3);
    let e = &records[0]["error"];
    assert_eq!(
        (e["kind"].as_str(), e["code"].as_str()),
        (Some("auth"), Some("invalid_client"))
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("secret key (secret_key_env) is wrong"),
        "{e}"
    );
    assert_eq!(records[0]["attempts"], 1, "a refused key is not retried");
    assert_no_secret(dir.path(), &out);

    // Nothing listening: reqwest's error would print the token URL with client_secret.
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &qianfan_config(&[("ernie-4.0", "completions_pro")], "retries = 0"),
    );
    dir.write("set.jsonl", &evalset(2, "Hello"));
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let out = run(
        &dir,
        "ernie-4.0",
        &[
            ("QF_AK", AK),
            ("QF_SK", SK),
            ("QIANFAN_BASE_URL", &format!("http://{closed}")),
        ],
    );
    assert_eq!(out.code(), Some(1), "{}", out.stderr());
    let records = jsonl(&dir.path().join("out/responses.jsonl"));
    assert_eq!(records[0]["error"]["kind"], "network", "{}", records[0]);
    assert_no_secret(dir.path(), &out);
}

const CHINESE: &str = "{\"Reply\": \"当然，这场比赛非常精彩！😀 What a game!\", \"Suggestion\": [\"It was exciting!\", \"我也喜欢。\"], \"Analysis\": \"学生使用了中文。\"}";

fn scripted(scripts: Vec<Script>, markers: &[&str], extra: &str) -> (Sim, TestDir) {
    let server = Sim::scripted("", scripts);
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &qianfan_config(&[("q", "ERNIE-4.0-8K")], &format!("retries = 3\n{extra}")),
    );
    let set: String = markers
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{{\"id\": \"it-{i}\", \"prompt\": \"{m}: the student said hi\"}}\n"))
        .collect();
    dir.write("set.jsonl", &set);
    (server, dir)
}

fn by_id<'a>(records: &'a [Value], id: &str) -> &'a Value {
    records.iter().find(|r| r["item_id"] == id).unwrap()
}

#[test]
fn tidy_and_awkward_sse_give_byte_identical_answers() {
    let (server, dir) = scripted(
        vec![
            script("TIDY", CHINESE, &[]),
            script("AWKWARD", CHINESE, &[("sse", "awkward")]),
        ],
        &["TIDY", "AWKWARD"],
        "",
    );
    let base = server.base_url();
    let out = run(
        &dir,
        "q",
        &[("QF_AK", AK), ("QF_SK", SK), ("QIANFAN_BASE_URL", &base)],
    );
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    let records = jsonl(&dir.path().join("out/responses.jsonl"));
    // Each event carries the usage so far; the simulator counted both answers' tokens.
    let stats = server.stats();
    let events = stats.models["ernie-4.0"].completion_tokens / 2;
    assert!(events > 1);
    for id in ["it-0", "it-1"] {
        let r = by_id(&records, id);
        assert_eq!(r["output"], CHINESE, "{r}");
        assert_eq!(
            (r["attempts"].as_u64(), r["completion_tokens"].as_u64()),
            (Some(1), Some(events)),
            "usage from the last (is_end) event"
        );
    }
    assert_eq!(stats.auth.tokens_issued, 1);
    let body = &server.seen()[0].body;
    assert_eq!(body["stream"], true);
    assert_eq!(body["messages"][0]["role"], "user");
}

#[test]
fn errors_in_200_bodies_keep_code_and_message_and_only_transient_codes_are_retried() {
    let (server, dir) = scripted(
        vec![
            script(
                "INVALID",
                "",
                &[
                    ("v1_error", "336003"),
                    ("v1_msg", "the length of messages must be an odd number"),
                ],
            ),
            script("DAILY", "", &[("v1_error", "17")]),
            script("BUSY", "", &[("v1_error", "336100")]),
            script("BLOCKED", "", &[("blocked", "1")]),
        ],
        &["INVALID", "DAILY", "BUSY", "BLOCKED", "FINE"],
        "",
    );
    let base = server.base_url();
    let out = run(
        &dir,
        "q",
        &[("QF_AK", AK), ("QF_SK", SK), ("QIANFAN_BASE_URL", &base)],
    );
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    let records = jsonl(&dir.path().join("out/responses.jsonl"));
    let err = |id: &str| by_id(&records, id)["error"].clone();
    assert_eq!(err("it-0")["kind"], "bad_request");
    assert_eq!(err("it-0")["code"], "336003");
    assert_eq!(err("it-0")["status"], 200);
    assert_eq!(
        err("it-0")["message"],
        "the length of messages must be an odd number"
    );
    assert_eq!(err("it-1")["code"], "17");
    assert_eq!(err("it-2")["code"], "336100");
    assert_eq!(err("it-3")["code"], "need_clear_history");
    assert_eq!(err("it-4"), Value::Null);
    assert_eq!(
        [
            server.requests_with("INVALID"),
            server.requests_with("DAILY"),
            server.requests_with("BUSY"),
            server.requests_with("BLOCKED"),
        ],
        [1, 1, 4, 1],
        "only 336100 is retried (retries = 3 → 4 attempts)"
    );
    assert_eq!(by_id(&records, "it-2")["attempts"], 4);
}

#[test]
fn parameters_qianfan_would_refuse_stop_the_run_before_any_request() {
    let (server, dir) = scripted(vec![], &["FINE"], "params = { temperature = 0 }");
    let base = server.base_url();
    let out = run(
        &dir,
        "q",
        &[("QF_AK", AK), ("QF_SK", SK), ("QIANFAN_BASE_URL", &base)],
    );
    assert_eq!(out.code(), Some(2));
    let e = out.stderr();
    assert!(
        e.contains("params.temperature = 0") && e.contains("(0, 1.0]"),
        "{e}"
    );
    assert_eq!(server.requests(), 0);
    assert_eq!(server.stats().auth.tokens_issued, 0);
}

#[test]
fn first_token_idle_and_whole_request_timeouts_are_timeout_records_keeping_the_partial_text() {
    // Twelve tokens (the simulator streams a word a token).
    let answer = "abc def ghi jkl mno pqr stu vwx yz0 123 456 789";
    let timed = |marker: &str, answer: &str, ttft: u64, gap: u64| {
        let (ttft, gap) = (ttft.to_string(), gap.to_string());
        script(marker, answer, &[("ttft_ms", &ttft), ("delay_ms", &gap)])
    };
    let server = Sim::scripted(
        "",
        vec![
            timed("LATE", answer, 600, 5),
            timed("STALLS", "abc def ghi", 5, 400),
            timed("SLOW", answer, 5, 60),
        ],
    );
    let dir = TestDir::new();
    let model = |name: &str, keys: &str| {
        format!(
            "[models.{name}]\nprovider = \"qianfan\"\nendpoint = \"ernie_speed\"\napi_key_env = \"QF_AK\"\nsecret_key_env = \"QF_SK\"\nretries = 0\n{keys}\n"
        )
    };
    dir.write(
        "evalrun.toml",
        &[
            model("first", "first_token_timeout_s = 0.2"),
            model("idle", "idle_timeout_s = 0.2"),
            model("whole", "timeout_s = 0.4"),
        ]
        .concat(),
    );
    dir.write(
        "set.jsonl",
        "{\"id\": \"late\", \"prompt\": \"LATE hi\"}\n{\"id\": \"stalls\", \"prompt\": \"STALLS hi\"}\n{\"id\": \"slow\", \"prompt\": \"SLOW hi\"}\n{\"id\": \"fine\", \"prompt\": \"FINE hi\"}\n",
    );
    let base = server.base_url();
    let out = run(
        &dir,
        "first,idle,whole",
        &[("QF_AK", AK), ("QF_SK", SK), ("QIANFAN_BASE_URL", &base)],
    );
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    let records = jsonl(&dir.path().join("out/responses.jsonl"));
    let rec = |model: &str, id: &str| {
        records
            .iter()
            .find(|r| r["model"] == model && r["item_id"] == id)
            .unwrap()
            .clone()
    };
    let late = rec("first", "late");
    assert_eq!(late["error"]["kind"], "timeout", "{late}");
    assert!(late["error"]["message"]
        .as_str()
        .unwrap()
        .contains("first-token"));
    assert_eq!(late["output"], Value::Null);
    let stalls = rec("idle", "stalls");
    assert_eq!(stalls["error"]["kind"], "timeout", "{stalls}");
    assert!(stalls["error"]["message"]
        .as_str()
        .unwrap()
        .contains("idle"));
    assert_eq!(
        stalls["output"], "abc",
        "the text before the silence is kept"
    );
    let slow = rec("whole", "slow");
    assert_eq!(slow["error"]["kind"], "timeout", "{slow}");
    assert!(slow["error"]["message"]
        .as_str()
        .unwrap()
        .contains("timeout_s"));
    let partial = slow["output"].as_str().unwrap();
    assert!(
        partial.len() >= 9 && answer.starts_with(partial),
        "{partial}"
    );
    // Within their limits the same answers complete.
    assert_eq!(rec("whole", "fine")["error"], Value::Null);
    assert_eq!(rec("idle", "late")["output"], answer);
    assert_eq!(rec("first", "slow")["output"], answer);
}
