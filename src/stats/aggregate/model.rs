//! Per model (STATS.md §3): dimensions (E over item scores, `var_within`), `overall`, rules, latency,
//! errors, cost, and the reference metrics.

use std::collections::BTreeMap;

use crate::stats::describe::{finite, mean};
use crate::stats::estimate::{estimate, wilson, Bounds};
use crate::stats::percentile::{nearest_rank, sorted};
use crate::stats::summary::{
    CostStats, DimensionStats, Distribution, ErrorStats, LatencyStats, ModelStats, ReferenceStats,
    RuleStats,
};

use super::{ratio, SummaryBuilder};

/// The item score s_{m,i,d} (STATS.md §2): the mean of the non-null sample scores; `None` when every
/// sample is null. The one definition, also used by the gate.
pub fn item_score(samples: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0usize);
    for s in samples.into_iter().flatten() {
        sum += s;
        n += 1;
    }
    (n > 0).then(|| sum / n as f64)
}

/// One item's score for one (model, dimension): the item, s_{m,i,d}, its non-null samples k, and
/// Σ(x − s)² over them (for `var_within`).
#[derive(Debug, Clone, Copy)]
pub(super) struct ItemScore<'s> {
    pub item: &'s str,
    pub score: f64,
    pub k: usize,
    pub ss: f64,
}

/// (model, dimension) → item scores in ascending item order.
pub(super) type ItemScores<'s> = BTreeMap<(u32, u32), Vec<ItemScore<'s>>>;

impl SummaryBuilder<'_> {
    /// Item scores per (model, dimension), items without a non-null sample left out. `rank` orders the
    /// item ids by their bytes ([`super::ingest::ItemIds::ranks`]).
    pub(super) fn item_scores(&self, rank: &[u32]) -> ItemScores<'_> {
        let mut out: ItemScores = BTreeMap::new();
        for (m, f) in self.per_model.iter().enumerate() {
            for (&d, scores) in &f.dim_scores {
                let mut scores: Vec<(u32, u32, f64)> = scores.clone();
                sort_by_item(&mut scores, rank, |s| (s.0, s.1));
                let key = (m as u32, d);
                for same in scores.chunk_by(|a, b| a.0 == b.0) {
                    let samples: Vec<f64> = same.iter().map(|s| s.2).collect();
                    push_item(&mut out, key, (self.items.name(same[0].0), samples));
                }
            }
        }
        out
    }

    fn dimension_stats(
        &self,
        items: &[ItemScore],
        n_scores: usize,
        n_null: usize,
        bounds: Bounds,
    ) -> DimensionStats {
        let values: Vec<f64> = items.iter().map(|i| i.score).collect();
        let names: Vec<&str> = items.iter().map(|i| i.item).collect();
        let e = estimate(&values, self.labels(&names).as_deref());
        let ci = e.interval(bounds);
        DimensionStats {
            n_items: e.n,
            n_clusters: e.n_clusters,
            n_scores,
            n_null,
            mean: e.mean,
            sd: e.sd,
            se: e.se,
            df: e.df,
            ci95_low: ci.map(|c| c.0),
            ci95_high: ci.map(|c| c.1),
            var_within: var_within(items),
        }
    }

    /// k_max = 1: Wilson over records; k_max ≥ 2: E over the items' pass shares (STATS.md §3).
    fn rule_stats(&self, per_item: &[(&str, u32, u32)]) -> RuleStats {
        let n: usize = per_item.iter().map(|c| c.1 as usize).sum();
        let passed: usize = per_item.iter().map(|c| c.2 as usize).sum();
        let k_max = per_item.iter().map(|c| c.1 as usize).max().unwrap_or(0);
        if k_max <= 1 {
            let w = wilson(passed as u64, n as u64);
            return RuleStats {
                n,
                passed,
                n_items: per_item.len(),
                pass_rate: ratio(passed as f64, n as f64),
                ci95_low: w.map(|w| w.0),
                ci95_high: w.map(|w| w.1),
                ci_method: "wilson".to_owned(),
            };
        }
        let q: Vec<f64> = per_item
            .iter()
            .map(|(_, k, p)| *p as f64 / *k as f64)
            .collect();
        let names: Vec<&str> = per_item.iter().map(|c| c.0).collect();
        let e = estimate(&q, self.labels(&names).as_deref());
        let ci = e.interval(Bounds::Share);
        RuleStats {
            n,
            passed,
            n_items: per_item.len(),
            pass_rate: e.mean,
            ci95_low: ci.map(|c| c.0),
            ci95_high: ci.map(|c| c.1),
            ci_method: "t".to_owned(),
        }
    }

    pub(super) fn model_stats(
        &self,
        m: u32,
        name: &str,
        (sorted, rank): (&[u32], &[u32]),
        item_scores: &ItemScores,
        all_dims: &[u32],
        warnings: &mut Vec<String>,
    ) -> ModelStats {
        let f = &self.per_model[m as usize];
        // Dimensions: counts of non-null and null sample scores, and the item-score statistics.
        let counts = &f.dim_counts;
        // Per rule, one at a time: (item, records, passed) per item, items in byte order.
        let mut rules = BTreeMap::new();
        for (&r, tally) in &f.rules {
            let per_item: Vec<(&str, u32, u32)> = (sorted.iter())
                .map(|&id| (id, tally.of(id)))
                .filter(|(_, (records, _))| *records > 0)
                .map(|(id, (records, passed))| (self.items.name(id), records, passed))
                .collect();
            rules.insert(self.rules.name(r).to_owned(), self.rule_stats(&per_item));
        }
        let mut dimensions = BTreeMap::new();
        for &d in all_dims {
            let dim = self.dimensions.name(d);
            let items = item_scores.get(&(m, d)).map(Vec::as_slice).unwrap_or(&[]);
            let (n_scores, n_null) = counts.get(&d).copied().unwrap_or_default();
            let bounds = match self.cfg.scales.get(dim) {
                Some(&(lo, hi)) => Bounds::Scale(lo, hi),
                None => Bounds::Free,
            };
            dimensions.insert(
                dim.to_owned(),
                self.dimension_stats(items, n_scores, n_null, bounds),
            );
        }

        // Responses: errors, latency population, tokens.
        let mut errors = ErrorStats {
            n_responses: f.n_responses,
            n_errors: f.n_errors,
            error_rate: None,
            n_cached: f.n_cached,
            by_kind: f.by_kind.clone(),
            n_retried: f.n_retried,
            n_invalid_utf8: f.n_invalid_utf8,
        };
        let (ttft, total) = (&f.ttft, &f.total);
        let (prompt_tokens, completion_tokens) = (f.prompt_tokens, f.completion_tokens);
        let mut gen = f.gen.clone();
        sort_by_item(&mut gen, rank, |g| (g.0, g.1));
        let gen_ms = gen.iter().fold(0.0f64, |acc, g| acc + g.2);
        let (gen_tokens, gen_n) = (f.gen_tokens, gen.len());
        let items_answered: usize = f.answered.iter().map(|w| w.count_ones() as usize).sum();
        errors.error_rate = ratio(errors.n_errors as f64, errors.n_responses as f64);
        if errors.n_responses > 0 && errors.n_errors == errors.n_responses {
            warnings.push(format!(
                "model {name}: every one of its {} responses is an error",
                errors.n_responses
            ));
        }
        let latency = LatencyStats {
            ttft_ms: distribution(ttft),
            total_ms: distribution(total),
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
            overall: None, // filled once every model's means are known

            rules,
            latency,
            errors,
            cost,
            output_tokens_per_s,
        }
    }

    /// Per model and reference metric: item value = mean over the item's samples that have the metric,
    /// then E over items with its t-interval (as a dimension, STATS.md §3).
    pub(super) fn reference_stats(
        &self,
        order: &[u32],
        rank: &[u32],
    ) -> BTreeMap<String, BTreeMap<String, ReferenceStats>> {
        let mut out = BTreeMap::new();
        for &m in order {
            // metric → item → (Σ, n), items in byte order, each Σ in sample order.
            let mut per_metric: BTreeMap<&str, BTreeMap<&str, (f64, usize)>> = BTreeMap::new();
            for (&k, values) in &self.per_model[m as usize].reference {
                let mut values = values.clone();
                sort_by_item(&mut values, rank, |v| (v.0, v.1));
                let items = per_metric.entry(self.metrics.name(k)).or_default();
                for &(item, _, v) in &values {
                    let e = items.entry(self.items.name(item)).or_default();
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
                    let labels = self.labels(&items.keys().copied().collect::<Vec<_>>());
                    let desc = estimate(&values, labels.as_deref());
                    let ci = desc.interval(Bounds::Free);
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
            Some(p) if p.pair().is_some() => p.cost(prompt_tokens, completion_tokens),
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
            note: None,
        }
    }
}

/// Sort values by their (item, sample): items in ascending byte order of their ids (`rank`), then
/// samples; values of one (item, sample) keep their order.
pub(super) fn sort_by_item<T>(v: &mut [T], rank: &[u32], key: impl Fn(&T) -> (u32, u32)) {
    v.sort_by_key(|x| {
        let (item, sample) = key(x);
        (rank[item as usize], sample)
    });
}

/// Close one (model, dimension, item) accumulator: an item score when some sample is non-null.
fn push_item<'s>(out: &mut ItemScores<'s>, key: (u32, u32), (item, samples): (&'s str, Vec<f64>)) {
    let Some(score) = item_score(samples.iter().map(|s| Some(*s))) else {
        return;
    };
    let ss = samples
        .iter()
        .fold(0.0, |acc, x| acc + (x - score) * (x - score));
    out.entry(key).or_default().push(ItemScore {
        item,
        score,
        k: samples.len(),
        ss,
    });
}

/// Σᵢ Σⱼ (x_ij − x̄ᵢ)² / Σᵢ(kᵢ − 1) over items with kᵢ ≥ 2; `None` if there are none.
pub(super) fn var_within(items: &[ItemScore]) -> Option<f64> {
    let (ss, dof) = items
        .iter()
        .filter(|i| i.k >= 2)
        .fold((0.0, 0usize), |(s, d), i| (s + i.ss, d + i.k - 1));
    (dof > 0).then(|| ss / dof as f64).and_then(finite)
}

/// `overall` = mean over the scored dimensions of (mean − lo)/range; `None` if the model lacks a mean
/// on one or a scale is unknown.
pub(super) fn fill_overall(
    models: &mut BTreeMap<String, ModelStats>,
    scales: &BTreeMap<String, (f64, f64)>,
) {
    let scored: Vec<String> = {
        let mut d: Vec<String> = models
            .values()
            .flat_map(|m| {
                m.dimensions
                    .iter()
                    .filter(|(_, s)| s.mean.is_some())
                    .map(|(d, _)| d.clone())
            })
            .collect();
        d.sort();
        d.dedup();
        d
    };
    for stats in models.values_mut() {
        let parts: Option<Vec<f64>> = scored
            .iter()
            .map(|d| {
                let &(lo, hi) = scales.get(d).filter(|(lo, hi)| hi > lo)?;
                Some((stats.dimensions.get(d)?.mean? - lo) / (hi - lo))
            })
            .collect();
        stats.overall = parts.filter(|p| !p.is_empty()).and_then(|p| mean(&p));
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
