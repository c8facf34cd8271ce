//! The last hand-written OpenAI-compatible server, kept only for `gate_e2e.rs` (owned by the gate
//! work) until it moves to the simulator's scripted faults (`@MARKER:reply=…,delay_ms=…`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use serde_json::{json, Value};

/// What the server does for a prompt containing a given marker.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Stream this answer in small deltas (tidy SSE).
    Answer(String),
    /// Stream this answer as awkward SSE: CRLF, comments, `data:` without a space, events split
    /// mid-character across writes.
    AwkwardAnswer(String),
    /// Stream part of the answer, then end the body without `[DONE]` — the first `n` times; then answer.
    TearThenAnswer { times: usize, answer: String },
    /// Answer HTTP 429 with Retry-After the first `n` times; then answer.
    RateLimitThenAnswer { times: usize, answer: String },
    /// Always answer this status with an OpenAI error body.
    Status(u16),
    /// Stream the answer slowly: `delay` between deltas.
    Slow { answer: String, delay: Duration },
}

#[derive(Default)]
struct ServerState {
    script: Vec<(String, Behaviour)>,
    requests: AtomicUsize,
    per_marker: Mutex<BTreeMap<String, usize>>,
    /// Requests per (model, last user message).
    per_prompt: Mutex<BTreeMap<(String, String), usize>>,
    auth_headers: Mutex<Vec<String>>,
    bodies: Mutex<Vec<Value>>,
}

pub struct ScriptedServer {
    pub addr: SocketAddr,
    state: Arc<ServerState>,
}

impl ScriptedServer {
    /// Start on an ephemeral port. `script` pairs a marker (a substring of the last user message) with
    /// a behaviour; a prompt matching no marker gets a strict-JSON tutor answer.
    pub fn start(script: Vec<(&str, Behaviour)>) -> ScriptedServer {
        let state = Arc::new(ServerState {
            script: script
                .into_iter()
                .map(|(k, b)| (k.to_string(), b))
                .collect(),
            ..Default::default()
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/completions", post(completions))
            .with_state(state.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        let addr = rx.recv().unwrap();
        ScriptedServer { addr, state }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Chat requests received so far.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// Request bodies received by the legacy completions route.
    pub fn completion_bodies(&self) -> Vec<Value> {
        self.state.bodies.lock().unwrap().clone()
    }

    /// Requests received per (model, last user message): how often each answer was asked for.
    pub fn requests_by_prompt(&self) -> BTreeMap<(String, String), usize> {
        self.state.per_prompt.lock().unwrap().clone()
    }

    /// Authorization headers received (to check the bearer key is sent).
    pub fn auth_headers(&self) -> Vec<String> {
        self.state.auth_headers.lock().unwrap().clone()
    }
}

pub const GOOD_ANSWER: &str = r#"{"Reply": "That sounds fun! What did you enjoy most?", "Suggestion": ["I loved the music.", "The food was great.", "I enjoyed meeting friends."], "Analysis": "学生的回答简短但正确。"}"#;

async fn chat(State(st): State<Arc<ServerState>>, headers: HeaderMap, body: Bytes) -> Response {
    st.requests.fetch_add(1, Ordering::SeqCst);
    if let Some(a) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        st.auth_headers.lock().unwrap().push(a.to_string());
    }
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let last = req["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string();
    {
        let model = req["model"].as_str().unwrap_or("").to_string();
        *st.per_prompt
            .lock()
            .unwrap()
            .entry((model, last.clone()))
            .or_insert(0) += 1;
    }
    let found = st
        .script
        .iter()
        .find(|(k, _)| last.contains(k.as_str()))
        .cloned();
    let (marker, behaviour) =
        found.unwrap_or_else(|| (String::new(), Behaviour::Answer(GOOD_ANSWER.to_string())));
    let seen = {
        let mut m = st.per_marker.lock().unwrap();
        let e = m.entry(marker).or_insert(0);
        *e += 1;
        *e
    };
    match behaviour {
        Behaviour::Answer(a) => stream(tidy_events(&a), true, Duration::ZERO),
        Behaviour::AwkwardAnswer(a) => stream(awkward_chunks(&a), true, Duration::from_millis(1)),
        Behaviour::TearThenAnswer { times, answer } if seen <= times => {
            let events = tidy_events(&answer);
            let half = events.len() / 2;
            let mut torn: Vec<Bytes> = events.into_iter().take(half).collect();
            torn.push(Bytes::from_static(
                b"data: {\"choices\":[{\"delta\":{\"content\":\"cut",
            ));
            stream(torn, false, Duration::ZERO)
        }
        Behaviour::TearThenAnswer { answer, .. } => {
            stream(tidy_events(&answer), true, Duration::ZERO)
        }
        Behaviour::RateLimitThenAnswer { times, .. } if seen <= times => {
            let mut r = error_response(429, "rate_limit_exceeded", "Rate limit reached, slow down");
            r.headers_mut()
                .insert("retry-after", "0.05".parse().unwrap());
            r
        }
        Behaviour::RateLimitThenAnswer { answer, .. } => {
            stream(tidy_events(&answer), true, Duration::ZERO)
        }
        Behaviour::Status(s) => error_response(s, "test_error", &format!("scripted status {s}")),
        Behaviour::Slow { answer, delay } => stream(tidy_events(&answer), true, delay),
    }
}

/// Legacy `/v1/completions`: streams `text` deltas, stopping where the request's first `stop` string
/// would appear in the canned completion.
async fn completions(State(st): State<Arc<ServerState>>, body: Bytes) -> Response {
    st.requests.fetch_add(1, Ordering::SeqCst);
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    st.bodies.lock().unwrap().push(req.clone());
    let full = "新年快乐，万事如意。愿你来年心想事成！";
    let text = match req["stop"].get(0).and_then(Value::as_str) {
        Some(stop) => full.split(stop).next().unwrap_or(full).to_string(),
        None => full.to_string(),
    };
    let mut events: Vec<Bytes> = text
        .chars()
        .collect::<Vec<_>>()
        .chunks(3)
        .map(|c| event(&json!({"choices": [{"index": 0, "text": c.iter().collect::<String>()}]})))
        .collect();
    events.push(event(
        &json!({"choices": [{"index": 0, "text": "", "finish_reason": "stop"}]}),
    ));
    stream(events, true, Duration::ZERO)
}

fn error_response(status: u16, code: &str, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "test", "code": code}});
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

/// Role-only first chunk, content in deltas of a few characters, a finish chunk, a usage chunk.
fn tidy_events(answer: &str) -> Vec<Bytes> {
    let mut out = vec![event(
        &json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
    )];
    let chars: Vec<char> = answer.chars().collect();
    for piece in chars.chunks(7) {
        let s: String = piece.iter().collect();
        out.push(event(
            &json!({"choices": [{"index": 0, "delta": {"content": s}}]}),
        ));
    }
    out.push(event(
        &json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    ));
    out.push(event(&json!({"choices": [], "usage": {"prompt_tokens": 100, "completion_tokens": chars.len() / 2}})));
    out
}

fn event(v: &Value) -> Bytes {
    Bytes::from(format!("data: {v}\n\n"))
}

/// The same deltas as hostile SSE bytes, cut at arbitrary byte positions (inside UTF-8 characters).
fn awkward_chunks(answer: &str) -> Vec<Bytes> {
    let mut body = String::from(": keep-alive\r\n\r\n");
    for (i, e) in tidy_events(answer).iter().enumerate() {
        let line = std::str::from_utf8(e).unwrap().trim_end();
        let payload = line.strip_prefix("data: ").unwrap();
        if i % 2 == 0 {
            body.push_str(&format!("id: {i}\r\ndata:{payload}\r\n\r\n"));
        } else {
            body.push_str(&format!("event: message\ndata: {payload}\n\n"));
        }
    }
    let bytes = body.into_bytes();
    bytes.chunks(5).map(Bytes::copy_from_slice).collect()
}

fn stream(chunks: Vec<Bytes>, done: bool, delay: Duration) -> Response {
    let mut chunks = chunks;
    if done {
        chunks.push(Bytes::from_static(b"data: [DONE]\n\n"));
    }
    let s = futures_util::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>)).then(
        move |c| async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            c
        },
    );
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(s))
        .unwrap()
}

use futures_util::StreamExt as _;
