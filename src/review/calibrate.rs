//! `evalrun calibrate`: the judge against people's scores, as a verdict per dimension.
//!
//! The rule (README, "Can the judge be trusted?"), per dimension with people's scores:
//! - fewer than [`MIN_UNITS`] answers scored by both → *undecided* (too few to say);
//! - the judge *over-scores* (*under-scores*) when judge − people exceeds [`BIAS_SHARE`] of the scale's
//!   range and its 95 % interval lies entirely above (below) 0;
//! - agreement is *good* when κ ≥ [`KAPPA_GOOD`] and the lower bound of its interval ≥ [`KAPPA_FLOOR`],
//!   *poor* when κ < [`KAPPA_FLOOR`] (or undefined), *moderate* otherwise;
//! - *trust* = good agreement and no bias; *do not trust* = a bias or poor agreement; else *undecided*.
//!
//! The judge can be trusted for the rubric when every reviewed dimension says *trust*.

use std::fmt::Write as _;

use crate::stats::human::{DimensionAgreement, HumanSummary, WithCi};

/// Fewest answers scored by people and the judge for a verdict.
pub const MIN_UNITS: usize = 10;
/// A mean difference beyond this share of the scale's range is a bias (0.2 on a 1–3 scale).
pub const BIAS_SHARE: f64 = 0.1;
/// κ at or above this is good agreement …
pub const KAPPA_GOOD: f64 = 0.6;
/// … when the lower bound of its interval is at least this; κ below it is poor agreement.
pub const KAPPA_FLOOR: f64 = 0.4;

/// What to do with the judge on one dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Good agreement, no bias.
    Trust,
    /// A bias or poor agreement.
    DoNotTrust,
    /// Too few answers, or moderate agreement.
    Undecided,
}

/// One dimension's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Dimension id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The verdict.
    pub trust: Trust,
    /// The sentence that says why.
    pub sentence: String,
}

/// A dimension of the rubric: id, display name, scale.
pub struct DimensionRef<'a> {
    /// Dimension id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Lowest and highest score.
    pub scale: (f64, f64),
}

fn f2(x: Option<f64>) -> String {
    x.map_or("–".to_string(), |v| format!("{v:.2}"))
}

fn interval(x: &WithCi) -> String {
    match (x.ci95_low, x.ci95_high) {
        (Some(lo), Some(hi)) => format!(" [{lo:.2}, {hi:.2}]"),
        _ => String::new(),
    }
}

/// The verdict on one dimension.
pub fn verdict(d: &DimensionRef, a: &DimensionAgreement) -> Verdict {
    let name = d.name.to_string();
    let out = |trust, sentence| Verdict {
        id: d.id.to_string(),
        name: name.clone(),
        trust,
        sentence,
    };
    if a.n_units < MIN_UNITS {
        return out(
            Trust::Undecided,
            format!(
                "too few answers scored by people on {name} to say (n = {}; score at least {MIN_UNITS})",
                a.n_units
            ),
        );
    }
    let tolerance = BIAS_SHARE * (d.scale.1 - d.scale.0);
    let diff = a.mean_diff.value.unwrap_or(0.0);
    let over = diff > tolerance && a.mean_diff.ci95_low.is_some_and(|l| l > 0.0);
    let under = diff < -tolerance && a.mean_diff.ci95_high.is_some_and(|h| h < 0.0);
    let kappa = a.kappa_quadratic.value;
    let kappa_text = format!("κ = {}{}", f2(kappa), interval(&a.kappa_quadratic));
    let good = kappa.is_some_and(|k| k >= KAPPA_GOOD)
        && a.kappa_quadratic.ci95_low.is_some_and(|l| l >= KAPPA_FLOOR);
    let poor = kappa.is_none_or(|k| k < KAPPA_FLOOR);
    let n = a.n_units;
    let means = format!(
        "judge {}, people {}, n = {n}",
        f2(a.judge_mean),
        f2(a.human_mean)
    );
    let agreement = if good {
        format!("agrees with people on {name}, {kappa_text}")
    } else if poor {
        format!("does not agree with people on {name}, {kappa_text}")
    } else {
        format!("agrees only moderately with people on {name}, {kappa_text}")
    };
    if over || under {
        let (word, lo, hi) = if over {
            ("over-scores", a.mean_diff.ci95_low, a.mean_diff.ci95_high)
        } else {
            let flip = |x: Option<f64>| x.map(|v| -v);
            (
                "under-scores",
                flip(a.mean_diff.ci95_high),
                flip(a.mean_diff.ci95_low),
            )
        };
        let by = WithCi {
            value: Some(diff.abs()),
            ci95_low: lo,
            ci95_high: hi,
        };
        return out(
            Trust::DoNotTrust,
            format!(
                "{word} {name} by {:.2}{} ({means}); {}",
                diff.abs(),
                interval(&by),
                agreement.replacen(&format!(" on {name}"), "", 1)
            ),
        );
    }
    let trust = if good {
        Trust::Trust
    } else if poor {
        Trust::DoNotTrust
    } else {
        Trust::Undecided
    };
    out(trust, format!("{agreement} ({means})"))
}

/// Verdicts on every dimension of `dims` that people scored, in `dims` order.
pub fn verdicts(h: &HumanSummary, dims: &[DimensionRef]) -> Vec<Verdict> {
    dims.iter()
        .filter_map(|d| Some(verdict(d, h.dimensions.get(d.id)?)))
        .collect()
}

/// The text `evalrun calibrate` prints.
pub fn render(run: &str, h: &HumanSummary, dims: &[DimensionRef]) -> String {
    let vs = verdicts(h, dims);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Judge vs people in {run} ({} rater{}: {}):\n",
        h.raters.len(),
        if h.raters.len() == 1 { "" } else { "s" },
        h.raters.join(", ")
    );
    for v in &vs {
        let word = match v.trust {
            Trust::Trust => "TRUST       ",
            Trust::DoNotTrust => "DO NOT TRUST",
            Trust::Undecided => "UNDECIDED   ",
        };
        let _ = writeln!(out, "  {word}  {}: {}", v.id, v.sentence);
    }
    for d in dims.iter().filter(|d| !h.dimensions.contains_key(d.id)) {
        let _ = writeln!(out, "  NOT REVIEWED  {}: no people's scores", d.id);
    }
    let bad: Vec<&str> = vs
        .iter()
        .filter(|v| v.trust == Trust::DoNotTrust)
        .map(|v| v.id.as_str())
        .collect();
    let open: Vec<&str> = vs
        .iter()
        .filter(|v| v.trust == Trust::Undecided)
        .map(|v| v.id.as_str())
        .collect();
    let _ = writeln!(
        out,
        "\n{}",
        if vs.is_empty() {
            "No dimension has people's scores: export a sheet with `evalrun review export`."
                .to_string()
        } else if !bad.is_empty() {
            format!(
                "The judge cannot be trusted for this rubric: check {} by people (or fix the judge prompt) \
                 before relying on its scores.",
                bad.join(", ")
            )
        } else if !open.is_empty() {
            format!(
                "Not decided yet: {} need more answers scored by people (or agree only moderately); the \
                 other dimensions can be trusted.",
                open.join(", ")
            )
        } else {
            "The judge can be trusted for this rubric: it agrees with people on every reviewed dimension."
                .to_string()
        }
    );
    let _ = writeln!(
        out,
        "Rule: trust when κ ≥ {KAPPA_GOOD} with its interval's lower bound ≥ {KAPPA_FLOOR} and |judge − people| ≤ \
         {BIAS_SHARE} × the scale's range (or its interval includes 0), over at least {MIN_UNITS} answers."
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ci(v: f64, lo: f64, hi: f64) -> WithCi {
        WithCi {
            value: Some(v),
            ci95_low: Some(lo),
            ci95_high: Some(hi),
        }
    }

    fn agreement(n: usize, diff: WithCi, kappa: WithCi) -> DimensionAgreement {
        DimensionAgreement {
            n_units: n,
            n_items: n,
            n_human_only: 0,
            human_mean: Some(2.0),
            judge_mean: Some(2.0 + diff.value.unwrap()),
            mean_diff: diff,
            exact_agreement: ci(0.8, 0.7, 0.9),
            kappa_quadratic: kappa,
            spearman: ci(0.8, 0.7, 0.9),
            n_multi_rated: 0,
            alpha_ordinal: None,
            judge_majority_agreement: None,
            n_majority_units: 0,
            per_model: Default::default(),
        }
    }

    const REPLY: DimensionRef = DimensionRef {
        id: "reply",
        name: "Reply",
        scale: (1.0, 3.0),
    };

    #[test]
    fn the_rule_word_by_word() {
        let v = verdict(
            &REPLY,
            &agreement(40, ci(0.05, -0.05, 0.15), ci(0.71, 0.55, 0.84)),
        );
        assert_eq!(v.trust, Trust::Trust);
        assert!(v
            .sentence
            .starts_with("agrees with people on Reply, κ = 0.71 [0.55, 0.84]"));
        // Over-scoring by more than 0.1 × range (0.2), interval above 0.
        let v = verdict(
            &REPLY,
            &agreement(40, ci(0.4, 0.25, 0.55), ci(0.71, 0.55, 0.84)),
        );
        assert_eq!(v.trust, Trust::DoNotTrust);
        assert!(
            v.sentence
                .starts_with("over-scores Reply by 0.40 [0.25, 0.55]"),
            "{}",
            v.sentence
        );
        let v = verdict(
            &REPLY,
            &agreement(40, ci(-0.4, -0.55, -0.25), ci(0.71, 0.55, 0.84)),
        );
        assert!(
            v.sentence
                .starts_with("under-scores Reply by 0.40 [0.25, 0.55]"),
            "{}",
            v.sentence
        );
        // A large difference whose interval includes 0 is not a bias.
        let v = verdict(
            &REPLY,
            &agreement(40, ci(0.3, -0.02, 0.6), ci(0.71, 0.55, 0.84)),
        );
        assert_eq!(v.trust, Trust::Trust);
        // κ good but its interval reaches below 0.4: moderate, undecided; κ below 0.4: poor.
        let v = verdict(
            &REPLY,
            &agreement(40, ci(0.0, -0.1, 0.1), ci(0.65, 0.3, 0.8)),
        );
        assert_eq!(v.trust, Trust::Undecided);
        let v = verdict(
            &REPLY,
            &agreement(40, ci(0.0, -0.1, 0.1), ci(0.2, 0.0, 0.4)),
        );
        assert_eq!(v.trust, Trust::DoNotTrust);
        assert!(v
            .sentence
            .starts_with("does not agree with people on Reply"));
        let v = verdict(&REPLY, &agreement(9, ci(0.0, -0.1, 0.1), ci(0.9, 0.8, 1.0)));
        assert_eq!(v.trust, Trust::Undecided);
        assert!(v.sentence.contains("n = 9"));
    }
}
