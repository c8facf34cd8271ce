//! Scripted faults: deterministic behaviours keyed to a marker substring of the request's last user
//! message, so an integration test can ask for "two tears, then the answer" or "this exact reply,
//! framed awkwardly" without any hand-written server. Spec items are `@MARKER:KEY=VALUE`; items with
//! the same marker build one [`Script`]. The keys are documented in the module doc of `sim`.

use std::time::Duration;

use bytes::Bytes;

use super::faults::FaultSpecError;
use super::serve::Frame;

/// What the simulator does for requests whose last user message contains `marker`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    /// A substring of the last user message (the first matching script applies).
    pub marker: String,
    /// `first=N`: `status`, `v1_error` and `tear` hit only the first N arrivals of each
    /// (model, request); later arrivals are answered. `None`: every arrival.
    pub first: Option<u64>,
    /// `reply=TEXT`: answer this text instead of a generated one (`%2C` = `,`, `%25` = `%`).
    pub reply: Option<String>,
    /// `status=CODE`: OpenAI routes answer this HTTP status with an error body (429 adds
    /// `Retry-After` / `retry-after-ms`); the v1 route answers 336000 for 5xx, 18 for 429.
    pub status: Option<u16>,
    /// `retry_after_ms=MS`: the wait a scripted 429 advertises (default 50).
    pub retry_after_ms: Option<u64>,
    /// `v1_error=CODE`: the v1 route answers this `error_code` (HTTP 200 JSON); OpenAI routes 500.
    pub v1_error: Option<i64>,
    /// `v1_msg=TEXT`: the `error_msg` of a scripted v1 error (default: the real service's message
    /// for the code; escaped as `reply`).
    pub v1_msg: Option<String>,
    /// `tear=1`: the stream breaks off mid-event and the connection is aborted.
    pub tear: bool,
    /// `sse=awkward`: CRLF/LF/CR line ends, comments, `id:`/`event:` lines, `data:` without a
    /// space, written 5 bytes at a time (inside UTF-8 characters).
    pub awkward: bool,
    /// `blocked=1`: v1 answers one event with `need_clear_history: true` (blocked content).
    pub blocked: bool,
    /// `ttft_ms=MS`: the first token after MS of real time (not scaled by `time_scale`).
    pub ttft_ms: Option<u64>,
    /// `delay_ms=MS`: MS of real time between tokens (not scaled).
    pub delay_ms: Option<u64>,
}

pub(crate) const KEYS: &[&str] = &[
    "first",
    "reply",
    "status",
    "retry_after_ms",
    "v1_error",
    "v1_msg",
    "tear",
    "sse",
    "blocked",
    "ttft_ms",
    "delay_ms",
];

fn decode(v: &str) -> String {
    v.replace("%2C", ",")
        .replace("%2c", ",")
        .replace("%25", "%")
}

fn encode(v: &str) -> String {
    v.replace('%', "%25").replace(',', "%2C")
}

impl Script {
    /// A script for `marker` with nothing set.
    pub fn new(marker: &str) -> Script {
        Script {
            marker: marker.to_string(),
            ..Script::default()
        }
    }

    pub(crate) fn set(&mut self, item: &str, key: &str, v: &str) -> Result<(), FaultSpecError> {
        let num = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| FaultSpecError::new(format!("`{item}`: expected a whole number")))
        };
        let flag = |v: &str| match v {
            "1" | "true" => Ok(true),
            "0" | "false" => Ok(false),
            _ => Err(FaultSpecError::new(format!("`{item}`: expected 1 or 0"))),
        };
        match key {
            "first" => self.first = Some(num(v)?),
            "reply" => self.reply = Some(decode(v)),
            "status" => match v.parse::<u16>() {
                Ok(s) if (400..600).contains(&s) => self.status = Some(s),
                _ => {
                    return Err(FaultSpecError::new(format!(
                        "`{item}`: status is an HTTP error code 400-599"
                    )))
                }
            },
            "retry_after_ms" => self.retry_after_ms = Some(num(v)?),
            "v1_error" => {
                self.v1_error = Some(v.parse().map_err(|_| {
                    FaultSpecError::new(format!("`{item}`: expected an error code"))
                })?)
            }
            "v1_msg" => self.v1_msg = Some(decode(v)),
            "tear" => self.tear = flag(v)?,
            "sse" => match v {
                "awkward" => self.awkward = true,
                "tidy" => self.awkward = false,
                _ => {
                    return Err(FaultSpecError::new(format!(
                        "`{item}`: sse is awkward or tidy"
                    )))
                }
            },
            "blocked" => self.blocked = flag(v)?,
            "ttft_ms" => self.ttft_ms = Some(num(v)?),
            "delay_ms" => self.delay_ms = Some(num(v)?),
            _ => {
                return Err(FaultSpecError::new(format!(
                    "unknown key in `{item}` (known after @MARKER: {})",
                    KEYS.join(", ")
                )))
            }
        }
        Ok(())
    }

    /// The spec items that rebuild this script.
    pub(crate) fn items(&self) -> Vec<String> {
        let m = &self.marker;
        let mut out = Vec::new();
        let mut push = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                out.push(format!("@{m}:{k}={v}"));
            }
        };
        push("first", self.first.map(|v| v.to_string()));
        push("reply", self.reply.as_deref().map(encode));
        push("status", self.status.map(|v| v.to_string()));
        push("retry_after_ms", self.retry_after_ms.map(|v| v.to_string()));
        push("v1_error", self.v1_error.map(|v| v.to_string()));
        push("v1_msg", self.v1_msg.as_deref().map(encode));
        push("tear", self.tear.then(|| "1".into()));
        push("sse", self.awkward.then(|| "awkward".into()));
        push("blocked", self.blocked.then(|| "1".into()));
        push("ttft_ms", self.ttft_ms.map(|v| v.to_string()));
        push("delay_ms", self.delay_ms.map(|v| v.to_string()));
        out
    }

    /// Whether the failing part of the script (status, v1 error, tear) hits the arrival with this
    /// index (0 for the first arrival of a request).
    pub(crate) fn fails(&self, arrival: u64) -> bool {
        self.first.is_none_or(|n| arrival < n)
    }

    /// Real-time pacing (`ttft_ms`, `delay_ms`), if the script sets any.
    pub(crate) fn timing(&self) -> Option<(Duration, Duration)> {
        (self.ttft_ms.is_some() || self.delay_ms.is_some()).then(|| {
            (
                Duration::from_millis(self.ttft_ms.unwrap_or(0)),
                Duration::from_millis(self.delay_ms.unwrap_or(0)),
            )
        })
    }
}

/// The first script whose marker the prompt contains.
pub(crate) fn find<'a>(scripts: &'a [Script], prompt: &str) -> Option<&'a Script> {
    scripts.iter().find(|s| prompt.contains(s.marker.as_str()))
}

/// The same events as hostile SSE bytes: a leading comment; per event, in turn, CRLF with an `id:`
/// line, LF with an `event:` line, or CR with a comment line; `data:` without its space where the
/// line style allows; cut into 5-byte writes (inside UTF-8 characters), each due with the frame it
/// came from. The final blank line is left out unless the last event is `[DONE]` (a server that
/// closes the body after its last line is still understood by a careful client).
pub(crate) fn awkward(frames: Vec<Frame>) -> Vec<Frame> {
    let mut out: Vec<Frame> = Vec::new();
    let mut emit = |at: Duration, text: String| {
        for c in text.as_bytes().chunks(5) {
            out.push(Frame {
                at,
                data: Bytes::copy_from_slice(c),
            });
        }
    };
    let first_at = frames.first().map_or(Duration::ZERO, |f| f.at);
    emit(first_at, ": keep-alive\r\n\r\n".to_string());
    let events: Vec<(Duration, String)> = frames
        .iter()
        .flat_map(|f| {
            String::from_utf8_lossy(&f.data)
                .split("\n\n")
                .filter_map(|e| e.strip_prefix("data: ").map(str::to_string))
                .map(|p| (f.at, p))
                .collect::<Vec<_>>()
        })
        .collect();
    let n = events.len();
    for (i, (at, payload)) in events.into_iter().enumerate() {
        let done = payload == "[DONE]";
        let (lines, end) = match i % 3 {
            0 => (format!("id: {i}\r\ndata:{payload}\r\n"), "\r\n"),
            1 => (format!("event: message\ndata: {payload}\n"), "\n"),
            _ => (format!(": note\rdata:{payload}\r"), "\r"),
        };
        let blank = if i + 1 < n || done { end } else { "" };
        emit(at, format!("{lines}{blank}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn awkward_framing_carries_every_payload_and_splits_characters() {
        let frames = vec![
            Frame {
                at: Duration::ZERO,
                data: Bytes::from("data: {\"r\":\"你好\"}\n\n"),
            },
            Frame {
                at: Duration::from_millis(5),
                data: Bytes::from("data: {\"r\":\"世界\"}\n\ndata: [DONE]\n\n"),
            },
        ];
        let out = awkward(frames);
        assert!(out.iter().all(|f| f.data.len() <= 5));
        assert!(out.iter().any(|f| std::str::from_utf8(&f.data).is_err()));
        let all: Vec<u8> = out.iter().flat_map(|f| f.data.to_vec()).collect();
        let text = String::from_utf8(all).unwrap();
        assert_eq!(
            text,
            ": keep-alive\r\n\r\nid: 0\r\ndata:{\"r\":\"你好\"}\r\n\r\nevent: message\ndata: {\"r\":\"世界\"}\n\n: note\rdata:[DONE]\r\r"
        );
    }

    #[test]
    fn first_limits_only_the_failing_part() {
        let mut s = Script::new("X");
        assert!(s.fails(7));
        s.first = Some(2);
        assert!(s.fails(0) && s.fails(1) && !s.fails(2));
    }

    #[test]
    fn reply_round_trips_commas() {
        let mut s = Script::new("M");
        s.set("x", "reply", "a%2Cb%25c").unwrap();
        assert_eq!(s.reply.as_deref(), Some("a,b%c"));
        assert_eq!(s.items(), vec!["@M:reply=a%2Cb%25c".to_string()]);
    }
}
