//! STATS.md §2's estimator E(x) as the gate uses it: the mean of per-item values, its (cluster-robust)
//! standard error, and the one-sided t-test for a drop (H1: mean < 0), with the degenerate cases of §2.

use std::collections::BTreeMap;

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::exact::upper_tail;

/// A standard error ≤ ε counts as 0, a mean with |x| ≤ ε as 0 (STATS §1).
pub const EPS: f64 = 1e-12;
/// z₀.₈ (STATS §1).
pub const Z_80: f64 = 0.8416212335729143;
/// z₀.₉₇₅ (STATS §1).
pub const Z_975: f64 = 1.959963984540054;

/// E(x) and the one-sided test of a drop.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub n: usize,
    pub n_clusters: usize,
    pub mean: f64,
    pub se: Option<f64>,
    pub df: Option<f64>,
    pub t: Option<f64>,
    /// One-sided p for a drop; `None`: the test is not run (no variation, or too few clusters).
    pub p: Option<f64>,
}

/// E over `x`, the values of items in ascending id order; `clusters[i]` is item i's cluster value
/// (`None`: a cluster of its own). `None` for an empty slice.
pub fn drop_test(x: &[f64], clusters: &[Option<String>]) -> Option<Estimate> {
    let n = x.len();
    if n == 0 {
        return None;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let mut groups: BTreeMap<&str, f64> = BTreeMap::new();
    let mut singles = Vec::new();
    for (xi, c) in x.iter().zip(clusters) {
        match c {
            Some(c) => *groups.entry(c.as_str()).or_default() += xi - mean,
            None => singles.push(xi - mean),
        }
    }
    let c = groups.len() + singles.len();
    let keyed = !groups.is_empty();
    let mut est = Estimate {
        n,
        n_clusters: c,
        mean,
        se: None,
        df: None,
        t: None,
        p: None,
    };
    if n < 2 || c < 2 {
        return Some(est);
    }
    let ss: f64 = x.iter().map(|xi| (xi - mean).powi(2)).sum();
    let plain = (ss / (n - 1) as f64).sqrt() / (n as f64).sqrt();
    let se = if keyed {
        let sum_e2: f64 = groups.values().chain(&singles).map(|e| e * e).sum();
        let cf = c as f64;
        ((cf / (cf - 1.0) * sum_e2).sqrt() / n as f64).max(plain)
    } else {
        plain
    };
    let df = (c - 1) as f64;
    est.se = Some(se);
    est.df = Some(df);
    if se > EPS {
        let t = mean / se;
        let dist = StudentsT::new(0.0, 1.0, df).expect("df ≥ 1");
        est.t = Some(t);
        est.p = Some(dist.cdf(t));
    } else if mean < -EPS {
        // Every item fell alike: the exact sign test of the non-zero values (½ⁿ for n equal drops).
        let nonzero = x.iter().filter(|v| v.abs() > EPS).count() as u64;
        let negative = x.iter().filter(|v| **v < -EPS).count() as u64;
        est.p = upper_tail(negative, nonzero);
    }
    Some(est)
}

/// Φ⁻¹(p).
pub fn z(p: f64) -> f64 {
    Normal::new(0.0, 1.0)
        .expect("standard normal")
        .inverse_cdf(p)
}

/// One-sided MDE at 80 % power in a family of m tests run: (z_{1−α/m} + z₀.₈)·se.
pub fn mde80_one_sided(alpha: f64, m: usize, se: f64) -> f64 {
    (z(1.0 - alpha / m.max(1) as f64) + Z_80) * se
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_1_gate_p() {
        // STATS §11.1: d = (1, 0, 0, 1, 1, 0, −1); the gate tests −d: p = F₆(−1) = 0.177959.
        let d: Vec<f64> = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, -1.0]
            .iter()
            .map(|x: &f64| -x)
            .collect();
        let e = drop_test(&d, &vec![None; 7]).unwrap();
        assert!((e.se.unwrap() - 2.0 / 7.0).abs() < 1e-12);
        assert_eq!(e.df, Some(6.0));
        assert!((e.t.unwrap() + 1.0).abs() < 1e-12);
        assert!((e.p.unwrap() - 0.177959).abs() < 1e-6, "{e:?}");
    }

    #[test]
    fn worked_example_2_clustered_se() {
        // STATS §11.2: clusters {i1,i2,i3}, {i4,i5}, {i6,i7}: se = √333/49, df 2.
        let d = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, -1.0];
        let c: Vec<Option<String>> = ["a", "a", "a", "b", "b", "c", "c"]
            .iter()
            .map(|s| Some(s.to_string()))
            .collect();
        let e = drop_test(&d, &c).unwrap();
        assert!((e.se.unwrap() - 0.372414).abs() < 1e-6, "{e:?}");
        assert_eq!((e.n_clusters, e.df), (3, Some(2.0)));
        assert!((e.t.unwrap() - 0.767195).abs() < 1e-6);
    }

    #[test]
    fn degenerate_cases() {
        // n equal drops: se 0, p = ½ⁿ; no variation: not run; one item: not run.
        let e = drop_test(&[-0.5; 5], &vec![None; 5]).unwrap();
        assert_eq!(e.t, None);
        assert!((e.p.unwrap() - 1.0 / 32.0).abs() < 1e-12, "{e:?}");
        assert_eq!(drop_test(&[0.0; 5], &vec![None; 5]).unwrap().p, None);
        assert_eq!(drop_test(&[0.3; 5], &vec![None; 5]).unwrap().p, None);
        assert_eq!(drop_test(&[-1.0], &[None]).unwrap().se, None);
    }

    #[test]
    fn mde_at_alpha_over_m() {
        // STATS §11.5: se 0.082567, one-sided m = 4: 3.083024·se.
        let se = 0.56 / 46f64.sqrt();
        assert!((mde80_one_sided(0.05, 4, se) / se - 3.083024).abs() < 1e-6);
    }
}
