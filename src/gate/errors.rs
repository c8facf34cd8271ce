//! The error budget and the cached-answer check (STATS §7), decided where they are computed: neither
//! joins a Holm family.

use super::dimensions::Ctx;
use super::estimate::{z, Z_80};
use super::exact::upper_tail;
use super::Status;

/// Failed requests on the shared units.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRow {
    /// Units compared.
    pub n_units: usize,
    /// Baseline error rate.
    pub error_rate_baseline: Option<f64>,
    /// Candidate error rate.
    pub error_rate_candidate: Option<f64>,
    /// Largest tolerated candidate error rate.
    pub max_error_rate: f64,
    /// Error in the candidate only.
    pub new_errors: u64,
    /// Error in the baseline only.
    pub fixed_errors: u64,
    /// p of the error-rate increase.
    pub p: Option<f64>,
    /// Minimum detectable error-rate change at 80% power.
    pub mde80: Option<f64>,
    /// Outcome of this row.
    pub status: Status,
    /// Why the row has its status.
    pub why: String,
}

/// Answers served from the response cache on the shared units.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedRow {
    /// Cached answers in the baseline run.
    pub n_cached_baseline: usize,
    /// Cached answers in the candidate run.
    pub n_cached_candidate: usize,
    /// Whether cached answers are allowed.
    pub allowed: bool,
    /// Outcome of this row.
    pub status: Status,
    /// Why the row has its status.
    pub why: String,
}

/// Compare the error rates of the two runs.
pub fn error_row(ctx: &Ctx) -> ErrorRow {
    let n = ctx.shared.len();
    let err = |run: &super::Run, k| run.answers.get(k).is_some_and(|a| a.error);
    let (mut in_a, mut in_b, mut new, mut fixed) = (0u64, 0u64, 0u64, 0u64);
    for k in ctx.shared {
        let (a, b) = (err(ctx.base, *k), err(ctx.cand, *k));
        in_a += u64::from(a);
        in_b += u64::from(b);
        new += u64::from(b && !a);
        fixed += u64::from(a && !b);
    }
    let alpha = ctx.params.alpha;
    let max = ctx.params.max_error_rate;
    let rate = |k: u64| (n > 0).then(|| k as f64 / n as f64);
    let d = new + fixed;
    let mut r = ErrorRow {
        n_units: n,
        error_rate_baseline: rate(in_a),
        error_rate_candidate: rate(in_b),
        max_error_rate: max,
        new_errors: new,
        fixed_errors: fixed,
        p: upper_tail(new, d),
        mde80: (n > 0).then(|| (z(1.0 - alpha) + Z_80) * (d as f64).sqrt() / n as f64),
        status: Status::Pass,
        why: String::new(),
    };
    let Some(rate_b) = r.error_rate_candidate else {
        r.status = Status::NotTested;
        r.why = "no unit answered in both runs".into();
        return r;
    };
    let pct = |x: f64| format!("{:.1} %", 100.0 * x);
    let significant = r.p.is_some_and(|p| p < alpha);
    if rate_b > max {
        r.status = Status::Fail;
        r.why = format!(
            "{} of the candidate's requests failed ({in_b} of {n}), over the {} budget",
            pct(rate_b),
            pct(max)
        );
    } else if significant {
        r.status = Status::Fail;
        r.why = format!(
            "{new} new errors vs {fixed} fixed, significant (one-sided McNemar p = {} < {alpha})",
            super::render_md::fmt_p(r.p.unwrap_or(1.0))
        );
    } else if d == 0 {
        r.why = format!(
            "{} failed, within the {} budget; nothing varied",
            pct(rate_b),
            pct(max)
        );
    } else {
        r.why = format!(
            "{} failed, within the {} budget; {new} new vs {fixed} fixed (p = {}); MDE {} of units",
            pct(rate_b),
            pct(max),
            super::render_md::fmt_p(r.p.unwrap_or(1.0)),
            pct(r.mde80.unwrap_or(0.0))
        );
    }
    r
}

/// Check the runs for cached answers.
pub fn cached_row(ctx: &Ctx) -> CachedRow {
    let cached = |run: &super::Run| {
        ctx.shared
            .iter()
            .filter(|k| run.answers.get(**k).is_some_and(|a| a.cached))
            .count()
    };
    let (b, c) = (cached(ctx.base), cached(ctx.cand));
    let allowed = ctx.params.allow_cached;
    let (status, why) = if c > 0 && !allowed {
        (
            Status::Fail,
            format!(
                "{c} of the candidate's answers came from the response cache: they are not the \
                 candidate's (rerun without the cache, or pass --allow-cached)"
            ),
        )
    } else if c > 0 {
        (
            Status::Pass,
            format!("{c} cached answers in the candidate, allowed by --allow-cached"),
        )
    } else {
        (
            Status::Pass,
            "no cached answer in the candidate".to_string(),
        )
    };
    CachedRow {
        n_cached_baseline: b,
        n_cached_candidate: c,
        allowed,
        status,
        why,
    }
}
