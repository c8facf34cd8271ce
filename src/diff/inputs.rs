//! Two runs can be diffed item by item only when they ran the same inputs: the same rubric, and the same
//! eval set — or one run's items a clear subset of the other's (`--limit`, a shorter copy of the set),
//! each shared item identical. Otherwise the diff is refused naming the files, unless
//! `--allow-changed`; the notes say what is compared.

use std::path::Path;

use anyhow::Result;

use crate::error::UsageError;
use crate::manifest::Manifest;
use crate::records::files;

use super::read::{self, RunFacts};

/// Refuse (exit 2) when the runs' inputs differ, unless `allow_changed`; else notes for the output.
pub fn check(a: &RunFacts, b: &RunFacts, allow_changed: bool) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    let mut problems = Vec::new();
    let (ma, mb) = (&a.manifest, &b.manifest);
    if ma.rubric.sha256 != mb.rubric.sha256 {
        problems.push(format!(
            "rubric: {} (sha256 {}…, in {}) ≠ {} (sha256 {}…, in {})",
            ma.rubric.path,
            short(&ma.rubric.sha256),
            manifest_path(&a.dir),
            mb.rubric.path,
            short(&mb.rubric.sha256),
            manifest_path(&b.dir)
        ));
    }
    let (ia, ib) = (read::items(&a.dir)?, read::items(&b.dir)?);
    let changed: Vec<&str> = ia
        .iter()
        .filter(|(id, text)| ib.get(*id).is_some_and(|t| t != *text))
        .map(|(id, _)| id.as_str())
        .collect();
    let only_a = ia.keys().filter(|k| !ib.contains_key(*k)).count();
    let only_b = ib.keys().filter(|k| !ia.contains_key(*k)).count();
    let shared = ia.len() - only_a;
    let (pa, pb) = (a.dir.join(files::ITEMS), b.dir.join(files::ITEMS));
    if !changed.is_empty() {
        problems.push(format!(
            "{} item{} differ between {} and {}: {}",
            changed.len(),
            if changed.len() == 1 { "" } else { "s" },
            pa.display(),
            pb.display(),
            list(&changed)
        ));
    } else if shared == 0 {
        problems.push(format!(
            "no item is in both {} and {}",
            pa.display(),
            pb.display()
        ));
    } else if ma.evalset.sha256 != mb.evalset.sha256 && only_a > 0 && only_b > 0 {
        problems.push(format!(
            "eval set: {} (sha256 {}…) ≠ {} (sha256 {}…) and neither run's items are a subset of the \
             other's ({only_a} only in {}, {only_b} only in {})",
            ma.evalset.path,
            short(&ma.evalset.sha256),
            mb.evalset.path,
            short(&mb.evalset.sha256),
            pa.display(),
            pb.display()
        ));
    }
    if !problems.is_empty() && !allow_changed {
        return Err(UsageError::new(format!(
            "the runs did not measure the same inputs, so an item's change would not be the model's:\n  \
             {}\ndiff runs of the same eval set and rubric, or pass --allow-changed to compare the items \
             they share anyway",
            problems.join("\n  ")
        ))
        .into());
    }
    for p in &problems {
        notes.push(format!(
            "**compared despite changed inputs (--allow-changed)**: {p}"
        ));
    }
    if ma.evalset.sha256 == mb.evalset.sha256 && problems.is_empty() {
        notes.push(format!(
            "inputs: same eval set (sha256 {}…), same rubric (sha256 {}…)",
            short(&ma.evalset.sha256),
            short(&ma.rubric.sha256)
        ));
    } else if problems.is_empty() {
        notes.push(format!(
            "inputs: eval sets differ ({} vs {}) but every shared item is identical and one run's items \
             are a subset of the other's; same rubric",
            ma.evalset.path, mb.evalset.path
        ));
    }
    if only_a + only_b > 0 {
        notes.push(format!(
            "compared on the {shared} items both runs have ({only_a} only in A, {only_b} only in B)"
        ));
    }
    if ma.judge != mb.judge {
        notes.push(format!(
            "judge: {} in A, {} in B — a judged score's change may be the judge's",
            ma.judge.as_deref().unwrap_or("none"),
            mb.judge.as_deref().unwrap_or("none")
        ));
    }
    let (na, nb) = (names(ma), names(mb));
    let only: Vec<String> = na
        .iter()
        .filter(|m| !nb.contains(m))
        .map(|m| format!("{m} (only in A)"))
        .chain(
            nb.iter()
                .filter(|m| !na.contains(m))
                .map(|m| format!("{m} (only in B)")),
        )
        .collect();
    if !only.is_empty() {
        notes.push(format!("not compared: {}", only.join(", ")));
    }
    Ok(notes)
}

fn names(m: &Manifest) -> Vec<String> {
    m.models.iter().map(|e| e.name.clone()).collect()
}

fn manifest_path(dir: &Path) -> String {
    dir.join(files::MANIFEST).display().to_string()
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

fn list(ids: &[&str]) -> String {
    let head: Vec<&str> = ids.iter().take(5).copied().collect();
    match ids.len() {
        n if n > 5 => format!("{} … (+{})", head.join(", "), n - 5),
        _ => head.join(", "),
    }
}
