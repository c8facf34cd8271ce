//! OpenAI-compatible routes: `POST /v1/chat/completions`, `POST /v1/completions` (legacy
//! prompt → completion) and Qianfan v2's `POST /v2/chat/completions` (PROTOCOLS §2, §3, §5).
//! Errors are `{"error":{"message","type","code"}}` with a 4xx/5xx status.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use bytes::Bytes;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::answer::{Ask, Finish};
use super::faults::FaultSet;
use super::limiter::Refusal;
use super::openai_request::{parse, text_of, Request};
use super::profiles::Profile;
use super::script::Script;
use super::serve::{
    add_rate_headers, event_stream_response, json_response, lock, piece_offsets, plan, shape, sse,
    timed_body, unix_now, whole_body, AppState, Delivery, Failure, Frame,
};
use super::stats::SeenRequest;

pub(crate) const CHAT_ROUTE: &str = "POST /v1/chat/completions";
pub(crate) const LEGACY_ROUTE: &str = "POST /v1/completions";
pub(crate) const V2_ROUTE: &str = "POST /v2/chat/completions";

/// Which of the three routes is being served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Chat,
    Legacy,
    V2,
}

impl Flavor {
    fn route(self) -> &'static str {
        match self {
            Flavor::Chat => CHAT_ROUTE,
            Flavor::Legacy => LEGACY_ROUTE,
            Flavor::V2 => V2_ROUTE,
        }
    }
}

pub(crate) async fn chat(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response<Body> {
    handle(&st, Flavor::Chat, &headers, &raw).await
}

pub(crate) async fn legacy(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response<Body> {
    handle(&st, Flavor::Legacy, &headers, &raw).await
}

pub(crate) async fn chat_v2(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response<Body> {
    handle(&st, Flavor::V2, &headers, &raw).await
}

fn error(
    st: &AppState,
    flavor: Flavor,
    status: StatusCode,
    kind: &str,
    code: &str,
    message: &str,
) -> Response<Body> {
    st.count_route(flavor.route(), false);
    let mut body =
        json!({"error": {"message": message, "type": kind, "code": code, "param": null}});
    if flavor == Flavor::V2 {
        body["id"] = json!(st.new_id("as-"));
    }
    json_response(status, &body)
}

fn bad_request(st: &AppState, flavor: Flavor, message: &str) -> Response<Body> {
    error(
        st,
        flavor,
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        "invalid_argument",
        message,
    )
}

fn rate_limited(
    st: &AppState,
    flavor: Flavor,
    set: &FaultSet,
    wait: Duration,
    tokens: bool,
) -> Response<Body> {
    let message = match (flavor, tokens) {
        (Flavor::V2, false) => "rpm_rate_limit_exceeded",
        (Flavor::V2, true) => "tpm_rate_limit_exceeded",
        (_, false) => "Rate limit reached for requests",
        (_, true) => "Rate limit reached for tokens",
    };
    let kind = if tokens { "tokens" } else { "requests" };
    let mut r = error(
        st,
        flavor,
        StatusCode::TOO_MANY_REQUESTS,
        kind,
        "rate_limit_exceeded",
        message,
    );
    let secs = set
        .retry_after
        .unwrap_or_else(|| wait.as_secs_f64().ceil() as u64)
        .max(1);
    let ms = set
        .retry_after
        .map_or(wait.as_millis() as u64, |s| s * 1000)
        .max(1);
    let h = r.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    h.insert("retry-after-ms", HeaderValue::from(ms));
    r
}

/// A validated request.
fn authorized(st: &AppState, headers: &HeaderMap) -> bool {
    match &st.cfg.credentials {
        None => true,
        Some((ak, _)) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|k| k.trim() == ak),
    }
}

/// The request as the log keeps it: model, last user message (or legacy prompt), key, body.
fn seen(flavor: Flavor, headers: &HeaderMap, raw: &[u8]) -> SeenRequest {
    let body: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    let prompt = if flavor == Flavor::Legacy {
        body.get("prompt")
            .and_then(Value::as_str)
            .map(str::to_string)
    } else {
        body.get("messages")
            .and_then(Value::as_array)
            .and_then(|l| l.iter().rev().find(|m| m["role"] == "user"))
            .and_then(|m| text_of(&m["content"]))
    };
    SeenRequest {
        route: flavor.route().to_string(),
        model: body["model"].as_str().unwrap_or_default().to_string(),
        prompt: prompt.unwrap_or_default(),
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body,
        first_content_us: None,
    }
}

/// A scripted `status` (or `v1_error`, which the OpenAI routes answer as a 500).
fn scripted_error(st: &AppState, flavor: Flavor, sc: &Script) -> Option<Response<Body>> {
    let code = sc.status.or(sc.v1_error.map(|_| 500))?;
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = error(
        st,
        flavor,
        status,
        "simulated",
        if code == 429 {
            "rate_limit_exceeded"
        } else {
            "simulated_error"
        },
        &format!("scripted status {code}"),
    );
    if code == 429 {
        let ms = sc.retry_after_ms.unwrap_or(50);
        let h = r.headers_mut();
        h.insert(
            header::RETRY_AFTER,
            HeaderValue::from(ms.div_ceil(1000).max(1)),
        );
        h.insert("retry-after-ms", HeaderValue::from(ms));
    }
    Some(r)
}

async fn handle(st: &AppState, flavor: Flavor, headers: &HeaderMap, raw: &[u8]) -> Response<Body> {
    let start = Instant::now();
    st.count_request(flavor.route());
    let log = st.log_request(seen(flavor, headers, raw));
    if !authorized(st, headers) {
        return error(
            st,
            flavor,
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "invalid_api_key",
            "Incorrect API key provided.",
        );
    }
    let body: Value = match serde_json::from_slice(raw) {
        Ok(v @ Value::Object(_)) => v,
        _ => return bad_request(st, flavor, "the request body must be a JSON object"),
    };
    let Some(model) = body
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return bad_request(st, flavor, "you must provide a model parameter");
    };
    let Some(p) = st.resolve_model(&model) else {
        return error(
            st,
            flavor,
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
            &format!("The model `{model}` does not exist or you do not have access to it."),
        );
    };
    lock(&st.stats).model(p.name).requests += 1;
    let set = st.faults_for(p);
    if let Some(r) = super::quirks::echo_auth(&set, headers) {
        return r;
    }
    if let Err(Refusal::Requests(w) | Refusal::Tokens(w)) = st.admit_request(p) {
        let mut r = rate_limited(st, flavor, &set, w, false);
        add_rate_headers(&mut r, st.rate_info(p));
        return r;
    }
    let req = match parse(&body, flavor, model) {
        Ok(r) => r,
        Err(msg) => {
            lock(&st.stats).model(p.name).invalid += 1;
            let mut r = bad_request(st, flavor, &msg);
            add_rate_headers(&mut r, st.rate_info(p));
            return r;
        }
    };
    let mut r = answer(st, flavor, p, &set, &req, start, log);
    add_rate_headers(&mut r, st.rate_info(p));
    r
}

fn finish_name(f: Finish) -> &'static str {
    match f {
        Finish::Normal | Finish::Stop => "stop",
        Finish::Length => "length",
    }
}

fn answer(
    st: &AppState,
    flavor: Flavor,
    p: &'static Profile,
    set: &FaultSet,
    req: &Request,
    start: Instant,
    log: usize,
) -> Response<Body> {
    let canonical = if flavor == Flavor::Legacy {
        json!({"prompt": req.prompt, "seed": req.seed}).to_string()
    } else {
        // Without a `seed` the canonical request is v1's, so both protocols get the same answers.
        match req.seed {
            Some(seed) => json!({"system": req.system, "messages": req.messages, "seed": seed}),
            None => json!({"system": req.system, "messages": req.messages}),
        }
        .to_string()
    };
    let input_text = format!(
        "{}{}{}",
        req.system.as_deref().unwrap_or(""),
        req.messages
            .iter()
            .map(|(_, c)| c.as_str())
            .collect::<String>(),
        if flavor == Flavor::Legacy {
            req.prompt.as_str()
        } else {
            ""
        }
    );
    let keys = st.request_keys(p, &canonical);
    let script = st.script_for(&req.prompt);
    if let Some(sc) = script.filter(|sc| sc.fails(keys.arrival)) {
        if let Some(r) = scripted_error(st, flavor, sc) {
            st.release(keys.slot);
            return r;
        }
    }
    let ask = Ask {
        profile: p,
        system: req.system.as_deref(),
        prompt: &req.prompt,
        input_text: &input_text,
        legacy: flavor == Flavor::Legacy,
        stop: &req.stop,
        max_tokens: req.max_tokens,
        json_reply: req.json_reply,
        key: keys.attempt,
        content_key: keys.content,
        slot: Some(keys.slot),
        seed: st.cfg.seed,
        script,
        arrival: keys.arrival,
    };
    let planned = match plan(st, &ask, req.stream) {
        Ok(pl) => pl,
        Err(Failure::Tokens(w)) => return rate_limited(st, flavor, set, w, true),
        Err(Failure::Error500) => {
            return error(
                st,
                flavor,
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal_error",
                "The server had an error while processing your request.",
            )
        }
        Err(Failure::Overload) => {
            return error(
                st,
                flavor,
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "overloaded",
                "The server is overloaded, please try again later.",
            )
        }
    };
    st.count_route(flavor.route(), true);
    let gen = &planned.gen;
    let id = match flavor {
        Flavor::Chat => st.new_id("chatcmpl-"),
        Flavor::Legacy => st.new_id("cmpl-"),
        Flavor::V2 => st.new_id("as-"),
    };
    let created = unix_now();
    let usage = json!({
        "prompt_tokens": gen.prompt_tokens,
        "completion_tokens": gen.completion_tokens(),
        "total_tokens": gen.prompt_tokens + gen.completion_tokens(),
    });
    let finish = finish_name(gen.finish);
    let object = if flavor == Flavor::Legacy {
        "text_completion"
    } else {
        "chat.completion.chunk"
    };
    if !req.stream {
        let choice = if flavor == Flavor::Legacy {
            json!({"text": gen.text(), "index": 0, "logprobs": null, "finish_reason": finish})
        } else {
            let mut c = json!({
                "index": 0,
                "message": {"role": "assistant", "content": gen.text()},
                "logprobs": null,
                "finish_reason": finish,
            });
            if flavor == Flavor::V2 {
                c["need_clear_history"] = json!(false);
            }
            c
        };
        let body = json!({
            "id": id,
            "object": if flavor == Flavor::Legacy { "text_completion" } else { "chat.completion" },
            "created": created,
            "model": req.model,
            "choices": [choice],
            "usage": usage,
        });
        return whole_body(
            st,
            start,
            &planned,
            Bytes::from(body.to_string()),
            "application/json",
        );
    }
    let chunk = |choices: Value| {
        let mut c = json!({
            "id": id,
            "object": object,
            "created": created,
            "model": req.model,
            "choices": choices,
        });
        if req.include_usage {
            c["usage"] = Value::Null;
        }
        c
    };
    let content_choice = |piece: &str, finish: Option<&str>| {
        if flavor == Flavor::Legacy {
            json!([{"text": piece, "index": 0, "logprobs": null, "finish_reason": finish}])
        } else if let Some(f) = finish {
            json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": f}])
        } else {
            json!([{"index": 0, "delta": {"content": piece}, "logprobs": null, "finish_reason": null}])
        }
    };
    let mut frames = Vec::with_capacity(gen.pieces.len() + 4);
    if flavor != Flavor::Legacy {
        // Role first, with empty content: a client must not take it for the first token.
        frames.push(Frame {
            at: Duration::ZERO,
            data: sse(&chunk(json!([{
                "index": 0,
                "delta": {"role": "assistant", "content": ""},
                "logprobs": null,
                "finish_reason": null,
            }]))),
        });
    }
    let offsets = piece_offsets(gen);
    for (piece, at) in gen.pieces.iter().zip(&offsets) {
        frames.push(Frame {
            at: *at,
            data: sse(&chunk(content_choice(piece, None))),
        });
    }
    let end = offsets.last().copied().unwrap_or(gen.ttft);
    frames.push(Frame {
        at: end,
        data: sse(&chunk(content_choice("", Some(finish)))),
    });
    if req.include_usage {
        let mut u = chunk(json!([]));
        u["usage"] = usage;
        frames.push(Frame {
            at: end,
            data: sse(&u),
        });
    }
    frames.push(Frame {
        at: end,
        data: Bytes::from_static(b"data: [DONE]\n\n"),
    });
    super::quirks::Quirks::draw(set, keys.attempt)
        .apply_openai(&mut frames, flavor == Flavor::Legacy);
    let (frames, abort) = shape(frames, &planned.faults);
    let first_content = usize::from(flavor != Flavor::Legacy);
    let how = Delivery::of(&planned.faults).marking(first_content, Some(log));
    event_stream_response(timed_body(st, start, frames, abort, how))
}
