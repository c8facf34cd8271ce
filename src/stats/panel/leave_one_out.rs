//! The panel's result without one judge: every answer's dimension scores again as the median of the
//! other judges' scores (bounded by the rule cap), every pair's verdict as the majority of the other
//! judges' verdicts; then the model means, the paired differences with the reference, and GSB. A
//! judge of the same family as a graded model is read beside this (README, "Judge panels").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::records::{PairRecord, PairVerdict};
use crate::stats::describe::{median, round9};
use crate::stats::estimate::{estimate, Alternative, Bounds};

use super::{capped, item_means, GsbCount, ItemMean, PanelConfig, Unit};

/// The panel without one judge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaveOneOut {
    /// `models.<m>.<d>`: the means.
    pub models: BTreeMap<String, BTreeMap<String, ItemMean>>,
    /// `paired.<reference>.<candidate>.<d>`: candidate − reference.
    pub paired: BTreeMap<String, BTreeMap<String, BTreeMap<String, PairedDiff>>>,
    /// `gsb.<reference>.<candidate>`.
    pub gsb: BTreeMap<String, BTreeMap<String, GsbCount>>,
}

/// A paired difference over items (every item its own cluster).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedDiff {
    /// Items both models have.
    pub n_pairs: usize,
    /// Mean of d_i.
    pub mean_diff: Option<f64>,
    /// Lower bound of the 95 % t-interval.
    pub ci95_low: Option<f64>,
    /// Upper bound.
    pub ci95_high: Option<f64>,
    /// Two-sided p of the t-test of 0 (the sign test when every d_i is equal and non-zero).
    pub p: Option<f64>,
}

pub(super) fn without(
    units: &[Unit],
    pairs: &BTreeMap<(String, String, String), PairRecord>,
    left_out: usize,
    cfg: &PanelConfig,
) -> LeaveOneOut {
    let mut values: BTreeMap<(String, String, String), Vec<f64>> = BTreeMap::new();
    for u in units {
        for (d, (scores, cap)) in &u.dims {
            let rest: Vec<f64> = scores
                .iter()
                .filter(|(k, _)| *k != left_out)
                .map(|x| x.1)
                .collect();
            if let Some(m) = median(&rest) {
                values
                    .entry((u.model.clone(), d.clone(), u.item.clone()))
                    .or_default()
                    .push(capped(m, *cap));
            }
        }
    }
    let models = item_means(&values);

    let mut paired = BTreeMap::new();
    if let Some(reference) = &cfg.baseline {
        let item_score = |m: &str, d: &str, i: &str| {
            let v = values.get(&(m.to_string(), d.to_string(), i.to_string()))?;
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        let dims: std::collections::BTreeSet<&String> = values.keys().map(|k| &k.1).collect();
        let items: std::collections::BTreeSet<&String> = values.keys().map(|k| &k.2).collect();
        let mut by_cand = BTreeMap::new();
        for (cand, _) in cfg.models.iter().filter(|(m, _)| m != reference) {
            let mut by_dim = BTreeMap::new();
            for d in &dims {
                let diffs: Vec<f64> = items
                    .iter()
                    .filter_map(|i| {
                        let c = item_score(cand, d, i)?;
                        let r = item_score(reference, d, i)?;
                        Some(round9(c - r))
                    })
                    .collect();
                if diffs.is_empty() {
                    continue;
                }
                let e = estimate(&diffs, None);
                let ci = e.interval(Bounds::Free);
                by_dim.insert(
                    (*d).clone(),
                    PairedDiff {
                        n_pairs: diffs.len(),
                        mean_diff: e.mean,
                        ci95_low: ci.map(|c| c.0),
                        ci95_high: ci.map(|c| c.1),
                        p: e.test(&diffs, Alternative::TwoSided).p,
                    },
                );
            }
            if !by_dim.is_empty() {
                by_cand.insert(cand.clone(), by_dim);
            }
        }
        if !by_cand.is_empty() {
            paired.insert(reference.clone(), by_cand);
        }
    }

    let name = cfg.judges.get(left_out);
    let mut gsb: BTreeMap<String, BTreeMap<String, GsbCount>> = BTreeMap::new();
    for ((reference, cand, _), p) in pairs {
        let rest: Vec<PairVerdict> = p
            .panel
            .iter()
            .flatten()
            .filter(|(j, _)| Some(*j) != name)
            .map(|(_, v)| v.verdict)
            .collect();
        if let Some(v) = PairVerdict::majority(&rest) {
            gsb.entry(reference.clone())
                .or_default()
                .entry(cand.clone())
                .or_default()
                .add(v);
        }
    }
    LeaveOneOut {
        models,
        paired,
        gsb,
    }
}
