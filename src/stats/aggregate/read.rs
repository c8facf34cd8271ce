//! Reading record files line by line, and finding the lines a later line replaces.
//!
//! Lines are read as bytes into one buffer (no allocation per line) with `records::stream_jsonl`'s
//! hygiene: blank lines are skipped, a torn (unparseable) last line is ignored, an unparseable line
//! elsewhere is `FILE:LINE: invalid record: …`, and a file that is not UTF-8 cannot be read
//! ([`for_each_line`]; [`reread_lines`] for a later pass over a file already checked). The keys of
//! evalrun's own lines are read from their first bytes ([`Line::unit_key`], [`Line::item_id`]).
//!
//! A later line with the same key replaces an earlier one (STATS §1, input hygiene).
//! [`superseded_units`] and [`superseded_pairs`] find the lines a later line replaces: they keep a
//! 64-bit hash of each line's key, and only for the lines whose hash repeats (a repeated key, or
//! rarely a collision) read the keys again to decide exactly.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::error::UsageError;
pub(super) use crate::records::hash_of;
use crate::records::LineSpan;

/// One line of a record file, borrowed from the reader's buffer until the next line is read.
pub struct Line<'b> {
    /// 1-based line number in the file.
    pub number: usize,
    /// The line's bytes (UTF-8) without its line end.
    pub bytes: &'b [u8],
    /// Offset of its first byte in the file.
    offset: u64,
    /// Whether it ended with a newline (only the last line can lack one: where a kill tears a record).
    complete: bool,
    path: &'b Path,
}

impl<'b> Line<'b> {
    /// Where the line is, to read it again ([`crate::records::LineAt`]).
    pub fn span(&self) -> LineSpan {
        LineSpan {
            offset: self.offset,
            len: self.bytes.len() as u64,
        }
    }

    /// The line as `T`; `None` for a torn last line (to be ignored).
    pub fn parse<T: Deserialize<'b>>(&self) -> Result<Option<T>> {
        match serde_json::from_slice(self.bytes) {
            Ok(v) => Ok(Some(v)),
            Err(_) if !self.complete => Ok(None),
            Err(e) => {
                Err(UsageError::at(self.path, self.number, format!("invalid record: {e}")).into())
            }
        }
    }
}

/// Call `f` with every non-blank line of `path` in order; a missing file has none. A line that is not
/// UTF-8 ends the reading with an error.
pub fn for_each_line(path: &Path, f: impl FnMut(Line<'_>) -> Result<()>) -> Result<()> {
    lines(path, true, f)
}

/// [`for_each_line`] for a file that is read whole (its UTF-8 checked) by another pass of the same
/// command: the bytes of each line are not checked again, only those of the strings parsed.
pub fn reread_lines(path: &Path, f: impl FnMut(Line<'_>) -> Result<()>) -> Result<()> {
    lines(path, false, f)
}

fn lines(path: &Path, check: bool, mut f: impl FnMut(Line<'_>) -> Result<()>) -> Result<()> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut buf = Vec::new();
    let (mut number, mut pos) = (0, 0u64);
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        let offset = pos;
        pos += n as u64;
        if check && std::str::from_utf8(&buf).is_err() {
            let e = std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            );
            return Err(e).with_context(|| format!("cannot read {}", path.display()));
        }
        let complete = buf.ends_with(b"\n");
        let mut end = buf.len() - usize::from(complete);
        while end > 0 && buf[end - 1] == b'\r' {
            end -= 1;
        }
        let bytes = &buf[..end];
        if is_blank(bytes) {
            continue;
        }
        f(Line {
            number,
            bytes,
            offset,
            complete,
            path,
        })?;
    }
}

/// Whether a line holds only white space (Unicode's, as `str::trim` has it).
fn is_blank(bytes: &[u8]) -> bool {
    match bytes.iter().position(|b| !b.is_ascii_whitespace()) {
        None => true,
        Some(i) if bytes[i] < 0x80 => false,
        Some(i) => std::str::from_utf8(&bytes[i..]).is_ok_and(|t| t.trim().is_empty()),
    }
}

/// The key of a `responses.jsonl` or `scores.jsonl` line (other fields are skipped).
#[derive(Deserialize)]
struct UnitKeyView<'a> {
    #[serde(borrow)]
    model: Cow<'a, str>,
    #[serde(borrow)]
    item_id: Cow<'a, str>,
    sample: u32,
}

/// The key of a `pairwise.jsonl` line.
#[derive(Deserialize)]
struct PairKeyView<'a> {
    #[serde(borrow)]
    candidate: Cow<'a, str>,
    #[serde(borrow)]
    baseline: Cow<'a, str>,
    #[serde(borrow)]
    item_id: Cow<'a, str>,
}

/// The id of an `items.jsonl` line.
#[derive(Deserialize)]
struct ItemIdView<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
}

impl<'b> Line<'b> {
    /// The `id` of an `items.jsonl` line, read from its first bytes when the line starts
    /// `{"id":"…",` as evalrun writes it, else parsed; `None` when it does not parse.
    pub fn item_id(&self) -> Option<Cow<'b, str>> {
        if self.complete {
            if let Some((id, rest)) = plain_string(self.bytes, br#"{"id":""#) {
                if matches!(rest.first(), Some(b',' | b'}')) {
                    return Some(Cow::Borrowed(id));
                }
            }
        }
        let v: ItemIdView<'b> = serde_json::from_slice(self.bytes).ok()?;
        Some(v.id)
    }

    /// (model, item_id, sample) of a `responses.jsonl` or `scores.jsonl` line; `None` when the line
    /// does not parse (left to the caller's full parse, which reports it or ignores it as torn).
    ///
    /// A complete line as evalrun writes it (`{"model":"…","item_id":"…","sample":N,` with no escape
    /// in the two strings) is read from its first bytes without parsing the rest: the rest is checked
    /// when the line is parsed whole. Any other line is parsed.
    pub fn unit_key(&self) -> Option<(Cow<'b, str>, Cow<'b, str>, u32)> {
        if self.complete {
            if let Some((model, item, sample)) = unit_key_prefix(self.bytes) {
                return Some((Cow::Borrowed(model), Cow::Borrowed(item), sample));
            }
        }
        let v: UnitKeyView<'b> = serde_json::from_slice(self.bytes).ok()?;
        Some((v.model, v.item_id, v.sample))
    }
}

/// The string after `prefix` up to its closing quote, when it has no escape, and the bytes after it.
fn plain_string<'x>(b: &'x [u8], prefix: &[u8]) -> Option<(&'x str, &'x [u8])> {
    let b = b.strip_prefix(prefix)?;
    let end = b
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
    (b[end] == b'"').then_some(())?;
    Some((std::str::from_utf8(&b[..end]).ok()?, &b[end + 1..]))
}

/// `{"model":"M","item_id":"I","sample":N` followed by `,` or `}`, M and I without `\\`.
fn unit_key_prefix(b: &[u8]) -> Option<(&str, &str, u32)> {
    let string = plain_string;
    let (model, rest) = string(b, br#"{"model":""#)?;
    let (item, rest) = string(rest, br#","item_id":""#)?;
    let rest = rest.strip_prefix(br#","sample":"#)?;
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if !matches!(rest.get(digits), Some(b',' | b'}')) || digits == 0 {
        return None;
    }
    let sample = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    Some((model, item, sample))
}

/// The lines of a record file that a later line with the same key replaces, in ascending order.
#[derive(Debug, Default)]
pub(super) struct Superseded {
    lines: Vec<usize>,
    next: usize,
}

impl Superseded {
    /// How many lines a later line replaces.
    pub fn count(&self) -> usize {
        self.lines.len()
    }

    /// Whether line `number` is replaced; asked in ascending order of lines.
    pub fn contains(&mut self, number: usize) -> bool {
        while self.lines.get(self.next).is_some_and(|&l| l < number) {
            self.next += 1;
        }
        self.lines.get(self.next) == Some(&number)
    }
}

/// The first pass over `responses.jsonl` or `scores.jsonl`, keyed by (model, item_id, sample).
pub(super) fn superseded_units(path: &Path) -> Result<Superseded> {
    superseded(
        path,
        |line| {
            let (m, i, s) = line.unit_key()?;
            Some((m.into_owned(), i.into_owned(), s.to_string()))
        },
        |line| line.unit_key().map(|k| hash_of(&k)),
    )
}

/// The first pass over `pairwise.jsonl`, keyed by (candidate, baseline, item_id).
pub(super) fn superseded_pairs(path: &Path) -> Result<Superseded> {
    let key = |line: &Line<'_>| {
        let v: PairKeyView = serde_json::from_slice(line.bytes).ok()?;
        Some((
            v.candidate.into_owned(),
            v.baseline.into_owned(),
            v.item_id.into_owned(),
        ))
    };
    superseded(path, key, |line| key(line).map(|k| hash_of(&k)))
}

/// The lines whose `exact` key a later line repeats: first every line's `hash`, then, for the lines
/// whose hash repeats only, their exact keys.
fn superseded(
    path: &Path,
    exact: impl Fn(&Line<'_>) -> Option<(String, String, String)>,
    hash: impl Fn(&Line<'_>) -> Option<u64>,
) -> Result<Superseded> {
    let mut hashes: Vec<u64> = Vec::new();
    reread_lines(path, |line| {
        hashes.extend(hash(&line));
        Ok(())
    })?;
    hashes.sort_unstable();
    let repeated: HashSet<u64> = hashes
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    drop(hashes);
    if repeated.is_empty() {
        return Ok(Superseded::default());
    }
    let mut lines: Vec<usize> = Vec::new();
    let mut last: HashMap<(String, String, String), usize> = HashMap::new();
    reread_lines(path, |line| {
        if hash(&line).is_some_and(|h| repeated.contains(&h)) {
            if let Some(key) = exact(&line) {
                lines.push(line.number);
                last.insert(key, line.number);
            }
        }
        Ok(())
    })?;
    let keep: HashSet<usize> = last.into_values().collect();
    Ok(Superseded {
        lines: lines.into_iter().filter(|n| !keep.contains(n)).collect(),
        next: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_line_of_a_key_wins_and_the_rest_are_superseded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.jsonl");
        let line = |m: &str, i: &str, s: u32| {
            format!("{{\"model\":\"{m}\",\"item_id\":\"{i}\",\"sample\":{s},\"x\":[1]}}\n")
        };
        let text = [
            line("a", "1", 0),
            line("a", "1", 1),
            "\n".into(),
            line("b", "1", 0),
            line("a", "1", 0),
            line("a", "1", 0),
            "not json\n".into(),
            line("b", "1", 0),
        ]
        .concat();
        std::fs::write(&p, text).unwrap();
        let mut s = superseded_units(&p).unwrap();
        assert_eq!(s.count(), 3);
        let replaced: Vec<usize> = (1..=8).filter(|&n| s.contains(n)).collect();
        assert_eq!(replaced, [1, 4, 5]);
    }

    #[test]
    fn a_key_read_from_the_first_bytes_is_the_key_parsed_whole() {
        let cases = [
            r#"{"model":"a","item_id":"x-1","sample":12,"output":"{\"k\": 1}"}"#,
            r#"{"model":"a","item_id":"汉字","sample":0}"#,
            r#"{"model":"a","item_id":"x\"y","sample":0}"#,
            r#"{"item_id":"x","model":"a","sample":3}"#,
            r#"{"model":"a","item_id":"x","sample":1e0}"#,
        ];
        for (i, text) in cases.iter().enumerate() {
            let line = Line {
                number: 1,
                bytes: text.as_bytes(),
                offset: 0,
                complete: true,
                path: Path::new("r.jsonl"),
            };
            let fast = unit_key_prefix(text.as_bytes());
            assert_eq!(fast.is_some(), i < 2, "{text}");
            let parsed: Option<UnitKeyView> = serde_json::from_slice(text.as_bytes()).ok();
            let parsed = parsed.map(|v| (v.model, v.item_id, v.sample));
            assert_eq!(line.unit_key(), parsed, "{text}");
        }
    }

    #[test]
    fn lines_keep_the_hygiene_of_stream_jsonl() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.jsonl");
        std::fs::write(&p, "{\"a\":1}\r\n\n{\"a\":2}\n{\"a\":").unwrap();
        let mut seen = Vec::new();
        for_each_line(&p, |l| {
            if let Some(v) = l.parse::<serde_json::Value>()? {
                seen.push((l.number, v["a"].as_i64().unwrap()));
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [(1, 1), (3, 2)]);
        std::fs::write(&p, "{\"a\":1}\n{\"a\"\n{\"a\":2}\n").unwrap();
        let err = for_each_line(&p, |l| l.parse::<serde_json::Value>().map(drop)).unwrap_err();
        assert!(
            err.to_string().contains("r.jsonl:2: invalid record"),
            "{err}"
        );
        assert!(for_each_line(&dir.path().join("missing"), |_| Ok(())).is_ok());
    }
}
