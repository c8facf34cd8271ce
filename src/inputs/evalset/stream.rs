//! An eval set read line by line: the same items and errors as [`super::parse_lenient`], while memory
//! holds one line and the ids seen so far, never the whole set (a 100,000-item set is hundreds of MB
//! once rendered).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::{Item, Seen};
use crate::error::UsageError;

/// Open `path` for [`Stream`]. Errors are the ones [`super::load`] gives for a file it cannot read.
pub fn stream(path: &Path) -> Result<Stream, UsageError> {
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, e))?;
    Ok(Stream {
        path: path.to_path_buf(),
        reader: Some(BufReader::new(file)),
        line: 0,
        buf: Vec::new(),
        seen: Seen::default(),
    })
}

/// The items of an eval set in file order, each bad line as a `FILE:LINE: …` error (reading goes on
/// after it, as `check` does), and an unreadable file or invalid UTF-8 as a last error.
pub struct Stream {
    path: PathBuf,
    reader: Option<BufReader<std::fs::File>>,
    /// 1-based number of the last line read.
    line: usize,
    buf: Vec<u8>,
    seen: Seen,
}

impl Iterator for Stream {
    type Item = Result<Item, UsageError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let reader = self.reader.as_mut()?;
            self.buf.clear();
            match reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => {
                    self.reader = None;
                    return None;
                }
                Ok(_) => {}
                Err(e) => {
                    self.reader = None;
                    return Some(Err(unreadable(&self.path, e)));
                }
            }
            self.line += 1;
            // As `str::lines`: a line ends at `\n` or `\r\n`.
            let mut bytes = self.buf.as_slice();
            if let Some(b) = bytes.strip_suffix(b"\n") {
                bytes = b.strip_suffix(b"\r").unwrap_or(b);
            }
            if self.line == 1 {
                bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
            }
            let Ok(raw) = std::str::from_utf8(bytes) else {
                self.reader = None;
                let e = std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                );
                return Some(Err(unreadable(&self.path, e)));
            };
            match self.seen.read(raw, self.line) {
                Some(Ok(item)) => return Some(Ok(item)),
                Some(Err(e)) => return Some(Err(e.to_usage(&self.path))),
                None => {}
            }
        }
    }
}

fn unreadable(path: &Path, e: std::io::Error) -> UsageError {
    UsageError::in_file(path, format!("cannot read eval set: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_what_parse_lenient_gives_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("set.jsonl");
        let text = "\u{feff}{\"id\": \"a\", \"prompt\": \"x\"}\r\n\n{\"id\": \"a\", \"prompt\": \"y\"}\nnot json\n{\"prompt\": \"z\"}";
        std::fs::write(&path, text).unwrap();
        let streamed: Vec<_> = stream(&path).unwrap().collect();
        let parsed = super::super::parse_lenient(text);
        let items: Vec<&Item> = streamed.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(items, parsed.items.iter().collect::<Vec<_>>());
        let errors: Vec<String> = streamed
            .iter()
            .filter_map(|r| r.as_ref().err().map(|e| e.to_string()))
            .collect();
        let expected: Vec<String> = parsed
            .errors
            .iter()
            .map(|e| e.to_usage(&path).to_string())
            .collect();
        assert_eq!(errors, expected);
        assert_eq!(items.last().unwrap().id, "line-5");
    }

    #[test]
    fn invalid_utf8_ends_the_stream_with_the_error_load_gives() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("set.jsonl");
        std::fs::write(
            &path,
            b"{\"prompt\": \"a\"}\n{\"prompt\": \"\xff\"}\n{\"prompt\": \"b\"}\n",
        )
        .unwrap();
        let streamed: Vec<_> = stream(&path).unwrap().collect();
        assert_eq!(streamed.len(), 2);
        let err = streamed[1].as_ref().unwrap_err().to_string();
        assert_eq!(err, super::super::load(&path).unwrap_err().to_string());
    }
}
