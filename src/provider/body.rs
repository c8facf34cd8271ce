//! Bounded reading of what a server sends: an answer's text stops at the model's `max_answer_bytes`,
//! and no body or line is held beyond a bound derived from it, whatever the server sends.

use crate::records::ErrorKind;

use super::{Failure, RetryAdvice};

/// Bodies of error answers are read up to this size; the rest is not needed to classify them.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// The raw bytes that may carry an answer of `max_answer` bytes: a JSON body or one SSE line, whose
/// escaping (`\uXXXX` for each byte of a CJK character) can make it six times the text, plus room
/// for the envelope.
pub fn raw_cap(max_answer: usize) -> usize {
    max_answer.saturating_mul(6).saturating_add(64 * 1024)
}

/// What `read_capped` got.
pub struct Capped {
    /// The decoded text.
    pub text: String,
    /// The body went on past the cap; `text` holds the first bytes only.
    pub over: bool,
    /// Whether some bytes were not valid UTF-8 (replaced by U+FFFD).
    pub invalid_utf8: bool,
}

/// Read a body up to `cap` bytes (or until `deadline`), decoding it as UTF-8 with U+FFFD for invalid
/// sequences. At most `cap` bytes plus one network chunk are ever held.
pub async fn read_capped(
    mut response: reqwest::Response,
    deadline: tokio::time::Instant,
    cap: usize,
) -> Capped {
    let mut buf = Vec::new();
    let mut over = false;
    while let Ok(Ok(Some(b))) = tokio::time::timeout_at(deadline, response.chunk()).await {
        buf.extend_from_slice(&b);
        if buf.len() > cap {
            over = true;
            break;
        }
    }
    buf.truncate(cap);
    let (text, invalid_utf8) = decode(&buf, over);
    Capped {
        text,
        over,
        invalid_utf8,
    }
}

/// Decode bytes as UTF-8; when `cut`, an incomplete character at the end is the cut's doing, not
/// the server's, and is dropped rather than flagged.
fn decode(buf: &[u8], cut: bool) -> (String, bool) {
    match std::str::from_utf8(buf) {
        Ok(s) => (s.to_string(), false),
        Err(e) if cut && e.error_len().is_none() => (
            String::from_utf8_lossy(&buf[..e.valid_up_to()]).into_owned(),
            false,
        ),
        Err(_) => (String::from_utf8_lossy(buf).into_owned(), true),
    }
}

/// Append `text` to `output` unless that passes `max`: then append what fits (cut at a character
/// boundary) and return the `too_large` failure.
pub fn append_capped(output: &mut String, text: &str, max: usize) -> Option<Failure> {
    if output.len() + text.len() <= max {
        output.push_str(text);
        return None;
    }
    let room = max.saturating_sub(output.len());
    output.push_str(&text[..floor_char_boundary(text, room)]);
    Some(too_large(max))
}

/// The `too_large` failure: permanent (the same request would get the same answer).
pub fn too_large(max: usize) -> Failure {
    Failure::new(
        ErrorKind::TooLarge,
        RetryAdvice::Never,
        format!("the answer passed max_answer_bytes ({max} bytes); reading stopped there and the first bytes are kept"),
    )
}

fn floor_char_boundary(s: &str, at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    (0..=at).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_stops_at_the_cap_on_a_character_boundary() {
        let mut out = String::from("ab");
        assert!(append_capped(&mut out, "cd", 4).is_none());
        let f = append_capped(&mut out, "你好", 6).expect("over the cap");
        assert_eq!(out, "abcd");
        assert_eq!(f.kind, ErrorKind::TooLarge);
        let mut out = String::new();
        append_capped(&mut out, "你好", 4);
        assert_eq!(out, "你");
    }

    #[test]
    fn decode_flags_invalid_bytes_but_not_a_character_cut_by_the_cap() {
        assert_eq!(decode("你".as_bytes(), false), ("你".to_string(), false));
        assert_eq!(decode(&"你".as_bytes()[..2], true), (String::new(), false));
        assert_eq!(decode(b"a\xffb", false), ("a\u{fffd}b".to_string(), true));
        assert!(decode(b"a\xffb", true).1);
    }
}
