//! Qianfan v1: `POST /oauth/2.0/token` and `POST /rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint}`
//! (PROTOCOLS §1 and §5). Errors are `{"error_code","error_msg","id"}` with HTTP 200 and
//! `Content-Type: application/json`, also for `stream: true`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{Response, StatusCode};
use bytes::Bytes;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::answer::{Ask, Finish};
use super::faults::DEFAULT_RATE_CODE;
use super::profiles::Profile;
use super::script::Script;
use super::serve::{
    add_rate_headers, event_stream_response, json_response, lock, piece_offsets, plan, shape, sse,
    timed_body, unix_now, whole_body, AppState, Delivery, Failure, Frame, TokenCheck,
};
use super::stats::SeenRequest;

pub(crate) const TOKEN_ROUTE: &str = "POST /oauth/2.0/token";
pub(crate) const CHAT_ROUTE: &str = "POST /rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint}";

/// `POST /oauth/2.0/token?grant_type=client_credentials&client_id=AK&client_secret=SK`.
pub(crate) async fn token(
    State(st): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response<Body> {
    st.count_request(TOKEN_ROUTE);
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let fail = |error: &str, description: &str| {
        st.count_route(TOKEN_ROUTE, false);
        lock(&st.stats).auth.bad_credentials += 1;
        json_response(
            StatusCode::UNAUTHORIZED,
            &json!({"error": error, "error_description": description}),
        )
    };
    if get("grant_type") != "client_credentials" {
        return fail(
            "unsupported_grant_type",
            "The authorization grant type is not supported",
        );
    }
    let (ak, sk) = (get("client_id"), get("client_secret"));
    match &st.cfg.credentials {
        Some((want_ak, _)) if ak != want_ak => return fail("invalid_client", "unknown client id"),
        Some((_, want_sk)) if sk != want_sk => {
            return fail("invalid_client", "Client authentication failed")
        }
        None if ak.is_empty() => return fail("invalid_client", "unknown client id"),
        None if sk.is_empty() => return fail("invalid_client", "Client authentication failed"),
        _ => {}
    }
    let access_token = st.issue_token(ak);
    let refresh_token = format!("25.{}", &access_token[3..]);
    st.count_route(TOKEN_ROUTE, true);
    json_response(
        StatusCode::OK,
        &json!({
            "refresh_token": refresh_token,
            "expires_in": 2592000,
            "session_key": st.new_id("9mzdD"),
            "access_token": access_token,
            "scope": "public brain_all_scope wenxinworkshop_mgr ai_custom_qianfan_bloomz_7b_compressed",
            "session_secret": st.new_id(""),
        }),
    )
}

fn v1_error(st: &AppState, code: i64, msg: &str) -> Response<Body> {
    st.count_route(CHAT_ROUTE, false);
    json_response(
        StatusCode::OK,
        &json!({"error_code": code, "error_msg": msg, "id": st.new_id("as-")}),
    )
}

/// The request as the log keeps it (v1 has no `Authorization` header: the token is in the query).
fn seen_v1(endpoint: &str, raw: &[u8]) -> SeenRequest {
    let body: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    let prompt = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string();
    SeenRequest {
        route: CHAT_ROUTE.to_string(),
        model: endpoint.to_string(),
        prompt,
        authorization: None,
        body,
        first_content_us: None,
    }
}

/// The real service's message for an error code (`v1_error=CODE` scripts).
fn v1_message(code: i64) -> &'static str {
    match code {
        3 => "Unsupported openapi method",
        4 => "Open api request limit reached",
        6 => "No permission to access data",
        17 => "Open api daily request limit reached",
        18 => "Open api qps request limit reached",
        110 => "Access token invalid or no longer valid",
        111 => "Access token expired",
        336000 => "Internal error",
        336001 => "Invalid Argument",
        336002 => "Invalid JSON",
        336003 => "Invalid Argument",
        336100 => "Server high load, please try again later",
        336501 => "Rate limit reached for RPM",
        336502 => "Rate limit reached for TPM",
        _ => "simulated error",
    }
}

/// A scripted v1 error (`v1_error`, or `status`: 429 → 18, other → HTTP 500 + 336000) on a failing
/// arrival, or a blocked answer (`blocked=1`, every arrival).
fn scripted_v1(st: &AppState, sc: &Script, arrival: u64, stream: bool) -> Option<Response<Body>> {
    if sc.fails(arrival) {
        if let Some(code) = sc.v1_error.or((sc.status == Some(429)).then_some(18)) {
            let msg = sc.v1_msg.as_deref().unwrap_or(v1_message(code));
            return Some(v1_error(st, code, msg));
        }
        if sc.status.is_some() {
            st.count_route(CHAT_ROUTE, false);
            return Some(json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"error_code": 336000, "error_msg": "Internal error", "id": st.new_id("as-")}),
            ));
        }
    }
    if !sc.blocked {
        return None;
    }
    st.count_route(CHAT_ROUTE, true);
    let event = json!({"id": st.new_id("as-"), "object": "chat.completion", "created": unix_now(),
        "sentence_id": 0, "is_end": true, "is_truncated": false, "result": "",
        "need_clear_history": true, "ban_round": -1, "finish_reason": "content_filter",
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}});
    Some(if stream {
        let mut r = Response::new(Body::from(sse(&event)));
        r.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("text/event-stream; charset=utf-8"),
        );
        r
    } else {
        json_response(StatusCode::OK, &event)
    })
}

/// A validated v1 request body.
struct V1Request {
    system: Option<String>,
    messages: Vec<(String, String)>,
    stream: bool,
    stop: Vec<String>,
    max_output_tokens: Option<usize>,
    /// `response_format: "json_object"` (ERNIE 3.5/4.0): the reply is constrained to JSON.
    json_reply: bool,
}

fn invalid(msg: impl Into<String>) -> (i64, String) {
    (336003, msg.into())
}

fn number_in(
    body: &Value,
    key: &str,
    ok: impl Fn(f64) -> bool,
    range: &str,
) -> Result<(), (i64, String)> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(v) => match v.as_f64() {
            Some(x) if ok(x) => Ok(()),
            _ => Err(invalid(format!("the range of {key} is {range}"))),
        },
    }
}

/// PROTOCOLS §1.3. Messages the real service is known to send are used verbatim ("the length of
/// messages must be an odd number", "message content can not be empty", "the max length of
/// current question is N"); the range messages are the simulator's wording.
fn parse_v1(raw: &[u8], p: &Profile) -> Result<V1Request, (i64, String)> {
    let body: Value = serde_json::from_slice(raw)
        .map_err(|_| (336002, "the request body is not valid JSON".to_string()))?;
    if !body.is_object() {
        return Err((336002, "the request body must be a JSON object".to_string()));
    }
    let list = body
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("the messages field is required and must be a list"))?;
    let mut messages = Vec::with_capacity(list.len());
    for m in list {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        let content = m.get("content").and_then(Value::as_str).unwrap_or("");
        if content.trim().is_empty() {
            return Err(invalid("message content can not be empty"));
        }
        messages.push((role.to_string(), content.to_string()));
    }
    if messages.len() % 2 == 0 {
        return Err(invalid("the length of messages must be an odd number"));
    }
    for (i, (role, _)) in messages.iter().enumerate() {
        if i % 2 == 0 && role != "user" && role != "function" {
            return Err(invalid(
                "the role of message with even index in the messages must be user or function",
            ));
        }
        if i % 2 == 1 && role != "assistant" {
            return Err(invalid(
                "the role of message with odd index in the messages must be assistant",
            ));
        }
    }
    let system = match body.get("system") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(invalid("system must be a string")),
    };
    let chars: usize = system.as_deref().map_or(0, |s| s.chars().count())
        + messages
            .iter()
            .map(|(_, c)| c.chars().count())
            .sum::<usize>();
    if chars > p.max_input_chars {
        return Err(invalid(format!(
            "the max length of current question is {}",
            p.max_input_chars
        )));
    }
    let stream = match body.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("stream must be a boolean")),
    };
    number_in(&body, "temperature", |x| x > 0.0 && x <= 1.0, "(0, 1.0]")?;
    number_in(&body, "top_p", |x| (0.0..=1.0).contains(&x), "[0, 1.0]")?;
    number_in(
        &body,
        "penalty_score",
        |x| (1.0..=2.0).contains(&x),
        "[1.0, 2.0]",
    )?;
    let max_output_tokens = match body.get("max_output_tokens") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(n) if (2..=2048).contains(&n) => Some(n as usize),
            _ => return Err(invalid("the range of max_output_tokens is [2, 2048]")),
        },
    };
    let stop = match body.get("stop") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let stop: Vec<String> = items
                .iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect();
            if stop.len() != items.len()
                || stop.len() > 4
                || stop.iter().any(|s| s.chars().count() > 20)
            {
                return Err(invalid(
                    "stop must be a list of at most 4 strings of at most 20 characters",
                ));
            }
            stop
        }
        Some(_) => return Err(invalid("stop must be a list of strings")),
    };
    let json_reply = match body.get("response_format") {
        None | Some(Value::Null) => false,
        Some(v) if v == "json_object" => true,
        Some(v) if v == "text" => false,
        Some(_) => {
            return Err(invalid(
                "response_format must be \"text\" or \"json_object\"",
            ))
        }
    };
    Ok(V1Request {
        system,
        messages,
        stream,
        stop,
        max_output_tokens,
        json_reply,
    })
}

fn finish_name(f: Finish) -> &'static str {
    match f {
        Finish::Normal => "normal",
        Finish::Stop => "stop",
        Finish::Length => "length",
    }
}

/// `POST /rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint}?access_token=…`.
pub(crate) async fn chat(
    State(st): State<Arc<AppState>>,
    Path(endpoint): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    raw: Bytes,
) -> Response<Body> {
    let start = Instant::now();
    st.count_request(CHAT_ROUTE);
    let log = st.log_request(seen_v1(&endpoint, &raw));
    let profile = st.resolve_v1(&endpoint);
    match st.check_token(q.get("access_token").map(String::as_str)) {
        TokenCheck::Valid => {}
        TokenCheck::Unknown => {
            lock(&st.stats).auth.unknown_token += 1;
            return v1_error(&st, 110, "Access token invalid or no longer valid");
        }
        TokenCheck::Expired => {
            let mut s = lock(&st.stats);
            s.auth.expired_token += 1;
            if let Some(p) = profile {
                s.model(p.name).faults.token_expired += 1;
            }
            drop(s);
            return v1_error(&st, 111, "Access token expired");
        }
    }
    let Some(p) = profile else {
        return v1_error(&st, 3, "Unsupported openapi method");
    };
    lock(&st.stats).model(p.name).requests += 1;
    if st.admit_request(p).is_err() {
        let code = st.faults_for(p).rate_code.unwrap_or(DEFAULT_RATE_CODE);
        let msg = if code == 18 {
            "Open api qps request limit reached"
        } else {
            "Rate limit reached for RPM"
        };
        let mut r = v1_error(&st, code, msg);
        add_rate_headers(&mut r, st.rate_info(p));
        return r;
    }
    let req = match parse_v1(&raw, p) {
        Ok(r) => r,
        Err((code, msg)) => {
            lock(&st.stats).model(p.name).invalid += 1;
            let mut r = v1_error(&st, code, &msg);
            add_rate_headers(&mut r, st.rate_info(p));
            return r;
        }
    };
    let canonical = json!({"system": req.system, "messages": req.messages}).to_string();
    let input_text = format!(
        "{}{}",
        req.system.as_deref().unwrap_or(""),
        req.messages
            .iter()
            .map(|(_, c)| c.as_str())
            .collect::<String>()
    );
    let prompt = req.messages.last().map(|(_, c)| c.as_str()).unwrap_or("");
    let keys = st.request_keys(p, &canonical);
    let script = st.script_for(prompt);
    if let Some(sc) = script {
        if let Some(r) = scripted_v1(&st, sc, keys.arrival, req.stream) {
            st.release(keys.slot);
            return r;
        }
    }
    let ask = Ask {
        profile: p,
        system: req.system.as_deref(),
        prompt,
        input_text: &input_text,
        legacy: false,
        stop: &req.stop,
        max_tokens: req.max_output_tokens,
        json_reply: req.json_reply,
        key: keys.attempt,
        content_key: keys.content,
        slot: Some(keys.slot),
        seed: st.cfg.seed,
        script,
        arrival: keys.arrival,
    };
    let planned = match plan(&st, &ask, req.stream) {
        Ok(pl) => pl,
        Err(f) => {
            let mut r = match f {
                Failure::Tokens(_) => v1_error(&st, 336502, "Rate limit reached for TPM"),
                Failure::Overload => {
                    v1_error(&st, 336100, "Server high load, please try again later")
                }
                Failure::Error500 => {
                    st.count_route(CHAT_ROUTE, false);
                    json_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &json!({"error_code": 336000, "error_msg": "Internal error", "id": st.new_id("as-")}),
                    )
                }
            };
            add_rate_headers(&mut r, st.rate_info(p));
            return r;
        }
    };
    st.count_route(CHAT_ROUTE, true);
    let id = st.new_id("as-");
    let created = unix_now();
    let gen = &planned.gen;
    let prompt_tokens = gen.prompt_tokens;
    let usage = |completion: u64| json!({"prompt_tokens": prompt_tokens, "completion_tokens": completion, "total_tokens": prompt_tokens + completion});
    let finish = finish_name(gen.finish);
    let truncated = gen.finish == Finish::Length;
    let mut r = if req.stream {
        let mut offsets = piece_offsets(gen);
        let mut pieces = gen.pieces.clone();
        if pieces.is_empty() {
            pieces.push(String::new());
            offsets.push(gen.ttft);
        }
        let last = pieces.len() - 1;
        let frames: Vec<Frame> = pieces
            .iter()
            .zip(offsets)
            .enumerate()
            .map(|(i, (piece, at))| Frame {
                at,
                data: sse(&json!({
                    "id": id,
                    "object": "chat.completion",
                    "created": created,
                    "sentence_id": i,
                    "is_end": i == last,
                    "is_truncated": i == last && truncated,
                    "result": piece,
                    "need_clear_history": false,
                    "finish_reason": if i == last { finish } else { "normal" },
                    "usage": usage(if gen.pieces.is_empty() { 0 } else { i as u64 + 1 }),
                })),
            })
            .collect();
        let (frames, abort) = shape(frames, &planned.faults);
        let how = Delivery::of(&planned.faults).marking(0, Some(log));
        event_stream_response(timed_body(&st, start, frames, abort, how))
    } else {
        let body = json!({
            "id": id,
            "object": "chat.completion",
            "created": created,
            "result": gen.text(),
            "is_truncated": truncated,
            "need_clear_history": false,
            "finish_reason": finish,
            "usage": usage(gen.completion_tokens()),
        });
        whole_body(
            &st,
            start,
            &planned,
            Bytes::from(body.to_string()),
            "application/json",
        )
    };
    add_rate_headers(&mut r, st.rate_info(p));
    r
}

/// Used by the module doc's example and by `run_foreground`: the v1 URL of a segment.
pub(crate) fn chat_path(segment: &str) -> String {
    format!("/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{segment}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::profiles::by_model_name;

    fn parse(body: Value) -> Result<V1Request, (i64, String)> {
        parse_v1(
            body.to_string().as_bytes(),
            by_model_name("ernie-speed").unwrap(),
        )
    }

    #[test]
    fn validation_messages() {
        let u = |c: &str| json!({"role": "user", "content": c});
        let a = |c: &str| json!({"role": "assistant", "content": c});
        let cases = [
            (
                json!({"messages": [u("a"), a("b")]}),
                "the length of messages must be an odd number",
            ),
            (
                json!({"messages": []}),
                "the length of messages must be an odd number",
            ),
            (json!({"messages": [a("a")]}), "even index"),
            (json!({"messages": [u("a"), u("b"), u("c")]}), "odd index"),
            (
                json!({"messages": [u(" ")]}),
                "message content can not be empty",
            ),
            (
                json!({"messages": [u("a")], "temperature": 0}),
                "temperature",
            ),
            (json!({"messages": [u("a")], "top_p": 1.5}), "top_p"),
            (
                json!({"messages": [u("a")], "penalty_score": 0.5}),
                "penalty_score",
            ),
            (
                json!({"messages": [u("a")], "max_output_tokens": 1}),
                "max_output_tokens",
            ),
            (
                json!({"messages": [u("a")], "stop": ["1","2","3","4","5"]}),
                "stop",
            ),
            (
                json!({"messages": [u(&"x".repeat(11201))]}),
                "the max length of current question is 11200",
            ),
        ];
        for (body, needle) in cases {
            let (code, msg) = parse(body.clone())
                .err()
                .unwrap_or_else(|| panic!("{body} passed"));
            assert_eq!(code, 336003, "{body}");
            assert!(msg.contains(needle), "{body}: {msg}");
        }
        assert_eq!(
            parse_v1(b"{", by_model_name("ernie-speed").unwrap())
                .err()
                .unwrap()
                .0,
            336002
        );
        let ok = parse(json!({"messages": [u("a")], "stream": false, "extra_parameters": {"request_source": "x"}, "temperature": 1.0})).unwrap();
        assert!(!ok.stream);
    }
}
