//! One judge call: its reply from `judgements.jsonl` (`--resume`), else from the response cache, else
//! from the judge model; and the record every call leaves in `judgements.jsonl`.

use crate::inputs::evalset::{Message, Role};
use crate::provider::{Prompt, ReplySchema};
use crate::records::{ErrorInfo, JudgeTask, JudgementRecord};
use crate::runner::cache::{Cache, Use};
use crate::runner::call;
use crate::runner::store::RecordFile;

use super::{Ctx, Stopped, UnitTally};

/// Which judge call a judgement record answers: task (pair?), model, baseline, item, sample, order,
/// attempt, asked dimensions.
pub(super) type CallId = (
    bool,
    String,
    Option<String>,
    String,
    u32,
    u32,
    u32,
    Vec<String>,
);

pub(super) fn call_id(r: &JudgementRecord) -> CallId {
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

/// What [`ask`] got for one judge call.
pub(super) struct Asked {
    /// The reply text, or `None` when the call failed.
    pub(super) reply: Option<String>,
    /// The call's record; the caller adds the parse result.
    pub(super) record: JudgementRecord,
    /// Whether the record is new to `judgements.jsonl` (false: it is already there, `--resume`).
    pub(super) fresh: bool,
}

/// One call to the judge model: its reply from `judgements.jsonl` (`--resume`), else from the
/// response cache, else from the judge.
pub(super) async fn ask(
    ctx: &Ctx,
    text: String,
    schema: ReplySchema,
    mut record: JudgementRecord,
    use_: Use,
    t: &mut UnitTally,
) -> Result<Asked, Stopped> {
    let old = match ctx.recorded.is_empty() {
        true => None,
        false => ctx.recorded.get(&ctx.judge_name, &call_id(&record)),
    };
    if let Some(old) = old {
        t.reused += 1;
        return Ok(Asked {
            reply: Some(old.raw.clone().unwrap_or_default()),
            record: old,
            fresh: false,
        });
    }
    let messages = [Message {
        role: Role::User,
        content: text,
    }];
    // The schema goes out only to a judge configured for it (`structured_replies`).
    let structured = ctx.run.endpoint.model.config.structured_replies;
    let prompt = Prompt {
        system: None,
        messages: &messages,
        reply_schema: structured.then_some(&schema),
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
pub(super) fn keep(ctx: &Ctx, fresh: bool, record: &JudgementRecord) {
    if fresh {
        ctx.sink.write(RecordFile::Judgements, record);
    }
}

pub(super) fn blank_record(
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

pub(super) fn call_failure(r: &JudgementRecord) -> String {
    match &r.error {
        Some(e) => format!("judge call failed ({}): {}", e.kind, e.message),
        None => "judge call failed".to_string(),
    }
}
