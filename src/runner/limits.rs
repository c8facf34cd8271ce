//! Per-model limits: concurrency (held by the model's workers), requests per second and tokens per
//! minute (governor token buckets), and a pause that a server's rate-limit answer imposes on the whole
//! model. All waiting here is `queue_ms`; none of it is ever part of `ttft_ms`/`total_ms`.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::DefaultClock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

type Bucket = RateLimiter<NotKeyed, InMemoryState, DefaultClock>;

pub struct ModelLimits {
    rps: Option<Bucket>,
    tpm: Option<(Bucket, u32)>,
    pause_until: Mutex<Option<Instant>>,
}

impl ModelLimits {
    pub fn new(rps: Option<f64>, tpm: Option<u64>) -> Self {
        let rps = rps.map(|r| {
            let period = Duration::from_secs_f64(1.0 / r);
            // Burst 1: requests are spread evenly, never sent in a clump the server would reject.
            RateLimiter::direct(Quota::with_period(period).expect("rps validated positive"))
        });
        let tpm = tpm.map(|t| {
            let cap = u32::try_from(t).unwrap_or(u32::MAX).max(1);
            let n = NonZeroU32::new(cap).expect("max(1)");
            (RateLimiter::direct(Quota::per_minute(n)), cap)
        });
        ModelLimits {
            rps,
            tpm,
            pause_until: Mutex::new(None),
        }
    }

    /// Wait until this model may send a request estimated at `tokens` tokens.
    pub async fn ready(&self, tokens: u64) {
        self.wait_pause().await;
        if let Some(b) = &self.rps {
            b.until_ready().await;
        }
        if let Some((b, cap)) = &self.tpm {
            // A request larger than the bucket waits for a full bucket rather than failing.
            let n = u32::try_from(tokens).unwrap_or(u32::MAX).clamp(1, *cap);
            let n = NonZeroU32::new(n).expect("clamped to ≥ 1");
            let _ = b.until_n_ready(n).await;
        }
        // A rate-limit answer that arrived while we queued applies to us too.
        self.wait_pause().await;
    }

    /// A server said "too fast": hold every request of this model for `wait`.
    pub fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut p = self.pause_until.lock().expect("pause lock");
        if p.is_none_or(|cur| cur < until) {
            *p = Some(until);
        }
    }

    async fn wait_pause(&self) {
        loop {
            let until = *self.pause_until.lock().expect("pause lock");
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t.into()).await,
                _ => return,
            }
        }
    }
}

/// A conservative token estimate for the tpm bucket: one token per Han/kana/hangul character, one per
/// four other characters, plus the output allowance. Cost uses the server's reported usage instead.
pub fn estimate_tokens(texts: &[&str], max_output: u64) -> u64 {
    let mut cjk = 0u64;
    let mut other = 0u64;
    for t in texts {
        for c in t.chars() {
            if matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
            {
                cjk += 1;
            } else {
                other += 1;
            }
        }
    }
    cjk + other.div_ceil(4) + max_output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_estimate_counts_han_per_char() {
        assert_eq!(estimate_tokens(&["你好", "abcd"], 10), 2 + 1 + 10);
        assert_eq!(estimate_tokens(&["abcde"], 0), 2);
    }

    #[tokio::test]
    async fn pause_holds_requests() {
        let l = ModelLimits::new(None, None);
        l.pause(Duration::from_millis(60));
        let t = Instant::now();
        l.ready(1).await;
        assert!(t.elapsed() >= Duration::from_millis(55));
    }
}
