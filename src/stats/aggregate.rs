//! From run records to [`Summary`] (STATS.md §4, SPEC §6).
//!
//! [`SummaryBuilder`] takes records one at a time and keeps only what the summary needs: per
//! (model, item, sample) the latency, token and error facts of the response and the dimension scores and
//! rule outcomes of the score record; per (candidate, baseline, item) the three verdicts. A repeated key
//! replaces the earlier record (input hygiene: the last line wins). [`SummaryBuilder::finish`] then
//! computes every statistic, processing items in ascending byte order of `item_id`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::records::{
    self, ErrorKind, JudgementRecord, PairRecord, PairVerdict, ResponseRecord, ScoreRecord,
};

use super::binomial::{sign_test_p, wilson};
use super::bootstrap::mean_ci;
use super::describe::{describe, finite, mean, round9};
use super::holm::holm;
use super::judge::{JudgeBuilder, JudgeConfig};
use super::percentile::{nearest_rank, sorted};
use super::summary::{
    CostStats, DimensionStats, Distribution, ErrorStats, GsbStats, LatencyStats, ModelStats,
    PairedStats, Params, ReferenceStats, RuleStats, Summary, WilcoxonParams,
};
use super::wilcoxon::signed_rank;
use super::{ALPHA, CONFIDENCE, POWER, RESAMPLES, SCHEMA, SEED, Z_80, Z_975};

/// What the statistics need from the configuration. `Default` has no models and SPEC's margin of 0.1.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsConfig {
    /// Models in report order. Every one appears in `models` even without records; models found only in
    /// the records are added after them (with a warning).
    pub models: Vec<String>,
    /// Reference model of the paired tests and GSB; `None` means the first of `models` (SPEC §1).
    pub baseline: Option<String>,
    /// Non-inferiority margin δ on the rubric scale (SPEC §6, `--margin`).
    pub margin: f64,
    /// Prices per model name; a model without an entry has no cost.
    pub prices: BTreeMap<String, Prices>,
    /// The judge and its prices; `None` for a run without a judge (diagnostics then appear only if the
    /// directory holds judge records).
    pub judge: Option<JudgeConfig>,
}

impl Default for StatsConfig {
    fn default() -> Self {
        StatsConfig {
            models: Vec::new(),
            baseline: None,
            margin: 0.1,
            prices: BTreeMap::new(),
            judge: None,
        }
    }
}

/// A model's prices per 1,000 tokens (SPEC §2).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prices {
    /// `price_input_per_1k`: per 1,000 prompt tokens.
    pub input_per_1k: Option<f64>,
    /// `price_output_per_1k`: per 1,000 completion tokens.
    pub output_per_1k: Option<f64>,
    /// e.g. `"CNY"`; copied into the summary.
    pub currency: Option<String>,
}

/// Summarise records already in memory (each list in file order, so that the last of a repeated key wins).
pub fn summarize(
    cfg: &StatsConfig,
    responses: Vec<ResponseRecord>,
    scores: Vec<ScoreRecord>,
    pairs: Vec<PairRecord>,
) -> Summary {
    let mut b = SummaryBuilder::new(cfg);
    responses.into_iter().for_each(|r| b.add_response(r));
    scores.into_iter().for_each(|s| b.add_score(s));
    pairs.into_iter().for_each(|p| b.add_pair(p));
    b.finish()
}

/// Read `responses.jsonl`, `scores.jsonl`, `pairwise.jsonl` and `judgements.jsonl` of a run directory (a
/// missing file reads as empty; a torn last line is ignored) and summarise them.
pub fn summarize_dir(cfg: &StatsConfig, run_dir: &Path) -> anyhow::Result<Summary> {
    let mut b = SummaryBuilder::new(cfg);
    let mut j = JudgeBuilder::default();
    for r in records::read_jsonl::<ResponseRecord>(&run_dir.join(records::files::RESPONSES))? {
        j.add_response(&r);
        b.add_response(r);
    }
    for s in records::read_jsonl::<ScoreRecord>(&run_dir.join(records::files::SCORES))? {
        j.add_score(&s);
        b.add_score(s);
    }
    for p in records::read_jsonl::<PairRecord>(&run_dir.join(records::files::PAIRWISE))? {
        j.add_pair(&p);
        b.add_pair(p);
    }
    for r in records::read_jsonl::<JudgementRecord>(&run_dir.join(records::files::JUDGEMENTS))? {
        j.add_judgement(&r);
    }
    let mut summary = b.finish();
    summary.judge = j.finish(cfg.judge.as_ref(), &cfg.models);
    Ok(summary)
}

/// Strings stored once, referred to by index.
#[derive(Debug, Default)]
struct Interner {
    ids: BTreeMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_owned(), id);
        self.names.push(name.to_owned());
        id
    }

    fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
}

/// What the summary needs from one response record.
#[derive(Debug, Clone)]
struct ResponseFacts {
    ttft_ms: Option<f64>,
    total_ms: Option<f64>,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    error: Option<ErrorKind>,
    cached: bool,
    attempts: u32,
}

/// What the summary needs from one score record: (dimension id, score) and (rule id, pass).
#[derive(Debug, Clone)]
struct ScoreFacts {
    dimensions: Vec<(u32, Option<f64>)>,
    rules: Vec<(u32, bool)>,
    /// (metric id, value) of `reference_metrics`.
    reference: Vec<(u32, f64)>,
}

#[derive(Debug, Clone, Copy)]
struct PairFacts {
    verdict: PairVerdict,
    first: Option<PairVerdict>,
    second: Option<PairVerdict>,
}

/// (model id, item_id, sample). Ordered by model, then item in byte order, then sample.
type UnitKey = (u32, String, u32);

/// Streaming aggregation: add records in file order, then [`finish`](Self::finish).
#[derive(Debug)]
pub struct SummaryBuilder<'a> {
    cfg: &'a StatsConfig,
    models: Interner,
    dimensions: Interner,
    rules: Interner,
    metrics: Interner,
    responses: BTreeMap<UnitKey, ResponseFacts>,
    scores: BTreeMap<UnitKey, ScoreFacts>,
    /// (candidate id, baseline id, item_id).
    pairs: BTreeMap<(u32, u32, String), PairFacts>,
    repeated_responses: usize,
    repeated_scores: usize,
    repeated_pairs: usize,
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
            responses: BTreeMap::new(),
            scores: BTreeMap::new(),
            pairs: BTreeMap::new(),
            repeated_responses: 0,
            repeated_scores: 0,
            repeated_pairs: 0,
        }
    }

    /// One `responses.jsonl` line; a repeated (model, item_id, sample) replaces the earlier one.
    pub fn add_response(&mut self, r: ResponseRecord) {
        let key = (self.models.id(&r.model), r.item_id, r.sample);
        let facts = ResponseFacts {
            ttft_ms: r.ttft_ms,
            total_ms: r.total_ms,
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            error: r.error.map(|e| e.kind),
            cached: r.cached,
            attempts: r.attempts,
        };
        if self.responses.insert(key, facts).is_some() {
            self.repeated_responses += 1;
        }
    }

    /// One `scores.jsonl` line; a repeated (model, item_id, sample) replaces the earlier one.
    pub fn add_score(&mut self, s: ScoreRecord) {
        let key = (self.models.id(&s.model), s.item_id, s.sample);
        let facts = ScoreFacts {
            dimensions: s
                .dimensions
                .iter()
                .map(|(d, v)| (self.dimensions.id(d), v.score.filter(|x| x.is_finite())))
                .collect(),
            rules: s
                .rules
                .iter()
                .map(|(r, o)| (self.rules.id(r), o.pass))
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
            p.item_id,
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

    /// Compute every statistic of STATS.md into a [`Summary`].
    pub fn finish(self) -> Summary {
        let cfg = self.cfg;
        let mut warnings = Vec::new();

        // Report order: configured models, then any other model the records name, by name.
        let configured: BTreeSet<&str> = cfg.models.iter().map(String::as_str).collect();
        let mut order: Vec<u32> = Vec::new();
        for m in &cfg.models {
            let id = self.models.id_of(m);
            if !order.contains(&id) {
                order.push(id);
            }
        }
        let with_records: BTreeSet<u32> = (self.responses.keys().map(|k| k.0))
            .chain(self.scores.keys().map(|k| k.0))
            .collect();
        let mut extra: Vec<&str> = with_records
            .iter()
            .map(|&id| self.models.name(id))
            .filter(|m| !configured.contains(m))
            .collect();
        extra.sort_unstable();
        for m in &extra {
            warnings.push(format!(
                "model {m} has records but is not in the configured model list"
            ));
            order.push(self.models.id_of(m));
        }
        let baseline: Option<String> = cfg
            .baseline
            .clone()
            .or_else(|| cfg.models.first().cloned())
            .or_else(|| extra.first().map(|m| m.to_string()));
        let baseline_id = baseline.as_deref().and_then(|b| self.models.get(b));

        if let Some(b) = &baseline {
            if !baseline_id.is_some_and(|id| with_records.contains(&id)) {
                warnings.push(format!("baseline {b} has no records"));
            }
        }
        for (n, file, key) in [
            (
                self.repeated_responses,
                records::files::RESPONSES,
                "(model, item_id, sample)",
            ),
            (
                self.repeated_scores,
                records::files::SCORES,
                "(model, item_id, sample)",
            ),
            (
                self.repeated_pairs,
                records::files::PAIRWISE,
                "(candidate, baseline, item_id)",
            ),
        ] {
            if n > 0 {
                warnings.push(format!(
                    "{file}: {n} lines repeat an earlier {key}; the last line of each was kept"
                ));
            }
        }

        // Item scores per (model, dimension), in item order (the score map is ordered by model, item).
        let item_scores = self.item_scores();
        let all_dims: Vec<u32> = {
            let mut d: Vec<u32> = (0..self.dimensions.names.len() as u32).collect();
            d.sort_by(|a, b| self.dimensions.name(*a).cmp(self.dimensions.name(*b)));
            d
        };

        let mut models = BTreeMap::new();
        for &m in &order {
            let name = self.models.name(m).to_owned();
            let stats = self.model_stats(m, &name, &item_scores, &all_dims, &mut warnings);
            models.insert(name, stats);
        }

        // Paired differences against the baseline, every candidate × every dimension of the run.
        let mut paired: BTreeMap<String, BTreeMap<String, PairedStats>> = BTreeMap::new();
        let candidates: Vec<u32> = order
            .iter()
            .copied()
            .filter(|&m| Some(m) != baseline_id)
            .collect();
        if baseline.is_some() {
            for &c in &candidates {
                let mut per_dim = BTreeMap::new();
                for &d in &all_dims {
                    let cand = item_scores.get(&(c, d)).map(Vec::as_slice).unwrap_or(&[]);
                    let base = baseline_id
                        .and_then(|b| item_scores.get(&(b, d)))
                        .map(Vec::as_slice)
                        .unwrap_or(&[]);
                    let diffs = paired_differences(cand, base);
                    per_dim.insert(
                        self.dimensions.name(d).to_owned(),
                        paired_stats(&diffs, cfg.margin),
                    );
                }
                paired.insert(self.models.name(c).to_owned(), per_dim);
            }
        }
        // Holm family 1: every (candidate, dimension) Wilcoxon p in the report.
        {
            let mut slots: Vec<&mut PairedStats> = paired
                .values_mut()
                .flat_map(|m| m.values_mut())
                .filter(|p| p.wilcoxon_p.is_some())
                .collect();
            let raw: Vec<f64> = slots.iter().map(|p| p.wilcoxon_p.unwrap_or(1.0)).collect();
            for (slot, adj) in slots.iter_mut().zip(holm(&raw)) {
                slot.wilcoxon_p_holm = Some(adj);
            }
        }

        let gsb = self.gsb(&order, baseline.as_deref(), baseline_id, &mut warnings);
        fold_small_sample_warnings(&mut warnings);
        let reference_metrics = self.reference_stats(&order);

        Summary {
            schema: SCHEMA.to_owned(),
            params: params(baseline, cfg.margin),
            warnings,
            models,
            paired,
            gsb,
            judge: None, // filled by `summarize_dir` from judgements.jsonl
            reference_metrics,
        }
    }

    /// Per model and reference metric: item value = mean over the item's samples that have the metric,
    /// then mean, sd, se and the bootstrap CI over items (as a dimension, STATS.md §4.1).
    fn reference_stats(&self, order: &[u32]) -> BTreeMap<String, BTreeMap<String, ReferenceStats>> {
        let mut out = BTreeMap::new();
        for &m in order {
            // metric → item → (Σ, n); items in byte order because the score map is.
            let mut per_metric: BTreeMap<&str, BTreeMap<&str, (f64, usize)>> = BTreeMap::new();
            for ((_, item, _), facts) in self
                .scores
                .range((m, String::new(), 0)..)
                .take_while(|(k, _)| k.0 == m)
            {
                for &(k, v) in &facts.reference {
                    let e = per_metric
                        .entry(self.metrics.name(k))
                        .or_default()
                        .entry(item.as_str())
                        .or_default();
                    e.0 += v;
                    e.1 += 1;
                }
            }
            if per_metric.is_empty() {
                continue;
            }
            let stats = per_metric
                .into_iter()
                .map(|(metric, items)| {
                    let n_scores = items.values().map(|x| x.1).sum();
                    let values: Vec<f64> = items.values().map(|(s, n)| s / *n as f64).collect();
                    let desc = describe(&values);
                    let ci = bootstrap_ci(&values);
                    (
                        metric.to_owned(),
                        ReferenceStats {
                            n_items: values.len(),
                            n_scores,
                            mean: desc.mean,
                            sd: desc.sd,
                            se: desc.se,
                            ci95_low: ci.map(|c| c.0),
                            ci95_high: ci.map(|c| c.1),
                        },
                    )
                })
                .collect();
            out.insert(self.models.name(m).to_owned(), stats);
        }
        out
    }

    /// s_{m,i,d}: per (model, dimension), the (item_id, mean of the non-null sample scores) pairs in
    /// ascending item order; items without a non-null sample are left out.
    fn item_scores(&self) -> BTreeMap<(u32, u32), Vec<(&str, f64)>> {
        let mut out: BTreeMap<(u32, u32), Vec<(&str, f64)>> = BTreeMap::new();
        // (model, dimension) → (current item, Σ, count); flushed when the item changes.
        let mut open: BTreeMap<(u32, u32), (&str, f64, usize)> = BTreeMap::new();
        for ((m, item, _sample), facts) in &self.scores {
            for &(d, score) in &facts.dimensions {
                let key = (*m, d);
                let acc = open.entry(key).or_insert((item.as_str(), 0.0, 0));
                if acc.0 != item.as_str() {
                    let done = std::mem::replace(acc, (item.as_str(), 0.0, 0));
                    push_item_score(&mut out, key, done);
                }
                if let Some(s) = score {
                    acc.1 += s;
                    acc.2 += 1;
                }
            }
        }
        for (key, acc) in open {
            push_item_score(&mut out, key, acc);
        }
        out
    }

    fn model_stats(
        &self,
        m: u32,
        name: &str,
        item_scores: &BTreeMap<(u32, u32), Vec<(&str, f64)>>,
        all_dims: &[u32],
        warnings: &mut Vec<String>,
    ) -> ModelStats {
        // Dimensions: counts of non-null and null sample scores, and the item-score statistics.
        let mut counts: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
        let mut rule_counts: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
        for (_, facts) in self
            .scores
            .range((m, String::new(), 0)..)
            .take_while(|(k, _)| k.0 == m)
        {
            for &(d, score) in &facts.dimensions {
                let c = counts.entry(d).or_default();
                if score.is_some() {
                    c.0 += 1;
                } else {
                    c.1 += 1;
                }
            }
            for &(r, pass) in &facts.rules {
                let c = rule_counts.entry(r).or_default();
                c.0 += 1;
                c.1 += usize::from(pass);
            }
        }
        let mut dimensions = BTreeMap::new();
        for &d in all_dims {
            let values: Vec<f64> = item_scores
                .get(&(m, d))
                .map(|v| v.iter().map(|(_, s)| *s).collect())
                .unwrap_or_default();
            let (n_scores, n_null) = counts.get(&d).copied().unwrap_or_default();
            let desc = describe(&values);
            let ci = bootstrap_ci(&values);
            dimensions.insert(
                self.dimensions.name(d).to_owned(),
                DimensionStats {
                    n_items: values.len(),
                    n_scores,
                    n_null,
                    mean: desc.mean,
                    sd: desc.sd,
                    se: desc.se,
                    ci95_low: ci.map(|c| c.0),
                    ci95_high: ci.map(|c| c.1),
                },
            );
        }
        let rules = rule_counts
            .into_iter()
            .map(|(r, (n, passed))| (self.rules.name(r).to_owned(), rule_stats(n, passed)))
            .collect();

        // Responses: errors, latency population, tokens.
        let mut errors = ErrorStats {
            n_responses: 0,
            n_errors: 0,
            error_rate: None,
            n_cached: 0,
            by_kind: BTreeMap::new(),
            n_retried: 0,
        };
        let (mut ttft, mut total) = (Vec::new(), Vec::new());
        let (mut prompt_tokens, mut completion_tokens) = (0u64, 0u64);
        let (mut gen_tokens, mut gen_ms, mut gen_n) = (0u64, 0.0f64, 0usize);
        let mut items_answered = 0usize;
        let mut last_item: Option<&str> = None;
        for ((_, item, _), r) in self
            .responses
            .range((m, String::new(), 0)..)
            .take_while(|(k, _)| k.0 == m)
        {
            if last_item != Some(item.as_str()) {
                items_answered += 1;
                last_item = Some(item.as_str());
            }
            errors.n_responses += 1;
            errors.n_cached += usize::from(r.cached);
            errors.n_retried += usize::from(!r.cached && r.attempts > 1);
            prompt_tokens += r.prompt_tokens.unwrap_or(0);
            completion_tokens += r.completion_tokens.unwrap_or(0);
            if let Some(kind) = r.error {
                errors.n_errors += 1;
                *errors.by_kind.entry(kind.as_str().to_owned()).or_default() += 1;
                continue;
            }
            if r.cached {
                continue;
            }
            ttft.extend(r.ttft_ms.filter(|x| x.is_finite()));
            total.extend(r.total_ms.filter(|x| x.is_finite()));
            if let (Some(a), Some(b), Some(tok)) = (r.ttft_ms, r.total_ms, r.completion_tokens) {
                gen_tokens += tok;
                gen_ms += b - a;
                gen_n += 1;
            }
        }
        errors.error_rate = ratio(errors.n_errors as f64, errors.n_responses as f64);
        if errors.n_responses > 0 && errors.n_errors == errors.n_responses {
            warnings.push(format!(
                "model {name}: every one of its {} responses is an error",
                errors.n_responses
            ));
        }
        let latency = LatencyStats {
            ttft_ms: distribution(&ttft),
            total_ms: distribution(&total),
        };
        let small: Vec<String> = [("ttft_ms", ttft.len()), ("total_ms", total.len())]
            .iter()
            .filter(|(_, n)| (1..100).contains(n))
            .map(|(f, n)| format!("{f} n = {n}"))
            .collect();
        if !small.is_empty() {
            warnings.push(format!(
                "model {name}: p99 with n < 100 is the maximum ({})",
                small.join(", ")
            ));
        }
        let output_tokens_per_s = if gen_n > 0 && gen_ms > 0.0 {
            finite(gen_tokens as f64 / (gen_ms / 1000.0))
        } else {
            None
        };

        let cost = self.cost(
            name,
            prompt_tokens,
            completion_tokens,
            items_answered,
            errors.n_cached,
            warnings,
        );
        ModelStats {
            dimensions,
            rules,
            latency,
            errors,
            cost,
            output_tokens_per_s,
        }
    }

    fn cost(
        &self,
        name: &str,
        prompt_tokens: u64,
        completion_tokens: u64,
        items_answered: usize,
        n_cached: usize,
        warnings: &mut Vec<String>,
    ) -> CostStats {
        let prices = self.cfg.prices.get(name);
        let total = match prices {
            Some(Prices {
                input_per_1k: Some(pi),
                output_per_1k: Some(po),
                ..
            }) => finite((prompt_tokens as f64 * pi + completion_tokens as f64 * po) / 1000.0),
            Some(p) if p.input_per_1k.is_some() || p.output_per_1k.is_some() => {
                warnings.push(format!(
                    "model {name}: only one of price_input_per_1k / price_output_per_1k is set; cost is null"
                ));
                None
            }
            _ => None,
        };
        if total.is_some() && n_cached > 0 {
            warnings.push(format!(
                "model {name}: cost includes the tokens of {n_cached} cached responses, not paid again in this run"
            ));
        }
        let tokens = (prompt_tokens + completion_tokens) as f64;
        CostStats {
            currency: prices.and_then(|p| p.currency.clone()),
            price_input_per_1k: prices.and_then(|p| p.input_per_1k),
            price_output_per_1k: prices.and_then(|p| p.output_per_1k),
            prompt_tokens,
            completion_tokens,
            total,
            per_item: total.and_then(|t| ratio(t, items_answered as f64)),
            per_1k_tokens: total.and_then(|t| ratio(t * 1000.0, tokens)),
        }
    }

    /// GSB per candidate against the run's baseline; `models` are the ids reported under `models`.
    fn gsb(
        &self,
        models: &[u32],
        baseline: Option<&str>,
        baseline_id: Option<u32>,
        warnings: &mut Vec<String>,
    ) -> BTreeMap<String, GsbStats> {
        let mut out = BTreeMap::new();
        let mut other_baseline = 0usize;
        let mut per_candidate: BTreeMap<u32, Vec<PairFacts>> = BTreeMap::new();
        for ((c, b, _item), facts) in &self.pairs {
            if Some(*b) == baseline_id && Some(*c) != baseline_id {
                per_candidate.entry(*c).or_default().push(*facts);
            } else {
                other_baseline += 1;
            }
        }
        if other_baseline > 0 {
            warnings.push(format!(
                "{}: {other_baseline} lines do not compare a candidate with the baseline {}; ignored",
                records::files::PAIRWISE,
                baseline.unwrap_or("(none)")
            ));
        }
        let Some(baseline) = baseline else {
            return out;
        };
        for (c, lines) in per_candidate {
            let name = self.models.name(c).to_owned();
            if !models.contains(&c) {
                warnings.push(format!(
                    "gsb {name}: pairwise lines name a candidate that has no other records and is not configured"
                ));
            }
            let stats = gsb_stats(baseline, &lines);
            if stats.n_verdict_rule_mismatch > 0 {
                warnings.push(format!(
                    "gsb {name}: n_verdict_rule_mismatch = {} (verdicts that disagree with the both-orders rule)",
                    stats.n_verdict_rule_mismatch
                ));
            }
            out.insert(name, stats);
        }
        // Holm family 2: every candidate's sign test.
        let raw: Vec<f64> = out.values().filter_map(|g| g.sign_test_p).collect();
        let adjusted = holm(&raw);
        for (g, adj) in out
            .values_mut()
            .filter(|g| g.sign_test_p.is_some())
            .zip(adjusted)
        {
            g.sign_test_p_holm = Some(adj);
        }
        out
    }
}

impl Interner {
    /// The id of a name that is known to be interned.
    fn id_of(&self, name: &str) -> u32 {
        self.ids[name]
    }
}

/// Close one (model, dimension, item) accumulator: its item score is Σ/count when count > 0.
fn push_item_score<'s>(
    out: &mut BTreeMap<(u32, u32), Vec<(&'s str, f64)>>,
    key: (u32, u32),
    (item, sum, count): (&'s str, f64, usize),
) {
    if count > 0 {
        out.entry(key).or_default().push((item, sum / count as f64));
    }
}

/// a/b, `None` when b = 0 or the result is not finite.
fn ratio(a: f64, b: f64) -> Option<f64> {
    if b == 0.0 {
        None
    } else {
        finite(a / b)
    }
}

/// Bootstrap CI of a mean; `None` when n < 2 (one value resamples to a point, which says nothing).
fn bootstrap_ci(values: &[f64]) -> Option<(f64, f64)> {
    if values.len() < 2 {
        return None;
    }
    mean_ci(values, SEED, RESAMPLES, CONFIDENCE)
}

/// d_i = round(s_c − s_b, 9) over the items both have, in item order (merge of two sorted lists).
fn paired_differences(cand: &[(&str, f64)], base: &[(&str, f64)]) -> Vec<f64> {
    let (mut i, mut j) = (0, 0);
    let mut d = Vec::with_capacity(cand.len().min(base.len()));
    while i < cand.len() && j < base.len() {
        match cand[i].0.cmp(base[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                d.push(round9(cand[i].1 - base[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    d
}

fn paired_stats(d: &[f64], margin: f64) -> PairedStats {
    let desc = describe(d);
    let ci = bootstrap_ci(d);
    let test = signed_rank(d);
    let ci95_low = ci.map(|c| c.0);
    PairedStats {
        n_pairs: d.len(),
        mean_diff: desc.mean,
        sd_diff: desc.sd,
        se_diff: desc.se,
        ci95_low,
        ci95_high: ci.map(|c| c.1),
        n_pos: d.iter().filter(|x| **x > 0.0).count(),
        n_neg: d.iter().filter(|x| **x < 0.0).count(),
        n_zero: d.iter().filter(|x| **x == 0.0).count(),
        wilcoxon_r_plus: test.map(|t| t.r_plus),
        wilcoxon_z: test.map(|t| t.z),
        wilcoxon_p: test.map(|t| t.p),
        wilcoxon_p_holm: None, // filled over the whole family
        mde80: desc
            .sd
            .and_then(|sd| finite((Z_975 + Z_80) * sd / (d.len() as f64).sqrt())),
        non_inferior: ci95_low.map(|lo| lo > -margin),
    }
}

fn rule_stats(n: usize, passed: usize) -> RuleStats {
    let w = wilson(passed as u64, n as u64, Z_975);
    RuleStats {
        n,
        passed,
        pass_rate: ratio(passed as f64, n as f64),
        wilson95_low: w.map(|w| w.0),
        wilson95_high: w.map(|w| w.1),
    }
}

fn distribution(values: &[f64]) -> Distribution {
    let s = sorted(values);
    Distribution {
        n: s.len(),
        mean: mean(&s),
        p50: nearest_rank(&s, 50),
        p90: nearest_rank(&s, 90),
        p99: nearest_rank(&s, 99),
    }
}

fn gsb_stats(baseline: &str, lines: &[PairFacts]) -> GsbStats {
    let count = |v: PairVerdict| lines.iter().filter(|l| l.verdict == v).count();
    let (g, s, b) = (
        count(PairVerdict::G),
        count(PairVerdict::S),
        count(PairVerdict::B),
    );
    let n = g + s + b;
    let d = g + b;
    let (mut both, mut disagree, mut mismatch) = (0, 0, 0);
    for l in lines {
        if let (Some(first), Some(second)) = (l.first, l.second) {
            both += 1;
            disagree += usize::from(first != second);
            mismatch += usize::from(l.verdict != PairVerdict::combine(first, second));
        }
    }
    let w = wilson(g as u64, d as u64, Z_975);
    let to_win_rate = |bound: f64| {
        ratio(d as f64, n as f64).and_then(|share| finite(0.5 + share * (bound - 0.5)))
    };
    GsbStats {
        baseline: baseline.to_owned(),
        G: g,
        S: s,
        B: b,
        N: n,
        win_rate: ratio(g as f64 + 0.5 * s as f64, n as f64),
        sign_test_p: Some(sign_test_p(g as u64, d as u64)),
        sign_test_p_holm: None, // filled over the whole family
        decisive_win_share: ratio(g as f64, d as f64),
        wilson95_low: w.map(|w| w.0),
        wilson95_high: w.map(|w| w.1),
        win_rate_ci95_low: w.and_then(|w| to_win_rate(w.0)),
        win_rate_ci95_high: w.and_then(|w| to_win_rate(w.1)),
        mde80_win_rate: if d == 0 {
            None
        } else {
            ratio(0.5 * (Z_975 + Z_80) * (d as f64).sqrt(), n as f64)
        },
        n_both_orders: both,
        n_order_disagree: disagree,
        n_verdict_rule_mismatch: mismatch,
    }
}

fn params(baseline: Option<String>, margin: f64) -> Params {
    Params {
        baseline,
        seed: SEED,
        resamples: RESAMPLES,
        confidence: CONFIDENCE,
        alpha: ALPHA,
        power: POWER,
        item_score: "mean of the non-null sample scores of (model, item, dimension); items without one \
                     are dropped for that model and dimension and counted in n_null"
            .to_owned(),
        bootstrap: format!(
            "percentile bootstrap of the mean over items in ascending byte order of item_id: B = \
             {RESAMPLES}, a fresh SplitMix64 with state = {SEED} per statistic, index ((x >> 32) * n) \
             >> 32, type-7 quantiles at 0.025 and 0.975; null when n < 2"
        ),
        wilcoxon: WilcoxonParams {
            zero_method: "pratt".to_owned(),
            method: "asymptotic".to_owned(),
            correction: false,
            tie_correction: true,
            diff_decimals: 9,
        },
        sign_test: "exact two-sided binomial test of G in G + B at p = 0.5 (S excluded; G + B = 0 gives \
                    p = 1); Wilson 95% interval for G/(G + B), mapped to the win-rate scale as \
                    0.5 + (D/N)(bound - 0.5)"
            .to_owned(),
        holm_families: vec![
            "wilcoxon_p of every (candidate, dimension) in paired".to_owned(),
            "sign_test_p of every candidate in gsb".to_owned(),
        ],
        percentiles: "nearest rank: pP = sorted_x[(P*n + 99) div 100 - 1] (numpy method=\"inverted_cdf\")"
            .to_owned(),
        latency_population: "responses with error == null and cached != true and a non-null value of \
                             the field; output_tokens_per_s = sum completion_tokens / sum (total_ms - \
                             ttft_ms)/1000 over those with both times and completion_tokens"
            .to_owned(),
        mde: format!(
            "mde80 = (z_0.975 + z_0.80) * sd_diff / sqrt(n_pairs) = {:.4} * sd_diff / sqrt(n_pairs); \
             mde80_win_rate = 0.5 * {:.4} * sqrt(D) / N (null when D = 0); non_inferior = ci95_low > \
             -margin (margin = {margin})",
            Z_975 + Z_80,
            Z_975 + Z_80
        ),
        margin,
    }
}

/// One "p99 with n < 100" line per model is noise when every model ran the same items: fold the lines
/// that say the same thing into one naming the models.
fn fold_small_sample_warnings(warnings: &mut Vec<String>) {
    const MARK: &str = ": p99 with n < 100 is the maximum (";
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    let mut first_at = None;
    let mut kept = Vec::with_capacity(warnings.len());
    for w in warnings.drain(..) {
        let parsed = w
            .strip_prefix("model ")
            .and_then(|rest| rest.split_once(MARK))
            .map(|(model, detail)| (model.to_string(), detail.trim_end_matches(')').to_string()));
        match parsed {
            Some((model, detail)) => {
                first_at.get_or_insert(kept.len());
                match groups.iter_mut().find(|(d, _)| *d == detail) {
                    Some((_, models)) => models.push(model),
                    None => groups.push((detail, vec![model])),
                }
            }
            None => kept.push(w),
        }
    }
    let folded = groups
        .into_iter()
        .map(|(detail, models)| match models.as_slice() {
            [one] => format!("model {one}{MARK}{detail})"),
            many => format!(
                "p99 with n < 100 is the maximum ({detail}) for models {}",
                many.join(", ")
            ),
        });
    let at = first_at.unwrap_or(kept.len());
    kept.splice(at..at, folded);
    *warnings = kept;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{DimensionScore, ErrorInfo, RuleOutcome, ScoreSource};
    use crate::stats::fixture;

    fn cfg(models: &[&str]) -> StatsConfig {
        StatsConfig {
            models: models.iter().map(|m| m.to_string()).collect(),
            baseline: None,
            margin: 0.1,
            prices: BTreeMap::new(),
            judge: None,
        }
    }

    fn resp(model: &str, item: &str, sample: u32, ttft: f64, total: f64) -> ResponseRecord {
        ResponseRecord {
            model: model.into(),
            item_id: item.into(),
            sample,
            output: Some("ok".into()),
            ttft_ms: Some(ttft),
            total_ms: Some(total),
            queue_ms: None,
            prompt_tokens: Some(100),
            completion_tokens: Some(50),
            finish_reason: Some("stop".into()),
            attempts: 1,
            error: None,
            cached: false,
            tokens_estimated: false,
            invalid_utf8: false,
        }
    }

    fn score(model: &str, item: &str, sample: u32, dims: &[(&str, Option<f64>)]) -> ScoreRecord {
        ScoreRecord {
            model: model.into(),
            item_id: item.into(),
            sample,
            rules: BTreeMap::new(),
            dimensions: dims
                .iter()
                .map(|(d, s)| {
                    (
                        d.to_string(),
                        DimensionScore {
                            score: *s,
                            source: ScoreSource::Judge,
                            justification: None,
                            rule_cap: None,
                        },
                    )
                })
                .collect(),
            reference_metrics: None,
            judge_error: None,
            judge_samples: None,
        }
    }

    fn pair(item: &str, cand: &str, v: PairVerdict, f: PairVerdict, s: PairVerdict) -> PairRecord {
        PairRecord {
            item_id: item.into(),
            candidate: cand.into(),
            baseline: "base".into(),
            verdict: v,
            first_order: Some(f),
            second_order: Some(s),
        }
    }

    #[test]
    fn paired_worked_example_through_the_records() {
        // STATS.md §7: d = (1, 0, 0, 1, 1, 0, −1) ⇒ R⁺ = 16.5, z = 1, p = 0.31731050786291415; a
        // one-test Holm family leaves p unchanged. Base scores 2 everywhere, candidate 2 + d.
        let d = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, -1.0];
        let mut scores = Vec::new();
        for (i, di) in d.iter().enumerate() {
            let item = format!("i{i}");
            scores.push(score("base", &item, 0, &[("reply", Some(2.0))]));
            scores.push(score("cand", &item, 0, &[("reply", Some(2.0 + di))]));
        }
        let s = summarize(&cfg(&["base", "cand"]), vec![], scores, vec![]);
        let p = &s.paired["cand"]["reply"];
        assert_eq!(p.n_pairs, 7);
        assert_eq!((p.n_pos, p.n_neg, p.n_zero), (3, 1, 3));
        assert_eq!(p.wilcoxon_r_plus, Some(16.5));
        assert!((p.wilcoxon_z.unwrap() - 1.0).abs() < 1e-12);
        assert!((p.wilcoxon_p.unwrap() - 0.31731050786291415).abs() < 1e-9); // statrs erfc: ~1e-10
        assert_eq!(p.wilcoxon_p_holm, p.wilcoxon_p);
        // mean 2/7; sd by hand: Σd² = 4, Σ(d − 2/7)² = 4 − 7·(2/7)² = 24/7, sd = √(4/7).
        assert!((p.mean_diff.unwrap() - 2.0 / 7.0).abs() < 1e-15);
        assert!((p.sd_diff.unwrap() - (4.0f64 / 7.0).sqrt()).abs() < 1e-15);
        let mde = (Z_975 + Z_80) * (4.0f64 / 7.0).sqrt() / 7.0f64.sqrt();
        assert!((p.mde80.unwrap() - mde).abs() < 1e-15);
        assert_eq!(s.params.baseline.as_deref(), Some("base"));
        assert!(!s.paired.contains_key("base"));
    }

    #[test]
    fn gsb_worked_example() {
        // STATS.md §7: G:S:B = 4:3:1 ⇒ win rate 0.6875, sign-test p = 12/32 = 0.375.
        use PairVerdict::*;
        let mut pairs = Vec::new();
        for i in 0..4 {
            pairs.push(pair(&format!("g{i}"), "cand", G, G, G));
        }
        pairs.push(pair("s0", "cand", S, G, B)); // inconsistent orders
        pairs.push(pair("s1", "cand", S, S, S));
        pairs.push(pair("s2", "cand", S, G, S));
        pairs.push(pair("b0", "cand", B, B, B));
        let s = summarize(&cfg(&["base", "cand"]), vec![], vec![], pairs);
        let g = &s.gsb["cand"];
        assert_eq!((g.G, g.S, g.B, g.N), (4, 3, 1, 8));
        assert_eq!(g.win_rate, Some(0.6875));
        assert!((g.sign_test_p.unwrap() - 0.375).abs() < 1e-12);
        assert_eq!(g.sign_test_p_holm, g.sign_test_p);
        assert_eq!(g.decisive_win_share, Some(0.8));
        // Wilson(4, 5) = (0.3755346297625252, 0.9637758913675698) (statsmodels); mapped with D/N = 5/8.
        let lo = 0.5 + 0.625 * (0.3755346297625252 - 0.5);
        assert!((g.win_rate_ci95_low.unwrap() - lo).abs() < 1e-12);
        let mde = 0.5 * (Z_975 + Z_80) * 5.0f64.sqrt() / 8.0;
        assert!((g.mde80_win_rate.unwrap() - mde).abs() < 1e-15);
        assert_eq!(
            (
                g.n_both_orders,
                g.n_order_disagree,
                g.n_verdict_rule_mismatch
            ),
            (8, 2, 0)
        );
    }

    #[test]
    fn item_score_is_the_mean_of_non_null_samples_and_last_line_wins() {
        let scores = vec![
            score("m", "b", 0, &[("reply", Some(1.0))]),
            score("m", "b", 1, &[("reply", Some(2.0))]),
            score("m", "b", 2, &[("reply", None)]),
            score("m", "a", 0, &[("reply", Some(3.0))]),
            score("m", "a", 0, &[("reply", Some(1.0))]), // repeated key: replaces the line above
            score("m", "c", 0, &[("reply", None)]),      // no non-null sample: item dropped
        ];
        let s = summarize(&cfg(&["m"]), vec![], scores, vec![]);
        let d = &s.models["m"].dimensions["reply"];
        // Item scores (a, b) = (1, 1.5) ⇒ mean 1.25, sd = √0.125.
        assert_eq!((d.n_items, d.n_scores, d.n_null), (2, 3, 2));
        assert_eq!(d.mean, Some(1.25));
        assert!((d.sd.unwrap() - 0.125f64.sqrt()).abs() < 1e-15);
        assert!(s.warnings.iter().any(|w| w.contains("1 lines repeat")));
    }

    #[test]
    fn latency_errors_cost_and_throughput_by_hand() {
        let mut responses = vec![
            resp("m", "a", 0, 200.0, 1200.0),
            resp("m", "b", 0, 300.0, 1300.0),
            resp("m", "c", 0, 400.0, 1400.0),
            resp("m", "d", 0, 600.0, 1600.0),
        ];
        let mut cached = resp("m", "e", 0, 1.0, 2.0);
        cached.cached = true;
        let mut failed = resp("m", "f", 0, 50.0, 99_000.0);
        failed.error = Some(ErrorInfo {
            kind: ErrorKind::Truncated,
            message: "cut".into(),
            status: None,
            code: None,
        });
        responses.extend([cached, failed]);
        let mut c = cfg(&["m", "empty"]);
        c.prices.insert(
            "m".into(),
            Prices {
                input_per_1k: Some(0.5),
                output_per_1k: Some(2.0),
                currency: Some("CNY".into()),
            },
        );
        let s = summarize(&c, responses, vec![], vec![]);
        let m = &s.models["m"];
        // STATS.md §7: p50 of (1200, 1300, 1400, 1600) is 1300; the cached and failed ones are out.
        assert_eq!(m.latency.total_ms.n, 4);
        assert_eq!(m.latency.total_ms.p50, Some(1300.0));
        assert_eq!(m.latency.total_ms.p99, Some(1600.0));
        assert_eq!(m.latency.total_ms.mean, Some(1375.0));
        assert_eq!(m.latency.ttft_ms.p90, Some(600.0));
        assert_eq!(
            (m.errors.n_responses, m.errors.n_errors, m.errors.n_cached),
            (6, 1, 1)
        );
        assert_eq!(m.errors.by_kind["truncated"], 1);
        assert!((m.errors.error_rate.unwrap() - 1.0 / 6.0).abs() < 1e-15);
        // Tokens over all six lines: 600 prompt, 300 completion ⇒ 600·0.5/1000 + 300·2/1000 = 0.9.
        assert_eq!((m.cost.prompt_tokens, m.cost.completion_tokens), (600, 300));
        assert!((m.cost.total.unwrap() - 0.9).abs() < 1e-12);
        assert!((m.cost.per_item.unwrap() - 0.15).abs() < 1e-12);
        assert!((m.cost.per_1k_tokens.unwrap() - 1.0).abs() < 1e-12);
        // 4 × 50 tokens over 4 × 1000 ms ⇒ 50 tokens/s.
        assert_eq!(m.output_tokens_per_s, Some(50.0));
        assert!(s.warnings.iter().any(|w| w.contains("model m: p99")));
        // A configured model without records is present, with zeros and nulls.
        let e = &s.models["empty"];
        assert_eq!(e.errors.n_responses, 0);
        assert_eq!(e.errors.error_rate, None);
        assert_eq!(e.latency.ttft_ms.p50, None);
        assert_eq!(e.output_tokens_per_s, None);
    }

    #[test]
    fn rules_count_the_records_that_carry_them() {
        let mut scores = Vec::new();
        for (i, pass) in [true, true, true, true, false].into_iter().enumerate() {
            let mut s = score("m", &format!("i{i}"), 0, &[]);
            s.rules.insert(
                "json_strict".into(),
                RuleOutcome {
                    pass,
                    detail: String::new(),
                },
            );
            if i == 0 {
                s.rules.insert(
                    "length_range".into(),
                    RuleOutcome {
                        pass: false,
                        detail: String::new(),
                    },
                );
            }
            scores.push(s);
        }
        let s = summarize(&cfg(&["m"]), vec![], scores, vec![]);
        let r = &s.models["m"].rules;
        assert_eq!((r["json_strict"].n, r["json_strict"].passed), (5, 4));
        assert_eq!(r["json_strict"].pass_rate, Some(0.8));
        // Wilson(4, 5) from statsmodels, as in binomial.rs.
        assert!((r["json_strict"].wilson95_low.unwrap() - 0.3755346297625252).abs() < 1e-12);
        assert_eq!((r["length_range"].n, r["length_range"].passed), (1, 0));
        assert!(s.models["m"].dimensions.is_empty());
    }

    #[test]
    fn small_sample_warnings_fold_across_models() {
        let mut w = vec![
            "a first".to_string(),
            "model x: p99 with n < 100 is the maximum (ttft_ms n = 50)".to_string(),
            "model y: p99 with n < 100 is the maximum (ttft_ms n = 50)".to_string(),
            "model z: p99 with n < 100 is the maximum (ttft_ms n = 7)".to_string(),
            "a last".to_string(),
        ];
        fold_small_sample_warnings(&mut w);
        assert_eq!(
            w,
            [
                "a first",
                "p99 with n < 100 is the maximum (ttft_ms n = 50) for models x, y",
                "model z: p99 with n < 100 is the maximum (ttft_ms n = 7)",
                "a last"
            ]
        );
    }

    #[test]
    fn degenerate_inputs_give_nulls_and_warnings() {
        // One-off check: these records written as a run directory pass scripts/verify_stats.py.
        use PairVerdict::*;
        let mut scores = Vec::new();
        let mut responses = Vec::new();
        for item in ["a", "b", "c"] {
            let y = (item == "a").then_some(3.0);
            scores.push(score("base", item, 0, &[("x", Some(2.0)), ("y", y)]));
            scores.push(score("c1", item, 0, &[("x", Some(2.0)), ("y", Some(1.0))]));
            let mut r = resp("c2", item, 0, 1.0, 2.0);
            r.error = Some(ErrorInfo {
                kind: ErrorKind::Auth,
                message: "denied".into(),
                status: Some(401),
                code: None,
            });
            responses.push(r);
        }
        let pairs = vec![
            pair("a", "c1", S, G, B),
            pair("b", "c1", S, S, S),
            pair("a", "c3", B, B, B),
        ];
        let s = summarize(&cfg(&["base", "c1", "c2"]), responses, scores, pairs);
        // Every difference zero: z = 0, p = 1 (STATS.md §4.2); a constant d has sd 0 and a point CI.
        let x = &s.paired["c1"]["x"];
        assert_eq!(
            (x.wilcoxon_z, x.wilcoxon_p, x.n_zero),
            (Some(0.0), Some(1.0), 3)
        );
        assert_eq!((x.ci95_low, x.non_inferior), (Some(0.0), Some(true)));
        // One pair: no sd, no interval, no non-inferiority verdict; the test itself is defined.
        let y = &s.paired["c1"]["y"];
        assert_eq!((y.n_pairs, y.mean_diff, y.sd_diff), (1, Some(-2.0), None));
        assert_eq!((y.ci95_low, y.mde80, y.non_inferior), (None, None, None));
        assert_eq!(y.wilcoxon_z, Some(-1.0));
        // No scores at all for c2: present, empty.
        assert_eq!(s.paired["c2"]["x"].n_pairs, 0);
        assert_eq!(s.models["c2"].dimensions["x"].mean, None);
        // All ties in GSB: win rate 0.5, p = 1, the decisive-share statistics undefined.
        let g = &s.gsb["c1"];
        assert_eq!((g.win_rate, g.sign_test_p), (Some(0.5), Some(1.0)));
        assert_eq!(
            (g.wilson95_low, g.win_rate_ci95_low, g.mde80_win_rate),
            (None, None, None)
        );
        assert_eq!(g.n_order_disagree, 1);
        assert!(s.gsb.contains_key("c3"));
        for w in [
            "model c2: every one of its 3 responses is an error",
            "gsb c3: pairwise lines name a candidate",
        ] {
            assert!(
                s.warnings.iter().any(|x| x.starts_with(w)),
                "{w}: {:?}",
                s.warnings
            );
        }
    }

    #[test]
    fn baseline_without_records_is_warned_and_pairs_are_empty() {
        let scores = vec![score("cand", "a", 0, &[("reply", Some(2.0))])];
        let mut c = cfg(&["cand"]);
        c.baseline = Some("base".into());
        let s = summarize(&c, vec![], scores, vec![]);
        assert!(s
            .warnings
            .contains(&"baseline base has no records".to_string()));
        let p = &s.paired["cand"]["reply"];
        assert_eq!(p.n_pairs, 0);
        assert_eq!(
            (p.mean_diff, p.wilcoxon_p, p.non_inferior),
            (None, None, None)
        );
    }

    #[test]
    fn synthetic_run_summary_is_complete_and_deterministic() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = match std::env::var_os("EVALRUN_WRITE_FIXTURE") {
            Some(p) => std::path::PathBuf::from(p),
            None => tmp.path().to_path_buf(),
        };
        let cfg = fixture::synthetic_run(&dir).unwrap();
        let s = summarize_dir(&cfg, &dir).unwrap();
        let json = serde_json::to_string_pretty(&s).unwrap();
        std::fs::write(dir.join(records::files::SUMMARY), &json).unwrap();

        assert_eq!(s.schema, "evalrun-stats/1");
        assert_eq!(
            s.models.keys().collect::<Vec<_>>(),
            ["base", "cand-a", "cand-b", "ghost"]
        );
        assert_eq!(
            s.paired.keys().collect::<Vec<_>>(),
            ["cand-a", "cand-b", "ghost"]
        );
        assert_eq!(s.gsb.keys().collect::<Vec<_>>(), ["cand-a", "cand-b"]);
        for per_dim in s.paired.values() {
            assert_eq!(per_dim.len(), fixture::DIMENSIONS.len());
        }
        let a = &s.models["cand-a"];
        assert!(a.errors.n_errors > 0 && a.errors.n_cached > 0);
        assert!(a.cost.total.is_some() && s.models["cand-b"].cost.total.is_none());
        assert!(s.models["base"].rules["length_range"].n < s.models["base"].rules["json_strict"].n);
        assert_eq!(s.gsb["cand-b"].n_verdict_rule_mismatch, 1);
        for w in [
            "pairwise.jsonl: 3 lines do not compare",
            "gsb cand-b: n_verdict_rule_mismatch = 1",
            "model base: p99 with n < 100",
            "responses.jsonl: 3 lines repeat",
        ] {
            assert!(
                s.warnings.iter().any(|x| x.contains(w)),
                "{w}: {:?}",
                s.warnings
            );
        }
        // serde_json would write a NaN or infinity as null, hiding it: check the values themselves.
        let debug = format!("{s:?}");
        for bad in ["(NaN)", "(inf)", "(-inf)", ": NaN", ": inf", ": -inf"] {
            assert!(!debug.contains(bad), "{bad} in the summary");
        }
        // The file reads back as a Summary. Without serde_json's `float_roundtrip` feature its float
        // parser may land one ulp away, so compare the values with a relative tolerance.
        let back: Summary = serde_json::from_str(&json).unwrap();
        assert_json_close(
            &serde_json::to_value(&back).unwrap(),
            &serde_json::to_value(&s).unwrap(),
        );
        assert_eq!(summarize_dir(&cfg, &dir).unwrap(), s);
    }

    fn assert_json_close(a: &serde_json::Value, b: &serde_json::Value) {
        use serde_json::Value;
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                assert!((x - y).abs() <= 1e-15 * x.abs().max(y.abs()), "{x} vs {y}");
            }
            (Value::Array(x), Value::Array(y)) => {
                assert_eq!(x.len(), y.len());
                x.iter().zip(y).for_each(|(x, y)| assert_json_close(x, y));
            }
            (Value::Object(x), Value::Object(y)) => {
                assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>());
                x.iter()
                    .zip(y)
                    .for_each(|((_, x), (_, y))| assert_json_close(x, y));
            }
            _ => assert_eq!(a, b),
        }
    }
}
