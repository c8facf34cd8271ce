//! The latency row (STATS §7, §9): R = p90(B)/p90(A) of total latency over the shared units that
//! succeeded uncached in both runs, with a bootstrap over items (a drawn item brings all its units of
//! both runs). FAIL ⇔ the interval's low end is above 1 + θ.

use std::collections::BTreeMap;

use super::dimensions::Ctx;
use super::estimate::{Z_80, Z_975};
use super::Status;
use crate::stats::bootstrap::resample_items;
use crate::stats::percentile::{nearest_rank, type7};

/// Bootstrap resamples and seed (STATS §9).
pub const RESAMPLES: usize = 2000;
/// Fixed bootstrap seed, so gate results are reproducible.
pub const SEED: u64 = 42;

/// The latency row of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyRow {
    /// Items compared.
    pub n_items: usize,
    /// Units compared.
    pub n_units: usize,
    /// Baseline p90 total latency.
    pub p90_baseline: Option<f64>,
    /// Candidate p90 total latency.
    pub p90_candidate: Option<f64>,
    /// Candidate p90 over baseline p90.
    pub ratio: Option<f64>,
    /// Lower bound of the 95% interval of the ratio.
    pub ci95_low: Option<f64>,
    /// Upper bound of the 95% interval of the ratio.
    pub ci95_high: Option<f64>,
    /// Standard deviation of the log ratio.
    pub sd_log_ratio: Option<f64>,
    /// 1 + θ: the ratio the interval must stay under.
    pub threshold: f64,
    /// Minimum detectable ratio at 80% power.
    pub mde80_ratio: Option<f64>,
    /// Outcome of this row.
    pub status: Status,
    /// Why the row has its status.
    pub why: String,
}

fn p90(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    nearest_rank(values, 90)
}

/// The ratio of p90s over the units of the given items (with repeats), `None` if undefined.
fn ratio_of(items: &[&Vec<(f64, f64)>]) -> Option<(f64, f64, f64)> {
    let mut a: Vec<f64> = items.iter().flat_map(|v| v.iter().map(|u| u.0)).collect();
    let mut b: Vec<f64> = items.iter().flat_map(|v| v.iter().map(|u| u.1)).collect();
    let (pa, pb) = (p90(&mut a)?, p90(&mut b)?);
    (pa > 0.0).then(|| (pa, pb, pb / pa))
}

/// The row from per-item (baseline ms, candidate ms) units, items in ascending id order.
pub fn from_units(by_item: &BTreeMap<&str, Vec<(f64, f64)>>, theta: f64) -> LatencyRow {
    let items: Vec<&Vec<(f64, f64)>> = by_item.values().collect();
    let n = items.len();
    let mut r = LatencyRow {
        n_items: n,
        n_units: items.iter().map(|v| v.len()).sum(),
        p90_baseline: None,
        p90_candidate: None,
        ratio: None,
        ci95_low: None,
        ci95_high: None,
        sd_log_ratio: None,
        threshold: 1.0 + theta,
        mde80_ratio: None,
        status: Status::NotTested,
        why: String::new(),
    };
    let Some((pa, pb, ratio)) = ratio_of(&items) else {
        r.why = "no successful uncached answer in both runs".into();
        return r;
    };
    (r.p90_baseline, r.p90_candidate, r.ratio) = (Some(pa), Some(pb), Some(ratio));
    if n < 2 {
        r.why = "fewer than 2 items with a latency in both runs".into();
        return r;
    }
    let mut boot: Vec<f64> = resample_items(n, RESAMPLES, SEED, |draw| {
        let picked: Vec<&Vec<(f64, f64)>> = draw.iter().map(|&i| items[i]).collect();
        ratio_of(&picked).map(|x| x.2)
    })
    .into_iter()
    .flatten()
    .collect();
    if boot.len() < 2 {
        r.why = "the bootstrap found no defined ratio".into();
        return r;
    }
    let logs: Vec<f64> = boot.iter().map(|x| x.ln()).collect();
    let ml = logs.iter().sum::<f64>() / logs.len() as f64;
    let sd = (logs.iter().map(|x| (x - ml).powi(2)).sum::<f64>() / (logs.len() - 1) as f64).sqrt();
    boot.sort_by(f64::total_cmp);
    r.ci95_low = type7(&boot, 0.025);
    r.ci95_high = type7(&boot, 0.975);
    r.sd_log_ratio = Some(sd);
    r.mde80_ratio = Some(r.threshold * ((Z_975 + Z_80) * sd).exp());
    r
}

/// The latency row of one model, undecided.
pub fn row(ctx: &Ctx) -> LatencyRow {
    let mut by_item: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for key in ctx.shared {
        let ok = |run: &super::Run| {
            run.answers
                .get(*key)
                .filter(|a| !a.error && !a.cached)
                .and_then(|a| a.total_ms)
        };
        if let (Some(a), Some(b)) = (ok(ctx.base), ok(ctx.cand)) {
            by_item.entry(&key.item_id).or_default().push((a, b));
        }
    }
    from_units(&by_item, ctx.params.max_latency_increase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_9() {
        // STATS §11.9: one unit per item, seed 42, θ = 0.25.
        let a = [100., 110., 120., 130., 140., 150., 160., 170., 180., 200.];
        let b = [120., 120., 150., 160., 170., 170., 200., 210., 230., 260.];
        let ids: Vec<String> = (0..10).map(|i| format!("i{i}")).collect();
        let by_item: BTreeMap<&str, Vec<(f64, f64)>> = ids
            .iter()
            .zip(a.iter().zip(&b))
            .map(|(id, (x, y))| (id.as_str(), vec![(*x, *y)]))
            .collect();
        let r = from_units(&by_item, 0.25);
        assert!((r.ratio.unwrap() - 230.0 / 180.0).abs() < 1e-12);
        assert!((r.ci95_low.unwrap() - 1.133333).abs() < 1e-6, "{r:?}");
        assert!((r.ci95_high.unwrap() - 1.3).abs() < 1e-6, "{r:?}");
        assert!((r.sd_log_ratio.unwrap() - 0.028333).abs() < 1e-6, "{r:?}");
        assert!((r.mde80_ratio.unwrap() - 1.353264).abs() < 1e-6, "{r:?}");
        assert_eq!(r.threshold, 1.25);
    }
}
