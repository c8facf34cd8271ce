//! The identities of record lines, for readers that only need to know which records exist.

use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

/// A 64-bit hash of a key (SipHash with fixed keys: the same in every run and process), for readers
/// that keep a compact hash per record instead of its key. Collisions are possible, so a reader that
/// must be exact compares the keys of records whose hashes are equal.
pub fn hash_of<T: Hash + ?Sized>(v: &T) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// The identity of a line of `responses.jsonl` or `scores.jsonl`: one (model, item, sample) unit.
/// Deserialises from a whole record (other fields are ignored), so readers that only need to know
/// *which* records exist — `--resume`, `merge` — do not depend on the rest of the record's shape.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UnitKey {
    /// Model name.
    pub model: String,
    /// Item id.
    pub item_id: String,
    /// 0-based sample index.
    pub sample: u32,
}

/// The identity of a line of `pairwise.jsonl`: (candidate, baseline, item).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PairKey {
    /// The model being compared.
    pub candidate: String,
    /// The model it is compared against.
    pub baseline: String,
    /// Item id.
    pub item_id: String,
}

/// The identity of a line of `judgements.jsonl`: one judge call (judge, task, graded model or
/// candidate, baseline of a pair, item, sample, order).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct JudgementKey {
    /// Judge model name.
    pub judge: String,
    /// `grade` or `pair`, as written.
    pub task: String,
    /// Graded model, or the candidate of a pair.
    pub model: String,
    #[serde(default)]
    /// Baseline of a pair call; None for grading.
    pub baseline: Option<String>,
    /// Item id.
    pub item_id: String,
    /// 0-based sample index.
    pub sample: u32,
    /// Presentation order of a pair call.
    pub order: u32,
}
