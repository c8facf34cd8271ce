//! Dimension rows (STATS §7): per item, the score of each run over the shared units (mean of the
//! non-null sample scores, STATS §2); dᵢ = round(s_B − s_A, 9); E(d) and the one-sided t for a drop.

use std::collections::BTreeMap;

use super::estimate::drop_test;
use super::runs::Run;
use super::{Params, Status};
use crate::records::UnitKey;
use crate::stats::describe::round9;

/// What every check of one model looks at.
pub struct Ctx<'a> {
    /// The baseline run.
    pub base: &'a Run,
    /// The candidate run.
    pub cand: &'a Run,
    /// Units present in both runs.
    pub shared: &'a [&'a UnitKey],
    /// Gate parameters.
    pub params: &'a Params,
}

impl Ctx<'_> {
    /// Cluster value of each item (`None`: its own cluster), from the baseline's `items.jsonl`.
    pub fn clusters(&self, items: &[&str]) -> Vec<Option<String>> {
        items
            .iter()
            .map(|i| self.base.clusters.get(*i).cloned())
            .collect()
    }
}

/// One dimension of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct DimRow {
    /// Items scored in both runs.
    pub n_pairs: usize,
    /// Clusters those items fall into.
    pub n_clusters: usize,
    /// Degrees of freedom of the paired test.
    pub df: Option<f64>,
    /// Baseline mean score.
    pub mean_baseline: Option<f64>,
    /// Candidate mean score.
    pub mean_candidate: Option<f64>,
    /// Mean per-item difference (candidate − baseline).
    pub mean_diff: Option<f64>,
    /// Standard error of the mean difference.
    pub se_diff: Option<f64>,
    /// Paired t statistic.
    pub t: Option<f64>,
    /// One-sided p (H1: the candidate's mean is lower) of the paired t-test, STATS §7.
    pub p: Option<f64>,
    /// Holm-adjusted p over the family.
    pub p_holm: Option<f64>,
    /// Tests in the Holm family.
    pub m_family: usize,
    /// Tolerated drop in mean score.
    pub tolerance: f64,
    /// Whether this is a primary dimension.
    pub primary: bool,
    /// Minimum detectable difference at 80% power.
    pub mde80: Option<f64>,
    /// Items whose score fell / rose.
    pub n_lower: usize,
    /// Items where the candidate scored higher.
    pub n_higher: usize,
    /// Outcome of this row.
    pub status: Status,
    /// Why the row has its status.
    pub why: String,
}

/// Every dimension `--primary` or `--tolerance d=x` names is in the runs' rubric; else the message
/// naming it and the known ones.
pub fn check_named(base: &Run, cand: &Run, params: &Params) -> Result<(), String> {
    let dims = dimension_scales(base, cand);
    match params
        .primary
        .iter()
        .chain(params.tolerance_by_dim.keys())
        .find(|d| !dims.contains_key(*d))
    {
        Some(d) => {
            let known: Vec<&str> = dims.keys().map(String::as_str).collect();
            Err(format!(
                "dimension `{d}` is not in the runs' rubric (known: {})",
                known.join(", ")
            ))
        }
        None => Ok(()),
    }
}

/// Every dimension either run's manifest names, with its scale (baseline first).
pub fn dimension_scales(base: &Run, cand: &Run) -> BTreeMap<String, (i64, i64)> {
    let mut out = BTreeMap::new();
    for d in cand
        .manifest
        .dimensions
        .iter()
        .chain(&base.manifest.dimensions)
    {
        out.insert(d.id.clone(), d.scale);
    }
    out
}

/// Item → mean of the non-null sample scores of `dim` over the shared units.
fn item_scores(run: &Run, dim: &str, shared: &[&UnitKey]) -> BTreeMap<String, f64> {
    let mut acc: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for key in shared {
        let score = run
            .scores
            .get(*key)
            .and_then(|s| s.dimensions.get(dim))
            .and_then(|s| *s);
        if let Some(s) = score {
            let e = acc.entry(key.item_id.clone()).or_default();
            e.0 += s;
            e.1 += 1;
        }
    }
    acc.into_iter()
        .map(|(i, (sum, n))| (i, sum / n as f64))
        .collect()
}

/// The row, undecided (status and `p_holm` are set by `verdict`).
pub fn row(ctx: &Ctx, dim: &str, tolerance: f64, primary: bool) -> DimRow {
    let b = item_scores(ctx.base, dim, ctx.shared);
    let c = item_scores(ctx.cand, dim, ctx.shared);
    let pairs: Vec<(&str, f64, f64)> = b
        .iter()
        .filter_map(|(i, sb)| c.get(i).map(|sc| (i.as_str(), *sb, *sc)))
        .collect();
    let n = pairs.len();
    let d: Vec<f64> = pairs.iter().map(|(_, sb, sc)| round9(sc - sb)).collect();
    let items: Vec<&str> = pairs.iter().map(|p| p.0).collect();
    let mean = |f: fn(&(&str, f64, f64)) -> f64| {
        (n > 0).then(|| pairs.iter().map(f).sum::<f64>() / n as f64)
    };
    let est = drop_test(&d, &ctx.clusters(&items));
    DimRow {
        n_pairs: n,
        n_clusters: est.as_ref().map_or(0, |e| e.n_clusters),
        df: est.as_ref().and_then(|e| e.df),
        mean_baseline: mean(|p| p.1),
        mean_candidate: mean(|p| p.2),
        mean_diff: est.as_ref().map(|e| e.mean),
        se_diff: est.as_ref().and_then(|e| e.se),
        t: est.as_ref().and_then(|e| e.t),
        p: est.as_ref().and_then(|e| e.p),
        p_holm: None,
        m_family: 0,
        tolerance,
        primary,
        mde80: None,
        n_lower: d.iter().filter(|x| **x < 0.0).count(),
        n_higher: d.iter().filter(|x| **x > 0.0).count(),
        status: Status::NotTested,
        why: String::new(),
    }
}
