//! A judge panel's phase: each judge grades every answer and compares every pair exactly as a lone
//! judge would ([`judge_all`], one judge after another, each under its own limits, every call in
//! `judgements.jsonl` under its name); then each answer's and each pair's records are combined
//! ([`crate::score::judge::panel`]).

use std::collections::{HashMap, HashSet};

use crate::records::{PairRecord, ResponseRecord, ScoreRecord};
use crate::score::judge::panel::{combine_grades, combine_pairs};

use super::grade::rule_score;
use super::{judge_all, JudgeJob, JudgeModel, JudgeOutcome, JudgeTally};

/// Run the judge phase with `job.judge` and then each of `others`; combine their records.
pub async fn judge_panel(job: JudgeJob, others: Vec<JudgeModel>) -> JudgeOutcome {
    let JudgeJob {
        rubric,
        prompts,
        items,
        responses,
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
        let o = judge_all(JudgeJob {
            rubric: rubric.clone(),
            prompts: prompts.clone(),
            items: items.clone(),
            responses: responses.clone(),
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
        .await;
        outcomes.push((name, o));
    }
    let Some((_, first)) = outcomes.first() else {
        return JudgeOutcome::default();
    };

    // Scores: every judge returns one record per response, in the same order.
    let by_key: HashMap<(&str, &str, u32), &ResponseRecord> = responses
        .iter()
        .map(|r| ((r.model.as_str(), r.item_id.as_str(), r.sample), r))
        .collect();
    let item_of: HashMap<&str, usize> = items.ids().enumerate().map(|(i, id)| (id, i)).collect();
    let mut scores: Vec<ScoreRecord> = Vec::with_capacity(first.scores.len());
    for (k, s) in first.scores.iter().enumerate() {
        let key = (s.model.as_str(), s.item_id.as_str(), s.sample);
        let rules_only = match (by_key.get(&key), item_of.get(s.item_id.as_str())) {
            (Some(r), Some(&i)) => rule_score(&rubric, &items.get(i), r),
            _ => s.clone(),
        };
        let each: Vec<(String, ScoreRecord)> = outcomes
            .iter()
            .filter_map(|(j, o)| Some((j.clone(), o.scores.get(k)?.clone())))
            .collect();
        scores.push(combine_grades(&rubric, rules_only, &each));
    }

    // Pairs: the union of the judges' (candidate, item) keys, in candidate, item order.
    let rank = |m: &str| models.iter().position(|x| x == m).unwrap_or(usize::MAX);
    let mut keys: Vec<(String, String, String)> = Vec::new();
    let mut seen = HashSet::new();
    for (_, o) in &outcomes {
        for p in &o.pairs {
            let key = (p.candidate.clone(), p.baseline.clone(), p.item_id.clone());
            if seen.insert(key.clone()) {
                keys.push(key);
            }
        }
    }
    keys.sort_by_key(|(c, _, i)| (rank(c), item_of.get(i.as_str()).copied(), c.clone()));
    type PairKey<'a> = (&'a str, &'a str, &'a str);
    let by_judge: Vec<(&String, HashMap<PairKey, &PairRecord>)> = outcomes
        .iter()
        .map(|(j, o)| {
            let m = o
                .pairs
                .iter()
                .map(|p| {
                    let key = (
                        p.candidate.as_str(),
                        p.baseline.as_str(),
                        p.item_id.as_str(),
                    );
                    (key, p)
                })
                .collect();
            (j, m)
        })
        .collect();
    let pairs: Vec<PairRecord> = keys
        .iter()
        .filter_map(|(c, b, i)| {
            let each: Vec<(String, Option<PairRecord>)> = by_judge
                .iter()
                .map(|(j, m)| {
                    let p = m.get(&(c.as_str(), b.as_str(), i.as_str()));
                    ((*j).clone(), p.map(|p| (*p).clone()))
                })
                .collect();
            combine_pairs(&each)
        })
        .collect();

    let slots = first.pairs.len() + first.tally.unjudged_pairs;
    let mut tally = JudgeTally::default();
    for (_, o) in &outcomes {
        let t = &o.tally;
        tally.calls += t.calls;
        tally.reused += t.reused;
        tally.cached += t.cached;
        tally.call_errors += t.call_errors;
        tally.unusable += t.unusable;
    }
    tally.unjudged_answers = scores.iter().filter(|s| s.judge_error.is_some()).count();
    tally.unjudged_pairs = slots.saturating_sub(pairs.len());
    JudgeOutcome {
        scores,
        pairs,
        tally,
    }
}
