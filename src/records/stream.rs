//! Reading record files: streamed line by line (memory holds one line), read back by position, or
//! copied byte for byte.

/// One line of a JSONL record file: its 1-based number, its text as written, and its record.
pub struct JsonlLine<T> {
    /// 1-based line number in the file.
    pub number: usize,
    /// Where the line starts in the file, and its length in bytes without the line end: what
    /// [`LineAt`] needs to read it again.
    pub at: LineSpan,
    /// The line's text as written.
    pub raw: String,
    /// The parsed record.
    pub record: T,
}

/// Stream a JSONL record file line by line, so memory holds one line at a time. A torn (unparseable)
/// *last* line is skipped, as a kill mid-write leaves one (STATS.md §4, input hygiene); an unparseable
/// line elsewhere is an error naming the file and line (`FILE:LINE: invalid record: …`). Blank lines
/// are skipped. A missing file reads as empty.
pub fn stream_jsonl<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
) -> anyhow::Result<JsonlStream<T>> {
    use anyhow::Context;
    let reader = match std::fs::File::open(path) {
        Ok(f) => Some(std::io::BufReader::new(f)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Ok(JsonlStream {
        path: path.to_path_buf(),
        reader,
        number: 0,
        pos: 0,
        _record: std::marker::PhantomData,
    })
}

/// The iterator of [`stream_jsonl`].
pub struct JsonlStream<T> {
    path: std::path::PathBuf,
    reader: Option<std::io::BufReader<std::fs::File>>,
    number: usize,
    /// Byte offset of the next line.
    pos: u64,
    _record: std::marker::PhantomData<fn() -> T>,
}

impl<T: serde::de::DeserializeOwned> Iterator for JsonlStream<T> {
    type Item = anyhow::Result<JsonlLine<T>>;

    fn next(&mut self) -> Option<Self::Item> {
        use anyhow::Context;
        use std::io::BufRead;
        loop {
            let reader = self.reader.as_mut()?;
            let mut raw = String::new();
            let n = match reader
                .read_line(&mut raw)
                .with_context(|| format!("cannot read {}", self.path.display()))
            {
                Ok(n) => n,
                Err(e) => {
                    self.reader = None;
                    return Some(Err(e));
                }
            };
            if n == 0 {
                self.reader = None;
                return None;
            }
            self.number += 1;
            let start = self.pos;
            self.pos += n as u64;
            // Only the last line can lack its newline: that is where a kill tears a record.
            let complete = raw.ends_with('\n');
            let len = raw.trim_end_matches('\n').trim_end_matches('\r').len();
            raw.truncate(len);
            if raw.trim().is_empty() {
                continue;
            }
            return match serde_json::from_str(&raw) {
                Ok(record) => Some(Ok(JsonlLine {
                    number: self.number,
                    at: LineSpan {
                        offset: start,
                        len: len as u64,
                    },
                    raw,
                    record,
                })),
                Err(_) if !complete => {
                    self.reader = None;
                    None
                }
                Err(e) => {
                    self.reader = None;
                    // Bad input (exit 2), naming the line.
                    Some(Err(crate::error::UsageError::at(
                        &self.path,
                        self.number,
                        format!("invalid record: {e}"),
                    )
                    .into()))
                }
            };
        }
    }
}

/// Where one line of a record file is: its first byte and its length without the line end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSpan {
    /// Offset of the line's first byte.
    pub offset: u64,
    /// Length in bytes, without the line end.
    pub len: u64,
}

/// Reads single lines of a record file again by their [`LineSpan`], so a reader that joins records
/// (the item browser) keeps where each line is instead of the line.
pub struct LineAt {
    path: std::path::PathBuf,
    file: std::fs::File,
    buf: Vec<u8>,
}

/// Fill `buf` from `file` at byte `offset`: one positioned read (`pread`) on Unix, a seek and a read
/// elsewhere (where callers that share the file must hold it exclusively, as `ItemFile` does).
pub fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = file;
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(buf)
    }
}

impl LineAt {
    /// Open `path` for reading lines by position.
    pub fn open(path: &std::path::Path) -> anyhow::Result<LineAt> {
        use anyhow::Context;
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(LineAt::from_file(file, path))
    }

    /// Read lines by position from `file`, already open; `shown` names it in error messages (an
    /// anonymous temporary file has no path of its own).
    pub fn from_file(file: std::fs::File, shown: &std::path::Path) -> LineAt {
        LineAt {
            path: shown.to_path_buf(),
            file,
            buf: Vec::new(),
        }
    }

    /// The bytes of the line at `at`, without its line end.
    pub fn bytes(&mut self, at: LineSpan) -> anyhow::Result<&[u8]> {
        use anyhow::Context;
        self.buf.resize(at.len as usize, 0);
        read_exact_at(&self.file, &mut self.buf, at.offset)
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        Ok(&self.buf)
    }

    /// The record of the line at `at`.
    pub fn read<T: serde::de::DeserializeOwned>(&mut self, at: LineSpan) -> anyhow::Result<T> {
        use anyhow::Context;
        self.bytes(at)?;
        serde_json::from_slice(&self.buf).with_context(|| {
            format!(
                "{}: the record at byte {} changed while it was read",
                self.path.display(),
                at.offset
            )
        })
    }
}

/// Write the lines at `spans` of the record file `src`, in that order and each ending in a newline, to
/// a new file `dst` (through a buffer: memory holds one line at a time).
pub fn copy_lines(
    src: &std::path::Path,
    spans: impl IntoIterator<Item = LineSpan>,
    dst: &std::path::Path,
) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    let file =
        std::fs::File::create(dst).with_context(|| format!("could not write {}", dst.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let mut lines = None;
    for at in spans {
        let reader = match &mut lines {
            Some(r) => r,
            None => lines.insert(LineAt::open(src)?),
        };
        out.write_all(reader.bytes(at)?)
            .and_then(|()| out.write_all(b"\n"))
            .with_context(|| format!("could not write {}", dst.display()))?;
    }
    out.flush()
        .with_context(|| format!("could not write {}", dst.display()))
}

/// Read a whole JSONL record file into memory ([`stream_jsonl`]'s hygiene), for small files and tests.
pub fn read_jsonl<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
) -> anyhow::Result<Vec<T>> {
    stream_jsonl(path)?.map(|l| l.map(|l| l.record)).collect()
}

/// Read a JSONL record file as its lines, each with its parsed JSON, for code that must copy records
/// byte for byte whatever fields they carry (`merge`, `--resume`); [`stream_jsonl`]'s hygiene.
pub fn read_jsonl_lines(
    path: &std::path::Path,
) -> anyhow::Result<Vec<(String, serde_json::Value)>> {
    stream_jsonl(path)?
        .map(|l| l.map(|l| (l.raw, l.record)))
        .collect()
}
