//! How each rule check of a rubric ([`Check`], declared with its keys in `inputs::rubric::checks`) is
//! evaluated on an answer: the arm of [`Check::evaluate`] calls the pure function in `rules`. The
//! declaration lives with the rubric so that `inputs` never imports `score`.

use super::json::{self, Extracted};
use super::length::{self, LengthBound};
use super::rules::{self, Target};
use crate::inputs::item::Item;
use crate::records::RuleOutcome;

pub use crate::inputs::rubric::checks::{
    Check, CheckName, CheckSpec, RawRule, CHECKS, DEFAULT_LENGTH_TOLERANCE,
};

impl Check {
    /// This check on one answer; `None` when it does not apply (a `length_range` rule with no bound
    /// anywhere). `extracted` is the object recovered from `output`, shared by every field-based check.
    pub fn evaluate(
        &self,
        item: &Item,
        output: &str,
        extracted: Option<&Extracted>,
    ) -> Option<RuleOutcome> {
        let fail = |detail: String| RuleOutcome {
            pass: false,
            detail,
        };
        let target = |field: Option<&str>| -> Result<Target, String> {
            let Some(field) = field else {
                return Ok(Target::output(output));
            };
            let x = extracted.ok_or("no JSON object")?;
            json::field_parts(&x.object, field).map(|parts| Target {
                label: field.to_string(),
                parts,
            })
        };
        let with_target =
            |field: Option<&str>, check: &dyn Fn(&Target) -> RuleOutcome| match target(field) {
                Ok(t) => check(&t),
                Err(e) => fail(e),
            };
        Some(match self {
            Check::JsonStrict => rules::json_strict(output),
            Check::JsonExtractable => rules::json_extractable(output),
            Check::HasKeys { keys } => match extracted {
                Some(x) => rules::has_keys(&x.object, keys),
                None => fail("no JSON object".into()),
            },
            Check::ArrayLen { field, min, max } => match extracted {
                Some(x) => rules::array_len(&x.object, field, *min, *max),
                None => fail("no JSON object".into()),
            },
            Check::MaxWords { field, max } => {
                with_target(Some(field), &|t| rules::max_words(t, *max))
            }
            Check::EnglishOnly { field } => with_target(Some(field), &rules::english_only),
            Check::RequiresHan { field } => with_target(Some(field), &rules::requires_han),
            Check::LengthRange {
                field,
                min,
                max,
                tolerance,
            } => {
                let bound = match length_bound(item, *min, *max, *tolerance)? {
                    Ok(b) => b,
                    Err(e) => return Some(fail(e)),
                };
                with_target(field.as_deref(), &|t| rules::length_range(t, &bound))
            }
            Check::Regex {
                field,
                regex,
                must_match,
            } => with_target(field.as_deref(), &|t| rules::regex(t, regex, *must_match)),
            Check::NotContains { field, text } => {
                with_target(field.as_deref(), &|t| rules::not_contains(t, text))
            }
        })
    }
}

/// The length a `length_range` rule holds an answer to: the rule's own `min`/`max`, else the item's
/// `meta.length`, else the bound its prompt (then its system text) names. `None` when there is none.
fn length_bound(
    item: &Item,
    min: Option<usize>,
    max: Option<usize>,
    tolerance: f64,
) -> Option<Result<LengthBound, String>> {
    if min.is_some() || max.is_some() {
        return Some(Ok(LengthBound {
            min,
            max,
            source: "the rule".into(),
        }));
    }
    if let Some(b) = length::bound_from_meta(item.meta.as_ref(), tolerance) {
        return Some(b.map_err(|e| e.to_string()));
    }
    let from_prompt = length::parse_bound(item.last_prompt(), tolerance);
    from_prompt
        .or_else(|| length::parse_bound(item.system.as_deref()?, tolerance))
        .map(Ok)
}
