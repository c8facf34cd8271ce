//! Taking records one unit at a time: [`SummaryBuilder`] folds each (model, item, sample) unit into per
//! model aggregates as it arrives — counters and token sums, and per item only the values a statistic
//! needs in item order (dimension scores, rule outcomes, latencies) — never a record per unit. The
//! caller passes each key once, the last line of a repeated key (`read::superseded` finds it).

use std::collections::BTreeMap;

use crate::records::{ErrorKind, PairVerdict};

use super::read::hash_of;
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

/// Item ids, stored once in one text buffer (a run may name a million items): id → text by its end
/// offset, text → id by an open-addressing table of ids. Ids are numbered in first-seen order.
#[derive(Debug, Default)]
pub struct ItemIds {
    text: String,
    ends: Vec<usize>,
    /// Ids by hash (linear probing), `u32::MAX` where empty; at most half full.
    slots: Vec<u32>,
}

impl ItemIds {
    /// The id of `name`, numbering it if it is new.
    pub fn id(&mut self, name: &str) -> u32 {
        if self.slots.len() < 2 * (self.ends.len() + 1) {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = hash_of(name) as usize & mask;
        loop {
            match self.slots[i] {
                u32::MAX => break,
                id if self.name(id) == name => return id,
                _ => i = (i + 1) & mask,
            }
        }
        let id = u32::try_from(self.ends.len())
            .ok()
            .filter(|&id| id < u32::MAX)
            .expect("fewer than 2^32 - 1 items");
        self.text.push_str(name);
        self.ends.push(self.text.len());
        self.slots[i] = id;
        id
    }

    fn grow(&mut self) {
        let len = (self.slots.len() * 2).max(16);
        self.slots = vec![u32::MAX; len];
        for id in 0..self.ends.len() as u32 {
            let mut i = hash_of(self.name(id)) as usize & (len - 1);
            while self.slots[i] != u32::MAX {
                i = (i + 1) & (len - 1);
            }
            self.slots[i] = id;
        }
    }

    /// The text of id `id`.
    pub fn name(&self, id: u32) -> &str {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.text[start..self.ends[id]]
    }

    /// How many ids there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The ids in ascending byte order of their text.
    pub(super) fn sorted(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        order
    }
}

/// Each id's place in `sorted` (ids in item order).
pub(super) fn ranks(sorted: &[u32]) -> Vec<u32> {
    let mut rank = vec![0; sorted.len()];
    for (r, &id) in sorted.iter().enumerate() {
        rank[id as usize] = r as u32;
    }
    rank
}

/// One (model, rule)'s records, per item.
#[derive(Debug)]
pub(super) enum RuleTally {
    /// No item has more than one record yet: which items have one (bit per item id), and which of
    /// those passed.
    Once { has: Vec<u64>, passed: Vec<u64> },
    /// Some item has more: (records, passed) per item id.
    Many(Vec<(u32, u32)>),
}

impl Default for RuleTally {
    fn default() -> Self {
        RuleTally::Once {
            has: Vec::new(),
            passed: Vec::new(),
        }
    }
}

impl RuleTally {
    fn add(&mut self, item: u32, pass: bool) {
        let (word, bit) = (item as usize / 64, 1u64 << (item % 64));
        if let RuleTally::Once { has, passed } = self {
            if has.get(word).is_some_and(|w| w & bit != 0) {
                let mut many = vec![(0, 0); has.len() * 64];
                for (i, c) in many.iter_mut().enumerate() {
                    let (w, b) = (i / 64, 1u64 << (i % 64));
                    *c = (u32::from(has[w] & b != 0), u32::from(passed[w] & b != 0));
                }
                *self = RuleTally::Many(many);
            } else {
                if has.len() <= word {
                    has.resize(word + 1, 0);
                    passed.resize(word + 1, 0);
                }
                has[word] |= bit;
                if pass {
                    passed[word] |= bit;
                }
                return;
            }
        }
        if let RuleTally::Many(per_item) = self {
            if per_item.len() <= item as usize {
                per_item.resize(item as usize + 1, (0, 0));
            }
            let c = &mut per_item[item as usize];
            c.0 += 1;
            c.1 += u32::from(pass);
        }
    }

    /// (records, passed) of item `id`.
    pub(super) fn of(&self, id: u32) -> (u32, u32) {
        let id = id as usize;
        match self {
            RuleTally::Once { has, passed } => {
                let (w, b) = (id / 64, 1u64 << (id % 64));
                let bit = |v: &Vec<u64>| u32::from(v.get(w).is_some_and(|x| x & b != 0));
                (bit(has), bit(passed))
            }
            RuleTally::Many(per_item) => per_item.get(id).copied().unwrap_or((0, 0)),
        }
    }
}

/// What the summary takes from one response record.
#[derive(Debug, Clone, Copy)]
pub struct ResponseFacts {
    /// `ttft_ms`.
    pub ttft_ms: Option<f64>,
    /// `total_ms`.
    pub total_ms: Option<f64>,
    /// `prompt_tokens`.
    pub prompt_tokens: Option<u64>,
    /// `completion_tokens`.
    pub completion_tokens: Option<u64>,
    /// `error.kind`, when the request failed.
    pub error: Option<ErrorKind>,
    /// `cached`.
    pub cached: bool,
    /// `invalid_utf8`.
    pub invalid_utf8: bool,
    /// `attempts`.
    pub attempts: u32,
}

/// What the summary takes from one score record: the dimensions, rules and reference metrics in
/// record order.
#[derive(Debug, Default)]
pub struct ScoreFacts<'r> {
    /// (dimension, score).
    pub dimensions: Vec<(&'r str, Option<f64>)>,
    /// (rule, pass).
    pub rules: Vec<(&'r str, bool)>,
    /// (metric, value).
    pub reference: Vec<(&'r str, f64)>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct PairFacts {
    pub(super) verdict: PairVerdict,
    pub(super) first: Option<PairVerdict>,
    pub(super) second: Option<PairVerdict>,
}

/// One model's aggregates.
#[derive(Debug, Default)]
pub(super) struct ModelFacts {
    pub(super) has_responses: bool,
    pub(super) has_scores: bool,
    pub(super) n_responses: usize,
    pub(super) n_errors: usize,
    pub(super) n_cached: usize,
    pub(super) n_retried: usize,
    pub(super) n_invalid_utf8: usize,
    pub(super) by_kind: BTreeMap<String, usize>,
    pub(super) prompt_tokens: u64,
    pub(super) completion_tokens: u64,
    /// Items with a response, one bit per item id.
    pub(super) answered: Vec<u64>,
    /// Latency values (order does not matter: they are sorted).
    pub(super) ttft: Vec<f64>,
    pub(super) total: Vec<f64>,
    /// (item, sample, total − ttft) of the answers with both times and a completion count: summed in
    /// (item, sample) order, as the statistic always has been.
    pub(super) gen: Vec<(u32, u32, f64)>,
    pub(super) gen_tokens: u64,
    /// Dimension → (non-null, null) sample scores.
    pub(super) dim_counts: BTreeMap<u32, (usize, usize)>,
    /// Dimension → (item, sample, score) of the non-null scores.
    pub(super) dim_scores: BTreeMap<u32, Vec<(u32, u32, f64)>>,
    /// Rule → its records per item.
    pub(super) rules: BTreeMap<u32, RuleTally>,
    /// Metric → (item, sample, value).
    pub(super) reference: BTreeMap<u32, Vec<(u32, u32, f64)>>,
}

/// Streaming aggregation: add each unit once, then [`finish`](Self::finish).
#[derive(Debug)]
pub struct SummaryBuilder<'a> {
    pub(super) cfg: &'a StatsConfig,
    pub(super) models: Interner,
    pub(super) dimensions: Interner,
    pub(super) rules: Interner,
    pub(super) metrics: Interner,
    pub(super) items: ItemIds,
    /// By model id.
    pub(super) per_model: Vec<ModelFacts>,
    /// (candidate id, baseline id) → (item, facts).
    pub(super) pairs: BTreeMap<(u32, u32), Vec<(u32, PairFacts)>>,
    pub(super) repeated_responses: usize,
    pub(super) repeated_scores: usize,
    pub(super) repeated_pairs: usize,
    /// item_id → its cluster value (compact JSON, keys sorted), for items that have one.
    pub(super) clusters: BTreeMap<String, String>,
}

impl<'a> SummaryBuilder<'a> {
    /// An empty builder; the configured models are registered first, in report order.
    pub fn new(cfg: &'a StatsConfig) -> Self {
        let mut b = SummaryBuilder {
            cfg,
            models: Interner::default(),
            dimensions: Interner::default(),
            rules: Interner::default(),
            metrics: Interner::default(),
            items: ItemIds::default(),
            per_model: Vec::new(),
            pairs: BTreeMap::new(),
            repeated_responses: 0,
            repeated_scores: 0,
            repeated_pairs: 0,
            clusters: BTreeMap::new(),
        };
        for m in &cfg.models {
            b.model(m);
        }
        b
    }

    fn model(&mut self, name: &str) -> u32 {
        let id = self.models.id(name);
        if self.per_model.len() <= id as usize {
            self.per_model
                .resize_with(id as usize + 1, ModelFacts::default);
        }
        id
    }

    /// How many lines of each record file repeated an earlier key (responses, scores, pairs).
    pub fn set_repeated(&mut self, responses: usize, scores: usize, pairs: usize) {
        self.repeated_responses = responses;
        self.repeated_scores = scores;
        self.repeated_pairs = pairs;
    }

    /// One `responses.jsonl` unit (the last line of its key).
    pub fn add_response(&mut self, model: &str, item_id: &str, sample: u32, r: ResponseFacts) {
        let m = self.model(model);
        let item = self.items.id(item_id);
        let f = &mut self.per_model[m as usize];
        f.has_responses = true;
        let word = item as usize / 64;
        if f.answered.len() <= word {
            f.answered.resize(word + 1, 0);
        }
        f.answered[word] |= 1 << (item % 64);
        f.n_responses += 1;
        f.n_cached += usize::from(r.cached);
        f.n_retried += usize::from(!r.cached && r.attempts > 1);
        f.n_invalid_utf8 += usize::from(r.invalid_utf8);
        f.prompt_tokens += r.prompt_tokens.unwrap_or(0);
        f.completion_tokens += r.completion_tokens.unwrap_or(0);
        if let Some(kind) = r.error {
            f.n_errors += 1;
            *f.by_kind.entry(kind.as_str().to_owned()).or_default() += 1;
            return;
        }
        if r.cached {
            return;
        }
        f.ttft.extend(r.ttft_ms.filter(|x| x.is_finite()));
        f.total.extend(r.total_ms.filter(|x| x.is_finite()));
        if let (Some(a), Some(b), Some(tok)) = (r.ttft_ms, r.total_ms, r.completion_tokens) {
            f.gen_tokens += tok;
            f.gen.push((item, sample, b - a));
        }
    }

    /// One `scores.jsonl` unit (the last line of its key).
    pub fn add_score(&mut self, model: &str, item_id: &str, sample: u32, s: &ScoreFacts<'_>) {
        let m = self.model(model) as usize;
        let item = self.items.id(item_id);
        for &(dim, score) in &s.dimensions {
            let d = self.dimensions.id(dim);
            let f = &mut self.per_model[m];
            let c = f.dim_counts.entry(d).or_default();
            match score.filter(|x| x.is_finite()) {
                Some(x) => {
                    c.0 += 1;
                    f.dim_scores.entry(d).or_default().push((item, sample, x));
                }
                None => c.1 += 1,
            }
        }
        for &(rule, pass) in &s.rules {
            let r = self.rules.id(rule);
            let f = &mut self.per_model[m];
            f.rules.entry(r).or_default().add(item, pass);
        }
        for &(metric, v) in s.reference.iter().filter(|(_, v)| v.is_finite()) {
            let k = self.metrics.id(metric);
            let f = &mut self.per_model[m];
            f.reference.entry(k).or_default().push((item, sample, v));
        }
        self.per_model[m].has_scores = true;
    }

    /// One `pairwise.jsonl` unit (the last line of its key).
    pub fn add_pair(
        &mut self,
        candidate: &str,
        baseline: &str,
        item_id: &str,
        verdict: PairVerdict,
        first: Option<PairVerdict>,
        second: Option<PairVerdict>,
    ) {
        let key = (self.model(candidate), self.model(baseline));
        let item = self.items.id(item_id);
        self.pairs.entry(key).or_default().push((
            item,
            PairFacts {
                verdict,
                first,
                second,
            },
        ));
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
