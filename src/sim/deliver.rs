//! Delivering an answer: the frames of a body and their due times, the stream faults applied to
//! them (stall, tear, cut, awkward framing), the timed chunked body, and the response helpers the
//! chat routes share.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use bytes::Bytes;
use tokio::time::Instant;

use super::answer::Generation;
use super::limiter::RateInfo;
use super::rng::Rng;
use super::script;
use super::serve::{lock, AppState, FaultPlan, Planned};

/// One piece of a response body, due at an offset from the request's arrival (unscaled).
pub(crate) struct Frame {
    pub at: Duration,
    pub data: Bytes,
}

/// Applies the fault plan to a frame list: a stall shifts every frame from a chosen one on; a
/// tear keeps the frames before a chosen one plus half of it and then aborts the connection; a
/// cut ends the body cleanly before a chosen frame (never after the last).
pub(crate) fn shape(mut frames: Vec<Frame>, faults: &FaultPlan) -> (Vec<Frame>, bool) {
    let mut rng = Rng::new(faults.pos_key);
    let n = frames.len();
    if let Some(stall) = faults.stall {
        let from = if n > 1 { 1 + rng.below(n - 1) } else { 0 };
        for f in &mut frames[from..] {
            f.at += stall;
        }
    }
    if faults.tear && n > 0 {
        let at = if faults.tear_mid { n / 2 } else { rng.below(n) };
        frames.truncate(at + 1);
        let last = frames.last_mut().expect("at least one frame");
        let half = last.data.len() / 2;
        last.data = last.data.slice(..half.max(1).min(last.data.len()));
        return (frames, true);
    }
    if faults.cut && n > 1 {
        let at = 1 + rng.below(n - 1);
        frames.truncate(at);
    }
    (frames, false)
}

/// How a body is delivered besides its frames.
#[derive(Debug, Clone, Default)]
pub(crate) struct Delivery {
    /// Frame times are real time (scripted pacing), not scaled by `time_scale`.
    pub real_time: bool,
    /// Scripted awkward framing: reframe the events, and pause a little between writes so that
    /// the pieces reach the client as separate reads.
    pub awkward: bool,
    /// `(frame index, request log index)`: record when that frame (the first content) is handed
    /// to the HTTP stack, as the server's own time to first content.
    pub mark_first: Option<(usize, usize)>,
}

impl Delivery {
    pub(crate) fn of(faults: &FaultPlan) -> Delivery {
        Delivery {
            real_time: faults.real_time,
            awkward: faults.awkward,
            mark_first: None,
        }
    }

    pub(crate) fn marking(mut self, frame: usize, log: Option<usize>) -> Delivery {
        self.mark_first = log.map(|l| (frame, l));
        self
    }
}

/// A chunked body that sends each frame as its own chunk at its (scaled) time, and aborts the
/// connection at the end when `abort` is set (the client sees a body that ends prematurely).
pub(crate) fn timed_body(
    st: &AppState,
    start: Instant,
    frames: Vec<Frame>,
    abort: bool,
    how: Delivery,
) -> Body {
    let stats = st.stats.clone();
    let mark = how.mark_first;
    let awkward = how.awkward;
    let frames = if awkward {
        script::awkward(frames)
    } else {
        frames
    };
    let scaled: Vec<(usize, Instant, Bytes)> = frames
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let at = if how.real_time { f.at } else { st.scale(f.at) };
            (i, start + at, f.data)
        })
        .collect();
    let steps = scaled
        .into_iter()
        .map(Some)
        .chain(abort.then_some(None))
        .collect::<Vec<_>>()
        .into_iter();
    let stream = futures_util::stream::unfold(steps, move |mut it| {
        let stats = stats.clone();
        async move {
            match it.next()? {
                Some((i, due, data)) => {
                    tokio::time::sleep_until(due).await;
                    if awkward {
                        if i % 8 == 0 {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        } else {
                            tokio::task::yield_now().await;
                        }
                    }
                    if let Some((frame, log)) = mark.filter(|(f, _)| *f == i) {
                        let _ = frame;
                        if let Some(r) = lock(&stats).requests.get_mut(log) {
                            r.first_content_us = Some(start.elapsed().as_micros() as u64);
                        }
                    }
                    Some((Ok::<Bytes, std::io::Error>(data), it))
                }
                None => {
                    // Pending once, so the HTTP stack flushes what was written before the abort.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    Some((Err(std::io::Error::other("simulated tear")), it))
                }
            }
        }
    });
    Body::from_stream(stream)
}

pub(crate) fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut r = Response::new(Body::from(value.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) fn event_stream_response(body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

pub(crate) fn add_rate_headers(r: &mut Response<Body>, info: RateInfo) {
    let h = r.headers_mut();
    for (name, v) in [
        ("x-ratelimit-limit-requests", info.limit_requests),
        ("x-ratelimit-remaining-requests", info.remaining_requests),
        ("x-ratelimit-limit-tokens", info.limit_tokens),
        ("x-ratelimit-remaining-tokens", info.remaining_tokens),
    ] {
        h.insert(name, HeaderValue::from(v));
    }
}

/// `data: {json}\n\n`: the only SSE line shape the Qianfan SDK accepts.
pub(crate) fn sse(value: &serde_json::Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

/// Offsets of each piece: time to first token, then the gaps.
pub(crate) fn piece_offsets(gen: &Generation) -> Vec<Duration> {
    let mut at = gen.ttft;
    let mut out = Vec::with_capacity(gen.pieces.len());
    for i in 0..gen.pieces.len() {
        if i > 0 {
            at += gen.gaps[i - 1];
        }
        out.push(at);
    }
    out
}

/// Non-stream delivery: the whole body after the answer's total time (plus any stall); a tear
/// sends half of it and aborts.
pub(crate) fn whole_body(
    st: &AppState,
    start: Instant,
    planned: &Planned,
    body: Bytes,
    content_type: &'static str,
) -> Response<Body> {
    let mut at = planned.gen.total();
    if let Some(s) = planned.faults.stall {
        at += s;
    }
    let (data, abort) = if planned.faults.tear {
        (body.slice(..body.len() / 2), true)
    } else {
        (body, false)
    };
    let how = Delivery {
        real_time: planned.faults.real_time,
        ..Delivery::default()
    };
    let mut r = Response::new(timed_body(st, start, vec![Frame { at, data }], abort, how));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(n: usize) -> Vec<Frame> {
        (0..n)
            .map(|i| Frame {
                at: Duration::from_millis(i as u64 * 10),
                data: Bytes::from(format!("data: {i}\n\n")),
            })
            .collect()
    }

    #[test]
    fn tear_keeps_half_a_frame_and_aborts() {
        for k in 0..20 {
            let (f, abort) = shape(
                frames(5),
                &FaultPlan {
                    tear: true,
                    pos_key: k,
                    ..FaultPlan::default()
                },
            );
            assert!(abort);
            assert!(!f.last().unwrap().data.ends_with(b"\n\n"));
        }
    }

    #[test]
    fn cut_drops_at_least_the_last_frame() {
        for k in 0..20 {
            let (f, abort) = shape(
                frames(5),
                &FaultPlan {
                    cut: true,
                    pos_key: k,
                    ..FaultPlan::default()
                },
            );
            assert!(!abort);
            assert!((1..5).contains(&f.len()));
        }
    }

    #[test]
    fn stall_shifts_later_frames() {
        let (f, _) = shape(
            frames(5),
            &FaultPlan {
                stall: Some(Duration::from_secs(9)),
                pos_key: 3,
                ..FaultPlan::default()
            },
        );
        assert_eq!(f[0].at, Duration::ZERO);
        assert!(f[4].at >= Duration::from_secs(9));
    }
}
