//! Fuzzing of what servers send, on stable Rust (issue 14): the SSE decoder and the OpenAI and
//! Qianfan chunk, whole-answer and error-body parsers get arbitrary bytes and mutations of real
//! events, split at arbitrary points. No panic; every rejection is a `Failure` value. `cargo test`
//! runs a few cases; `scripts/fuzz.sh` runs `PROPTEST_CASES` in `--release`. (The file-format
//! parsers are fuzzed from `tests/fuzz_parsers.rs`.)

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::Config;

use super::sse::SseDecoder;
use super::{Chunk, Wire};
use crate::inputs::config::{Config as EvalConfig, ResolvedModel};
use crate::records::ErrorKind;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

fn model(toml: &str) -> ResolvedModel {
    let c = EvalConfig::parse(Path::new("c.toml"), toml).unwrap();
    let env = |_: &str| Some("value".to_string());
    c.resolve(&["m".into()], &env, &mut Default::default())
        .unwrap()
        .remove(0)
}

fn wires() -> Vec<Box<dyn Wire>> {
    let openai = |api: &str| {
        model(&format!(
            "[models.m]\nprovider = \"openai\"\napi = \"{api}\"\nbase_url = \"http://h/v1\"\nmodel = \"x\"\n"
        ))
    };
    let qianfan = model("[models.m]\nprovider = \"qianfan\"\nendpoint = \"ernie_speed\"\nbase_url = \"http://h/\"\napi_key_env = \"A\"\nsecret_key_env = \"S\"\n");
    vec![
        Box::new(super::openai::OpenAi::new(&openai("chat"))),
        Box::new(super::openai::OpenAi::new(&openai("completions"))),
        Box::new(super::qianfan::Qianfan::new(&qianfan)),
    ]
}

/// Real events of both protocols (OpenAI chat and legacy, Qianfan v1, errors of each).
const EVENTS: &[&str] = &[
    r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"你好"},"finish_reason":null}],"usage":null}"#,
    r#"{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
    r#"{"id":"c","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#,
    r#"{"id":"c","object":"text_completion","choices":[{"text":" world","index":0,"logprobs":null,"finish_reason":"length"}]}"#,
    r#"{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
    r#"{"error":{"message":"slow down","type":"rate_limit","code":"rate_limit_exceeded"}}"#,
    r#"{"sentence_id":0,"is_end":false,"result":"你好","need_clear_history":false,"usage":{"prompt_tokens":5,"completion_tokens":1}}"#,
    r#"{"sentence_id":1,"is_end":true,"is_truncated":true,"result":"","finish_reason":"length","usage":{"prompt_tokens":5,"completion_tokens":9}}"#,
    r#"{"error_code":336501,"error_msg":"Rate limit reached for RPM"}"#,
    r#"{"result":"","is_end":true,"need_clear_history":true,"ban_round":-1}"#,
    "[DONE]",
];

fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let edit = (
        any::<usize>(),
        prop::collection::vec(any::<u8>(), 0..4),
        0usize..8,
    );
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..256),
        3 => (prop::sample::select(EVENTS), prop::collection::vec(edit, 1..6)).prop_map(|(e, edits)| {
            let mut b = e.as_bytes().to_vec();
            for (at, ins, del) in edits {
                let p = if b.is_empty() { 0 } else { at % (b.len() + 1) };
                let end = (p + del).min(b.len());
                b.splice(p..end, ins);
            }
            b
        }),
    ]
}

/// An SSE body of mutated events, with some framing bytes thrown in.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let sep = prop::sample::select(vec![
        "\n\n",
        "\r\n\r\n",
        "\r\r",
        "\n",
        ": keep-alive\n",
        "event: x\n",
        "\n{",
        "",
    ]);
    prop::collection::vec((mutated(), sep), 0..8).prop_map(|parts| {
        let mut out = Vec::new();
        for (data, sep) in parts {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(&data);
            out.extend_from_slice(sep.as_bytes());
        }
        out
    })
}

fn check(c: Chunk) -> Result<(), TestCaseError> {
    if let Chunk::Failure(f) = c {
        prop_assert!(!f.message.is_empty() || f.kind == ErrorKind::Protocol);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// The decoder gives the same events however the body is split, and never panics.
    #[test]
    fn sse_decoder_never_panics_and_ignores_chunking(b in body(), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let whole = {
            let mut d = SseDecoder::new();
            let ev = d.push(&b);
            (ev, d.finish())
        };
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| if b.is_empty() { 0 } else { c % b.len() }).collect();
        cuts.sort_unstable();
        let mut d = SseDecoder::new();
        let mut ev = Vec::new();
        let mut prev = 0;
        for c in cuts {
            ev.extend(d.push(&b[prev..c]));
            prev = c;
        }
        ev.extend(d.push(&b[prev..]));
        prop_assert_eq!(ev, whole.0);
        prop_assert_eq!(d.finish(), whole.1);
    }

    #[test]
    fn chunk_parsers_never_panic(data in mutated(), status in 100u16..600) {
        let text = String::from_utf8_lossy(&data);
        for w in wires() {
            check(w.event(&text))?;
            check(w.json_answer(&text))?;
            let f = w.error_answer(status, &Default::default(), &text);
            prop_assert!(!f.message.is_empty() || text.trim().is_empty() || f.code.is_some());
        }
    }
}

/// A JSON value built from the keys the chunk parsers read, with leaves of every type.
fn event_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value};
    let leaf = prop::sample::select(vec![
        Value::Null,
        json!(true),
        json!(false),
        json!(0),
        json!(7),
        json!(-1),
        json!(1.5),
        json!("stop"),
        json!("你\n\"好"),
        json!(""),
    ]);
    let keys = prop::sample::select(vec![
        "choices",
        "delta",
        "message",
        "content",
        "text",
        "finish_reason",
        "usage",
        "prompt_tokens",
        "completion_tokens",
        "error",
        "result",
        "is_end",
        "is_truncated",
        "error_code",
        "error_msg",
        "need_clear_history",
    ]);
    leaf.prop_recursive(4, 32, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..5).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(config())]

    /// The typed (borrowing) reading of a stream event says exactly what the `Value` reading says.
    #[test]
    fn typed_event_reading_equals_the_value_reading(v in event_json()) {
        let text = v.to_string();
        let openai = |api: &str| {
            super::openai::OpenAi::new(&model(&format!(
                "[models.m]\nprovider = \"openai\"\napi = \"{api}\"\nbase_url = \"http://h/v1\"\nmodel = \"x\"\n"
            )))
        };
        let qianfan = super::qianfan::Qianfan::new(&model("[models.m]\nprovider = \"qianfan\"\nendpoint = \"ernie_speed\"\nbase_url = \"http://h/\"\napi_key_env = \"A\"\nsecret_key_env = \"S\"\n"));
        for w in [openai("chat"), openai("completions")] {
            prop_assert_eq!(w.event(&text), w.value_event(&text));
        }
        prop_assert_eq!(qianfan.event(&text), super::qianfan::value_event(&text));
    }
}
