//! The judge: prompts (`prompt`), reading replies (`parse`), and turning the judge samples of one answer
//! into dimension scores (here). Calling the judge model is the runner's job (`runner::judging`); this
//! module is pure.
//!
//! Per answer, each judge sample asks for the judged dimensions — in one call (`judge_mode = "joint"`)
//! or one call per dimension (`"per_dimension"`, which skips dimensions the rules already pin to the
//! scale's minimum). A reply that leaves a requested dimension unscored is asked again, at most
//! [`MAX_ATTEMPTS`] times per call, keeping what earlier replies scored. A dimension's judge score is
//! the median of its valid sample scores; the rule cap then bounds it (`combine_with_judge`). A judged
//! dimension no sample scored stays null and the answer's `judge_error` says why.

pub mod panel;
pub mod parse;
pub mod prompt;
pub mod schema;

use std::collections::BTreeMap;

use crate::inputs::rubric::{Dimension, JudgeMode, Rubric};
use crate::records::DimensionScore;

use super::combine_with_judge;

/// Calls per (judge sample, call) before a reply that leaves a dimension unscored is given up on: the
/// first call and two retries.
pub const MAX_ATTEMPTS: u32 = 3;

/// A rubric's judge template that cannot be used; the message names the template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptsError {
    /// `[judge].template` (single-answer grading).
    #[error("[judge].template {0}")]
    Grade(#[source] prompt::TemplateError),
    /// `[judge].pairwise_template` (GSB).
    #[error("[judge].pairwise_template {0}")]
    Pair(#[source] prompt::TemplateError),
}

/// The judge's prompt templates, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompts {
    /// Template of the grade prompt.
    pub grade: String,
    /// Template of the pair prompt.
    pub pair: String,
}

impl Prompts {
    /// The rubric's `[judge]` templates, or the built-in ones where it has none. The error names the
    /// template and what is wrong with it.
    pub fn of(rubric: &Rubric) -> Result<Prompts, PromptsError> {
        let t = rubric.judge.as_ref();
        let grade = t
            .and_then(|t| t.template.clone())
            .unwrap_or_else(|| prompt::DEFAULT_GRADE_TEMPLATE.to_string());
        let pair = t
            .and_then(|t| t.pairwise_template.clone())
            .unwrap_or_else(|| prompt::DEFAULT_PAIR_TEMPLATE.to_string());
        prompt::validate(
            &grade,
            &prompt::GRADE_PLACEHOLDERS,
            &["answer", "reply_format"],
        )
        .map_err(PromptsError::Grade)?;
        prompt::validate(
            &pair,
            &prompt::PAIR_PLACEHOLDERS,
            &["answer_a", "answer_b", "reply_format"],
        )
        .map_err(PromptsError::Pair)?;
        Ok(Prompts { grade, pair })
    }
}

/// The dimensions each grading call of one answer asks for; empty when the rubric judges nothing.
/// `rule_dims` are the answer's dimensions as the rules left them (their `rule_cap`).
pub fn grade_calls<'a>(
    rubric: &'a Rubric,
    rule_dims: &BTreeMap<String, DimensionScore>,
) -> Vec<Vec<&'a Dimension>> {
    let judged: Vec<&Dimension> = rubric.dimensions.iter().filter(|d| d.judged).collect();
    match rubric.judge_mode {
        JudgeMode::Joint if judged.is_empty() => Vec::new(),
        JudgeMode::Joint => vec![judged],
        JudgeMode::PerDimension => judged
            .into_iter()
            .filter(|d| {
                let cap = rule_dims.get(&d.id).and_then(|s| s.rule_cap);
                !cap.is_some_and(|c| c <= d.min_score())
            })
            .map(|d| vec![d])
            .collect(),
    }
}

/// How a dimension's justification begins when the judge said it does not apply.
pub const NOT_APPLICABLE: &str = "the judge says this dimension does not apply";

/// The median of the judge samples (the one definition lives in `stats::describe`).
pub use crate::stats::describe::median;

/// What the judge samples said about one dimension of one answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DimSamples {
    /// `(score, justification)` of each sample that scored it, in sample order.
    pub scores: Vec<(f64, Option<String>)>,
    /// Samples that said the dimension does not apply, with the first one's reason.
    pub not_applicable: usize,
    /// Why the judge found the dimension not applicable, if it did.
    pub not_applicable_reason: Option<String>,
}

/// An answer's final dimensions once the judge has answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Graded {
    /// Score of each dimension, by id.
    pub dimensions: BTreeMap<String, DimensionScore>,
    /// Per dimension with at least one valid sample score: those scores, in sample order.
    pub judge_samples: BTreeMap<String, Vec<f64>>,
    /// Why some judged dimension has no judge score, if one has none.
    pub judge_error: Option<String>,
}

/// Combine the rules' dimensions with the judge samples. `asked` are the dimensions some call asked
/// for; `failure` is the last reason a call gave no usable reply (parse problem or call error).
pub fn finish_grade(
    rubric: &Rubric,
    rule_dims: &BTreeMap<String, DimensionScore>,
    samples: &BTreeMap<String, DimSamples>,
    asked: &[String],
    failure: Option<&str>,
) -> Graded {
    let mut dimensions = rule_dims.clone();
    let mut judge_samples = BTreeMap::new();
    let mut unscored: Vec<&str> = Vec::new();
    for d in rubric.dimensions.iter().filter(|d| d.judged) {
        let Some(rules) = rule_dims.get(&d.id) else {
            continue;
        };
        let cap = rules.rule_cap;
        let s = samples.get(&d.id).cloned().unwrap_or_default();
        let combined = if !s.scores.is_empty() {
            let values: Vec<f64> = s.scores.iter().map(|x| x.0).collect();
            let med = median(&values).expect("non-empty");
            let why = s
                .scores
                .iter()
                .find(|(v, _)| *v == med)
                .or(s.scores.first())
                .and_then(|(_, j)| j.clone());
            let why = if values.len() > 1 {
                let list: Vec<String> = values.iter().map(|v| fmt(*v)).collect();
                let note = format!("judge samples {}, median {}", list.join(", "), fmt(med));
                Some(why.map_or(note.clone(), |w| format!("{w} ({note})")))
            } else {
                why
            };
            judge_samples.insert(d.id.clone(), values);
            combine_with_judge(d, Some(med), cap, why)
        } else if s.not_applicable > 0 {
            let why = format!(
                "{NOT_APPLICABLE}{}",
                s.not_applicable_reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
            combine_with_judge(d, None, cap, Some(why))
        } else {
            if asked.contains(&d.id) {
                unscored.push(&d.id);
            }
            combine_with_judge(d, None, cap, rules.justification.clone())
        };
        dimensions.insert(d.id.clone(), combined);
    }
    let judge_error = (!unscored.is_empty()).then(|| {
        format!(
            "no usable judge score for {} after {MAX_ATTEMPTS} attempts per call{}",
            unscored.join(", "),
            failure.map(|f| format!(" (last: {f})")).unwrap_or_default()
        )
    });
    Graded {
        dimensions,
        judge_samples,
        judge_error,
    }
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
    use crate::records::ScoreSource;
    use std::path::Path;

    const RUBRIC: &str = r#"
id = "t"
name = "T"
judge_mode = "per_dimension"

[[dimensions]]
id = "adherence"
name = "A"
scale = [1, 3]
levels = { "1" = "bad", "2" = "ok", "3" = "good" }

[[dimensions]]
id = "suggestion"
name = "S"
scale = [1, 3]
levels = { "1" = "bad", "2" = "ok", "3" = "good" }

[[dimensions]]
id = "format"
name = "F"
scale = [0, 1]
judged = false
levels = { "0" = "no", "1" = "yes" }

[[rules]]
id = "three"
check = "array_len"
field = "Suggestion"
len = 3

[[caps]]
dimension = "suggestion"
max = 1
if_any_fails = ["three"]
"#;

    fn rubric() -> Rubric {
        crate::inputs::rubric::parse(Path::new("t.toml"), RUBRIC).unwrap()
    }

    fn rule_dim(cap: Option<f64>, source: ScoreSource) -> DimensionScore {
        DimensionScore {
            score: None,
            source,
            justification: None,
            rule_cap: cap,
        }
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn per_dimension_calls_skip_dimensions_the_rules_pin() {
        let r = rubric();
        let mut dims = BTreeMap::new();
        dims.insert("adherence".to_string(), rule_dim(None, ScoreSource::Judge));
        dims.insert(
            "suggestion".to_string(),
            rule_dim(Some(1.0), ScoreSource::RulesAndJudge),
        );
        let calls = grade_calls(&r, &dims);
        let ids: Vec<Vec<&str>> = calls
            .iter()
            .map(|c| c.iter().map(|d| d.id.as_str()).collect())
            .collect();
        assert_eq!(ids, vec![vec!["adherence"]]);
        let mut joint = r.clone();
        joint.judge_mode = JudgeMode::Joint;
        assert_eq!(grade_calls(&joint, &dims)[0].len(), 2);
    }

    #[test]
    fn samples_become_medians_bounded_by_caps_and_gaps_become_errors() {
        let r = rubric();
        let mut rules = BTreeMap::new();
        rules.insert("adherence".to_string(), rule_dim(None, ScoreSource::Judge));
        rules.insert(
            "suggestion".to_string(),
            rule_dim(Some(1.0), ScoreSource::RulesAndJudge),
        );
        rules.insert(
            "format".to_string(),
            DimensionScore {
                score: Some(1.0),
                source: ScoreSource::Rules,
                justification: Some("rules".into()),
                rule_cap: None,
            },
        );
        let mut samples = BTreeMap::new();
        samples.insert(
            "adherence".to_string(),
            DimSamples {
                scores: vec![
                    (3.0, Some("a".into())),
                    (2.0, Some("b".into())),
                    (3.0, Some("c".into())),
                ],
                ..Default::default()
            },
        );
        let asked = vec!["adherence".to_string(), "suggestion".to_string()];
        let g = finish_grade(
            &r,
            &rules,
            &samples,
            &asked,
            Some("suggestion: not in the reply"),
        );
        let a = &g.dimensions["adherence"];
        assert_eq!((a.score, a.source), (Some(3.0), ScoreSource::Judge));
        assert_eq!(
            a.justification.as_deref(),
            Some("a (judge samples 3, 2, 3, median 3)")
        );
        assert_eq!(g.judge_samples["adherence"], vec![3.0, 2.0, 3.0]);
        // Suggestion: no judge score, but the rules pin it at the minimum: decided by rules, and still
        // reported as a judge error because the judge was asked and did not answer.
        let s = &g.dimensions["suggestion"];
        assert_eq!((s.score, s.source), (Some(1.0), ScoreSource::Rules));
        assert_eq!(
            g.judge_error.as_deref(),
            Some("no usable judge score for suggestion after 3 attempts per call (last: suggestion: not in the reply)")
        );
        assert_eq!(g.dimensions["format"], rules["format"]);

        // A judge score above the cap is bounded, with the source saying so.
        samples.insert(
            "suggestion".to_string(),
            DimSamples {
                scores: vec![(3.0, None)],
                ..Default::default()
            },
        );
        let g = finish_grade(&r, &rules, &samples, &asked, None);
        let s = &g.dimensions["suggestion"];
        assert_eq!((s.score, s.source), (Some(1.0), ScoreSource::RulesAndJudge));
        assert!(g.judge_error.is_none());
    }

    #[test]
    fn not_applicable_is_null_without_an_error() {
        let r = rubric();
        let mut rules = BTreeMap::new();
        rules.insert("adherence".to_string(), rule_dim(None, ScoreSource::Judge));
        let mut samples = BTreeMap::new();
        samples.insert(
            "adherence".to_string(),
            DimSamples {
                scores: vec![],
                not_applicable: 1,
                not_applicable_reason: Some("开场白".into()),
            },
        );
        let g = finish_grade(&r, &rules, &samples, &["adherence".to_string()], None);
        assert_eq!(g.dimensions["adherence"].score, None);
        assert!(g.judge_error.is_none());
        assert!(g.judge_samples.is_empty());
    }

    #[test]
    fn shipped_and_default_templates_validate() {
        let r = crate::inputs::rubric::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("rubrics/oral_english.toml"),
        )
        .unwrap();
        let p = Prompts::of(&r).unwrap();
        assert!(p.grade.contains("{{answer}}"));
        let mut bad = r.clone();
        bad.judge = Some(crate::inputs::rubric::JudgeTemplates {
            template: Some("no answer here {{reply_format}}".into()),
            pairwise_template: None,
        });
        let e = Prompts::of(&bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            "[judge].template needs the placeholder {{answer}}"
        );
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("needs the placeholder {{answer}}"));
    }
}
