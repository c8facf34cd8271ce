//! The two quantile rules of STATS.md, each written once.
//!
//! - Latency percentiles use the nearest rank, pP = x₍⌈P·n/100⌉₎, in integer arithmetic:
//!   `sorted[(P·n + 99) div 100 − 1]` (numpy `method="inverted_cdf"`, HdrHistogram's rule). Never
//!   numpy's default interpolation.
//! - Bootstrap bounds use Hyndman–Fan type 7 (numpy's default, R's `quantile` default):
//!   h = (n − 1)·q, value = m[⌊h⌋] + (h − ⌊h⌋)(m[⌊h⌋+1] − m[⌊h⌋]).

/// Nearest-rank percentile `p` (an integer percent, 1..=100) of an ascending slice; `None` when empty.
pub fn nearest_rank(sorted: &[f64], p: u32) -> Option<f64> {
    assert!(
        (1..=100).contains(&p),
        "percentile must be 1..=100, got {p}"
    );
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (p as usize * n).div_ceil(100);
    Some(sorted[rank - 1])
}

/// Type-7 quantile `q` (0..=1) of an ascending slice; `None` when empty.
pub fn type7(sorted: &[f64], q: f64) -> Option<f64> {
    assert!(
        (0.0..=1.0).contains(&q),
        "quantile must be in [0, 1], got {q}"
    );
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * q;
    let lo = h.floor() as usize;
    if lo + 1 >= n {
        return Some(sorted[n - 1]);
    }
    Some(sorted[lo] + (h - lo as f64) * (sorted[lo + 1] - sorted[lo]))
}

/// Sort a copy ascending (total order; the inputs here are finite).
pub fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nearest_rank_worked_example() {
        // STATS.md §7: p50 of (1200, 1300, 1400, 1600) is x₍2₎ = 1300 (numpy's default gives 1350).
        let x = [1200.0, 1300.0, 1400.0, 1600.0];
        assert_eq!(nearest_rank(&x, 50), Some(1300.0));
        // ⌈0.9·4⌉ = 4, ⌈0.99·4⌉ = 4: the maximum.
        assert_eq!(nearest_rank(&x, 90), Some(1600.0));
        assert_eq!(nearest_rank(&x, 99), Some(1600.0));
        assert_eq!(nearest_rank(&[], 50), None);
    }

    #[test]
    fn nearest_rank_p90_of_fifty_is_the_45th() {
        // STATS.md §7: (90·50 + 99) div 100 = 45.
        let x: Vec<f64> = (1..=50).map(f64::from).collect();
        assert_eq!(nearest_rank(&x, 90), Some(45.0));
        assert_eq!(nearest_rank(&x, 99), Some(50.0));
        assert_eq!(nearest_rank(&x, 50), Some(25.0));
        // n = 100: p99 is the 99th value, no longer the maximum.
        let x: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(nearest_rank(&x, 99), Some(99.0));
    }

    #[test]
    fn type7_matches_numpy_default() {
        // numpy.quantile([1, 2, 3, 4, 10], [0.025, 0.5, 0.975]) = [1.1, 3.0, 9.4]
        // (by hand: h = 4q → 0.1, 2.0, 3.9).
        let x = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert!((type7(&x, 0.025).unwrap() - 1.1).abs() < 1e-12);
        assert_eq!(type7(&x, 0.5), Some(3.0));
        assert!((type7(&x, 0.975).unwrap() - 9.4).abs() < 1e-12);
        assert_eq!(type7(&x, 1.0), Some(10.0));
        assert_eq!(type7(&[7.0], 0.025), Some(7.0));
    }

    proptest! {
        #[test]
        fn nearest_rank_is_a_monotone_choice_of_data(
            mut x in proptest::collection::vec(-1e6f64..1e6, 1..300),
            p in 1u32..=99,
        ) {
            x.sort_by(f64::total_cmp);
            let a = nearest_rank(&x, p).unwrap();
            let b = nearest_rank(&x, p + 1).unwrap();
            prop_assert!(a <= b);
            prop_assert!(x.contains(&a));
        }

        #[test]
        fn type7_stays_within_the_data(
            mut x in proptest::collection::vec(-1e6f64..1e6, 1..300),
            q in 0.0f64..=1.0,
        ) {
            x.sort_by(f64::total_cmp);
            let v = type7(&x, q).unwrap();
            prop_assert!(x[0] <= v && v <= x[x.len() - 1]);
        }
    }
}
