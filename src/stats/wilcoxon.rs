//! Wilcoxon signed-rank test of paired differences, exactly as STATS.md §4.2 defines it: Pratt's
//! treatment of zeros (ranked with the rest, then left out of the sums), average ranks for ties, normal
//! approximation with the tie- and zero-corrected variance (Cureton), no continuity correction,
//! two-sided. scipy: `wilcoxon(d, zero_method="pratt", correction=False, method="asymptotic")`.
//!
//! statrs has no signed-rank test (CRATES.md §2.1), so it is written here; the p-value uses statrs' erfc,
//! whose relative error is about 1e-10 (measured against scipy.special.erfc on 0.5 ≤ x ≤ 8): far inside
//! the contract's 1e-6, so the tests below compare p to scipy at 1e-9.

use statrs::function::erf::erfc;

use super::describe::finite;

/// Result of the signed-rank test on n differences.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignedRank {
    /// R⁺: the sum of the ranks of the positive differences.
    pub r_plus: f64,
    /// (R⁺ − μ)/σ; positive when the positive differences dominate. 0 when every difference is 0.
    pub z: f64,
    /// Two-sided p = erfc(|z|/√2); 1 when every difference is 0.
    pub p: f64,
}

/// Average ranks (1-based) of `values`: tied values share the mean of the ranks they span.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end; their mean is (start + 1 + end) / 2.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// The signed-rank test of `d` (already rounded to 9 decimals, so float noise cannot split a tie or
/// hide a zero). `None` when `d` is empty.
pub fn signed_rank(d: &[f64]) -> Option<SignedRank> {
    let n = d.len();
    if n == 0 {
        return None;
    }
    let abs: Vec<f64> = d.iter().map(|x| x.abs()).collect();
    let ranks = average_ranks(&abs);
    let r_plus: f64 = d
        .iter()
        .zip(&ranks)
        .filter(|(x, _)| **x > 0.0)
        .fold(0.0, |acc, (_, r)| acc + r);
    let n0 = d.iter().filter(|x| **x == 0.0).count();
    if n0 == n {
        return Some(SignedRank {
            r_plus,
            z: 0.0,
            p: 1.0,
        });
    }

    // Tie groups among the non-zero |d| (zeros are excluded from the tie correction).
    let mut nonzero: Vec<f64> = abs.iter().copied().filter(|x| *x != 0.0).collect();
    nonzero.sort_by(f64::total_cmp);
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < nonzero.len() {
        let mut j = i + 1;
        while j < nonzero.len() && nonzero[j] == nonzero[i] {
            j += 1;
        }
        let t = (j - i) as f64;
        tie_term += t * t * t - t;
        i = j;
    }

    let (nf, n0f) = (n as f64, n0 as f64);
    let mu = nf * (nf + 1.0) / 4.0 - n0f * (n0f + 1.0) / 4.0;
    let var = (nf * (nf + 1.0) * (2.0 * nf + 1.0) - n0f * (n0f + 1.0) * (2.0 * n0f + 1.0)) / 24.0
        - tie_term / 48.0;
    let z = finite((r_plus - mu) / var.sqrt()).unwrap_or(0.0);
    let p = erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0);
    Some(SignedRank { r_plus, z, p })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_example_of_stats_md() {
        // STATS.md §7, by hand: R⁺ = 16.5, μ = 11, σ = 5.5, z = 1, p = erfc(1/√2) = 0.31731.
        // scipy 1.17.1: wilcoxon([1,0,0,1,1,0,-1], zero_method="pratt", correction=False,
        // method="asymptotic") → zstatistic −1.0 (scipy reports −|z|), pvalue 0.31731050786291415.
        let r = signed_rank(&[1.0, 0.0, 0.0, 1.0, 1.0, 0.0, -1.0]).unwrap();
        assert_eq!(r.r_plus, 16.5);
        assert!((r.z - 1.0).abs() < 1e-12);
        assert!((r.p - 0.31731050786291415).abs() < 1e-9);
    }

    #[test]
    fn fractional_ties_and_a_zero_match_scipy() {
        // scipy 1.17.1, same call on d = [0.5,-0.5,1,1,1,-2,0,0.5,1.5,2,0.25]: zstatistic
        // −1.609164562563627, pvalue 0.107580362943751; R⁺ = Σ rankdata(|d|)[d > 0] = 50.5.
        let d = [0.5, -0.5, 1.0, 1.0, 1.0, -2.0, 0.0, 0.5, 1.5, 2.0, 0.25];
        let r = signed_rank(&d).unwrap();
        assert_eq!(r.r_plus, 50.5);
        assert!((r.z - 1.609164562563627).abs() < 1e-12, "{}", r.z);
        assert!((r.p - 0.107580362943751).abs() < 1e-9, "{}", r.p);
    }

    #[test]
    fn all_zero_and_empty() {
        let r = signed_rank(&[0.0, 0.0, 0.0]).unwrap();
        assert_eq!((r.r_plus, r.z, r.p), (0.0, 0.0, 1.0));
        assert_eq!(signed_rank(&[]), None);
    }

    #[test]
    fn average_ranks_by_hand() {
        assert_eq!(
            average_ranks(&[0.0, 1.0, 0.0, 2.0, 1.0, 1.0]),
            [1.5, 4.0, 1.5, 6.0, 4.0, 4.0]
        );
    }

    proptest! {
        #[test]
        fn negating_d_negates_z_and_keeps_p(
            d in proptest::collection::vec((-4i32..=4).prop_map(|k| f64::from(k) / 2.0), 1..80),
        ) {
            let a = signed_rank(&d).unwrap();
            let neg: Vec<f64> = d.iter().map(|x| if *x == 0.0 { 0.0 } else { -x }).collect();
            let b = signed_rank(&neg).unwrap();
            prop_assert!((a.z + b.z).abs() < 1e-9);
            prop_assert!((a.p - b.p).abs() < 1e-12);
            prop_assert!((0.0..=1.0).contains(&a.p));
        }
    }
}
