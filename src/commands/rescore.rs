//! `evalrun rescore DIR [--judge NAME] [--rubric F]`: score a finished run's answers again — rules,
//! reference metrics, the judge's grades and GSB — without asking the models for anything. Only the
//! judge model is called, and with `--cache` not for a prompt whose reply the response cache holds
//! (`--no-cache` asks again). The answers come from `responses.jsonl` and the prompts they answered from
//! `items.jsonl`; `scores.jsonl`, `pairwise.jsonl` and `judgements.jsonl` are rewritten, then the
//! manifest (judge, rubric, `rescored`) and every report.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;

use crate::cli::RescoreArgs;
use crate::error::{exit, BadInput, UsageError};
use crate::inputs::config::Config;
use crate::inputs::evalset::Item;
use crate::inputs::rubric;
use crate::inputs::secret::Redactor;
use crate::manifest::{self, utc_now, FileRef, Manifest, ModelEntry, Rescored};
use crate::plan::cache_of;
use crate::records::{files, read_jsonl, ItemRecord};
use crate::report::derive;
use crate::runner::interrupt::Interrupt;
use crate::runner::judge_phase::{judge_dead, judge_model, judge_phase, JudgePhase};
use crate::score::judge::Prompts;

/// Rescore the run directory of `args`. Returns the exit code.
pub async fn run(
    args: RescoreArgs,
    env: &dyn Fn(&str) -> Option<String>,
    command_line: String,
) -> Result<u8> {
    let dir = &args.dir;
    let mut manifest = Manifest::read(dir).map_err(BadInput)?;
    let _lock = crate::runner::lock::RunLock::acquire(dir)?;
    let items_path = dir.join(files::ITEMS);
    if !items_path.exists() {
        return Err(UsageError::new(format!(
            "{}: no {}, so the prompts the answers replied to are unknown; rescore needs a run \
             directory written by `evalrun run` or `evalrun demo`",
            dir.display(),
            files::ITEMS
        ))
        .into());
    }
    let items: Vec<Item> = read_jsonl::<ItemRecord>(&items_path)
        .map_err(BadInput)?
        .into_iter()
        .map(Item::from)
        .collect();

    let rubric_path = args
        .rubric
        .clone()
        .unwrap_or_else(|| PathBuf::from(&manifest.rubric.path));
    if !rubric_path.exists() {
        return Err(UsageError::new(format!(
            "rubric {} (from {}) not found; pass --rubric F",
            rubric_path.display(),
            files::MANIFEST
        ))
        .into());
    }
    let rubric = rubric::load(&rubric_path)?;
    let rubric_ref = FileRef::of(&rubric_path).map_err(BadInput)?;
    if args.rubric.is_none() && rubric_ref.sha256 != manifest.rubric.sha256 {
        eprintln!(
            "evalrun: note: {} changed since the run; the new scores follow the file as it is now",
            rubric_path.display()
        );
    }

    let judge_name = args
        .judge
        .clone()
        .or_else(|| manifest.judge.clone())
        .filter(|j| j != "none");
    let judge_samples = args.judge_samples.unwrap_or(manifest.judge_samples).max(1);
    if args.judge_samples == Some(0) {
        return Err(UsageError::new("--judge-samples must be at least 1").into());
    }
    let prompts = match &judge_name {
        Some(_) => Prompts::of(&rubric).map_err(|e| UsageError::in_file(&rubric_path, e))?,
        None => Prompts {
            grade: String::new(),
            pair: String::new(),
        },
    };
    let mut redactor = Redactor::default();
    let mut cache = None;
    let judge = match &judge_name {
        Some(j) => {
            let config = Config::load(&args.config)?;
            let resolved = config
                .resolve(std::slice::from_ref(j), env, &mut redactor)
                .map_err(|e| UsageError::new(format!("judge `{j}`: {e}")))?
                .pop()
                .expect("one model resolved");
            cache = cache_of(args.cache, args.cache_dir.as_ref(), &config, args.no_cache);
            Some(resolved)
        }
        None => None,
    };
    let judge_entry = judge.as_ref().map(ModelEntry::of);
    let judge_model = judge
        .map(|m| judge_model(m, &redactor, judge_samples))
        .transpose()?;

    // The old judge calls belong to the old scores.
    let judgements = dir.join(files::JUDGEMENTS);
    if judgements.exists() {
        std::fs::remove_file(&judgements)?;
    }
    let tally = judge_phase(JudgePhase {
        dir,
        rubric: Arc::new(rubric.clone()),
        prompts: Arc::new(prompts),
        items: Arc::new(items),
        models: manifest.models.iter().map(|m| m.name.clone()).collect(),
        baseline: manifest.baseline.clone(),
        judge: judge_model,
        concurrency: args.concurrency.max(1),
        quiet: args.quiet,
        // The old judge calls belong to the old scores: nothing to resume.
        resume: false,
        cache,
        // Not listened to: Ctrl-C ends `rescore` at once, as before.
        interrupt: Interrupt::new(),
    })
    .await?;

    manifest.judge = judge_name.clone();
    manifest.judge_model = judge_entry;
    manifest.judge_samples = if judge_name.is_some() {
        judge_samples
    } else {
        1
    };
    manifest.rubric = rubric_ref;
    manifest.dimensions = manifest::dimensions_of(&rubric);
    manifest.rescored = Some(Rescored {
        command_line,
        utc: utc_now(),
    });
    manifest.write(dir)?;
    let (summary, ctx) = derive::write_reports(dir, &manifest, None)?;
    print!("{}", derive::stdout_summary(dir, &summary, &ctx));
    if let Some(j) = &judge_name {
        if judge_dead(&tally) {
            eprintln!(
                "evalrun: every call to the judge {j} failed; see the errors in {}",
                judgements.display()
            );
            return Ok(exit::FAILURE);
        }
        if tally.unjudged_answers > 0 || tally.unjudged_pairs > 0 {
            eprintln!(
                "evalrun: the judge left {} answers and {} pairs without a usable verdict; means are over the rest",
                tally.unjudged_answers, tally.unjudged_pairs
            );
        }
    }
    Ok(exit::SUCCESS)
}
