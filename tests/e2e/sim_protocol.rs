//! The simulator, driven over loopback with plain reqwest (and, for the chunk framing, a raw TCP
//! socket): what a real SDK relies on, checked on the wire.

use std::time::{Duration, Instant};

use evalrun::sim::{start, Faults, SimConfig, SimServer, SimStats};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn fast() -> SimConfig {
    SimConfig {
        time_scale: 0.0,
        ..SimConfig::default()
    }
}

fn with_faults(spec: &str) -> SimConfig {
    SimConfig {
        faults: spec.parse::<Faults>().unwrap(),
        ..fast()
    }
}

const TUTOR_TURN: &str = "你是一位英文口语老师，要和【中国高中水平】的英语学生进行口语练习。\n\n## 下面是本次交流的内容\n[主题介绍]\n两位同学对一场激动人心的篮球比赛进行回顾和分析。\n\n[对话历史]\nteacher: That was an amazing basketball game, wasn't it?\nstudent: 当然，这非常令人兴奋，而结果完全出乎意料！\n";

async fn token(c: &reqwest::Client, s: &SimServer) -> String {
    let r: Value = c
        .post(format!(
            "{}/oauth/2.0/token?grant_type=client_credentials&client_id=ak&client_secret=sk",
            s.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_string()
}

fn v1_url(s: &SimServer, endpoint: &str, token: &str) -> String {
    format!(
        "{}/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint}?access_token={token}",
        s.base_url()
    )
}

fn user(content: &str) -> Value {
    json!({"role": "user", "content": content})
}

/// The `data: ` payloads of an SSE body, asserting the exact `data: {…}\n\n` framing.
fn events(body: &str) -> Vec<String> {
    assert!(
        body.ends_with("\n\n"),
        "body must end with a blank line: {body:?}"
    );
    body.trim_end_matches("\n\n")
        .split("\n\n")
        .map(|e| {
            assert!(!e.contains('\n'), "one line per event: {e:?}");
            e.strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not `data: `: {e:?}"))
                .to_string()
        })
        .collect()
}

async fn stats(c: &reqwest::Client, s: &SimServer) -> SimStats {
    c.get(format!("{}/sim/stats", s.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn token_endpoint_issues_and_refuses() {
    let s = start(SimConfig {
        credentials: Some(("good-ak".into(), "good-sk".into())),
        ..fast()
    })
    .await
    .unwrap();
    let c = reqwest::Client::new();
    let url = |ak: &str, sk: &str| {
        format!(
            "{}/oauth/2.0/token?grant_type=client_credentials&client_id={ak}&client_secret={sk}",
            s.base_url()
        )
    };
    let ok: Value = c
        .post(url("good-ak", "good-sk"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(ok["access_token"].as_str().unwrap().starts_with("24."));
    assert_eq!(ok["expires_in"], 2592000);
    let bad_ak: Value = c
        .post(url("x", "good-sk"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        bad_ak,
        json!({"error": "invalid_client", "error_description": "unknown client id"})
    );
    let bad_sk: Value = c
        .post(url("good-ak", "x"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bad_sk["error_description"], "Client authentication failed");
    let st = stats(&c, &s).await;
    assert_eq!(st.auth.tokens_issued, 1);
    assert_eq!(st.auth.bad_credentials, 2);
    s.shutdown().await;
}

#[tokio::test]
async fn v1_stream_is_chunked_data_events_ending_with_is_end() {
    let s = start(fast()).await.unwrap();
    let c = reqwest::Client::new();
    let t = token(&c, &s).await;
    let r = c
        .post(v1_url(&s, "ernie_speed", &t))
        .json(&json!({"messages": [user(TUTOR_TURN)], "stream": true,
                      "extra_parameters": {"request_source": "qianfan_py_sdk_v0.4.12.3"}}))
        .header("Request_id", "sdk-py-0.4.12.3-abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert!(h["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    assert_eq!(h["transfer-encoding"], "chunked");
    assert!(h.get("content-length").is_none());
    for name in [
        "x-ratelimit-limit-requests",
        "x-ratelimit-limit-tokens",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-remaining-tokens",
    ] {
        assert!(h.get(name).is_some(), "{name}");
    }
    let body = r.text().await.unwrap();
    assert!(!body.contains("[DONE]"));
    let evs: Vec<Value> = events(&body)
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert!(evs.len() > 10);
    let mut text = String::new();
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e["sentence_id"], i);
        assert_eq!(e["object"], "chat.completion");
        assert_eq!(e["is_end"], i == evs.len() - 1);
        text.push_str(e["result"].as_str().unwrap());
    }
    let last = evs.last().unwrap();
    assert_eq!(last["usage"]["completion_tokens"], evs.len());
    assert!(text.contains("\"Reply\""), "{text}");
    s.shutdown().await;
}

/// Each SSE event is its own HTTP chunk (what makes the Qianfan SDK's `iter_lines` see it at once).
#[tokio::test]
async fn v1_stream_sends_one_chunk_per_event() {
    let s = start(fast()).await.unwrap();
    let c = reqwest::Client::new();
    let t = token(&c, &s).await;
    let body = json!({"messages": [user("你好，请介绍一下你自己")], "stream": true}).to_string();
    let req = format!(
        "POST /rpc/2.0/ai_custom/v1/wenxinworkshop/chat/ernie_speed?access_token={t} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        s.addr,
        body.len()
    );
    let mut sock = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    sock.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    sock.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, mut rest) = raw.split_once("\r\n\r\n").unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    let mut chunks = Vec::new();
    loop {
        let (size, after) = rest.split_once("\r\n").unwrap();
        let n = usize::from_str_radix(size, 16).unwrap();
        if n == 0 {
            break;
        }
        chunks.push(&after[..n]);
        rest = &after[n + 2..];
    }
    assert!(chunks.len() > 3);
    for ch in &chunks {
        assert!(ch.starts_with("data: {") && ch.ends_with("}\n\n"), "{ch:?}");
        assert_eq!(ch.matches("data: ").count(), 1);
    }
    s.shutdown().await;
}

#[tokio::test]
async fn v1_non_stream_answer_has_the_documented_fields() {
    let s = start(fast()).await.unwrap();
    let c = reqwest::Client::new();
    let t = token(&c, &s).await;
    let r = c
        .post(v1_url(&s, "completions_pro", &t))
        .json(&json!({"messages": [user(TUTOR_TURN)], "stream": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().await.unwrap();
    for k in [
        "id",
        "object",
        "created",
        "result",
        "is_truncated",
        "need_clear_history",
        "finish_reason",
        "usage",
    ] {
        assert!(v.get(k).is_some(), "{k} in {v}");
    }
    assert_eq!(v["finish_reason"], "normal");
    assert!(v["id"].as_str().unwrap().starts_with("as-"));
    let u = &v["usage"];
    assert_eq!(
        u["total_tokens"].as_u64().unwrap(),
        u["prompt_tokens"].as_u64().unwrap() + u["completion_tokens"].as_u64().unwrap()
    );
    s.shutdown().await;
}

#[tokio::test]
async fn v1_errors_are_http_200_json_also_when_streaming() {
    let s = start(fast()).await.unwrap();
    let c = reqwest::Client::new();
    for stream in [false, true] {
        let r = c
            .post(v1_url(&s, "ernie_speed", "24.not-a-token"))
            .json(&json!({"messages": [user("hi")], "stream": stream}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error_code"], 110);
        assert_eq!(v["error_msg"], "Access token invalid or no longer valid");
    }
    let t = token(&c, &s).await;
    let v: Value = c
        .post(v1_url(&s, "no_such_endpoint", &t))
        .json(&json!({"messages": [user("hi")]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["error_code"], 3);
    assert_eq!(v["error_msg"], "Unsupported openapi method");
    s.shutdown().await;
}

#[tokio::test]
async fn v1_even_messages_are_336003() {
    let s = start(fast()).await.unwrap();
    let c = reqwest::Client::new();
    let t = token(&c, &s).await;
    let r = c
        .post(v1_url(&s, "ernie_speed", &t))
        .json(&json!({"messages": [user("hi"), {"role": "assistant", "content": "hello"}], "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error_code"], 336003);
    assert_eq!(
        v["error_msg"],
        "the length of messages must be an odd number"
    );
    assert_eq!(stats(&c, &s).await.models["ernie-speed"].invalid, 1);
    s.shutdown().await;
}

#[tokio::test]
async fn v1_tokens_expire_every_n_calls_and_refresh() {
    let s = start(with_faults("expire_every=2")).await.unwrap();
    let c = reqwest::Client::new();
    let t = token(&c, &s).await;
    let call = |t: String| {
        let c = c.clone();
        let url = v1_url(&s, "ernie_speed", &t);
        async move {
            c.post(url)
                .json(&json!({"messages": [user("hi")]}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert!(call(t.clone()).await.get("result").is_some());
    assert!(call(t.clone()).await.get("result").is_some());
    assert_eq!(call(t.clone()).await["error_code"], 111);
    assert_eq!(call(t.clone()).await["error_code"], 111);
    let fresh = token(&c, &s).await;
    assert_ne!(fresh, t);
    assert!(call(fresh).await.get("result").is_some());
    let st = stats(&c, &s).await;
    assert_eq!(st.auth.token_refreshes, 1);
    assert_eq!(st.auth.expired_token, 2);
    assert_eq!(st.models["ernie-speed"].faults.token_expired, 2);
    s.shutdown().await;
}

#[tokio::test]
async fn v1_rate_limit_is_336501_or_18_in_a_200_body() {
    for (spec, code) in [("rate=1", 336501), ("rate=1,rate_code=18", 18)] {
        let s = start(with_faults(spec)).await.unwrap();
        let c = reqwest::Client::new();
        let t = token(&c, &s).await;
        let mut codes = Vec::new();
        for _ in 0..3 {
            let v: Value = c
                .post(v1_url(&s, "ernie_speed", &t))
                .json(&json!({"messages": [user("hi")]}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            codes.push(v.get("error_code").cloned());
        }
        assert_eq!(codes[0], None);
        assert_eq!(codes[1], Some(json!(code)));
        assert_eq!(stats(&c, &s).await.models["ernie-speed"].rate_limited, 2);
        s.shutdown().await;
    }
}

#[tokio::test]
async fn openai_stream_role_first_usage_chunk_and_done() {
    let s = start(fast()).await.unwrap();
    let c = reqwest::Client::new();
    let r = c
        .post(format!("{}/chat/completions", s.openai_base_url()))
        .bearer_auth("anything")
        .header("x-stainless-retry-count", "0")
        .json(
            &json!({"model": "sft-full-e6-lr3e-5", "messages": [user(TUTOR_TURN)],
                      "stream": true, "stream_options": {"include_usage": true}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["transfer-encoding"], "chunked");
    assert!(r.headers().get("x-ratelimit-remaining-requests").is_some());
    let evs = events(&r.text().await.unwrap());
    assert_eq!(evs.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = evs[..evs.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let first = &chunks[0];
    assert_eq!(first["object"], "chat.completion.chunk");
    assert_eq!(
        first["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    let completion = usage["usage"]["completion_tokens"].as_u64().unwrap();
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let content: Vec<&str> = chunks[1..chunks.len() - 2]
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(content.len() as u64, completion);
    assert!(content.iter().all(|p| !p.is_empty()));
    assert!(content.concat().contains("\"Reply\""));
    s.shutdown().await;
}

#[tokio::test]
async fn openai_non_stream_and_determinism_across_servers() {
    let ask = |s: &SimServer| {
        reqwest::Client::new()
            .post(format!("{}/chat/completions", s.openai_base_url()))
            .json(&json!({"model": "ERNIE-Speed-8K", "messages": [user(TUTOR_TURN)], "max_tokens": 2048}))
            .send()
    };
    let a = start(fast()).await.unwrap();
    let b = start(fast()).await.unwrap();
    let va: Value = ask(&a).await.unwrap().json().await.unwrap();
    let vb: Value = ask(&b).await.unwrap().json().await.unwrap();
    assert_eq!(va["object"], "chat.completion");
    assert_eq!(va["model"], "ERNIE-Speed-8K");
    assert_eq!(va["choices"][0]["message"]["role"], "assistant");
    assert_eq!(
        va["choices"][0]["message"]["content"],
        vb["choices"][0]["message"]["content"]
    );
    // The same request again is a new sample.
    let mut seen = std::collections::HashSet::new();
    for _ in 0..6 {
        let v: Value = ask(&a).await.unwrap().json().await.unwrap();
        seen.insert(
            v["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert!(seen.len() > 1);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn openai_429_with_retry_after_above_the_rate() {
    let s = start(with_faults("ernie-4.0:rate=2")).await.unwrap();
    let c = reqwest::Client::new();
    let mut statuses = Vec::new();
    let mut retry = None;
    for _ in 0..4 {
        let r = c
            .post(format!("{}/chat/completions", s.openai_base_url()))
            .json(&json!({"model": "ernie-4.0", "messages": [user("hi")]}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            retry = Some((
                r.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap(),
                r.headers()["retry-after-ms"]
                    .to_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap(),
            ));
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["error"]["code"], "rate_limit_exceeded");
            assert!(v["error"]["message"].is_string());
        }
    }
    assert_eq!(&statuses[..2], &[200, 200]);
    assert!(statuses[2..].iter().all(|s| *s == 429), "{statuses:?}");
    let (secs, ms) = retry.unwrap();
    assert!((1..=120).contains(&secs));
    assert!((1..=1000).contains(&ms));
    // Other models are not limited.
    let r = c
        .post(format!("{}/chat/completions", s.openai_base_url()))
        .json(&json!({"model": "ernie-speed", "messages": [user("hi")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(stats(&c, &s).await.models["ernie-4.0"].rate_limited, 2);
    s.shutdown().await;
}

#[tokio::test]
async fn openai_unknown_model_is_404_model_not_found() {
    let s = start(fast()).await.unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/chat/completions", s.openai_base_url()))
        .json(&json!({"model": "gpt-9", "messages": [user("hi")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "model_not_found");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(v["error"]["message"].as_str().unwrap().contains("gpt-9"));
    s.shutdown().await;
}

#[tokio::test]
async fn legacy_completions_honour_stop() {
    let s = start(fast()).await.unwrap();
    let c = reqwest::Client::new();
    let url = format!("{}/completions", s.openai_base_url());
    let v: Value = c
        .post(&url)
        .json(&json!({"model": "sft-full-e3-lr3e-5", "prompt": "宋,发射激光,艰难 ->\n", "stop": ["。"], "max_tokens": 500}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["object"], "text_completion");
    let text = v["choices"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with(" \n\n") && text.contains("宋") && !text.contains('。'),
        "{text:?}"
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    // Without stop the story goes on, and the legacy default of 16 tokens cuts it.
    let v: Value = c
        .post(&url)
        .json(&json!({"model": "sft-full-e3-lr3e-5", "prompt": "宋,发射激光,艰难 ->\n"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    assert_eq!(v["usage"]["completion_tokens"], 16);
    let r = c
        .post(&url)
        .json(&json!({"model": "sft-full-e3-lr3e-5", "prompt": "唐,隐形,轻松 ->", "stop": "。", "stream": true, "max_tokens": 500}))
        .send()
        .await
        .unwrap();
    let evs = events(&r.text().await.unwrap());
    assert_eq!(evs.last().unwrap(), "[DONE]");
    let text: String = evs[..evs.len() - 1]
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(e).unwrap()["choices"][0]["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(!text.is_empty() && !text.contains('。'));
    s.shutdown().await;
}

#[tokio::test]
async fn qianfan_v2_route_ignores_appid_and_checks_turns() {
    let s = start(fast()).await.unwrap();
    let c = reqwest::Client::new();
    let url = format!("{}/v2/chat/completions", s.base_url());
    let v: Value = c
        .post(&url)
        .header("appid", "app-123")
        .bearer_auth("bce-v3/ALTAK-x/y")
        .json(&json!({"model": "ernie-speed-8k", "messages": [user("你好")]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["need_clear_history"], false);
    assert!(v["id"].as_str().unwrap().starts_with("as-"));
    let r = c
        .post(&url)
        .json(&json!({"model": "ernie-4.0-8k", "messages": [user("a"), {"role": "assistant", "content": "b"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid_argument");
    s.shutdown().await;
}

#[tokio::test]
async fn faults_tear_cut_error500_overload_are_injected_and_counted() {
    let c = reqwest::Client::new();
    // Tear: the body breaks off; the client sees a transport error, never is_end.
    let s = start(with_faults("tear=1")).await.unwrap();
    let t = token(&c, &s).await;
    let r = c
        .post(v1_url(&s, "ernie_speed", &t))
        .json(&json!({"messages": [user(TUTOR_TURN)], "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.is_err());
    assert_eq!(stats(&c, &s).await.models["ernie-speed"].faults.tear, 1);
    s.shutdown().await;

    // Cut: a clean end before [DONE].
    let s = start(with_faults("cut=1")).await.unwrap();
    let body = c
        .post(format!("{}/chat/completions", s.openai_base_url()))
        .json(&json!({"model": "ernie-speed", "messages": [user(TUTOR_TURN)], "stream": true}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!events(&body).contains(&"[DONE]".to_string()));
    assert_eq!(stats(&c, &s).await.faults_total(), 1);
    s.shutdown().await;

    // 500 on OpenAI, 336100 on v1 (per-model settings).
    let s = start(with_faults("ernie-speed:error500=1,ernie-4.0:overload=1"))
        .await
        .unwrap();
    let r = c
        .post(format!("{}/chat/completions", s.openai_base_url()))
        .json(&json!({"model": "ernie-speed", "messages": [user("hi")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["type"],
        "server_error"
    );
    let t = token(&c, &s).await;
    let v: Value = c
        .post(v1_url(&s, "completions_pro", &t))
        .json(&json!({"messages": [user("hi")], "stream": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["error_code"], 336100);
    let st = stats(&c, &s).await;
    assert_eq!(st.models["ernie-speed"].faults.error500, 1);
    assert_eq!(st.models["ernie-4.0"].faults.overload, 1);
    s.shutdown().await;
}

#[tokio::test]
async fn time_scale_paces_the_stream_and_stalls_pause_it() {
    // ERNIE-4.0 at 1/20 speed: first token ~58 ms, ~4.5 ms per token.
    let s = start(SimConfig {
        time_scale: 0.05,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let c = reqwest::Client::new();
    let sent = Instant::now();
    let mut r = c
        .post(format!("{}/chat/completions", s.openai_base_url()))
        .json(&json!({"model": "ernie-4.0", "messages": [user("Tell me something.")], "stream": true}))
        .send()
        .await
        .unwrap();
    let mut first_content = None;
    let mut buf = String::new();
    while let Some(chunk) = r.chunk().await.unwrap() {
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
        if first_content.is_none()
            && buf.contains("\"content\":\"")
            && buf.matches("data: ").count() > 1
        {
            first_content = Some(sent.elapsed());
        }
    }
    let total = sent.elapsed();
    let ttft = first_content.unwrap();
    assert!(ttft >= Duration::from_millis(15), "ttft {ttft:?}");
    assert!(total > ttft, "total {total:?} ttft {ttft:?}");
    s.shutdown().await;

    let s = start(SimConfig {
        time_scale: 0.001,
        faults: "stall=1,stall_ms=300000".parse().unwrap(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let sent = Instant::now();
    let body = c
        .post(format!("{}/chat/completions", s.openai_base_url()))
        .json(&json!({"model": "ernie-speed", "messages": [user("Tell me something.")], "stream": true}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        sent.elapsed() >= Duration::from_millis(300),
        "{:?}",
        sent.elapsed()
    );
    assert!(body.ends_with("data: [DONE]\n\n"));
    assert_eq!(stats(&c, &s).await.models["ernie-speed"].faults.stall, 1);
    s.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let s = start(fast()).await.unwrap();
    let addr = s.addr;
    s.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// Manual helper for checking the real Python SDKs against the simulator:
/// `SIM_ADDR_FILE=/tmp/sim.addr SIM_SERVE_SECS=120 SIM_FAULTS=expire_every=2 SIM_TIME_SCALE=0.02
///  cargo test --test sim_protocol -- --ignored --nocapture serve_for_manual_sdk_checks`
/// then point `QIANFAN_BASE_URL` / `OpenAI(base_url=…/v1)` at the address written to the file.
#[tokio::test]
#[ignore = "manual: serves the simulator for SDK checks"]
async fn serve_for_manual_sdk_checks() {
    let env = |k: &str| std::env::var(k).ok();
    let s = start(SimConfig {
        time_scale: env("SIM_TIME_SCALE").map_or(0.02, |v| v.parse().unwrap()),
        faults: env("SIM_FAULTS").map_or_else(Faults::none, |v| v.parse().unwrap()),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    println!("simulator at {}", s.base_url());
    if let Some(path) = env("SIM_ADDR_FILE") {
        std::fs::write(path, s.base_url()).unwrap();
    }
    let secs = env("SIM_SERVE_SECS").map_or(60, |v| v.parse().unwrap());
    tokio::time::sleep(Duration::from_secs(secs)).await;
    println!("{}", serde_json::to_string_pretty(&s.stats()).unwrap());
    s.shutdown().await;
}

#[tokio::test]
async fn unknown_path_is_a_json_404_and_models_are_listed() {
    let s = start(fast()).await.unwrap();
    let c = reqwest::Client::new();
    let r = c
        .post(format!("{}/v1/v1/chat/completions", s.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/v1/v1/chat/completions"));
    let models: Vec<evalrun::sim::ModelInfo> = c
        .get(format!("{}/sim/models", s.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models, evalrun::sim::models());
    assert!(models.iter().any(|m| m.v1_endpoint == "sft_full_e6_lr3e5"));
    s.shutdown().await;
}

/// What a model says depends on the conversation and the sample, not on the wire: the v1 and
/// OpenAI routes give the same answer, and a retry after a server error gets the answer the failed
/// attempt would have given (so injected faults never move a run's scores).
#[tokio::test]
async fn answers_depend_on_the_conversation_not_the_protocol_or_faults() {
    async fn v1_answer(c: &reqwest::Client, s: &SimServer) -> (reqwest::StatusCode, Value) {
        let t = token(c, s).await;
        let r = c
            .post(v1_url(s, "ernie_speed", &t))
            .json(&json!({"messages": [user(TUTOR_TURN)]}))
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }
    let c = reqwest::Client::new();
    let s = start(fast()).await.unwrap();
    let (_, v1) = v1_answer(&c, &s).await;
    s.shutdown().await;
    // A fresh server, so that this is the first sample again.
    let s = start(fast()).await.unwrap();
    let oa: Value = c
        .post(format!("{}/chat/completions", s.openai_base_url()))
        .json(&json!({"model": "ernie-speed", "messages": [user(TUTOR_TURN)]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reference = v1["result"].as_str().unwrap().to_string();
    assert_eq!(oa["choices"][0]["message"]["content"], reference.as_str());
    s.shutdown().await;

    let s = start(with_faults("error500=0.9")).await.unwrap();
    let mut answer = None;
    for _ in 0..300 {
        let (status, body) = v1_answer(&c, &s).await;
        if status.is_success() && body.get("error_code").is_none() {
            answer = body["result"].as_str().map(str::to_string);
            break;
        }
    }
    assert!(stats(&c, &s).await.models["ernie-speed"].faults.error500 > 0);
    assert_eq!(answer.as_deref(), Some(reference.as_str()));
    // A second sample of the same conversation is a new answer.
    let mut again = None;
    for _ in 0..300 {
        let (status, body) = v1_answer(&c, &s).await;
        if status.is_success() && body.get("error_code").is_none() {
            again = body["result"].as_str().map(str::to_string);
            break;
        }
    }
    assert!(again.is_some_and(|a| a != reference));
    s.shutdown().await;
}

#[tokio::test]
async fn scripted_faults_hit_the_first_n_arrivals_then_answer_the_scripted_reply() {
    let s = start(with_faults(
        "@BUSY:status=429,@BUSY:first=2,@BUSY:retry_after_ms=1500,@BUSY:reply=a%2C b,@V1:v1_error=18,@V1:first=1",
    ))
    .await
    .unwrap();
    let c = reqwest::Client::new();
    let ask = || {
        c.post(format!("{}/chat/completions", s.openai_base_url()))
            .header("authorization", "Bearer k-1")
            .json(&json!({"model": "ernie-speed", "messages": [user("BUSY now")]}))
            .send()
    };
    for _ in 0..2 {
        let r = ask().await.unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "2");
        assert_eq!(r.headers()["retry-after-ms"], "1500");
    }
    let v: Value = ask().await.unwrap().json().await.unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "a, b");
    // Another prompt with the marker counts its own arrivals.
    let other = c
        .post(format!("{}/chat/completions", s.openai_base_url()))
        .json(&json!({"model": "ernie-speed", "messages": [user("BUSY later")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 429);

    let t = token(&c, &s).await;
    let v1 = |stream: bool| {
        c.post(v1_url(&s, "ernie_speed", &t))
            .json(&json!({"messages": [user("V1 hi")], "stream": stream}))
            .send()
    };
    let v: Value = v1(false).await.unwrap().json().await.unwrap();
    assert_eq!(
        (v["error_code"].as_i64(), v["error_msg"].as_str()),
        (Some(18), Some("Open api qps request limit reached"))
    );
    let v: Value = v1(false).await.unwrap().json().await.unwrap();
    assert!(v["result"].is_string(), "{v}");

    let st = stats(&c, &s).await;
    assert_eq!(st.requests_with("BUSY now"), 3);
    assert_eq!(st.requests_with("V1"), 2);
    assert_eq!(st.requests[0].authorization.as_deref(), Some("Bearer k-1"));
    assert_eq!(st.requests[0].model, "ernie-speed");
    assert_eq!(st.requests[4].model, "ernie_speed");
    s.shutdown().await;
}

#[tokio::test]
async fn scripted_awkward_framing_tear_and_pacing_on_the_wire() {
    let s = start(with_faults(
        "@ODD:sse=awkward,@ODD:reply=你好，世界😀,@TORN:tear=1,@TORN:reply=one two three four five six,@PACED:ttft_ms=120,@PACED:delay_ms=30,@PACED:reply=x y z",
    ))
    .await
    .unwrap();
    let c = reqwest::Client::new();
    let chat = |prompt: &'static str| {
        c.post(format!("{}/chat/completions", s.openai_base_url()))
            .json(&json!({"model": "ernie-speed", "stream": true, "messages": [user(prompt)]}))
            .send()
    };
    let body = chat("ODD").await.unwrap().text().await.unwrap();
    assert!(
        body.starts_with(": keep-alive\r\n\r\nid: 0\r\ndata:{"),
        "{body:?}"
    );
    assert!(body.contains("\nevent: message\ndata: {") && body.contains(": note\rdata:"));
    assert!(body.contains("[DONE]"));
    let text: String = body
        .split(['\r', '\n'])
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|p| serde_json::from_str::<Value>(p.trim_start()).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(text, "你好，世界😀");

    let torn = chat("TORN").await.unwrap().text().await;
    assert!(torn.is_err(), "the connection is aborted mid-body");
    assert_eq!(stats(&c, &s).await.models["ernie-speed"].faults.tear, 1);

    // time_scale 0, yet a scripted pace is real time.
    let t0 = Instant::now();
    let body = chat("PACED").await.unwrap().text().await.unwrap();
    let took = t0.elapsed();
    assert!(body.contains("[DONE]"));
    assert!(took >= Duration::from_millis(180), "{took:?}");
    let st = stats(&c, &s).await;
    let paced = st.requests.iter().find(|r| r.prompt == "PACED").unwrap();
    let first = paced.first_content_us.unwrap();
    assert!((120_000..400_000).contains(&first), "{first} µs");
    s.shutdown().await;
}

#[test]
fn scripted_fault_specs_round_trip_and_name_bad_items() {
    let f: Faults = "tear=0.1,@A:reply=x%2Cy,@A:first=2,@B:sse=awkward"
        .parse()
        .unwrap();
    assert_eq!(f.scripts.len(), 2);
    assert_eq!(f.scripts[0].reply.as_deref(), Some("x,y"));
    assert_eq!(f.to_string().parse::<Faults>().unwrap(), f);
    for (spec, needle) in [
        ("@A:nope=1", "unknown key"),
        ("@A", "@MARKER:KEY=VALUE"),
        ("@:tear=1", "empty marker"),
        ("@A:status=200", "400-599"),
        ("@A:sse=odd", "awkward or tidy"),
    ] {
        let e = spec.parse::<Faults>().unwrap_err().to_string();
        assert!(e.contains(needle), "{spec}: {e}");
    }
}
