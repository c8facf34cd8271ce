//! Real servers' quirks (issue 14), kept apart from the classic faults: a stream that ends with
//! `[DONE]` but no `finish_reason` (llama.cpp's server when it interrupts an answer), no usage, a
//! byte that is not UTF-8, a huge answer, and an error body that echoes the request's
//! `Authorization` headers. Plus the routes the SDKs call besides chat: `GET /v1/models` and
//! Qianfan v1's `/completions/{endpoint}`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Response, StatusCode};
use axum::Json;
use serde_json::{json, Value};

use super::faults::FaultSet;
use super::rng::chance;
use super::serve::{json_response, AppState, Frame};

/// Which quirks one streamed answer gets.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Quirks {
    no_finish: bool,
    no_usage: bool,
    bad_utf8: bool,
    huge: u64,
}

impl Quirks {
    pub(crate) fn draw(set: &FaultSet, key: u64) -> Quirks {
        Quirks {
            no_finish: chance(key, "quirk:no_finish", set.no_finish.unwrap_or(0.0)),
            no_usage: chance(key, "quirk:no_usage", set.no_usage.unwrap_or(0.0)),
            bad_utf8: chance(key, "quirk:bad_utf8", set.bad_utf8.unwrap_or(0.0)),
            huge: set.huge.unwrap_or(0),
        }
    }

    /// Reshape an OpenAI stream's frames (role, content…, finish, usage, `[DONE]`).
    pub(crate) fn apply_openai(&self, frames: &mut Vec<Frame>, legacy: bool) {
        let has =
            |f: &Frame, needle: &str| f.data.windows(needle.len()).any(|w| w == needle.as_bytes());
        if self.no_finish {
            frames.retain(|f| !has(f, "\"finish_reason\":\""));
        }
        if self.no_usage {
            frames.retain(|f| !has(f, "\"usage\":{"));
        }
        if self.bad_utf8 {
            let field = if legacy {
                "\"text\":\""
            } else {
                "\"content\":\""
            };
            if let Some(f) = frames
                .iter_mut()
                .find(|f| has(f, field) && !has(f, &format!("{field}\"")))
            {
                let at = f
                    .data
                    .windows(field.len())
                    .position(|w| w == field.as_bytes())
                    .expect("found above")
                    + field.len();
                let mut data = f.data[..at].to_vec();
                data.push(0xFF);
                data.extend_from_slice(&f.data[at..]);
                f.data = Bytes::from(data);
            }
        }
        if self.huge > 0 {
            // One shared 64 KiB piece sent again and again: the simulator holds 64 KiB whatever
            // the size.
            const PIECE: usize = 64 * 1024;
            let text = "lorem ipsum ".repeat(PIECE / 12);
            let choice = if legacy {
                json!([{"index": 0, "text": text, "logprobs": null, "finish_reason": null}])
            } else {
                json!([{"index": 0, "delta": {"content": text}, "logprobs": null, "finish_reason": null}])
            };
            let frame = Bytes::from(format!(
                "data: {}\n\n",
                json!({"object": "chat.completion.chunk", "choices": choice})
            ));
            let n = self.huge.div_ceil(text.len() as u64) as usize;
            let at = frames.len().saturating_sub(1).min(1 + usize::from(!legacy));
            let due = frames.get(at).map(|f| f.at).unwrap_or_default();
            let filler = (0..n).map(|_| Frame {
                at: due,
                data: frame.clone(),
            });
            frames.splice(at..at, filler);
        }
    }
}

static ECHO_DRAWS: AtomicU64 = AtomicU64::new(0);

/// `echo_auth=P`: an HTTP 500 whose body quotes the request's `Authorization` headers, as some
/// proxies' error pages do.
pub(crate) fn echo_auth(set: &FaultSet, headers: &HeaderMap) -> Option<Response<Body>> {
    let draw = ECHO_DRAWS.fetch_add(1, Ordering::Relaxed);
    if !chance(draw, "quirk:echo_auth", set.echo_auth.unwrap_or(0.0)) {
        return None;
    }
    let echoed: Vec<String> = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .map(|v| format!("authorization: {}", String::from_utf8_lossy(v.as_bytes())))
        .collect();
    Some(json_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({"error": {
            "message": format!("upstream failed; request headers were [{}]", echoed.join("; ")),
            "type": "server_error",
            "code": "echo",
            "headers": {"authorization": echoed},
        }}),
    ))
}

/// `GET /v1/models`: the OpenAI list shape, one entry per OpenAI-compatible model id.
pub(crate) async fn list_models() -> Json<Value> {
    let data: Vec<Value> = super::models()
        .into_iter()
        .flat_map(|m| m.openai_names)
        .map(|id| json!({"id": id, "object": "model", "created": 0, "owned_by": "evalrun-sim"}))
        .collect();
    Json(json!({"object": "list", "data": data}))
}

/// `POST /rpc/2.0/ai_custom/v1/wenxinworkshop/completions/{endpoint}`: Qianfan v1's non-chat
/// completions (`prompt` → `result`, the chat answer's shape), served as the one-turn chat of the
/// same prompt.
pub(crate) async fn qianfan_completions(
    state: State<Arc<AppState>>,
    endpoint: Path<String>,
    query: Query<HashMap<String, String>>,
    raw: Bytes,
) -> Response<Body> {
    let mut body: Value = match serde_json::from_slice(&raw) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return json_response(
                StatusCode::OK,
                &json!({"error_code": 336002, "error_msg": "the request body is not valid JSON"}),
            )
        }
    };
    let Some(prompt) = body
        .as_object_mut()
        .and_then(|o| o.remove("prompt"))
        .filter(Value::is_string)
    else {
        return json_response(
            StatusCode::OK,
            &json!({"error_code": 336003, "error_msg": "the prompt field is required and must be a string"}),
        );
    };
    body["messages"] = json!([{"role": "user", "content": prompt}]);
    super::qianfan::chat(state, endpoint, query, Bytes::from(body.to_string())).await
}
