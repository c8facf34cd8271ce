//! Deterministic "randomness": every choice the simulator makes is a hash of the request (and the
//! configured seed), never a run-time random number, so the same request sequence gives the same
//! answers, latencies and faults on every run and every machine.

use sha2::{Digest, Sha256};

/// SHA-256 of length-prefixed parts, folded to 64 bits.
pub(crate) fn hash64(parts: &[&[u8]]) -> u64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

/// Full SHA-256 hex of length-prefixed parts (access tokens, request ids).
pub(crate) fn hex_digest(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// SplitMix64: tiny, stable across versions, good enough for picking templates and jitter.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// A generator for one named decision derived from a request key, so that adding a new
    /// decision never shifts the outcome of the existing ones.
    pub(crate) fn for_key(key: u64, name: &str) -> Self {
        Rng(hash64(&[&key.to_le_bytes(), name.as_bytes()]))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n); 0 when n is 0.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// `k` distinct items in a deterministic order (all of them if `k >= len`).
    pub(crate) fn pick_distinct<T: Copy>(&mut self, items: &[T], k: usize) -> Vec<T> {
        let mut idx: Vec<usize> = (0..items.len()).collect();
        for i in (1..idx.len()).rev() {
            let j = self.below(i + 1);
            idx.swap(i, j);
        }
        idx.into_iter().take(k).map(|i| items[i]).collect()
    }

    /// Standard normal via Box–Muller.
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// A log-normal factor with mean 1 and log-space spread `sigma`.
    pub(crate) fn lognormal_factor(&mut self, sigma: f64) -> f64 {
        (sigma * self.normal() - sigma * sigma / 2.0).exp()
    }
}

/// Whether a named decision with probability `p` fires for this request key.
pub(crate) fn chance(key: u64, name: &str, p: f64) -> bool {
    p > 0.0 && Rng::for_key(key, name).unit() < p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_stable() {
        // Reference values of SplitMix64 seeded with 0 (Vigna's reference implementation).
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn lognormal_factor_has_mean_near_one() {
        let mut r = Rng::new(42);
        let n = 20_000;
        let mean: f64 = (0..n).map(|_| r.lognormal_factor(0.3)).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.02, "mean {mean}");
    }

    #[test]
    fn chance_rate_is_close_to_p() {
        let hits = (0..10_000u64).filter(|k| chance(*k, "x", 0.2)).count();
        assert!((1800..2200).contains(&hits), "hits {hits}");
    }

    #[test]
    fn pick_distinct_gives_distinct_items() {
        let items = [1, 2, 3, 4, 5];
        let got = Rng::new(7).pick_distinct(&items, 3);
        assert_eq!(got.len(), 3);
        assert!(got[0] != got[1] && got[1] != got[2] && got[0] != got[2]);
    }
}
