//! `evalrun check`'s analysis of an eval set (SPEC §3; seed 002 §四(一)2 lists the checks): how many
//! items, which categories against the rubric's target, duplicates and near-duplicates, empty or
//! missing turns, prompt-length and turn-count distributions, personas, and what the rubric makes of
//! the items.
//!
//! Everything here is a pure function of the items. [`analyze`] describes loaded items; [`analyze_text`]
//! also takes the lines the loader rejected, so one `check` shows every problem at once. What is a
//! problem (the set is broken: exit 2) and what is a warning (worth a look) is decided here; the caller
//! only picks the exit code from [`Makeup::problems`]. The findings are gathered in [`analyse`],
//! [`duplicates`] and [`rubric`], and printed by [`render`] (`Display for Makeup`).

pub mod analyse;
pub mod duplicates;
pub mod render;
pub mod rubric;

use std::collections::BTreeMap;
use std::fmt;

pub use analyse::{analyze, analyze_parsed, analyze_text};
pub use rubric::rubric_findings;

/// Two prompts whose normalised character 3-gram sets have at least this Jaccard similarity are
/// near-duplicates.
pub const NEAR_DUPLICATE_JACCARD: f64 = 0.9;

/// The category row of items without a category.
pub(crate) const NO_CATEGORY: &str = "(none)";

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// The file has no usable item.
    NoItems,
    /// A line the loader rejected (invalid JSON, wrong field, duplicate id, …).
    InvalidLine,
    /// A turn that is empty.
    EmptyTurn,
    /// A gap in a conversation: a response or a user turn is missing.
    MissingTurn,
    /// The same prompt (conversation) as an earlier item.
    DuplicatePrompt,
    /// Nearly the same prompt as an earlier item.
    NearDuplicate,
    /// A category's share is far from the target's.
    CategoryDeviation,
    /// A category of the target has no item.
    CategoryMissing,
    /// Items of a category the target does not name.
    CategoryNotInTarget,
    /// Items without a category while a target distribution is given.
    Uncategorised,
    /// The rubric cannot use the item: its `vars` do not render through the rubric's template, or a
    /// `length_range` rule cannot read its `meta.length` (the rule would fail on every answer).
    RubricMismatch,
    /// A rule that has nothing to check on some items: a `length_range` rule that finds no length in
    /// the rule, the item's `meta.length` or its prompt is left out there.
    RuleSkipped,
}

impl FindingKind {
    /// Problems make the set unfit to run as is; everything else is a warning.
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            FindingKind::NoItems
                | FindingKind::InvalidLine
                | FindingKind::EmptyTurn
                | FindingKind::MissingTurn
                | FindingKind::DuplicatePrompt
                | FindingKind::RubricMismatch
        )
    }
}

/// One thing `check` reports, tied to a line when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// What kind of problem this finding reports.
    pub kind: FindingKind,
    /// 1-based line in the eval-set file.
    pub line: Option<usize>,
    /// What is wrong; names the other line when the finding is about two.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// One row of the category table.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryRow {
    /// The category, or `(none)` for items without one.
    pub name: String,
    /// How many times it occurs.
    pub count: usize,
    /// count / items.
    pub share: f64,
    /// The target share, normalised so the target weights sum to 1; `None` without a target or when the
    /// target does not name this category.
    pub target_share: Option<f64>,
    /// Off the target by more than two binomial standard deviations (and more than one item).
    pub deviates: bool,
}

/// Nearest-rank summary of a distribution (STATS.md's percentile rule: x₍⌈p·n⌉₎).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    /// Values counted.
    pub n: usize,
    /// Smallest value.
    pub min: usize,
    /// Median value.
    pub p50: usize,
    /// 90th-percentile value.
    pub p90: usize,
    /// Largest value.
    pub max: usize,
}

impl Spread {
    pub(crate) fn of(mut values: Vec<usize>) -> Option<Spread> {
        values.sort_unstable();
        let n = values.len();
        let rank = |p: usize| values[(p * n).div_ceil(100).max(1) - 1];
        (n > 0).then(|| Spread {
            n,
            min: values[0],
            p50: rank(50),
            p90: rank(90),
            max: values[n - 1],
        })
    }
}

/// What `evalrun check` prints about an eval set.
#[derive(Debug, Clone, PartialEq)]
pub struct Makeup {
    /// Items loaded.
    pub items: usize,
    /// Lines the loader rejected (only from [`analyze_text`]).
    pub rejected_lines: usize,
    /// Items with a reference answer (for reference metrics).
    pub with_reference: usize,
    /// Largest first, then by name; `(none)` last.
    pub categories: Vec<CategoryRow>,
    /// Whether a target distribution was given.
    pub has_target: bool,
    /// Characters of the answered user turn; for `vars` items, of their variables' text (unrendered).
    pub prompt_chars: Option<Spread>,
    /// User turns per conversation → items (items with messages).
    pub turns: BTreeMap<usize, usize>,
    /// Entries of `vars.history` → items (`vars` items that have a history list).
    pub history_entries: BTreeMap<usize, usize>,
    /// Persona → items, largest first, then by name.
    pub personas: Vec<(String, usize)>,
    /// Items without a detectable persona (reported when some item has one).
    pub without_persona: usize,
    problems: Vec<Finding>,
    warnings: Vec<Finding>,
}

impl Makeup {
    /// Findings that make the set unfit to run: rejected lines, empty or missing turns, duplicate
    /// prompts, no items. A `check` with any of these exits 2.
    pub fn problems(&self) -> &[Finding] {
        &self.problems
    }

    /// Findings worth a look that do not stop a run: near-duplicates, category deviations.
    pub fn warnings(&self) -> &[Finding] {
        &self.warnings
    }

    /// Add a finding made outside this module (the rubric's view of the items, in `check`), keeping
    /// the findings in line order.
    pub fn add(&mut self, finding: Finding) {
        self.push(finding);
        self.sort_findings();
    }

    pub(crate) fn push(&mut self, finding: Finding) {
        if finding.kind.is_problem() {
            self.problems.push(finding);
        } else {
            self.warnings.push(finding);
        }
    }

    pub(crate) fn sort_findings(&mut self) {
        let key = |f: &Finding| (f.line.unwrap_or(0), f.kind);
        self.problems.sort_by_key(key);
        self.warnings.sort_by_key(key);
    }
}

#[cfg(test)]
mod tests;
