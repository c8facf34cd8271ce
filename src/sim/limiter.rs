//! The simulator's per-model rate limiter: a token bucket for requests per second, rolling
//! one-minute windows for requests and tokens, and the `X-Ratelimit-*` figures it advertises.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::faults::FaultSet;

/// The limits advertised when none is configured. The simulator then enforces none, so it advertises
/// rates no client reaches: a client that honours `X-Ratelimit-*` (evalrun does, as does Baidu's SDK)
/// must not be slowed by a limit that does not exist. (The Qianfan SDK's mock sends 3000 / 300000;
/// configure `rate=50` / `tpm=300000` to advertise and enforce a real service's defaults.)
pub(crate) const DEFAULT_RPM: u64 = 1_000_000;
pub(crate) const DEFAULT_TPM: u64 = 1_000_000_000;

/// What a chat answer advertises in its `X-Ratelimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateInfo {
    pub limit_requests: u64,
    pub remaining_requests: u64,
    pub limit_tokens: u64,
    pub remaining_tokens: u64,
}

/// Why a request was refused by the limiter, and when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Requests(Duration),
    Tokens(Duration),
}

/// One model's limits, in real (unscaled) time: a token bucket for requests per second, and
/// rolling one-minute windows for the request count (headers) and tokens (`tpm`).
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    bucket: f64,
    last: Option<Instant>,
    minute: VecDeque<Instant>,
    tokens: VecDeque<(Instant, u64)>,
    token_sum: u64,
}

const MINUTE: Duration = Duration::from_secs(60);

impl Limiter {
    fn expire(&mut self, now: Instant) {
        while self
            .minute
            .front()
            .is_some_and(|t| now.duration_since(*t) >= MINUTE)
        {
            self.minute.pop_front();
        }
        while let Some((t, n)) = self.tokens.front().copied() {
            if now.duration_since(t) < MINUTE {
                break;
            }
            self.tokens.pop_front();
            self.token_sum -= n;
        }
    }

    /// Admit one request under `rate` requests/s, or say how long until one would be admitted.
    pub(crate) fn admit_request(&mut self, now: Instant, rate: Option<f64>) -> Result<(), Refusal> {
        self.expire(now);
        if let Some(rate) = rate {
            let burst = rate.max(1.0);
            self.bucket = match self.last {
                None => burst,
                Some(t) => (self.bucket + now.duration_since(t).as_secs_f64() * rate).min(burst),
            };
            self.last = Some(now);
            if self.bucket < 1.0 {
                let wait = (1.0 - self.bucket) / rate;
                return Err(Refusal::Requests(Duration::from_secs_f64(wait)));
            }
            self.bucket -= 1.0;
        }
        self.minute.push_back(now);
        Ok(())
    }

    /// Charge `n` tokens under `tpm`, or say how long until they would fit.
    pub(crate) fn admit_tokens(
        &mut self,
        now: Instant,
        tpm: Option<u64>,
        n: u64,
    ) -> Result<(), Refusal> {
        self.expire(now);
        if let Some(tpm) = tpm {
            if self.token_sum + n > tpm && self.token_sum > 0 {
                // Wait until enough old charges leave the window.
                let mut freed = 0;
                let mut wait = MINUTE;
                for (t, m) in &self.tokens {
                    freed += m;
                    if self.token_sum - freed + n <= tpm {
                        wait = MINUTE.saturating_sub(now.duration_since(*t));
                        break;
                    }
                }
                return Err(Refusal::Tokens(wait));
            }
        }
        self.tokens.push_back((now, n));
        self.token_sum += n;
        Ok(())
    }

    pub(crate) fn info(&mut self, now: Instant, set: &FaultSet) -> RateInfo {
        self.expire(now);
        let limit_requests = set
            .rate
            .map(|r| ((r * 60.0).round() as u64).max(1))
            .unwrap_or(DEFAULT_RPM);
        let limit_tokens = set.tpm.unwrap_or(DEFAULT_TPM);
        RateInfo {
            limit_requests,
            remaining_requests: limit_requests.saturating_sub(self.minute.len() as u64),
            limit_tokens,
            remaining_tokens: limit_tokens.saturating_sub(self.token_sum),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_admits_the_burst_then_refuses() {
        let mut l = Limiter::default();
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(l.admit_request(t0, Some(5.0)).is_ok());
        }
        match l.admit_request(t0, Some(5.0)) {
            Err(Refusal::Requests(w)) => assert!((w.as_secs_f64() - 0.2).abs() < 1e-6),
            other => panic!("{other:?}"),
        }
        assert!(l
            .admit_request(t0 + Duration::from_millis(210), Some(5.0))
            .is_ok());
        let info = l.info(
            t0,
            &FaultSet {
                rate: Some(5.0),
                ..FaultSet::default()
            },
        );
        assert_eq!(info.limit_requests, 300);
        assert_eq!(info.remaining_requests, 294);
    }

    #[test]
    fn tpm_window() {
        let mut l = Limiter::default();
        let t0 = Instant::now();
        assert!(l.admit_tokens(t0, Some(100), 60).is_ok());
        assert!(matches!(
            l.admit_tokens(t0, Some(100), 60),
            Err(Refusal::Tokens(_))
        ));
        assert!(l
            .admit_tokens(t0 + Duration::from_secs(61), Some(100), 60)
            .is_ok());
        // A single request larger than the limit is admitted into an empty window.
        let mut l = Limiter::default();
        assert!(l.admit_tokens(t0, Some(10), 60).is_ok());
    }
}
