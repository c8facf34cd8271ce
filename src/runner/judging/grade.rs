//! Grading one answer: the rules' score, then the judge's grades for every judged dimension (every judge
//! sample of every call, an unusable reply asked again up to `MAX_ATTEMPTS` times), aggregated.

use std::collections::BTreeMap;

use crate::inputs::evalset::Item;
use crate::inputs::rubric::{Dimension, Rubric};
use crate::records::{JudgeTask, ResponseRecord, ScoreRecord};
use crate::runner::cache::Use;
use crate::score::judge::parse::{self, DimReply};
use crate::score::judge::{self, prompt, schema, DimSamples, MAX_ATTEMPTS};
use crate::score::{reference, score_answer};

use super::answers::answered;
use super::ask::{ask, blank_record, call_failure, keep, Asked};
use super::{Ctx, Stopped, UnitTally};

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
        panel: None,
    }
}

/// Grade answer `k`: rules first, then every judge sample of every call, retrying unusable replies.
pub(super) async fn grade(ctx: &Ctx, k: usize, t: &mut UnitTally) -> Result<ScoreRecord, Stopped> {
    let resp = &ctx.answers.get(k);
    let item = &ctx.items.get(ctx.answers.item(k));
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
                } = ask(
                    ctx,
                    rendered.text,
                    schema::grade_schema(dims),
                    record,
                    use_,
                    t,
                )
                .await?;
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
