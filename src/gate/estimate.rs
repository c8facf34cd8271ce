//! STATS.md §2's estimator E(x) as the gate uses it (`stats::estimate`): the mean of per-item values,
//! its (cluster-robust) standard error, and the one-sided test for a drop (H1: mean < 0).

use std::collections::BTreeMap;

use crate::stats::estimate::{estimate, mde_multiplier, Alternative};
pub use crate::stats::estimate::{z, EPS, Z_80, Z_975};

/// E(x) and the one-sided test of a drop, as the gate's rows carry them.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Observations.
    pub n: usize,
    /// Clusters the observations fall into.
    pub n_clusters: usize,
    /// Mean of the observations.
    pub mean: f64,
    /// Standard error of the mean.
    pub se: Option<f64>,
    /// Degrees of freedom.
    pub df: Option<f64>,
    /// t statistic.
    pub t: Option<f64>,
    /// One-sided p for a drop; `None`: the test is not run (no variation, or too few clusters).
    pub p: Option<f64>,
}

/// E over `x`, the values of items in ascending id order; `clusters[i]` is item i's cluster value
/// (`None`: a cluster of its own). `None` for an empty slice.
pub fn drop_test(x: &[f64], clusters: &[Option<String>]) -> Option<Estimate> {
    if x.is_empty() {
        return None;
    }
    let labels = cluster_labels(clusters);
    let e = estimate(x, labels.as_deref());
    let test = e.test(x, Alternative::Less);
    Some(Estimate {
        n: e.n,
        n_clusters: e.n_clusters,
        mean: e.mean?,
        se: e.se,
        df: e.df.map(|d| d as f64),
        t: test.t,
        p: test.p,
    })
}

/// One label per item: equal values share one, an item without a value gets one of its own.
/// `None` when no item has a value (no cluster key: se = sd/√n).
fn cluster_labels(clusters: &[Option<String>]) -> Option<Vec<usize>> {
    if clusters.iter().all(Option::is_none) {
        return None;
    }
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    let mut next = 0;
    Some(
        clusters
            .iter()
            .map(|c| {
                let fresh = |next: &mut usize| {
                    *next += 1;
                    *next - 1
                };
                match c {
                    Some(v) => match ids.get(v.as_str()) {
                        Some(&id) => id,
                        None => {
                            let id = fresh(&mut next);
                            ids.insert(v, id);
                            id
                        }
                    },
                    None => fresh(&mut next),
                }
            })
            .collect(),
    )
}

/// One-sided MDE at 80 % power in a family of m tests run: (z_{1−α/m} + z₀.₈)·se; `None` when the
/// se is 0 (every item moved alike: no spread to plan from).
pub fn mde80_one_sided(alpha: f64, m: usize, se: f64) -> Option<f64> {
    (se > EPS).then(|| mde_multiplier(alpha, m, Alternative::Less) * se)
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
        assert!((mde80_one_sided(0.05, 4, se).unwrap() / se - 3.083024).abs() < 1e-6);
        assert_eq!(mde80_one_sided(0.05, 4, 0.0), None);
    }
}
