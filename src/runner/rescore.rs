//! Rescoring a finished run: its recorded answers scored again — rules, reference metrics, the judge's
//! grades and GSB — with only the judge asked. `scores.jsonl`, `pairwise.jsonl` and
//! `judgements.jsonl` are rewritten, then the manifest (judge, rubric, `rescored`) and every report.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::manifest::{self, utc_now, ModelEntry, Rescored};
use crate::plan::rescore::RescorePlan;
use crate::records::files;
use crate::report::derive;
use crate::runner::interrupt::Interrupt;
use crate::runner::judge_phase::{judge_model, judge_phase, JudgePhase};
use crate::runner::judging::JudgeTally;

/// What a rescore did: the judge's tally, and the summary to print.
pub struct Rescore {
    /// Judge calls made, failed and left without a verdict.
    pub tally: JudgeTally,
    /// The short summary `run` prints too.
    pub stdout: String,
}

/// Scores the plan's run again and rewrites its records, manifest and reports.
pub async fn rescore(p: RescorePlan<'_>, command_line: String) -> Result<Rescore> {
    let RescorePlan {
        dir,
        mut manifest,
        judge,
        ..
    } = p;
    let judge_name = judge.as_ref().map(|(n, _)| n.clone());
    let judge_entry = judge.as_ref().map(|(_, m)| ModelEntry::of(m));
    let judge = judge
        .map(|(_, m)| judge_model(m, &p.redactor, p.judge_samples))
        .transpose()?;
    let panel_entries: Vec<ModelEntry> = p.judge_panel.iter().map(ModelEntry::of).collect();
    let panel = (p.judge_panel.into_iter())
        .map(|m| judge_model(m, &p.redactor, p.judge_samples))
        .collect::<Result<Vec<_>, _>>()?;

    // The old judge calls belong to the old scores.
    let judgements = dir.join(files::JUDGEMENTS);
    if judgements.exists() {
        std::fs::remove_file(&judgements)?;
    }
    let tally = judge_phase(JudgePhase {
        dir,
        rubric: Arc::new(p.rubric.clone()),
        prompts: Arc::new(p.prompts),
        items: Arc::new(p.items),
        models: manifest.models.iter().map(|m| m.name.clone()).collect(),
        baseline: manifest.baseline.clone(),
        judge,
        panel,
        concurrency: p.concurrency,
        quiet: p.quiet,
        // The old judge calls belong to the old scores: nothing to resume.
        resume: false,
        cache: p.cache,
        // Not listened to: Ctrl-C ends `rescore` at once, as before.
        interrupt: Interrupt::new(),
    })
    .await?;

    manifest.judge_samples = if judge_name.is_some() {
        p.judge_samples
    } else {
        1
    };
    manifest.judge = judge_name;
    manifest.judge_model = judge_entry;
    manifest.judge_panel = panel_entries;
    manifest.rubric = p.rubric_ref;
    manifest.dimensions = manifest::dimensions_of(&p.rubric);
    manifest.rescored = Some(Rescored {
        command_line,
        utc: utc_now(),
    });
    manifest.write(dir)?;
    let (summary, ctx) = derive::write_reports(dir, &manifest, None)?;
    Ok(Rescore {
        tally,
        stdout: derive::stdout_summary(dir, &summary, &ctx),
    })
}

/// Copies the records of the run in `from` into `to` (a new or empty directory) for a rescore that
/// must leave the original alone (`judge-check`): its top-level files but the lock and the old judge
/// calls (the rescore rewrites scores and reports).
pub fn scratch_copy(from: &Path, to: &Path) -> Result<()> {
    if to.exists() && std::fs::read_dir(to)?.next().is_some() {
        return Err(crate::error::UsageError::new(format!(
            "{}: not empty; give a new or empty directory",
            to.display()
        ))
        .into());
    }
    std::fs::create_dir_all(to).with_context(|| format!("could not create {}", to.display()))?;
    let skip = [crate::runner::lock::LOCK_FILE, files::JUDGEMENTS];
    for entry in
        std::fs::read_dir(from).with_context(|| format!("could not read {}", from.display()))?
    {
        let entry = entry?;
        let name = entry.file_name();
        if entry.file_type()?.is_file() && !skip.iter().any(|s| name == *s) {
            std::fs::copy(entry.path(), to.join(&name))
                .with_context(|| format!("could not copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// A fresh directory name under the system's temporary folder, for a [`scratch_copy`].
pub fn scratch_dir() -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("evalrun-scratch-{}-{stamp}", std::process::id()))
}
