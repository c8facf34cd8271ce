//! The records the judge phase's units make, spooled to an anonymous temporary file as the units finish
//! (in any order), each under its unit's slot; read back by slot when `scores.jsonl` and
//! `pairwise.jsonl` are written in unit order. Memory holds where each slot's line is, not the records.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::records::{LineAt, LineSpan};

/// Where a slot's line is; `len == u32::MAX`: the slot has none.
#[derive(Clone, Copy)]
struct Slot {
    offset: u64,
    len: u32,
}

const EMPTY: Slot = Slot {
    offset: 0,
    len: u32::MAX,
};

struct Writing {
    out: BufWriter<File>,
    pos: u64,
    slots: Vec<Slot>,
    line: Vec<u8>,
    /// The first write that failed, reported by [`Spool::finish`].
    error: Option<std::io::Error>,
}

/// Records by slot, written as they come.
pub(super) struct Spool {
    writing: Mutex<Writing>,
}

/// How the spool is named in messages.
const SHOWN: &str = "the judge phase's temporary records";

impl Spool {
    /// A spool of `slots` empty slots, in the system's temporary directory (removed when dropped).
    pub(super) fn new(slots: usize) -> Result<Spool> {
        let file = tempfile::tempfile()
            .context("could not create a temporary file for the judge phase")?;
        Ok(Spool {
            writing: Mutex::new(Writing {
                out: BufWriter::new(file),
                pos: 0,
                slots: vec![EMPTY; slots],
                line: Vec::new(),
                error: None,
            }),
        })
    }

    /// Keep `record` as slot `slot`'s line (serialised as `serde_json::to_writer` writes it).
    pub(super) fn put<T: Serialize>(&self, slot: usize, record: &T) {
        let mut w = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let w = &mut *w;
        w.line.clear();
        serde_json::to_writer(&mut w.line, record).expect("records serialise");
        let len = u32::try_from(w.line.len()).expect("a record under 4 GB");
        if let Err(e) = w.out.write_all(&w.line) {
            w.error.get_or_insert(e);
            return;
        }
        w.slots[slot] = Slot { offset: w.pos, len };
        w.pos += u64::from(len);
    }

    /// The spooled records, to read by slot.
    pub(super) fn finish(self) -> Result<Spooled> {
        let w = self.writing.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = w.error {
            return Err(e).with_context(|| format!("could not write {SHOWN}"));
        }
        let file = w
            .out
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("could not write {SHOWN}"))?;
        Ok(Spooled {
            lines: LineAt::from_file(file, Path::new(SHOWN)),
            slots: w.slots,
        })
    }
}

/// The records of a finished [`Spool`].
pub(super) struct Spooled {
    lines: LineAt,
    slots: Vec<Slot>,
}

impl Spooled {
    /// How many slots there are.
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The line of slot `slot` (without a line end), if it has one.
    pub(super) fn bytes(&mut self, slot: usize) -> Result<Option<&[u8]>> {
        let s = self.slots[slot];
        if s.len == u32::MAX {
            return Ok(None);
        }
        let at = LineSpan {
            offset: s.offset,
            len: u64::from(s.len),
        };
        self.lines.bytes(at).map(Some)
    }

    /// The record of slot `slot`, if it has one.
    pub(super) fn read<T: DeserializeOwned>(&mut self, slot: usize) -> Result<Option<T>> {
        match self.bytes(slot)? {
            Some(b) => Ok(Some(serde_json::from_slice(b).with_context(|| {
                format!("{SHOWN}: slot {slot} cannot be read back")
            })?)),
            None => Ok(None),
        }
    }
}

/// Write `record` as one line of a record file.
pub(super) fn write_line<T: Serialize>(out: &mut dyn Write, record: &T) -> Result<()> {
    serde_json::to_writer(&mut *out, record)?;
    out.write_all(b"\n")?;
    Ok(())
}
