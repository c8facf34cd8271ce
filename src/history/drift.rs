//! The drift rule (README, "Extensions of STATS.md: sustained drift"). A slow drift passes every
//! pairwise gate against last night; it shows against the fixed release baseline over several nights.
//!
//! For each model and dimension, with μ_B the release baseline run's mean and se_B its standard
//! error, and m_1 … m_k the means of the last k runs after the baseline (oldest → newest):
//!
//! - d_i = m_i − μ_B, D = mean(d), s = sd(d) (ddof 1, the night-to-night spread);
//! - se = √(s²/k + max(s², se_B²)) — the baseline is one night: as variable as any other night, and
//!   at least as uncertain as its own standard error. For nights drawn alike (no drift) and normal,
//!   t is exactly Student's;
//! - t = D / se with k − 1 degrees of freedom, p = P(T_{k−1} ≤ t) (one-sided, H1: a drop);
//! - Holm's adjustment over every (model, dimension) tested in one `history show` (a test that
//!   cannot reject — nothing varied and no drop — is left out of the family, as in the gate);
//! - **drift** when the Holm-adjusted p < α **and** D ≤ −tolerance (default 0.025 × the scale's
//!   range: 0.05 on 1–3, the gate's tolerance). With se = 0, p = 0 when D < 0, else 1.
//!
//! Fewer than k runs with a mean after the baseline, or no baseline mean: not tested.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::Entry;
use crate::stats::holm::holm;

/// The rule's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Runs after the baseline that are tested (the last k).
    pub k: usize,
    /// One-sided significance level.
    pub alpha: f64,
    /// Smallest mean drop that counts; None: 0.025 × the scale's range (0.05 without a scale).
    pub tolerance: Option<f64>,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            k: 5,
            alpha: 0.05,
            tolerance: None,
        }
    }
}

/// The outcome for one (model, dimension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A sustained drop: significant and at least the tolerance.
    Drift,
    /// Tested, no drift.
    Stable,
    /// Not enough runs (or no baseline value).
    NotTested,
}

/// One (model, dimension) under the rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The model.
    pub model: String,
    /// The dimension.
    pub dimension: String,
    /// μ_B, the baseline run's mean.
    pub baseline: Option<f64>,
    /// Mean of the last k run means.
    pub recent_mean: Option<f64>,
    /// D = mean of (m_i − μ_B).
    pub change: Option<f64>,
    /// The t statistic.
    pub t: Option<f64>,
    /// Degrees of freedom (k − 1).
    pub df: Option<usize>,
    /// One-sided p-value.
    pub p: Option<f64>,
    /// Holm-adjusted p over the (model, dimension) rows tested.
    pub p_holm: Option<f64>,
    /// The tolerance used.
    pub tolerance: f64,
    /// Drift, stable or not tested.
    pub status: Status,
    /// Why, in words.
    pub why: String,
}

/// The rule applied to every (model, dimension) of the runs after `entries[baseline]`; `entries` are
/// in trend order.
pub fn assess(entries: &[Entry], baseline: usize, p: &Params) -> Vec<Row> {
    let base = &entries[baseline];
    let after = &entries[baseline + 1..];
    let mut keys = std::collections::BTreeSet::new();
    for e in entries {
        for (m, ml) in &e.models {
            for d in ml.dimensions.keys() {
                keys.insert((m.clone(), d.clone()));
            }
        }
    }
    let mut rows: Vec<Row> = keys
        .into_iter()
        .map(|(model, dim)| {
            let line = |e: &Entry| -> Option<super::DimLine> {
                e.models
                    .get(&model)
                    .and_then(|m| m.dimensions.get(&dim))
                    .cloned()
            };
            let scale = entries
                .iter()
                .rev()
                .find_map(|e| line(e).and_then(|l| l.scale));
            let tolerance = p
                .tolerance
                .unwrap_or_else(|| scale.map_or(0.05, |(lo, hi)| 0.025 * (hi - lo) as f64));
            let b = line(base).and_then(|l| l.mean);
            let se_b = line(base).and_then(|l| l.se).unwrap_or(0.0);
            let means: Vec<f64> = after
                .iter()
                .filter_map(|e| line(e).and_then(|l| l.mean))
                .collect();
            let recent = &means[means.len().saturating_sub(p.k)..];
            test(model, dim, b, se_b, recent, p, tolerance)
        })
        .collect();
    let family: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].p.is_some_and(|p| p < 1.0))
        .collect();
    let adjusted = holm(
        &family
            .iter()
            .map(|&i| rows[i].p.unwrap())
            .collect::<Vec<_>>(),
    );
    for (&i, ph) in family.iter().zip(adjusted) {
        rows[i].p_holm = Some(ph);
    }
    for r in rows.iter_mut().filter(|r| r.p.is_some()) {
        decide(r, p.alpha, family.len());
    }
    rows
}

/// The verdict of a tested row from its Holm p and change.
fn decide(r: &mut Row, alpha: f64, m: usize) {
    let (k, mean, tolerance) = (r.df.unwrap_or(0) + 1, r.change.unwrap_or(0.0), r.tolerance);
    let ph = r.p_holm.unwrap_or(1.0);
    let significant = ph < alpha;
    let large = mean <= -tolerance;
    r.status = if significant && large {
        Status::Drift
    } else {
        Status::Stable
    };
    r.why = match (significant, large) {
        (true, true) => format!(
            "the last {k} runs average {mean:+.3} from the baseline: significant (Holm p < {alpha} over {m} tests) and ≥ tolerance {tolerance:.3}"
        ),
        (true, false) => {
            format!("significant but {mean:+.3} is within the tolerance {tolerance:.3}")
        }
        (false, _) if r.p_holm.is_none() => "nothing varied and no drop".to_string(),
        (false, _) => format!("not significant at α = {alpha} after Holm over {m} tests"),
    };
}

fn test(
    model: String,
    dimension: String,
    baseline: Option<f64>,
    se_b: f64,
    recent: &[f64],
    p: &Params,
    tolerance: f64,
) -> Row {
    let mut row = Row {
        model,
        dimension,
        baseline,
        recent_mean: None,
        change: None,
        t: None,
        df: None,
        p: None,
        p_holm: None,
        tolerance,
        status: Status::NotTested,
        why: String::new(),
    };
    let Some(b) = baseline else {
        row.why = "no mean in the baseline run".into();
        return row;
    };
    let k = recent.len();
    if k < p.k.max(2) {
        row.why = format!(
            "{k} run{} after the baseline, {} needed",
            if k == 1 { "" } else { "s" },
            p.k.max(2)
        );
        return row;
    }
    let d: Vec<f64> = recent.iter().map(|m| m - b).collect();
    let mean = d.iter().sum::<f64>() / k as f64;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
    let se = (var / k as f64 + var.max(se_b * se_b)).sqrt();
    let df = k - 1;
    let (t, pv) = if se <= 1e-12 {
        (None, if mean < -1e-12 { 0.0 } else { 1.0 })
    } else {
        let t = mean / se;
        let dist = StudentsT::new(0.0, 1.0, df as f64).expect("df ≥ 1 is a valid Student t");
        (Some(t), dist.cdf(t))
    };
    row.recent_mean = Some(b + mean);
    row.change = Some(mean);
    row.t = t;
    row.df = Some(df);
    row.p = Some(pv);
    row.status = Status::Stable;
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{DimLine, ModelLine, SCHEMA};

    fn night(i: usize, mean: f64) -> Entry {
        let mut m = ModelLine::default();
        m.dimensions.insert(
            "reply".into(),
            DimLine {
                mean: Some(mean),
                se: Some(0.05),
                n: 100,
                scale: Some((1, 3)),
                ..DimLine::default()
            },
        );
        Entry {
            schema: SCHEMA.into(),
            run_id: format!("n{i}"),
            started_utc: format!("2026-12-{:02}T02:00:00Z", i + 1),
            added_utc: String::new(),
            commit: None,
            judge: None,
            evalset_sha256: String::new(),
            rubric_sha256: String::new(),
            n_items: 100,
            models: [("m".to_string(), m)].into(),
        }
    }

    /// A fixed wobble of ±0.04 around `level(i)`.
    fn series(level: impl Fn(usize) -> f64) -> Vec<Entry> {
        let wobble = [
            0.03, -0.04, 0.01, 0.04, -0.02, -0.03, 0.02, 0.0, -0.01, 0.03, -0.04, 0.02, 0.01,
            -0.03, 0.04,
        ];
        (0..15).map(|i| night(i, level(i) + wobble[i])).collect()
    }

    #[test]
    fn a_slow_drift_is_flagged_and_a_wobble_is_not() {
        let p = Params::default();
        let drift = assess(&series(|i| 2.6 - 0.03 * i as f64), 0, &p);
        assert_eq!(drift[0].status, Status::Drift, "{:?}", drift[0]);
        assert_eq!(drift[0].df, Some(4));
        let flat = assess(&series(|_| 2.6), 0, &p);
        assert_eq!(flat[0].status, Status::Stable, "{:?}", flat[0]);
        // Significant but small: within the tolerance.
        let small = assess(
            &series(|i| 2.6 - if i > 0 { 0.18 } else { 0.0 }),
            0,
            &Params {
                tolerance: Some(0.3),
                ..p
            },
        );
        assert_eq!(small[0].status, Status::Stable);
        assert!(
            small[0].why.contains("within the tolerance 0.300"),
            "{}",
            small[0].why
        );
        // Too few runs after the baseline.
        let few = assess(&series(|_| 2.6)[..4], 0, &p);
        assert_eq!(few[0].status, Status::NotTested);
        assert_eq!(few[0].why, "3 runs after the baseline, 5 needed");
        // The baseline's own error counts: a huge se_B hides the same drop.
        let mut noisy = series(|i| 2.6 - 0.03 * i as f64);
        noisy[0]
            .models
            .get_mut("m")
            .unwrap()
            .dimensions
            .get_mut("reply")
            .unwrap()
            .se = Some(0.5);
        assert_eq!(assess(&noisy, 0, &p)[0].status, Status::Stable);
    }

    #[test]
    fn the_statistic_matches_a_hand_computation() {
        // Baseline 2.0 (se 0.05); last five: 1.8, 1.7, 1.75, 1.85, 1.7 → D = −0.24, s² = 0.00425 >
        // se_B² = 0.0025, so se = √(0.00425/5 + 0.00425) = 0.0714143.
        let e: Vec<Entry> = [2.0, 1.8, 1.7, 1.75, 1.85, 1.7]
            .iter()
            .enumerate()
            .map(|(i, m)| night(i, *m))
            .collect();
        let r = &assess(&e, 0, &Params::default())[0];
        assert!((r.change.unwrap() + 0.24).abs() < 1e-12);
        assert!((r.t.unwrap() + 3.3606722).abs() < 1e-6, "{:?}", r.t);
        // df 4: one-sided p = 0.0141436 (scipy.stats.t.cdf); one test, so Holm changes nothing.
        assert!((r.p.unwrap() - 0.0141436).abs() < 1e-6, "{:?}", r.p);
        assert_eq!(r.p_holm, r.p);
        assert_eq!(r.status, Status::Drift);
    }

    #[test]
    fn holm_pools_the_models_and_leaves_out_what_cannot_reject() {
        let mut e: Vec<Entry> = [2.0, 1.8, 1.7, 1.75, 1.85, 1.7]
            .iter()
            .enumerate()
            .map(|(i, m)| night(i, *m))
            .collect();
        // A second model with the same figures doubles the family; a third never moved.
        for n in e.iter_mut() {
            let m = n.models["m"].clone();
            n.models.insert("m2".into(), m.clone());
            let mut flat = m;
            let r = flat.dimensions.get_mut("reply").unwrap();
            r.mean = Some(3.0);
            r.se = Some(0.0);
            n.models.insert("top".into(), flat);
        }
        let rows = assess(&e, 0, &Params::default());
        assert_eq!(rows.len(), 3);
        let top = rows.iter().find(|r| r.model == "top").unwrap();
        assert_eq!((top.p, top.p_holm), (Some(1.0), None));
        assert_eq!(top.why, "nothing varied and no drop");
        let m = rows.iter().find(|r| r.model == "m").unwrap();
        assert!((m.p_holm.unwrap() - 2.0 * 0.0141436).abs() < 1e-6);
        assert_eq!(m.status, Status::Drift);
        assert!(m.why.contains("Holm p < 0.05 over 2 tests"), "{}", m.why);
    }
}
