//! The make-up of an eval set, for `evalrun check` (SPEC §3; seed 002 §四(一)2 lists the checks): how
//! many items, which categories against the rubric's target, duplicates and near-duplicates, empty or
//! missing turns, prompt-length and turn-count distributions, personas.
//!
//! Everything here is a pure function of the items. [`analyze`] describes loaded items; [`analyze_text`]
//! also takes the lines the loader rejected, so one `check` shows every problem at once. What is a
//! problem (the set is broken: exit 2) and what is a warning (worth a look) is decided here; the caller
//! only picks the exit code from [`Makeup::problems`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::Value;

use super::evalset::{self, Item, LineError, LineErrorKind, Parsed, Role};
use super::persona::{persona, profile_name};
use crate::display::display_width;

/// Two prompts whose normalised character 3-gram sets have at least this Jaccard similarity are
/// near-duplicates.
pub const NEAR_DUPLICATE_JACCARD: f64 = 0.9;

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
    pub n: usize,
    pub min: usize,
    pub p50: usize,
    pub p90: usize,
    pub max: usize,
}

impl Spread {
    fn of(mut values: Vec<usize>) -> Option<Spread> {
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

    fn push(&mut self, finding: Finding) {
        if finding.kind.is_problem() {
            self.problems.push(finding);
        } else {
            self.warnings.push(finding);
        }
    }

    fn sort_findings(&mut self) {
        let key = |f: &Finding| (f.line.unwrap_or(0), f.kind);
        self.problems.sort_by_key(key);
        self.warnings.sort_by_key(key);
    }
}

/// Parse eval-set text leniently and describe it: the rejected lines become problems (their messages are
/// the loader's, naming the field), and the lines that loaded are analysed as by [`analyze`].
pub fn analyze_text(text: &str, target: Option<&BTreeMap<String, f64>>) -> Makeup {
    analyze_parsed(&evalset::parse_lenient(text), target)
}

/// [`analyze_text`] for text already parsed with [`evalset::parse_lenient`] (the caller keeps the
/// items, e.g. to check them against a rubric).
pub fn analyze_parsed(parsed: &Parsed, target: Option<&BTreeMap<String, f64>>) -> Makeup {
    let mut makeup = analyze(&parsed.items, target);
    makeup.rejected_lines = parsed.errors.len();
    for error in &parsed.errors {
        makeup.push(from_line_error(error));
    }
    makeup.sort_findings();
    makeup
}

fn from_line_error(error: &LineError) -> Finding {
    let kind = match error.kind {
        LineErrorKind::EmptyTurn => FindingKind::EmptyTurn,
        LineErrorKind::MissingTurn => FindingKind::MissingTurn,
        LineErrorKind::InvalidJson | LineErrorKind::Shape | LineErrorKind::DuplicateId => {
            FindingKind::InvalidLine
        }
    };
    Finding {
        kind,
        line: Some(error.line),
        message: error.message.clone(),
    }
}

/// Describe loaded items. `target` maps category → weight (fractions or percentages; the weights are
/// normalised to sum to 1, since a recipe such as seed 000's 55/40/5/5/5/5 need not sum to 100).
pub fn analyze(items: &[Item], target: Option<&BTreeMap<String, f64>>) -> Makeup {
    let target = target.filter(|t| t.values().any(|w| *w > 0.0));
    let mut makeup = Makeup {
        items: items.len(),
        rejected_lines: 0,
        with_reference: items.iter().filter(|i| i.reference.is_some()).count(),
        categories: Vec::new(),
        has_target: target.is_some(),
        prompt_chars: None,
        turns: BTreeMap::new(),
        history_entries: BTreeMap::new(),
        personas: Vec::new(),
        without_persona: 0,
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    if items.is_empty() {
        makeup.push(Finding {
            kind: FindingKind::NoItems,
            line: None,
            message: "the eval set has no items".into(),
        });
        return makeup;
    }

    categories(items, target, &mut makeup);
    turn_findings(items, &mut makeup);
    duplicates(items, &mut makeup);

    makeup.prompt_chars = Spread::of(items.iter().map(prompt_chars).collect());
    for item in items {
        if !item.messages.is_empty() {
            let users = item
                .messages
                .iter()
                .filter(|m| m.role == Role::User)
                .count();
            *makeup.turns.entry(users).or_default() += 1;
        }
        if let Some(Value::Array(history)) = item.vars.as_ref().and_then(|v| v.get("history")) {
            *makeup.history_entries.entry(history.len()).or_default() += 1;
        }
    }

    let mut personas: HashMap<String, usize> = HashMap::new();
    for item in items {
        match persona(item) {
            Some(name) => *personas.entry(name).or_default() += 1,
            None => makeup.without_persona += 1,
        }
    }
    makeup.personas = personas.into_iter().collect();
    makeup
        .personas
        .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

    makeup.sort_findings();
    makeup
}

const NO_CATEGORY: &str = "(none)";

fn items_word(n: usize) -> String {
    if n == 1 {
        "1 item".into()
    } else {
        format!("{n} items")
    }
}

fn categories(items: &[Item], target: Option<&BTreeMap<String, f64>>, makeup: &mut Makeup) {
    let n = items.len();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for item in items {
        *counts
            .entry(item.category.as_deref().unwrap_or(NO_CATEGORY))
            .or_default() += 1;
    }
    let total_weight: f64 = target
        .map(|t| t.values().filter(|w| **w > 0.0).sum())
        .unwrap_or(0.0);
    let target_share = |name: &str| {
        target
            .and_then(|t| t.get(name))
            .filter(|w| **w > 0.0)
            .map(|w| w / total_weight)
    };
    if let Some(target) = target {
        for name in target.keys().filter(|k| target_share(k).is_some()) {
            counts.entry(name.as_str()).or_insert(0);
        }
    }

    for (&name, &count) in &counts {
        let share = count as f64 / n as f64;
        let wanted = target_share(name);
        let mut deviates = false;
        if let Some(p) = wanted {
            let expected = p * n as f64;
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            deviates = (count as f64 - expected).abs() > (2.0 * sd).max(1.0);
            if count == 0 && expected >= 1.0 {
                makeup.push(Finding {
                    kind: FindingKind::CategoryMissing,
                    line: None,
                    message: format!(
                        "no item of category \"{name}\" (target {:.1}%, about {expected:.0} of {n} items)",
                        100.0 * p
                    ),
                });
            } else if deviates {
                makeup.push(Finding {
                    kind: FindingKind::CategoryDeviation,
                    line: None,
                    message: format!(
                        "category \"{name}\": {} ({:.1}%) against a target of {:.1}% (about {expected:.0})",
                        items_word(count),
                        100.0 * share,
                        100.0 * p
                    ),
                });
            }
        } else if target.is_some() {
            let first = items
                .iter()
                .find(|i| i.category.as_deref().unwrap_or(NO_CATEGORY) == name)
                .map(|i| i.line);
            let (kind, message) = if name == NO_CATEGORY {
                (
                    FindingKind::Uncategorised,
                    format!(
                        "{} without a category (the rubric has a target distribution)",
                        items_word(count)
                    ),
                )
            } else {
                (
                    FindingKind::CategoryNotInTarget,
                    format!(
                        "{} of category \"{name}\", which the target does not name",
                        items_word(count)
                    ),
                )
            };
            makeup.push(Finding {
                kind,
                line: first,
                message,
            });
        }
        makeup.categories.push(CategoryRow {
            name: name.to_string(),
            count,
            share,
            target_share: wanted,
            deviates,
        });
    }
    makeup.categories.sort_by(|a, b| {
        (a.name == NO_CATEGORY)
            .cmp(&(b.name == NO_CATEGORY))
            .then(b.count.cmp(&a.count))
            .then_with(|| a.name.cmp(&b.name))
    });
}

/// Empty or missing turns in loaded items. The loader already rejects these in files; items built
/// otherwise (and `vars` histories, whose content the loader leaves to the rubric) are checked here.
fn turn_findings(items: &[Item], makeup: &mut Makeup) {
    for item in items {
        let line = Some(item.line);
        if item.messages.is_empty() && item.vars.is_none() {
            makeup.push(Finding {
                kind: FindingKind::MissingTurn,
                line,
                message: format!("item \"{}\" has no messages and no vars", item.id),
            });
        }
        // A conversation may open with the assistant (a tutor who speaks first); then it alternates.
        let opener = if item.opens_with_assistant() {
            Role::Assistant
        } else {
            Role::User
        };
        for (i, message) in item.messages.iter().enumerate() {
            let expected = match (i % 2 == 0, opener) {
                (true, role) => role,
                (false, Role::User) => Role::Assistant,
                (false, Role::Assistant) => Role::User,
            };
            if message.role != expected {
                makeup.push(Finding {
                    kind: FindingKind::MissingTurn,
                    line,
                    message: format!(
                        "message {}: expected a {} turn, found {} (a turn is missing)",
                        i + 1,
                        expected.as_str(),
                        message.role.as_str()
                    ),
                });
            } else if message.content.trim().is_empty() {
                makeup.push(Finding {
                    kind: FindingKind::EmptyTurn,
                    line,
                    message: format!("message {}: empty {} turn", i + 1, message.role.as_str()),
                });
            }
        }
        if item.messages.last().is_some_and(|m| m.role != Role::User) {
            makeup.push(Finding {
                kind: FindingKind::MissingTurn,
                line,
                message: "the conversation ends without a user turn to answer".into(),
            });
        }
        if let Some(Value::Array(history)) = item.vars.as_ref().and_then(|v| v.get("history")) {
            for (i, entry) in history.iter().enumerate() {
                let empty = match entry {
                    Value::String(s) => s.trim().is_empty(),
                    Value::Null => true,
                    _ => false,
                };
                if empty {
                    makeup.push(Finding {
                        kind: FindingKind::EmptyTurn,
                        line,
                        message: format!("vars.history[{i}] is empty"),
                    });
                }
            }
        }
    }
}

/// The text two items are compared by: what is said, in order. A persona profile (a long dict shared by
/// every conversation with that persona) is replaced by the persona's name, else every conversation of
/// one persona would look alike; `vars` items are compared by their variables' text.
fn comparable_text(item: &Item) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let persona = persona(item);
    if let Some(name) = &persona {
        parts.push(name);
    }
    if let Some(system) = &item.system {
        if profile_name(system).is_none() {
            parts.push(system);
        }
    }
    for (i, message) in item.messages.iter().enumerate() {
        if i == 0 && profile_name(&message.content).is_some() {
            continue;
        }
        parts.push(&message.content);
    }
    let mut text = parts.join("\n");
    if let Some(vars) = &item.vars {
        let mut leaves = Vec::new();
        for value in vars.values() {
            string_leaves(value, &mut leaves);
        }
        if !text.is_empty() {
            leaves.insert(0, text);
        }
        text = leaves.join("\n");
    }
    text
}

fn string_leaves(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(list) => list.iter().for_each(|v| string_leaves(v, out)),
        Value::Object(map) => map.values().for_each(|v| string_leaves(v, out)),
        Value::Number(n) => out.push(n.to_string()),
        Value::Bool(b) => out.push(b.to_string()),
        Value::Null => {}
    }
}

fn prompt_chars(item: &Item) -> usize {
    if item.messages.is_empty() {
        comparable_text(item).chars().filter(|c| *c != '\n').count()
    } else {
        item.last_prompt().chars().count()
    }
}

/// Case-folded, without whitespace and punctuation (ASCII and CJK alike: only letters and digits stay).
fn normalise(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The set of character 3-grams, sorted; a text shorter than three characters is its own single gram.
fn trigrams(chars: &[char]) -> Vec<[char; 3]> {
    let mut grams: Vec<[char; 3]> = if chars.len() < 3 {
        let mut gram = ['\0'; 3];
        gram[..chars.len()].copy_from_slice(chars);
        vec![gram]
    } else {
        chars.windows(3).map(|w| [w[0], w[1], w[2]]).collect()
    };
    grams.sort_unstable();
    grams.dedup();
    grams
}

fn jaccard(a: &[[char; 3]], b: &[[char; 3]]) -> f64 {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    if union == 0 {
        1.0
    } else {
        common as f64 / union as f64
    }
}

fn duplicates(items: &[Item], makeup: &mut Makeup) {
    let texts: Vec<String> = items.iter().map(comparable_text).collect();

    // Exact: the same text once surrounding whitespace is trimmed. Later items point at the first.
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    let mut exact_of: Vec<Option<usize>> = vec![None; items.len()];
    for (k, text) in texts.iter().enumerate() {
        let text = text.trim();
        match first_of.get(text) {
            Some(&first) => {
                exact_of[k] = Some(first);
                makeup.push(Finding {
                    kind: FindingKind::DuplicatePrompt,
                    line: Some(items[k].line),
                    message: format!(
                        "duplicate prompt: same as line {} (\"{}\")",
                        items[first].line,
                        excerpt(text)
                    ),
                });
            }
            None => {
                first_of.insert(text, k);
            }
        }
    }

    // Near: Jaccard of normalised 3-gram sets. J(A, B) ≥ t needs |A| ≥ t·|B| (|A| ≤ |B|), so after
    // sorting by set size each item is only compared with the few of similar size.
    let grams: Vec<Vec<[char; 3]>> = texts.iter().map(|t| trigrams(&normalise(t))).collect();
    let mut order: Vec<usize> = (0..items.len())
        .filter(|&k| exact_of[k].is_none())
        .collect();
    order.sort_by_key(|&k| grams[k].len());
    let mut pairs = Vec::new();
    for (x, &a) in order.iter().enumerate() {
        for &b in &order[x + 1..] {
            if (grams[a].len() as f64) < NEAR_DUPLICATE_JACCARD * grams[b].len() as f64 {
                break;
            }
            let similarity = jaccard(&grams[a], &grams[b]);
            if similarity >= NEAR_DUPLICATE_JACCARD {
                let (first, later) = if items[a].line <= items[b].line {
                    (a, b)
                } else {
                    (b, a)
                };
                pairs.push((later, first, similarity));
            }
        }
    }
    for (later, first, similarity) in pairs {
        makeup.push(Finding {
            kind: FindingKind::NearDuplicate,
            line: Some(items[later].line),
            message: format!(
                "near-duplicate of line {} (3-gram Jaccard {similarity:.2}): \"{}\"",
                items[first].line,
                excerpt(&texts[later])
            ),
        });
    }
}

fn excerpt(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = flat.chars();
    let head: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

// ---------------------------------------------------------------------------------------------------
// The plain-text report.

fn pad(s: &str, columns: usize) -> String {
    format!(
        "{s}{}",
        " ".repeat(columns.saturating_sub(display_width(s)))
    )
}

fn histogram(
    f: &mut fmt::Formatter<'_>,
    title: &str,
    counts: &BTreeMap<usize, usize>,
) -> fmt::Result {
    const BAR: usize = 40;
    let most = counts.values().copied().max().unwrap_or(0).max(1);
    let label = counts
        .keys()
        .map(|k| k.to_string().len())
        .max()
        .unwrap_or(1);
    let count = counts
        .values()
        .map(|v| v.to_string().len())
        .max()
        .unwrap_or(1);
    writeln!(f, "{title}")?;
    for (k, v) in counts {
        let bar = "#".repeat((v * BAR).div_ceil(most));
        writeln!(f, "  {k:>label$}  {v:>count$}  {bar}")?;
    }
    Ok(())
}

impl fmt::Display for Makeup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "items            {}", self.items)?;
        if self.rejected_lines > 0 {
            writeln!(f, "rejected lines   {}", self.rejected_lines)?;
        }
        writeln!(f, "with reference   {}", self.with_reference)?;

        let categorised = self.categories.iter().any(|c| c.name != NO_CATEGORY);
        if !categorised && !self.has_target {
            writeln!(f, "categories       none")?;
        } else {
            writeln!(f)?;
            let name_w = self
                .categories
                .iter()
                .map(|c| display_width(&c.name))
                .max()
                .unwrap_or(0)
                .max("category".len());
            let mut header = format!("{}  count   share", pad("category", name_w));
            if self.has_target {
                header.push_str("  target");
            }
            writeln!(f, "{}", header.trim_end())?;
            for row in &self.categories {
                let mut line = format!(
                    "{}  {:>5}  {:>5.1}%",
                    pad(&row.name, name_w),
                    row.count,
                    100.0 * row.share
                );
                if self.has_target {
                    match row.target_share {
                        Some(t) => line.push_str(&format!("  {:>5.1}%", 100.0 * t)),
                        None => line.push_str("       -"),
                    }
                    if row.deviates {
                        line.push_str("  !");
                    }
                }
                writeln!(f, "{line}")?;
            }
            if self.has_target {
                writeln!(
                    f,
                    "(target weights normalised to 100%; ! = more than 2 binomial s.d. off the target)"
                )?;
            }
        }

        if let Some(s) = self.prompt_chars {
            writeln!(f)?;
            writeln!(
                f,
                "prompt length (chars)  min {}  p50 {}  p90 {}  max {}  (n={})",
                s.min, s.p50, s.p90, s.max, s.n
            )?;
            writeln!(
                f,
                "  (the answered user turn; for vars items, their variables' text before rendering)"
            )?;
        }
        if !self.turns.is_empty() {
            writeln!(f)?;
            histogram(f, "user turns per conversation", &self.turns)?;
        }
        if !self.history_entries.is_empty() {
            writeln!(f)?;
            histogram(f, "history entries per vars item", &self.history_entries)?;
        }

        if !self.personas.is_empty() {
            writeln!(f)?;
            let name_w = self
                .personas
                .iter()
                .map(|(p, _)| display_width(p))
                .max()
                .unwrap_or(0)
                .max("persona".len());
            writeln!(f, "{}  items   share", pad("persona", name_w))?;
            let rows = self
                .personas
                .iter()
                .map(|(p, c)| (p.as_str(), *c))
                .chain((self.without_persona > 0).then_some(("(none)", self.without_persona)));
            for (name, count) in rows {
                writeln!(
                    f,
                    "{}  {:>5}  {:>5.1}%",
                    pad(name, name_w),
                    count,
                    100.0 * count as f64 / self.items as f64
                )?;
            }
        }

        writeln!(f)?;
        let count = |kinds: &[FindingKind]| {
            self.problems
                .iter()
                .chain(&self.warnings)
                .filter(|x| kinds.contains(&x.kind))
                .count()
        };
        let none_or = |n: usize| {
            if n == 0 {
                "none".to_string()
            } else {
                n.to_string()
            }
        };
        writeln!(
            f,
            "duplicate prompts      {}",
            none_or(count(&[FindingKind::DuplicatePrompt]))
        )?;
        writeln!(
            f,
            "near-duplicates        {}  (3-gram Jaccard >= {NEAR_DUPLICATE_JACCARD})",
            none_or(count(&[FindingKind::NearDuplicate]))
        )?;
        writeln!(
            f,
            "empty/missing turns    {}",
            none_or(count(&[FindingKind::EmptyTurn, FindingKind::MissingTurn]))
        )?;

        for (title, findings) in [("problems", &self.problems), ("warnings", &self.warnings)] {
            if findings.is_empty() {
                continue;
            }
            writeln!(f)?;
            writeln!(f, "{title} ({})", findings.len())?;
            for finding in findings {
                writeln!(f, "  {finding}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::evalset::Message;
    use crate::inputs::persona::persona;
    use serde_json::json;

    fn prompt_item(line: usize, prompt: &str, category: Option<&str>) -> Item {
        Item {
            id: format!("i{line}"),
            line,
            system: None,
            messages: vec![Message {
                role: Role::User,
                content: prompt.into(),
            }],
            vars: None,
            category: category.map(String::from),
            reference: None,
            meta: None,
        }
    }

    fn kinds(findings: &[Finding]) -> Vec<(Option<usize>, FindingKind)> {
        findings.iter().map(|f| (f.line, f.kind)).collect()
    }

    /// Prompts that share no meaningful 3-grams with each other.
    fn distinct(k: usize) -> String {
        format!("{}", (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn target(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn nearest_rank_spread() {
        let s = Spread::of(vec![1400, 1200, 1600, 1300]).unwrap();
        assert_eq!((s.min, s.p50, s.p90, s.max), (1200, 1300, 1600, 1600));
        let s = Spread::of((1..=50).collect()).unwrap();
        assert_eq!((s.p50, s.p90), (25, 45));
        assert_eq!(Spread::of(vec![]), None);
    }

    #[test]
    fn normalise_strips_punctuation_and_case() {
        let n: String = normalise("Hello, World! 你好，世界。")
            .into_iter()
            .collect();
        assert_eq!(n, "helloworld你好世界");
    }

    #[test]
    fn jaccard_of_trigrams() {
        let a = trigrams(&normalise("abcd"));
        let b = trigrams(&normalise("abce"));
        assert_eq!(a.len(), 2);
        assert!((jaccard(&a, &b) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(jaccard(&a, &a), 1.0);
        assert_eq!(
            jaccard(&trigrams(&normalise("ab")), &trigrams(&normalise("ab"))),
            1.0
        );
    }

    #[test]
    fn counts_categories_against_a_normalised_target() {
        let mut items = Vec::new();
        for k in 0..24 {
            items.push(prompt_item(k + 1, &distinct(k), Some("normal")));
        }
        for k in 0..26 {
            items.push(prompt_item(k + 25, &distinct(100 + k), Some("terse")));
        }
        // seed 000's weights do not sum to 100; here 55 : 40 → 57.9% : 42.1%.
        let t = target(&[("normal", 55.0), ("terse", 40.0), ("chinese", 5.0)]);
        let m = analyze(&items, Some(&t));
        let rows: Vec<_> = m
            .categories
            .iter()
            .map(|r| (r.name.as_str(), r.count, r.deviates))
            .collect();
        assert_eq!(
            rows,
            [
                ("terse", 26, false),
                ("normal", 24, false),
                ("chinese", 0, false)
            ]
        );
        assert!((m.categories[1].target_share.unwrap() - 0.55).abs() < 1e-12);
        assert_eq!(kinds(m.warnings()), [(None, FindingKind::CategoryMissing)]);
        assert!(m.problems().is_empty(), "{:?}", m.problems());
    }

    #[test]
    fn flags_a_large_deviation() {
        let mut items: Vec<Item> = (0..45)
            .map(|k| prompt_item(k + 1, &distinct(k), Some("normal")))
            .collect();
        items.extend((0..5).map(|k| prompt_item(k + 46, &distinct(100 + k), Some("terse"))));
        // Expected 25 : 25 with s.d. 3.5; 45 : 5 is far off.
        let m = analyze(&items, Some(&target(&[("normal", 0.5), ("terse", 0.5)])));
        assert!(m.categories.iter().all(|r| r.deviates));
        assert_eq!(
            kinds(m.warnings()),
            [
                (None, FindingKind::CategoryDeviation),
                (None, FindingKind::CategoryDeviation)
            ]
        );
        assert!(m.warnings()[0]
            .message
            .contains("against a target of 50.0%"));
    }

    #[test]
    fn categories_outside_the_target_and_uncategorised_items_are_named() {
        let items = vec![
            prompt_item(1, "alpha beta gamma", Some("normal")),
            prompt_item(2, "delta epsilon zeta", Some("weird")),
            prompt_item(3, "eta theta iota", None),
        ];
        let m = analyze(&items, Some(&target(&[("normal", 1.0)])));
        assert_eq!(
            kinds(m.warnings()),
            [
                (None, FindingKind::CategoryDeviation),
                (Some(2), FindingKind::CategoryNotInTarget),
                (Some(3), FindingKind::Uncategorised),
            ]
        );
        assert_eq!(m.categories.last().unwrap().name, "(none)");
    }

    #[test]
    fn without_target_nothing_is_flagged() {
        let items = vec![
            prompt_item(1, "one", Some("a")),
            prompt_item(2, "two", None),
        ];
        let m = analyze(&items, None);
        assert!(m.warnings().is_empty() && m.problems().is_empty());
        assert!(!m.has_target);
    }

    #[test]
    fn exact_and_near_duplicates_name_both_lines() {
        let items = vec![
            prompt_item(
                1,
                "Write a New Year greeting for my grandmother in 50 characters.",
                None,
            ),
            prompt_item(
                2,
                "Something entirely different about basketball games.",
                None,
            ),
            prompt_item(
                4,
                "Write a New Year greeting for my grandmother in 50 characters.",
                None,
            ),
            prompt_item(
                7,
                "write a new year greeting for my grandmother, in 50 characters!!",
                None,
            ),
            prompt_item(
                9,
                "Write a New Year greeting for my grandfather in 50 characters.",
                None,
            ),
        ];
        let m = analyze(&items, None);
        assert_eq!(
            kinds(m.problems()),
            [(Some(4), FindingKind::DuplicatePrompt)]
        );
        assert!(m.problems()[0]
            .message
            .starts_with("duplicate prompt: same as line 1"));
        assert_eq!(kinds(m.warnings()), [(Some(7), FindingKind::NearDuplicate)]);
        assert!(m.warnings()[0]
            .message
            .starts_with("near-duplicate of line 1 (3-gram Jaccard 1.00)"));
        // "grandfather" vs "grandmother" changes too many 3-grams to count as near.
    }

    #[test]
    fn near_duplicate_threshold() {
        let base = "两位朋友在户外徒步时一人询问另一人的生日引发了关于生日当天的活动的对话我们聊了很久很开心";
        let close = format!("{base}呀");
        let items = vec![prompt_item(1, base, None), prompt_item(2, &close, None)];
        let m = analyze(&items, None);
        assert_eq!(kinds(m.warnings()), [(Some(2), FindingKind::NearDuplicate)]);
        let far = "两位同学对一场激动人心的篮球比赛进行回顾和分析";
        let m = analyze(
            &[prompt_item(1, base, None), prompt_item(2, far, None)],
            None,
        );
        assert!(m.warnings().is_empty());
    }

    #[test]
    fn persona_profiles_do_not_make_conversations_alike() {
        let profile = format!(
            "{{'姓名': '孙悟空', '性别': '男', '人物经历': '{}'}}\n现在请你扮演一个角色扮演专家。请你根据上述信息扮演孙悟空进行对话。",
            "石生花果山".repeat(40)
        );
        let conversation = |line: usize, last: &str| Item {
            id: format!("c{line}"),
            line,
            system: None,
            messages: vec![
                Message {
                    role: Role::User,
                    content: profile.clone(),
                },
                Message {
                    role: Role::Assistant,
                    content: "好的!现在我来扮演孙悟空。".into(),
                },
                Message {
                    role: Role::User,
                    content: last.into(),
                },
            ],
            vars: None,
            category: None,
            reference: None,
            meta: None,
        };
        let items = vec![
            conversation(1, "唐三藏:(责备)你怎么步步行凶,打死这个无故平人?"),
            conversation(2, "猪八戒:(笑)哥哥,师父又念紧箍咒了么?"),
        ];
        let m = analyze(&items, None);
        assert!(m.warnings().is_empty(), "{:?}", m.warnings());
        assert_eq!(m.personas, [("孙悟空".to_string(), 2)]);
        assert_eq!(m.turns, BTreeMap::from([(2, 2)]));
    }

    #[test]
    fn persona_sources_in_order() {
        let mut item = prompt_item(
            1,
            "{'姓名': '林黛玉', '性别': '女'}\n请你扮演林黛玉进行对话。",
            None,
        );
        assert_eq!(persona(&item).as_deref(), Some("林黛玉"));
        item.meta = Some(json!({"persona": "薛宝钗"}));
        assert_eq!(persona(&item).as_deref(), Some("薛宝钗"));

        let mut item = prompt_item(1, "你好", None);
        item.system = Some(r#"{"姓名": "诸葛亮", "字": "孔明"}"#.into());
        assert_eq!(persona(&item).as_deref(), Some("诸葛亮"));
        item.system =
            Some("现在请你扮演一个角色扮演专家。请你根据上述信息扮演猪八戒进行对话。".into());
        assert_eq!(persona(&item).as_deref(), Some("猪八戒"));
        item.system = Some("你是武松，景阳冈打虎的好汉。".into());
        assert_eq!(persona(&item).as_deref(), Some("武松"));
        item.system = Some("You are a helpful assistant.".into());
        assert_eq!(persona(&item), None);
    }

    #[test]
    fn lengths_turns_and_history() {
        let mut chat = prompt_item(1, "12345", None);
        chat.messages.push(Message {
            role: Role::Assistant,
            content: "a".into(),
        });
        chat.messages.push(Message {
            role: Role::User,
            content: "123".into(),
        });
        let vars = Item {
            id: "v".into(),
            line: 2,
            system: None,
            messages: vec![],
            vars: json!({"topic": "篮球比赛", "history": ["Hi", "Yes"]})
                .as_object()
                .cloned(),
            category: None,
            reference: None,
            meta: None,
        };
        let m = analyze(&[chat, vars], None);
        assert_eq!(m.turns, BTreeMap::from([(2, 1)]));
        assert_eq!(m.history_entries, BTreeMap::from([(2, 1)]));
        let s = m.prompt_chars.unwrap();
        // "123" for the chat; 篮球比赛 + Hi + Yes = 9 characters for the vars item.
        assert_eq!((s.min, s.max), (3, 9));
    }

    #[test]
    fn empty_and_missing_turns_in_built_items() {
        let mut gap = prompt_item(3, "q", None);
        gap.messages.push(Message {
            role: Role::User,
            content: "q2".into(),
        });
        let mut blank = prompt_item(5, "q", None);
        blank.messages.push(Message {
            role: Role::Assistant,
            content: " ".into(),
        });
        blank.messages.push(Message {
            role: Role::User,
            content: "q2".into(),
        });
        let vars = Item {
            id: "v".into(),
            line: 8,
            system: None,
            messages: vec![],
            vars: json!({"topic": "t", "history": ["Hi", ""]})
                .as_object()
                .cloned(),
            category: None,
            reference: None,
            meta: None,
        };
        let m = analyze(&[gap, blank, vars], None);
        assert_eq!(
            kinds(m.problems()),
            [
                (Some(3), FindingKind::MissingTurn),
                (Some(5), FindingKind::EmptyTurn),
                (Some(8), FindingKind::EmptyTurn),
            ]
        );
        assert_eq!(m.problems()[2].message, "vars.history[1] is empty");
    }

    #[test]
    fn no_items_is_a_problem() {
        let m = analyze(&[], None);
        assert_eq!(kinds(m.problems()), [(None, FindingKind::NoItems)]);
    }

    #[test]
    fn report_aligns_wide_characters() {
        assert_eq!(display_width("孙悟空"), 6);
        assert_eq!(display_width("abc"), 3);
        assert_eq!(pad("武松", 6), "武松  ");
    }
}

/// The eval sets shipped in `evalsets/`: they load, their make-up is the planned one (seed 000's mix,
/// eight personas, every length-demand shape), and `check` finds nothing wrong with them.
#[cfg(test)]
mod shipped {
    use super::*;
    use crate::inputs::evalset::load;
    use std::path::PathBuf;

    fn shipped(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("evalsets")
            .join(name)
    }

    fn read(name: &str) -> String {
        std::fs::read_to_string(shipped(name)).unwrap()
    }

    fn string_list(value: &Value) -> Vec<&str> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect()
    }

    /// Seed 000's recipe: 55% normal, 40% terse, 5% each for the four problem kinds.
    fn seed_000_target() -> BTreeMap<String, f64> {
        [
            ("normal", 55.0),
            ("terse", 40.0),
            ("off_topic", 5.0),
            ("chinese", 5.0),
            ("misspelled", 5.0),
            ("ungrammatical", 5.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn count_by<'a>(values: impl Iterator<Item = &'a str>) -> BTreeMap<&'a str, usize> {
        let mut counts = BTreeMap::new();
        for v in values {
            *counts.entry(v).or_default() += 1;
        }
        counts
    }

    #[test]
    fn every_shipped_set_loads_and_checks_clean() {
        for (name, n) in [
            ("oral_english.jsonl", 50),
            ("roleplay.jsonl", 30),
            ("length_control.jsonl", 40),
        ] {
            let items = load(&shipped(name)).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(items.len(), n, "{name}");
            let target = (name == "oral_english.jsonl").then(seed_000_target);
            let makeup = analyze(&items, target.as_ref());
            assert!(
                makeup.problems().is_empty(),
                "{name}: {:?}",
                makeup.problems()
            );
            assert!(
                makeup.warnings().is_empty(),
                "{name}: {:?}",
                makeup.warnings()
            );
        }
    }

    #[test]
    fn oral_english_has_the_planned_mix() {
        let items = load(&shipped("oral_english.jsonl")).unwrap();
        let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
        let wanted: Vec<String> = (1..=50).map(|n| format!("oe-{n:03}")).collect();
        assert_eq!(ids, wanted, "50 unique ids oe-001 … oe-050, in order");

        let categories = count_by(items.iter().map(|i| i.category.as_deref().unwrap()));
        assert_eq!(
            categories,
            BTreeMap::from([
                ("chinese", 2),
                ("misspelled", 2),
                ("normal", 24),
                ("off_topic", 2),
                ("terse", 17),
                ("ungrammatical", 3),
            ])
        );

        let mut openings = 0;
        for item in &items {
            assert!(item.messages.is_empty());
            let vars = item.vars.as_ref().unwrap();
            let topic = vars["topic"].as_str().unwrap();
            assert!(topic.chars().count() >= 20, "{}: topic too short", item.id);
            let rounds = item.meta.as_ref().unwrap()["rounds"].as_u64().unwrap() as usize;
            match vars["template"].as_str().unwrap() {
                "opening" => {
                    openings += 1;
                    assert!(!vars.contains_key("history"), "{}", item.id);
                    assert_eq!(item.category.as_deref(), Some("normal"), "{}", item.id);
                    assert_eq!(rounds, 0);
                }
                "turn" => {
                    let history = string_list(&vars["history"]);
                    assert!(
                        history.len().is_multiple_of(2) && (2..=8).contains(&history.len()),
                        "{}: teacher/student pairs, one to four rounds",
                        item.id
                    );
                    assert_eq!(rounds, history.len() / 2, "{}", item.id);
                    let last = history.last().unwrap();
                    let has_han = last.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
                    match item.category.as_deref().unwrap() {
                        "terse" => assert!(last.split_whitespace().count() <= 6, "{}", item.id),
                        "chinese" => assert!(has_han, "{}", item.id),
                        _ => assert!(
                            !has_han,
                            "{}: only the chinese items answer in Chinese",
                            item.id
                        ),
                    }
                }
                other => panic!("{}: unknown template {other}", item.id),
            }
        }
        assert_eq!(openings, 8);
    }

    #[test]
    fn oral_english_keeps_the_seed_examples_verbatim() {
        let items = load(&shipped("oral_english.jsonl")).unwrap();
        let find = |id: &str| {
            items
                .iter()
                .find(|i| i.id == id)
                .unwrap()
                .vars
                .clone()
                .unwrap()
        };
        assert_eq!(
            find("oe-001")["topic"],
            "学生们备考期间互相分享学习技巧和时间管理方法，讨论如何高效学习并保持良好的心理状态。"
        );
        assert_eq!(
            string_list(&find("oe-002")["history"]),
            [
                "That was an amazing basketball game, wasn't it?",
                "当然，这非常令人兴奋，而结果完全出乎意料！"
            ]
        );
        assert_eq!(string_list(&find("oe-004")["history"])[1], "Yes, very fun!");
        assert_eq!(
            string_list(&find("oe-005")["history"])[2],
            "It's called 'LifeHelper'. It helps you organize your day-to-day tasks."
        );
        let high_school = find("oe-006");
        assert_eq!(
            high_school["topic"],
            "一名学生在和外国朋友讨论他们对高中生活在不同文化背景下的体验。"
        );
        assert_eq!(
            string_list(&high_school["history"]).last().copied(),
            Some("I not know \"adventure\". High school okay.")
        );
    }

    #[test]
    fn roleplay_personas_and_turns() {
        let items = load(&shipped("roleplay.jsonl")).unwrap();
        let makeup = analyze(&items, None);
        let personas: BTreeMap<&str, usize> = makeup
            .personas
            .iter()
            .map(|(p, n)| (p.as_str(), *n))
            .collect();
        assert_eq!(
            personas,
            BTreeMap::from([
                ("孙悟空", 5),
                ("猪八戒", 4),
                ("诸葛亮", 4),
                ("林黛玉", 4),
                ("贾宝玉", 4),
                ("武松", 3),
                ("王熙凤", 3),
                ("宋江", 3),
            ])
        );
        assert_eq!(makeup.without_persona, 0);
        assert_eq!(makeup.turns.keys().next(), Some(&2));
        assert_eq!(makeup.turns.keys().last(), Some(&14));
        for item in &items {
            let name = persona(item).unwrap();
            assert!(item.messages[0]
                .content
                .ends_with(&format!("请你根据上述信息扮演{name}进行对话。\n")));
            assert_eq!(
                item.messages[1].content,
                format!("好的！现在我来扮演{name}。")
            );
            let reference = item.reference.as_deref().unwrap();
            assert!(
                reference.starts_with(&format!("{name}:(")),
                "line {}",
                item.line
            );
            for reply in item
                .messages
                .iter()
                .skip(3)
                .filter(|m| m.role == Role::Assistant)
            {
                assert!(
                    reply.content.starts_with(&format!("{name}:(")),
                    "line {}",
                    item.line
                );
            }
        }
    }

    /// Every length demand is in `meta` in a shape the `length_range` rule reads (`{"max"}`,
    /// `{"min"}`, `{"min","max"}`, a number N for "about N" at the rule's ±20 %), except sentence
    /// counts, which no rule checks (`meta.sentences`, beside `length`, so the rule leaves them out);
    /// and every reference answer keeps its item's demand.
    #[test]
    fn length_control_bounds_match_categories_and_references() {
        use crate::inputs::rubric::DEFAULT_LENGTH_TOLERANCE;
        use crate::score::length::bound_from_meta;
        let items = load(&shipped("length_control.jsonl")).unwrap();
        let categories = count_by(items.iter().map(|i| i.category.as_deref().unwrap()));
        assert_eq!(
            categories,
            BTreeMap::from([
                ("approx", 10),
                ("max", 12),
                ("min", 9),
                ("range", 4),
                ("sentences", 5)
            ])
        );
        let mut references = 0;
        for item in &items {
            let meta = item.meta.as_ref().unwrap();
            let length = meta.get("length");
            let category = item.category.as_deref().unwrap();
            let keys = |v: &Value| -> Vec<String> {
                let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
                k.sort_unstable();
                k
            };
            match category {
                "max" => assert_eq!(keys(length.unwrap()), ["max"], "{}", item.id),
                "min" => assert_eq!(keys(length.unwrap()), ["min"], "{}", item.id),
                "range" => assert_eq!(keys(length.unwrap()), ["max", "min"], "{}", item.id),
                "approx" => assert!(length.unwrap().is_u64(), "{}", item.id),
                "sentences" => {
                    assert!(length.is_none(), "{}", item.id);
                    assert!(meta["sentences"].is_u64(), "{}", item.id);
                }
                other => panic!("{}: unknown category {other}", item.id),
            }
            let bound = bound_from_meta(Some(meta), DEFAULT_LENGTH_TOLERANCE)
                .map(|b| b.unwrap_or_else(|e| panic!("{}: {e}", item.id)));
            let Some(reference) = &item.reference else {
                continue;
            };
            references += 1;
            // Both ways of counting must agree with the bound: Han characters only, and every
            // character but line breaks.
            let han = reference
                .chars()
                .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
                .count();
            let all = reference.chars().filter(|c| *c != '\n').count();
            if let Some(bound) = &bound {
                for n in [han, all] {
                    assert!(
                        bound.contains(n),
                        "{}: {n} not in {}",
                        item.id,
                        bound.describe_range()
                    );
                }
            }
            if let Some(s) = meta.get("sentences").and_then(Value::as_u64) {
                let ends = reference.chars().filter(|c| "。！？".contains(*c)).count() as u64;
                assert_eq!(ends, s, "{}", item.id);
            }
        }
        assert_eq!(references, 12);
    }

    #[test]
    fn a_broken_copy_names_every_problem_with_its_line() {
        let good: Vec<String> = read("roleplay.jsonl")
            .lines()
            .take(6)
            .map(String::from)
            .collect();
        let turns = |line: &str| serde_json::from_str::<Vec<Value>>(line).unwrap();
        let mut lines = good.clone();
        // Line 3: an empty prompt in turn 2 of a four-turn conversation.
        let mut empty = turns(&good[2]);
        assert_eq!(empty.len(), 4);
        empty[1]["prompt"] = Value::String(String::new());
        lines[2] = serde_json::to_string(&empty).unwrap();
        // Line 4: the middle turn of a three-turn conversation has lost its response.
        let mut gap = turns(&good[3]);
        assert_eq!(gap.len(), 3);
        gap[1]["response"] = serde_json::json!([[""]]);
        lines[3] = serde_json::to_string(&gap).unwrap();
        // Line 6: cut off mid-line.
        lines[5] = good[5].chars().take(200).collect();
        // Line 7: the same conversation as line 2.
        lines.push(good[1].clone());
        let makeup = analyze_text(&lines.join("\n"), None);

        let found: Vec<(Option<usize>, FindingKind)> =
            makeup.problems().iter().map(|f| (f.line, f.kind)).collect();
        assert_eq!(
            found,
            [
                (Some(3), FindingKind::EmptyTurn),
                (Some(4), FindingKind::MissingTurn),
                (Some(6), FindingKind::InvalidLine),
                (Some(7), FindingKind::DuplicatePrompt),
            ]
        );
        let messages: Vec<String> = makeup.problems().iter().map(ToString::to_string).collect();
        assert_eq!(messages[0], "line 3: turn 2 of 4: empty prompt");
        assert_eq!(
            messages[1],
            "line 4: turn 2 of 3 has no response (only the last turn, the one answered, may leave it empty)"
        );
        assert!(
            messages[2].starts_with("line 6: invalid JSON at column 200: EOF while parsing"),
            "{}",
            messages[2]
        );
        assert!(
            messages[3].starts_with("line 7: duplicate prompt: same as line 2"),
            "{}",
            messages[3]
        );
        assert_eq!(makeup.items, 4);
        assert_eq!(makeup.rejected_lines, 3);

        let report = makeup.to_string();
        for needle in [
            "items            4",
            "rejected lines   3",
            "duplicate prompts      1",
            "empty/missing turns    2",
            "problems (4)",
            "  line 4: turn 2 of 3 has no response",
        ] {
            assert!(report.contains(needle), "{needle:?} missing from\n{report}");
        }
    }
}
