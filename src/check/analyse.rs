//! Counting: categories against the target, turns, prompt lengths, personas, and the loader's rejected
//! lines as findings.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::duplicates::{comparable_text, duplicates};
use super::{CategoryRow, Finding, FindingKind, Makeup, Spread, NO_CATEGORY};
use crate::inputs::evalset::{self, Item, LineError, LineErrorKind, Parsed, Role};
use crate::inputs::persona::persona;

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

fn prompt_chars(item: &Item) -> usize {
    if item.messages.is_empty() {
        comparable_text(item).chars().filter(|c| *c != '\n').count()
    } else {
        item.last_prompt().chars().count()
    }
}
