//! `evalrun diff RUN_A RUN_B`: per item and model, what changed between two runs of the same inputs —
//! judge scores per dimension, rule outcomes, GSB verdicts, errors — sorted worst first, with the flips
//! per dimension summed up.
//!
//! [`read`] streams each run's records into per-(model, item) facts, [`inputs`] refuses runs of other
//! inputs, [`compare`](mod@compare) is pure over the two runs' facts, and `render_md`, `render_json`,
//! `render_html` write the result. The size of a change puts every kind on one scale: a score's change
//! divided by its scale's range, a rule's pass share change, half the change of a GSB verdict (B = −1,
//! S = 0, G = 1), and the negated change of the error share — each in [−1, 1], negative = worse.

pub mod compare;
pub mod inputs;
pub mod read;
pub mod render_html;
pub mod render_json;
pub mod render_md;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::records::PairVerdict;

pub use compare::compare;

/// An output format of the diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Markdown.
    Md,
    /// One self-contained HTML page.
    Html,
    /// JSON, schema [`SCHEMA`].
    Json,
}

impl Format {
    /// `md`, `html` or `json` (any case).
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(Format::Md),
            "html" => Some(Format::Html),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// The format a file name asks for by its extension: `.html`/`.htm`, `.json`, else markdown.
    pub fn of_path(p: &Path) -> Format {
        match p.extension().and_then(|e| e.to_str()) {
            Some("html" | "htm") => Format::Html,
            Some("json") => Format::Json,
            _ => Format::Md,
        }
    }
}

/// The diff in `format`; HTML reads the listed items' answers again from `a_dir` and `b_dir`.
pub fn render(
    d: &Diff,
    format: Format,
    a_dir: &Path,
    b_dir: &Path,
    top: Option<usize>,
) -> anyhow::Result<String> {
    match format {
        Format::Md => Ok(render_md::render(d, top)),
        Format::Json => render_json::render(d, top),
        Format::Html => render_html::render(d, a_dir, b_dir, top),
    }
}

/// Schema name of `diff --format json`.
pub const SCHEMA: &str = "evalrun-diff/1";

/// One run named in the diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRef {
    /// The run directory as given.
    pub dir: String,
    /// The manifest's run id.
    pub run_id: String,
    /// UTC start time of the run.
    pub started_utc: String,
}

/// The whole diff: A is the earlier (reference) run, B the later one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The reference run.
    pub a: RunRef,
    /// The run compared with it.
    pub b: RunRef,
    /// What is compared, and what is not.
    pub notes: Vec<String>,
    /// Models in both runs.
    pub models: Vec<String>,
    /// Items in both runs.
    pub n_items: usize,
    /// Per model: the flips.
    pub summary: BTreeMap<String, ModelFlips>,
    /// Every (model, item) that changed, worst first.
    pub changes: Vec<ItemChange>,
}

/// Counts of one kind of comparison: how many got worse, better, or stayed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Flips {
    /// Items compared (a value in both runs).
    pub n: usize,
    /// Items that got worse (better → worse).
    pub worse: usize,
    /// Items that got better (worse → better).
    pub better: usize,
    /// Mean change B − A over the compared items (scores: on the scale; rules: pass share).
    pub mean_change: Option<f64>,
}

/// One model's flips.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelFlips {
    /// Per dimension.
    pub dimensions: BTreeMap<String, Flips>,
    /// Per rule: worse = pass → fail, better = fail → pass.
    pub rules: BTreeMap<String, Flips>,
    /// Per GSB reference model, the verdict of this model against it.
    pub gsb: BTreeMap<String, Flips>,
    /// Errors: worse = ok → error, better = error → ok.
    pub errors: Flips,
}

impl ModelFlips {
    /// The flips beside the dimensions', labelled for a table: rules, GSB verdicts, errors.
    pub fn others(&self) -> impl Iterator<Item = (String, &Flips)> {
        self.rules
            .iter()
            .map(|(r, fl)| (format!("rule {r} (pass → fail / fail → pass)"), fl))
            .chain(self.gsb.iter().map(|(g, fl)| (format!("GSB vs {g}"), fl)))
            .chain(std::iter::once((
                "errors (ok → error / error → ok)".to_string(),
                &self.errors,
            )))
    }
}

/// Whether a (model, item) got worse, better, or both on different counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The net size is below 0.
    Worse,
    /// The net size is above 0.
    Better,
    /// Changes that cancel or have no direction (a score became undecided).
    Mixed,
}

/// What changed for one (model, item).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemChange {
    /// The model.
    pub model: String,
    /// The item id.
    pub item_id: String,
    /// The item's category, if any.
    pub category: Option<String>,
    /// Worse, better or mixed.
    pub direction: Direction,
    /// Net signed size (sum of the changes' sizes; negative = worse).
    pub size: f64,
    /// The changes, worst first.
    pub changes: Vec<Change>,
}

/// One change of one (model, item). Scores and rule shares are means over the item's samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A dimension's score (null: not decided).
    Score {
        /// Dimension id.
        dimension: String,
        /// Score in A.
        old: Option<f64>,
        /// Score in B.
        new: Option<f64>,
        /// Signed size in [−1, 1]; 0 when a side is undecided.
        size: f64,
    },
    /// A rule's pass share (1 = pass, 0 = fail with one sample).
    Rule {
        /// Rule name.
        rule: String,
        /// Pass share in A.
        old: f64,
        /// Pass share in B.
        new: f64,
        /// Signed size.
        size: f64,
    },
    /// The GSB verdict of the model against a reference model.
    Gsb {
        /// The reference model.
        baseline: String,
        /// Verdict in A.
        old: PairVerdict,
        /// Verdict in B.
        new: PairVerdict,
        /// Signed size.
        size: f64,
    },
    /// Errors: the error kinds (none = answered) in A and B.
    Error {
        /// Error kind in A (first errored sample), or null.
        old: Option<String>,
        /// Error kind in B, or null.
        new: Option<String>,
        /// Signed size.
        size: f64,
    },
}

impl Change {
    /// The signed size of this change (negative = worse).
    pub fn size(&self) -> f64 {
        match self {
            Change::Score { size, .. }
            | Change::Rule { size, .. }
            | Change::Gsb { size, .. }
            | Change::Error { size, .. } => *size,
        }
    }

    /// What changed, as `what old → new` (plain text; escape it for markdown or HTML).
    pub fn describe(&self) -> String {
        let opt = |x: &Option<f64>| x.map_or("–".to_string(), num);
        match self {
            Change::Score {
                dimension,
                old,
                new,
                ..
            } => format!("{dimension} {} → {}", opt(old), opt(new)),
            Change::Rule { rule, old, new, .. } => {
                format!("rule {rule} {} → {}", pass(*old), pass(*new))
            }
            Change::Gsb {
                baseline, old, new, ..
            } => format!("GSB vs {baseline} {old:?} → {new:?}"),
            Change::Error { old, new, .. } => format!(
                "error {} → {}",
                old.as_deref().unwrap_or("none"),
                new.as_deref().unwrap_or("none")
            ),
        }
    }

    /// The dimension, rule, GSB reference or `errors` this change is about.
    pub fn subject(&self) -> String {
        match self {
            Change::Score { dimension, .. } => dimension.clone(),
            Change::Rule { rule, .. } => format!("rule {rule}"),
            Change::Gsb { baseline, .. } => format!("GSB vs {baseline}"),
            Change::Error { .. } => "errors".to_string(),
        }
    }
}

/// A score: integers as such, else two decimals.
fn num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// A pass share: `pass`/`fail` for 1/0, else a percentage.
fn pass(x: f64) -> String {
    match x {
        1.0 => "pass".to_string(),
        0.0 => "fail".to_string(),
        x => format!("{:.0} % pass", 100.0 * x),
    }
}

impl ItemChange {
    /// The changes that made this item worse, worst first.
    pub fn worse(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.size() < 0.0)
    }
}
