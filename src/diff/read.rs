//! What `diff` reads of one run directory, as streams (`records::stream_jsonl`, one line in memory at a
//! time): per (model, item) the facts a change is made of — errors, dimension scores and rule outcomes
//! over the item's samples, the last line of a (model, item, sample) key winning (STATS §1) — the GSB
//! verdict of each (item, candidate, baseline), and each item's category. A second pass
//! ([`answers`]) fetches the answers and judge justifications of the units a diff lists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::error::UsageError;
use crate::manifest::Manifest;
use crate::records::{
    files, stream_jsonl, ItemRecord, PairRecord, PairVerdict, ResponseRecord, ScoreRecord,
};

/// (model, item id).
pub type Key = (String, String);

/// One (model, item, sample) unit as the diff compares it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unit {
    /// The error kind that replaced the answer, if any.
    pub error: Option<String>,
    /// Whether a response line was read for the unit.
    pub answered: bool,
    /// Dimension → score (null: not decided).
    pub scores: BTreeMap<String, Option<f64>>,
    /// Rule → passed.
    pub rules: BTreeMap<String, bool>,
}

/// One run, as `diff` compares it.
#[derive(Debug, Clone)]
pub struct RunFacts {
    /// The run directory.
    pub dir: PathBuf,
    /// The run's manifest.
    pub manifest: Manifest,
    /// (model, item) → sample → unit.
    pub units: BTreeMap<Key, BTreeMap<u32, Unit>>,
    /// (item, candidate, baseline) → combined GSB verdict.
    pub pairs: BTreeMap<(String, String, String), PairVerdict>,
    /// Item id → category.
    pub categories: BTreeMap<String, String>,
}

/// Read `dir`'s manifest and records.
pub fn run(dir: &Path) -> Result<RunFacts> {
    let manifest = Manifest::read(dir).map_err(|e| UsageError::new(format!("{e:#}")))?;
    let mut units: BTreeMap<Key, BTreeMap<u32, Unit>> = BTreeMap::new();
    for line in stream_jsonl::<ResponseRecord>(&dir.join(files::RESPONSES))? {
        let r = line?.record;
        let u = units
            .entry((r.model, r.item_id))
            .or_default()
            .entry(r.sample)
            .or_default();
        u.answered = true;
        u.error = r.error.map(|e| e.kind.as_str().to_string());
    }
    for line in stream_jsonl::<ScoreRecord>(&dir.join(files::SCORES))? {
        let s = line?.record;
        let u = units
            .entry((s.model, s.item_id))
            .or_default()
            .entry(s.sample)
            .or_default();
        u.scores = s
            .dimensions
            .into_iter()
            .map(|(d, v)| (d, v.score.filter(|x| x.is_finite())))
            .collect();
        u.rules = s.rules.into_iter().map(|(r, o)| (r, o.pass)).collect();
    }
    let mut pairs = BTreeMap::new();
    for line in stream_jsonl::<PairRecord>(&dir.join(files::PAIRWISE))? {
        let p = line?.record;
        pairs.insert((p.item_id, p.candidate, p.baseline), p.verdict);
    }
    let mut categories = BTreeMap::new();
    for line in stream_jsonl::<ItemRecord>(&dir.join(files::ITEMS))? {
        let i = line?.record;
        if let Some(c) = i.category {
            categories.insert(i.id, c);
        }
    }
    Ok(RunFacts {
        dir: dir.to_path_buf(),
        manifest,
        units,
        pairs,
        categories,
    })
}

/// The items of `items.jsonl` as compact JSON without their eval-set line number (an item moved to
/// another line of a subset file is the same item), by id.
pub fn items(dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for line in stream_jsonl::<ItemRecord>(&dir.join(files::ITEMS))? {
        let mut i = line?.record;
        i.line = 0;
        out.insert(i.id.clone(), serde_json::to_string(&i)?);
    }
    Ok(out)
}

/// The answer of a unit and the judge's justification per dimension, for showing a change.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Shown {
    /// The answer text (the first sample's), or the error message.
    pub answer: Option<String>,
    /// Dimension → the judge's justification.
    pub why: BTreeMap<String, String>,
}

/// The first sample's answer and justifications of each (model, item) in `keys`.
pub fn answers(dir: &Path, keys: &BTreeSet<Key>) -> Result<BTreeMap<Key, Shown>> {
    let mut out: BTreeMap<Key, Shown> = BTreeMap::new();
    for line in stream_jsonl::<ResponseRecord>(&dir.join(files::RESPONSES))? {
        let r = line?.record;
        let key = (r.model, r.item_id);
        if r.sample != 0 || !keys.contains(&key) {
            continue;
        }
        let text = match (r.output, r.error) {
            (_, Some(e)) => format!("[error {}] {}", e.kind, e.message),
            (Some(o), None) => o,
            (None, None) => String::new(),
        };
        out.entry(key).or_default().answer = Some(text);
    }
    for line in stream_jsonl::<ScoreRecord>(&dir.join(files::SCORES))? {
        let s = line?.record;
        let key = (s.model, s.item_id);
        if s.sample != 0 || !keys.contains(&key) {
            continue;
        }
        out.entry(key).or_default().why = s
            .dimensions
            .into_iter()
            .filter_map(|(d, v)| v.justification.map(|j| (d, j)))
            .collect();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_baseline_reads_with_every_unit() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/baseline");
        let r = run(&dir).unwrap();
        assert_eq!(r.units.len(), 400);
        assert!(r.units.values().all(|s| s.len() == 1 && s[&0].answered));
        assert!(!r.pairs.is_empty());
        assert_eq!(items(&dir).unwrap().len(), 50);
    }
}
