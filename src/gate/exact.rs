//! The gate's exact tests (STATS.md §7): the one-sided binomial tail behind McNemar and the error
//! budget, and the sign-flip permutation test of rule pass shares over fewer than 20 items.

use crate::stats::estimate::sign_test_at_most;

/// P(X ≥ k) for X ~ Bin(n, ½): the exact one-sided McNemar p of `k` losses among `n` discordant
/// units, Σ_{j=k}^{n} C(n, j)/2ⁿ. `None` when n = 0 (the test is not run).
pub fn upper_tail(k: u64, n: u64) -> Option<f64> {
    if n == 0 {
        return None;
    }
    // P(X ≥ k) = P(X ≤ n − k) at ½.
    Some(sign_test_at_most(n - k, n))
}

/// Exact one-sided sign-flip permutation test of Σdᵢ (H1: the sum is below 0): the share of the 2ⁿ
/// sign patterns whose sum is ≤ the observed one. Sums are compared exactly in integer units of
/// 10⁻⁹. Meant for n < 20 (2ⁿ patterns); `None` for n = 0 or n > 24.
pub fn sign_flip_p(d: &[f64]) -> Option<f64> {
    let n = d.len();
    if n == 0 || n > 24 {
        return None;
    }
    let units: Vec<i64> = d.iter().map(|x| (x * 1e9).round() as i64).collect();
    let observed: i64 = units.iter().sum();
    let abs: Vec<i64> = units.iter().map(|u| u.abs()).collect();
    let total: i64 = abs.iter().sum();
    let mut at_most = 0u64;
    for pattern in 0u32..(1u32 << n) {
        // Bit j set: dⱼ counts negative.
        let negative: i64 = (0..n)
            .filter(|j| pattern & (1 << j) != 0)
            .map(|j| abs[j])
            .sum();
        if total - 2 * negative <= observed {
            at_most += 1;
        }
    }
    Some(at_most as f64 / (1u64 << n) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sided_mcnemar_matches_worked_example_4() {
        // STATS §11.4: lost 5, gained 1: (6 + 1)/64; 6 : 0: 1/64.
        assert!((upper_tail(5, 6).unwrap() - 0.109375).abs() < 1e-12);
        assert!((upper_tail(6, 6).unwrap() - 0.015625).abs() < 1e-12);
        assert_eq!(upper_tail(0, 6), Some(1.0));
        assert_eq!(upper_tail(0, 0), None);
    }

    #[test]
    fn sign_flip_counts_patterns_at_or_below_the_observed_sum() {
        // Three equal drops: only the observed pattern is ≤ −3: 1/8.
        assert!((sign_flip_p(&[-1.0, -1.0, -1.0]).unwrap() - 0.125).abs() < 1e-12);
        // d = (−0.5, 0.5): sums −1, 0, 0, 1; observed 0 ⇒ 3/4.
        assert!((sign_flip_p(&[-0.5, 0.5]).unwrap() - 0.75).abs() < 1e-12);
        // Zeros do not move the sum: every pattern ties ⇒ 1.
        assert_eq!(sign_flip_p(&[0.0, 0.0]), Some(1.0));
        // Float noise of 1e-12 is below the 1e-9 unit: −1/3 + 1/3 compares as equal sums.
        assert!((sign_flip_p(&[-1.0 / 3.0, 1.0 / 3.0]).unwrap() - 0.75).abs() < 1e-12);
    }
}
