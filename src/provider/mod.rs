//! Endpoint clients: one file per wire protocol, plus the SSE decoder they share.
//!
//! `Client::attempt` sends one request and reads its stream. All timing lives here, once, for every
//! protocol: `t0` is taken immediately before the request is handed to the network, the first event
//! that carries non-empty content is stamped with the arrival time of the bytes that completed it, and
//! the end marker stamps the total. A protocol (`openai`, `qianfan`) only builds requests and reads
//! events. Errors are typed by what the caller does next (`RetryAdvice`), and every error keeps the
//! text that had arrived.
//!
//! Qianfan v1's access token is fetched before `t0` (token time is never latency); an answer refused
//! with 110/111 gets one single-flight token refresh and is resent inside the same attempt — the
//! refused request produced nothing, so the attempt's timing is the resent request's (`qianfan.rs`).

pub mod body;
pub mod event;
#[cfg(test)]
mod fuzz;
pub mod openai;
pub mod qianfan;
pub mod sse;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::inputs::config::{ModelConfig, ProviderKind, ResolvedModel};
use crate::inputs::evalset::Message;
use crate::inputs::secret::Redactor;
use crate::records::ErrorKind;

/// What is sent: system text and the conversation (ending with the user turn to answer).
#[derive(Debug, Clone, Copy)]
pub struct Prompt<'a> {
    /// System text, when there is any.
    pub system: Option<&'a str>,
    /// The conversation, ending with the user turn to answer.
    pub messages: &'a [Message],
    /// The shape the reply must have, for endpoints that constrain their output (the judge's
    /// `structured_replies`); `None` = free text.
    pub reply_schema: Option<&'a ReplySchema>,
}

/// A JSON schema the reply must follow: OpenAI-compatible servers get it as
/// `response_format: {type: json_schema, …}`, Qianfan v1 as `response_format: "json_object"`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplySchema {
    /// The schema's name (`json_schema.name`).
    pub name: &'static str,
    /// The JSON schema.
    pub schema: serde_json::Value,
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
    /// The error class recorded for this failure.
    pub kind: ErrorKind,
    /// What went wrong, with secrets redacted.
    pub message: String,
    /// HTTP status, when the server answered.
    pub status: Option<u16>,
    /// The server's error code, when it gave one.
    pub code: Option<String>,
    /// Whether and how the request may be retried.
    pub advice: RetryAdvice,
    /// Server-requested wait (`Retry-After`), if any.
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A failure with no status, code or `Retry-After`.
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
    /// Input tokens the server counted.
    pub prompt_tokens: Option<u64>,
    /// Output tokens the server counted.
    pub completion_tokens: Option<u64>,
}

impl Usage {
    /// `None` when the server sent a `usage` object without a count: nothing was reported, so the
    /// counts are estimated (both readings of an event agree on this).
    pub fn reported(self) -> Option<Usage> {
        (self.prompt_tokens.is_some() || self.completion_tokens.is_some()).then_some(self)
    }
}

/// What one attempt produced: the text received (possibly partial), its timing, and the failure if any.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    /// The answer text received (possibly partial).
    pub output: String,
    /// Milliseconds from sending to the first token, when one arrived.
    pub ttft_ms: Option<f64>,
    /// Milliseconds from sending to the end of the answer, when it ended.
    pub total_ms: Option<f64>,
    /// Token counts (the server's, or estimated when `tokens_estimated`).
    pub usage: Usage,
    /// The server's finish reason, when it gave one.
    pub finish_reason: Option<String>,
    /// Why the attempt failed; `None` on success.
    pub failure: Option<Failure>,
    /// The server's `X-Ratelimit-*` headers, when it sent any.
    pub rate: Option<RateHeaders>,
    /// Some of the answer's bytes were not UTF-8; `output` has U+FFFD in their place.
    pub invalid_utf8: bool,
    /// `usage` is evalrun's estimate: the server reported no token counts (set by the runner).
    pub tokens_estimated: bool,
}

/// `X-Ratelimit-Limit-/Remaining-/Reset-Requests|Tokens` (PROTOCOLS §1.7; OpenAI sends the same
/// names). Limits are per minute, as both Qianfan and OpenAI define them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateHeaders {
    /// Request limit per minute.
    pub limit_requests: Option<f64>,
    /// Requests left in the current window.
    pub remaining_requests: Option<f64>,
    /// Time until the request window resets.
    pub reset_requests: Option<Duration>,
    /// Token limit per minute.
    pub limit_tokens: Option<f64>,
    /// Tokens left in the current window.
    pub remaining_tokens: Option<f64>,
    /// Time until the token window resets.
    pub reset_tokens: Option<Duration>,
}

impl RateHeaders {
    /// Reads the rate-limit headers; `None` when none is present.
    pub fn parse(headers: &reqwest::header::HeaderMap) -> Option<RateHeaders> {
        let text = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).map(str::trim);
        let num = |k: &str| {
            text(k)
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|x| x.is_finite() && *x >= 0.0)
        };
        let r = RateHeaders {
            limit_requests: num("x-ratelimit-limit-requests"),
            remaining_requests: num("x-ratelimit-remaining-requests"),
            reset_requests: text("x-ratelimit-reset-requests").and_then(parse_reset),
            limit_tokens: num("x-ratelimit-limit-tokens"),
            remaining_tokens: num("x-ratelimit-remaining-tokens"),
            reset_tokens: text("x-ratelimit-reset-tokens").and_then(parse_reset),
        };
        (r != RateHeaders::default()).then_some(r)
    }
}

/// A reset time as OpenAI writes it (`1s`, `6m0s`, `20ms`, `1h2m3.5s`) or plain seconds.
fn parse_reset(s: &str) -> Option<Duration> {
    if let Ok(secs) = s.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let mut total = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|&e| e > 0)?;
        let value: f64 = rest[..end].parse().ok()?;
        rest = &rest[end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        total += value
            * match &rest[..unit_end] {
                "h" => 3600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 0.001,
                _ => return None,
            };
        rest = &rest[unit_end..];
    }
    Some(Duration::from_secs_f64(total))
}

/// What a protocol makes of one SSE event; its text borrows from the event when it can.
#[derive(Debug, Clone, PartialEq)]
pub enum Chunk<'a> {
    /// Content (possibly empty) and metadata; `end` marks the protocol's end of answer.
    Data {
        /// The content in this event.
        text: Cow<'a, str>,
        /// The finish reason, when the event names one.
        finish_reason: Option<String>,
        /// Token counts, when the event carries them.
        usage: Option<Usage>,
        /// Whether this event ends the answer.
        end: bool,
    },
    /// The event reports an error.
    Failure(Failure),
}

/// A wire protocol: how to build the request and how to read what comes back. Public so that the
/// benchmarks (`benches/`) can drive the chunk parsers.
pub trait Wire {
    /// Refuse, before anything is sent (a token included), a request the server would refuse.
    fn validate(&self, _prompt: Prompt<'_>) -> Result<(), Failure> {
        Ok(())
    }
    /// Build the streaming request for `prompt`; `token` is the access token of protocols that
    /// mint one (Qianfan v1). A request the server would refuse fails here, as `bad_request`.
    fn request(
        &self,
        http: &reqwest::Client,
        prompt: Prompt<'_>,
        token: Option<&str>,
    ) -> Result<reqwest::RequestBuilder, Failure>;
    /// Read one SSE event's data.
    fn event<'a>(&self, data: &'a str) -> Chunk<'a>;
    /// Read a non-2xx answer.
    fn error_answer(
        &self,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &str,
    ) -> Failure;
    /// The protocol always names a finish reason before its end marker (OpenAI's `[DONE]`): a stream
    /// that ends without one was stopped by the server, not finished.
    fn needs_finish_reason(&self) -> bool {
        false
    }
    /// Read a whole JSON body that came instead of a stream (an error in a 200 body, or a server that
    /// ignored `stream`).
    fn json_answer<'a>(&self, body: &'a str) -> Chunk<'a>;
}

/// Timeouts of one attempt (issue: connect, first token, idle gap, whole request).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Limit on establishing the connection.
    pub connect: Duration,
    /// Limit on waiting for the first token.
    pub first_token: Duration,
    /// Limit on the gap between two chunks.
    pub idle: Duration,
    /// Limit on the whole request.
    pub total: Duration,
}

impl Timeouts {
    /// Timeouts from the whole-request limit: connect ≤ 10 s, idle gap ≤ 60 s, first token = total.
    pub fn from_total(total_s: f64) -> Self {
        let total = Duration::from_secs_f64(total_s);
        Timeouts {
            connect: Duration::from_secs(10).min(total),
            first_token: total,
            idle: Duration::from_secs(60).min(total),
            total,
        }
    }

    /// `timeout_s` plus the optional `connect_timeout_s`, `first_token_timeout_s`, `idle_timeout_s`;
    /// none is longer than the whole request.
    pub fn from_config(c: &ModelConfig) -> Self {
        let d = Timeouts::from_total(c.timeout_s);
        let pick = |v: Option<f64>, default: Duration| {
            v.map(Duration::from_secs_f64)
                .unwrap_or(default)
                .min(d.total)
        };
        Timeouts {
            connect: pick(c.connect_timeout_s, d.connect),
            first_token: pick(c.first_token_timeout_s, d.first_token),
            idle: pick(c.idle_timeout_s, d.idle),
            total: d.total,
        }
    }
}

/// The error code of a request refused before anything was sent, because of the item's content.
pub const NOT_SENT: &str = "not_sent";

/// A client for one configured model.
pub struct Client {
    http: reqwest::Client,
    wire: Box<dyn Wire + Send + Sync>,
    redactor: Redactor,
    timeouts: Timeouts,
    /// Reading an answer stops at this many bytes of text (`too_large`).
    max_answer_bytes: usize,
    /// Qianfan v1's access token, shared process-wide by models with the same keys.
    auth: Option<Arc<qianfan::TokenSource>>,
}

impl Client {
    /// Builds the HTTP client and wire protocol for `model`.
    pub fn new(model: &ResolvedModel, redactor: Redactor) -> anyhow::Result<Self> {
        let timeouts = Timeouts::from_config(&model.config);
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .pool_max_idle_per_host(model.config.concurrency.max(1))
            .build()?;
        // reqwest sends a URL's user-info as `Authorization: Basic`: a server may echo it.
        redactor.learn_url_userinfo(&model.base_url);
        let (wire, auth): (Box<dyn Wire + Send + Sync>, _) = match model.config.provider {
            ProviderKind::Openai => (Box::new(openai::OpenAi::new(model)), None),
            ProviderKind::Qianfan => {
                let (Some(ak), Some(sk)) = (&model.api_key, &model.secret_key) else {
                    anyhow::bail!(
                        "model `{}`: provider \"qianfan\" needs api_key_env and secret_key_env",
                        model.name
                    );
                };
                let source = qianfan::TokenSource::shared(&model.base_url, ak, sk);
                (Box::new(qianfan::Qianfan::new(model)), Some(source))
            }
        };
        Ok(Client {
            http,
            wire,
            redactor,
            timeouts,
            max_answer_bytes: max_answer_bytes(model),
            auth,
        })
    }

    /// Send one request and read its answer to the end (or to the first failure). With an access
    /// token (Qianfan v1), a 110/111 refusal gets one single-flight refresh and one resend.
    pub async fn attempt(&self, prompt: Prompt<'_>) -> Attempt {
        let Some(auth) = &self.auth else {
            return self.send(prompt, None).await;
        };
        if let Err(mut f) = self.wire.validate(prompt) {
            f.message = self.redactor.scrub(&f.message);
            f.code.get_or_insert_with(|| NOT_SENT.into());
            return failed(Attempt::default(), f);
        }
        let mut failed_generation = None;
        loop {
            let token = match auth
                .token(&self.http, failed_generation, &self.redactor)
                .await
            {
                Ok(t) => t,
                Err(mut f) => {
                    f.message = self.redactor.scrub(&f.message);
                    return failed(Attempt::default(), f);
                }
            };
            let attempt = self.send(prompt, Some(token.value.expose())).await;
            let refused = attempt
                .failure
                .as_ref()
                .is_some_and(|f| f.advice == RetryAdvice::Reauth);
            if !refused || failed_generation.is_some() {
                return attempt;
            }
            failed_generation = Some(token.generation);
        }
    }

    /// One HTTP request: timing, headers, body.
    async fn send(&self, prompt: Prompt<'_>, token: Option<&str>) -> Attempt {
        let request = match self.wire.request(&self.http, prompt, token) {
            Ok(r) => r,
            Err(mut f) => {
                f.message = self.redactor.scrub(&f.message);
                return failed(Attempt::default(), f);
            }
        };
        let t0 = Instant::now();
        let deadline = tokio::time::Instant::from_std(t0 + self.timeouts.total);
        let first_deadline =
            tokio::time::Instant::from_std(t0 + self.timeouts.first_token).min(deadline);

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
        let rate = RateHeaders::parse(response.headers());
        let mut attempt = self.read(response, t0, first_deadline, deadline).await;
        attempt.rate = rate;
        attempt
    }

    /// Read an answer whose headers arrived: an error status, a JSON body (Qianfan's errors come
    /// this way with HTTP 200) or an event stream.
    async fn read(
        &self,
        response: reqwest::Response,
        t0: Instant,
        first_deadline: tokio::time::Instant,
        deadline: tokio::time::Instant,
    ) -> Attempt {
        let ms = |t: Instant| t.duration_since(t0).as_secs_f64() * 1000.0;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();

        let max = self.max_answer_bytes;
        if !(200..300).contains(&status) {
            let body = body::read_capped(response, deadline, body::MAX_ERROR_BODY.min(max)).await;
            let mut f = self.wire.error_answer(status, &headers, &body.text);
            f.message = self.redactor.scrub(&f.message);
            return failed(Attempt::default(), f);
        }
        if !content_type.contains("text/event-stream") {
            // A JSON body instead of a stream: Qianfan's errors come this way with HTTP 200.
            let body = body::read_capped(response, deadline, body::raw_cap(max)).await;
            let now = Instant::now();
            let mut attempt = Attempt {
                invalid_utf8: body.invalid_utf8,
                ..Attempt::default()
            };
            if body.over {
                // A JSON body cut short cannot be parsed: nothing of it is kept.
                return failed(attempt, body::too_large(max));
            }
            match self.wire.json_answer(&body.text) {
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
                    attempt.finish_reason = finish_reason;
                    attempt.usage = usage.unwrap_or_default();
                    let over = body::append_capped(&mut attempt.output, &text, max);
                    attempt.output = self.redactor.scrub_answer(&attempt.output);
                    return match over {
                        Some(f) => failed(attempt, f),
                        None => attempt,
                    };
                }
            }
        }

        let mut decoder = sse::SseDecoder::new();
        let mut attempt = self
            .read_stream(response, &mut decoder, t0, first_deadline, deadline)
            .await;
        attempt.invalid_utf8 = decoder.saw_invalid_utf8();
        attempt.output = self.redactor.scrub_answer(&attempt.output);
        attempt
    }

    /// Read an event stream to its end marker, a failure, or `max_answer_bytes`.
    async fn read_stream(
        &self,
        mut response: reqwest::Response,
        decoder: &mut sse::SseDecoder,
        t0: Instant,
        first_deadline: tokio::time::Instant,
        deadline: tokio::time::Instant,
    ) -> Attempt {
        let ms = |t: Instant| t.duration_since(t0).as_secs_f64() * 1000.0;
        let mut attempt = Attempt::default();
        let mut last_arrival = t0;
        // One timer per request, armed at the current limit. The idle limit moves with every
        // arrival, but the timer is not re-armed per chunk: when it fires it checks the limit as it
        // stands then, and re-arms only if that limit is later.
        let limit = |started: bool, last: Instant| {
            if started {
                tokio::time::Instant::from_std(last + self.timeouts.idle).min(deadline)
            } else {
                first_deadline
            }
        };
        let timer = tokio::time::sleep_until(first_deadline);
        tokio::pin!(timer);
        loop {
            let chunk = tokio::select! {
                biased;
                chunk = response.chunk() => chunk,
                () = &mut timer => {
                    let now_limit = limit(attempt.ttft_ms.is_some(), last_arrival);
                    if tokio::time::Instant::now() < now_limit {
                        timer.as_mut().reset(now_limit);
                        continue;
                    }
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
            };
            let chunk = match chunk {
                Err(e) => {
                    let f = Failure::new(
                        ErrorKind::Truncated,
                        RetryAdvice::Backoff,
                        format!("stream broke before its end marker: {}", self.scrubbed(&e)),
                    );
                    return failed(attempt, f);
                }
                Ok(None) => break,
                Ok(Some(bytes)) => bytes,
            };
            let arrived = Instant::now();
            last_arrival = arrived;
            let started = attempt.ttft_ms.is_some();
            let flow = decoder.push_each(&chunk, |_, data| {
                match self.apply(&mut attempt, data, arrived, ms) {
                    Some(done) => std::ops::ControlFlow::Break(done),
                    None => std::ops::ControlFlow::Continue(()),
                }
            });
            if let std::ops::ControlFlow::Break(done) = flow {
                return done;
            }
            if !started && attempt.ttft_ms.is_some() {
                // From the first token on, the (possibly earlier) idle limit applies.
                timer.as_mut().reset(limit(true, last_arrival));
            }
            if decoder.pending_len() > body::raw_cap(self.max_answer_bytes) {
                return failed(attempt, body::too_large(self.max_answer_bytes));
            }
        }
        let now = Instant::now();
        let end = std::mem::take(decoder).finish();
        if let Some(event) = end.pending {
            if let Some(done) = self.apply(&mut attempt, &event.data, now, ms) {
                return done;
            }
        }
        if let Some(stray) = &end.stray_json {
            // A JSON error body sent as text/event-stream (the Qianfan SDK reads such lines too).
            if let Chunk::Failure(mut f) = self.wire.json_answer(stray) {
                f.message = self.redactor.scrub(&f.message);
                return failed(attempt, f);
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
                    let over =
                        body::append_capped(&mut attempt.output, &text, self.max_answer_bytes);
                    if let Some(f) = over {
                        return Some(failed(std::mem::take(attempt), f));
                    }
                }
                if finish_reason.is_some() {
                    attempt.finish_reason = finish_reason;
                }
                if let Some(u) = usage {
                    attempt.usage = u;
                }
                if end {
                    attempt.total_ms = Some(ms(arrived));
                    if attempt.finish_reason.is_none() && self.wire.needs_finish_reason() {
                        // llama.cpp's server ends an interrupted stream exactly so.
                        let f = Failure::new(
                            ErrorKind::Truncated,
                            RetryAdvice::Backoff,
                            "the stream ended with its end marker but no finish_reason: the server stopped the answer",
                        );
                        return Some(failed(std::mem::take(attempt), f));
                    }
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

    fn scrubbed(&self, e: &reqwest::Error) -> String {
        scrub_reqwest(e, &self.redactor)
    }
}

/// reqwest's errors print the URL, and Qianfan's URLs carry secrets: strip it, then scrub the rest.
pub(crate) fn scrub_reqwest(e: &reqwest::Error, redactor: &Redactor) -> String {
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
    redactor.scrub(&text)
}

fn failed(mut attempt: Attempt, failure: Failure) -> Attempt {
    attempt.failure = Some(failure);
    attempt
}

/// The model's `max_answer_bytes`. The configuration key is read by `inputs::config` (issue 14);
/// until the resolved model carries it, every model has the default.
fn max_answer_bytes(model: &ResolvedModel) -> usize {
    usize::try_from(model.max_answer_bytes()).unwrap_or(usize::MAX)
}

/// Parse what a server sent as JSON; when it is not JSON, the retried `protocol` failure that says
/// `what` was expected and quotes what came instead.
pub(crate) fn parse_json(text: &str, what: &str) -> Result<serde_json::Value, Chunk<'static>> {
    serde_json::from_str(text.trim()).map_err(|e| {
        Chunk::Failure(Failure::new(
            ErrorKind::Protocol,
            RetryAdvice::Backoff,
            format!("{what} ({e}): {}", snippet(text, 300)),
        ))
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_headers_parse_both_vendors_spellings() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(RateHeaders::parse(&h), None);
        for (k, v) in [
            ("x-ratelimit-limit-requests", "300"),
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "6m0.5s"),
            ("x-ratelimit-limit-tokens", "300000"),
            ("x-ratelimit-remaining-tokens", "299000"),
            ("x-ratelimit-reset-tokens", "20ms"),
        ] {
            h.insert(k, v.parse().unwrap());
        }
        let r = RateHeaders::parse(&h).unwrap();
        assert_eq!(r.limit_requests, Some(300.0));
        assert_eq!(r.remaining_requests, Some(0.0));
        assert_eq!(r.reset_requests, Some(Duration::from_secs_f64(360.5)));
        assert_eq!(r.limit_tokens, Some(300000.0));
        assert_eq!(r.reset_tokens, Some(Duration::from_millis(20)));
        assert_eq!(parse_reset("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_reset("1h2m3s"), Some(Duration::from_secs(3723)));
        assert_eq!(parse_reset("soon"), None);
    }

    #[test]
    fn timeouts_default_from_the_whole_request_and_never_exceed_it() {
        let text = "[models.m]\nprovider = \"openai\"\nbase_url = \"http://h/v1\"\nmodel = \"x\"\ntimeout_s = 30\nidle_timeout_s = 5\nfirst_token_timeout_s = 90\n";
        let c = crate::inputs::config::Config::parse(std::path::Path::new("c.toml"), text).unwrap();
        let t = Timeouts::from_config(&c.models["m"]);
        assert_eq!(t.connect, Duration::from_secs(10));
        assert_eq!(t.idle, Duration::from_secs(5));
        assert_eq!(t.first_token, Duration::from_secs(30));
        assert_eq!(t.total, Duration::from_secs(30));
    }
}
