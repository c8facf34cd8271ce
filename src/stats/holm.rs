//! Holm's (1979) step-down adjustment of a family of p-values (STATS.md §1.5).

/// Holm-adjusted p-values, in the order given: sort ascending, adjusted p₍ⱼ₎ = max over i ≤ j of
/// min(1, (m − i + 1)·p₍ᵢ₎) (1-based j), which makes them monotone in the raw p and never below it.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (j, &i) in order.iter().enumerate() {
        running = running.max(((m - j) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn holm_by_hand() {
        // m = 4, sorted p = 0.01, 0.02, 0.03, 0.04 → 4·0.01 = 0.04, 3·0.02 = 0.06, 2·0.03 = 0.06,
        // 1·0.04 = 0.04 → running max 0.04, 0.06, 0.06, 0.06. Given out of order here.
        // statsmodels multipletests([0.03,0.01,0.04,0.02], method="holm")[1] gives the same.
        let got = holm(&[0.03, 0.01, 0.04, 0.02]);
        let want = [0.06, 0.04, 0.06, 0.06];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-15, "{got:?}");
        }
        assert_eq!(holm(&[0.5, 0.6]), [1.0, 1.0]);
        assert!(holm(&[]).is_empty());
    }

    proptest! {
        #[test]
        fn adjusted_is_at_least_raw_capped_and_monotone(
            p in proptest::collection::vec(0.0f64..=1.0, 0..40),
        ) {
            let a = holm(&p);
            for i in 0..p.len() {
                prop_assert!(a[i] >= p[i] && a[i] <= 1.0);
                for j in 0..p.len() {
                    if p[i] <= p[j] {
                        prop_assert!(a[i] <= a[j]);
                    }
                }
            }
        }
    }
}
