//! The runner: answers every (model, item, sample) unit under the limits, with retries, and hands each
//! finished record to the store at once.
//!
//! Each model has its own pool of `concurrency` workers pulling units from a shared counter, so a slow
//! or paused model never holds another model's slots. A worker waits, in order, for the model's
//! pause (after a rate-limit answer), its `rps` bucket, its `tpm` bucket and the global `--concurrency`
//! permit; that wait is `queue_ms`. The permit is held only while the request is in flight. Memory holds
//! the plan (item ids; each item is read from disk when its unit starts, [`items`]) and counters, never
//! the answers.
//!
//! Units already recorded (`--resume`, see [`resume`]) are skipped. Units the response [`cache`] can
//! answer are recorded before any worker starts, with `cached: true`, their original latency fields,
//! `attempts` 0 and `queue_ms` 0: no request is sent and no limit or budget is charged. Every answer
//! that arrives without an error is stored in the cache. After Ctrl-C ([`interrupt`]) no worker takes a
//! new unit, and a unit still in flight when the grace period ends is abandoned unrecorded, to be
//! asked again by `--resume`.

pub mod cache;
pub mod dry_run;
pub mod interrupt;
pub mod items;
pub mod judge_phase;
pub mod judging;
pub mod limits;
pub mod lock;
pub mod merge;
pub mod pipeline;
pub mod progress;
pub mod rescore;
pub mod resume;
pub mod retry;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

use crate::inputs::config::ResolvedModel;
use crate::inputs::evalset::Item;
use crate::provider::{Attempt, Client, Failure, Prompt, RetryAdvice};
use crate::records::{ErrorInfo, ErrorKind, ResponseRecord, ScoreRecord, UnitKey};
use cache::{Cache, Use};
use interrupt::Interrupt;
use items::ItemFile;
use limits::{estimate_tokens, Budget, ModelLimits, Prices, Used, DEFAULT_MAX_OUTPUT};
use progress::Progress;
use store::{RecordFile, RecordSink};

/// Scores one answer (`None` when the request failed) into its `scores.jsonl` record.
pub type Scorer = Arc<dyn Fn(&ResponseRecord, &Item) -> ScoreRecord + Send + Sync>;

/// A model to run, with its client.
pub struct Endpoint {
    /// The model, resolved from the config.
    pub model: ResolvedModel,
    /// Its HTTP client.
    pub client: Client,
}

/// Everything the answering phase needs.
pub struct Job {
    /// The models to answer with.
    pub endpoints: Vec<Endpoint>,
    /// The evalset items to ask, read from disk one at a time.
    pub items: Arc<ItemFile>,
    /// Answer samples per item and model.
    pub samples: u32,
    /// Maximum requests in flight across all models.
    pub global_concurrency: usize,
    /// Where response and score records are written.
    pub sink: RecordSink,
    /// Scores each answer as it is recorded.
    pub scorer: Scorer,
    /// `--quiet`: no progress output.
    pub quiet: bool,
    /// Answers already recorded (`--resume`): never asked for again.
    pub recorded: BTreeSet<UnitKey>,
    /// Raised by Ctrl-C: no new unit starts, units in flight get [`interrupt::GRACE`] to finish.
    pub interrupt: Interrupt,
    /// `--max-cost`: the spending cap every model's requests share.
    pub budget: Option<Arc<Budget>>,
    /// The response cache: read (unless `--no-cache`) before any request, written after each answer.
    pub cache: Option<Arc<Cache>>,
}

/// How one model fared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Answers recorded without an error, the cached ones included.
    pub answered: usize,
    /// Answers recorded with an error.
    pub failed: usize,
    /// Answers served from the response cache (no request sent).
    pub cached: usize,
}

/// Run every unit; returns the tally per model. Records are already on their way to disk.
pub async fn answer_all(job: Job) -> BTreeMap<String, Tally> {
    let units_per_model = job.items.len() * job.samples as usize;
    let mut tallies: BTreeMap<String, Tally> = job
        .endpoints
        .iter()
        .map(|e| (e.model.name.clone(), Tally::default()))
        .collect();
    // Per model, the unit indices (item × samples + sample) still to do: neither recorded nor cached.
    let todo: Vec<Arc<Vec<usize>>> = job
        .endpoints
        .iter()
        .map(|e| {
            let name = &e.model.name;
            let tally = tallies.get_mut(name).expect("tally per model");
            let pending = (0..units_per_model).filter(|&idx| {
                let (item, sample) = (idx / job.samples as usize, sample_of(idx, job.samples));
                let recorded = !job.recorded.is_empty()
                    && job.recorded.contains(&UnitKey {
                        model: name.clone(),
                        item_id: job.items.id(item).to_string(),
                        sample,
                    });
                !recorded && !serve_cached(&job, &e.model, item, sample, tally)
            });
            Arc::new(pending.collect())
        })
        .collect();
    let lines: Vec<(String, u64, u64)> = job
        .endpoints
        .iter()
        .zip(&todo)
        .map(|(e, t)| {
            (
                e.model.name.clone(),
                units_per_model as u64,
                (units_per_model - t.len()) as u64,
            )
        })
        .collect();
    let progress = Arc::new(Progress::per_model("answers", &lines, job.quiet));
    let global = Arc::new(Semaphore::new(job.global_concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (index, (endpoint, todo)) in job.endpoints.into_iter().zip(todo).enumerate() {
        let shared = Arc::new(ModelRun::new(endpoint));
        if let Some(b) = &job.budget {
            let c = &shared.endpoint.model.config;
            shared.limits.attach_budget(
                b.clone(),
                Prices {
                    input_per_1k: c.price_input_per_1k.unwrap_or(0.0),
                    output_per_1k: c.price_output_per_1k.unwrap_or(0.0),
                },
            );
        }
        let workers = shared.endpoint.model.config.concurrency.min(todo.len());
        for _ in 0..workers {
            let shared = shared.clone();
            let ctx = WorkerCtx {
                items: job.items.clone(),
                samples: job.samples,
                todo: todo.clone(),
                index,
                global: global.clone(),
                sink: job.sink.clone(),
                scorer: job.scorer.clone(),
                progress: progress.clone(),
                interrupt: job.interrupt.clone(),
                cache: job.cache.clone(),
            };
            set.spawn(async move {
                (
                    shared.endpoint.model.name.clone(),
                    worker(shared, ctx).await,
                )
            });
        }
    }
    while let Some(res) = set.join_next().await {
        let (name, t) = res.expect("worker task panicked");
        let e = tallies.get_mut(&name).expect("tally per model");
        e.answered += t.answered;
        e.failed += t.failed;
    }
    progress.finish();
    tallies
}

/// Record a unit from the response cache when it holds the answer (and reads are on): the record
/// keeps the original latency fields, with `cached: true`, `attempts` 0 and `queue_ms` 0. Returns
/// whether it did.
fn serve_cached(
    job: &Job,
    model: &ResolvedModel,
    item: usize,
    sample: u32,
    tally: &mut Tally,
) -> bool {
    let Some(cache) = job.cache.as_ref().filter(|c| c.reads()) else {
        return false;
    };
    let item = &job.items.get(item);
    let Some(entry) = cache.get(&Cache::key(model, prompt_of(item), Use::Answer { sample })) else {
        return false;
    };
    let recorded_utc = entry.recorded_utc.clone();
    let called = Called {
        attempt: entry.into_attempt(),
        attempts: 0,
        queue_ms: 0.0,
    };
    let mut record = record(&model.name, item, sample, called);
    record.cached = true;
    record.cached_utc = recorded_utc;
    tally.answered += 1;
    tally.cached += 1;
    job.sink.write(RecordFile::Responses, &record);
    job.sink
        .write(RecordFile::Scores, &(job.scorer)(&record, item));
    true
}

/// One model's shared state while a run is in flight: its client, its limits, and the next unit to take.
pub struct ModelRun {
    /// The model and its client.
    pub endpoint: Endpoint,
    /// The model's rate and token limiters.
    pub limits: ModelLimits,
    next: AtomicUsize,
}

impl ModelRun {
    /// Shared state for `endpoint`, with limiters from its `rps` and `tpm`.
    pub fn new(endpoint: Endpoint) -> ModelRun {
        ModelRun {
            limits: ModelLimits::new(endpoint.model.config.rps, endpoint.model.config.tpm),
            endpoint,
            next: AtomicUsize::new(0),
        }
    }
}

struct WorkerCtx {
    items: Arc<ItemFile>,
    samples: u32,
    /// This model's unit indices still to do; `ModelRun::next` walks it.
    todo: Arc<Vec<usize>>,
    /// This model's line in the progress display.
    index: usize,
    global: Arc<Semaphore>,
    sink: RecordSink,
    scorer: Scorer,
    progress: Arc<Progress>,
    interrupt: Interrupt,
    cache: Option<Arc<Cache>>,
}

/// The sample index of unit index `idx` (item × samples + sample).
fn sample_of(idx: usize, samples: u32) -> u32 {
    (idx % samples as usize) as u32
}

/// What is sent for an eval item.
fn prompt_of(item: &Item) -> Prompt<'_> {
    Prompt {
        system: item.system.as_deref(),
        messages: &item.messages,
        reply_schema: None,
    }
}

async fn worker(run: Arc<ModelRun>, ctx: WorkerCtx) -> Tally {
    let mut tally = Tally::default();
    loop {
        if ctx.interrupt.is_requested() {
            return tally;
        }
        let pos = run.next.fetch_add(1, Ordering::Relaxed);
        let Some(&idx) = ctx.todo.get(pos) else {
            return tally;
        };
        let item = &ctx.items.get(idx / ctx.samples as usize);
        let sample = sample_of(idx, ctx.samples);
        let prompt = prompt_of(item);
        let called = tokio::select! {
            biased;
            called = call(&run, &ctx.global, prompt) => called,
            // Interrupted and out of grace: abandon the unit unrecorded (`--resume` redoes it).
            () = ctx.interrupt.grace_over(interrupt::GRACE) => return tally,
        };
        if called.attempts == 0 {
            return tally; // --max-cost: nothing was sent, and nothing more will be
        }
        // Kept for the cache, which stores answers that arrived without an error.
        let answer = ctx
            .cache
            .as_ref()
            .filter(|_| called.attempt.failure.is_none())
            .map(|_| called.attempt.clone());
        let record = record(&run.endpoint.model.name, item, sample, called);
        let failed = record.error.is_some();
        if failed {
            tally.failed += 1;
        } else {
            tally.answered += 1;
        }
        ctx.progress
            .model_done(ctx.index, failed, record.attempts.saturating_sub(1));
        let score = (ctx.scorer)(&record, item);
        ctx.sink.write(RecordFile::Responses, &record);
        ctx.sink.write(RecordFile::Scores, &score);
        if let (Some(cache), Some(attempt)) = (&ctx.cache, answer) {
            cache.put(
                &Cache::key(&run.endpoint.model, prompt, Use::Answer { sample }),
                &attempt,
            );
        }
    }
}

/// The outcome of `call`: the final attempt, how many attempts it took, and the queue time before it.
#[derive(Debug, Clone)]
pub struct Called {
    /// The final attempt.
    pub attempt: Attempt,
    /// How many attempts were sent.
    pub attempts: u32,
    /// Milliseconds the final attempt queued for the budget and limits.
    pub queue_ms: f64,
}

/// Send `prompt` to the model under its limits and the global cap, retrying as the failure advises
/// (backoff with full jitter, `Retry-After` honoured, a rate-limit answer slowing the whole model).
/// Answers and judge calls both come through here, so they share limits, retries and timing.
///
/// Each attempt queues anew: budget reservation, the model's pause, `rps` and `tpm` buckets, then the
/// global permit (after waiting for which the request is spaced again, so a cap releasing many
/// workers at once cannot clump them). That wait is `queue_ms`. After the attempt the `tpm` charge is
/// corrected to the reported usage and the budget to the reported cost. When the budget refuses the
/// first attempt nothing is sent and `attempts` is 0.
pub async fn call(run: &ModelRun, global: &Semaphore, prompt: Prompt<'_>) -> Called {
    let cfg = &run.endpoint.model.config;
    let texts: Vec<&str> = prompt
        .system
        .into_iter()
        .chain(prompt.messages.iter().map(|m| m.content.as_str()))
        .collect();
    let prompt_tokens = estimate_tokens(&texts, 0);
    let max_output = cfg.max_output_tokens().unwrap_or(DEFAULT_MAX_OUTPUT);
    let estimate = prompt_tokens + max_output;
    let max_attempts = cfg.retries.saturating_add(1);
    let mut attempts = 0;
    let mut last: Option<(Attempt, f64)> = None;
    loop {
        let queued = Instant::now();
        let Ok(reservation) = run.limits.reserve(prompt_tokens, max_output) else {
            let (attempt, queue_ms) = last.unwrap_or_else(|| (over_budget(), 0.0));
            return Called {
                attempt,
                attempts,
                queue_ms,
            };
        };
        run.limits.ready(estimate).await;
        let permit = match global.try_acquire() {
            Ok(p) => p,
            Err(_) => {
                let p = global.acquire().await.expect("semaphore never closed");
                run.limits.respace().await;
                p
            }
        };
        let queue_ms = queued.elapsed().as_secs_f64() * 1000.0;
        attempts += 1;
        let sent = Instant::now();
        let mut attempt = run.endpoint.client.attempt(prompt).await;
        drop(permit);
        let used = tokens_used(&attempt, prompt_tokens, max_output);
        run.limits.settle(
            (prompt_tokens, max_output),
            used,
            reservation,
            attempt.rate.as_ref(),
        );
        estimate_missing_usage(&mut attempt, prompt_tokens);
        let Some(failure) = &attempt.failure else {
            return Called {
                attempt,
                attempts,
                queue_ms,
            };
        };
        if failure.is_rate_limit() && failure.advice != RetryAdvice::Never {
            run.limits.slow_down(sent, failure.retry_after);
        }
        let wait = match failure.advice {
            RetryAdvice::Never => None,
            _ if attempts >= max_attempts => None,
            // The client already refreshed the token once; the next attempt asks again at once.
            RetryAdvice::Reauth => Some(std::time::Duration::ZERO),
            RetryAdvice::Backoff => Some(retry::backoff(attempts, failure.retry_after)),
        };
        let Some(wait) = wait else {
            return Called {
                attempt,
                attempts,
                queue_ms,
            };
        };
        last = Some((attempt, queue_ms));
        tokio::time::sleep(wait).await;
    }
}

/// What an attempt used, for the `tpm` correction and the spend: the reported usage; else, for an
/// answer, the prompt estimate and its text's estimate; nothing for a request the server refused
/// before working on it (rate limit, auth, bad request); and the full estimate for any other failure
/// (the server may have generated the answer that broke off).
fn tokens_used(a: &Attempt, prompt_estimate: u64, max_output: u64) -> Used {
    if let (Some(prompt), Some(completion)) = (a.usage.prompt_tokens, a.usage.completion_tokens) {
        return Used { prompt, completion };
    }
    let prompt = a.usage.prompt_tokens.unwrap_or(prompt_estimate);
    match &a.failure {
        None => Used {
            prompt,
            completion: a
                .usage
                .completion_tokens
                .unwrap_or_else(|| estimate_tokens(&[&a.output], 0)),
        },
        Some(f)
            if matches!(
                f.kind,
                ErrorKind::RateLimited | ErrorKind::Auth | ErrorKind::BadRequest
            ) =>
        {
            Used {
                prompt: 0,
                completion: 0,
            }
        }
        Some(_) => Used {
            prompt,
            completion: max_output,
        },
    }
}

/// Token counts the server did not report, for an attempt that produced text: the same estimate the
/// limits use, marked as estimated (never shown as 0).
fn estimate_missing_usage(a: &mut Attempt, prompt_estimate: u64) {
    let u = &mut a.usage;
    if (u.prompt_tokens.is_some() && u.completion_tokens.is_some())
        || (a.failure.is_some() && a.output.is_empty())
    {
        return;
    }
    u.prompt_tokens.get_or_insert(prompt_estimate);
    u.completion_tokens
        .get_or_insert_with(|| estimate_tokens(&[&a.output], 0));
    a.tokens_estimated = true;
}

/// The attempt `call` reports when `--max-cost` stopped it before anything was sent.
fn over_budget() -> Attempt {
    let mut f = Failure::new(
        ErrorKind::BadRequest,
        RetryAdvice::Never,
        "not sent: --max-cost would be passed",
    );
    f.code = Some("max_cost".into());
    Attempt {
        failure: Some(f),
        ..Attempt::default()
    }
}

fn record(model: &str, item: &Item, sample: u32, called: Called) -> ResponseRecord {
    let Called {
        attempt: a,
        attempts,
        queue_ms,
    } = called;
    let error = a.failure.map(|f| ErrorInfo {
        kind: f.kind,
        // A request refused for its content names the item's line in the eval set.
        message: match f.code.as_deref() {
            Some(crate::provider::NOT_SENT) => {
                format!("eval set line {}: {}", item.line, f.message)
            }
            _ => f.message,
        },
        status: f.status,
        code: f.code,
    });
    let output = if a.output.is_empty() && error.is_some() {
        None
    } else {
        Some(a.output)
    };
    ResponseRecord {
        model: model.to_string(),
        item_id: item.id.clone(),
        sample,
        output,
        ttft_ms: a.ttft_ms.map(round_ms),
        total_ms: a.total_ms.map(round_ms),
        queue_ms: Some(round_ms(queue_ms)),
        prompt_tokens: a.usage.prompt_tokens,
        completion_tokens: a.usage.completion_tokens,
        finish_reason: a.finish_reason,
        attempts,
        error,
        cached: false,
        tokens_estimated: a.tokens_estimated,
        invalid_utf8: a.invalid_utf8,
        cached_utc: None,
    }
}

/// Milliseconds to 0.001 ms: finer than any clock we read, and keeps the records readable.
fn round_ms(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}
