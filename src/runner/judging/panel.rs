//! A judge panel's phase: each judge grades every answer and compares every pair exactly as a lone
//! judge would (one judge after another, each under its own limits, every call in `judgements.jsonl`
//! under its name, each judge's records spooled by unit); then each answer's and each pair's records
//! are combined ([`crate::score::judge::panel`]) as `scores.jsonl` and `pairwise.jsonl` are written.

use std::path::Path;

use anyhow::Result;

use crate::records::{PairRecord, ScoreRecord};
use crate::score::judge::panel::{combine_grades, combine_pairs};

use super::output::{JudgeOutcome, Judged, RulesOnly};
use super::spool::write_line;
use super::{judge_one, JudgeJob, JudgeModel, JudgeTally};

/// Run the judge phase with `job.judge` and then each of `others`.
pub async fn judge_panel(job: JudgeJob, others: Vec<JudgeModel>) -> Result<Judged> {
    let JudgeJob {
        rubric,
        prompts,
        items,
        answers,
        models,
        baseline,
        judge,
        global_concurrency,
        sink,
        quiet,
        recorded,
        cache,
        interrupt,
    } = job;
    let judges: Vec<JudgeModel> = judge.into_iter().chain(others).collect();
    let mut outcomes: Vec<(String, JudgeOutcome)> = Vec::new();
    for j in judges {
        let name = j.endpoint.model.name.clone();
        let o = judge_one(JudgeJob {
            rubric: rubric.clone(),
            prompts: prompts.clone(),
            items: items.clone(),
            answers: answers.clone(),
            models: models.clone(),
            baseline: baseline.clone(),
            judge: Some(j),
            global_concurrency,
            sink: sink.clone(),
            quiet,
            recorded: recorded.clone(),
            cache: cache.clone(),
            interrupt: interrupt.clone(),
        })
        .await?;
        outcomes.push((name, o));
    }
    Ok(Judged::new(rubric, items, answers, outcomes, true))
}

/// Write the panel's combined records to `scores` and `pairs` (each replaced in one step); the phase's
/// tally, `calls` completed with the unjudged answers and pairs.
pub(super) fn write(
    rules: &RulesOnly<'_>,
    mut outcomes: Vec<(String, JudgeOutcome)>,
    calls: JudgeTally,
    scores: &Path,
    pairs: &Path,
) -> Result<JudgeTally> {
    let mut tally = calls;
    if outcomes.is_empty() {
        crate::records::files::replace(scores, |_| Ok(()))?;
        crate::records::files::replace(pairs, |_| Ok(()))?;
        return Ok(tally);
    }

    // Scores: every judge has one per answer (its rules-only score where its unit did not finish).
    crate::records::files::replace(scores, |out| {
        for k in 0..rules.len() {
            let rules_only = rules.score(k);
            let mut each: Vec<(String, ScoreRecord)> = Vec::with_capacity(outcomes.len());
            for (j, o) in &mut outcomes {
                let s = o.score(k)?.unwrap_or_else(|| rules_only.clone());
                each.push((j.clone(), s));
            }
            let combined = combine_grades(rules.rubric(), rules_only, &each);
            tally.unjudged_answers += usize::from(combined.judge_error.is_some());
            write_line(out, &combined)?;
        }
        Ok(())
    })?;

    // Pairs: every judge had the same pair units, in candidate, item order; a unit with a verdict from
    // any judge gets the combined one.
    let n_pairs = outcomes[0].1.n_pairs();
    let (mut first_judged, mut written) = (0, 0);
    crate::records::files::replace(pairs, |out| {
        for p in 0..n_pairs {
            let mut each: Vec<(String, Option<PairRecord>)> = Vec::with_capacity(outcomes.len());
            for (j, o) in &mut outcomes {
                each.push((j.clone(), o.pair(p)?));
            }
            first_judged += usize::from(each[0].1.is_some());
            if each.iter().all(|(_, v)| v.is_none()) {
                continue;
            }
            if let Some(combined) = combine_pairs(&each) {
                write_line(out, &combined)?;
                written += 1;
            }
        }
        Ok(())
    })?;
    let slots = first_judged + outcomes[0].1.tally.unjudged_pairs;
    tally.unjudged_pairs = slots.saturating_sub(written);
    Ok(tally)
}
