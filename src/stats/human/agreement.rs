//! Agreement between a judge and people, and among people, on plain slices: exact agreement,
//! quadratic-weighted Cohen's κ, the consensus of several raters, and Krippendorff's α (ordinal).
//! Definitions: README, "Judge vs people: statistics".

use std::collections::BTreeMap;

/// Scores closer than this are equal (scores are whole levels or halves).
const SAME: f64 = 1e-9;
/// A denominator at or below this is zero (STATS.md §1's ε).
const EPS: f64 = 1e-12;

/// Share of pairs (jᵤ, hᵤ) that are equal; `None` when empty.
pub fn exact_agreement(j: &[f64], h: &[f64]) -> Option<f64> {
    if j.is_empty() {
        return None;
    }
    let same = j
        .iter()
        .zip(h)
        .filter(|(a, b)| (*a - *b).abs() < SAME)
        .count();
    Some(same as f64 / j.len() as f64)
}

/// Quadratic-weighted Cohen's κ of two raters' scores on the same units:
/// κ = 1 − Σᵤ(jᵤ − hᵤ)²/n ÷ Σᵤ Σᵥ (jᵤ − hᵥ)²/n². On whole levels this is Cohen's κ with weights
/// (c − k)² (sklearn's `cohen_kappa_score(weights="quadratic")`); the common range factor cancels.
/// `None` for fewer than 2 units or when the expected disagreement is 0 (both constant and equal).
pub fn kappa_quadratic(j: &[f64], h: &[f64]) -> Option<f64> {
    let n = j.len();
    if n < 2 || h.len() != n {
        return None;
    }
    let nf = n as f64;
    let observed = j.iter().zip(h).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / nf;
    // Σᵤ Σᵥ (jᵤ − hᵥ)²/n² = (j̄ − h̄)² + var(j) + var(h), population variances.
    let (mj, mh) = (j.iter().sum::<f64>() / nf, h.iter().sum::<f64>() / nf);
    let vj = j.iter().map(|x| (x - mj).powi(2)).sum::<f64>() / nf;
    let vh = h.iter().map(|x| (x - mh).powi(2)).sum::<f64>() / nf;
    let expected = (mj - mh).powi(2) + vj + vh;
    if expected <= EPS {
        return None;
    }
    Some(1.0 - observed / expected)
}

/// The people's score of a unit: the most frequent of its scores, or, when several are most frequent,
/// the median of all its scores. `None` when empty.
pub fn consensus(scores: &[f64]) -> Option<f64> {
    let counts = tally(scores);
    let top = *counts.values().max()?;
    let modes: Vec<f64> = counts
        .iter()
        .filter(|(_, c)| **c == top)
        .map(|(k, _)| f64::from_bits(*k))
        .collect();
    if modes.len() == 1 {
        return Some(modes[0]);
    }
    crate::stats::describe::median(scores)
}

/// The score more than half of a unit's raters gave; `None` when there is none.
pub fn majority(scores: &[f64]) -> Option<f64> {
    tally(scores)
        .into_iter()
        .find(|(_, c)| 2 * c > scores.len())
        .map(|(k, _)| f64::from_bits(k))
}

/// Counts of each score, keyed by its bits (scores are finite and not −0 in practice).
fn tally(scores: &[f64]) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    for s in scores {
        *counts.entry((s + 0.0).to_bits()).or_insert(0) += 1;
    }
    counts
}

/// Krippendorff's α with the ordinal metric over `units`, each the scores its raters gave (missing
/// values simply absent). Units with fewer than 2 scores are not pairable and left out. With the
/// pairable values' frequencies n_g over the ordered distinct values, δ²(c, k) = (Σ_{g=c..k} n_g −
/// (n_c + n_k)/2)²; the coincidences o_ck = Σᵤ (pairs (c, k) of different raters in u)/(mᵤ − 1);
/// α = 1 − (n − 1)·Σ o_ck δ²_ck / Σ n_c n_k δ²_ck, n = pairable values (Krippendorff 2011).
/// `None` without a pairable unit or when every pairable value is the same.
pub fn krippendorff_alpha_ordinal(units: &[Vec<f64>]) -> Option<f64> {
    let pairable: Vec<&Vec<f64>> = units.iter().filter(|u| u.len() >= 2).collect();
    if pairable.is_empty() {
        return None;
    }
    let mut values: Vec<f64> = pairable.iter().flat_map(|u| u.iter().copied()).collect();
    values.sort_by(f64::total_cmp);
    values.dedup_by(|a, b| (*a - *b).abs() < SAME);
    let index = |x: f64| {
        values
            .iter()
            .position(|v| (v - x).abs() < SAME)
            .unwrap_or(0)
    };
    let k = values.len();
    let mut o = vec![vec![0.0; k]; k];
    for u in &pairable {
        let m = u.len() as f64;
        for (a, x) in u.iter().enumerate() {
            for (b, y) in u.iter().enumerate() {
                if a != b {
                    o[index(*x)][index(*y)] += 1.0 / (m - 1.0);
                }
            }
        }
    }
    let n_g: Vec<f64> = o.iter().map(|row| row.iter().sum()).collect();
    let n: f64 = n_g.iter().sum();
    let delta2 = |c: usize, d: usize| {
        let (lo, hi) = (c.min(d), c.max(d));
        let s: f64 = n_g[lo..=hi].iter().sum();
        (s - (n_g[c] + n_g[d]) / 2.0).powi(2)
    };
    let (mut d_o, mut d_e) = (0.0, 0.0);
    for c in 0..k {
        for d in 0..k {
            let w = delta2(c, d);
            d_o += o[c][d] * w;
            d_e += n_g[c] * n_g[d] * w;
        }
    }
    if d_e <= EPS {
        return None;
    }
    Some(1.0 - (n - 1.0) * d_o / d_e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) {
        let a = a.expect("defined");
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }

    #[test]
    fn kappa_worked_example() {
        // j = (1,2,3,3,2), h = (1,2,2,3,3): Σ(j−h)² = 2, observed 2/5; both means 11/5, both population
        // variances 2.8/5 = 0.56, expected 1.12; κ = 1 − 0.4/1.12 = 9/14. The same by the categorical
        // formula: O = [[1,0,0],[0,1,1],[0,1,1]], row and column sums (1,2,2), E = r·cᵀ/5,
        // Σ w·O = 2/4, Σ w·E = 5.6/4 (w = (c−k)²/4) → 1 − 2/5.6 = 9/14.
        close(
            kappa_quadratic(&[1., 2., 3., 3., 2.], &[1., 2., 2., 3., 3.]),
            9.0 / 14.0,
        );
        close(kappa_quadratic(&[1., 2., 3.], &[1., 2., 3.]), 1.0);
        // Judge always one level above people on a spread: observed 1, expected 1 + 2/3 + 2/3.
        close(
            kappa_quadratic(&[2., 3., 4.], &[1., 2., 3.]),
            1.0 - 1.0 / (1.0 + 4.0 / 3.0),
        );
        assert_eq!(kappa_quadratic(&[2., 2.], &[2., 2.]), None);
        assert_eq!(kappa_quadratic(&[2.], &[2.]), None);
        close(exact_agreement(&[1., 2., 3.], &[1., 2., 2.]), 2.0 / 3.0);
    }

    #[test]
    fn krippendorff_textbook_example() {
        // Krippendorff (2011), "Computing Krippendorff's alpha-reliability", 4 observers × 12 units
        // with missing values: α ordinal = 0.815 (the `krippendorff` 0.9.0 package: 0.8153875037548814).
        let nan = f64::NAN;
        let rows = [
            [1., 2., 3., 3., 2., 1., 4., 1., 2., nan, nan, nan],
            [1., 2., 3., 3., 2., 2., 4., 1., 2., 5., nan, 3.],
            [nan, 3., 3., 3., 2., 3., 4., 2., 2., 5., 1., nan],
            [1., 2., 3., 3., 2., 4., 4., 1., 2., 5., 1., nan],
        ];
        let units: Vec<Vec<f64>> = (0..12)
            .map(|u| rows.iter().map(|r| r[u]).filter(|x| !x.is_nan()).collect())
            .collect();
        close(krippendorff_alpha_ordinal(&units), 0.8153875037548814);
        assert_eq!(krippendorff_alpha_ordinal(&[vec![1.0]]), None);
        assert_eq!(
            krippendorff_alpha_ordinal(&[vec![2.0, 2.0], vec![2.0, 2.0]]),
            None
        );
    }

    #[test]
    fn consensus_and_majority() {
        assert_eq!(consensus(&[3.0]), Some(3.0));
        assert_eq!(consensus(&[2.0, 3.0, 3.0]), Some(3.0));
        assert_eq!(consensus(&[2.0, 3.0]), Some(2.5));
        assert_eq!(majority(&[2.0, 3.0, 3.0]), Some(3.0));
        assert_eq!(majority(&[2.0, 3.0]), None);
        assert_eq!(majority(&[1.0, 2.0, 3.0, 3.0]), None);
    }
}
