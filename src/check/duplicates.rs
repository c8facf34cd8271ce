//! Exact and near-duplicate prompts: items compared by what is said (character 3-gram Jaccard).

use std::collections::HashMap;

use serde_json::Value;

use super::{Finding, FindingKind, Makeup, NEAR_DUPLICATE_JACCARD};
use crate::inputs::evalset::Item;
use crate::inputs::persona::{persona, profile_name};

/// The text two items are compared by: what is said, in order. A persona profile (a long dict shared by
/// every conversation with that persona) is replaced by the persona's name, else every conversation of
/// one persona would look alike; `vars` items are compared by their variables' text.
pub(super) fn comparable_text(item: &Item) -> String {
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

pub(super) fn string_leaves(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(list) => list.iter().for_each(|v| string_leaves(v, out)),
        Value::Object(map) => map.values().for_each(|v| string_leaves(v, out)),
        Value::Number(n) => out.push(n.to_string()),
        Value::Bool(b) => out.push(b.to_string()),
        Value::Null => {}
    }
}

/// Case-folded, without whitespace and punctuation (ASCII and CJK alike: only letters and digits stay).
pub(super) fn normalise(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The set of character 3-grams, sorted; a text shorter than three characters is its own single gram.
pub(super) fn trigrams(chars: &[char]) -> Vec<[char; 3]> {
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

pub(super) fn jaccard(a: &[[char; 3]], b: &[[char; 3]]) -> f64 {
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

pub(super) fn duplicates(items: &[Item], makeup: &mut Makeup) {
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

pub(super) fn excerpt(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = flat.chars();
    let head: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}
