//! Mean, sample standard deviation and standard error of a slice (STATS.md §4.1), and the two small
//! numeric conventions every statistic shares: undefined is `None` (never NaN, which JSON cannot carry),
//! and paired differences are rounded to 9 decimals.

/// `Some(x)` when `x` is finite, else `None`.
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Arithmetic mean, summed left to right from +0.0; `None` for an empty slice.
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let sum = values.iter().fold(0.0, |acc, v| acc + v);
    finite(sum / values.len() as f64)
}

/// n, mean, sd (ddof = 1) and se = sd/√n of a slice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Describe {
    /// Values described.
    pub n: usize,
    /// `None` when n = 0.
    pub mean: Option<f64>,
    /// Sample standard deviation (n − 1 in the denominator); `None` when n < 2.
    pub sd: Option<f64>,
    /// sd/√n; `None` when n < 2.
    pub se: Option<f64>,
}

/// Describe a slice: two-pass variance, so that constant data give exactly 0.
pub fn describe(values: &[f64]) -> Describe {
    let n = values.len();
    let m = mean(values);
    let sd = match m {
        Some(m) if n >= 2 => {
            let ss = values.iter().fold(0.0, |acc, v| acc + (v - m) * (v - m));
            finite((ss / (n - 1) as f64).sqrt())
        }
        _ => None,
    };
    let se = sd.and_then(|sd| finite(sd / (n as f64).sqrt()));
    Describe { n, mean: m, sd, se }
}

/// The median (the middle value, or the mean of the two middle ones) of the finite values; `None`
/// when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// a/b, `None` when b = 0 or the result is not finite.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    if b == 0.0 {
        None
    } else {
        finite(a / b)
    }
}

/// Round to 9 decimals (STATS.md §4.2), so that differences that are zero or tied in exact arithmetic
/// compare equal despite floating-point noise. A negative zero becomes +0.0.
pub fn round9(x: f64) -> f64 {
    let r = (x * 1e9).round() / 1e9;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_matches_hand_computation() {
        // By hand: mean of (1, 2, 3, 4) = 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5;
        // sd = √(5/3) = 1.2909944487358056; se = sd/2 = 0.6454972243679028.
        let d = describe(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(d.n, 4);
        assert_eq!(d.mean, Some(2.5));
        assert!((d.sd.unwrap() - 1.2909944487358056).abs() < 1e-15);
        assert!((d.se.unwrap() - 0.6454972243679028).abs() < 1e-15);
    }

    #[test]
    fn small_samples_are_undefined_not_nan() {
        let d = describe(&[]);
        assert_eq!((d.mean, d.sd, d.se), (None, None, None));
        let d = describe(&[2.0]);
        assert_eq!((d.mean, d.sd, d.se), (Some(2.0), None, None));
        let d = describe(&[3.0, 3.0, 3.0]);
        assert_eq!((d.sd, d.se), (Some(0.0), Some(0.0)));
    }

    #[test]
    fn round9_removes_float_noise_and_negative_zero() {
        // 2.6666666666666665 − 2.3333333333333335 = 0.33333333333333304 in binary floating point.
        assert_eq!(round9(8.0 / 3.0 - 7.0 / 3.0), 0.333333333);
        assert_eq!(round9(0.1 + 0.2 - 0.3), 0.0);
        assert!(round9(-1e-12).is_sign_positive());
        assert_eq!(round9(-0.5), -0.5);
    }
}
