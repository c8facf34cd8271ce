//! The OpenAI-compatible protocol (PROTOCOLS.md §3): `/chat/completions` and the legacy `/completions`,
//! streamed as `data: {chunk}` events ending with `data: [DONE]`. Serves vLLM, Ollama, llama.cpp's
//! server, OpenAI, DeepSeek and Qianfan v2 alike.

use std::borrow::Cow;
use std::time::Duration;

use serde::Deserialize;

use serde_json::{json, Map, Value};

use super::event::{present, typed, First, Obj, Text, TypedUsage};
use super::{parse_json, snippet, Chunk, Failure, Prompt, RetryAdvice, Usage, Wire};
use crate::inputs::config::{Api, ResolvedModel};
use crate::inputs::evalset::Role;
use crate::inputs::secret::Secret;
use crate::records::ErrorKind;

/// An OpenAI-compatible chat-completions endpoint (vLLM, llama.cpp, Ollama, Qianfan v2).
pub struct OpenAi {
    url: String,
    model: String,
    api: Api,
    api_key: Option<Secret>,
    headers: Vec<(String, String)>,
    params: Map<String, Value>,
}

impl OpenAi {
    /// A client for one configured model.
    pub fn new(m: &ResolvedModel) -> Self {
        let path = match m.config.api {
            Api::Chat => "chat/completions",
            Api::Completions => "completions",
        };
        OpenAi {
            url: format!("{}/{}", m.base_url.trim_end_matches('/'), path),
            model: m.config.model.clone().unwrap_or_default(),
            api: m.config.api,
            api_key: m.api_key.clone(),
            headers: m
                .config
                .extra_headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            params: m.config.params.clone(),
        }
    }

    fn body(&self, prompt: Prompt<'_>) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), json!(self.model));
        match self.api {
            Api::Chat => {
                let mut messages = Vec::with_capacity(prompt.messages.len() + 1);
                if let Some(s) = prompt.system {
                    messages.push(json!({"role": "system", "content": s}));
                }
                for m in prompt.messages {
                    let role = match m.role {
                        Role::User => "user",
                        Role::Assistant => "assistant",
                    };
                    messages.push(json!({"role": role, "content": m.content}));
                }
                body.insert("messages".into(), Value::Array(messages));
            }
            Api::Completions => {
                body.insert("prompt".into(), json!(completion_prompt(prompt)));
            }
        }
        if let Some(r) = prompt.reply_schema {
            body.insert(
                "response_format".into(),
                json!({
                    "type": "json_schema",
                    "json_schema": {"name": r.name, "strict": true, "schema": r.schema},
                }),
            );
        }
        for (k, v) in &self.params {
            if !matches!(k.as_str(), "model" | "messages" | "prompt" | "stream") {
                body.insert(k.clone(), v.clone());
            }
        }
        body.insert("stream".into(), json!(true));
        body.entry("stream_options")
            .or_insert(json!({"include_usage": true}));
        Value::Object(body)
    }
}

/// The legacy completions API takes one prompt string: a single user turn is sent as is; a system text
/// or a conversation is laid out as `role: text` lines (fine-tuned completion models carry their own
/// separator, e.g. seed 003's `->`, inside the prompt).
fn completion_prompt(prompt: Prompt<'_>) -> String {
    if prompt.system.is_none() && prompt.messages.len() == 1 {
        return prompt.messages[0].content.clone();
    }
    let mut out = String::new();
    if let Some(s) = prompt.system {
        out.push_str(s);
        out.push_str("\n\n");
    }
    for m in prompt.messages {
        let role = match m.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        out.push_str(&format!("{role}: {}\n", m.content));
    }
    out
}

impl OpenAi {
    /// The text and finish reason of `choices[0]`: a stream event's `delta.content` or a whole answer's
    /// `message.content` (chat), `text` (completions).
    fn choice<'v>(&self, v: &'v Value, whole: bool) -> (Option<&'v str>, Option<String>) {
        let choice = v.get("choices").and_then(|c| c.get(0));
        let text = choice
            .and_then(|c| match (self.api, whole) {
                (Api::Chat, false) => c.get("delta").and_then(|d| d.get("content")),
                (Api::Chat, true) => c.get("message").and_then(|m| m.get("content")),
                (Api::Completions, _) => c.get("text"),
            })
            .and_then(Value::as_str);
        let finish_reason = choice
            .and_then(|c| c.get("finish_reason"))
            .and_then(Value::as_str)
            .map(str::to_string);
        (text, finish_reason)
    }
}

impl OpenAi {
    /// The fast reading of a stream event: only the fields evalrun uses, strings borrowed.
    fn typed_event<'a>(&self, e: StreamEvent<'a>) -> Chunk<'a> {
        let choice = e.choices.and_then(|c| c.0);
        let (text, finish_reason) = match choice {
            Some(Obj(c)) => {
                let text = match self.api {
                    Api::Chat => c.delta.and_then(|d| d.0.content),
                    Api::Completions => c.text,
                };
                (text, c.finish_reason)
            }
            None => (None, None),
        };
        Chunk::Data {
            text: text.map(|t| t.0).unwrap_or(Cow::Borrowed("")),
            finish_reason: finish_reason.map(|f| f.0.into_owned()),
            usage: e.usage.map(|u| Usage::from(u.0)).and_then(Usage::reported),
            end: false,
        }
    }

    /// The general reading, for what the typed one refuses: an error object, a field of an
    /// unexpected type (read as absent), a repeated key (the last one counts).
    pub(crate) fn value_event(&self, data: &str) -> Chunk<'static> {
        let v = match parse_json(data, "invalid JSON in stream event") {
            Ok(v) => v,
            Err(failure) => return failure,
        };
        if let Some(err) = v.get("error") {
            return Chunk::Failure(api_error(
                err,
                None,
                ErrorKind::Server,
                RetryAdvice::Backoff,
            ));
        }
        let (text, finish_reason) = self.choice(&v, false);
        Chunk::Data {
            text: Cow::Owned(text.unwrap_or("").to_string()),
            finish_reason,
            usage: usage(&v),
            end: false,
        }
    }
}

/// A chunk of `/chat/completions` or `/completions` as evalrun reads it.
#[derive(Deserialize)]
struct StreamEvent<'a> {
    #[serde(borrow)]
    choices: Option<First<Obj<StreamChoice<'a>>>>,
    usage: Option<Obj<TypedUsage>>,
    #[serde(default, deserialize_with = "present")]
    error: bool,
}

#[derive(Deserialize)]
struct StreamChoice<'a> {
    #[serde(borrow)]
    delta: Option<Obj<Delta<'a>>>,
    #[serde(borrow)]
    text: Option<Text<'a>>,
    #[serde(borrow)]
    finish_reason: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow)]
    content: Option<Text<'a>>,
}

impl Wire for OpenAi {
    fn request(
        &self,
        http: &reqwest::Client,
        prompt: Prompt<'_>,
        _token: Option<&str>,
    ) -> Result<reqwest::RequestBuilder, Failure> {
        let mut req = http.post(&self.url).json(&self.body(prompt));
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key.expose());
        }
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        Ok(req)
    }

    fn needs_finish_reason(&self) -> bool {
        true
    }

    fn event<'a>(&self, data: &'a str) -> Chunk<'a> {
        let data = data.trim();
        if data == "[DONE]" {
            return Chunk::Data {
                text: Cow::Borrowed(""),
                finish_reason: None,
                usage: None,
                end: true,
            };
        }
        match typed::<StreamEvent>(data) {
            Some(e) if !e.error => self.typed_event(e),
            _ => self.value_event(data),
        }
    }

    fn error_answer(
        &self,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &str,
    ) -> Failure {
        let (kind, mut advice) = match status {
            429 => (ErrorKind::RateLimited, RetryAdvice::Backoff),
            408 => (ErrorKind::Timeout, RetryAdvice::Backoff),
            409 | 500..=599 => (ErrorKind::Server, RetryAdvice::Backoff),
            401 | 403 => (ErrorKind::Auth, RetryAdvice::Never),
            _ => (ErrorKind::BadRequest, RetryAdvice::Never),
        };
        match headers.get("x-should-retry").and_then(|v| v.to_str().ok()) {
            Some("true") => advice = RetryAdvice::Backoff,
            Some("false") => advice = RetryAdvice::Never,
            _ => {}
        }
        let parsed: Option<Value> = serde_json::from_str(body).ok();
        let mut f = match parsed.as_ref().and_then(|v| v.get("error")) {
            Some(err) => api_error(err, Some(status), kind, advice),
            None => {
                let mut f = Failure::new(
                    kind,
                    advice,
                    format!("HTTP {status}: {}", snippet(body, 300)),
                );
                f.status = Some(status);
                f
            }
        };
        // A quota 429 is permanent; a rate-limit 429 is not (OpenAI's own retry middleware).
        if status == 429 && f.code.as_deref() == Some("insufficient_quota") {
            f.advice = RetryAdvice::Never;
        }
        if let Some((wait, asked)) = retry_after(headers) {
            f.retry_after = Some(wait);
            if asked > wait {
                f.message.push_str(&format!(
                    " (Retry-After asked for {:.0} s; evalrun waits at most {} s)",
                    asked.as_secs_f64(),
                    MAX_RETRY_AFTER.as_secs()
                ));
            }
        }
        f
    }

    fn json_answer<'a>(&self, body: &'a str) -> Chunk<'a> {
        let v = match parse_json(body, "expected an event stream or a JSON answer") {
            Ok(v) => v,
            Err(failure) => return failure,
        };
        if let Some(err) = v.get("error") {
            return Chunk::Failure(api_error(
                err,
                None,
                ErrorKind::Server,
                RetryAdvice::Backoff,
            ));
        }
        let (text, finish_reason) = self.choice(&v, true);
        match text {
            Some(text) => Chunk::Data {
                text: Cow::Owned(text.to_string()),
                finish_reason,
                usage: usage(&v),
                end: true,
            },
            None => Chunk::Failure(Failure::new(
                ErrorKind::Protocol,
                RetryAdvice::Never,
                format!(
                    "JSON answer without choices[0] content: {}",
                    snippet(body, 300)
                ),
            )),
        }
    }
}

fn usage(v: &Value) -> Option<Usage> {
    let u = v.get("usage").filter(|u| u.is_object())?;
    Usage {
        prompt_tokens: u.get("prompt_tokens").and_then(Value::as_u64),
        completion_tokens: u.get("completion_tokens").and_then(Value::as_u64),
    }
    .reported()
}

/// `{"error": {"message", "type", "code"}}` → a failure keeping the code.
fn api_error(err: &Value, status: Option<u16>, kind: ErrorKind, advice: RetryAdvice) -> Failure {
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| snippet(&err.to_string(), 300));
    let code = err.get("code").and_then(|c| match c {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    let mut f = Failure::new(kind, advice, message);
    f.status = status;
    f.code = code;
    f
}

/// The longest server-requested wait evalrun honours before a retry.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// `retry-after-ms`, else `retry-after` in seconds (an HTTP date is ignored), as the OpenAI SDK reads
/// them: (the wait evalrun honours, capped at `MAX_RETRY_AFTER`; the wait asked for).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<(Duration, Duration)> {
    let get = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
    };
    let d = get("retry-after-ms")
        .map(|ms| ms / 1000.0)
        .or_else(|| get("retry-after"))?;
    (d > 0.0 && d.is_finite()).then(|| {
        let asked = Duration::try_from_secs_f64(d).unwrap_or(Duration::MAX);
        (asked.min(MAX_RETRY_AFTER), asked)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::config::Config;
    use std::path::Path;

    fn wire(api: &str) -> OpenAi {
        let text = format!(
            "[models.m]\nprovider = \"openai\"\napi = \"{api}\"\nbase_url = \"http://h/v1/\"\nmodel = \"x\"\nparams = {{ temperature = 0.5, stop = [\"。\"] }}\n"
        );
        let c = Config::parse(Path::new("c.toml"), &text).unwrap();
        let m = c
            .resolve(&["m".into()], &|_| None, &mut Default::default())
            .unwrap();
        OpenAi::new(&m[0])
    }

    #[test]
    fn chat_body_carries_system_messages_params_and_usage_request() {
        let w = wire("chat");
        let msgs = [crate::inputs::evalset::Message {
            role: Role::User,
            content: "hi".into(),
        }];
        let b = w.body(Prompt {
            system: Some("sys"),
            messages: &msgs,
            reply_schema: None,
        });
        assert_eq!(w.url, "http://h/v1/chat/completions");
        assert_eq!(b["messages"][0]["role"], "system");
        assert_eq!(b["messages"][1]["content"], "hi");
        assert_eq!(b["temperature"], 0.5);
        assert_eq!(b["stream"], true);
        assert_eq!(b["stream_options"]["include_usage"], true);
    }

    #[test]
    fn a_reply_schema_goes_out_as_a_strict_json_schema_response_format() {
        let w = wire("chat");
        let msgs = [crate::inputs::evalset::Message {
            role: Role::User,
            content: "grade".into(),
        }];
        let schema = crate::provider::ReplySchema {
            name: "evalrun_pair",
            schema: json!({"type": "object"}),
        };
        let b = w.body(Prompt {
            system: None,
            messages: &msgs,
            reply_schema: Some(&schema),
        });
        assert_eq!(
            b["response_format"],
            json!({"type": "json_schema", "json_schema": {"name": "evalrun_pair", "strict": true, "schema": {"type": "object"}}})
        );
    }

    #[test]
    fn completions_body_sends_prompt_and_stop() {
        let w = wire("completions");
        let msgs = [crate::inputs::evalset::Message {
            role: Role::User,
            content: "写一句祝福 ->".into(),
        }];
        let b = w.body(Prompt {
            system: None,
            messages: &msgs,
            reply_schema: None,
        });
        assert_eq!(w.url, "http://h/v1/completions");
        assert_eq!(b["prompt"], "写一句祝福 ->");
        assert_eq!(b["stop"][0], "。");
        assert!(b.get("messages").is_none());
    }

    #[test]
    fn role_only_first_chunk_has_no_content() {
        let w = wire("chat");
        let c = w.event(r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#);
        assert!(matches!(c, Chunk::Data { ref text, end: false, .. } if text.is_empty()));
        let c = w.event(r#"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}"#);
        assert!(matches!(
            c,
            Chunk::Data {
                usage: Some(Usage {
                    prompt_tokens: Some(7),
                    completion_tokens: Some(3)
                }),
                ..
            }
        ));
        assert!(matches!(w.event("[DONE]"), Chunk::Data { end: true, .. }));
    }

    #[test]
    fn error_inside_stream_is_a_failure() {
        let w = wire("chat");
        let c = w.event(r#"{"error":{"message":"overloaded","code":"server_error"}}"#);
        assert!(
            matches!(c, Chunk::Failure(ref f) if f.message == "overloaded" && f.code.as_deref() == Some("server_error"))
        );
    }

    #[test]
    fn status_classification_and_retry_after() {
        let w = wire("chat");
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        let f = w.error_answer(
            429,
            &h,
            r#"{"error":{"message":"slow down","type":"rate_limit","code":"rate_limit_exceeded"}}"#,
        );
        assert_eq!(
            (f.kind, f.advice, f.retry_after),
            (
                ErrorKind::RateLimited,
                RetryAdvice::Backoff,
                Some(Duration::from_secs(2))
            )
        );
        let f = w.error_answer(
            429,
            &Default::default(),
            r#"{"error":{"message":"pay","code":"insufficient_quota"}}"#,
        );
        assert_eq!(f.advice, RetryAdvice::Never);
        let f = w.error_answer(404, &Default::default(), "not json");
        assert_eq!(
            (f.kind, f.advice, f.status),
            (ErrorKind::BadRequest, RetryAdvice::Never, Some(404))
        );
        assert!(f.message.contains("not json"));
        let f = w.error_answer(503, &Default::default(), "");
        assert_eq!(f.advice, RetryAdvice::Backoff);
        h.insert("retry-after", "600".parse().unwrap());
        let f = w.error_answer(429, &h, "");
        assert_eq!(f.retry_after, Some(MAX_RETRY_AFTER));
        assert!(
            f.message
                .contains("Retry-After asked for 600 s; evalrun waits at most 120 s"),
            "{}",
            f.message
        );
    }
}
