//! A scripted Qianfan v1 server on 127.0.0.1: the token endpoint and the chat route, with a chosen
//! behaviour per prompt marker — tidy or awkward SSE, JSON errors with HTTP 200, blocked content —
//! and the server's own clock for every answer (request received → first content handed to the
//! HTTP stack), to check the client's `ttft_ms` against.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt as _;
use axum::Router;
use bytes::Bytes;
use futures_util::StreamExt as _;
use serde_json::{json, Value};

pub const TOKEN: &str = "24.scripted0access0token0value0000.2592000.1.282335-1";

#[derive(Clone, Debug)]
pub enum Behaviour {
    /// `data: {json}\n\n` events of a few characters each, `is_end` on the last.
    Tidy(String),
    /// The same events as hostile SSE: CRLF and LF mixed, comments, `data:` without a space,
    /// `id:`/`event:` lines, cut every 5 bytes (inside UTF-8 characters), no blank line at the end.
    Awkward(String),
    /// `{"error_code", "error_msg"}` with HTTP 200 and `application/json`.
    Error(i64, String),
    /// One event with `need_clear_history: true`.
    Blocked,
    /// The answer's events, the first content after `ttft`, then one every `gap`.
    Timed {
        answer: String,
        ttft: Duration,
        gap: Duration,
    },
}

/// Server-side timing of one answer.
#[derive(Clone, Copy, Debug)]
pub struct ServerTiming {
    pub received: Instant,
    pub first_content: Option<Instant>,
}

#[derive(Default)]
struct St {
    script: Vec<(String, Behaviour)>,
    chat_requests: Mutex<HashMap<String, usize>>,
    token_requests: Mutex<usize>,
    timings: Mutex<HashMap<String, ServerTiming>>,
    bodies: Mutex<Vec<Value>>,
}

pub struct QianfanScript {
    pub addr: SocketAddr,
    st: Arc<St>,
}

impl QianfanScript {
    pub fn start(script: Vec<(&str, Behaviour)>) -> QianfanScript {
        let st = Arc::new(St {
            script: script
                .into_iter()
                .map(|(k, b)| (k.to_string(), b))
                .collect(),
            ..Default::default()
        });
        let app = Router::new()
            .route("/oauth/2.0/token", post(token))
            .route(
                "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint}",
                post(chat),
            )
            .with_state(st.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(4)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                // As a streaming server should: without TCP_NODELAY a small event written while
                // the response headers await the client's delayed ACK is held back up to 40 ms.
                let listener = listener.tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                axum::serve(listener, app).await.unwrap();
            });
        });
        QianfanScript {
            addr: rx.recv().unwrap(),
            st,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Chat requests per marker.
    pub fn chat_requests(&self, marker: &str) -> usize {
        *self
            .st
            .chat_requests
            .lock()
            .unwrap()
            .get(marker)
            .unwrap_or(&0)
    }

    pub fn total_chat_requests(&self) -> usize {
        self.st.chat_requests.lock().unwrap().values().sum()
    }

    pub fn token_requests(&self) -> usize {
        *self.st.token_requests.lock().unwrap()
    }

    /// Server timing per last user message.
    pub fn timings(&self) -> HashMap<String, ServerTiming> {
        self.st.timings.lock().unwrap().clone()
    }

    /// Request bodies received.
    pub fn bodies(&self) -> Vec<Value> {
        self.st.bodies.lock().unwrap().clone()
    }
}

async fn token(State(st): State<Arc<St>>) -> Response {
    *st.token_requests.lock().unwrap() += 1;
    json_response(json!({"access_token": TOKEN, "expires_in": 2592000}))
}

fn json_response(v: Value) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

async fn chat(
    State(st): State<Arc<St>>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let received = Instant::now();
    if q.get("access_token").map(String::as_str) != Some(TOKEN) {
        return json_response(
            json!({"error_code": 110, "error_msg": "Access token invalid or no longer valid"}),
        );
    }
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    st.bodies.lock().unwrap().push(req.clone());
    let last = req["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string();
    let (marker, behaviour) = st
        .script
        .iter()
        .find(|(k, _)| last.contains(k.as_str()))
        .cloned()
        .unwrap_or_else(|| (String::new(), Behaviour::Tidy("ok".into())));
    *st.chat_requests.lock().unwrap().entry(marker).or_insert(0) += 1;
    match behaviour {
        Behaviour::Tidy(a) => sse(events(&a).into_iter().map(Bytes::from).collect()),
        Behaviour::Awkward(a) => sse(awkward(&a)),
        Behaviour::Error(code, msg) => {
            json_response(json!({"error_code": code, "error_msg": msg, "id": "as-err"}))
        }
        Behaviour::Blocked => sse(vec![Bytes::from(format!(
            "data: {}\n\n",
            json!({"id": "as-b", "sentence_id": 0, "is_end": true, "result": "", "need_clear_history": true, "ban_round": -1})
        ))]),
        Behaviour::Timed { answer, ttft, gap } => {
            st.timings.lock().unwrap().insert(
                last.clone(),
                ServerTiming {
                    received,
                    first_content: None,
                },
            );
            timed(st.clone(), last, received, events(&answer), ttft, gap)
        }
    }
}

/// The answer's events: deltas of 3 characters, usage on every event, `is_end` on the last.
pub fn events(answer: &str) -> Vec<String> {
    let chars: Vec<char> = answer.chars().collect();
    let pieces: Vec<String> = chars.chunks(3).map(|c| c.iter().collect()).collect();
    let n = pieces.len();
    pieces
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "data: {}\n\n",
                json!({"id": "as-1", "object": "chat.completion", "sentence_id": i, "is_end": i + 1 == n,
                       "is_truncated": false, "result": p, "need_clear_history": false,
                       "finish_reason": "normal",
                       "usage": {"prompt_tokens": 10, "completion_tokens": i + 1, "total_tokens": 11 + i}})
            )
        })
        .collect()
}

fn awkward(answer: &str) -> Vec<Bytes> {
    let mut body = String::from(": keep-alive\r\n\r\n");
    let evs = events(answer);
    let n = evs.len();
    for (i, e) in evs.iter().enumerate() {
        let payload = e.trim_end().strip_prefix("data: ").unwrap();
        // Each line ends in its own style; the blank line after it (none after the last event)
        // uses the same terminator, so a CR is never followed by an LF that would merge with it.
        let (lines, end) = match i % 3 {
            0 => (format!("id: {i}\r\ndata:{payload}\r\n"), "\r\n"),
            1 => (format!("event: message\ndata: {payload}\n"), "\n"),
            _ => (format!(": note\rdata:{payload}\r"), "\r"),
        };
        body.push_str(&lines);
        if i + 1 < n {
            body.push_str(end);
        }
    }
    body.into_bytes()
        .chunks(5)
        .map(Bytes::copy_from_slice)
        .collect()
}

/// Chunks as separate writes: a short pause before every 8th keeps many of them in separate reads.
fn sse(chunks: Vec<Bytes>) -> Response {
    let s = futures_util::stream::iter(chunks.into_iter().enumerate()).then(|(i, c)| async move {
        if i % 8 == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        } else {
            tokio::task::yield_now().await;
        }
        Ok::<_, std::io::Error>(c)
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(s))
        .unwrap()
}

/// Events at fixed offsets from `received`; the instant the first one is handed to the HTTP stack
/// is recorded as the server's first-content time.
fn timed(
    st: Arc<St>,
    key: String,
    received: Instant,
    events: Vec<String>,
    ttft: Duration,
    gap: Duration,
) -> Response {
    let start = tokio::time::Instant::from_std(received);
    let items: Vec<(usize, String)> = events.into_iter().enumerate().collect();
    let s = futures_util::stream::unfold(items.into_iter(), move |mut it| {
        let st = st.clone();
        let key = key.clone();
        async move {
            let (i, e) = it.next()?;
            tokio::time::sleep_until(start + ttft + gap * i as u32).await;
            if i == 0 {
                if let Some(t) = st.timings.lock().unwrap().get_mut(&key) {
                    t.first_content = Some(Instant::now());
                }
            }
            Some((Ok::<_, std::io::Error>(Bytes::from(e)), it))
        }
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(s))
        .unwrap()
}
