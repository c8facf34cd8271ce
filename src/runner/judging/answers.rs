//! The recorded answers the judge phase scores, read from `responses.jsonl` by position: memory holds
//! each answer's key and where its line is (a few dozen bytes), never the answers (200,000 answers
//! are hundreds of MB). A grade or pair unit reads its answers back when it starts.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result};

use crate::records::{stream_jsonl, LineAt, LineSpan, ResponseRecord};
use crate::runner::items::ItemFile;

/// One answer: its key (model, item, sample), whether it is an answer (no error, some output), and
/// where its line is.
struct Entry {
    model: u32,
    item: u32,
    sample: u32,
    answered: bool,
    offset: u64,
    len: u32,
}

/// The answers of `responses.jsonl` whose item is one of the run's, the last line of a repeated key
/// winning, in model (report order, then models not in it by name), item (run order), sample order.
pub struct Answers {
    entries: Vec<Entry>,
    /// Model names by id.
    models: Vec<String>,
    /// Each model's place in the order of the answers, by id.
    order: Vec<u32>,
    /// One reader at a time: a seek and a read of one line.
    lines: Mutex<Option<LineAt>>,
}

impl Answers {
    /// Index `path` (`responses.jsonl`; every line parsed once, as `records::read_jsonl` does).
    pub fn read(path: &Path, items: &ItemFile, models: &[String]) -> Result<Answers> {
        let item_index: HashMap<&str, u32> = items
            .ids()
            .enumerate()
            .map(|(i, id)| (id, i as u32))
            .collect();
        let mut names: Vec<String> = Vec::new();
        let mut name_ids: HashMap<String, u32> = HashMap::new();
        let mut entries = Vec::new();
        for line in stream_jsonl::<ResponseRecord>(path)? {
            let line = line?;
            let r = &line.record;
            let Some(&item) = item_index.get(r.item_id.as_str()) else {
                continue;
            };
            let model = match name_ids.get(r.model.as_str()) {
                Some(&id) => id,
                None => {
                    let id = names.len() as u32;
                    names.push(r.model.clone());
                    name_ids.insert(r.model.clone(), id);
                    id
                }
            };
            entries.push(Entry {
                model,
                item,
                sample: r.sample,
                answered: answered(r).is_some(),
                offset: line.at.offset,
                len: u32::try_from(line.at.len).context("an answer of 4 GB or more")?,
            });
        }
        // Models in report order, then the others by name.
        let rank = |m: &str| models.iter().position(|x| x == m).unwrap_or(usize::MAX);
        let mut by_order: Vec<u32> = (0..names.len() as u32).collect();
        by_order.sort_by(|&a, &b| {
            let (a, b) = (&names[a as usize], &names[b as usize]);
            (rank(a), a).cmp(&(rank(b), b))
        });
        let mut order = vec![0u32; names.len()];
        for (o, &id) in by_order.iter().enumerate() {
            order[id as usize] = o as u32;
        }
        // A stable sort keeps the lines of a key in file order: the last one wins.
        entries.sort_by_key(|e| (order[e.model as usize], e.item, e.sample));
        let mut kept: Vec<Entry> = Vec::with_capacity(entries.len());
        for e in entries {
            match kept.last_mut() {
                Some(last)
                    if (last.model, last.item, last.sample) == (e.model, e.item, e.sample) =>
                {
                    *last = e;
                }
                _ => kept.push(e),
            }
        }
        kept.shrink_to_fit();
        let lines = match kept.is_empty() {
            true => None,
            false => Some(LineAt::open(path)?),
        };
        Ok(Answers {
            entries: kept,
            models: names,
            order,
            lines: Mutex::new(lines),
        })
    }

    /// How many answers there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The item (0-based, run order) of answer `k`.
    pub fn item(&self, k: usize) -> usize {
        self.entries[k].item as usize
    }

    /// Whether answer `k` is an answer: no error, and some output.
    pub fn answered(&self, k: usize) -> bool {
        self.entries[k].answered
    }

    /// The answer of `model` to item `item` (0-based, run order), sample `sample`, if there is one.
    pub fn find(&self, model: &str, item: usize, sample: u32) -> Option<usize> {
        let id = self.models.iter().position(|m| m == model)?;
        let key = (self.order[id], item as u32, sample);
        self.entries
            .binary_search_by_key(&key, |e| (self.order[e.model as usize], e.item, e.sample))
            .ok()
    }

    /// The record of answer `k`, read from `responses.jsonl`.
    ///
    /// # Panics
    /// When the line can no longer be read or parsed: it was read and parsed when the answers were
    /// indexed and nothing writes `responses.jsonl` during the judge phase (the run directory is
    /// locked), so only a failing disk or someone rewriting the file gets here; the message says which.
    pub fn get(&self, k: usize) -> ResponseRecord {
        let e = &self.entries[k];
        let at = LineSpan {
            offset: e.offset,
            len: u64::from(e.len),
        };
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        let lines = lines.as_mut().expect("an answer was indexed");
        match lines.read::<ResponseRecord>(at) {
            Ok(r) => r,
            Err(err) => panic!("{err:#}: the file changed during the judge phase"),
        }
    }
}

/// The answer text of a successful response.
pub(super) fn answered(resp: &ResponseRecord) -> Option<&str> {
    if resp.error.is_none() {
        resp.output.as_deref()
    } else {
        None
    }
}
