//! The validated rubric: dimensions, rules and their checks, caps, templates.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::template::template_name;
use crate::inputs::item::Item;

/// The template a `vars` item uses when it names none.
pub const DEFAULT_TEMPLATE: &str = "default";

pub use super::checks::{Check, DEFAULT_LENGTH_TOLERANCE};

/// How the judge module grades the dimensions: one call for all of them, or one call each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JudgeMode {
    #[default]
    /// One judge call grades all dimensions.
    Joint,
    /// One judge call per dimension.
    PerDimension,
}

/// A validated rubric.
#[derive(Debug, Clone)]
pub struct Rubric {
    /// Rubric id.
    pub id: String,
    /// Rubric display name.
    pub name: String,
    /// Rubric description, if any.
    pub description: Option<String>,
    /// How dimensions are split over judge calls.
    pub judge_mode: JudgeMode,
    /// Dimensions the judge scores.
    pub dimensions: Vec<Dimension>,
    /// Deterministic rules.
    pub rules: Vec<Rule>,
    /// Score caps triggered by failing rules.
    pub caps: Vec<Cap>,
    /// Prompt templates by name, for `vars` items.
    pub templates: BTreeMap<String, String>,
    /// How each list-valued variable renders, by variable name.
    pub template_lists: BTreeMap<String, ListRendering>,
    /// Target category make-up, as weights (see `target_shares`).
    pub target_categories: Option<BTreeMap<String, f64>>,
    /// Judge prompt templates, if overridden.
    pub judge: Option<JudgeTemplates>,
}

/// One scored dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    /// Dimension id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Dimension description, if any.
    pub description: Option<String>,
    /// Lowest and highest score, inclusive.
    pub scale: (i64, i64),
    /// The text of every level of the scale (validated: one per integer in `scale`).
    pub levels: BTreeMap<i64, String>,
    /// Whether the judge grades it; if not, rules alone decide it (scale maximum unless capped).
    pub judged: bool,
    /// `primary = true`: when any dimension is primary, the gate fails only on primary dimensions.
    pub primary: bool,
    /// Non-inferiority margin on this dimension's own scale (`margin`, > 0); `None` = the default the
    /// statistics use for the scale.
    pub margin: Option<f64>,
}

impl Dimension {
    /// Lowest score of the dimension's scale.
    pub fn min_score(&self) -> f64 {
        self.scale.0 as f64
    }

    /// Highest score of the dimension's scale.
    pub fn max_score(&self) -> f64 {
        self.scale.1 as f64
    }
}

/// One rule check and the items it applies to.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Rule id.
    pub id: String,
    /// Rule description, if any.
    pub description: Option<String>,
    /// What the rule checks.
    pub check: Check,
    /// Only items whose `category` is listed; `None` = every item.
    pub categories: Option<Vec<String>>,
    /// Only `vars` items rendered with one of these templates; `None` = every item.
    pub templates: Option<Vec<String>>,
}

impl Rule {
    /// Whether this rule is checked on `item` (its category and template filters).
    pub fn applies_to(&self, item: &Item) -> bool {
        let category_ok = self
            .categories
            .as_ref()
            .is_none_or(|cs| item.category.as_ref().is_some_and(|c| cs.contains(c)));
        let template_ok = self
            .templates
            .as_ref()
            .is_none_or(|ts| template_name(item).is_some_and(|t| ts.iter().any(|x| x == t)));
        category_ok && template_ok
    }
}

/// A failed rule bounds a dimension: if any rule of `if_any_fails` failed, the dimension is at most `max`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cap {
    /// Dimension the cap applies to.
    pub dimension: String,
    /// Largest score allowed when the cap applies.
    pub max: f64,
    /// Rules any of whose failure triggers the cap.
    pub if_any_fails: Vec<String>,
    /// Why, in the rubric's words; quoted in the dimension's justification.
    pub reason: Option<String>,
}

/// How a list variable renders into a template: element i gets `prefixes[i % len]` (none if empty),
/// and elements are joined by `separator`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRendering {
    #[serde(default)]
    /// Accepted prefixes.
    pub prefixes: Vec<String>,
    #[serde(default = "newline")]
    /// Separator after the prefix.
    pub separator: String,
}

fn newline() -> String {
    "\n".into()
}

/// The judge's prompts, read by the judge module.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeTemplates {
    /// Single-answer grading prompt.
    pub template: Option<String>,
    /// Pairwise (GSB) prompt.
    pub pairwise_template: Option<String>,
}

impl Rubric {
    /// The dimension with this id, if any.
    pub fn dimension(&self, id: &str) -> Option<&Dimension> {
        self.dimensions.iter().find(|d| d.id == id)
    }

    /// The caps that apply to this dimension.
    pub fn caps_for<'a>(&'a self, dimension: &'a str) -> impl Iterator<Item = &'a Cap> + 'a {
        self.caps.iter().filter(move |c| c.dimension == dimension)
    }

    /// Target category shares, normalised to sum to 1 (a source may list 55 % + 40 % + 4 × 5 %).
    pub fn target_shares(&self) -> Option<BTreeMap<String, f64>> {
        let t = self.target_categories.as_ref()?;
        let sum: f64 = t.values().sum();
        Some(t.iter().map(|(k, v)| (k.clone(), v / sum)).collect())
    }
}
