//! Every rule check a rubric can use, defined in one place: its name and keys ([`CHECKS`]), how its keys
//! become a [`Check`] (`build`), and how a `Check` is evaluated on an answer ([`Check::evaluate`], which
//! calls the pure function in `rules`). A new check is a variant, one entry in `CHECKS` and one arm in
//! `evaluate`, all in this file, plus its function in `rules`.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::json::{self, Extracted};
use super::length::{self, LengthBound};
use super::rules::{self, Target};
use crate::inputs::item::Item;
use crate::records::RuleOutcome;

/// Relative tolerance of an approximate length (`300字左右`, a bare `300字`) when a `length_range` rule
/// sets none: ±20 %, what a teacher marking a 300-character essay accepts (240–360).
pub const DEFAULT_LENGTH_TOLERANCE: f64 = 0.2;

/// What a rule checks. `field` names a top-level key of the JSON object recovered from the answer;
/// where it is optional, leaving it out checks the whole output.
#[derive(Debug, Clone)]
pub enum Check {
    /// The whole output, trimmed, is exactly one JSON object. Keys: none.
    JsonStrict,
    /// A JSON object can be recovered (fence, prose around it). Keys: none.
    JsonExtractable,
    /// Keys `keys` are present and non-empty.
    HasKeys {
        /// The keys that must be present.
        keys: Vec<String>,
    },
    /// `field` is a list of `len` (or `min`..=`max`) elements.
    ArrayLen {
        /// The JSON field checked.
        field: String,
        /// Minimum element count, if any.
        min: Option<usize>,
        /// Maximum element count, if any.
        max: Option<usize>,
    },
    /// `field` has at most `max` English words.
    MaxWords {
        /// The JSON field checked.
        field: String,
        /// Largest allowed word count.
        max: usize,
    },
    /// `field` has no Han, kana, hangul or full-width character.
    EnglishOnly {
        /// The JSON field checked.
        field: String,
    },
    /// `field` (each element, for a list) contains Han.
    RequiresHan {
        /// The JSON field checked.
        field: String,
    },
    /// Length in characters; the bound is `min`/`max` if given, else the item's `meta.length`, else
    /// parsed from the prompt; `tolerance` widens approximate bounds (`300字左右`), default 0.2.
    LengthRange {
        /// The JSON field checked, or the whole answer.
        field: Option<String>,
        /// Minimum length, if given.
        min: Option<usize>,
        /// Maximum length, if given.
        max: Option<usize>,
        /// Relative widening of approximate bounds.
        tolerance: f64,
    },
    /// `pattern` must match (or, with `must_match = false`, must not).
    Regex {
        /// The JSON field checked, or the whole answer.
        field: Option<String>,
        /// The compiled pattern.
        regex: Regex,
        /// Whether the pattern must match (true) or must not.
        must_match: bool,
    },
    /// The literal `text` does not occur.
    NotContains {
        /// The JSON field checked, or the whole answer.
        field: Option<String>,
        /// The text that must not occur.
        text: String,
    },
}

/// One check: its name in a rubric, the keys it takes, and how those keys become a [`Check`].
pub struct CheckSpec {
    /// The value of `check = "…"`.
    pub name: &'static str,
    /// Keys the check needs, beyond `id`, `check`, `description`, `categories`, `templates`.
    pub required: &'static [&'static str],
    /// Keys the check may take.
    pub optional: &'static [&'static str],
    /// The check from a rule's keys (already known to fit `required`/`optional`); the error is the
    /// rule-level message without its `FILE:LINE: rule `id` (name): ` prefix.
    pub build: fn(&RawRule) -> Result<Check, String>,
}

/// The registry: every check a rubric may name.
pub static CHECKS: &[CheckSpec] = &[
    CheckSpec {
        name: "json_strict",
        required: &[],
        optional: &[],
        build: |_| Ok(Check::JsonStrict),
    },
    CheckSpec {
        name: "json_extractable",
        required: &[],
        optional: &[],
        build: |_| Ok(Check::JsonExtractable),
    },
    CheckSpec {
        name: "has_keys",
        required: &["keys"],
        optional: &[],
        build: |r| {
            Ok(Check::HasKeys {
                keys: r.keys.clone().unwrap_or_default(),
            })
        },
    },
    CheckSpec {
        name: "array_len",
        required: &["field"],
        optional: &["len", "min", "max"],
        build: |r| match (r.len, r.min, r.max) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                Err("give `len` or `min`/`max`, not both".into())
            }
            (Some(n), None, None) => Ok(Check::ArrayLen {
                field: r.field(),
                min: Some(n),
                max: Some(n),
            }),
            (None, None, None) => Err("needs `len`, `min` or `max`".into()),
            (None, min, max) => Ok(Check::ArrayLen {
                field: r.field(),
                min,
                max,
            }),
        },
    },
    CheckSpec {
        name: "max_words",
        required: &["field", "max"],
        optional: &[],
        build: |r| {
            Ok(Check::MaxWords {
                field: r.field(),
                max: r.max.unwrap_or_default(),
            })
        },
    },
    CheckSpec {
        name: "english_only",
        required: &["field"],
        optional: &[],
        build: |r| Ok(Check::EnglishOnly { field: r.field() }),
    },
    CheckSpec {
        name: "requires_han",
        required: &["field"],
        optional: &[],
        build: |r| Ok(Check::RequiresHan { field: r.field() }),
    },
    CheckSpec {
        name: "length_range",
        required: &[],
        optional: &["field", "min", "max", "tolerance"],
        build: |r| {
            let tolerance = r.tolerance.unwrap_or(DEFAULT_LENGTH_TOLERANCE);
            if !(0.0..1.0).contains(&tolerance) {
                return Err(format!(
                    "tolerance {tolerance} must be at least 0 and below 1"
                ));
            }
            Ok(Check::LengthRange {
                field: r.field.clone(),
                min: r.min,
                max: r.max,
                tolerance,
            })
        },
    },
    CheckSpec {
        name: "regex",
        required: &["pattern"],
        optional: &["field", "must_match"],
        build: |r| {
            let pattern = r.pattern.as_deref().unwrap_or_default();
            let regex =
                Regex::new(pattern).map_err(|e| format!("pattern does not compile: {e}"))?;
            Ok(Check::Regex {
                field: r.field.clone(),
                regex,
                must_match: r.must_match.unwrap_or(true),
            })
        },
    },
    CheckSpec {
        name: "not_contains",
        required: &["text"],
        optional: &["field"],
        build: |r| {
            let text = r.text.clone().unwrap_or_default();
            if text.is_empty() {
                return Err("`text` is empty".into());
            }
            Ok(Check::NotContains {
                field: r.field.clone(),
                text,
            })
        },
    },
];

/// A `[[rules]]` table as written. The check-specific keys are the union of every check's keys; which
/// of them a rule may set is its [`CheckSpec`]'s business.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// Rule id, with its source span.
    pub id: Spanned<String>,
    /// Which check the rule runs.
    pub check: CheckName,
    /// Rule description, if any.
    pub description: Option<String>,
    /// Item categories the rule applies to, if restricted.
    pub categories: Option<Vec<String>>,
    /// Templates the rule applies to, if restricted.
    pub templates: Option<Vec<String>>,
    /// JSON field checked, if any.
    pub field: Option<String>,
    /// Required keys, for `has_keys`.
    pub keys: Option<Vec<String>>,
    /// Exact length, if required.
    pub len: Option<usize>,
    /// Minimum, if required.
    pub min: Option<usize>,
    /// Maximum, if required.
    pub max: Option<usize>,
    /// Relative tolerance on lengths.
    pub tolerance: Option<f64>,
    /// Regular expression, for regex checks.
    pub pattern: Option<String>,
    /// Whether the regex must match (true) or must not.
    pub must_match: Option<bool>,
    /// Text that must not appear.
    pub text: Option<String>,
}

impl RawRule {
    /// The check-specific keys this rule sets.
    pub fn set_keys(&self) -> Vec<&'static str> {
        let set = [
            ("field", self.field.is_some()),
            ("keys", self.keys.is_some()),
            ("len", self.len.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("tolerance", self.tolerance.is_some()),
            ("pattern", self.pattern.is_some()),
            ("must_match", self.must_match.is_some()),
            ("text", self.text.is_some()),
        ];
        set.into_iter()
            .filter(|(_, on)| *on)
            .map(|(k, _)| k)
            .collect()
    }

    /// `field`, for checks that require it (so it is set).
    fn field(&self) -> String {
        self.field.clone().unwrap_or_default()
    }
}

/// `check = "…"`, resolved to its entry in [`CHECKS`]; an unknown name is a serde "unknown variant"
/// error listing every check, so toml names its line and column.
#[derive(Clone, Copy)]
pub struct CheckName(pub &'static CheckSpec);

static CHECK_NAMES: LazyLock<&'static [&'static str]> = LazyLock::new(|| {
    Box::leak(
        CHECKS
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
});

impl<'de> Deserialize<'de> for CheckName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        CHECKS
            .iter()
            .find(|c| c.name == name)
            .map(CheckName)
            .ok_or_else(|| serde::de::Error::unknown_variant(&name, &CHECK_NAMES))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_has_one_entry_and_disjoint_keys() {
        let mut names: Vec<&str> = CHECKS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CHECKS.len());
        for c in CHECKS {
            assert!(
                !c.required.iter().any(|k| c.optional.contains(k)),
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn an_unknown_check_name_lists_every_check() {
        #[derive(Deserialize)]
        struct Rule {
            #[allow(dead_code)]
            check: CheckName,
        }
        let e = toml::from_str::<Rule>("check = \"max_word\"")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains(
                "unknown variant `max_word`, expected one of `json_strict`, `json_extractable`, \
                 `has_keys`, `array_len`, `max_words`, `english_only`, `requires_han`, \
                 `length_range`, `regex`, `not_contains`"
            ),
            "{e}"
        );
        assert!(e.contains("line 1, column 9"), "{e}");
    }
}
