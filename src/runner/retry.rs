//! Backoff between attempts: exponential with full jitter (AWS architecture blog, "Exponential Backoff
//! And Jitter"), capped; a server's `Retry-After` is honoured as a floor.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

const BASE: Duration = Duration::from_millis(500);
const CAP: Duration = Duration::from_secs(20);

/// Wait before attempt `attempt + 1` (`attempt` counts from 1).
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let exp = BASE
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(CAP);
    let jittered = exp.mul_f64(unit_random());
    match retry_after {
        Some(ra) => ra + jittered / 4,
        None => jittered,
    }
}

/// A uniform number in [0, 1) from the standard library's per-process random hasher keys: jitter needs
/// spread, not reproducibility, and this avoids a second random-number crate.
fn unit_random() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_honours_retry_after() {
        for a in 1..30 {
            assert!(backoff(a, None) <= CAP);
        }
        assert!(backoff(1, None) <= BASE);
        let d = backoff(3, Some(Duration::from_secs(2)));
        assert!(d >= Duration::from_secs(2) && d <= Duration::from_secs(3));
    }

    #[test]
    fn jitter_spreads() {
        let v: Vec<f64> = (0..50).map(|_| unit_random()).collect();
        assert!(v.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(v.iter().any(|x| *x < 0.5) && v.iter().any(|x| *x >= 0.5));
    }
}
