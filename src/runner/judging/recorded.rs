//! The judge calls that `judgements.jsonl` already answers (`--resume`), found by a 64-bit hash of
//! their identity and read back by position: memory holds 24 bytes per recorded call, not the calls.
//!
//! A call is identified by its judge and its [`CallId`]; the last line of a call wins, and only a call
//! whose last line got a reply (`error` null) is reused. Lines whose hashes are equal (a call recorded
//! again, or rarely a collision) are told apart by reading their identities back.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use anyhow::Result;

use crate::records::{hash_of, stream_jsonl, JudgementRecord, LineAt, LineSpan};

use super::ask::{call_id, CallId};

/// The calls of `judgements.jsonl` with a reply, by hash.
pub struct Recorded {
    /// (hash of judge and call, where the call's last line is), sorted by hash.
    calls: Vec<(u64, LineSpan)>,
    lines: Option<Mutex<LineAt>>,
}

fn call_hash(judge: &str, id: &CallId) -> u64 {
    hash_of(&(judge, id))
}

impl Recorded {
    /// Nothing recorded (a run that is not resumed).
    pub fn none() -> Recorded {
        Recorded {
            calls: Vec::new(),
            lines: None,
        }
    }

    /// Index `path` (`judgements.jsonl`; every line parsed once, as `records::read_jsonl` does).
    pub fn read(path: &Path) -> Result<Recorded> {
        // (hash, line number, where, replied), in file order.
        let mut seen: Vec<(u64, usize, LineSpan, bool)> = Vec::new();
        for line in stream_jsonl::<JudgementRecord>(path)? {
            let line = line?;
            let r = &line.record;
            let h = call_hash(&r.judge, &call_id(r));
            seen.push((h, line.number, line.at, r.error.is_none()));
        }
        if seen.is_empty() {
            return Ok(Recorded::none());
        }
        let mut lines = LineAt::open(path)?;
        seen.sort_unstable_by_key(|&(h, number, ..)| (h, number));
        let mut calls = Vec::new();
        for group in seen.chunk_by(|a, b| a.0 == b.0) {
            if let [(h, _, at, replied)] = group {
                if *replied {
                    calls.push((*h, *at));
                }
                continue;
            }
            // Several lines share a hash: the last line of each call, in file order.
            let mut last: HashMap<(String, CallId), (LineSpan, bool)> = HashMap::new();
            for &(_, _, at, replied) in group {
                let r: JudgementRecord = lines.read(at)?;
                last.insert((r.judge.clone(), call_id(&r)), (at, replied));
            }
            let mut kept: Vec<LineSpan> = (last.into_values())
                .filter(|(_, replied)| *replied)
                .map(|(at, _)| at)
                .collect();
            kept.sort_unstable_by_key(|at| at.offset);
            calls.extend(kept.into_iter().map(|at| (group[0].0, at)));
        }
        Ok(Recorded {
            calls,
            lines: Some(Mutex::new(lines)),
        })
    }

    /// Whether no call is recorded.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The recorded line of `judge`'s call `id`, if that call got a reply.
    ///
    /// # Panics
    /// When a line indexed by [`Recorded::read`] can no longer be read or parsed: the phase only
    /// appends to `judgements.jsonl` (the run directory is locked), so only a failing disk or someone
    /// rewriting the file gets here; the message says which.
    pub(super) fn get(&self, judge: &str, id: &CallId) -> Option<JudgementRecord> {
        let h = call_hash(judge, id);
        let start = self.calls.partition_point(|(x, _)| *x < h);
        let lines = self.lines.as_ref()?;
        for &(x, at) in &self.calls[start..] {
            if x != h {
                break;
            }
            let mut lines = lines.lock().unwrap_or_else(|p| p.into_inner());
            let r: JudgementRecord = match lines.read(at) {
                Ok(r) => r,
                Err(err) => panic!("{err:#}: the file changed during the judge phase"),
            };
            if r.judge == judge && call_id(&r) == *id {
                return Some(r);
            }
        }
        None
    }
}
