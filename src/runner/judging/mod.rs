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
//! records are returned to the caller, which replaces `scores.jsonl` and `pairwise.jsonl` with them in
//! one step, so those files hold either the rules-only scores of the answering phase or the judged ones.
//!
//! After Ctrl-C ([`Interrupt`]) no worker takes a new unit and no unit sends another call; a call in
//! flight may finish for the grace period, then its unit is abandoned. An answer whose grade unit did
//! not finish keeps its rules-only score, an unfinished pair gets no line; every call that returned is
//! in `judgements.jsonl`, so `--resume` reuses it and asks only for the rest.
//!
//! The phase in files: this module schedules the units and gathers their records; `grade` scores one
//! answer, `pair` compares two, `ask` makes one judge call (or finds its reply already recorded);
//! `panel` runs a judge panel (`--judge a,b,c`) judge by judge and combines their records.
//!
//! Before a judge call is sent, two places may already hold its reply:
//!
//! - `judgements.jsonl` itself (`--resume`, [`JudgeJob::recorded`]): a call whose last line there got a
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

mod ask;
mod grade;
mod pair;
pub mod panel;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::inputs::rubric::Rubric;
use crate::records::{JudgementRecord, PairRecord, ResponseRecord, ScoreRecord};
use crate::score::judge::Prompts;

use super::cache::Cache;
use super::interrupt::{self, Interrupt};
use super::items::ItemFile;
use super::progress::Progress;
use super::store::RecordSink;
use super::{Endpoint, ModelRun};
use ask::{call_id, CallId};
use grade::{answered, grade};
use pair::pair;

pub use grade::rule_score;

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
    /// `responses.jsonl` as read (a repeated key: the last line wins).
    pub responses: Vec<ResponseRecord>,
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
    /// `judgements.jsonl` as read (`--resume`): calls with a reply there are not asked again.
    pub recorded: Vec<JudgementRecord>,
    /// The response cache, shared with the answers.
    pub cache: Option<Arc<Cache>>,
    /// Raised by Ctrl-C: no new call is sent, calls in flight get [`interrupt::GRACE`] to finish.
    pub interrupt: Interrupt,
}

/// What the judge phase produced.
#[derive(Debug, Default)]
pub struct JudgeOutcome {
    /// One per response, in model, item, sample order.
    pub scores: Vec<ScoreRecord>,
    /// One per (candidate, item) with a verdict in both orders, in candidate, item order.
    pub pairs: Vec<PairRecord>,
    /// Counts for the end-of-run message and the exit code.
    pub tally: JudgeTally,
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
    Grade {
        resp: usize,
        item: usize,
    },
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
    responses: Vec<ResponseRecord>,
    judge_name: String,
    samples: u32,
    run: ModelRun,
    global: Semaphore,
    sink: RecordSink,
    /// Calls with a reply in `judgements.jsonl`, by [`CallId`] (the key's last line).
    recorded: HashMap<CallId, JudgementRecord>,
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

/// Run the judge phase. Without a judge, only rules and reference metrics are applied.
pub async fn judge_all(job: JudgeJob) -> JudgeOutcome {
    let item_index: HashMap<&str, usize> =
        job.items.ids().enumerate().map(|(i, id)| (id, i)).collect();
    let model_rank = |m: &str| job.models.iter().position(|x| x == m).unwrap_or(usize::MAX);
    // The last line of a repeated key wins; then model, item, sample order.
    let mut by_key: BTreeMap<(usize, String, usize, u32), ResponseRecord> = BTreeMap::new();
    for r in job.responses {
        let Some(&i) = item_index.get(r.item_id.as_str()) else {
            continue;
        };
        by_key.insert((model_rank(&r.model), r.model.clone(), i, r.sample), r);
    }
    let keys: Vec<(usize, usize)> = by_key.keys().map(|k| (k.0, k.2)).collect();
    let responses: Vec<ResponseRecord> = by_key.into_values().collect();

    let Some(judge) = job.judge else {
        let scores = responses
            .iter()
            .zip(&keys)
            .map(|(r, (_, i))| rule_score(&job.rubric, &job.items.get(*i), r))
            .collect();
        return JudgeOutcome {
            scores,
            ..Default::default()
        };
    };

    let mut units: Vec<Unit> = (0..responses.len())
        .map(|resp| Unit::Grade {
            resp,
            item: keys[resp].1,
        })
        .collect();
    let mut skipped_pairs = 0;
    if let Some(base) = &job.baseline {
        let sample0: HashMap<(&str, usize), usize> = responses
            .iter()
            .enumerate()
            .filter(|(_, r)| r.sample == 0)
            .map(|(k, r)| ((r.model.as_str(), keys[k].1), k))
            .collect();
        for cand in job.models.iter().filter(|m| *m != base) {
            for item in 0..job.items.len() {
                let c = sample0.get(&(cand.as_str(), item)).copied();
                let b = sample0.get(&(base.as_str(), item)).copied();
                match (c, b) {
                    (Some(c), Some(b))
                        if answered(&responses[c]).is_some()
                            && answered(&responses[b]).is_some() =>
                    {
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

    let judge_name = judge.endpoint.model.name.clone();
    let mut recorded = HashMap::new();
    for r in job.recorded.into_iter().filter(|r| r.judge == judge_name) {
        recorded.insert(call_id(&r), r); // the last line of a call wins
    }
    recorded.retain(|_, r| r.error.is_none());
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
        responses,
        judge_name,
        samples: judge.samples.max(1),
        run: ModelRun::new(judge.endpoint),
        global: Semaphore::new(job.global_concurrency.max(1)),
        sink: job.sink,
        recorded,
        cache: job.cache,
        interrupt: job.interrupt,
    });
    let units = Arc::new(units);
    let next = Arc::new(AtomicUsize::new(0));
    let progress = Arc::new(Progress::new(units.len() as u64, "judge", job.quiet));
    let results: Arc<Mutex<Vec<(usize, Done)>>> = Arc::new(Mutex::new(Vec::new()));
    let tally = Arc::new(Mutex::new(JudgeTally::default()));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let (ctx, units, next, progress, results, tally) = (
            ctx.clone(),
            units.clone(),
            next.clone(),
            progress.clone(),
            results.clone(),
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
                        Unit::Grade { resp, item } => {
                            Done::Score(grade(&ctx, *resp, *item, &mut t).await?)
                        }
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
                results.lock().expect("results lock").push((idx, done));
            }
        });
    }
    while let Some(res) = set.join_next().await {
        res.expect("judge worker panicked");
    }
    progress.finish();

    let mut done = std::mem::take(&mut *results.lock().expect("results lock"));
    done.sort_by_key(|(idx, _)| *idx);
    let mut out = JudgeOutcome {
        tally: tally.lock().expect("tally lock").clone(),
        ..Default::default()
    };
    out.tally.unjudged_pairs += skipped_pairs;
    // Grade units come first, one per response: an answer whose unit was stopped keeps its
    // rules-only score.
    let mut scores: Vec<Option<ScoreRecord>> = vec![None; ctx.responses.len()];
    for (idx, d) in done {
        match d {
            Done::Score(s) => scores[idx] = Some(s),
            Done::Pair(Some(p)) => out.pairs.push(p),
            Done::Pair(None) => {}
        }
    }
    out.scores = scores
        .into_iter()
        .zip(ctx.responses.iter().zip(&keys))
        .map(|(s, (r, (_, i)))| s.unwrap_or_else(|| rule_score(&ctx.rubric, &ctx.items.get(*i), r)))
        .collect();
    out
}

/// Replace a record file with `records` in one step (write a temporary file, then rename), so a reader
/// never sees half of the new content.
pub fn replace_jsonl<T: Serialize>(path: &Path, records: &[T]) -> Result<()> {
    let tmp = path.with_extension("jsonl.tmp");
    let f = std::fs::File::create(&tmp)
        .with_context(|| format!("could not write {}", tmp.display()))?;
    let mut out = std::io::BufWriter::new(f);
    for r in records {
        serde_json::to_writer(&mut out, r)?;
        out.write_all(b"\n")
            .with_context(|| format!("could not write {}", tmp.display()))?;
    }
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("could not write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("could not replace {}", path.display()))
}
