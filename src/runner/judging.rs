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

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::inputs::evalset::{Item, Message, Role};
use crate::inputs::rubric::{Dimension, Rubric};
use crate::provider::Prompt;
use crate::records::{
    ErrorInfo, JudgeTask, JudgementRecord, PairRecord, PairVerdict, ResponseRecord, ScoreRecord,
};
use crate::score::judge::parse::{self, DimReply, Winner};
use crate::score::judge::{self, prompt, DimSamples, Prompts, MAX_ATTEMPTS};
use crate::score::{reference, score_answer};

use super::cache::{Cache, Use};
use super::interrupt::{self, Interrupt};
use super::progress::Progress;
use super::store::{RecordFile, RecordSink};
use super::{call, Endpoint, ModelRun};

/// The judge model and how many samples it gives per answer.
pub struct JudgeModel {
    pub endpoint: Endpoint,
    /// `--judge-samples`: judge calls per graded answer (aggregated by median).
    pub samples: u32,
}

/// Everything the judge phase needs.
pub struct JudgeJob {
    pub rubric: Arc<Rubric>,
    pub prompts: Arc<Prompts>,
    /// The run's items, in run order.
    pub items: Arc<Vec<Item>>,
    /// `responses.jsonl` as read (a repeated key: the last line wins).
    pub responses: Vec<ResponseRecord>,
    /// Models in report order; the order of the returned records.
    pub models: Vec<String>,
    /// The GSB reference; no pairs without one.
    pub baseline: Option<String>,
    /// `None`: rules and reference metrics only.
    pub judge: Option<JudgeModel>,
    pub global_concurrency: usize,
    /// Where judgements go.
    pub sink: RecordSink,
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

/// The score record of one response before the judge: rules, rule caps, reference metrics.
pub fn rule_score(rubric: &Rubric, item: &Item, resp: &ResponseRecord) -> ScoreRecord {
    let output = answered(resp);
    let (rules, dimensions) = score_answer(rubric, item, output);
    let reference_metrics = match (output, item.reference.as_deref()) {
        (Some(out), Some(r)) => reference::metrics(out, r),
        _ => None,
    };
    ScoreRecord {
        model: resp.model.clone(),
        item_id: resp.item_id.clone(),
        sample: resp.sample,
        rules,
        dimensions,
        reference_metrics,
        judge_error: None,
        judge_samples: None,
    }
}

/// The answer text of a successful response.
fn answered(resp: &ResponseRecord) -> Option<&str> {
    if resp.error.is_none() {
        resp.output.as_deref()
    } else {
        None
    }
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
    items: Arc<Vec<Item>>,
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

/// Which judge call a judgement record answers: task (pair?), model, baseline, item, sample, order,
/// attempt, asked dimensions.
type CallId = (
    bool,
    String,
    Option<String>,
    String,
    u32,
    u32,
    u32,
    Vec<String>,
);

fn call_id(r: &JudgementRecord) -> CallId {
    (
        r.task == JudgeTask::Pair,
        r.model.clone(),
        r.baseline.clone(),
        r.item_id.clone(),
        r.sample,
        r.order,
        r.attempt,
        r.dimensions.clone(),
    )
}

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
    let item_index: HashMap<&str, usize> = job
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.id.as_str(), i))
        .collect();
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
            .map(|(r, (_, i))| rule_score(&job.rubric, &job.items[*i], r))
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
        .map(|(s, (r, (_, i)))| s.unwrap_or_else(|| rule_score(&ctx.rubric, &ctx.items[*i], r)))
        .collect();
    out
}

/// What [`ask`] got for one judge call.
struct Asked {
    /// The reply text, or `None` when the call failed.
    reply: Option<String>,
    /// The call's record; the caller adds the parse result.
    record: JudgementRecord,
    /// Whether the record is new to `judgements.jsonl` (false: it is already there, `--resume`).
    fresh: bool,
}

/// One call to the judge model: its reply from `judgements.jsonl` (`--resume`), else from the
/// response cache, else from the judge.
async fn ask(
    ctx: &Ctx,
    text: String,
    mut record: JudgementRecord,
    use_: Use,
    t: &mut UnitTally,
) -> Result<Asked, Stopped> {
    if let Some(old) = ctx.recorded.get(&call_id(&record)) {
        t.reused += 1;
        return Ok(Asked {
            reply: Some(old.raw.clone().unwrap_or_default()),
            record: old.clone(),
            fresh: false,
        });
    }
    let messages = [Message {
        role: Role::User,
        content: text,
    }];
    let prompt = Prompt {
        system: None,
        messages: &messages,
    };
    let key = ctx
        .cache
        .as_ref()
        .map(|_| Cache::key(&ctx.run.endpoint.model, prompt, use_));
    let hit = match (&ctx.cache, &key) {
        (Some(cache), Some(key)) => cache.get(key),
        _ => None,
    };
    let a = match hit {
        Some(entry) => {
            t.cached += 1;
            record.cached = true;
            entry.into_attempt()
        }
        None => {
            if ctx.interrupt.is_requested() {
                return Err(Stopped);
            }
            let called = call(&ctx.run, &ctx.global, prompt).await;
            t.calls += 1;
            t.retries +=
                called.attempts.saturating_sub(1) as usize + usize::from(record.attempt > 1);
            let a = called.attempt;
            if let (Some(cache), Some(key)) = (&ctx.cache, &key) {
                cache.put(key, &a);
            }
            a
        }
    };
    record.raw = (!a.output.is_empty()).then(|| a.output.clone());
    record.prompt_tokens = a.usage.prompt_tokens;
    record.completion_tokens = a.usage.completion_tokens;
    record.tokens_estimated = a.tokens_estimated;
    record.total_ms = a.total_ms.map(|ms| (ms * 1000.0).round() / 1000.0);
    Ok(match a.failure {
        Some(f) => {
            t.call_errors += 1;
            record.error = Some(ErrorInfo {
                kind: f.kind,
                message: f.message,
                status: f.status,
                code: f.code,
            });
            Asked {
                reply: None,
                record,
                fresh: true,
            }
        }
        None => Asked {
            reply: Some(a.output),
            record,
            fresh: true,
        },
    })
}

/// Append a judge call's record, unless `judgements.jsonl` already holds it.
fn keep(ctx: &Ctx, fresh: bool, record: &JudgementRecord) {
    if fresh {
        ctx.sink.write(RecordFile::Judgements, record);
    }
}

fn blank_record(
    ctx: &Ctx,
    task: JudgeTask,
    item: &str,
    model: &str,
    sample: u32,
) -> JudgementRecord {
    JudgementRecord {
        judge: ctx.judge_name.clone(),
        task,
        item_id: item.to_string(),
        model: model.to_string(),
        baseline: None,
        sample,
        order: 1,
        attempt: 1,
        dimensions: Vec::new(),
        raw: None,
        parsed: None,
        parse_error: None,
        prompt_tokens: None,
        completion_tokens: None,
        total_ms: None,
        error: None,
        cached: false,
        tokens_estimated: false,
    }
}

fn call_failure(r: &JudgementRecord) -> String {
    match &r.error {
        Some(e) => format!("judge call failed ({}): {}", e.kind, e.message),
        None => "judge call failed".to_string(),
    }
}

/// Grade one answer: rules first, then every judge sample of every call, retrying unusable replies.
async fn grade(
    ctx: &Ctx,
    resp_idx: usize,
    item_idx: usize,
    t: &mut UnitTally,
) -> Result<ScoreRecord, Stopped> {
    let resp = &ctx.responses[resp_idx];
    let item = &ctx.items[item_idx];
    let mut rec = rule_score(&ctx.rubric, item, resp);
    let Some(output) = answered(resp) else {
        return Ok(rec);
    };
    let calls = judge::grade_calls(&ctx.rubric, &rec.dimensions);
    if calls.is_empty() {
        return Ok(rec);
    }
    let asked: Vec<String> = calls.iter().flatten().map(|d| d.id.clone()).collect();
    let mut samples: BTreeMap<String, DimSamples> = BTreeMap::new();
    let mut failure: Option<String> = None;
    for s in 1..=ctx.samples {
        for (ci, dims) in calls.iter().enumerate() {
            let mut got: BTreeMap<String, DimReply> = BTreeMap::new();
            for attempt in 1..=MAX_ATTEMPTS {
                let seed = format!(
                    "grade\u{0}{}\u{0}{}\u{0}{}\u{0}{s}\u{0}{ci}\u{0}{attempt}",
                    resp.model, resp.item_id, resp.sample
                );
                let rendered = prompt::render_grade(&ctx.prompts.grade, item, dims, output, &seed);
                let mut record = blank_record(
                    ctx,
                    JudgeTask::Grade,
                    &resp.item_id,
                    &resp.model,
                    resp.sample,
                );
                record.order = s;
                record.attempt = attempt;
                record.dimensions = dims.iter().map(|d| d.id.clone()).collect();
                let use_ = Use::Grade {
                    sample: s,
                    call: ci,
                    attempt,
                };
                let Asked {
                    reply,
                    mut record,
                    fresh,
                } = ask(ctx, rendered.text, record, use_, t).await?;
                let Some(reply) = reply else {
                    failure = Some(call_failure(&record));
                    keep(ctx, fresh, &record);
                    break;
                };
                let wanted: Vec<&Dimension> = dims
                    .iter()
                    .copied()
                    .filter(|d| !got.contains_key(&d.id))
                    .collect();
                let parsed = parse::parse_grade(&reply, dims);
                record.parsed = parsed.parsed_json();
                record.parse_error = parsed.parse_error();
                keep(ctx, fresh, &record);
                if let Some(e) = &record.parse_error {
                    t.unusable += 1;
                    failure = Some(e.clone());
                }
                for (id, d) in parsed.dims {
                    if wanted.iter().any(|w| w.id == id) {
                        got.entry(id).or_insert(d);
                    }
                }
                if dims.iter().all(|d| got.contains_key(&d.id)) {
                    break;
                }
            }
            for (id, d) in got {
                let e = samples.entry(id).or_default();
                match d {
                    DimReply::Score {
                        score,
                        justification,
                    } => e.scores.push((score, justification)),
                    DimReply::NotApplicable { justification } => {
                        e.not_applicable += 1;
                        if e.not_applicable_reason.is_none() {
                            e.not_applicable_reason = justification;
                        }
                    }
                }
            }
        }
    }
    let g = judge::finish_grade(
        &ctx.rubric,
        &rec.dimensions,
        &samples,
        &asked,
        failure.as_deref(),
    );
    rec.dimensions = g.dimensions;
    rec.judge_samples = Some(g.judge_samples);
    rec.judge_error = g.judge_error;
    Ok(rec)
}

/// The verdict of one presentation order, from the candidate's side.
fn verdict(order: u32, w: Winner) -> PairVerdict {
    match (order, w) {
        (_, Winner::Tie) => PairVerdict::S,
        (1, Winner::A) | (2, Winner::B) => PairVerdict::G,
        _ => PairVerdict::B,
    }
}

/// Compare a candidate's answer with the baseline's in both orders (blind labels A and B).
async fn pair(
    ctx: &Ctx,
    item_idx: usize,
    cand_idx: usize,
    base_idx: usize,
    t: &mut UnitTally,
) -> Result<Option<PairRecord>, Stopped> {
    let item = &ctx.items[item_idx];
    let (cand, base) = (&ctx.responses[cand_idx], &ctx.responses[base_idx]);
    let (Some(c_out), Some(b_out)) = (answered(cand), answered(base)) else {
        return Ok(None);
    };
    let dims: Vec<&Dimension> = ctx.rubric.dimensions.iter().collect();
    let mut verdicts = [None, None];
    for order in [1u32, 2] {
        let (a, b) = if order == 1 {
            (c_out, b_out)
        } else {
            (b_out, c_out)
        };
        for attempt in 1..=MAX_ATTEMPTS {
            let seed = format!(
                "pair\u{0}{}\u{0}{}\u{0}{}\u{0}{order}\u{0}{attempt}",
                cand.model, base.model, item.id
            );
            let rendered = prompt::render_pair(&ctx.prompts.pair, item, &dims, a, b, &seed);
            let mut record = blank_record(ctx, JudgeTask::Pair, &item.id, &cand.model, 0);
            record.baseline = Some(base.model.clone());
            record.order = order;
            record.attempt = attempt;
            let Asked {
                reply,
                mut record,
                fresh,
            } = ask(ctx, rendered.text, record, Use::Pair { order, attempt }, t).await?;
            let Some(reply) = reply else {
                keep(ctx, fresh, &record);
                break;
            };
            match parse::parse_pair(&reply) {
                Ok((w, justification)) => {
                    let v = verdict(order, w);
                    record.parsed = Some(serde_json::json!({
                        "winner": w.as_str(),
                        "justification": justification,
                        "verdict": v,
                    }));
                    keep(ctx, fresh, &record);
                    verdicts[order as usize - 1] = Some(v);
                    break;
                }
                Err(e) => {
                    t.unusable += 1;
                    record.parse_error = Some(e);
                    keep(ctx, fresh, &record);
                }
            }
        }
    }
    let [Some(first), Some(second)] = verdicts else {
        return Ok(None);
    };
    Ok(Some(PairRecord {
        item_id: item.id.clone(),
        candidate: cand.model.clone(),
        baseline: base.model.clone(),
        verdict: PairVerdict::combine(first, second),
        first_order: Some(first),
        second_order: Some(second),
    }))
}

/// Replace a record file with `records` in one step (write a temporary file, then rename), so a reader
/// never sees half of the new content.
pub fn replace_jsonl<T: Serialize>(path: &Path, records: &[T]) -> Result<()> {
    let tmp = path.with_extension("jsonl.tmp");
    let mut f = std::fs::File::create(&tmp)
        .with_context(|| format!("could not write {}", tmp.display()))?;
    let mut buf = Vec::new();
    for r in records {
        serde_json::to_writer(&mut buf, r)?;
        buf.push(b'\n');
    }
    f.write_all(&buf)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("could not write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("could not replace {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_are_from_the_candidates_side() {
        // Order 1 shows the candidate as A; order 2 shows the baseline as A.
        assert_eq!(verdict(1, Winner::A), PairVerdict::G);
        assert_eq!(verdict(1, Winner::B), PairVerdict::B);
        assert_eq!(verdict(2, Winner::A), PairVerdict::B);
        assert_eq!(verdict(2, Winner::B), PairVerdict::G);
        assert_eq!(verdict(2, Winner::Tie), PairVerdict::S);
    }
}
