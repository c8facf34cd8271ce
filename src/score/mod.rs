//! Scoring: rule checks on each answer, and the dimension scores they decide or bound.
//!
//! Rules run on every answer as it arrives (pure functions, `rules`). Caps turn failed rules into an
//! upper bound per dimension (`rule_cap`). A dimension the judge does not grade is decided by the
//! rules alone; a judged dimension is decided by the rules only when they pin it to the scale's minimum,
//! otherwise it waits for the judge, whose score `combine_with_judge` bounds by the cap.

pub mod checks;
pub mod json;
pub mod judge;
pub mod length;
pub mod reference;
pub mod rules;
pub mod text;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crate::inputs::evalset::Item;
use crate::inputs::rubric::{Dimension, Rubric, Rule};
use crate::records::{DimensionScore, RuleOutcome, ScoreSource};

use self::json::Extracted;

/// Run the rubric's rules on one answer and derive what they say about each dimension.
///
/// `output` is `None` when the request failed: no rules run and every dimension is unscored. Rules whose
/// category or template filter excludes the item are left out of the map, as is a `length_range` rule
/// when neither the rule, the item's `meta.length` nor the prompt names a length.
pub fn score_answer(
    rubric: &Rubric,
    item: &Item,
    output: Option<&str>,
) -> (
    BTreeMap<String, RuleOutcome>,
    BTreeMap<String, DimensionScore>,
) {
    let Some(output) = output else {
        let dims = rubric
            .dimensions
            .iter()
            .map(|d| (d.id.clone(), no_answer(rubric, d)))
            .collect();
        return (BTreeMap::new(), dims);
    };
    let extracted = json::extract_object(output);
    let outcomes: BTreeMap<String, RuleOutcome> = rubric
        .rules
        .iter()
        .filter(|r| r.applies_to(item))
        .filter_map(|r| check_rule(r, item, output, extracted.as_ref()).map(|o| (r.id.clone(), o)))
        .collect();
    let dims = rubric
        .dimensions
        .iter()
        .map(|d| (d.id.clone(), dimension_from_rules(rubric, d, &outcomes)))
        .collect();
    (outcomes, dims)
}

/// One rule on one answer; `None` when it does not apply (see `score_answer`). `extracted` is the
/// object recovered from `output`, shared by every field-based rule.
pub fn check_rule(
    rule: &Rule,
    item: &Item,
    output: &str,
    extracted: Option<&Extracted>,
) -> Option<RuleOutcome> {
    rule.check.evaluate(item, output, extracted)
}

/// What the rule outcomes say about one dimension, before any judge.
fn dimension_from_rules(
    rubric: &Rubric,
    dim: &Dimension,
    outcomes: &BTreeMap<String, RuleOutcome>,
) -> DimensionScore {
    let (rule_cap, why) = rule_cap(rubric, dim, outcomes);
    let has_caps = rubric.caps_for(&dim.id).next().is_some();
    if !dim.judged {
        let justification = match (&why, has_caps) {
            (Some(w), _) => format!(
                "rules cap it at {}: {w}",
                fmt_score(rule_cap.unwrap_or(dim.max_score()))
            ),
            (None, true) => "no capping rule failed: scale maximum".into(),
            (None, false) => "decided by rules and none bounds it: scale maximum".into(),
        };
        return DimensionScore {
            score: Some(rule_cap.unwrap_or(dim.max_score())),
            source: ScoreSource::Rules,
            justification: Some(justification),
            rule_cap,
        };
    }
    // A judged dimension is never scored from rules alone, not even when a cap pins it at the scale
    // minimum: a mean over only the answers the rules happen to decide would be a biased sample. The
    // bound is kept in `rule_cap` for the judge (`combine_with_judge`) and for readers.
    DimensionScore {
        score: None,
        source: if has_caps {
            ScoreSource::RulesAndJudge
        } else {
            ScoreSource::Judge
        },
        justification: why.map(|w| {
            let c = fmt_score(rule_cap.unwrap_or(dim.max_score()));
            format!("rules cap it at {c}: {w}; the judge decides within that")
        }),
        rule_cap,
    }
}

/// The lowest `max` among the dimension's caps that have a failed rule, and why: each failed rule with
/// its detail, then the reason the binding cap gives.
fn rule_cap(
    rubric: &Rubric,
    dim: &Dimension,
    outcomes: &BTreeMap<String, RuleOutcome>,
) -> (Option<f64>, Option<String>) {
    let failed = |id: &String| outcomes.get(id).is_some_and(|o| !o.pass);
    let binding: Vec<_> = rubric
        .caps_for(&dim.id)
        .filter(|c| c.if_any_fails.iter().any(failed))
        .collect();
    let Some(cap) = binding.iter().map(|c| c.max).reduce(f64::min) else {
        return (None, None);
    };
    let mut named: Vec<&String> = Vec::new();
    for id in binding
        .iter()
        .flat_map(|c| c.if_any_fails.iter().filter(|r| failed(r)))
    {
        if !named.contains(&id) {
            named.push(id);
        }
    }
    let mut why: Vec<String> = named
        .iter()
        .map(|id| format!("{id} failed ({})", outcomes[*id].detail))
        .collect();
    why.extend(
        binding
            .iter()
            .filter(|c| c.max == cap)
            .filter_map(|c| c.reason.as_ref())
            .map(|r| format!("rubric: {r}")),
    );
    (Some(cap), Some(why.join("; ")))
}

/// The score a judged dimension gets once the judge has answered: the judge's score bounded by the rule
/// cap. The source is `rules+judge` whenever a cap is in play, `judge` otherwise. Without a judge score
/// (a judge error), the dimension is scored only if the rules alone pin it (as in `score_answer`). The
/// judge module is expected to have checked that `judge_score` lies on the dimension's scale.
pub fn combine_with_judge(
    dim: &Dimension,
    judge_score: Option<f64>,
    cap: Option<f64>,
    justification: Option<String>,
) -> DimensionScore {
    let source = if cap.is_some() {
        ScoreSource::RulesAndJudge
    } else {
        ScoreSource::Judge
    };
    match judge_score {
        Some(j) if dim.judged => {
            let score = cap.map_or(j, |c| j.min(c));
            let justification = match cap {
                Some(c) if c < j => {
                    let note = format!(
                        "capped at {} by rule checks (the judge gave {})",
                        fmt_score(c),
                        fmt_score(j)
                    );
                    Some(justification.map_or(note.clone(), |t| format!("{t} [{note}]")))
                }
                _ => justification,
            };
            DimensionScore {
                score: Some(score),
                source,
                justification,
                rule_cap: cap,
            }
        }
        _ if !dim.judged => DimensionScore {
            score: Some(cap.unwrap_or(dim.max_score())),
            source: ScoreSource::Rules,
            justification,
            rule_cap: cap,
        },
        _ => match cap {
            Some(c) if c <= dim.min_score() => DimensionScore {
                score: Some(c),
                source: ScoreSource::Rules,
                justification,
                rule_cap: cap,
            },
            _ => DimensionScore {
                score: None,
                source,
                justification,
                rule_cap: cap,
            },
        },
    }
}

/// Every dimension of an answer that never arrived.
fn no_answer(rubric: &Rubric, dim: &Dimension) -> DimensionScore {
    let source = if !dim.judged {
        ScoreSource::Rules
    } else if rubric.caps_for(&dim.id).next().is_some() {
        ScoreSource::RulesAndJudge
    } else {
        ScoreSource::Judge
    };
    DimensionScore {
        score: None,
        source,
        justification: Some("no answer: the request failed, so nothing was scored".into()),
        rule_cap: None,
    }
}

/// `1` rather than `1.0` for whole scores in justifications.
fn fmt_score(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}
