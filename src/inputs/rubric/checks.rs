//! Every rule check a rubric can name, as data: its name and keys ([`CHECKS`]) and how its keys become
//! a [`Check`] (`build`). How a `Check` is evaluated on an answer is the scorer's business
//! (`score::checks`, `impl Check`), so the arrows point one way, inputs → score (STYLE: nothing below
//! imports what is above it). A new check is a variant and one entry in `CHECKS` here, one arm in
//! `Check::evaluate` and its function in `score::rules`.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Deserializer};
use toml::Spanned;

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
        /// Keys that must be present and non-empty.
        keys: Vec<String>,
    },
    /// `field` is a list of `len` (or `min`..=`max`) elements.
    ArrayLen {
        /// Top-level key holding the list.
        field: String,
        /// Fewest elements allowed, when bounded below.
        min: Option<usize>,
        /// Most elements allowed, when bounded above.
        max: Option<usize>,
    },
    /// `field` has at most `max` English words.
    MaxWords {
        /// Top-level key to count words in.
        field: String,
        /// Most words allowed.
        max: usize,
    },
    /// `field` has no Han, kana, hangul or full-width character.
    EnglishOnly {
        /// Top-level key to check.
        field: String,
    },
    /// `field` (each element, for a list) contains Han.
    RequiresHan {
        /// Top-level key to check.
        field: String,
    },
    /// Length in characters; the bound is `min`/`max` if given, else the item's `meta.length`, else
    /// parsed from the prompt; `tolerance` widens approximate bounds (`300字左右`), default 0.2.
    LengthRange {
        /// Key to measure; `None` = the whole output.
        field: Option<String>,
        /// Fewest characters allowed, when given.
        min: Option<usize>,
        /// Most characters allowed, when given.
        max: Option<usize>,
        /// Relative widening of approximate bounds.
        tolerance: f64,
    },
    /// `pattern` must match (or, with `must_match = false`, must not).
    Regex {
        /// Key to test; `None` = the whole output.
        field: Option<String>,
        /// The compiled `pattern`.
        regex: Regex,
        /// `true`: the pattern must match; `false`: it must not.
        must_match: bool,
    },
    /// The literal `text` does not occur.
    NotContains {
        /// Key to search; `None` = the whole output.
        field: Option<String>,
        /// The literal text that must not occur.
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
    /// The rule's id, with its position in the rubric.
    pub id: Spanned<String>,
    /// Which check the rule runs.
    pub check: CheckName,
    /// What the rule is for, shown in reports.
    pub description: Option<String>,
    /// Only items in these categories are checked, when given.
    pub categories: Option<Vec<String>>,
    /// Only items with these templates are checked, when given.
    pub templates: Option<Vec<String>>,
    /// The answer's key the check reads.
    pub field: Option<String>,
    /// Keys that must be present (`has_keys`).
    pub keys: Option<Vec<String>>,
    /// Exact list length (`array_len`).
    pub len: Option<usize>,
    /// Lower bound (`array_len`, `length_range`).
    pub min: Option<usize>,
    /// Upper bound (`array_len`, `max_words`, `length_range`).
    pub max: Option<usize>,
    /// Widening of approximate length bounds (`length_range`).
    pub tolerance: Option<f64>,
    /// Regular expression (`regex`).
    pub pattern: Option<String>,
    /// Whether `pattern` must match or must not (`regex`).
    pub must_match: Option<bool>,
    /// Literal text that must not occur (`not_contains`).
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
