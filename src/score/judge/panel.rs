//! Judge panels (`--judge a,b,c`): every judge grades every answer as a one-judge run would; the
//! panel's score of a dimension is the median of the judges' scores (each judge's own score being
//! the median of its samples, before rule caps), bounded by the rule cap; a pair's verdict is the
//! majority of the judges' verdicts ([`PairVerdict::majority`]). Pure: the runner asks the judges.
//!
//! A judge that gave no score for a dimension (its calls failed, or it said the dimension does not
//! apply) is left out of that dimension's median; the panel says "does not apply" only when no judge
//! scored it and one said so, and the answer gets a `judge_error` only when no judge scored an asked
//! dimension.

use std::collections::BTreeMap;

use crate::inputs::rubric::Rubric;
use crate::records::{PairRecord, PairVerdict, PanelGrade, PanelVerdict, ScoreRecord};
use crate::score::combine_with_judge;

use super::{grade_calls, median, NOT_APPLICABLE};

/// What one judge said about one answer, read off the score record it produced.
pub fn panel_grade(rubric: &Rubric, rec: &ScoreRecord) -> PanelGrade {
    let samples = rec.judge_samples.clone().unwrap_or_default();
    let not_applicable = rubric
        .dimensions
        .iter()
        .filter(|d| d.judged && !samples.contains_key(&d.id))
        .filter(|d| {
            rec.dimensions.get(&d.id).is_some_and(|s| {
                s.score.is_none()
                    && s.justification
                        .as_deref()
                        .is_some_and(|j| j.starts_with(NOT_APPLICABLE))
            })
        })
        .map(|d| d.id.clone())
        .collect();
    PanelGrade {
        judge_samples: samples,
        not_applicable,
        judge_error: rec.judge_error.clone(),
    }
}

/// Whether a judge's record of an answer went through the judge (its grade unit finished).
fn graded(rec: &ScoreRecord) -> bool {
    rec.judge_samples.is_some() || rec.judge_error.is_some()
}

/// The panel's score record of one answer. `rules_only` is the answer's record before the judge;
/// `judges` the judges' records of it, in panel order. Judges whose grade unit did not finish are
/// left out; when none finished, the rules-only record is returned as it is.
pub fn combine_grades(
    rubric: &Rubric,
    rules_only: ScoreRecord,
    judges: &[(String, ScoreRecord)],
) -> ScoreRecord {
    let done: Vec<&(String, ScoreRecord)> = judges.iter().filter(|(_, r)| graded(r)).collect();
    if done.is_empty() {
        return rules_only;
    }
    let grades: BTreeMap<String, PanelGrade> = done
        .iter()
        .map(|(j, r)| (j.clone(), panel_grade(rubric, r)))
        .collect();
    let asked: Vec<String> = grade_calls(rubric, &rules_only.dimensions)
        .iter()
        .flatten()
        .map(|d| d.id.clone())
        .collect();
    let mut dimensions = rules_only.dimensions.clone();
    let mut medians = BTreeMap::new();
    let mut unscored: Vec<&str> = Vec::new();
    for d in rubric.dimensions.iter().filter(|d| d.judged) {
        let Some(rules) = rules_only.dimensions.get(&d.id) else {
            continue;
        };
        let scores: Vec<(&str, f64, &ScoreRecord)> = done
            .iter()
            .filter_map(|(j, r)| {
                let s = median(r.judge_samples.as_ref()?.get(&d.id)?)?;
                Some((j.as_str(), s, r))
            })
            .collect();
        if !scores.is_empty() {
            let values: Vec<f64> = scores.iter().map(|x| x.1).collect();
            let med = median(&values).expect("non-empty");
            // The reason of a judge that gave the median, unless its own record capped it.
            let why = scores
                .iter()
                .find(|(_, v, r)| {
                    *v == med && r.dimensions.get(&d.id).and_then(|s| s.score) == Some(med)
                })
                .and_then(|(_, _, r)| r.dimensions.get(&d.id)?.justification.clone());
            let list: Vec<String> = scores
                .iter()
                .map(|(j, v, _)| format!("{j} {}", fmt(*v)))
                .collect();
            let note = format!("panel {}, median {}", list.join(", "), fmt(med));
            let why = why.map_or(note.clone(), |w| format!("{w} ({note})"));
            medians.insert(d.id.clone(), vec![med]);
            dimensions.insert(
                d.id.clone(),
                combine_with_judge(d, Some(med), rules.rule_cap, Some(why)),
            );
        } else if let Some((_, r)) = done
            .iter()
            .find(|(j, _)| grades[j].not_applicable.contains(&d.id))
        {
            if let Some(s) = r.dimensions.get(&d.id) {
                dimensions.insert(d.id.clone(), s.clone());
            }
        } else if asked.contains(&d.id) {
            unscored.push(&d.id);
        }
    }
    let judge_error = (!unscored.is_empty()).then(|| {
        let why: Vec<String> = grades
            .iter()
            .filter_map(|(j, g)| Some(format!("{j}: {}", g.judge_error.as_deref()?)))
            .collect();
        format!(
            "no judge of the panel gave a usable score for {} ({})",
            unscored.join(", "),
            why.join("; ")
        )
    });
    ScoreRecord {
        dimensions,
        judge_error,
        judge_samples: Some(medians),
        panel: Some(grades),
        ..rules_only
    }
}

/// The panel's pair record of one (candidate, baseline, item) from the judges' records of it (a
/// judge without a verdict: `None`); `None` when no judge gave one.
pub fn combine_pairs(judges: &[(String, Option<PairRecord>)]) -> Option<PairRecord> {
    let given: Vec<(&String, &PairRecord)> = judges
        .iter()
        .filter_map(|(j, p)| Some((j, p.as_ref()?)))
        .collect();
    let (_, first) = given.first()?;
    let verdicts: Vec<PairVerdict> = given.iter().map(|(_, p)| p.verdict).collect();
    Some(PairRecord {
        item_id: first.item_id.clone(),
        candidate: first.candidate.clone(),
        baseline: first.baseline.clone(),
        verdict: PairVerdict::majority(&verdicts)?,
        first_order: None,
        second_order: None,
        panel: Some(
            given
                .iter()
                .map(|(j, p)| {
                    (
                        (*j).clone(),
                        PanelVerdict {
                            verdict: p.verdict,
                            first_order: p.first_order,
                            second_order: p.second_order,
                        },
                    )
                })
                .collect(),
        ),
    })
}

fn fmt(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{DimensionScore, ScoreSource};
    use std::path::Path;

    fn rubric() -> Rubric {
        crate::inputs::rubric::load(Path::new("rubrics/oral_english.toml")).unwrap()
    }

    fn rules_only(rubric: &Rubric) -> ScoreRecord {
        let dimensions = rubric
            .dimensions
            .iter()
            .map(|d| {
                (
                    d.id.clone(),
                    DimensionScore {
                        score: None,
                        source: ScoreSource::Judge,
                        justification: None,
                        rule_cap: (d.id == "reply").then_some(2.0),
                    },
                )
            })
            .collect();
        ScoreRecord {
            model: "m".into(),
            item_id: "i".into(),
            sample: 0,
            rules: BTreeMap::new(),
            dimensions,
            reference_metrics: None,
            judge_error: None,
            judge_samples: None,
            panel: None,
        }
    }

    fn judged(rubric: &Rubric, samples: &[(&str, &[f64])], error: Option<&str>) -> ScoreRecord {
        let mut r = rules_only(rubric);
        r.judge_samples = Some(
            samples
                .iter()
                .map(|(d, v)| (d.to_string(), v.to_vec()))
                .collect(),
        );
        r.judge_error = error.map(str::to_string);
        r
    }

    /// Three judges: the median of their medians, capped by the rule; a judge whose call failed is
    /// left out of the median, and the answer is unjudged only where no judge scored.
    #[test]
    fn the_panel_score_is_the_median_of_the_judges_scores() {
        let rb = rubric();
        let dims: Vec<&str> = rb
            .dimensions
            .iter()
            .filter(|d| d.judged)
            .map(|d| d.id.as_str())
            .collect();
        assert!(
            dims.contains(&"reply") && dims.contains(&"analysis"),
            "{dims:?}"
        );
        let judges = vec![
            (
                "a".to_string(),
                judged(
                    &rb,
                    &[("reply", &[3.0]), ("analysis", &[1.0, 2.0, 2.0])],
                    None,
                ),
            ),
            (
                "b".to_string(),
                judged(&rb, &[("reply", &[3.0]), ("analysis", &[3.0])], None),
            ),
            (
                "c".to_string(),
                judged(
                    &rb,
                    &[("reply", &[1.0])],
                    Some("no usable judge score for analysis"),
                ),
            ),
        ];
        let r = combine_grades(&rb, rules_only(&rb), &judges);
        // reply: median(3, 3, 1) = 3, capped at 2 by the rules; analysis: median(2, 3) = 2.5.
        assert_eq!(r.dimensions["reply"].score, Some(2.0));
        assert_eq!(r.dimensions["analysis"].score, Some(2.5));
        let s = r.judge_samples.as_ref().unwrap();
        assert_eq!(s["reply"], vec![3.0]);
        assert_eq!(s["analysis"], vec![2.5]);
        let panel = r.panel.as_ref().unwrap();
        assert_eq!(panel.len(), 3);
        assert_eq!(panel["a"].judge_samples["analysis"], vec![1.0, 2.0, 2.0]);
        // Some dimension no judge scored: an error naming the judges' reasons.
        let unscored: Vec<&str> = dims
            .iter()
            .copied()
            .filter(|d| !["reply", "analysis"].contains(d))
            .collect();
        if unscored.is_empty() {
            assert_eq!(r.judge_error, None);
        } else {
            let e = r.judge_error.unwrap();
            assert!(e.contains("c: no usable judge score for analysis"), "{e}");
        }
        assert!(r.dimensions["reply"]
            .justification
            .as_deref()
            .unwrap()
            .contains("panel a 3, b 3, c 1, median 3"));
    }

    #[test]
    fn an_answer_no_judge_graded_keeps_its_rules_only_record() {
        let rb = rubric();
        let judges = vec![("a".to_string(), rules_only(&rb))];
        assert_eq!(
            combine_grades(&rb, rules_only(&rb), &judges),
            rules_only(&rb)
        );
    }

    #[test]
    fn the_panel_verdict_is_the_majority_and_keeps_each_judges() {
        use PairVerdict::*;
        let p = |v: PairVerdict, f: PairVerdict, s: PairVerdict| PairRecord {
            item_id: "i".into(),
            candidate: "c".into(),
            baseline: "b".into(),
            verdict: v,
            first_order: Some(f),
            second_order: Some(s),
            panel: None,
        };
        let judges = vec![
            ("a".to_string(), Some(p(G, G, G))),
            ("b".to_string(), Some(p(S, G, B))),
            ("c".to_string(), Some(p(G, G, G))),
        ];
        let r = combine_pairs(&judges).unwrap();
        assert_eq!(r.verdict, G);
        assert_eq!((r.first_order, r.second_order), (None, None));
        assert_eq!(r.panel.as_ref().unwrap()["b"].second_order, Some(B));
        let split = vec![("a".to_string(), Some(p(G, G, G))), ("b".to_string(), None)];
        assert_eq!(combine_pairs(&split).unwrap().verdict, G);
        assert_eq!(combine_pairs(&[("a".to_string(), None)]), None);
    }
}
