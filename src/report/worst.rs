//! The report's worst cases: per model, the lowest-scored answers (below the scale's top), lowest first,
//! then by item id, at most one per item, each with the line of its prompt that matters.
//!
//! Memory holds a few candidates per model, never one per item: an item's lowest score is the least of
//! its lines', and the [`WORST_PER_MODEL`] items with the least such scores are kept while the scores
//! stream by (an item pushed out can only come back with a score lower than every kept one, which is
//! then its lowest). The chosen answers and prompts are then read from one pass over
//! `responses.jsonl` and `items.jsonl` each, parsing only their keys except on the chosen lines.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use crate::inputs::evalset::Role;
use crate::manifest::Manifest;
use crate::records::{files, ItemRecord};
use crate::report::WorstCase;
use crate::stats::{for_each_line, reread_lines, ScoreLine};

/// Worst cases shown per model.
const WORST_PER_MODEL: usize = 3;

/// A model's lowest score on one item.
struct Lowest {
    item: String,
    score: f64,
    dimension: String,
    sample: u32,
    justification: Option<String>,
}

impl Lowest {
    /// The order of the report: score, then item id, then dimension.
    fn cmp_key(&self, score: f64, item: &str, dim: &str) -> Ordering {
        self.score
            .total_cmp(&score)
            .then_with(|| self.item.as_str().cmp(item))
            .then_with(|| self.dimension.as_str().cmp(dim))
    }
}

#[derive(serde::Deserialize)]
struct Answer {
    #[serde(default)]
    output: Option<String>,
}

/// The worst cases of a run: fed every `scores.jsonl` line as the summary reads it
/// ([`Worst::score`]), then [`Worst::finish`]ed with the answers and prompts.
pub(super) struct Worst {
    /// Each dimension's top score.
    top: BTreeMap<String, f64>,
    /// Per model of the manifest, its lowest items, lowest first.
    kept: BTreeMap<String, Vec<Lowest>>,
}

impl Worst {
    pub(super) fn new(m: &Manifest) -> Worst {
        Worst {
            top: (m.dimensions.iter())
                .map(|d| (d.id.clone(), d.scale.1 as f64))
                .collect(),
            kept: m
                .models
                .iter()
                .map(|e| (e.name.clone(), Vec::new()))
                .collect(),
        }
    }

    /// One `scores.jsonl` line.
    pub(super) fn score(&mut self, s: &ScoreLine<'_>) {
        let Some(lows) = self.kept.get_mut(&*s.model) else {
            return;
        };
        for (dim, d) in &s.dimensions {
            let (Some(score), Some(max)) = (d.score, self.top.get(&**dim)) else {
                continue;
            };
            if score < *max {
                offer(lows, s, dim, score, d.justification.as_deref());
            }
        }
    }

    /// Forget the lines seen: they are read again.
    pub(super) fn restart(&mut self) {
        self.kept.values_mut().for_each(Vec::clear);
    }

    /// The worst cases of the run in `dir`, with their answers and prompts.
    pub(super) fn finish(self, dir: &Path, m: &Manifest) -> Result<Vec<WorstCase>> {
        let kept = self.kept;
        let mut answers: BTreeMap<(String, String, u32), String> = BTreeMap::new();
        for (model, lows) in &kept {
            for l in lows {
                answers.insert((model.to_string(), l.item.clone(), l.sample), String::new());
            }
        }
        reread_lines(&dir.join(files::RESPONSES), |line| {
            let Some((model, item, sample)) = line.unit_key() else {
                return Ok(());
            };
            let key = (model.into_owned(), item.into_owned(), sample);
            if let Some(answer) = answers.get_mut(&key) {
                if let Some(output) = line.parse::<Answer>()?.and_then(|a| a.output) {
                    *answer = output; // the last answered line of a unit wins
                }
            }
            Ok(())
        })?;
        let mut prompts: BTreeMap<String, String> = BTreeMap::new();
        for lows in kept.values() {
            for l in lows {
                prompts.insert(l.item.clone(), String::new());
            }
        }
        for_each_line(&dir.join(files::ITEMS), |line| {
            let Some(id) = line.item_id() else {
                return Ok(());
            };
            if let Some(prompt) = prompts.get_mut(&*id) {
                if let Some(item) = line.parse::<ItemRecord>()? {
                    *prompt = key_line(&item);
                }
            }
            Ok(())
        })?;

        let mut out = Vec::new();
        for e in &m.models {
            for l in &kept[e.name.as_str()] {
                out.push(WorstCase {
                    prompt_key_line: prompts.get(&l.item).cloned().unwrap_or_default(),
                    answer: answers
                        .get(&(e.name.clone(), l.item.clone(), l.sample))
                        .cloned()
                        .unwrap_or_default(),
                    model: e.name.clone(),
                    item_id: l.item.clone(),
                    dimension: l.dimension.clone(),
                    score: l.score,
                    justification: l.justification.clone(),
                });
            }
        }
        Ok(out)
    }
}

/// A score below the top for (model, item, dimension): it becomes the item's lowest if it is lower than
/// the item's (the first of equal ones stays), and the item is kept if it is among the lowest items.
fn offer(
    lows: &mut Vec<Lowest>,
    s: &ScoreLine<'_>,
    dim: &str,
    score: f64,
    justification: Option<&str>,
) {
    let candidate = || Lowest {
        item: s.item_id.to_string(),
        score,
        dimension: dim.to_string(),
        sample: s.sample,
        justification: justification.map(str::to_string),
    };
    if let Some(low) = lows.iter_mut().find(|l| l.item == s.item_id) {
        let lower = score
            .total_cmp(&low.score)
            .then_with(|| dim.cmp(&low.dimension))
            .is_lt();
        if lower {
            *low = candidate();
        }
    } else if lows.len() < WORST_PER_MODEL {
        lows.push(candidate());
    } else if let Some(worst) = lows
        .iter_mut()
        .max_by(|a, b| a.cmp_key(b.score, &b.item, &b.dimension))
    {
        if worst.cmp_key(score, &s.item_id, dim).is_gt() {
            *worst = candidate();
        }
    }
    lows.sort_by(|a, b| a.cmp_key(b.score, &b.item, &b.dimension));
}

/// The line of a prompt that tells a reader what was asked: the last non-empty line of the last user
/// turn that is not a bare `[section]` heading (for the tutor prompts, the student's last reply).
fn key_line(item: &ItemRecord) -> String {
    let Some(last) = item.messages.iter().rev().find(|m| m.role == Role::User) else {
        return String::new();
    };
    last.content
        .lines()
        .map(str::trim)
        .rev()
        .find(|l| !l.is_empty() && !is_heading(l))
        .unwrap_or("")
        .to_string()
}

/// A bare `[section]` heading such as the tutor prompts' `[开场白]`.
fn is_heading(line: &str) -> bool {
    line.starts_with('[') && line.ends_with(']')
}
