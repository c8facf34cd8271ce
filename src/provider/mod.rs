//! Endpoint clients: one file per wire protocol, plus the SSE decoder they share.
//!
//! `Client::attempt` sends one request and reads its stream. All timing lives here, once, for every
//! protocol: `t0` is taken immediately before the request is handed to the network, the first event
//! that carries non-empty content is stamped with the arrival time of the bytes that completed it, and
//! the end marker stamps the total. A protocol (`openai`, `qianfan`) only builds requests and reads
//! events. Errors are typed by what the caller does next (`RetryAdvice`), and every error keeps the
//! text that had arrived.

pub mod openai;
pub mod sse;

use std::time::{Duration, Instant};

use crate::inputs::config::{ProviderKind, ResolvedModel};
use crate::inputs::evalset::Message;
use crate::inputs::secret::Redactor;
use crate::records::ErrorKind;

/// What is sent: system text and the conversation (ending with the user turn to answer).
#[derive(Debug, Clone, Copy)]
pub struct Prompt<'a> {
    pub system: Option<&'a str>,
    pub messages: &'a [Message],
}

/// What the caller should do about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAdvice {
    /// Permanent for this request (bad request, auth, content blocked).
    Never,
    /// Transient: wait (honouring `retry_after`) and send again.
    Backoff,
    /// The credentials' token expired: refresh, then send again.
    Reauth,
}

/// A failed attempt. `message` has been through the redactor: it never carries a secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
    pub status: Option<u16>,
    pub code: Option<String>,
    pub advice: RetryAdvice,
    /// Server-requested wait (`Retry-After`), if any.
    pub retry_after: Option<Duration>,
}

impl Failure {
    pub fn new(kind: ErrorKind, advice: RetryAdvice, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
            status: None,
            code: None,
            advice,
            retry_after: None,
        }
    }

    /// A rate-limit answer: the model's limiter should slow down, not just retry.
    pub fn is_rate_limit(&self) -> bool {
        self.kind == ErrorKind::RateLimited
    }
}

/// Token counts reported by the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
}

/// What one attempt produced: the text received (possibly partial), its timing, and the failure if any.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    pub output: String,
    pub ttft_ms: Option<f64>,
    pub total_ms: Option<f64>,
    pub usage: Usage,
    pub finish_reason: Option<String>,
    pub failure: Option<Failure>,
}

/// What a protocol makes of one SSE event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Chunk {
    /// Content (possibly empty) and metadata; `end` marks the protocol's end of answer.
    Data {
        text: String,
        finish_reason: Option<String>,
        usage: Option<Usage>,
        end: bool,
    },
    Failure(Failure),
}

/// A wire protocol: how to build the request and how to read what comes back.
pub(crate) trait Wire {
    /// Build the streaming request for `prompt`.
    fn request(
        &self,
        http: &reqwest::Client,
        prompt: Prompt<'_>,
    ) -> Result<reqwest::RequestBuilder, Failure>;
    /// Read one SSE event's data.
    fn event(&self, data: &str) -> Chunk;
    /// Read a non-2xx answer.
    fn error_answer(
        &self,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &str,
    ) -> Failure;
    /// Read a whole JSON body that came instead of a stream (an error in a 200 body, or a server that
    /// ignored `stream`).
    fn json_answer(&self, body: &str) -> Chunk;
}

/// Timeouts of one attempt (issue: connect, first token, idle gap, whole request).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_token: Duration,
    pub idle: Duration,
    pub total: Duration,
}

impl Timeouts {
    pub fn from_total(total_s: f64) -> Self {
        let total = Duration::from_secs_f64(total_s);
        Timeouts {
            connect: Duration::from_secs(10).min(total),
            first_token: total,
            idle: Duration::from_secs(60).min(total),
            total,
        }
    }
}

/// A client for one configured model.
pub struct Client {
    http: reqwest::Client,
    wire: Box<dyn Wire + Send + Sync>,
    redactor: Redactor,
    timeouts: Timeouts,
}

/// Bodies of error answers are read up to this size; the rest is not needed to classify them.
const MAX_ERROR_BODY: usize = 64 * 1024;

impl Client {
    pub fn new(model: &ResolvedModel, redactor: Redactor) -> anyhow::Result<Self> {
        let timeouts = Timeouts::from_total(model.config.timeout_s);
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .pool_max_idle_per_host(model.config.concurrency.max(1))
            .build()?;
        let wire: Box<dyn Wire + Send + Sync> = match model.config.provider {
            ProviderKind::Openai => Box::new(openai::OpenAi::new(model)),
            ProviderKind::Qianfan => anyhow::bail!(
                "model `{}`: provider \"qianfan\" (v1) is not available in this build yet; use Qianfan v2 through provider \"openai\" (base_url = \"https://qianfan.baidubce.com/v2\")",
                model.name
            ),
        };
        Ok(Client {
            http,
            wire,
            redactor,
            timeouts,
        })
    }

    /// Send one request and read its answer to the end (or to the first failure).
    pub async fn attempt(&self, prompt: Prompt<'_>) -> Attempt {
        let request = match self.wire.request(&self.http, prompt) {
            Ok(r) => r,
            Err(f) => return failed(Attempt::default(), f),
        };
        let t0 = Instant::now();
        let deadline = tokio::time::Instant::from_std(t0 + self.timeouts.total);
        let first_deadline =
            tokio::time::Instant::from_std(t0 + self.timeouts.first_token).min(deadline);
        let ms = |t: Instant| t.duration_since(t0).as_secs_f64() * 1000.0;

        let response = match tokio::time::timeout_at(first_deadline, request.send()).await {
            Err(_) => {
                return failed(
                    Attempt::default(),
                    Failure::new(
                        ErrorKind::Timeout,
                        RetryAdvice::Backoff,
                        "no response headers before the first-token timeout",
                    ),
                )
            }
            Ok(Err(e)) => return failed(Attempt::default(), self.transport_failure(&e)),
            Ok(Ok(r)) => r,
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();

        if !(200..300).contains(&status) {
            let body = read_capped(response, deadline).await;
            let mut f = self.wire.error_answer(status, &headers, &body);
            f.message = self.redactor.scrub(&f.message);
            return failed(Attempt::default(), f);
        }
        if !content_type.contains("text/event-stream") {
            // A JSON body instead of a stream: Qianfan's errors come this way with HTTP 200.
            let body = read_capped(response, deadline).await;
            let now = Instant::now();
            let mut attempt = Attempt::default();
            match self.wire.json_answer(&body) {
                Chunk::Failure(mut f) => {
                    f.message = self.redactor.scrub(&f.message);
                    f.status.get_or_insert(status);
                    return failed(attempt, f);
                }
                Chunk::Data {
                    text,
                    finish_reason,
                    usage,
                    ..
                } => {
                    attempt.ttft_ms = (!text.is_empty()).then(|| ms(now));
                    attempt.total_ms = Some(ms(now));
                    attempt.output = text;
                    attempt.finish_reason = finish_reason;
                    attempt.usage = usage.unwrap_or_default();
                    return attempt;
                }
            }
        }

        let mut response = response;
        let mut decoder = sse::SseDecoder::new();
        let mut attempt = Attempt::default();
        let mut last_arrival = t0;
        loop {
            let wait_until = if attempt.ttft_ms.is_none() {
                first_deadline
            } else {
                tokio::time::Instant::from_std(last_arrival + self.timeouts.idle).min(deadline)
            };
            let chunk = match tokio::time::timeout_at(wait_until, response.chunk()).await {
                Err(_) => {
                    let what = if attempt.ttft_ms.is_none() {
                        "no content before the first-token timeout"
                    } else if tokio::time::Instant::now() >= deadline {
                        "the whole request took longer than timeout_s"
                    } else {
                        "no event within the idle timeout"
                    };
                    let f = Failure::new(ErrorKind::Timeout, RetryAdvice::Backoff, what);
                    return failed(attempt, f);
                }
                Ok(Err(e)) => {
                    let f = Failure::new(
                        ErrorKind::Truncated,
                        RetryAdvice::Backoff,
                        format!("stream broke before its end marker: {}", self.scrubbed(&e)),
                    );
                    return failed(attempt, f);
                }
                Ok(Ok(None)) => break,
                Ok(Ok(Some(bytes))) => bytes,
            };
            let arrived = Instant::now();
            last_arrival = arrived;
            for event in decoder.push(&chunk) {
                if let Some(done) = self.apply(&mut attempt, &event.data, arrived, ms) {
                    return done;
                }
            }
        }
        let now = Instant::now();
        let end = decoder.finish();
        if let Some(event) = end.pending {
            if let Some(done) = self.apply(&mut attempt, &event.data, now, ms) {
                return done;
            }
        }
        let detail = match end.torn_line {
            Some(_) => "the body ended in the middle of an event",
            None => "the body ended before the end marker",
        };
        let f = Failure::new(ErrorKind::Truncated, RetryAdvice::Backoff, detail);
        failed(attempt, f)
    }

    /// Apply one event to the attempt; `Some` when the attempt is finished (end marker or failure).
    fn apply(
        &self,
        attempt: &mut Attempt,
        data: &str,
        arrived: Instant,
        ms: impl Fn(Instant) -> f64,
    ) -> Option<Attempt> {
        match self.wire.event(data) {
            Chunk::Failure(mut f) => {
                f.message = self.redactor.scrub(&f.message);
                Some(failed(std::mem::take(attempt), f))
            }
            Chunk::Data {
                text,
                finish_reason,
                usage,
                end,
            } => {
                if !text.is_empty() {
                    attempt.ttft_ms.get_or_insert_with(|| ms(arrived));
                    attempt.output.push_str(&text);
                }
                if finish_reason.is_some() {
                    attempt.finish_reason = finish_reason;
                }
                if let Some(u) = usage {
                    attempt.usage = u;
                }
                if end {
                    attempt.total_ms = Some(ms(arrived));
                    return Some(std::mem::take(attempt));
                }
                None
            }
        }
    }

    fn transport_failure(&self, e: &reqwest::Error) -> Failure {
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else {
            ErrorKind::Network
        };
        Failure::new(kind, RetryAdvice::Backoff, self.scrubbed(e))
    }

    /// reqwest's errors print the URL, and Qianfan's URLs carry secrets: strip it, then scrub the rest.
    fn scrubbed(&self, e: &reqwest::Error) -> String {
        let mut text = String::new();
        let mut source: Option<&dyn std::error::Error> = Some(e);
        let mut first = true;
        while let Some(err) = source {
            let s = if first {
                let mut owned = format!("{err}");
                if let Some(url) = e.url() {
                    owned = owned.replace(url.as_str(), "<url>");
                }
                owned
            } else {
                err.to_string()
            };
            if !text.contains(&s) {
                if !first {
                    text.push_str(": ");
                }
                text.push_str(&s);
            }
            first = false;
            source = err.source();
        }
        self.redactor.scrub(&text)
    }
}

fn failed(mut attempt: Attempt, failure: Failure) -> Attempt {
    attempt.failure = Some(failure);
    attempt
}

async fn read_capped(mut response: reqwest::Response, deadline: tokio::time::Instant) -> String {
    let mut buf = Vec::new();
    while buf.len() < MAX_ERROR_BODY {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(b))) => buf.extend_from_slice(&b),
            _ => break,
        }
    }
    buf.truncate(MAX_ERROR_BODY);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The first `n` characters of `s`, for error messages that quote a server.
pub(crate) fn snippet(s: &str, n: usize) -> String {
    let t: String = s.trim().chars().take(n).collect();
    if t.len() < s.trim().len() {
        format!("{t}…")
    } else {
        t
    }
}
