//! The endpoint simulator: a loopback HTTP server speaking the Qianfan v1, Qianfan v2 and
//! OpenAI-compatible wire protocols exactly as the real SDKs expect (`PROTOCOLS.md` §5). It is
//! the test double of every integration test, `evalrun sim` and `evalrun demo`.
//!
//! It imports nothing from the rest of evalrun, so a test in which evalrun's client and this
//! server agree proves something about the protocol, not about shared code (`DESIGN.md` §8).
//!
//! # Routes
//!
//! | route | protocol |
//! | --- | --- |
//! | `POST /oauth/2.0/token?grant_type=client_credentials&client_id=AK&client_secret=SK` | access token `24.…`, `expires_in` 2592000; bad credentials → HTTP 401 `{"error":"invalid_client","error_description":"unknown client id" \| "Client authentication failed"}` |
//! | `POST /rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint}?access_token=T` | Qianfan v1 chat, stream and not |
//! | `POST /v1/chat/completions` | OpenAI chat, stream and not |
//! | `POST /v1/completions` | OpenAI legacy prompt → completion (`stop`, `max_tokens` default 16) |
//! | `POST /v2/chat/completions` | Qianfan v2 (OpenAI shape; `appid` header ignored) |
//! | `GET /v1/models` | OpenAI model list (`{"object":"list","data":[{"id",…}]}`) |
//! | `POST /rpc/2.0/ai_custom/v1/wenxinworkshop/completions/{endpoint}?access_token=T` | Qianfan v1 non-chat completions: `prompt` → `result` (answered as the one-turn chat; counted under the chat route) |
//! | `GET /sim/stats` | [`SimStats`] as JSON |
//! | `GET /sim/models` | [`models`] as JSON |
//!
//! Any other path answers 404 with an OpenAI-shaped error naming the path (a wrong base URL).
//!
//! **Qianfan v1.** The token comes from the query: missing or unknown → `error_code` 110 "Access
//! token invalid or no longer valid"; expired (`expire_every`) → 111 "Access token expired". An
//! unknown endpoint → 3 "Unsupported openapi method". The body is checked as PROTOCOLS §1.3 says
//! (unknown fields ignored) → 336002 (not JSON) / 336003 with the real service's messages where
//! known ("the length of messages must be an odd number", "message content can not be empty",
//! "the max length of current question is N"). Errors are HTTP 200 +
//! `Content-Type: application/json` `{"error_code","error_msg","id"}`, also when `stream: true`.
//! A non-stream answer is one JSON object (`id, object, created, result, is_truncated,
//! need_clear_history, finish_reason, usage`); a stream is `text/event-stream`, chunked, one
//! `data: {json}\n\n` event per token with `sentence_id` from 0 and `is_end: true` on the last,
//! then the body ends (no `[DONE]`).
//!
//! **OpenAI / v2.** Any bearer key is accepted unless credentials are configured, then it must be
//! the API key (else 401 `invalid_api_key`). Errors: `{"error":{"message","type","code"}}` with
//! 400 (`invalid_argument`), 404 (`model_not_found`), 429 (`rate_limit_exceeded`, with
//! `Retry-After` seconds and `retry-after-ms`), 500, 503. v2 also checks v1's odd/alternating
//! conversation rule and adds `id` to errors and `need_clear_history` to choices. A stream is a
//! role-only first chunk (`delta: {"role":"assistant","content":""}`), one content chunk per
//! token, a `finish_reason` chunk, a `choices: []` usage chunk when
//! `stream_options.include_usage`, then `data: [DONE]`.
//!
//! Every chat answer (and chat error) carries `X-Ratelimit-Limit-Requests` (per minute),
//! `X-Ratelimit-Remaining-Requests`, `X-Ratelimit-Limit-Tokens` and
//! `X-Ratelimit-Remaining-Tokens` (1,000,000 and 1,000,000,000 when no limit is configured: the
//! simulator then enforces none, and advertises rates no client reaches).
//!
//! # Models
//!
//! | profile | v1 segment(s) | OpenAI / v2 ids | behaviour |
//! | --- | --- | --- | --- |
//! | `ernie-4.0` | `completions_pro` | `ernie-4.0`, `ernie-4.0-8k`, `ernie-bot-4` | keeps the format (a rare ```json fence), leaves short answers uncorrected, explains its own Reply; slow (1.17 s first token, ~12.8 s total) |
//! | `ernie-3.5` | `completions` | `ernie-3.5`, `ernie-3.5-8k`, `ernie-bot` | between 4.0 and Speed (not in the seeds) |
//! | `ernie-speed` | `ernie_speed`, `ernie-speed-128k` | `ernie-speed`, `ernie-speed-8k`, `ernie-speed-128k` | the sloppy base model of seed 000 §1: prose, fences, `[学生回复]`, teacher-voiced Suggestions, no reminders (0.72 s first token) |
//! | `ernie-lite` | `ernie-lite-8k`, `eb-instant` | `ernie-lite`, `ernie-lite-8k`, `eb-instant` | sloppier still (not in the seeds) |
//! | `sft-full-e3-lr3e-5` | `sft_full_e3_lr3e5` | same as profile | full-update fine-tunes: mostly clean (0.68 s / ~4.2 s) |
//! | `sft-full-e3-lr6e-5` | `sft_full_e3_lr6e5` | same | |
//! | `sft-full-e6-lr3e-5` | `sft_full_e6_lr3e5` | same | the best, as in the seed |
//! | `sft-lora-e3-lr3e-4` | `sft_lora_e3_lr3e4` | same | LoRA fine-tunes: a little behind full update |
//! | `sft-lora-e3-lr6e-4` | `sft_lora_e3_lr6e4` | same | |
//! | `sft-lora-e6-lr3e-4` | `sft_lora_e6_lr3e4` | same | |
//! | `judge` | `ernie_judge` | `judge` | the judge: grades evalrun's judge prompts by the rubric's level texts and answers its GSB prompts (`judge.rs`); fast (0.4 s first token) |
//! | `judge-b`, `judge-c` | `ernie_judge_b`, `ernie_judge_c` | same as profile | two more judges for judge panels: they grade as `judge` does but misread other answers (their hashes are salted with their name, `judge_lean.rs`); `bias`, `noise` and `family` make them lean |
//!
//! Further names (e.g. a real deployment's segment `rfthglwm_english0512`) can be mapped to a
//! profile with [`SimConfig::aliases`] / `--alias NAME=PROFILE`.
//!
//! Each profile has one table of behaviour rates (`profiles.rs`, `Behaviour`): prose before the
//! JSON, ```json fences, `[学生回复]` continuations, Reply over 30 words, a flat Reply that asks
//! nothing back, Chinese in English fields, teacher-voiced Suggestions, Suggestions that do not
//! follow the Reply, an Analysis that explains the Reply, uncorrected grammar, no reminder for
//! off-topic or Chinese replies, multi-line JSON. Otherwise an answer is good: strict JSON, a short
//! Reply that moves the talk on, three student-voiced Suggestions (one about the topic), a Chinese
//! Analysis that corrects errors, "Please try to use English in your response." for Chinese. The
//! seed line-up's rates are calibrated so that `evalrun demo` reproduces seed 000 §3.3.2's table
//! (`calibration.rs` is the fast loop, `tests/e2e/demo_calibration.rs` the end-to-end check). Tutor prompts are
//! recognised by "你是一位英文口语老师" (`tutor.rs`). Prompts that ask for "N字" get Chinese text of
//! about that length (times the profile's `length_bias`); legacy prompts ending in `->` get a
//! Chinese story of sentences ending in "。"; anything else gets generic text.
//!
//! Everything is deterministic: answers, latencies and faults are hashes of the configured seed,
//! the profile, the request (system, messages, `seed`; the same on the v1 and OpenAI routes) and a
//! counter. Faults and latencies count every arrival of the same request, so a retry draws afresh;
//! what the model says counts samples: a request takes the lowest sample index no other request
//! holds and gives it back when its answer is not delivered whole (5xx, TPM refusal, torn or cut
//! stream). So repeated samples differ, a retry after a fault gets the answer the failed attempt
//! would have given, and a fresh server replays the same sequence. A tutor answer hashes the parsed
//! conversation (opening or turn, topic, lines) rather than the request text.
//! Latency: a log-normal time to first token around the profile's mean, then a log-normal gap
//! per token; every delay is multiplied by [`SimConfig::time_scale`].
//!
//! # Faults: the `--faults` SPEC
//!
//! A comma-separated list of `KEY=VALUE` items; `MODEL:KEY=VALUE` sets a key for one model only
//! (MODEL is any of its names; it overrides the global value). Example:
//! `rate=5,rate_code=336501,expire_every=20,tear=0.05,error500=0.02,stall=0.01,ernie-4.0:rate=1`.
//!
//! | key | value | effect |
//! | --- | --- | --- |
//! | `rate` | requests/s | per-model token bucket (burst `max(1, rate)`, real time, not scaled); above it v1 answers `rate_code` as HTTP 200 JSON, OpenAI 429 + `Retry-After` |
//! | `rate_code` | `336501` (default) or `18` | v1 code for `rate` ("Rate limit reached for RPM" / "Open api qps request limit reached") |
//! | `tpm` | tokens/minute | rolling-minute budget of prompt + completion tokens; above it v1 336502, OpenAI 429 |
//! | `retry_after` | seconds | fixed `Retry-After` (default: time until the limit admits, rounded up, ≥ 1) |
//! | `expire_every` | N (global only) | each access token serves N chat calls, then answers 111 until refreshed |
//! | `error500` | probability | HTTP 500 (v1 body `error_code` 336000; OpenAI `server_error`) |
//! | `overload` | probability | v1 336100 as HTTP 200 JSON; OpenAI 503 |
//! | `tear` | probability | the body breaks off in the middle of an event (or of a non-stream body) and the connection is aborted: never reaches `is_end` / `[DONE]` |
//! | `cut` | probability | a stream ends cleanly after a whole event but before `is_end` / `[DONE]` |
//! | `stall` | probability | a pause of `stall_ms` before a token in the middle of the answer |
//! | `stall_ms` | milliseconds | stall length (default 30000; scaled by `time_scale`) |
//! | `no_finish` | probability | an OpenAI stream ends with `[DONE]` but sends no `finish_reason` (llama.cpp's server interrupting an answer) |
//! | `no_usage` | probability | an OpenAI stream sends no usage, even when asked (`stream_options.include_usage`) |
//! | `bad_utf8` | probability | a byte 0xFF (not UTF-8) in an OpenAI stream's first content |
//! | `huge` | bytes | every OpenAI stream carries this many more bytes of answer text (in 64 KiB events) |
//! | `echo_auth` | probability | an OpenAI route answers HTTP 500 whose JSON body echoes the request's `Authorization` headers |
//! | `garbage` | probability | the `judge` profile replies unusably (no JSON, cut off, off the scale) on every call for this share of the answers it grades or compares, chosen by a hash of the answers; e.g. `judge:garbage=0.2` |
//! | `degrade` | `DIM:AMOUNT` (per model) | the judge lowers this model's score on rubric dimension DIM by ⌊AMOUNT⌋ levels, plus one more with probability frac(AMOUNT) (hashed per answer), never below the bottom level: the expected score falls by AMOUNT where answers score above the bottom (the gate's power benchmark, `scripts/gate_power.sh`); e.g. `sft-full-e3-lr3e-5:degrade=reply:0.2` |
//! | `drift` | `AMOUNT` or `DIM:AMOUNT` (the `judge` profile) | the judge lowers every grade on every dimension (or on DIM) as `degrade` does, whoever answered: a silently changed judge (`evalrun judge-check`); e.g. `judge:drift=0.3` |
//! | `family` | `NAME` (per model) | the family the simulator takes a model to be, answering or judging (default `ERNIE` for every profile: ERNIE models, ERNIE-Speed fine-tunes, ERNIE-4.0-class judges); e.g. `sft-full-e6-lr3e-5:family=Qwen` |
//! | `bias` | `AMOUNT` ≥ 0 (a judge profile) | the judge favours answers of its own `family`: each grade of such an answer rises by ⌊AMOUNT⌋ levels plus one more with probability frac(AMOUNT) (hashed per answer and dimension), never above the top, and its GSB totals rise alike; the server remembers which family gave each answer (in memory, so an answer from the cache or from another process is nobody's); e.g. `judge-b:bias=0.8` |
//! | `noise` | probability (a judge profile) | each grade the judge gives moves one level, up or down alike (inward at the scale's ends), with this probability, drawn per request: a noisy judge; e.g. `judge-c:noise=0.3` |
//!
//! **Scripted faults** are keyed to a marker, a substring of the request's last user message (the
//! legacy prompt): `@MARKER:KEY=VALUE` (MARKER without `,` `:` `=`; items with the same marker build
//! one script, the first matching script applies; in-process: [`Faults::script`] with a [`Script`]).
//! Example: `@TEAR:tear=1,@TEAR:first=2,@SLOW:delay_ms=300,@BUSY:status=429,@BUSY:first=3`.
//!
//! | key | value | effect |
//! | --- | --- | --- |
//! | `reply` | text (`%2C` for `,`, `%25` for `%`) | this answer instead of a generated one (stop and `max_tokens` still apply) |
//! | `first` | N | `status`, `v1_error` and `tear` hit only the first N arrivals of each (model, request); later ones are answered |
//! | `status` | HTTP code 400–599 | OpenAI / v2: that status with an OpenAI error body (`scripted status N`); v1: 429 → `error_code` 18, else HTTP 500 + 336000 |
//! | `retry_after_ms` | milliseconds | what a scripted 429 advertises: `retry-after-ms`, and `Retry-After` in whole seconds ≥ 1 (default 50) |
//! | `v1_error` | error code | v1: that `error_code` with the real service's message as HTTP 200 JSON (e.g. 18, 17, 110, 111, 336003, 336100); OpenAI: HTTP 500 |
//! | `v1_msg` | text (escaped as `reply`) | the `error_msg` of a scripted v1 error |
//! | `tear` | `1` | the stream breaks off in the middle of the answer, inside an event, and the connection is aborted |
//! | `sse` | `awkward` | the stream's events as hostile SSE: a `: keep-alive` comment, CRLF / LF / CR line ends in turn with `id:`, `event:` and comment lines, `data:` without its space, written 5 bytes at a time (inside UTF-8 characters); a v1 stream's last event has no closing blank line |
//! | `blocked` | `1` | v1: one event with `need_clear_history: true`, `ban_round: -1` (content blocked) |
//! | `ttft_ms` | milliseconds | first token after this much real time (not scaled by `time_scale`) |
//! | `delay_ms` | milliseconds | real time between tokens (not scaled) |
//!
//! Every chat and completion request is logged in [`SimStats::requests`] ([`SeenRequest`]: route,
//! model as named, last user message, `Authorization` header, body, and the server's own time from
//! arrival to the first content handed to the HTTP stack), so tests count requests per prompt and
//! check what was sent. The log keeps the first 20,000 requests (`requests_not_logged` counts the rest).
//!
//! Probabilities are decided per request by hash, so a retry (a repeat of the same request) gets
//! a fresh draw. Every injected fault and every rate-limit refusal is counted in [`SimStats`].

mod answer;
#[cfg(test)]
mod calibration;
mod deliver;
mod faults;
mod judge;
mod judge_lean;
mod limiter;
mod openai;
mod openai_request;
mod profiles;
mod qianfan;
mod quirks;
mod replay;
mod rng;
mod script;
mod serve;
mod server;
mod stats;
mod text;
mod tutor;
mod wire;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::{Json, Router};

pub use faults::{Degrade, FaultSet, FaultSpecError, Faults};
pub use profiles::{models, ModelInfo};
pub use script::Script;
pub use server::{banner, run_foreground, start, SimArgs, SimServer};
pub use stats::{AuthStats, FaultCounts, ModelStats, RouteStats, SeenRequest, SimStats};

use serve::{lock, AppState};

/// How a simulator behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Multiplies every delay (time to first token, token gaps, stalls); 0 = answer at once.
    pub time_scale: f64,
    /// Faults to inject (see the module doc for the SPEC syntax).
    pub faults: Faults,
    /// The accepted (API key, secret key) pair; `None` accepts any non-empty pair. The API key is
    /// also the bearer key the OpenAI routes then require.
    pub credentials: Option<(String, String)>,
    /// Seed of every deterministic choice.
    pub seed: u64,
    /// Extra names → profile: `(v1 segment or model id, profile name)`.
    pub aliases: Vec<(String, String)>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            time_scale: 1.0,
            faults: Faults::default(),
            credentials: None,
            seed: 0,
            aliases: Vec::new(),
        }
    }
}

impl SimConfig {
    /// Checks the time scale and that every alias names a profile.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.time_scale.is_finite() && self.time_scale >= 0.0) {
            return Err(format!(
                "time scale must be a number >= 0, got {}",
                self.time_scale
            ));
        }
        for (alias, target) in &self.aliases {
            if profiles::by_any_name(target).is_none() {
                return Err(format!("alias `{alias}`: unknown profile `{target}`"));
            }
        }
        Ok(())
    }
}

/// The simulator's routes, shared by `evalrun sim`, `evalrun demo` and the tests.
/// An invalid time scale is treated as 0. Prefer [`start`] / [`run_foreground`] to serving this
/// yourself: they also set `TCP_NODELAY` (honest time to first token) and send header names in
/// the case Baidu's SDK looks for (`wire.rs`).
pub fn app(mut cfg: SimConfig) -> Router {
    if !(cfg.time_scale.is_finite() && cfg.time_scale >= 0.0) {
        cfg.time_scale = 0.0;
    }
    router(Arc::new(AppState::new(cfg)))
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/oauth/2.0/token", post(qianfan::token).get(qianfan::token))
        .route(
            "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint}",
            post(qianfan::chat),
        )
        .route("/v1/chat/completions", post(openai::chat))
        .route("/v1/completions", post(openai::legacy))
        .route("/v2/chat/completions", post(openai::chat_v2))
        // Issue 14: the other routes the SDKs call.
        .route("/v1/models", get(quirks::list_models))
        .route(
            "/rpc/2.0/ai_custom/v1/wenxinworkshop/completions/{endpoint}",
            post(quirks::qianfan_completions),
        )
        .route(
            "/sim/stats",
            get(
                |axum::extract::State(st): axum::extract::State<Arc<AppState>>| async move {
                    Json(lock(&st.stats).clone())
                },
            ),
        )
        .route("/sim/models", get(|| async { Json(models()) }))
        .fallback(|uri: axum::http::Uri| async move {
            (
                axum::http::StatusCode::NOT_FOUND,
                Json(serde_json::json!({"error": {
                    "message": format!("the simulator has no route {}", uri.path()),
                    "type": "invalid_request_error",
                    "code": "not_found",
                }})),
            )
        })
        .with_state(state)
}
