//! Shared machinery of the chat routes: server state (access tokens, limiters, repeat counts,
//! counters) and the answer pipeline (limits → generation → faults); delivery is `deliver.rs`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::answer::{generate_with, Ask, Generation, Memory};
use super::faults::{FaultSet, DEFAULT_STALL_MS};
use super::judge::degrade::Degraded;
use super::judge_lean::{Families, DEFAULT_FAMILY};
use super::limiter::{Limiter, RateInfo, Refusal};
use super::profiles::Profile;
use super::rng::{chance, hash64, hex_digest, Rng};
use super::script::{self, Script};
use super::stats::{SeenRequest, SimStats};

pub(crate) use super::deliver::{
    add_rate_headers, event_stream_response, json_response, piece_offsets, shape, sse, timed_body,
    whole_body, Delivery, Frame,
};
use super::SimConfig;

/// How many requests [`SimStats::requests`] keeps.
pub(crate) const REQUEST_LOG_CAP: usize = 20_000;

/// Locks a mutex even if a panicking request poisoned it: counters stay usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug, Default)]
struct TokenState {
    calls: u64,
    expired: bool,
}

#[derive(Debug, Default)]
struct Tokens {
    by_token: HashMap<String, TokenState>,
    clients: HashSet<String>,
}

/// The outcome of an access-token check on a v1 chat call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    Valid,
    Unknown,
    /// Expired by `expire_every` (on this call or an earlier one).
    Expired,
}

pub(crate) struct AppState {
    pub cfg: SimConfig,
    pub stats: Arc<Mutex<SimStats>>,
    tokens: Mutex<Tokens>,
    limiters: Mutex<HashMap<&'static str, Limiter>>,
    repeats: Mutex<HashMap<u64, u64>>,
    samples: Mutex<HashMap<u64, BTreeSet<u64>>>,
    ids: AtomicU64,
    /// Which family gave which answer, while some judge has a `bias`.
    families: Option<Families>,
    /// The answers given under a `degrade` fault (this server's only).
    degraded: Degraded,
}

/// The sample index a request holds until its answer is delivered whole (see
/// [`AppState::request_keys`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SampleSlot {
    base: u64,
    index: u64,
}

/// The two hashes of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RequestKeys {
    /// Per attempt: faults and latency (a retry draws afresh).
    pub attempt: u64,
    /// Per sample: what the model says (a retry after a fault gets the answer the failed attempt
    /// would have given; a further sample of the same request gets a new one).
    pub content: u64,
    pub slot: SampleSlot,
    /// How many times this same request arrived before (0 on its first arrival).
    pub arrival: u64,
}

impl SampleSlot {
    /// 0 for the first sample of a request, 1 for the second, …
    pub(crate) fn index(&self) -> u64 {
        self.index
    }
}

impl AppState {
    pub(crate) fn new(cfg: SimConfig) -> Self {
        let cfg_bias = cfg.faults.any_bias();
        AppState {
            cfg,
            stats: Arc::new(Mutex::new(SimStats::default())),
            tokens: Mutex::new(Tokens::default()),
            limiters: Mutex::new(HashMap::new()),
            repeats: Mutex::new(HashMap::new()),
            samples: Mutex::new(HashMap::new()),
            ids: AtomicU64::new(0),
            families: cfg_bias.then(Families::default),
            degraded: Degraded::default(),
        }
    }

    pub(crate) fn faults_for(&self, p: &Profile) -> FaultSet {
        self.cfg.faults.for_model(p.name)
    }

    /// A fresh id such as `as-k3j9x0q2mf`, deterministic in the order ids are asked for.
    pub(crate) fn new_id(&self, prefix: &str) -> String {
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        let mut rng = Rng::new(hash64(&[
            &self.cfg.seed.to_le_bytes(),
            &n.to_le_bytes(),
            b"id",
        ]));
        let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let s: String = (0..10)
            .map(|_| alphabet[rng.below(alphabet.len())] as char)
            .collect();
        format!("{prefix}{s}")
    }

    pub(crate) fn issue_token(&self, client_id: &str) -> String {
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        let hex = hex_digest(&[
            &self.cfg.seed.to_le_bytes(),
            &n.to_le_bytes(),
            client_id.as_bytes(),
        ]);
        let token = format!(
            "24.{}.2592000.{}.282335-{}",
            &hex[..32],
            unix_now(),
            10_000_000 + n % 90_000_000
        );
        let refresh = {
            let mut t = lock(&self.tokens);
            t.by_token.insert(token.clone(), TokenState::default());
            !t.clients.insert(client_id.to_string())
        };
        let mut s = lock(&self.stats);
        s.auth.tokens_issued += 1;
        if refresh {
            s.auth.token_refreshes += 1;
        }
        token
    }

    /// Checks an access token and counts the call against it (`expire_every`).
    pub(crate) fn check_token(&self, token: Option<&str>) -> TokenCheck {
        let Some(token) = token else {
            return TokenCheck::Unknown;
        };
        let mut t = lock(&self.tokens);
        let Some(state) = t.by_token.get_mut(token) else {
            return TokenCheck::Unknown;
        };
        if state.expired {
            return TokenCheck::Expired;
        }
        if let Some(n) = self.cfg.faults.all.expire_every {
            if state.calls >= n {
                state.expired = true;
                return TokenCheck::Expired;
            }
        }
        state.calls += 1;
        TokenCheck::Valid
    }

    /// The request's hashes, from the configured seed, the profile and the canonical request
    /// (what the model reads: system text, messages and any `seed` parameter — the same on every
    /// route, so the v1 and OpenAI protocols get the same answers).
    ///
    /// `attempt` also counts how often this same request arrived before, so a retry draws fresh
    /// faults and latency while a fresh server replays the same sequence. `content` counts
    /// samples instead: each request takes the lowest sample index not held by another one, and
    /// gives it back when its answer is not delivered whole ([`AppState::release`]: a 5xx, a TPM
    /// refusal, a torn or cut stream). So faults never change what a model says, and repeated
    /// samples still differ.
    pub(crate) fn request_keys(&self, p: &Profile, canonical: &str) -> RequestKeys {
        let base = hash64(&[
            &self.cfg.seed.to_le_bytes(),
            p.name.as_bytes(),
            canonical.as_bytes(),
        ]);
        let n = {
            let mut r = lock(&self.repeats);
            let e = r.entry(base).or_insert(0);
            *e += 1;
            *e - 1
        };
        let index = {
            let mut s = lock(&self.samples);
            let taken = s.entry(base).or_default();
            let index = (0..).find(|i| !taken.contains(i)).unwrap_or(0);
            taken.insert(index);
            index
        };
        RequestKeys {
            attempt: hash64(&[&base.to_le_bytes(), &n.to_le_bytes()]),
            content: hash64(&[&base.to_le_bytes(), b"sample", &index.to_le_bytes()]),
            slot: SampleSlot { base, index },
            arrival: n,
        }
    }

    /// Gives a sample index back: the answer that used it was not delivered whole.
    pub(crate) fn release(&self, slot: SampleSlot) {
        if let Some(taken) = lock(&self.samples).get_mut(&slot.base) {
            taken.remove(&slot.index);
        }
    }

    pub(crate) fn admit_request(&self, p: &'static Profile) -> Result<(), Refusal> {
        let set = self.faults_for(p);
        let r = lock(&self.limiters)
            .entry(p.name)
            .or_default()
            .admit_request(std::time::Instant::now(), set.rate);
        if r.is_err() {
            lock(&self.stats).model(p.name).rate_limited += 1;
        }
        r
    }

    fn admit_tokens(&self, p: &'static Profile, n: u64) -> Result<(), Refusal> {
        let set = self.faults_for(p);
        let r = lock(&self.limiters)
            .entry(p.name)
            .or_default()
            .admit_tokens(std::time::Instant::now(), set.tpm, n);
        if r.is_err() {
            lock(&self.stats).model(p.name).tpm_limited += 1;
        }
        r
    }

    pub(crate) fn rate_info(&self, p: &'static Profile) -> RateInfo {
        let set = self.faults_for(p);
        lock(&self.limiters)
            .entry(p.name)
            .or_default()
            .info(std::time::Instant::now(), &set)
    }

    pub(crate) fn count_route(&self, route: &str, ok: bool) {
        let mut s = lock(&self.stats);
        let r = s.route(route);
        if ok {
            r.ok += 1;
        } else {
            r.errors += 1;
        }
    }

    pub(crate) fn count_request(&self, route: &str) {
        lock(&self.stats).route(route).requests += 1;
    }

    pub(crate) fn scale(&self, d: Duration) -> Duration {
        d.mul_f64(self.cfg.time_scale)
    }

    /// The scripted fault for a prompt, if any (`@MARKER:…`).
    pub(crate) fn script_for(&self, prompt: &str) -> Option<&Script> {
        script::find(&self.cfg.faults.scripts, prompt)
    }

    /// Logs a request; returns its index in [`SimStats::requests`]. The log keeps the first
    /// [`REQUEST_LOG_CAP`] requests, so a long-running `evalrun sim` does not grow without bound.
    pub(crate) fn log_request(&self, seen: SeenRequest) -> usize {
        let mut s = lock(&self.stats);
        if s.requests.len() >= REQUEST_LOG_CAP {
            s.requests_not_logged += 1;
            return usize::MAX;
        }
        s.requests.push(seen);
        s.requests.len() - 1
    }
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Why the pipeline did not produce an answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    Tokens(Duration),
    Error500,
    Overload,
}

/// Faults that shape a started answer, as indices into the answer's frames.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FaultPlan {
    pub tear: bool,
    pub cut: bool,
    pub stall: Option<Duration>,
    /// A scripted tear: in the middle of the answer rather than at a drawn frame.
    pub tear_mid: bool,
    /// Scripted awkward SSE framing.
    pub awkward: bool,
    /// Scripted pacing: frame times are real time, not scaled.
    pub real_time: bool,
    /// A hash for choosing where in the body the fault lands.
    pub pos_key: u64,
}

/// A planned answer: the generation plus the faults to apply while delivering it.
pub(crate) struct Planned {
    pub gen: Generation,
    pub faults: FaultPlan,
}

/// Token limit, server faults and stream faults for one admitted, valid request. An answer that
/// will not be delivered whole gives its sample index back.
pub(crate) fn plan(st: &AppState, ask: &Ask, stream: bool) -> Result<Planned, Failure> {
    let planned = plan_faults(st, ask, stream);
    let whole = matches!(&planned, Ok(pl) if !pl.faults.tear && !pl.faults.cut);
    if let (false, Some(slot)) = (whole, ask.slot) {
        st.release(slot);
    }
    planned
}

fn plan_faults(st: &AppState, ask: &Ask, stream: bool) -> Result<Planned, Failure> {
    let p = ask.profile;
    let set = st.faults_for(p);
    let memory = Memory {
        families: st.families.as_ref(),
        degraded: Some(&st.degraded),
    };
    let gen = generate_with(ask, &set, memory);
    // The degrade fault (gate power): the judge will grade this model's answer lower.
    if let Some(d) = &set.degrade {
        st.degraded.register(&gen.text(), d);
    }
    // A judge biased toward its own family needs to know whose answer it grades.
    if let Some(f) = &st.families {
        if !super::judge::NAMES.contains(&p.name) {
            f.register(&gen.text(), set.family.as_deref().unwrap_or(DEFAULT_FAMILY));
        }
    }
    if let Err(Refusal::Tokens(w) | Refusal::Requests(w)) =
        st.admit_tokens(p, gen.prompt_tokens + gen.completion_tokens())
    {
        return Err(Failure::Tokens(w));
    }
    let key = ask.key;
    if chance(key, "fault:error500", set.error500.unwrap_or(0.0)) {
        lock(&st.stats).model(p.name).faults.error500 += 1;
        return Err(Failure::Error500);
    }
    if chance(key, "fault:overload", set.overload.unwrap_or(0.0)) {
        lock(&st.stats).model(p.name).faults.overload += 1;
        return Err(Failure::Overload);
    }
    let mut faults = FaultPlan {
        pos_key: hash64(&[&key.to_le_bytes(), b"fault:pos"]),
        ..FaultPlan::default()
    };
    if let Some(sc) = ask.script {
        faults.tear_mid = sc.tear && sc.fails(ask.arrival);
        faults.awkward = sc.awkward && stream;
        faults.real_time = sc.timing().is_some();
    }
    if faults.tear_mid || chance(key, "fault:tear", set.tear.unwrap_or(0.0)) {
        faults.tear = true;
    } else if stream && chance(key, "fault:cut", set.cut.unwrap_or(0.0)) {
        faults.cut = true;
    }
    if chance(key, "fault:stall", set.stall.unwrap_or(0.0)) {
        faults.stall = Some(Duration::from_millis(
            set.stall_ms.unwrap_or(DEFAULT_STALL_MS),
        ));
    }
    let mut s = lock(&st.stats);
    let m = s.model(p.name);
    m.answered += 1;
    if stream {
        m.streamed += 1;
    }
    m.prompt_tokens += gen.prompt_tokens;
    m.completion_tokens += gen.completion_tokens();
    m.faults.tear += u64::from(faults.tear);
    m.faults.cut += u64::from(faults.cut);
    m.faults.stall += u64::from(faults.stall.is_some());
    Ok(Planned { gen, faults })
}

impl AppState {
    /// The profile behind a v1 endpoint segment: built-in segments, then configured aliases.
    pub(crate) fn resolve_v1(&self, segment: &str) -> Option<&'static Profile> {
        super::profiles::by_v1_endpoint(segment).or_else(|| self.resolve_alias(segment))
    }

    /// The profile behind an OpenAI / v2 model id: built-in names, then configured aliases.
    pub(crate) fn resolve_model(&self, name: &str) -> Option<&'static Profile> {
        super::profiles::by_model_name(name).or_else(|| self.resolve_alias(name))
    }

    fn resolve_alias(&self, name: &str) -> Option<&'static Profile> {
        self.cfg
            .aliases
            .iter()
            .find(|(alias, _)| alias == name)
            .and_then(|(_, target)| super::profiles::by_any_name(target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_sample_is_answered_again_and_samples_differ() {
        let st = AppState::new(SimConfig::default());
        let p = super::super::profiles::by_model_name("ernie-speed").unwrap();
        let first = st.request_keys(p, "x");
        st.release(first.slot);
        let retry = st.request_keys(p, "x");
        assert_eq!(retry.content, first.content);
        assert_ne!(retry.attempt, first.attempt);
        // Held by `retry`: a concurrent request of the same conversation is the next sample.
        let second = st.request_keys(p, "x");
        assert_ne!(second.content, retry.content);
        assert_eq!(second.slot.index(), 1);
        assert_ne!(st.request_keys(p, "y").content, first.content);
    }
}
