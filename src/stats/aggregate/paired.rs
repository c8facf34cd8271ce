//! References, paired comparisons and the ranking (STATS.md §4).

use std::collections::BTreeMap;

use crate::stats::describe::round9;
use crate::stats::estimate::{
    estimate, holm, items_needed, items_needed_from_mde, mde80, Alternative, Bounds, TestStatus,
};
use crate::stats::summary::{ModelStats, PairedStats, References};
use crate::stats::wilcoxon::signed_rank;

use super::model::ItemScores;
use super::SummaryBuilder;

/// `paired.<ref>.<cand>.<dim>`.
pub(super) type Paired = BTreeMap<String, BTreeMap<String, BTreeMap<String, PairedStats>>>;

impl SummaryBuilder<'_> {
    /// Each reference (baseline, flagship, top; each once) against every other model in `order`, over
    /// every dimension of the run; Holm per (reference, candidate).
    pub(super) fn paired(
        &self,
        refs: &References,
        order: &[u32],
        item_scores: &ItemScores,
        all_dims: &[u32],
    ) -> Paired {
        let mut out = Paired::new();
        let names = [&refs.baseline, &refs.flagship, &refs.top];
        for r in names.into_iter().flatten() {
            if out.contains_key(r) {
                continue;
            }
            let rid = self.models.get(r);
            let mut per_cand = BTreeMap::new();
            for &c in order.iter().filter(|&&c| Some(c) != rid) {
                let per_dim = all_dims
                    .iter()
                    .map(|&d| {
                        let get = |m: Option<u32>| {
                            m.and_then(|m| item_scores.get(&(m, d)))
                                .map(Vec::as_slice)
                                .unwrap_or(&[])
                        };
                        let dim = self.dimensions.name(d);
                        let stats =
                            self.paired_stats(get(Some(c)), get(rid), self.cfg.margin_of(dim));
                        (dim.to_owned(), stats)
                    })
                    .collect();
                per_cand.insert(self.models.name(c).to_owned(), per_dim);
            }
            for dims in per_cand.values_mut() {
                finish_family(dims, self.cfg.alpha);
            }
            out.insert(r.clone(), per_cand);
        }
        out
    }

    /// One (reference, candidate, dimension) before Holm: E over dᵢ = round(s_c − s_r, 9).
    fn paired_stats(
        &self,
        cand: &[super::model::ItemScore],
        base: &[super::model::ItemScore],
        margin: f64,
    ) -> PairedStats {
        // Merge the two item-ordered lists on the items both have.
        let (mut i, mut j) = (0, 0);
        let (mut d, mut items, mut noise) = (Vec::new(), Vec::new(), Vec::new());
        let (vc, vr) = (
            super::model::var_within(cand),
            super::model::var_within(base),
        );
        while i < cand.len() && j < base.len() {
            match cand[i].item.cmp(base[j].item) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    d.push(round9(cand[i].score - base[j].score));
                    items.push(cand[i].item);
                    if let (Some(vc), Some(vr)) = (vc, vr) {
                        noise.push(vc / cand[i].k as f64 + vr / base[j].k as f64);
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        let e = estimate(&d, self.labels(&items).as_deref());
        let test = e.test(&d, Alternative::TwoSided);
        let ci = e.interval(Bounds::Free);
        let var_between = match (e.sd, vc, vr) {
            (Some(sd), Some(_), Some(_)) if !noise.is_empty() => {
                let mean_noise = noise.iter().sum::<f64>() / noise.len() as f64;
                Some((sd * sd - mean_noise).max(0.0))
            }
            _ => None,
        };
        let wilcoxon_p = if d.is_empty() {
            None
        } else if d.iter().all(|x| *x == 0.0) {
            Some(1.0)
        } else {
            signed_rank(&d).map(|w| w.p)
        };
        PairedStats {
            n_pairs: e.n,
            n_clusters: e.n_clusters,
            df: e.df,
            mean_diff: e.mean,
            sd_diff: e.sd,
            se_diff: e.se,
            ci95_low: ci.map(|c| c.0),
            ci95_high: ci.map(|c| c.1),
            n_pos: d.iter().filter(|x| **x > 0.0).count(),
            n_neg: d.iter().filter(|x| **x < 0.0).count(),
            n_zero: d.iter().filter(|x| **x == 0.0).count(),
            t: test.t,
            p: test.p,
            p_holm: None,
            m_family: 0,
            verdict: match test.status {
                TestStatus::Run => String::new(), // after Holm
                TestStatus::NoVariation => "no variation".to_owned(),
                TestStatus::NotTested => "not tested".to_owned(),
            },
            mde80: None,
            mde80_why: None,
            margin,
            non_inferior: ci.map(|c| c.0 > -margin),
            n_needed_margin: None,
            n_needed_observed: None,
            var_between,
            wilcoxon_p,
        }
    }
}

/// Holm over the dimensions of one (reference, candidate) that were tested, then the verdicts, MDE and
/// sample sizes at that family's m.
fn finish_family(dims: &mut BTreeMap<String, PairedStats>, alpha: f64) {
    let raw: Vec<Option<f64>> = dims.values().map(|p| p.p).collect();
    let (adjusted, m) = holm(&raw);
    for (p, adj) in dims.values_mut().zip(adjusted) {
        p.p_holm = adj;
        p.m_family = m;
        let status = match p.verdict.as_str() {
            "no variation" => TestStatus::NoVariation,
            "not tested" => TestStatus::NotTested,
            _ => TestStatus::Run,
        };
        if status == TestStatus::Run {
            let significant = adj.is_some_and(|a| a < alpha);
            let mean = p.mean_diff.unwrap_or(0.0);
            p.verdict = match (significant, mean > 0.0) {
                (true, true) => "better",
                (true, false) => "worse",
                (false, _) => "no detectable difference",
            }
            .to_owned();
        }
        let e = crate::stats::estimate::Estimate {
            n: p.n_pairs,
            n_clusters: p.n_clusters,
            mean: p.mean_diff,
            sd: p.sd_diff,
            se: p.se_diff,
            df: p.df,
        };
        let test = crate::stats::estimate::TestOfZero {
            status,
            t: p.t,
            p: p.p,
        };
        match mde80(&e, &test, alpha, m, Alternative::TwoSided) {
            Ok(mde) => {
                p.mde80 = Some(mde);
                p.n_needed_margin = items_needed_from_mde(p.n_pairs, mde, p.margin).ok();
            }
            Err(why) => p.mde80_why = Some(why.reason().to_owned()),
        }
        p.n_needed_observed = p
            .mean_diff
            .and_then(|d| items_needed(p.sd_diff, d, alpha, m, Alternative::TwoSided).ok());
    }
}

/// Models with an `overall`, descending (tie: name).
pub(super) fn rank(models: &BTreeMap<String, ModelStats>) -> Vec<String> {
    let mut ranked: Vec<(&String, f64)> = models
        .iter()
        .filter_map(|(m, s)| Some((m, s.overall?)))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    ranked.into_iter().map(|(m, _)| m.clone()).collect()
}

/// `ranking`: `tied_with_top` = top, then (in `order`, unranked models last by name) every model with a
/// `paired.<top>` entry where no dimension has p_holm < α.
pub(super) fn ranking(
    order: Vec<String>,
    models: &[String],
    paired: &Paired,
    alpha: f64,
) -> crate::stats::summary::Ranking {
    let top = order.first().cloned();
    let mut tied = Vec::new();
    if let Some(t) = &top {
        tied.push(t.clone());
        let mut unranked: Vec<&String> = models.iter().filter(|m| !order.contains(m)).collect();
        unranked.sort();
        let against = paired.get(t);
        for m in order.iter().skip(1).chain(unranked) {
            let Some(dims) = against.and_then(|a| a.get(m)) else {
                continue;
            };
            if !dims.values().any(|p| p.p_holm.is_some_and(|x| x < alpha)) {
                tied.push(m.clone());
            }
        }
    }
    crate::stats::summary::Ranking {
        order,
        top,
        tied_with_top: tied,
    }
}
