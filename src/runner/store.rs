//! The run directory's record files, owned by one writer thread. Every record is serialised to one
//! line; the lines that arrive within a couple of milliseconds of each other are appended with one
//! `write_all` per file (whole lines, newlines included), so a kill at any moment leaves complete lines
//! plus at most one torn last line, which the readers ignore (`records::read_jsonl`).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::records::files;

/// The record files of a run directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFile {
    /// `responses.jsonl`.
    Responses,
    /// `scores.jsonl`.
    Scores,
    /// `judgements.jsonl`.
    Judgements,
    /// `pairwise.jsonl`.
    Pairwise,
}

impl RecordFile {
    /// The file's name in the run directory.
    pub fn name(self) -> &'static str {
        match self {
            RecordFile::Responses => files::RESPONSES,
            RecordFile::Scores => files::SCORES,
            RecordFile::Judgements => files::JUDGEMENTS,
            RecordFile::Pairwise => files::PAIRWISE,
        }
    }
    const ALL: [RecordFile; 4] = [
        RecordFile::Responses,
        RecordFile::Scores,
        RecordFile::Judgements,
        RecordFile::Pairwise,
    ];
}

/// A cheap, cloneable handle that sends records to the writer.
#[derive(Clone)]
pub struct RecordSink {
    tx: mpsc::Sender<(RecordFile, String)>,
}

impl RecordSink {
    /// Queues `record` as one JSON line for `file`.
    pub fn write<T: Serialize>(&self, file: RecordFile, record: &T) {
        let mut line = serde_json::to_string(record).expect("records serialise");
        line.push('\n');
        // The writer only stops after every sink is dropped, so this cannot fail while we hold one.
        let _ = self.tx.send((file, line));
    }
}

/// The run's record files and the thread that appends to them.
pub struct Store {
    sink: Option<RecordSink>,
    writer: Option<JoinHandle<Result<()>>>,
}

impl Store {
    /// Create (or append to) the record files in `dir`. All four files are created up front, so an
    /// unwritable directory fails before any request is sent.
    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create run directory {}", dir.display()))?;
        let mut handles = Vec::new();
        for f in RecordFile::ALL {
            let path = dir.join(f.name());
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("could not create {}", path.display()))?;
            handles.push((f, path, file));
        }
        let (tx, rx) = mpsc::channel::<(RecordFile, String)>();
        let writer = std::thread::Builder::new()
            .name("evalrun-writer".into())
            .spawn(move || write_loop(rx, handles))?;
        Ok(Store {
            sink: Some(RecordSink { tx }),
            writer: Some(writer),
        })
    }

    /// A handle for sending records to the writer.
    pub fn sink(&self) -> RecordSink {
        self.sink.clone().expect("store open")
    }

    /// Drop our sink, wait for every queued record to reach disk, and report a write error if any.
    pub fn close(mut self) -> Result<()> {
        self.sink.take();
        match self.writer.take() {
            Some(h) => h
                .join()
                .map_err(|_| anyhow::anyhow!("record writer panicked"))?,
            None => Ok(()),
        }
    }
}

/// Most lines gathered into one write per file: bounds the writer's buffers.
const BATCH: usize = 256;

/// How long the writer lets lines gather after the first one wakes it. Waking the writer costs a
/// futex call on each side and two context switches; without the pause every line of a fast run paid
/// that (about four futex calls per request). Lines wait at most this long in memory, where a kill
/// loses them exactly as it loses a line still queued. Only a writer that has caught up pauses: while
/// batches come out full, the next is written at once, so a burst (a rescore, the judge phase's
/// output) is never slowed to [`BATCH`] lines per pause.
const LINGER: std::time::Duration = std::time::Duration::from_millis(2);

/// Append each record line to its file. The lines that are already queued when the writer wakes
/// (up to [`BATCH`]) go out in one `write_all` per file rather than one per line: the same bytes in
/// the same order, so a kill still leaves whole lines plus at most one torn last line, with far fewer
/// system calls and thread wake-ups when answers arrive faster than one at a time.
fn write_loop(
    rx: mpsc::Receiver<(RecordFile, String)>,
    mut files: Vec<(RecordFile, PathBuf, File)>,
) -> Result<()> {
    let mut first_error = None;
    let mut pending: Vec<Vec<u8>> = vec![Vec::new(); files.len()];
    let mut caught_up = true;
    while let Ok(first) = rx.recv() {
        if caught_up {
            std::thread::sleep(LINGER);
        }
        let mut next = Some(first);
        let mut gathered = 0;
        while let Some((which, line)) = next.take() {
            let k = files
                .iter()
                .position(|(f, _, _)| *f == which)
                .expect("all files open");
            pending[k].extend_from_slice(line.as_bytes());
            gathered += 1;
            if gathered < BATCH {
                next = rx.try_recv().ok();
            }
        }
        caught_up = gathered < BATCH;
        for ((_, path, file), buf) in files.iter_mut().zip(&mut pending) {
            if buf.is_empty() {
                continue;
            }
            if let Err(e) = file.write_all(buf) {
                // Keep draining so senders never block; report the first failure at close.
                first_error.get_or_insert_with(|| {
                    anyhow::anyhow!("could not write {}: {e}", path.display())
                });
            }
            buf.clear();
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{read_jsonl, PairRecord, PairVerdict};

    #[test]
    fn records_reach_disk_as_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let sink = store.sink();
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let sink = sink.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        sink.write(
                            RecordFile::Pairwise,
                            &PairRecord {
                                item_id: format!("{t}-{i}"),
                                candidate: "c".into(),
                                baseline: "b".into(),
                                verdict: PairVerdict::S,
                                first_order: Some(PairVerdict::G),
                                second_order: Some(PairVerdict::B),
                                panel: None,
                            },
                        );
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        drop(sink);
        store.close().unwrap();
        let v: Vec<PairRecord> = read_jsonl(&dir.path().join(files::PAIRWISE)).unwrap();
        assert_eq!(v.len(), 200);
        assert!(dir.path().join(files::RESPONSES).exists());
    }

    /// Lines queued faster than the writer writes them are gathered into one write per file: each
    /// file still gets exactly its lines, in the order they were sent, across many batches.
    #[test]
    fn gathered_lines_keep_their_file_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let sink = store.sink();
        let n = 5 * BATCH + 7;
        for i in 0..n {
            let file = if i % 3 == 0 {
                RecordFile::Scores
            } else {
                RecordFile::Pairwise
            };
            sink.write(file, &format!("line {i}"));
        }
        drop(sink);
        store.close().unwrap();
        let read = |name: &str| -> Vec<String> { read_jsonl(&dir.path().join(name)).unwrap() };
        let want = |keep: fn(usize) -> bool| -> Vec<String> {
            (0..n)
                .filter(|&i| keep(i))
                .map(|i| format!("line {i}"))
                .collect()
        };
        assert_eq!(read(files::SCORES), want(|i| i % 3 == 0));
        assert_eq!(read(files::PAIRWISE), want(|i| i % 3 != 0));
    }
}
