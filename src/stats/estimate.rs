//! The one estimator of STATS.md §2 and the tests, intervals and sample sizes built on it.
//!
//! [`estimate`] turns per-item values (item scores, paired differences, GSB scores, item pass shares)
//! into mean, sd, a cluster-robust standard error and its degrees of freedom; [`Estimate::interval`]
//! gives the 95 % t-interval (Wilson for a degenerate 0–1 share); [`Estimate::test`] the t-test of 0
//! (two-sided, or one-sided for a drop) with the degenerate-se sign-test rule; [`holm`] adjusts the
//! tests of a family that were run; [`mde80`] and [`items_needed`] are the power side (§2, §8).
//!
//! Every function is pure and works on plain slices; undefined values are `None`, never NaN.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::binomial::sign_test_p;
use super::describe::finite;

/// ε of STATS.md §1: a standard error ≤ ε counts as 0, a mean with |x| ≤ ε as 0.
pub const EPS: f64 = 1e-12;
/// z₀.₉₇₅ (STATS.md §1).
pub const Z_975: f64 = 1.959963984540054;
/// z₀.₈ (STATS.md §1).
pub const Z_80: f64 = 0.8416212335729143;

/// Φ⁻¹(p), the standard normal quantile.
pub fn z(p: f64) -> f64 {
    Normal::new(0.0, 1.0)
        .expect("the standard normal is valid")
        .inverse_cdf(p)
}

fn students_t(df: usize) -> StudentsT {
    StudentsT::new(0.0, 1.0, df as f64).expect("df ≥ 1 is a valid Student t")
}

/// t_{p,df}, the Student-t quantile.
pub fn t_quantile(p: f64, df: usize) -> f64 {
    students_t(df).inverse_cdf(p)
}

/// Sample size convention of STATS.md §1: ⌈x − 10⁻⁹⌉, so that 126.000000001 stays 126.
pub fn ceil_size(x: f64) -> u64 {
    (x - 1e-9).ceil().max(0.0) as u64
}

/// Where the items fall into clusters: one label per value, equal labels share a cluster.
/// `None` (no cluster key) makes every item a cluster of its own and se = sd/√n.
pub type Clusters<'a> = Option<&'a [usize]>;

/// E(x) of STATS.md §2 over per-item values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Number of items n.
    pub n: usize,
    /// Number of clusters C (= n without a key).
    pub n_clusters: usize,
    /// x̄; `None` when n = 0.
    pub mean: Option<f64>,
    /// Sample sd (ddof 1); `None` when n < 2.
    pub sd: Option<f64>,
    /// Cluster-robust se, at least sd/√n when a key is given; `None` when C < 2.
    pub se: Option<f64>,
    /// C − 1; `None` when C < 2.
    pub df: Option<usize>,
}

/// Which null hypothesis a test of 0 rejects in favour of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternative {
    /// H1: mean ≠ 0 (paired comparisons, GSB).
    TwoSided,
    /// H1: mean < 0 (the gate's test for a drop).
    Less,
}

/// Whether a test was run, and if not why (the reason is what a report prints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStatus {
    /// A t-test, or the exact sign test when se ≤ ε and the mean points in the tested direction.
    Run,
    /// se ≤ ε and no mean in the tested direction: the test can never reject (`no variation`); it is
    /// left out of its Holm family.
    NoVariation,
    /// Fewer than two clusters (or no values): no se, no df.
    NotTested,
}

/// The test of 0 on an [`Estimate`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestOfZero {
    /// Run, or why not.
    pub status: TestStatus,
    /// x̄/se; `None` when se ≤ ε or not run.
    pub t: Option<f64>,
    /// The p-value; `None` when not run.
    pub p: Option<f64>,
}

impl TestOfZero {
    /// Whether the test was run (and so belongs to its Holm family).
    pub fn was_run(&self) -> bool {
        self.status == TestStatus::Run
    }
}

/// Why an MDE (or the items needed) is undefined: a report prints this instead of a number, never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undefined {
    /// The test was not run because nothing varied.
    NoVariation,
    /// Fewer than two items (or clusters): there is no standard error.
    TooFewItems,
    /// The standard error is 0: every difference was the same, so no spread to plan from.
    ZeroSpread,
    /// The effect to detect is 0 or not a number.
    NoEffect,
}

impl Undefined {
    /// A short phrase for reports: "nothing varied", "fewer than 2 items", …
    pub fn reason(self) -> &'static str {
        match self {
            Undefined::NoVariation => "nothing varied",
            Undefined::TooFewItems => "fewer than 2 items or clusters",
            Undefined::ZeroSpread => "every difference was the same",
            Undefined::NoEffect => "no difference to detect",
        }
    }
}

/// E(x): mean, sd and the cluster-robust se of STATS.md §2. `clusters`, when given, has one label per
/// value. se = √(C/(C−1)·Σ_c e_c²)/n with e_c = Σ_{i∈c}(xᵢ − x̄), raised to sd/√n when a key is
/// given (few clusters make the cluster-robust se too small); df = C − 1.
pub fn estimate(values: &[f64], clusters: Clusters) -> Estimate {
    let n = values.len();
    if let Some(labels) = clusters {
        assert_eq!(labels.len(), n, "one cluster label per value");
    }
    if n == 0 {
        let c = 0;
        return Estimate {
            n,
            n_clusters: c,
            mean: None,
            sd: None,
            se: None,
            df: None,
        };
    }
    let nf = n as f64;
    let mean = values.iter().fold(0.0, |acc, v| acc + v) / nf;
    let sd = (n >= 2).then(|| {
        let ss = values
            .iter()
            .fold(0.0, |acc, v| acc + (v - mean) * (v - mean));
        (ss / (nf - 1.0)).sqrt()
    });
    let naive = sd.map(|sd| sd / nf.sqrt());
    let (n_clusters, se) = match clusters {
        None => (n, naive),
        Some(labels) => {
            let sums = cluster_sums(values, labels, mean);
            let c = sums.len();
            let se = (c >= 2).then(|| {
                let ss: f64 = sums.iter().fold(0.0, |acc, e| acc + e * e);
                let robust = (c as f64 / (c as f64 - 1.0) * ss).sqrt() / nf;
                robust.max(naive.unwrap_or(0.0))
            });
            (c, se)
        }
    };
    let df = (n_clusters >= 2).then(|| n_clusters - 1);
    Estimate {
        n,
        n_clusters,
        mean: finite(mean),
        sd: sd.and_then(finite),
        se: se.and_then(finite).filter(|_| n_clusters >= 2),
        df,
    }
}

/// e_c = Σ_{i∈c}(xᵢ − x̄) per distinct label, in order of first appearance.
fn cluster_sums(values: &[f64], labels: &[usize], mean: f64) -> Vec<f64> {
    let mut index = std::collections::HashMap::new();
    let mut sums: Vec<f64> = Vec::new();
    for (v, label) in values.iter().zip(labels) {
        let slot = *index.entry(*label).or_insert_with(|| {
            sums.push(0.0);
            sums.len() - 1
        });
        sums[slot] += v - mean;
    }
    sums
}

/// How an interval is bounded: a dimension mean is clipped to its scale, a 0–1 share to [0, 1] (and
/// gets Wilson when degenerate at 0 or 1), a difference is not clipped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bounds {
    /// No clipping (differences).
    Free,
    /// Clip to [lo, hi] (a dimension mean on its scale).
    Scale(f64, f64),
    /// A 0–1 share: clip to [0, 1]; se ≤ ε at 0 or 1 gives Wilson(n·x̄, n).
    Share,
}

impl Estimate {
    /// The 95 % interval x̄ ± t_{0.975,df}·se (STATS.md §2); se ≤ ε gives [x̄, x̄] or Wilson for a
    /// degenerate share. `None` when there is no se (C < 2) or no mean.
    pub fn interval(&self, bounds: Bounds) -> Option<(f64, f64)> {
        let mean = self.mean?;
        let se = self.se?;
        let df = self.df?;
        let (lo, hi) = if se <= EPS {
            match bounds {
                Bounds::Share if mean <= EPS || mean >= 1.0 - EPS => {
                    let k = (self.n as f64 * mean).round() as u64;
                    wilson(k, self.n as u64)?
                }
                _ => (mean, mean),
            }
        } else {
            let half = t_quantile(0.975, df) * se;
            (mean - half, mean + half)
        };
        Some(match bounds {
            Bounds::Free => (lo, hi),
            Bounds::Scale(a, b) => (lo.clamp(a, b), hi.clamp(a, b)),
            Bounds::Share => (lo.clamp(0.0, 1.0), hi.clamp(0.0, 1.0)),
        })
    }

    /// The test of 0 (STATS.md §2). `values` are the ones this estimate was made from (for the sign
    /// test when se ≤ ε).
    pub fn test(&self, values: &[f64], alternative: Alternative) -> TestOfZero {
        let not = |status| TestOfZero {
            status,
            t: None,
            p: None,
        };
        let (Some(mean), Some(se), Some(df)) = (self.mean, self.se, self.df) else {
            return not(TestStatus::NotTested);
        };
        if se > EPS {
            let t = mean / se;
            let dist = students_t(df);
            let p = match alternative {
                Alternative::TwoSided => 2.0 * dist.sf(t.abs()),
                Alternative::Less => dist.cdf(t),
            };
            return TestOfZero {
                status: TestStatus::Run,
                t: finite(t),
                p: finite(p.min(1.0)),
            };
        }
        let in_direction = match alternative {
            Alternative::TwoSided => mean.abs() > EPS,
            Alternative::Less => mean < -EPS,
        };
        if !in_direction {
            return not(TestStatus::NoVariation);
        }
        let pos = values.iter().filter(|v| **v > 0.0).count() as u64;
        let neg = values.iter().filter(|v| **v < 0.0).count() as u64;
        let p = match alternative {
            Alternative::TwoSided => sign_test_p(pos, pos + neg),
            Alternative::Less => sign_test_at_most(pos, pos + neg),
        };
        TestOfZero {
            status: TestStatus::Run,
            t: None,
            p: Some(p),
        }
    }
}

/// Exact one-sided binomial p at ½: P(X ≤ k) for X ~ Bin(n, ½) (n equal drops, k = 0: ½ⁿ).
pub fn sign_test_at_most(k: u64, n: u64) -> f64 {
    assert!(k <= n, "{k} of {n}");
    // Σ_{j ≤ k} C(n, j)/2ⁿ, with the binomial coefficients built in floating point as ratios so that
    // large n does not overflow.
    let mut term = 0.5f64.powi(n as i32);
    let mut sum = term;
    for j in 1..=k {
        term *= (n - j + 1) as f64 / j as f64;
        sum += term;
    }
    sum.min(1.0)
}

/// Exact two-sided binomial (sign) test of `k` successes in `n` trials at ½; n = 0 ⇒ 1.
pub fn sign_test(k: u64, n: u64) -> f64 {
    sign_test_p(k, n)
}

/// Holm over the tests of a family that were run (STATS.md §2): `None` entries (not run) stay `None`
/// and do not count in m. Returns the adjusted p-values in the order given, and m.
pub fn holm(p: &[Option<f64>]) -> (Vec<Option<f64>>, usize) {
    let run: Vec<f64> = p.iter().flatten().copied().collect();
    let adjusted = super::holm::holm(&run);
    let mut it = adjusted.into_iter();
    let out = p
        .iter()
        .map(|x| x.map(|_| it.next().expect("one per run test")))
        .collect();
    (out, run.len())
}

/// The normal quantile sum of the MDE at the α Holm uses first: z_{1−α/(2m)} + z₀.₈ two-sided,
/// z_{1−α/m} + z₀.₈ one-sided.
pub fn mde_multiplier(alpha: f64, m: usize, alternative: Alternative) -> f64 {
    let m = m.max(1) as f64;
    let tail = match alternative {
        Alternative::TwoSided => alpha / (2.0 * m),
        Alternative::Less => alpha / m,
    };
    z(1.0 - tail) + Z_80
}

/// mde80 (STATS.md §2): the true difference a test of this family detects with 80 % probability,
/// (z_{1−α/(2m)} + z₀.₈)·se (one-sided: z_{1−α/m}). Undefined, with the reason, when the test was not
/// run or there is no spread (never 0).
pub fn mde80(
    estimate: &Estimate,
    test: &TestOfZero,
    alpha: f64,
    m: usize,
    alternative: Alternative,
) -> Result<f64, Undefined> {
    match test.status {
        TestStatus::NotTested => return Err(Undefined::TooFewItems),
        TestStatus::NoVariation => return Err(Undefined::NoVariation),
        TestStatus::Run => {}
    }
    let se = estimate.se.ok_or(Undefined::TooFewItems)?;
    if se <= EPS {
        return Err(Undefined::ZeroSpread);
    }
    Ok(mde_multiplier(alpha, m, alternative) * se)
}

/// Items needed to detect a difference `delta` (STATS.md §8): ⌈((z + z₀.₈)·sd_d/δ)²⌉ at the family's
/// α/m. Undefined when sd_d is 0 or unknown, or δ is 0.
pub fn items_needed(
    sd_d: Option<f64>,
    delta: f64,
    alpha: f64,
    m: usize,
    alternative: Alternative,
) -> Result<u64, Undefined> {
    let sd = sd_d.ok_or(Undefined::TooFewItems)?;
    if sd <= EPS {
        return Err(Undefined::ZeroSpread);
    }
    if !delta.is_finite() || delta.abs() <= EPS {
        return Err(Undefined::NoEffect);
    }
    let x = mde_multiplier(alpha, m, alternative) * sd / delta.abs();
    Ok(ceil_size(x * x))
}

/// Items needed to detect `delta` given the mde80 a run of `n` items had: ⌈n·(mde80/δ)²⌉ (the
/// `n_needed_margin` of STATS.md §4; with clusters, at the same cluster sizes).
pub fn items_needed_from_mde(n: usize, mde80: f64, delta: f64) -> Result<u64, Undefined> {
    if !delta.is_finite() || delta.abs() <= EPS {
        return Err(Undefined::NoEffect);
    }
    let r = mde80 / delta.abs();
    Ok(ceil_size(n as f64 * r * r))
}

/// sd_d(k)² = var_between + (v_cand + v_ref)/k (STATS.md §8): the variance of a paired item difference
/// when each item is answered k times.
pub fn planned_var_diff(var_between: f64, var_within_sum: f64, k: u32) -> f64 {
    var_between + var_within_sum / k.max(1) as f64
}

/// Wilson(k, n) at z₀.₉₇₅ (STATS.md §2): c ∓ h with low = 0 when k = 0 and high = 1 when k = n;
/// `None` when n = 0.
pub fn wilson(k: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (k, nf) = (k as f64, n as f64);
    let z2 = Z_975 * Z_975;
    let c = (k + z2 / 2.0) / (nf + z2);
    let h = Z_975 * (k * (nf - k) / nf + z2 / 4.0).sqrt() / (nf + z2);
    let low = if k == 0.0 {
        0.0
    } else {
        (c - h).clamp(0.0, 1.0)
    };
    let high = if k == nf {
        1.0
    } else {
        (c + h).clamp(0.0, 1.0)
    };
    Some((low, high))
}

#[cfg(test)]
mod tests;
