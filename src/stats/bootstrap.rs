//! The bootstrap of STATS.md §9 (the gate's latency ratio) and the percentile bootstrap of a mean,
//! specified so that two implementations agree.
//!
//! The generator is SplitMix64 (Steele, Lea & Flood 2014), written here rather than taken from a crate:
//! `rand`'s `StdRng` does not promise a reproducible stream across versions, and the bounds must be
//! recomputable by anyone from the records.

use super::describe::finite;
use super::percentile::type7;

/// SplitMix64: state += 0x9E3779B97F4A7C15, then two xor-shift-multiply rounds; all arithmetic mod 2⁶⁴.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next pseudo-random 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// An index in 0..n from the high 32 bits: ((x >> 32) · n) >> 32 (bias ≤ n/2³²).
    pub fn next_index(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) as u128 * n as u128) >> 32) as usize
    }
}

/// `resamples` item resamples of `n` items (STATS.md §9): a fresh generator with state = `seed`; draw
/// t = b·n + j is the j-th item index of resample b. Each resample (indices in draw order) is handed to
/// `stat`; the results are returned in resample order. Empty when n = 0.
pub fn resample_items<T>(
    n: usize,
    resamples: usize,
    seed: u64,
    mut stat: impl FnMut(&[usize]) -> T,
) -> Vec<T> {
    if n == 0 {
        return Vec::new();
    }
    let mut rng = SplitMix64::new(seed);
    let mut draw = vec![0; n];
    (0..resamples)
        .map(|_| {
            for d in draw.iter_mut() {
                *d = rng.next_index(n);
            }
            stat(&draw)
        })
        .collect()
}

/// Percentile bootstrap interval of the mean of `values` (taken in the order given, i.e. item order).
///
/// A fresh generator with state = `seed`; draw t = b·n + j picks the j-th value of resample b; the
/// resample means are sorted and the bounds are their type-7 quantiles at (1 − confidence)/2 and
/// (1 + confidence)/2. `None` for an empty slice or zero resamples.
pub fn mean_ci(values: &[f64], seed: u64, resamples: usize, confidence: f64) -> Option<(f64, f64)> {
    let n = values.len();
    if n == 0 || resamples == 0 {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| {
            let sum = (0..n).fold(0.0, |acc, _| acc + values[rng.next_index(n)]);
            sum / n as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let alpha = 1.0 - confidence;
    let low = type7(&means, alpha / 2.0)?;
    let high = type7(&means, 1.0 - alpha / 2.0)?;
    Some((finite(low)?, finite(high)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splitmix64_test_vector() {
        // STATS.md §5 (the published SplitMix64 reference output for seed 1234567).
        let mut g = SplitMix64::new(1234567);
        let got: Vec<u64> = (0..5).map(|_| g.next_u64()).collect();
        assert_eq!(
            got,
            [
                6457827717110365317,
                3203168211198807973,
                9817491932198370423,
                4593380528125082431,
                16408922859458223821
            ]
        );
    }

    #[test]
    fn first_resample_of_worked_example_9() {
        // STATS.md §11.9: ten items, seed 42: the first resample's items.
        let first = resample_items(10, 2, 42, |d| d.to_vec());
        assert_eq!(first[0], [7, 1, 2, 3, 0, 8, 2, 8, 3, 6]);
        assert_eq!(first.len(), 2);
        assert!(resample_items(0, 5, 42, |d| d.len()).is_empty());
    }

    #[test]
    fn index_uses_the_high_bits() {
        // By hand: x = 6457827717110365317 → x >> 32 = 1503580379; (1503580379 · 10) >> 32 = 3.
        let mut g = SplitMix64::new(1234567);
        assert_eq!(g.next_index(10), 3);
    }

    #[test]
    fn bootstrap_reproduces_independent_python() {
        // Computed with a separate Python implementation (scripts/verify_stats.py's `splitmix64` and
        // `boot_ci`, plain ints, numpy.quantile type 7) for values 1..=10, seed 42, B = 2000:
        // python3 -c "import sys; sys.path.insert(0,'scripts'); import verify_stats as v;
        //             print(v.boot_ci([float(i) for i in range(1,11)], 42, 2000))"
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        let (lo, hi) = mean_ci(&values, 42, 2000, 0.95).unwrap();
        assert!((lo - 3.7).abs() < 1e-12, "{lo}");
        assert!((hi - 7.3).abs() < 1e-12, "{hi}");
        // Same script, v.boot_ci(x, 42, 2000) and v.boot_ci(x, 7, 500, 0.9) for the x below:
        // (0.9772727272727273, 2.409090909090909) and (1.043181818181818, 2.3181818181818183).
        let x = [1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 1.5, 2.5, 0.0, -1.0, 2.25];
        let (lo, hi) = mean_ci(&x, 42, 2000, 0.95).unwrap();
        assert!((lo - 0.9772727272727273).abs() < 1e-12, "{lo}");
        assert!((hi - 2.409090909090909).abs() < 1e-12, "{hi}");
        let (lo, hi) = mean_ci(&x, 7, 500, 0.9).unwrap();
        assert!((lo - 1.043181818181818).abs() < 1e-12, "{lo}");
        assert!((hi - 2.3181818181818183).abs() < 1e-12, "{hi}");
    }

    #[test]
    fn constant_data_give_a_point_interval() {
        assert_eq!(mean_ci(&[2.0; 7], 42, 2000, 0.95), Some((2.0, 2.0)));
        assert_eq!(mean_ci(&[], 42, 2000, 0.95), None);
    }

    proptest! {
        #[test]
        fn interval_is_ordered_and_within_the_data(
            x in proptest::collection::vec(-100.0f64..100.0, 1..60),
            seed in any::<u64>(),
        ) {
            let (lo, hi) = mean_ci(&x, seed, 200, 0.95).unwrap();
            let min = x.iter().cloned().fold(f64::INFINITY, f64::min);
            let max = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(lo <= hi);
            prop_assert!(min - 1e-9 <= lo && hi <= max + 1e-9);
        }
    }
}
