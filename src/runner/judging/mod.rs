//! The judge phase: after the answers are in, every answer is scored again from its response record —
//! rules, reference metrics, and the judge's grades — and every candidate is compared with the
//! baseline item by item (GSB) in both presentation orders. `evalrun run` runs it after the answering
//! phase; `evalrun rescore` runs it on a finished run directory without asking the models again.
//!
//! Judge calls go through [`super::call`] with the judge model's own [`ModelRun`], so they obey its
//! `rps`, `tpm`, `concurrency` and `retries` and the global `--concurrency` cap, like answers. Each
//! grade unit (one answer: every judge sample, every call, its bounded retries) and each pair unit (one
//! candidate, one item, both orders) is taken by one of the judge model's `concurrency` workers. Every
//! call is appended to `judgements.jsonl` the moment it returns, parsed or not; the score and pair
//! records are returned to the caller ([`Judged`]), which replaces `scores.jsonl` and `pairwise.jsonl`
//! with them in one step each, so those files hold either the rules-only scores of the answering phase
//! or the judged ones.
//!
//! After Ctrl-C ([`Interrupt`]) no worker takes a new unit and no unit sends another call; a call in
//! flight may finish for the grace period, then its unit is abandoned. An answer whose grade unit did
//! not finish keeps its rules-only score, an unfinished pair gets no line; every call that returned is
//! in `judgements.jsonl`, so `--resume` reuses it and asks only for the rest.
//!
//! The phase in files: this module schedules the units; `answers` indexes the recorded answers and reads
//! each back by position when its unit starts; `grade` scores one answer, `pair` compares two, `ask`
//! makes one judge call (or finds its reply already recorded, `recorded`); `spool` keeps each unit's
//! record in a temporary file as it finishes; `output` writes `scores.jsonl` and `pairwise.jsonl` from
//! there in unit order; `panel` runs a judge panel (`--judge a,b,c`) judge by judge and combines their
//! records as it writes them. Memory holds a few dozen bytes per answer and per unit, never the
//! answers or the records.
//!
//! Before a judge call is sent, two places may already hold its reply:
//!
//! - `judgements.jsonl` itself (`--resume`, [`Recorded`]): a call whose last line there got a
//!   reply (`error` null) is not sent again and not written again; its recorded reply is parsed and used
//!   as if it had just arrived. That includes an unparseable reply, because the bounded retries that
//!   followed it are recorded too (`attempt` 2, 3) and replaying the sequence rebuilds exactly the score
//!   the interrupted phase was building. A call that failed in transport, or that is missing, is asked.
//!   A call is identified by its task, model (and baseline), item, sample, order (the judge sample of a
//!   grade), attempt and asked dimensions.
//! - the response cache ([`Cache`]), keyed by the judge's prompt and [`Use`] (judge sample, call,
//!   attempt): a hit is written to `judgements.jsonl` with `cached: true` and sends nothing. Replies that
//!   arrive are stored in it.
//!
//! Pairs compare sample 0 of each model; a pair whose answers are missing, or for which an order got no
//! usable verdict, gets no `pairwise.jsonl` line (a verdict is never made up) and is counted instead.

mod answers;
mod ask;
mod grade;
mod output;
mod pair;
pub mod panel;
mod recorded;
mod spool;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use tokio::sync::Semaphore;

use crate::inputs::rubric::Rubric;
use crate::records::{PairRecord, ScoreRecord};
use crate::score::judge::Prompts;

use super::cache::Cache;
use super::interrupt::{self, Interrupt};
use super::items::ItemFile;
use super::progress::Progress;
use super::store::RecordSink;
use super::{Endpoint, ModelRun};
use grade::grade;
use pair::pair;
use spool::Spool;

pub use answers::Answers;
pub use grade::rule_score;
pub use output::{JudgeOutcome, Judged};
pub use recorded::Recorded;

/// The judge model and how many samples it gives per answer.
pub struct JudgeModel {
    /// The judge model and its client.
    pub endpoint: Endpoint,
    /// `--judge-samples`: judge calls per graded answer (aggregated by median).
    pub samples: u32,
}

/// Everything the judge phase needs.
pub struct JudgeJob {
    /// The validated rubric.
    pub rubric: Arc<Rubric>,
    /// The judge's prompt templates.
    pub prompts: Arc<Prompts>,
    /// The run's items, in run order.
    pub items: Arc<ItemFile>,
    /// `responses.jsonl`'s answers (a repeated key: the last line wins), in the order of the records.
    pub answers: Arc<Answers>,
    /// Models in report order; the order of the returned records.
    pub models: Vec<String>,
    /// The GSB reference; no pairs without one.
    pub baseline: Option<String>,
    /// `None`: rules and reference metrics only.
    pub judge: Option<JudgeModel>,
    /// Maximum judge requests in flight.
    pub global_concurrency: usize,
    /// Where judgements go.
    pub sink: RecordSink,
    /// `--quiet`: no progress output.
    pub quiet: bool,
    /// `judgements.jsonl` as it was (`--resume`): calls with a reply there are not asked again.
    pub recorded: Arc<Recorded>,
    /// The response cache, shared with the answers.
    pub cache: Option<Arc<Cache>>,
    /// Raised by Ctrl-C: no new call is sent, calls in flight get [`interrupt::GRACE`] to finish.
    pub interrupt: Interrupt,
}

/// Counts for the end-of-run message and the exit code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JudgeTally {
    /// Calls sent to the judge in this session.
    pub calls: usize,
    /// Replies taken from `judgements.jsonl` (`--resume`): not asked, not written again.
    pub reused: usize,
    /// Replies served by the response cache: not asked, written with `cached: true`.
    pub cached: usize,
    /// Calls that failed after the judge model's own transport retries.
    pub call_errors: usize,
    /// Replies that arrived but did not give every requested score or a verdict.
    pub unusable: usize,
    /// Answers with a `judge_error`.
    pub unjudged_answers: usize,
    /// Pairs without a verdict in both orders (judge failures, or a missing answer).
    pub unjudged_pairs: usize,
}

enum Unit {
    /// Grade answer `k` (slot `k`).
    Grade(usize),
    Pair {
        item: usize,
        candidate: usize,
        baseline: usize,
    },
}

struct Ctx {
    rubric: Arc<Rubric>,
    prompts: Arc<Prompts>,
    items: Arc<ItemFile>,
    answers: Arc<Answers>,
    judge_name: String,
    samples: u32,
    run: ModelRun,
    global: Semaphore,
    sink: RecordSink,
    /// Calls with a reply in `judgements.jsonl`.
    recorded: Arc<Recorded>,
    cache: Option<Arc<Cache>>,
    interrupt: Interrupt,
}

/// A unit stopped by Ctrl-C before its next judge call: it yields no record.
struct Stopped;

enum Done {
    Score(ScoreRecord),
    Pair(Option<PairRecord>),
}

#[derive(Default)]
struct UnitTally {
    calls: usize,
    /// Re-asks: transport retries inside `call`, and asking again after an unusable reply. A pair's
    /// second presentation order and extra judge samples are planned calls, not retries.
    retries: usize,
    reused: usize,
    cached: usize,
    call_errors: usize,
    unusable: usize,
}

/// Run the judge phase with one judge. Without a judge, only rules and reference metrics are applied.
pub async fn judge_all(job: JudgeJob) -> Result<Judged> {
    let (rubric, items, answers) = (job.rubric.clone(), job.items.clone(), job.answers.clone());
    let judge = job.judge.as_ref().map(|j| j.endpoint.model.name.clone());
    let outcome = judge_one(job).await?;
    Ok(Judged::new(
        rubric,
        items,
        answers,
        vec![(judge.unwrap_or_default(), outcome)],
        false,
    ))
}

/// The units of the phase: one grade unit per answer (slot `k` for answer `k`), then one pair unit per
/// (candidate, item) whose two answers are answers; and how many pairs have no unit because an answer
/// is missing or failed.
fn units(job: &JudgeJob) -> (Vec<Unit>, usize) {
    let answers = &job.answers;
    let mut units: Vec<Unit> = (0..answers.len()).map(Unit::Grade).collect();
    let mut skipped_pairs = 0;
    if let Some(base) = &job.baseline {
        for cand in job.models.iter().filter(|m| *m != base) {
            for item in 0..job.items.len() {
                let c = answers.find(cand, item, 0);
                let b = answers.find(base, item, 0);
                match (c, b) {
                    (Some(c), Some(b)) if answers.answered(c) && answers.answered(b) => {
                        units.push(Unit::Pair {
                            item,
                            candidate: c,
                            baseline: b,
                        })
                    }
                    (None, None) => {}
                    _ => skipped_pairs += 1,
                }
            }
        }
    }
    (units, skipped_pairs)
}

/// Run the judge phase with `job.judge`, each unit's record spooled as it finishes.
async fn judge_one(job: JudgeJob) -> Result<JudgeOutcome> {
    if job.judge.is_none() {
        return Ok(JudgeOutcome::rules_only());
    }
    let (units, skipped_pairs) = units(&job);
    let judge = job.judge.expect("a judge");
    let n_answers = job.answers.len();
    let workers = judge
        .endpoint
        .model
        .config
        .concurrency
        .min(units.len())
        .max(1);
    let ctx = Arc::new(Ctx {
        rubric: job.rubric,
        prompts: job.prompts,
        items: job.items,
        answers: job.answers,
        judge_name: judge.endpoint.model.name.clone(),
        samples: judge.samples.max(1),
        run: ModelRun::new(judge.endpoint),
        global: Semaphore::new(job.global_concurrency.max(1)),
        sink: job.sink,
        recorded: job.recorded,
        cache: job.cache,
        interrupt: job.interrupt,
    });
    let spool = Arc::new(Spool::new(units.len())?);
    let units = Arc::new(units);
    let next = Arc::new(AtomicUsize::new(0));
    let progress = Arc::new(Progress::new(units.len() as u64, "judge", job.quiet));
    let tally = Arc::new(Mutex::new(JudgeTally::default()));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let (ctx, units, next, progress, spool, tally) = (
            ctx.clone(),
            units.clone(),
            next.clone(),
            progress.clone(),
            spool.clone(),
            tally.clone(),
        );
        set.spawn(async move {
            loop {
                if ctx.interrupt.is_requested() {
                    return;
                }
                let idx = next.fetch_add(1, Ordering::Relaxed);
                let Some(unit) = units.get(idx) else { return };
                let mut t = UnitTally::default();
                let work = async {
                    Ok(match unit {
                        Unit::Grade(k) => Done::Score(grade(&ctx, *k, &mut t).await?),
                        Unit::Pair {
                            item,
                            candidate,
                            baseline,
                        } => Done::Pair(pair(&ctx, *item, *candidate, *baseline, &mut t).await?),
                    })
                };
                let done: Result<Done, Stopped> = tokio::select! {
                    biased;
                    done = work => done,
                    // Interrupted and out of grace: abandon the unit (`--resume` redoes it).
                    () = ctx.interrupt.grace_over(interrupt::GRACE) => return,
                };
                let Ok(done) = done else { return };
                let failed = match &done {
                    Done::Score(s) => s.judge_error.is_some(),
                    Done::Pair(p) => p.is_none(),
                };
                progress.unit_done(failed, t.retries as u32);
                {
                    let mut tl = tally.lock().expect("tally lock");
                    tl.calls += t.calls;
                    tl.reused += t.reused;
                    tl.cached += t.cached;
                    tl.call_errors += t.call_errors;
                    tl.unusable += t.unusable;
                    match &done {
                        Done::Score(s) if s.judge_error.is_some() => tl.unjudged_answers += 1,
                        Done::Pair(None) => tl.unjudged_pairs += 1,
                        _ => {}
                    }
                }
                match &done {
                    Done::Score(s) => spool.put(idx, s),
                    Done::Pair(Some(p)) => spool.put(idx, p),
                    Done::Pair(None) => {}
                }
            }
        });
    }
    while let Some(res) = set.join_next().await {
        res.expect("judge worker panicked");
    }
    progress.finish();
    let mut tally = tally.lock().expect("tally lock").clone();
    tally.unjudged_pairs += skipped_pairs;
    let spool = Arc::into_inner(spool).expect("the workers are done");
    Ok(JudgeOutcome::judged(spool.finish()?, n_answers, tally))
}
