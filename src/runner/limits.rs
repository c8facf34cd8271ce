//! Per-model limits: requests per second and tokens per minute (token buckets), an adaptive slow-down
//! when the server says "too fast", the server's own `X-Ratelimit-*` figures, a pause the server can
//! impose, and the run's spending cap (`--max-cost`). All waiting here is `queue_ms`; none of it is
//! ever part of `ttft_ms`/`total_ms`.
//!
//! **Buckets.** Both limits are hand-written token buckets rather than governor's, because they must
//! (1) take refunds — `tpm` is charged with an estimate (prompt + max output) before sending and
//! corrected by the reported usage afterwards, and governor cannot give cells back; (2) change rate
//! while running (slow-down, learned limits); (3) serve waiters first come, first served, so a large
//! request is not overtaken forever by small ones. A request waits until the bucket holds
//! `min(n, capacity)`, then takes all `n`: a request larger than the bucket waits for a full bucket
//! and leaves it in debt, which later requests wait out.
//!
//! `rps` has capacity 1: requests are evenly spaced, never clumped. `tpm` has capacity one second's
//! worth (`tpm/60`) and refills at `(tpm − tpm/60)/60` per second, so any 60-second window holds at
//! most `tpm` tokens — safe against a server that counts a rolling minute as well as against one that
//! runs a token bucket — while the steady rate is 98.3% of `tpm`.
//!
//! **Slow-down.** A rate-limit answer (HTTP 429, Qianfan 18/336501/336502) halves the model's rate
//! factor (floor 1/64) — once per round: answers to requests sent before the last halving do not
//! halve again. After a 2 s hold the factor recovers by 0.05 per second (back to full speed from
//! one halving in 12 s). A model with no rate known when it is refused gets one from what it was
//! actually sending over the last 5 s (once it has sent two requests). A `Retry-After` pauses the
//! whole model.
//!
//! **Server figures.** `X-Ratelimit-Limit-Requests`/`-Tokens` (per minute) lower the buckets to the
//! server's limits (a configured limit is never raised); `Remaining-Requests: 0` or
//! `Remaining-Tokens` below the next request's estimate pause the model until the `Reset` header's
//! time, or one refill's worth when none is sent.

use crate::score::text::{classify, CharClass};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::provider::RateHeaders;

/// Output allowance for the `tpm` estimate and the cost bound when `params` sets no maximum.
pub const DEFAULT_MAX_OUTPUT: u64 = 1024;
/// Longest single sleep while waiting on a bucket: its rate may change meanwhile.
const MAX_NAP: Duration = Duration::from_millis(250);
const MIN_FACTOR: f64 = 1.0 / 64.0;
const HOLD: Duration = Duration::from_secs(2);
const RECOVERY_PER_S: f64 = 0.05;
const OBSERVE_WINDOW: Duration = Duration::from_secs(5);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A bucket's arithmetic, on explicit instants (so it is tested without sleeping).
#[derive(Debug, Clone)]
struct BucketState {
    /// Units per second at full speed; `None` = unlimited.
    rate: Option<f64>,
    capacity: f64,
    /// May be negative: debt left by a request larger than the bucket, or by an under-estimate.
    level: f64,
    last: Instant,
}

impl BucketState {
    fn new(rate: Option<f64>, capacity: f64, now: Instant) -> Self {
        BucketState {
            rate,
            capacity,
            level: capacity,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant, factor: f64) {
        if let Some(r) = self.rate {
            let dt = now.saturating_duration_since(self.last).as_secs_f64();
            self.level = (self.level + dt * r * factor).min(self.capacity);
        }
        self.last = self.last.max(now);
    }

    /// Take `n` once the bucket holds `min(n, capacity)`; else the time until it will.
    fn take(&mut self, n: f64, now: Instant, factor: f64) -> Result<(), Duration> {
        self.refill(now, factor);
        let Some(rate) = self.rate else {
            return Ok(());
        };
        let need = n.min(self.capacity);
        if self.level + 1e-9 >= need {
            self.level -= n;
            return Ok(());
        }
        let wait = (need - self.level) / (rate * factor);
        Err(Duration::from_secs_f64(wait.max(0.0005)))
    }

    /// Give back `n` (an over-estimate) or, with `n < 0`, charge more (an under-estimate).
    fn refund(&mut self, n: f64) {
        self.level = (self.level + n).min(self.capacity);
    }

    /// Set the full-speed rate and capacity (a learned or observed limit).
    fn set(&mut self, rate: f64, capacity: f64, now: Instant, factor: f64) {
        self.refill(now, factor);
        if self.rate.is_none() {
            self.level = capacity;
        }
        self.rate = Some(rate);
        self.capacity = capacity;
        self.level = self.level.min(capacity);
    }
}

/// A bucket whose waiters are served in arrival order.
struct Bucket {
    turn: tokio::sync::Mutex<()>,
    state: Mutex<BucketState>,
}

impl Bucket {
    fn new(state: BucketState) -> Self {
        Bucket {
            turn: tokio::sync::Mutex::new(()),
            state: Mutex::new(state),
        }
    }

    async fn acquire(&self, n: f64, adapt: &Mutex<Adapt>) {
        let _turn = self.turn.lock().await;
        loop {
            let now = Instant::now();
            let factor = lock(adapt).factor(now);
            let wait = match lock(&self.state).take(n, now, factor) {
                Ok(()) => return,
                Err(w) => w,
            };
            tokio::time::sleep(wait.min(MAX_NAP)).await;
        }
    }
}

/// The model's speed factor: 1 at full speed, halved by each round of rate-limit answers.
#[derive(Debug, Clone)]
struct Adapt {
    /// The factor right after the last halving.
    low: f64,
    halved_at: Option<Instant>,
}

impl Adapt {
    fn factor(&self, now: Instant) -> f64 {
        match self.halved_at {
            None => 1.0,
            Some(t) => {
                let quiet = now.saturating_duration_since(t + HOLD).as_secs_f64();
                (self.low + RECOVERY_PER_S * quiet).min(1.0)
            }
        }
    }

    /// Halve, unless the refused request was sent before the last halving (same round).
    fn halve(&mut self, sent: Instant, now: Instant) -> bool {
        if self.halved_at.is_some_and(|t| sent < t) {
            return false;
        }
        self.low = (self.factor(now) * 0.5).max(MIN_FACTOR);
        self.halved_at = Some(now);
        true
    }
}

/// Prices of one model, per 1000 tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    /// Price per 1000 input tokens.
    pub input_per_1k: f64,
    /// Price per 1000 output tokens.
    pub output_per_1k: f64,
}

impl Prices {
    /// What these tokens cost (the one formula: `stats::aggregate::cost`).
    pub fn cost(&self, prompt_tokens: u64, completion_tokens: u64) -> f64 {
        crate::stats::aggregate::cost(
            self.input_per_1k,
            self.output_per_1k,
            prompt_tokens,
            completion_tokens,
        )
    }
}

/// The run's spending cap (`--max-cost`), shared by every model. Before a request is sent its cost
/// bound (estimated prompt + max output) is reserved; afterwards the reservation is replaced by what
/// the reported usage says it cost. Once a reservation would pass the cap, nothing more is sent.
#[derive(Debug)]
pub struct Budget {
    max: f64,
    state: Mutex<BudgetState>,
}

#[derive(Debug, Default)]
struct BudgetState {
    spent: f64,
    reserved: f64,
    stopped: bool,
}

/// `--max-cost` refused a request: stop sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverBudget;

/// A cost held for a request in flight; give it to `Budget::settle`.
#[derive(Debug)]
#[must_use]
pub struct Reservation(f64);

impl Budget {
    /// A budget that refuses requests once the spend would pass `max`.
    pub fn new(max: f64) -> Self {
        Budget {
            max,
            state: Mutex::new(BudgetState::default()),
        }
    }

    /// Hold `cost` for a request about to be sent; `None` (for this and every later request) once
    /// it would take the spend past the cap.
    pub fn reserve(&self, cost: f64) -> Option<Reservation> {
        let mut s = lock(&self.state);
        if s.stopped || s.spent + s.reserved + cost > self.max {
            s.stopped = true;
            return None;
        }
        s.reserved += cost;
        Some(Reservation(cost))
    }

    /// Releases the reservation and adds the request's actual cost to the spend.
    pub fn settle(&self, r: Reservation, actual: f64) {
        let mut s = lock(&self.state);
        s.reserved = (s.reserved - r.0).max(0.0);
        s.spent += actual;
    }

    /// Whether a request was refused for the cap.
    pub fn stopped(&self) -> bool {
        lock(&self.state).stopped
    }

    /// Total cost settled so far.
    pub fn spent(&self) -> f64 {
        lock(&self.state).spent
    }

    /// The spending cap.
    pub fn max(&self) -> f64 {
        self.max
    }
}

/// Tokens one attempt used, as the server reported or, failing that, as evalrun must assume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Used {
    /// Prompt (input) tokens.
    pub prompt: u64,
    /// Completion (output) tokens.
    pub completion: u64,
}

/// One model's rate limits (`rps`, `tpm`) and pacing, shared by its workers.
pub struct ModelLimits {
    requests: Bucket,
    tokens: Bucket,
    configured_rps: Option<f64>,
    configured_tpm: Option<f64>,
    adapt: Mutex<Adapt>,
    pause_until: Mutex<Option<Instant>>,
    sends: Mutex<VecDeque<Instant>>,
    budget: OnceLock<(Arc<Budget>, Prices)>,
    /// How far reported usage has exceeded the estimates (prompt, output), ≥ 1: cost bounds are
    /// scaled by it, so one under-estimate is not repeated for the rest of the run.
    underestimate: Mutex<(f64, f64)>,
}

/// `tpm` bucket shape: capacity one second's worth, refill such that 60 s hold at most `tpm`.
fn tpm_shape(tpm: f64) -> (f64, f64) {
    let capacity = (tpm / 60.0).max(1.0);
    (((tpm - capacity) / 60.0).max(tpm / 3600.0), capacity)
}

impl ModelLimits {
    /// Limits from the configured `rps` and `tpm` (`None` = unlimited).
    pub fn new(rps: Option<f64>, tpm: Option<u64>) -> Self {
        let now = Instant::now();
        let tpm = tpm.map(|t| t as f64);
        let (tpm_rate, tpm_capacity) = tpm.map(tpm_shape).unzip();
        ModelLimits {
            requests: Bucket::new(BucketState::new(rps, 1.0, now)),
            tokens: Bucket::new(BucketState::new(tpm_rate, tpm_capacity.unwrap_or(1.0), now)),
            configured_rps: rps,
            configured_tpm: tpm,
            adapt: Mutex::new(Adapt {
                low: 1.0,
                halved_at: None,
            }),
            pause_until: Mutex::new(None),
            sends: Mutex::new(VecDeque::new()),
            budget: OnceLock::new(),
            underestimate: Mutex::new((1.0, 1.0)),
        }
    }

    /// Put this model's spending under `budget` at `prices` (once; later calls are ignored).
    pub fn attach_budget(&self, budget: Arc<Budget>, prices: Prices) {
        let _ = self.budget.set((budget, prices));
    }

    /// Reserve the cost bound of a request; `Err` when the budget refuses it (stop sending).
    /// `Ok(None)` when the run has no budget.
    pub fn reserve(&self, prompt: u64, max_output: u64) -> Result<Option<Reservation>, OverBudget> {
        let Some((b, p)) = self.budget.get() else {
            return Ok(None);
        };
        let (sp, so) = *lock(&self.underestimate);
        let bound = p.cost(
            (prompt as f64 * sp).ceil() as u64,
            (max_output as f64 * so).ceil() as u64,
        );
        b.reserve(bound).map(Some).ok_or(OverBudget)
    }

    /// Wait until this model may send a request estimated at `tokens` tokens.
    pub async fn ready(&self, tokens: u64) {
        self.wait_pause().await;
        self.requests.acquire(1.0, &self.adapt).await;
        self.tokens.acquire(tokens.max(1) as f64, &self.adapt).await;
        // A rate-limit answer that arrived while we queued applies to us too.
        self.wait_pause().await;
        let now = Instant::now();
        let mut sends = lock(&self.sends);
        sends.push_back(now);
        while sends
            .front()
            .is_some_and(|t| now.duration_since(*t) > OBSERVE_WINDOW)
        {
            sends.pop_front();
        }
    }

    /// Space a request again after it waited on the global `--concurrency` cap: requests released
    /// together by that cap must not reach the server in a clump.
    pub async fn respace(&self) {
        self.requests.acquire(1.0, &self.adapt).await;
    }

    /// After an attempt: correct the `tpm` charge from the estimate (`prompt` + `max_output`) to
    /// what was used, settle the budget, and take note of the server's rate-limit headers.
    pub fn settle(
        &self,
        (prompt, max_output): (u64, u64),
        used: Used,
        reservation: Option<Reservation>,
        rate: Option<&RateHeaders>,
    ) {
        let estimate = prompt + max_output;
        {
            let mut u = lock(&self.underestimate);
            u.0 = u.0.max(used.prompt as f64 / prompt.max(1) as f64);
            u.1 = u.1.max(used.completion as f64 / max_output.max(1) as f64);
        }
        let now = Instant::now();
        let factor = lock(&self.adapt).factor(now);
        {
            let mut t = lock(&self.tokens.state);
            t.refill(now, factor);
            t.refund(estimate as f64 - (used.prompt + used.completion) as f64);
        }
        if let (Some(r), Some((budget, prices))) = (reservation, self.budget.get()) {
            budget.settle(r, prices.cost(used.prompt, used.completion));
        }
        if let Some(h) = rate {
            self.observe(h, estimate, now, factor);
        }
    }

    fn observe(&self, h: &RateHeaders, next_estimate: u64, now: Instant, factor: f64) {
        if let Some(rpm) = h.limit_requests.filter(|r| *r > 0.0) {
            let rps = self
                .configured_rps
                .map_or(rpm / 60.0, |c| c.min(rpm / 60.0));
            lock(&self.requests.state).set(rps, 1.0, now, factor);
        }
        if let Some(tpm) = h.limit_tokens.filter(|t| *t > 0.0) {
            let tpm = self.configured_tpm.map_or(tpm, |c| c.min(tpm));
            let (rate, capacity) = tpm_shape(tpm);
            lock(&self.tokens.state).set(rate, capacity, now, factor);
        }
        if h.remaining_requests == Some(0.0) {
            let wait = h.reset_requests.unwrap_or_else(|| {
                Duration::from_secs_f64(60.0 / h.limit_requests.unwrap_or(60.0).max(1.0))
            });
            self.pause(wait.min(Duration::from_secs(60)));
        }
        if let Some(left) = h.remaining_tokens {
            if left < next_estimate as f64 {
                let wait = h.reset_tokens.unwrap_or_else(|| {
                    let per_s = h.limit_tokens.unwrap_or(60_000.0).max(60.0) / 60.0;
                    Duration::from_secs_f64((next_estimate as f64 - left) / per_s)
                });
                self.pause(wait.min(Duration::from_secs(60)));
            }
        }
    }

    /// A server refused a request sent at `sent` as too fast: slow the model down, and hold every
    /// request for `retry_after` when the server named a wait.
    pub fn slow_down(&self, sent: Instant, retry_after: Option<Duration>) {
        let now = Instant::now();
        let old = lock(&self.adapt).factor(now);
        // Bring both buckets up to date at the old speed before it changes.
        lock(&self.requests.state).refill(now, old);
        lock(&self.tokens.state).refill(now, old);
        lock(&self.adapt).halve(sent, now);
        let unknown = lock(&self.requests.state).rate.is_none();
        if unknown {
            // The rate this model was sending at (at least two sends are needed to tell one).
            let observed = {
                let sends = lock(&self.sends);
                match (sends.front(), sends.back()) {
                    (Some(a), Some(b)) if sends.len() >= 2 => {
                        let span = b.duration_since(*a).as_secs_f64().max(0.1);
                        Some((sends.len() - 1) as f64 / span)
                    }
                    _ => None,
                }
            };
            if let Some(rate) = observed {
                lock(&self.requests.state).set(rate, 1.0, now, old);
            }
        }
        if let Some(wait) = retry_after {
            self.pause(wait);
        }
    }

    /// The current speed factor (1 = full speed).
    pub fn factor(&self) -> f64 {
        lock(&self.adapt).factor(Instant::now())
    }

    /// Hold every request of this model for `wait`.
    pub fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut p = lock(&self.pause_until);
        if p.is_none_or(|cur| cur < until) {
            *p = Some(until);
        }
    }

    async fn wait_pause(&self) {
        loop {
            let until = *lock(&self.pause_until);
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t.into()).await,
                _ => return,
            }
        }
    }
}

/// The limit that sets a run's shortest wall time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// Requests per second.
    Rps,
    /// Tokens per minute.
    Tpm,
}

/// The shortest time `requests` requests totalling `tokens` estimated tokens can take under `rps`
/// and `tpm` as `ModelLimits` enforces them, and which limit sets it. (Reported usage below the
/// estimate is refunded while running, so a real run can beat the `tpm` figure.)
pub fn min_wall_time(
    requests: u64,
    tokens: u64,
    rps: Option<f64>,
    tpm: Option<u64>,
) -> (Duration, Option<Binding>) {
    let by_rps = rps.map(|r| requests.saturating_sub(1) as f64 / r);
    let by_tpm = tpm.map(|t| {
        let (rate, capacity) = tpm_shape(t as f64);
        (tokens as f64 - capacity).max(0.0) / rate
    });
    match (by_rps, by_tpm) {
        (Some(a), Some(b)) if b > a => (Duration::from_secs_f64(b), Some(Binding::Tpm)),
        (Some(a), _) => (Duration::from_secs_f64(a), Some(Binding::Rps)),
        (None, Some(b)) => (Duration::from_secs_f64(b), Some(Binding::Tpm)),
        (None, None) => (Duration::ZERO, None),
    }
}

/// A conservative token estimate for the tpm bucket: one token per Han/kana/hangul character, one per
/// four other characters, plus the output allowance. Cost uses the server's reported usage instead.
pub fn estimate_tokens(texts: &[&str], max_output: u64) -> u64 {
    let mut cjk = 0u64;
    let mut other = 0u64;
    for t in texts {
        for c in t.chars() {
            if matches!(
                classify(c),
                CharClass::Han | CharClass::Kana | CharClass::Hangul
            ) {
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

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn rps_bucket_spaces_requests_evenly() {
        let t0 = Instant::now();
        let mut b = BucketState::new(Some(20.0), 1.0, t0);
        assert!(b.take(1.0, t0, 1.0).is_ok());
        let w = b.take(1.0, t0, 1.0).unwrap_err();
        assert!((w.as_secs_f64() - 0.05).abs() < 1e-6, "{w:?}");
        assert!(b.take(1.0, t0 + ms(50), 1.0).is_ok());
        // Idle time does not bank a burst: capacity 1.
        assert!(b.take(1.0, t0 + ms(5000), 1.0).is_ok());
        assert!(b.take(1.0, t0 + ms(5000), 1.0).is_err());
        // Half speed doubles the spacing.
        let w = b.take(1.0, t0 + ms(5000), 0.5).unwrap_err();
        assert!((w.as_secs_f64() - 0.1).abs() < 1e-6, "{w:?}");
    }

    #[test]
    fn tpm_refund_corrects_the_estimate_and_a_large_request_waits_for_a_full_bucket() {
        let t0 = Instant::now();
        let (rate, cap) = tpm_shape(6000.0);
        assert_eq!(cap, 100.0);
        assert!((rate - 98.333).abs() < 0.01);
        let mut b = BucketState::new(Some(rate), cap, t0);
        // 300 > capacity: taken from a full bucket, leaving debt of 200.
        assert!(b.take(300.0, t0, 1.0).is_ok());
        assert!((b.level + 200.0).abs() < 1e-9);
        let w = b.take(50.0, t0, 1.0).unwrap_err();
        assert!((w.as_secs_f64() - 250.0 / rate).abs() < 1e-6);
        // Usage says 120 were used: 180 come back.
        b.refund(300.0 - 120.0);
        assert!((b.level + 20.0).abs() < 1e-9);
        // An under-estimate charges the difference.
        b.refund(-30.0);
        assert!((b.level + 50.0).abs() < 1e-9);
        // A refund never fills past the capacity.
        b.refund(10_000.0);
        assert_eq!(b.level, cap);
    }

    #[test]
    fn any_minute_holds_at_most_tpm() {
        // Saturate the bucket with requests of 40 tokens for 10 minutes; check every 60 s window.
        let t0 = Instant::now();
        let tpm = 6000.0;
        let (rate, cap) = tpm_shape(tpm);
        let mut b = BucketState::new(Some(rate), cap, t0);
        let mut now = t0;
        let mut sent: Vec<(Instant, f64)> = Vec::new();
        while now < t0 + Duration::from_secs(600) {
            match b.take(40.0, now, 1.0) {
                Ok(()) => sent.push((now, 40.0)),
                Err(w) => now += w,
            }
        }
        for (i, (start, _)) in sent.iter().enumerate() {
            let in_window: f64 = sent[i..]
                .iter()
                .take_while(|(t, _)| t.duration_since(*start) < Duration::from_secs(60))
                .map(|(_, n)| n)
                .sum();
            assert!(in_window <= tpm + 1e-6, "{in_window} tokens in a minute");
        }
        let total: f64 = sent.iter().map(|(_, n)| n).sum();
        let per_minute = total / 10.0;
        assert!(per_minute >= 0.95 * tpm, "achieved {per_minute}/min");
    }

    #[test]
    fn slow_down_halves_once_per_round_and_recovers_slowly() {
        let t0 = Instant::now();
        let mut a = Adapt {
            low: 1.0,
            halved_at: None,
        };
        assert!(a.halve(t0, t0 + ms(10)));
        assert_eq!(a.factor(t0 + ms(10)), 0.5);
        // Another refusal of a request sent before the halving: same round, no second halving.
        assert!(!a.halve(t0 + ms(5), t0 + ms(20)));
        assert_eq!(a.factor(t0 + ms(20)), 0.5);
        // A request sent after it, refused: halve again.
        assert!(a.halve(t0 + ms(30), t0 + ms(40)));
        assert_eq!(a.factor(t0 + ms(40)), 0.25);
        // Held for 2 s, then +0.05 per second.
        assert_eq!(a.factor(t0 + ms(2040)), 0.25);
        assert!((a.factor(t0 + ms(7040)) - 0.5).abs() < 1e-9);
        assert_eq!(a.factor(t0 + Duration::from_secs(60)), 1.0);
        for i in 0..20 {
            a.halve(
                t0 + Duration::from_secs(100 + i),
                t0 + Duration::from_secs(100 + i),
            );
        }
        assert_eq!(a.low, MIN_FACTOR);
    }

    #[tokio::test]
    async fn server_headers_lower_limits_and_an_unknown_rate_is_learned_when_refused() {
        let l = ModelLimits::new(Some(100.0), None);
        let h = RateHeaders {
            limit_requests: Some(600.0),
            limit_tokens: Some(60_000.0),
            ..Default::default()
        };
        l.settle(
            (5, 5),
            Used {
                prompt: 5,
                completion: 5,
            },
            None,
            Some(&h),
        );
        assert_eq!(lock(&l.requests.state).rate, Some(10.0));
        assert_eq!(lock(&l.tokens.state).capacity, 1000.0);
        // A configured limit below the server's is kept.
        let l = ModelLimits::new(Some(2.0), None);
        l.settle(
            (5, 5),
            Used {
                prompt: 5,
                completion: 5,
            },
            None,
            Some(&h),
        );
        assert_eq!(lock(&l.requests.state).rate, Some(2.0));

        let l = ModelLimits::new(None, None);
        l.ready(1).await;
        l.slow_down(Instant::now(), None);
        assert_eq!(lock(&l.requests.state).rate, None, "one send tells no rate");
        for _ in 0..8 {
            l.ready(1).await;
        }
        l.slow_down(Instant::now(), None);
        // 9 sends within 0.1 s (the shortest span counted): 80 per second, at a quarter speed.
        let r = lock(&l.requests.state).rate.unwrap();
        assert!((r - 80.0).abs() < 1e-9, "{r}");
        assert_eq!(l.factor(), 0.25);
    }

    #[tokio::test]
    async fn remaining_zero_pauses_until_reset() {
        let l = ModelLimits::new(None, None);
        let h = RateHeaders {
            remaining_requests: Some(0.0),
            reset_requests: Some(ms(60)),
            ..Default::default()
        };
        l.settle(
            (1, 0),
            Used {
                prompt: 0,
                completion: 0,
            },
            None,
            Some(&h),
        );
        let t = Instant::now();
        l.ready(1).await;
        assert!(t.elapsed() >= ms(55));
    }

    #[tokio::test]
    async fn pause_holds_requests() {
        let l = ModelLimits::new(None, None);
        l.pause(ms(60));
        let t = Instant::now();
        l.ready(1).await;
        assert!(t.elapsed() >= ms(55));
    }

    #[test]
    fn budget_refuses_once_the_bound_would_pass_the_cap_and_stays_stopped() {
        let b = Budget::new(1.0);
        let r1 = b.reserve(0.6).unwrap();
        assert!(b.reserve(0.6).is_none());
        b.settle(r1, 0.1);
        // Stopped for good, although 0.6 would fit now.
        assert!(b.stopped() && b.reserve(0.6).is_none());
        assert!((b.spent() - 0.1).abs() < 1e-12);
    }

    #[test]
    fn an_underestimated_cost_raises_later_bounds() {
        let l = ModelLimits::new(None, None);
        let b = Arc::new(Budget::new(1.0));
        l.attach_budget(
            b.clone(),
            Prices {
                input_per_1k: 1.0,
                output_per_1k: 1.0,
            },
        );
        // Bound 0.1 + 0.1; reported 0.3 + 0.1.
        let r = l.reserve(100, 100).unwrap();
        l.settle(
            (100, 100),
            Used {
                prompt: 300,
                completion: 100,
            },
            r,
            None,
        );
        assert!((b.spent() - 0.4).abs() < 1e-12);
        // The next bound is 0.3 + 0.1: 0.4 + 0.4 fits under 1.0, a third would not.
        let r = l.reserve(100, 100).unwrap();
        l.settle(
            (100, 100),
            Used {
                prompt: 300,
                completion: 100,
            },
            r,
            None,
        );
        assert!(l.reserve(100, 100).is_err());
    }

    #[test]
    fn min_wall_time_follows_the_binding_limit() {
        let (d, by) = min_wall_time(21, 0, Some(2.0), None);
        assert_eq!((d, by), (Duration::from_secs(10), Some(Binding::Rps)));
        let (d, by) = min_wall_time(10, 6100, Some(100.0), Some(6000));
        assert_eq!(by, Some(Binding::Tpm));
        assert!((d.as_secs_f64() - 6000.0 / (5900.0 / 60.0)).abs() < 1e-6);
        assert_eq!(min_wall_time(5, 5, None, None), (Duration::ZERO, None));
    }
}
