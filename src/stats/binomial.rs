//! The exact sign test (STATS.md §4.3) and the Wilson score interval (§4.3, §4.4).

use statrs::distribution::{Binomial, DiscreteCDF};

use super::describe::finite;

/// Exact two-sided binomial test of `successes` in `trials` at p = 0.5:
/// min(1, 2·min(P(X ≤ k), P(X ≥ k))). For p = 0.5 the distribution is symmetric, so this equals scipy's
/// `binomtest(k, n, 0.5).pvalue` (which sums every outcome no likelier than k). `trials` = 0 ⇒ 1.
pub fn sign_test_p(successes: u64, trials: u64) -> f64 {
    assert!(
        successes <= trials,
        "{successes} successes in {trials} trials"
    );
    if trials == 0 {
        return 1.0;
    }
    let dist = Binomial::new(0.5, trials).expect("p = 0.5 is a valid probability");
    let lower = dist.cdf(successes);
    // P(X ≥ k) = sf(k − 1); P(X ≥ 0) = 1.
    let upper = if successes == 0 {
        1.0
    } else {
        dist.sf(successes - 1)
    };
    (2.0 * lower.min(upper)).min(1.0)
}

/// Wilson score interval for `successes` in `n` trials at critical value `z`; `None` when n = 0.
/// Bounds are clamped to [0, 1] against rounding.
pub fn wilson(successes: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let nf = n as f64;
    let p = successes as f64 / nf;
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = z / denom * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    Some((
        finite(centre - half)?.clamp(0.0, 1.0),
        finite(centre + half)?.clamp(0.0, 1.0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Z_975;
    use proptest::prelude::*;

    #[test]
    fn sign_test_matches_scipy_binomtest() {
        // scipy 1.17.1 `binomtest(k, n, 0.5).pvalue` for each (k, n, p):
        let cases = [
            (4, 5, 0.375), // STATS.md §7: GSB 4:3:1, D = 5, p = 12/32
            (2, 10, 0.109375),
            (8, 10, 0.109375),
            (0, 7, 0.015625),
            (7, 7, 0.015625),
            (3, 6, 1.0), // symmetric centre: the two tails overlap, capped at 1
            (2, 4, 1.0),
            (0, 1, 1.0),
            (37, 60, 0.09246098107292373),
            (500, 1000, 1.0),
        ];
        for (k, n, want) in cases {
            let got = sign_test_p(k, n);
            assert!((got - want).abs() < 1e-10, "k={k} n={n}: {got} vs {want}");
        }
        assert_eq!(sign_test_p(0, 0), 1.0);
    }

    #[test]
    fn wilson_by_formula() {
        // statsmodels 0.15.0 `proportion_confint(4, 5, method="wilson")`
        // = (0.3755346297625252, 0.9637758913675698).
        let (lo, hi) = wilson(4, 5, Z_975).unwrap();
        assert!((lo - 0.3755346297625252).abs() < 1e-12, "{lo}");
        assert!((hi - 0.9637758913675698).abs() < 1e-12, "{hi}");
        assert_eq!(wilson(0, 0, Z_975), None);
        let (lo, hi) = wilson(0, 10, Z_975).unwrap();
        assert_eq!(lo, 0.0);
        assert!(hi > 0.0 && hi < 0.35);
    }

    proptest! {
        #[test]
        fn sign_test_is_symmetric_and_a_probability(n in 0u64..400, frac in 0.0f64..=1.0) {
            let k = ((n as f64) * frac).floor() as u64;
            let p = sign_test_p(k, n);
            prop_assert!((0.0..=1.0).contains(&p));
            prop_assert!((p - sign_test_p(n - k, n)).abs() < 1e-12);
        }

        #[test]
        fn wilson_contains_the_share(n in 1u64..500, frac in 0.0f64..=1.0) {
            let k = ((n as f64) * frac).floor() as u64;
            let (lo, hi) = wilson(k, n, Z_975).unwrap();
            let share = k as f64 / n as f64;
            prop_assert!(lo <= share + 1e-12 && share <= hi + 1e-12);
        }
    }
}
