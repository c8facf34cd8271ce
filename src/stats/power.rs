//! Power planning (STATS.md §8): from a previous run's paired differences, the items (and samples per
//! item) a new run needs to detect a difference δ, and the MDE a planned run of n items will have.
//!
//! Each candidate's family against the baseline is planned as it was run (same m, so the same α/m that
//! Holm applies first); a dimension's figure is the largest over the candidates, so the plan suffices
//! for every comparison the run makes.

use super::estimate::{ceil_size, mde_multiplier, planned_var_diff, Alternative};
use super::summary::Summary;

/// One (dimension, candidate) row of a plan against the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRow {
    /// The rubric dimension.
    pub dimension: String,
    /// The candidate model compared with the reference.
    pub candidate: String,
    /// Tests in the candidate's family (Holm's m) in the source run.
    pub m_family: usize,
    /// The source run's sd of the paired item differences, at its own samples per item.
    pub sd_diff: Option<f64>,
    /// Per planned samples per item k: (k, items needed); `None` items when undefined (no spread,
    /// or the split into between- and within-item variance is unknown for this k).
    pub needed: Vec<(u32, Option<u64>)>,
}

/// Items needed to detect `effect` for every candidate and dimension against the summary's baseline,
/// at each number of samples in `ks`. `run_samples` is the source run's `--samples`: without a
/// variance split (`var_between`), only that k can be planned.
pub fn plan(summary: &Summary, effect: f64, ks: &[u32], run_samples: u32) -> Vec<PlanRow> {
    let Some(baseline) = summary.params.references.baseline.as_deref() else {
        return Vec::new();
    };
    let Some(cands) = summary.paired.get(baseline) else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for (cand, dims) in cands {
        for (dim, p) in dims {
            let within = |m: &str| summary.models.get(m)?.dimensions.get(dim)?.var_within;
            let split = match (p.var_between, within(cand), within(baseline)) {
                (Some(b), Some(vc), Some(vr)) => Some((b, vc + vr)),
                _ => None,
            };
            let mult = mde_multiplier(summary.params.alpha, p.m_family, Alternative::TwoSided);
            let needed = ks
                .iter()
                .map(|&k| {
                    let var = match split {
                        Some((b, w)) => Some(planned_var_diff(b, w, k)),
                        None if k == run_samples => p.sd_diff.map(|s| s * s),
                        None => None,
                    };
                    (k, var.and_then(|v| items_for(v.sqrt(), effect, mult)))
                })
                .collect();
            rows.push(PlanRow {
                dimension: dim.clone(),
                candidate: cand.clone(),
                m_family: p.m_family,
                sd_diff: p.sd_diff,
                needed,
            });
        }
    }
    rows
}

/// ⌈(mult·sd/δ)²⌉, undefined when sd or δ is 0.
fn items_for(sd: f64, effect: f64, mult: f64) -> Option<u64> {
    (sd > 1e-12 && effect.abs() > 1e-12 && sd.is_finite()).then(|| {
        let x = mult * sd / effect.abs();
        ceil_size(x * x)
    })
}

/// The MDE a planned run of `n` items will have on each (dimension, candidate), from the source run's
/// sd of the paired differences: (z_{1−α/(2m)} + z₀.₈)·sd/√n. Rows without a spread are left out.
pub fn planned_mde(summary: &Summary, n: usize) -> Vec<(String, String, f64)> {
    let Some(baseline) = summary.params.references.baseline.as_deref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (cand, dims) in summary.paired.get(baseline).into_iter().flatten() {
        for (dim, p) in dims {
            if let Some(sd) = p.sd_diff.filter(|s| *s > 1e-12 && n > 0) {
                let mult = mde_multiplier(summary.params.alpha, p.m_family, Alternative::TwoSided);
                out.push((dim.clone(), cand.clone(), mult * sd / (n as f64).sqrt()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_for_matches_stats_section_8() {
        // m = 1: (1.959964 + 0.841621)² · (0.5/0.2)² = 7.8489 · 6.25 = 49.06 → 50
        let mult = mde_multiplier(0.05, 1, Alternative::TwoSided);
        assert_eq!(items_for(0.5, 0.2, mult), Some(50));
        // Holm m = 3 asks for more: z_{1−0.05/6} = 2.39398
        let mult3 = mde_multiplier(0.05, 3, Alternative::TwoSided);
        assert_eq!(items_for(0.5, 0.2, mult3), Some(66));
        assert_eq!(items_for(0.0, 0.2, mult), None);
        assert_eq!(items_for(0.5, 0.0, mult), None);
    }
}
