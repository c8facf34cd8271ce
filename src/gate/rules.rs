//! Rule rows (STATS §7): pass/fail outcomes paired per shared unit. One sample per item: the exact
//! one-sided McNemar test; several: the items' pass shares by E and the one-sided t, or under 20 items
//! the exact sign-flip permutation test.

use std::collections::BTreeMap;

use super::dimensions::Ctx;
use super::estimate::drop_test;
use super::exact::{sign_flip_p, upper_tail};
use super::Status;
use crate::stats::describe::round9;

/// Below this many items a multi-sample rule uses the permutation test.
const PERMUTATION_BELOW: usize = 20;

/// One rule of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRow {
    /// `mcnemar`, `t` or `sign-flip`.
    pub test: &'static str,
    /// Units compared.
    pub n_units: usize,
    /// Items compared.
    pub n_items: usize,
    /// Baseline pass rate.
    pub pass_rate_baseline: f64,
    /// Candidate pass rate.
    pub pass_rate_candidate: f64,
    /// Standard error of the pass-rate difference.
    pub se_diff: Option<f64>,
    /// Units that passed in the baseline but not the candidate.
    pub lost: u64,
    /// Units that passed in the candidate but not the baseline.
    pub gained: u64,
    /// Mean per-item pass-rate difference (candidate − baseline).
    pub mean_diff: f64,
    /// Degrees of freedom of the paired test.
    pub df: Option<f64>,
    /// Paired t statistic.
    pub t: Option<f64>,
    /// p of a regression.
    pub p: Option<f64>,
    /// Holm-adjusted p over the family.
    pub p_holm: Option<f64>,
    /// Tests in the Holm family.
    pub m_family: usize,
    /// Minimum detectable difference at 80% power.
    pub mde80: Option<f64>,
    /// Outcome of this row.
    pub status: Status,
    /// Why the row has its status.
    pub why: String,
}

/// Item → (baseline passed, candidate passed) per unit of the item.
type ByItem<'a> = BTreeMap<&'a str, Vec<(bool, bool)>>;

/// Every rule both runs checked on some shared unit, undecided.
pub fn rows(ctx: &Ctx) -> BTreeMap<String, RuleRow> {
    let mut outcomes: BTreeMap<&str, ByItem> = BTreeMap::new();
    for key in ctx.shared {
        let (Some(b), Some(c)) = (ctx.base.scores.get(*key), ctx.cand.scores.get(*key)) else {
            continue;
        };
        for (rule, pb) in &b.rules {
            if let Some(pc) = c.rules.get(rule) {
                outcomes
                    .entry(&**rule)
                    .or_default()
                    .entry(&key.item_id)
                    .or_default()
                    .push((*pb, *pc));
            }
        }
    }
    outcomes
        .into_iter()
        .map(|(rule, by_item)| (rule.to_string(), row(ctx, &by_item)))
        .collect()
}

fn row(ctx: &Ctx, by_item: &ByItem) -> RuleRow {
    let units: Vec<(bool, bool)> = by_item.values().flatten().copied().collect();
    let n = units.len();
    let lost = units.iter().filter(|u| u.0 && !u.1).count() as u64;
    let gained = units.iter().filter(|u| !u.0 && u.1).count() as u64;
    let k_max = by_item.values().map(Vec::len).max().unwrap_or(0);
    let mut r = RuleRow {
        test: "mcnemar",
        n_units: n,
        n_items: by_item.len(),
        pass_rate_baseline: units.iter().filter(|u| u.0).count() as f64 / n as f64,
        pass_rate_candidate: units.iter().filter(|u| u.1).count() as f64 / n as f64,
        se_diff: Some(((lost + gained) as f64).sqrt() / n as f64),
        lost,
        gained,
        mean_diff: 0.0,
        df: None,
        t: None,
        p: upper_tail(lost, lost + gained),
        p_holm: None,
        m_family: 0,
        mde80: None,
        status: Status::NotTested,
        why: String::new(),
    };
    r.mean_diff = r.pass_rate_candidate - r.pass_rate_baseline;
    if k_max < 2 {
        return r;
    }
    let share = |v: &[(bool, bool)], f: fn(&(bool, bool)) -> bool| {
        v.iter().filter(|u| f(u)).count() as f64 / v.len() as f64
    };
    let items: Vec<&str> = by_item.keys().copied().collect();
    let qb: Vec<f64> = by_item.values().map(|v| share(v, |u| u.0)).collect();
    let qc: Vec<f64> = by_item.values().map(|v| share(v, |u| u.1)).collect();
    let d: Vec<f64> = qb.iter().zip(&qc).map(|(b, c)| round9(c - b)).collect();
    let m = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    r.pass_rate_baseline = m(&qb);
    r.pass_rate_candidate = m(&qc);
    let Some(est) = drop_test(&d, &ctx.clusters(&items)) else {
        return r;
    };
    r.mean_diff = est.mean;
    r.se_diff = est.se;
    r.df = est.df;
    r.t = est.t;
    if d.len() < PERMUTATION_BELOW {
        r.test = "sign-flip";
        r.p = if d.iter().all(|x| *x == 0.0) {
            None
        } else {
            sign_flip_p(&d)
        };
    } else {
        r.test = "t";
        r.p = est.p;
    }
    r
}
