//! Taking records one at a time: [`SummaryBuilder`] keeps, per (model, item, sample), only the facts the
//! summary needs (a repeated key replaces the earlier line: the last line wins), and each item's cluster.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::records::{ErrorKind, PairRecord, PairVerdict, ResponseRecord, ScoreRecord};

use super::StatsConfig;

/// Strings stored once, referred to by index.
#[derive(Debug, Default)]
pub(super) struct Interner {
    ids: BTreeMap<String, u32>,
    pub(super) names: Vec<String>,
}

impl Interner {
    pub(super) fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_owned(), id);
        self.names.push(name.to_owned());
        id
    }

    pub(super) fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The id of a name that is known to be interned.
    pub(super) fn id_of(&self, name: &str) -> u32 {
        self.ids[name]
    }

    pub(super) fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
}

/// What the summary needs from one response record, packed (a summary holds one per unit): a
/// missing time is NaN (a record cannot hold one), a missing prompt token count 0 (all it adds).
#[derive(Debug, Clone)]
pub(super) struct ResponseFacts {
    ttft_ms: f64,
    total_ms: f64,
    pub(super) prompt_tokens: u64,
    completion_tokens: u64,
    has_completion_tokens: bool,
    pub(super) error: Option<ErrorKind>,
    pub(super) cached: bool,
    pub(super) invalid_utf8: bool,
    pub(super) attempts: u32,
}

impl ResponseFacts {
    pub(super) fn ttft_ms(&self) -> Option<f64> {
        (!self.ttft_ms.is_nan()).then_some(self.ttft_ms)
    }

    pub(super) fn total_ms(&self) -> Option<f64> {
        (!self.total_ms.is_nan()).then_some(self.total_ms)
    }

    pub(super) fn completion_tokens(&self) -> Option<u64> {
        self.has_completion_tokens.then_some(self.completion_tokens)
    }
}

/// What the summary needs from one score record, packed (a summary holds one per unit): (dimension
/// id, score, NaN for null), rule id × 2 + pass, and (metric id, value) of `reference_metrics`.
#[derive(Debug, Clone)]
pub(super) struct ScoreFacts {
    dimensions: Box<[(u32, f64)]>,
    rules: Box<[u32]>,
    pub(super) reference: Box<[(u32, f64)]>,
}

impl ScoreFacts {
    /// (dimension id, score) in record order; `None` for a null (or non-finite) score.
    pub(super) fn dimensions(&self) -> impl Iterator<Item = (u32, Option<f64>)> + '_ {
        self.dimensions
            .iter()
            .map(|&(d, x)| (d, (!x.is_nan()).then_some(x)))
    }

    /// (rule id, pass) in record order.
    pub(super) fn rules(&self) -> impl Iterator<Item = (u32, bool)> + '_ {
        self.rules.iter().map(|&r| (r >> 1, r & 1 == 1))
    }
}

/// An item id, stored once however many units name it.
pub(super) type ItemId = Arc<str>;

#[derive(Debug, Clone, Copy)]
pub(super) struct PairFacts {
    pub(super) verdict: PairVerdict,
    pub(super) first: Option<PairVerdict>,
    pub(super) second: Option<PairVerdict>,
}

/// (model id, item_id, sample). Ordered by model, then item in byte order, then sample.
pub(super) type UnitKey = (u32, ItemId, u32);

/// Streaming aggregation: add records in file order, then [`finish`](Self::finish).
#[derive(Debug)]
pub struct SummaryBuilder<'a> {
    pub(super) cfg: &'a StatsConfig,
    pub(super) models: Interner,
    pub(super) dimensions: Interner,
    pub(super) rules: Interner,
    pub(super) metrics: Interner,
    /// Every item id seen, so that the units of an item share one copy.
    items: HashSet<ItemId>,
    pub(super) responses: BTreeMap<UnitKey, ResponseFacts>,
    pub(super) scores: BTreeMap<UnitKey, ScoreFacts>,
    /// (candidate id, baseline id, item_id).
    pub(super) pairs: BTreeMap<(u32, u32, ItemId), PairFacts>,
    pub(super) repeated_responses: usize,
    pub(super) repeated_scores: usize,
    pub(super) repeated_pairs: usize,
    /// item_id → its cluster value (compact JSON, keys sorted), for items that have one.
    pub(super) clusters: BTreeMap<String, String>,
}

impl<'a> SummaryBuilder<'a> {
    /// An empty builder; the configured models are registered first, in report order.
    pub fn new(cfg: &'a StatsConfig) -> Self {
        let mut models = Interner::default();
        for m in &cfg.models {
            models.id(m);
        }
        SummaryBuilder {
            cfg,
            models,
            dimensions: Interner::default(),
            rules: Interner::default(),
            metrics: Interner::default(),
            items: HashSet::new(),
            responses: BTreeMap::new(),
            scores: BTreeMap::new(),
            pairs: BTreeMap::new(),
            repeated_responses: 0,
            repeated_scores: 0,
            repeated_pairs: 0,
            clusters: BTreeMap::new(),
        }
    }

    /// One `responses.jsonl` line; a repeated (model, item_id, sample) replaces the earlier one.
    pub fn add_response(&mut self, r: ResponseRecord) {
        let key = (self.models.id(&r.model), self.item(r.item_id), r.sample);
        let facts = ResponseFacts {
            ttft_ms: r.ttft_ms.unwrap_or(f64::NAN),
            total_ms: r.total_ms.unwrap_or(f64::NAN),
            prompt_tokens: r.prompt_tokens.unwrap_or(0),
            completion_tokens: r.completion_tokens.unwrap_or(0),
            has_completion_tokens: r.completion_tokens.is_some(),
            error: r.error.map(|e| e.kind),
            cached: r.cached,
            attempts: r.attempts,
            invalid_utf8: r.invalid_utf8,
        };
        if self.responses.insert(key, facts).is_some() {
            self.repeated_responses += 1;
        }
    }

    /// One `scores.jsonl` line; a repeated (model, item_id, sample) replaces the earlier one.
    pub fn add_score(&mut self, s: ScoreRecord) {
        let key = (self.models.id(&s.model), self.item(s.item_id), s.sample);
        let facts = ScoreFacts {
            dimensions: s
                .dimensions
                .iter()
                .map(|(d, v)| {
                    let score = v.score.filter(|x| x.is_finite()).unwrap_or(f64::NAN);
                    (self.dimensions.id(d), score)
                })
                .collect(),
            rules: s
                .rules
                .iter()
                .map(|(r, o)| self.rules.id(r) << 1 | u32::from(o.pass))
                .collect(),
            reference: s
                .reference_metrics
                .iter()
                .flatten()
                .filter(|(_, v)| v.is_finite())
                .map(|(k, v)| (self.metrics.id(k), *v))
                .collect(),
        };
        if self.scores.insert(key, facts).is_some() {
            self.repeated_scores += 1;
        }
    }

    /// One `pairwise.jsonl` line; a repeated (candidate, baseline, item_id) replaces the earlier one.
    pub fn add_pair(&mut self, p: PairRecord) {
        let key = (
            self.models.id(&p.candidate),
            self.models.id(&p.baseline),
            self.item(p.item_id),
        );
        let facts = PairFacts {
            verdict: p.verdict,
            first: p.first_order,
            second: p.second_order,
        };
        if self.pairs.insert(key, facts).is_some() {
            self.repeated_pairs += 1;
        }
    }

    /// The shared copy of an item id.
    fn item(&mut self, id: String) -> ItemId {
        if let Some(item) = self.items.get(id.as_str()) {
            return item.clone();
        }
        let item: ItemId = id.into();
        self.items.insert(item.clone());
        item
    }

    /// One `items.jsonl` object: with a cluster key, records the item's cluster value (STATS §2). An
    /// item without the field, or with null, stays a cluster of its own.
    pub fn add_item(&mut self, item: &serde_json::Value) {
        let Some(key) = self.cfg.cluster_key.as_deref() else {
            return;
        };
        let Some(id) = item.get("id").and_then(|v| v.as_str()) else {
            return;
        };
        match cluster_value(item, key) {
            Some(v) => self.clusters.insert(id.to_owned(), v),
            None => self.clusters.remove(id),
        };
    }

    /// One label per item (equal cluster values share one); `None` without a cluster key.
    pub(super) fn labels(&self, items: &[&str]) -> Option<Vec<usize>> {
        self.cfg.cluster_key.as_ref()?;
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut next = 0usize;
        Some(
            items
                .iter()
                .map(|item| {
                    let key = match self.clusters.get(*item) {
                        Some(v) => format!("v{v}"),
                        None => format!("i{item}"),
                    };
                    *seen.entry(key).or_insert_with(|| {
                        next += 1;
                        next - 1
                    })
                })
                .collect(),
        )
    }
}

/// The value at a dotted path of an item object, as compact JSON with keys sorted; `None` when the
/// path is missing or null.
pub fn cluster_value(item: &serde_json::Value, path: &str) -> Option<String> {
    let mut v = item;
    for part in path.split('.') {
        v = v.get(part)?;
    }
    (!v.is_null()).then(|| canonical(v))
}

fn canonical(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        serde_json::Value::String((*k).clone()),
                        canonical(&map[*k])
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        serde_json::Value::Array(a) => {
            format!(
                "[{}]",
                a.iter().map(canonical).collect::<Vec<_>>().join(",")
            )
        }
        other => other.to_string(),
    }
}
