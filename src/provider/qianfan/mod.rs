//! Qianfan v1, "wenxinworkshop" (PROTOCOLS.md §1 and §6): an OAuth access token minted from the API
//! key and secret key, then `POST {base}/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{segment}
//! ?access_token=…` streamed as `data: {json}` events whose `result` fields are deltas; the answer is
//! complete only at the event with `is_end: true` (there is no `[DONE]`).
//!
//! Errors arrive as `{"error_code", "error_msg"}` — usually with HTTP 200 and `Content-Type:
//! application/json`, also for a stream request — so `Client::attempt` tells an error from a stream
//! by its content type, and every body is checked for `error_code`. Codes are classified as the SDK
//! does (`classify`): 2, 15, 18, 336100, 336501, 336502 are retried with backoff (18, 336501 and
//! 336502 are rate limits and slow the model down), 110/111 mean the token must be refreshed, and
//! the rest are final.
//!
//! Tokens: one `TokenSource` per (API key, secret key, base URL) in the whole process, found by a
//! SHA-256 of the three, so every model with the same keys shares one token. It is fetched on first
//! use, kept for `expires_in` minus a margin, and refreshed single-flight: a request that met 110/111
//! asks for a token *newer than the one that failed*; the first such caller fetches one while the
//! others wait on the same lock and then receive it, so one expiry costs one refresh however many
//! requests were in flight. `Client::attempt` then resends the request once (PROTOCOLS §1.5, without
//! the SDK's one-hour refresh throttle). The token URL carries `client_secret` and chat URLs carry
//! `access_token`: no URL is ever printed, and every minted token is taught to the redactor.

mod token;

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::event::{present, typed, Obj, Text, TypedUsage};
use super::{parse_json, snippet, Chunk, Failure, Prompt, RetryAdvice, Usage, Wire};
use crate::inputs::config::{qianfan_endpoint, QianfanModel, ResolvedModel};
use crate::inputs::evalset::Role;
use crate::records::ErrorKind;
pub use token::{Token, TokenSource};

/// The SDK's `QIANFAN_MODEL_API_PREFIX`.
const CHAT_PREFIX: &str = "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/";

/// A Qianfan v1 endpoint, with its access token fetched from the API key and secret key.
pub struct Qianfan {
    url: String,
    segment: String,
    known: Option<&'static QianfanModel>,
    params: Map<String, Value>,
    headers: Vec<(String, String)>,
}

impl Qianfan {
    /// A client for one configured model.
    pub fn new(m: &ResolvedModel) -> Self {
        let endpoint = qianfan_endpoint(m.config.endpoint.as_deref().unwrap_or_default());
        Qianfan {
            url: format!(
                "{}{CHAT_PREFIX}{}",
                m.base_url.trim_end_matches('/'),
                endpoint.segment
            ),
            segment: endpoint.segment,
            known: endpoint.known,
            params: m.config.params.clone(),
            headers: m
                .config
                .extra_headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// The request body, or a `bad_request` failure naming what Qianfan would refuse with 336003.
    fn body(&self, prompt: Prompt<'_>) -> Result<Value, Failure> {
        self.validate(prompt)?;
        let mut body = Map::new();
        let messages: Vec<Value> = prompt
            .messages
            .iter()
            .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
            .collect();
        body.insert("messages".into(), Value::Array(messages));
        if let Some(s) = prompt.system {
            body.insert("system".into(), json!(s));
        }
        if prompt.reply_schema.is_some() {
            // v1 takes no schema: JSON mode, with the shape asked for in the prompt.
            body.insert("response_format".into(), json!("json_object"));
        }
        for (k, v) in &self.params {
            body.insert(k.clone(), v.clone());
        }
        body.insert("stream".into(), json!(true));
        Ok(Value::Object(body))
    }
}

/// PROTOCOLS §1.3: an odd number of messages alternating user, assistant, …, ending with the user;
/// no empty content; system + messages within the model's character limit when it is known.
fn check_conversation(prompt: Prompt<'_>, known: Option<&QianfanModel>) -> Result<(), String> {
    let n = prompt.messages.len();
    if prompt
        .messages
        .first()
        .is_some_and(|m| m.role == Role::Assistant)
    {
        return Err("messages[0]: Qianfan v1 requires the conversation to open with a user turn; this one opens with an assistant turn (OpenAI-compatible models accept it)".into());
    }
    if n.is_multiple_of(2) {
        return Err(format!(
            "messages: Qianfan v1 needs an odd number of messages (user, assistant, …, user); this conversation has {n}"
        ));
    }
    for (i, m) in prompt.messages.iter().enumerate() {
        let want = if i % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        };
        if m.role != want {
            return Err(format!(
                "messages[{i}]: Qianfan v1 needs roles alternating user, assistant, … ending with user; message {i} is {}",
                m.role.as_str()
            ));
        }
        if m.content.trim().is_empty() {
            return Err(format!(
                "messages[{i}]: Qianfan v1 refuses empty message content"
            ));
        }
    }
    if let Some(max) = known.and_then(|k| k.max_input_chars) {
        let chars = prompt.system.map_or(0, |s| s.chars().count())
            + prompt
                .messages
                .iter()
                .map(|m| m.content.chars().count())
                .sum::<usize>();
        if chars > max {
            return Err(format!(
                "messages: system + messages are {chars} characters; {} accepts at most {max}",
                known.map_or("this model", |k| k.names[0])
            ));
        }
    }
    Ok(())
}

/// How evalrun treats a Qianfan `error_code` (PROTOCOLS §1.5, §6.4).
pub fn classify(code: i64) -> (ErrorKind, RetryAdvice) {
    match code {
        // QPS, RPM and TPM limits: back off and slow the model's buckets down.
        18 | 336501 | 336502 => (ErrorKind::RateLimited, RetryAdvice::Backoff),
        // Service unavailable, app not found (transient on Baidu's side), server high load.
        2 | 15 | 336100 => (ErrorKind::Server, RetryAdvice::Backoff),
        // Access token invalid / expired.
        110 | 111 => (ErrorKind::Auth, RetryAdvice::Reauth),
        // Request, daily and total quotas: waiting minutes will not help this run.
        4 | 17 | 19 => (ErrorKind::RateLimited, RetryAdvice::Never),
        6 | 13 | 14 | 336004 => (ErrorKind::Auth, RetryAdvice::Never),
        3 | 100 | 336001..=336003 | 336005 | 336101..=336105 => {
            (ErrorKind::BadRequest, RetryAdvice::Never)
        }
        _ => (ErrorKind::Server, RetryAdvice::Never),
    }
}

/// `{"error_code", "error_msg"}` anywhere → the failure it stands for, keeping code and message.
fn code_failure(v: &Value) -> Option<Failure> {
    let code = v.get("error_code")?.as_i64()?;
    let msg = v
        .get("error_msg")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let (kind, advice) = classify(code);
    let hint = match code {
        17 => " (daily request limit reached: not retried)",
        4 | 19 => " (request quota reached: not retried)",
        14 => " (check the API key and secret key)",
        _ => "",
    };
    let mut f = Failure::new(
        kind,
        advice,
        if msg.is_empty() {
            format!("Qianfan error {code}{hint}")
        } else {
            format!("{msg}{hint}")
        },
    );
    f.code = Some(code.to_string());
    Some(f)
}

/// `need_clear_history: true`: the service judged the conversation unsafe and blocked the answer.
/// Recorded, not retried (the same input would be blocked again).
fn blocked(v: &Value) -> Option<Failure> {
    if v.get("need_clear_history").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let round = v
        .get("ban_round")
        .and_then(Value::as_i64)
        .map(|r| format!(", ban_round {r}"))
        .unwrap_or_default();
    let mut f = Failure::new(
        ErrorKind::BadRequest,
        RetryAdvice::Never,
        format!(
            "Qianfan blocked the answer: the conversation was judged unsafe (need_clear_history{round}); not retried"
        ),
    );
    f.code = Some("need_clear_history".into());
    Some(f)
}

fn usage(v: &Value) -> Option<Usage> {
    let u = v.get("usage").filter(|u| u.is_object())?;
    Usage {
        prompt_tokens: u.get("prompt_tokens").and_then(Value::as_u64),
        completion_tokens: u.get("completion_tokens").and_then(Value::as_u64),
    }
    .reported()
}

/// `length` when the service cut the answer (`is_truncated`), else its `finish_reason`.
fn finish(v: &Value) -> Option<String> {
    if v.get("is_truncated").and_then(Value::as_bool) == Some(true) {
        return Some("length".into());
    }
    v.get("finish_reason")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// A Qianfan v1 stream event as evalrun reads it; an error code or a blocked answer goes to the
/// `Value` reading (`value_event`), as does anything this typed reading refuses.
#[derive(Deserialize)]
struct StreamEvent<'a> {
    #[serde(borrow)]
    result: Option<Text<'a>>,
    is_end: Option<bool>,
    is_truncated: Option<bool>,
    #[serde(borrow)]
    finish_reason: Option<Text<'a>>,
    usage: Option<Obj<TypedUsage>>,
    #[serde(default, deserialize_with = "present")]
    error_code: bool,
    need_clear_history: Option<bool>,
}

pub(crate) fn value_event(data: &str) -> Chunk<'static> {
    let v = match parse_json(data, "invalid JSON in Qianfan stream event") {
        Ok(v) => v,
        Err(failure) => return failure,
    };
    if let Some(f) = code_failure(&v).or_else(|| blocked(&v)) {
        return Chunk::Failure(f);
    }
    Chunk::Data {
        text: Cow::Owned(
            v.get("result")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ),
        finish_reason: finish(&v),
        usage: usage(&v),
        end: v.get("is_end").and_then(Value::as_bool) == Some(true),
    }
}

impl Wire for Qianfan {
    fn validate(&self, prompt: Prompt<'_>) -> Result<(), Failure> {
        let bad = |msg: String| Failure::new(ErrorKind::BadRequest, RetryAdvice::Never, msg);
        check_conversation(prompt, self.known).map_err(bad)?;
        crate::inputs::config::qianfan_params_problem(&self.params, self.known).map_err(bad)
    }

    fn request(
        &self,
        http: &reqwest::Client,
        prompt: Prompt<'_>,
        token: Option<&str>,
    ) -> Result<reqwest::RequestBuilder, Failure> {
        let body = self.body(prompt)?;
        let token = token.ok_or_else(|| {
            Failure::new(
                ErrorKind::Auth,
                RetryAdvice::Never,
                "no access token for Qianfan v1",
            )
        })?;
        let url = with_query(&self.url, &[("access_token", token)])?;
        let mut req = http.post(url).json(&body);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        Ok(req)
    }

    fn event<'a>(&self, data: &'a str) -> Chunk<'a> {
        match typed::<StreamEvent>(data) {
            Some(e) if !e.error_code && e.need_clear_history != Some(true) => Chunk::Data {
                text: e.result.map(|t| t.0).unwrap_or(Cow::Borrowed("")),
                finish_reason: if e.is_truncated == Some(true) {
                    Some("length".into())
                } else {
                    e.finish_reason.map(|f| f.0.into_owned())
                },
                usage: e.usage.map(|u| Usage::from(u.0)).and_then(Usage::reported),
                end: e.is_end == Some(true),
            },
            _ => value_event(data),
        }
    }

    fn error_answer(
        &self,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &str,
    ) -> Failure {
        let header = |k: &str| {
            headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let parsed: Option<Value> = serde_json::from_str(body).ok();
        let mut f = match parsed.as_ref().and_then(code_failure) {
            Some(f) => f,
            None => {
                let (kind, advice) = match status {
                    429 => (ErrorKind::RateLimited, RetryAdvice::Backoff),
                    401 | 403 => (ErrorKind::Auth, RetryAdvice::Never),
                    408 => (ErrorKind::Timeout, RetryAdvice::Backoff),
                    500..=599 => (ErrorKind::Server, RetryAdvice::Backoff),
                    _ => (ErrorKind::BadRequest, RetryAdvice::Never),
                };
                let mut f = Failure::new(
                    kind,
                    advice,
                    format!("HTTP {status}: {}", snippet(body, 300)),
                );
                // IAM errors come as headers (PROTOCOLS §1.5).
                if let Some(code) = header("x-bce-error-code") {
                    f.message = format!(
                        "HTTP {status}: {code}: {}",
                        header("x-bce-error-message").unwrap_or_default()
                    );
                    f.code = Some(code);
                }
                f
            }
        };
        // A server fault is worth another try whatever code its body carries; a 429 is a rate limit.
        if status >= 500 && f.advice == RetryAdvice::Never {
            f.kind = ErrorKind::Server;
            f.advice = RetryAdvice::Backoff;
        }
        if status == 429 {
            f.kind = ErrorKind::RateLimited;
            f.advice = RetryAdvice::Backoff;
        }
        f.status = Some(status);
        f
    }

    fn json_answer<'a>(&self, body: &'a str) -> Chunk<'a> {
        let v = match parse_json(body, "expected an event stream or a JSON answer") {
            Ok(v) => v,
            Err(failure) => return failure,
        };
        if let Some(f) = code_failure(&v).or_else(|| blocked(&v)) {
            return Chunk::Failure(f);
        }
        match v.get("result").and_then(Value::as_str) {
            // A whole (non-stream) answer: complete by construction.
            Some(text) => Chunk::Data {
                text: Cow::Owned(text.to_string()),
                finish_reason: finish(&v),
                usage: usage(&v),
                end: true,
            },
            None => Chunk::Failure(Failure::new(
                ErrorKind::Protocol,
                RetryAdvice::Never,
                format!(
                    "JSON answer from Qianfan segment `{}` without `result` or `error_code`: {}",
                    self.segment,
                    snippet(body, 300)
                ),
            )),
        }
    }
}

/// `base?k=v&…`, percent-encoded. The error never quotes the URL (the pairs are secrets).
fn with_query(base: &str, pairs: &[(&str, &str)]) -> Result<reqwest::Url, Failure> {
    let mut url = reqwest::Url::parse(base).map_err(|e| {
        Failure::new(
            ErrorKind::BadRequest,
            RetryAdvice::Never,
            format!("the Qianfan base URL is not a valid URL ({e})"),
        )
    })?;
    url.query_pairs_mut().extend_pairs(pairs);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::config::Config;
    use crate::inputs::evalset::Message;
    use crate::inputs::secret::Redactor;
    use std::path::Path;
    use std::sync::Arc;

    fn wire(endpoint: &str, params: &str) -> Qianfan {
        let text = format!(
            "[models.q]\nprovider = \"qianfan\"\nendpoint = \"{endpoint}\"\nbase_url = \"http://h/\"\napi_key_env = \"A\"\nsecret_key_env = \"S\"\nparams = {{ {params} }}\n"
        );
        let c = Config::parse(Path::new("c.toml"), &text).unwrap();
        let env = |_: &str| Some("value".to_string());
        let m = c
            .resolve(&["q".into()], &env, &mut Default::default())
            .unwrap();
        Qianfan::new(&m[0])
    }

    fn msg(role: Role, content: &str) -> Message {
        Message {
            role,
            content: content.into(),
        }
    }

    #[test]
    fn model_names_become_segments_in_the_url() {
        assert_eq!(
            wire("ERNIE-4.0-8K", "").url,
            "http://h/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions_pro"
        );
        assert_eq!(
            wire("sft_full_e6_lr3e5", "").url,
            "http://h/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/sft_full_e6_lr3e5"
        );
    }

    #[test]
    fn body_has_messages_system_params_and_stream() {
        let w = wire("ERNIE-Speed", "temperature = 0.8, penalty_score = 1.2");
        let msgs = [msg(Role::User, "hi")];
        let b = w
            .body(Prompt {
                system: Some("persona"),
                messages: &msgs,
                reply_schema: None,
            })
            .unwrap();
        assert_eq!(b["messages"], json!([{"role": "user", "content": "hi"}]));
        assert_eq!(b["system"], "persona");
        assert_eq!(b["temperature"], 0.8);
        assert_eq!(b["stream"], true);
        assert!(b.get("stream_options").is_none());
    }

    #[test]
    fn a_reply_schema_asks_v1_for_json_mode() {
        let w = wire("ERNIE-4.0-8K", "");
        let msgs = [msg(Role::User, "grade")];
        let schema = crate::provider::ReplySchema {
            name: "evalrun_grade",
            schema: json!({"type": "object"}),
        };
        let b = w
            .body(Prompt {
                system: None,
                messages: &msgs,
                reply_schema: Some(&schema),
            })
            .unwrap();
        assert_eq!(b["response_format"], "json_object");
        let free = w
            .body(Prompt {
                system: None,
                messages: &msgs,
                reply_schema: None,
            })
            .unwrap();
        assert!(free.get("response_format").is_none());
    }

    #[test]
    fn conversations_qianfan_would_refuse_are_bad_requests_naming_messages() {
        let w = wire("ERNIE-Speed", "");
        let cases: [(&[Message], &str); 5] = [
            (
                &[
                    msg(Role::Assistant, "Hello! What did you do today?"),
                    msg(Role::User, "I go to park."),
                ],
                "requires the conversation to open with a user turn",
            ),
            (
                &[msg(Role::User, "a"), msg(Role::Assistant, "b")],
                "odd number of messages",
            ),
            (
                &[
                    msg(Role::User, "a"),
                    msg(Role::User, "b"),
                    msg(Role::User, "c"),
                ],
                "messages[1]",
            ),
            (&[msg(Role::User, " ")], "empty message content"),
            (&[msg(Role::User, &"字".repeat(11201))], "at most 11200"),
        ];
        for (messages, needle) in cases {
            let f = w
                .body(Prompt {
                    system: None,
                    messages,
                    reply_schema: None,
                })
                .unwrap_err();
            assert_eq!(
                (f.kind, f.advice),
                (ErrorKind::BadRequest, RetryAdvice::Never)
            );
            assert!(f.message.contains(needle), "{}", f.message);
        }
    }

    #[test]
    fn codes_are_classified_as_the_sdk_does() {
        for c in [2, 15, 336100] {
            assert_eq!(
                classify(c),
                (ErrorKind::Server, RetryAdvice::Backoff),
                "{c}"
            );
        }
        for c in [18, 336501, 336502] {
            assert_eq!(
                classify(c),
                (ErrorKind::RateLimited, RetryAdvice::Backoff),
                "{c}"
            );
        }
        for c in [110, 111] {
            assert_eq!(classify(c).1, RetryAdvice::Reauth);
        }
        for c in [
            3, 4, 6, 13, 14, 17, 19, 100, 336000, 336003, 336005, 336104, 999,
        ] {
            assert_eq!(classify(c).1, RetryAdvice::Never, "{c}");
        }
    }

    #[test]
    fn events_carry_deltas_end_usage_and_errors() {
        let w = wire("ERNIE-Speed", "");
        let c = w.event(r#"{"sentence_id":0,"is_end":false,"result":"你好","need_clear_history":false,"usage":{"prompt_tokens":5,"completion_tokens":1}}"#);
        assert!(matches!(c, Chunk::Data { ref text, end: false, .. } if text == "你好"));
        let c = w.event(r#"{"sentence_id":1,"is_end":true,"is_truncated":true,"result":"","finish_reason":"length","usage":{"prompt_tokens":5,"completion_tokens":9}}"#);
        match c {
            Chunk::Data {
                end,
                finish_reason,
                usage,
                ..
            } => {
                assert!(end);
                assert_eq!(finish_reason.as_deref(), Some("length"));
                assert_eq!(usage.unwrap().completion_tokens, Some(9));
            }
            other => panic!("{other:?}"),
        }
        let c = w.event(r#"{"error_code":336501,"error_msg":"Rate limit reached for RPM"}"#);
        assert!(
            matches!(c, Chunk::Failure(ref f) if f.code.as_deref() == Some("336501") && f.kind == ErrorKind::RateLimited && f.message == "Rate limit reached for RPM")
        );
        let c = w.event(r#"{"result":"","is_end":true,"need_clear_history":true,"ban_round":-1}"#);
        assert!(
            matches!(c, Chunk::Failure(ref f) if f.advice == RetryAdvice::Never && f.code.as_deref() == Some("need_clear_history") && f.message.contains("ban_round -1"))
        );
    }

    #[test]
    fn json_bodies_are_errors_or_whole_answers() {
        let w = wire("ERNIE-Speed", "");
        let c = w
            .json_answer(r#"{"error_code":17,"error_msg":"Open api daily request limit reached"}"#);
        assert!(
            matches!(c, Chunk::Failure(ref f) if f.advice == RetryAdvice::Never && f.code.as_deref() == Some("17") && f.message.starts_with("Open api daily request limit reached"))
        );
        let c = w.json_answer(r#"{"error_code":111,"error_msg":"Access token expired"}"#);
        assert!(matches!(c, Chunk::Failure(ref f) if f.advice == RetryAdvice::Reauth));
        let c = w.json_answer(r#"{"id":"as-1","result":"整段","is_truncated":false,"usage":{"prompt_tokens":3,"completion_tokens":2}}"#);
        assert!(matches!(c, Chunk::Data { ref text, end: true, .. } if text == "整段"));
    }

    #[test]
    fn non_2xx_answers_keep_codes_and_retry_server_faults() {
        let w = wire("ERNIE-Speed", "");
        let f = w.error_answer(
            500,
            &Default::default(),
            r#"{"error_code":336000,"error_msg":"Internal error"}"#,
        );
        assert_eq!(
            (f.kind, f.advice, f.status, f.code.as_deref()),
            (
                ErrorKind::Server,
                RetryAdvice::Backoff,
                Some(500),
                Some("336000")
            )
        );
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("x-bce-error-code", "IamSignatureInvalid".parse().unwrap());
        h.insert("x-bce-error-message", "bad signature".parse().unwrap());
        let f = w.error_answer(403, &h, "");
        assert_eq!(f.kind, ErrorKind::Auth);
        assert_eq!(f.code.as_deref(), Some("IamSignatureInvalid"));
        assert!(f.message.contains("bad signature"), "{}", f.message);
    }

    /// 32 requests in flight against tokens that serve 4 calls each: every expiry costs exactly one
    /// refresh (no token is replaced before it expired), and every request is answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn one_refresh_per_expiry_however_many_requests_are_in_flight() {
        let sim = crate::sim::start(crate::sim::SimConfig {
            time_scale: 0.0,
            faults: "expire_every=4".parse().unwrap(),
            ..Default::default()
        })
        .await
        .unwrap();
        let text = format!(
            "[models.q]\nprovider = \"qianfan\"\nendpoint = \"ernie_speed\"\nbase_url = \"{}\"\napi_key_env = \"A\"\nsecret_key_env = \"S\"\nconcurrency = 32\n",
            sim.base_url()
        );
        let c = Config::parse(Path::new("c.toml"), &text).unwrap();
        let env = |k: &str| Some(format!("{k}-single-flight"));
        let m = c
            .resolve(&["q".into()], &env, &mut Default::default())
            .unwrap();
        let redactor = Redactor::default();
        let client = Arc::new(super::super::Client::new(&m[0], redactor.clone()).unwrap());
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..32 {
            let client = client.clone();
            tasks.spawn(async move {
                let msgs = [msg(Role::User, &format!("hello {i}"))];
                let prompt = Prompt {
                    system: None,
                    messages: &msgs,
                    reply_schema: None,
                };
                for _ in 0..3 {
                    for _ in 0..20 {
                        let a = client.attempt(prompt).await;
                        match a.failure {
                            None => break,
                            // The runner sends it again at once; so does this test.
                            Some(f) if f.advice == RetryAdvice::Reauth => continue,
                            Some(f) => panic!("{f:?}"),
                        }
                    }
                }
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.unwrap();
        }
        let st = sim.stats();
        let route = "POST /rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint}";
        let a = &st.auth;
        let valid = st.routes[route].requests - a.expired_token - a.unknown_token;
        assert_eq!(st.models["ernie-speed"].answered, 96);
        assert!(a.token_refreshes >= 20, "{a:?}");
        assert!(
            4 * (a.tokens_issued - 1) < valid && valid <= 4 * a.tokens_issued,
            "{valid} valid calls, {a:?}"
        );
        // Every minted token was taught to the client's redactor (which started empty here).
        assert_eq!(
            format!("{redactor:?}"),
            format!("Redactor({} values)", a.tokens_issued)
        );
        sim.shutdown().await;
    }
}
