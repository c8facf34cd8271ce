//! A push decoder for Server-Sent Events (WHATWG HTML §9.2), shared by every provider.
//!
//! Bytes go in as they arrive (`push`), complete events come out. Lines end in LF, CRLF or CR; a CR at
//! the end of a chunk waits for the next byte, so a CRLF split across reads is one terminator. Lines are
//! decoded as UTF-8 only once complete, so a character split across reads is never mangled. Comments
//! (`:`), `event:`, `id:` and `retry:` lines are understood; `data:` takes one optional space.
//!
//! Written here rather than taken from `eventsource-stream` because evalrun must tell a *complete* last
//! event that lacks its blank line (accepted, as the OpenAI SDK does) from a body torn mid-line (an
//! answer that is `truncated`) — the crate drops the first and cannot report the second.

use std::ops::ControlFlow;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, empty when absent.
    pub event: String,
    /// The `data:` lines joined by `\n`.
    pub data: String,
}

/// How a body ended, from `SseDecoder::finish`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEnd {
    /// A last event whose data lines were complete but had no blank line after them.
    pub pending: Option<SseEvent>,
    /// The body stopped in the middle of a line: those bytes (lossily decoded) never formed a line.
    pub torn_line: Option<String>,
    /// The first complete line that was not SSE but a JSON object — an error body sent with an
    /// event-stream content type (the Qianfan SDK parses such lines as errors, so evalrun does too).
    pub stray_json: Option<String>,
}

/// Splits a byte stream into server-sent events, whatever the chunk boundaries.
#[derive(Debug, Default)]
pub struct SseDecoder {
    buf: Vec<u8>,
    data: String,
    event: String,
    has_data: bool,
    stray_json: Option<String>,
    invalid_utf8: bool,
}

impl SseDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed the next bytes of the body; returns the events completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        let _ = self.push_each(bytes, |event, data| {
            events.push(SseEvent {
                event: event.to_string(),
                data: data.to_string(),
            });
            ControlFlow::<()>::Continue(())
        });
        events
    }

    /// Feed the next bytes of the body and hand each completed event's name and data to `f`, in
    /// order, without building an [`SseEvent`]: the decoder's buffers serve every event, so a stream
    /// of many small events allocates nothing per event. Stops at the first `Break` and returns it;
    /// the bytes after that event are kept, as if they had not been read yet.
    pub fn push_each<B>(
        &mut self,
        bytes: &[u8],
        mut f: impl FnMut(&str, &str) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        if self.buf.is_empty() {
            // The usual case: no partial line is held, so the lines are read from `bytes` itself and
            // only an unfinished tail is copied.
            let (used, flow) = self.lines(bytes, &mut f);
            self.buf.extend_from_slice(&bytes[used..]);
            flow
        } else {
            // The buffer is taken out while its lines are read, so a line is a slice of it, not a copy.
            self.buf.extend_from_slice(bytes);
            let buf = std::mem::take(&mut self.buf);
            let (used, flow) = self.lines(&buf, &mut f);
            self.buf = buf;
            self.buf.drain(..used);
            flow
        }
    }

    /// Read the complete lines at the start of `buf`, dispatching the events they complete; returns
    /// how many bytes were read.
    fn lines<B>(
        &mut self,
        buf: &[u8],
        f: &mut impl FnMut(&str, &str) -> ControlFlow<B>,
    ) -> (usize, ControlFlow<B>) {
        let mut start = 0;
        while let Some(p) = memchr::memchr2(b'\n', b'\r', &buf[start..]) {
            let end = start + p;
            let next = if buf[end] == b'\r' {
                if end + 1 == buf.len() {
                    break; // wait: this CR may be the first half of a CRLF
                }
                end + if buf[end + 1] == b'\n' { 2 } else { 1 }
            } else {
                end + 1
            };
            let dispatch = self.line(&buf[start..end]);
            start = next;
            if dispatch {
                let flow = f(&self.event, &self.data);
                self.event.clear();
                self.data.clear();
                self.has_data = false;
                if flow.is_break() {
                    return (start, flow);
                }
            }
        }
        (start, ControlFlow::Continue(()))
    }

    /// Some complete line was not valid UTF-8 (it was decoded with U+FFFD in place of the bad bytes).
    pub fn saw_invalid_utf8(&self) -> bool {
        self.invalid_utf8
    }

    /// Bytes held for a line that has not ended yet: a caller bounds it, so a server that never ends
    /// a line cannot make the decoder hold an unbounded body.
    pub fn pending_len(&self) -> usize {
        self.buf.len()
    }

    /// The body has ended: report a complete-but-undispatched event and any torn partial line.
    pub fn finish(mut self) -> SseEnd {
        let mut torn_line = None;
        if self.buf.last() == Some(&b'\r') {
            let buf = std::mem::take(&mut self.buf);
            // Whether or not this last line ends the event, what is gathered is the pending event.
            self.line(&buf[..buf.len() - 1]);
        } else if !self.buf.is_empty() {
            torn_line = Some(String::from_utf8_lossy(&self.buf).into_owned());
        }
        let pending = self.take_event();
        SseEnd {
            pending,
            torn_line,
            stray_json: self.stray_json,
        }
    }

    /// Take in one complete line; `true` when it is the blank line that ends an event with data
    /// (the caller dispatches the event and clears it).
    fn line(&mut self, raw: &[u8]) -> bool {
        // Checked, not copied: only a line with bad bytes is rebuilt (with U+FFFD).
        let line = match std::str::from_utf8(raw) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => {
                self.invalid_utf8 = true;
                String::from_utf8_lossy(raw)
            }
        };
        let line = line.strip_prefix('\u{feff}').unwrap_or(&line);
        if line.is_empty() {
            if !self.has_data {
                self.event.clear(); // an event without data is dropped, name and all
            }
            return self.has_data;
        }
        if line.starts_with(':') {
            return false; // comment / keep-alive
        }
        if line.starts_with('{') {
            self.stray_json.get_or_insert_with(|| line.to_string());
            return false;
        }
        let (field, value) = match line.find(':') {
            Some(p) => {
                let v = &line[p + 1..];
                (&line[..p], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => {
                self.event.clear();
                self.event.push_str(value);
            }
            _ => {} // id, retry and unknown fields do not affect the payload
        }
        false
    }

    fn take_event(&mut self) -> Option<SseEvent> {
        let event = std::mem::take(&mut self.event);
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(chunks: &[&[u8]]) -> (Vec<SseEvent>, SseEnd) {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(d.push(c));
        }
        (out, d.finish())
    }

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    /// A hostile but valid body: BOM, CRLF, a comment, `data:` without a space, `event:`/`id:` lines,
    /// a multi-line event, multi-byte UTF-8, a lone CR terminator, and a final event with no blank line.
    const AWKWARD: &[u8] = "\u{feff}: keep-alive\r\nid: 1\r\nevent: message\r\ndata:{\"a\":\"你好\"}\r\n\r\ndata: line1\ndata: line2\n\nretry: 10\rdata: 😀 end\r\rdata: [DONE]\n".as_bytes();

    #[test]
    fn awkward_body_decodes_to_the_expected_events() {
        let (events, end) = decode_all(&[AWKWARD]);
        assert_eq!(
            data(&events),
            ["{\"a\":\"你好\"}", "line1\nline2", "😀 end"]
        );
        assert_eq!(events[0].event, "message");
        assert_eq!(end.pending.map(|e| e.data), Some("[DONE]".to_string()));
        assert_eq!(end.torn_line, None);
    }

    #[test]
    fn push_each_stops_at_a_break_and_keeps_what_follows() {
        let mut d = SseDecoder::new();
        let mut seen = Vec::new();
        let flow = d.push_each(
            b"event: a\ndata: 1\n\ndata: 2\n\ndata: 3\n\n",
            |event, data| {
                seen.push((event.to_string(), data.to_string()));
                if data == "2" {
                    ControlFlow::Break(data.len())
                } else {
                    ControlFlow::Continue(())
                }
            },
        );
        assert_eq!(flow, ControlFlow::Break(1));
        assert_eq!(
            seen,
            [("a".into(), "1".into()), (String::new(), "2".into())]
        );
        // The third event was not read: it comes out of the next push.
        assert_eq!(data(&d.push(b"")), ["3"]);
    }

    #[test]
    fn torn_line_is_reported_not_dispatched() {
        let (events, end) = decode_all(&[b"data: {\"x\":1}\n\ndata: {\"choi"]);
        assert_eq!(data(&events), ["{\"x\":1}"]);
        assert_eq!(end.pending, None);
        assert_eq!(end.torn_line.as_deref(), Some("data: {\"choi"));
    }

    #[test]
    fn a_json_line_instead_of_events_is_kept_for_the_error_check() {
        let (events, end) = decode_all(&[b"{\"error_code\":18,\"error_msg\":\"qps\"}\n"]);
        assert!(events.is_empty());
        assert_eq!(
            end.stray_json.as_deref(),
            Some("{\"error_code\":18,\"error_msg\":\"qps\"}")
        );
    }

    #[test]
    fn crlf_split_across_reads_is_one_terminator() {
        let (events, _) = decode_all(&[b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n"]);
        assert_eq!(data(&events), ["a", "b"]);
    }

    #[test]
    fn utf8_split_inside_a_character_survives() {
        let body = "data: 孙悟空\n\n".as_bytes();
        let (events, _) = decode_all(&[&body[..7], &body[7..8], &body[8..]]);
        assert_eq!(data(&events), ["孙悟空"]);
    }

    proptest! {
        /// Any chunking of the body gives exactly the events of the unchunked body.
        #[test]
        fn every_chunking_gives_the_same_events(cuts in proptest::collection::vec(0usize..AWKWARD.len(), 0..12)) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut prev = 0;
            for c in cuts {
                chunks.push(&AWKWARD[prev..c]);
                prev = c;
            }
            chunks.push(&AWKWARD[prev..]);
            let (events, end) = decode_all(&chunks);
            let (want, want_end) = decode_all(&[AWKWARD]);
            prop_assert_eq!(events, want);
            prop_assert_eq!(end, want_end);
        }
    }

    #[test]
    fn invalid_utf8_is_decoded_and_flagged_but_a_split_character_is_not() {
        let body = "data: 孙悟空\n\n".as_bytes();
        let mut d = SseDecoder::new();
        d.push(&body[..8]);
        d.push(&body[8..]);
        assert!(!d.saw_invalid_utf8());
        let events = d.push(b"data: a\xffb\n\n");
        assert_eq!(data(&events), ["a\u{fffd}b"]);
        assert!(d.saw_invalid_utf8());
    }

    #[test]
    fn one_byte_at_a_time() {
        let chunks: Vec<&[u8]> = AWKWARD.chunks(1).collect();
        let (events, end) = decode_all(&chunks);
        assert_eq!(events.len(), 3);
        assert_eq!(end.pending.unwrap().data, "[DONE]");
    }
}
