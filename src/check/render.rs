//! The plain-text report `evalrun check` prints: `Display for Makeup`.

use std::collections::BTreeMap;
use std::fmt;

use super::{FindingKind, Makeup, NEAR_DUPLICATE_JACCARD, NO_CATEGORY};
use crate::display::display_width;

pub(super) fn pad(s: &str, columns: usize) -> String {
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
