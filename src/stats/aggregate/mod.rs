//! From run records to [`Summary`] v2 (STATS.md, SPEC §6).
//!
//! [`SummaryBuilder`] ([`ingest`]) takes each unit once and folds it into per-model aggregates;
//! [`summarize_dir`] reads the record files for it in two passes ([`read`]) through views that borrow
//! from each line ([`lines`]). [`SummaryBuilder::finish`] then computes, in ascending byte order of `item_id`: per model
//! ([`model`]), the references, paired comparisons and ranking ([`paired`]), GSB ([`gsb`]); cost is
//! in [`cost`].

mod cost;
mod dir;
mod gsb;
mod ingest;
mod lines;
mod model;
mod paired;
mod read;

use std::collections::{BTreeMap, BTreeSet};

use crate::records::{self, PairRecord, ResponseRecord, ScoreRecord};

use super::describe::ratio;
use super::judge::JudgeConfig;
use super::summary::{Params, References, Summary};
use super::{ALPHA, CONFIDENCE, POWER, SCHEMA};

pub use cost::{cost, most_expensive, Prices};
pub use dir::{summarize_dir, summarize_dir_with, LineVisitor};
pub use ingest::{cluster_value, ItemIds, ResponseFacts, ScoreFacts, SummaryBuilder};
pub use lines::{ResponseLine, ScoreLine};
pub use model::item_score;
pub use read::{for_each_line, reread_lines, Line};

/// What the statistics need from the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsConfig {
    /// Models in report order. Every one appears in `models` even without records; models found only in
    /// the records are added after them (with a warning).
    pub models: Vec<String>,
    /// `--baseline`; `None` means the first of `models` (SPEC §1).
    pub baseline: Option<String>,
    /// `[run].flagship`; `None`: the model with the strictly highest list price (STATS §4).
    pub flagship: Option<String>,
    /// `--margin` when given: overrides every dimension's margin.
    pub margin: Option<f64>,
    /// The rubric's per-dimension `margin`s; a dimension without one gets 0.05·range.
    pub margins: BTreeMap<String, f64>,
    /// Each dimension's scale [lo, hi] (manifest `dimensions[].scale`).
    pub scales: BTreeMap<String, (f64, f64)>,
    /// `[run].cluster` / `--cluster`: dotted path into each `items.jsonl` object.
    pub cluster_key: Option<String>,
    /// Significance level α (0.05).
    pub alpha: f64,
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
            flagship: None,
            margin: None,
            margins: BTreeMap::new(),
            scales: BTreeMap::new(),
            cluster_key: None,
            alpha: ALPHA,
            prices: BTreeMap::new(),
            judge: None,
        }
    }
}

impl StatsConfig {
    /// The non-inferiority margin of a dimension: `--margin`, else the rubric's, else 0.05·range (0.1
    /// without a known scale).
    pub fn margin_of(&self, dim: &str) -> f64 {
        self.margin
            .or_else(|| self.margins.get(dim).copied())
            .or_else(|| self.scales.get(dim).map(|(lo, hi)| 0.05 * (hi - lo)))
            .unwrap_or(0.1)
    }
}

/// Summarise records already in memory (each list in file order, so that the last of a repeated key wins).
pub fn summarize(
    cfg: &StatsConfig,
    responses: Vec<ResponseRecord>,
    scores: Vec<ScoreRecord>,
    pairs: Vec<PairRecord>,
) -> Summary {
    let mut b = SummaryBuilder::new(cfg);
    let (responses, n_responses) = last_of_each(responses, |r| {
        (r.model.clone(), r.item_id.clone(), r.sample.to_string())
    });
    let (scores, n_scores) = last_of_each(scores, |s| {
        (s.model.clone(), s.item_id.clone(), s.sample.to_string())
    });
    let (pairs, n_pairs) = last_of_each(pairs, |p| {
        (p.candidate.clone(), p.baseline.clone(), p.item_id.clone())
    });
    b.set_repeated(n_responses, n_scores, n_pairs);
    for r in &responses {
        b.add_response(&r.model, &r.item_id, r.sample, lines::response_facts(r));
    }
    for s in &scores {
        b.add_score(&s.model, &s.item_id, s.sample, &lines::score_facts(s));
    }
    for p in &pairs {
        b.add_pair(
            &p.candidate,
            &p.baseline,
            &p.item_id,
            p.verdict,
            p.first_order,
            p.second_order,
        );
    }
    b.finish()
}

/// The last record of each key, and how many records an later one replaced.
fn last_of_each<T>(
    records: Vec<T>,
    key: impl Fn(&T) -> (String, String, String),
) -> (Vec<T>, usize) {
    let n = records.len();
    let mut last: std::collections::HashMap<(String, String, String), usize> = Default::default();
    for (i, r) in records.iter().enumerate() {
        last.insert(key(r), i);
    }
    let keep: BTreeSet<usize> = last.into_values().collect();
    let kept: Vec<T> = records
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, r)| r)
        .collect();
    let repeated = n - kept.len();
    (kept, repeated)
}

impl SummaryBuilder<'_> {
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
        let with_records: BTreeSet<u32> = (self.per_model.iter().enumerate())
            .filter(|(_, f)| f.has_responses || f.has_scores)
            .map(|(m, _)| m as u32)
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
        if let Some(b) = &baseline {
            if !self
                .models
                .get(b)
                .is_some_and(|id| with_records.contains(&id))
            {
                warnings.push(format!("baseline {b} has no records"));
            }
        }
        self.repeat_warnings(&mut warnings);

        let sorted = self.items.sorted();
        let rank = ingest::ranks(&sorted);
        let item_scores = self.item_scores(&rank);
        let all_dims: Vec<u32> = {
            let mut d: Vec<u32> = (0..self.dimensions.names.len() as u32).collect();
            d.sort_by(|a, b| self.dimensions.name(*a).cmp(self.dimensions.name(*b)));
            d
        };
        let mut models = BTreeMap::new();
        for &m in &order {
            let name = self.models.name(m).to_owned();
            let by_item = (sorted.as_slice(), rank.as_slice());
            let stats = self.model_stats(m, &name, by_item, &item_scores, &all_dims, &mut warnings);
            models.insert(name, stats);
        }
        model::fill_overall(&mut models, &cfg.scales);

        let names: Vec<String> = order
            .iter()
            .map(|&m| self.models.name(m).to_owned())
            .collect();
        let flagship = cfg
            .flagship
            .clone()
            .or_else(|| most_expensive(&names, &cfg.prices));
        let ranking_order = paired::rank(&models);
        let references = References {
            baseline,
            flagship,
            top: ranking_order.first().cloned(),
        };
        let paired = self.paired(&references, &order, &item_scores, &all_dims);
        let ranking = paired::ranking(ranking_order, &names, &paired, cfg.alpha);
        let gsb = self.gsb(&order, &rank, &mut warnings);
        fold_small_sample_warnings(&mut warnings);
        let reference_metrics = self.reference_stats(&order, &rank);

        let dims: Vec<&str> = all_dims.iter().map(|&d| self.dimensions.name(d)).collect();
        Summary {
            schema: SCHEMA.to_owned(),
            params: params(cfg, references, &dims),
            warnings,
            models,
            paired,
            ranking,
            gsb,
            judge: None, // filled by `summarize_dir` from judgements.jsonl
            reference_metrics,
            human: None, // filled by `report::derive` from human.jsonl
            panel: None, // filled by `report::derive` for a judge panel
        }
    }

    fn repeat_warnings(&self, warnings: &mut Vec<String>) {
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
    }
}

fn params(cfg: &StatsConfig, references: References, dims: &[&str]) -> Params {
    let scales = cfg
        .scales
        .iter()
        .map(|(d, (lo, hi))| (d.clone(), [*lo, *hi]))
        .collect();
    let margins = dims
        .iter()
        .map(|d| (d.to_string(), cfg.margin_of(d)))
        .collect();
    let methods = [
        ("item_score", "mean of the non-null sample scores of (model, item, dimension); items without one are dropped for that model and dimension and counted in n_null"),
        ("estimator", "E(x) over items in ascending byte order of item_id: mean, sd (ddof 1), cluster-robust se = sqrt(C/(C-1) * sum_c e_c^2)/n raised to sd/sqrt(n) with a cluster key, df = C - 1; without a key C = n and se = sd/sqrt(n)"),
        ("interval", "mean +- t_{0.975,df} * se; se <= 1e-12 gives [mean, mean], or Wilson(n*mean, n) for a 0-1 share at 0 or 1; dimension means clipped to the scale, shares to [0, 1]"),
        ("test", "t = mean/se, two-sided p = 2*S_df(|t|); se <= 1e-12 with a non-zero mean: exact sign test of the non-zero values, else not run (no variation) and left out of Holm"),
        ("holm", "Holm over the tests run in a family: paired.<ref>.<cand> (the candidate's dimensions against one reference); gsb.<ref> (candidates with D > 0)"),
        ("mde", "mde80 = (z_{1-alpha/(2m)} + z_0.80) * se, m = m_family; null when not run or se = 0 (mde80_why says why); n_needed_margin = ceil(n_pairs * (mde80/margin)^2); n_needed_observed the same for |mean_diff|"),
        ("rules", "k_max = 1: pass_rate = passed/n, Wilson interval; k_max >= 2: E over the items' pass shares"),
        ("percentiles", "nearest rank: pP = sorted_x[(P*n + 99) div 100 - 1] (numpy method=\"inverted_cdf\"); responses with error == null, cached != true and the field set"),
        ("wilcoxon_p", "informational: scipy wilcoxon(d, zero_method=\"pratt\", correction=False, method=\"asymptotic\"); all d = 0 gives 1"),
        ("var_between", "max(0, sd_diff^2 - mean_i(v_cand/k_cand_i + v_ref/k_ref_i)), v = var_within, k = the item's non-null samples"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Params {
        references,
        cluster_key: cfg.cluster_key.clone(),
        alpha: cfg.alpha,
        confidence: CONFIDENCE,
        power: POWER,
        scales,
        margins,
        methods,
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
mod tests;
