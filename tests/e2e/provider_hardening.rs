//! Issue 14, provider side, end to end: the real binary against the simulator's quirks — a stream
//! that ends with `[DONE]` but no `finish_reason`, no usage, invalid UTF-8, a 50 MB answer, an error
//! body echoing the `Authorization` headers, credentials in `base_url`, a long `Retry-After` — and
//! the extra routes the SDKs call.

use crate::common;

use common::sim_bg::BgSim;
use common::{jsonl, TestDir};
use evalrun::sim::SimConfig;
use serde_json::Value;

const KEY: &str = "sk-RECOGNISABLE-openai-key-77c1";
const PASSWORD: &str = "PW-RECOGNISABLE-b0b";

fn sim(faults: &str) -> BgSim {
    BgSim::start(SimConfig {
        time_scale: 0.0,
        faults: faults.parse().unwrap(),
        ..Default::default()
    })
}

/// A run of `n` one-turn items against OpenAI-compatible model `ernie-speed` at `base_url`.
fn run(base_url: &str, n: usize, extra: &str) -> (TestDir, std::process::Output) {
    let dir = TestDir::new();
    let retries = if extra.contains("retries") {
        ""
    } else {
        "retries = 2\n"
    };
    dir.write(
        "evalrun.toml",
        &format!(
            "[models.m]\nprovider = \"openai\"\nbase_url = \"{base_url}\"\nmodel = \"ernie-speed\"\napi_key_env = \"OAI_KEY\"\n{retries}timeout_s = 20\nprice_input_per_1k = 0.01\nprice_output_per_1k = 0.02\ncurrency = \"CNY\"\n{extra}\n"
        ),
    );
    let set: String = (0..n)
        .map(|i| format!("{{\"id\": \"q-{i}\", \"prompt\": \"Item {i}: I like football.\"}}\n"))
        .collect();
    dir.write("set.jsonl", &set);
    let out = common::rules_only_run(&dir, "m")
        .env("OAI_KEY", KEY)
        .output()
        .unwrap();
    (dir, out)
}

fn responses(dir: &TestDir) -> Vec<Value> {
    jsonl(&dir.path().join("out/responses.jsonl"))
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn error_kind(r: &Value) -> &str {
    r["error"]["kind"].as_str().unwrap_or("")
}

#[test]
fn done_without_finish_reason_is_truncated_retried_and_keeps_its_text() {
    let sim = sim("no_finish=1");
    for api in ["chat", "completions"] {
        let (dir, out) = run(&sim.openai_base_url(), 2, &format!("api = \"{api}\""));
        let recs = responses(&dir);
        assert_eq!(recs.len(), 2, "{api}: {}", stderr(&out));
        for r in &recs {
            assert_eq!(error_kind(r), "truncated", "{api}: {r}");
            assert_eq!(r["attempts"], 3, "{api}: retried like a torn stream: {r}");
            assert!(
                !r["output"].as_str().unwrap_or("").is_empty(),
                "{api}: the text is kept: {r}"
            );
            assert!(r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("no finish_reason"));
        }
    }
}

#[test]
fn missing_usage_is_estimated_and_marked_never_zero() {
    let sim = sim("no_usage=1");
    let (dir, out) = run(&sim.openai_base_url(), 3, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let recs = responses(&dir);
    assert_eq!(recs.len(), 3);
    for r in &recs {
        assert_eq!(r["tokens_estimated"], true, "{r}");
        assert!(r["prompt_tokens"].as_u64().unwrap() > 0, "{r}");
        assert!(r["completion_tokens"].as_u64().unwrap() > 0, "{r}");
    }
    // With usage sent, the field is absent (old records stay byte-identical).
    let plain = self::sim("");
    let (dir, _) = run(&plain.openai_base_url(), 1, "");
    let r = &responses(&dir)[0];
    assert!(r.get("tokens_estimated").is_none(), "{r}");
    assert!(r.get("invalid_utf8").is_none(), "{r}");
}

#[test]
fn a_50_mb_answer_stops_at_max_answer_bytes() {
    let sim = sim("huge=50000000");
    let (dir, out) = run(&sim.openai_base_url(), 1, "");
    let recs = responses(&dir);
    assert_eq!(recs.len(), 1, "{}", stderr(&out));
    let r = &recs[0];
    assert_eq!(error_kind(r), "too_large", "{}", r["error"]);
    assert_eq!(
        r["attempts"], 1,
        "the same request gets the same answer: not retried"
    );
    let output = r["output"].as_str().unwrap();
    assert!(
        output.len() <= 1 << 20 && output.len() > (1 << 20) - 64,
        "first bytes kept up to 1 MiB: {}",
        output.len()
    );
    let size = std::fs::metadata(dir.path().join("out/responses.jsonl"))
        .unwrap()
        .len();
    assert!(size < 2 << 20, "responses.jsonl is {size} bytes");
}

#[test]
fn invalid_utf8_is_kept_decoded_and_flagged() {
    let sim = sim("bad_utf8=1");
    let (dir, out) = run(&sim.openai_base_url(), 2, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for r in responses(&dir) {
        assert_eq!(r["invalid_utf8"], true, "{r}");
        assert!(r["output"].as_str().unwrap().contains('\u{fffd}'), "{r}");
        assert!(r["error"].is_null(), "{r}");
    }
    // The summary and the report's Errors table count them.
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        summary["models"]["m"]["errors"]["n_invalid_utf8"], 2,
        "{summary}"
    );
    let report = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(
        report.contains("invalid UTF-8"),
        "Errors table lacks the column"
    );
}

/// base64 (RFC 4648), to look for the encoded secrets a server might echo.
fn b64(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in s.as_bytes().chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..=c.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn all_text(dir: &std::path::Path, out: &std::process::Output) -> Vec<(String, String)> {
    let mut texts = vec![
        (
            "stdout".into(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ),
        ("stderr".into(), stderr(out)),
    ];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != "evalrun.toml") {
                let t = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
                texts.push((p.display().to_string(), t));
            }
        }
    }
    texts
}

#[test]
fn credentials_in_base_url_and_echoed_authorization_never_reach_a_file() {
    let sim = sim("echo_auth=1");
    let url = sim
        .openai_base_url()
        .replacen("http://", &format!("http://bob:{PASSWORD}@"), 1);
    let (dir, out) = run(&url, 2, "retries = 0");
    let recs = responses(&dir);
    assert_eq!(recs.len(), 2, "{}", stderr(&out));
    let message = recs[0]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("authorization: Basic ***")
            && message.contains("authorization: Bearer ***"),
        "the echo is kept, its values scrubbed: {message}"
    );
    let secrets = [
        PASSWORD.to_string(),
        KEY.to_string(),
        b64(&format!("bob:{PASSWORD}")),
        b64(KEY).trim_end_matches('=').to_string(),
    ];
    for (name, text) in all_text(dir.path(), &out) {
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{name} holds a secret ({s})");
        }
    }
    let manifest = std::fs::read_to_string(dir.path().join("out/manifest.json")).unwrap();
    assert!(manifest.contains("http://bob:***@127.0.0.1"), "{manifest}");

    let models = dir
        .evalrun()
        .arg("models")
        .env("OAI_KEY", KEY)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&models.stdout),
        stderr(&models)
    );
    assert!(text.contains("bob:***@"), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
}

#[test]
fn a_retry_after_beyond_the_cap_is_recorded() {
    // One request a 1000 s: the second is refused with `Retry-After: 600`.
    let sim = sim("rate=0.001,retry_after=600");
    let (dir, out) = run(&sim.openai_base_url(), 2, "retries = 0\nconcurrency = 2");
    let recs = responses(&dir);
    assert_eq!(recs.len(), 2, "{}", stderr(&out));
    let limited: Vec<&Value> = recs
        .iter()
        .filter(|r| error_kind(r) == "rate_limited")
        .collect();
    assert_eq!(limited.len(), 1, "{recs:?}");
    let message = limited[0]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Retry-After asked for 600 s; evalrun waits at most 120 s"),
        "{message}"
    );
}

#[test]
fn qianfan_refuses_an_assistant_first_chat_naming_its_line_openai_sends_it() {
    let sim = sim("");
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &format!(
            "[models.qf]\nprovider = \"qianfan\"\nendpoint = \"ernie_speed\"\napi_key_env = \"QF_AK\"\nsecret_key_env = \"QF_SK\"\n\n[models.oa]\nprovider = \"openai\"\nbase_url = \"{}\"\nmodel = \"ernie-speed\"\n",
            sim.openai_base_url()
        ),
    );
    dir.write(
        "set.jsonl",
        "{\"id\": \"ok\", \"prompt\": \"I like football.\"}\n{\"id\": \"teacher-first\", \"messages\": [{\"role\": \"assistant\", \"content\": \"Hello! What did you do today?\"}, {\"role\": \"user\", \"content\": \"I go to park.\"}]}\n",
    );
    let out = common::rules_only_run(&dir, "qf,oa")
        .env("QF_AK", "ak")
        .env("QF_SK", "sk")
        .env("QIANFAN_BASE_URL", sim.base_url())
        .output()
        .unwrap();
    let recs = responses(&dir);
    assert_eq!(recs.len(), 4, "{}", stderr(&out));
    let find = |m: &str| {
        recs.iter()
            .find(|r| r["model"] == m && r["item_id"] == "teacher-first")
            .unwrap()
    };
    let qf = find("qf");
    assert_eq!(error_kind(qf), "bad_request", "{qf}");
    let message = qf["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("eval set line 2: "), "{message}");
    assert!(message.contains("open with a user turn"), "{message}");
    assert!(find("oa")["error"].is_null());
}

#[test]
fn the_sdks_extra_routes_answer() {
    let sim = sim("");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let list: Value = http
            .get(format!("{}/models", sim.openai_base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["object"], "list");
        let ids: Vec<&str> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&"ernie-speed"), "{ids:?}");

        let token: Value = http
            .post(format!(
                "{}/oauth/2.0/token?grant_type=client_credentials&client_id=ak&client_secret=sk",
                sim.base_url()
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = token["access_token"].as_str().unwrap();
        let answer: Value = http
            .post(format!(
                "{}/rpc/2.0/ai_custom/v1/wenxinworkshop/completions/ernie_speed?access_token={token}",
                sim.base_url()
            ))
            .json(&serde_json::json!({"prompt": "I like football."}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            !answer["result"].as_str().unwrap_or("").is_empty(),
            "{answer}"
        );
        assert!(answer["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    });
}
