//! The plan of `evalrun rescore`: a finished run's directory, the rubric to score by and the judge to
//! ask, resolved and validated before any judge call (as [`super::Plan`] is for `run`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;

use crate::cli::RescoreArgs;
use crate::error::{BadInput, UsageError};
use crate::inputs::config::{Config, ResolvedModel};
use crate::inputs::rubric::{self, Rubric};
use crate::inputs::secret::Redactor;
use crate::manifest::{FileRef, Manifest};
use crate::records::files;
use crate::runner::cache::Cache;
use crate::runner::items::ItemFile;
use crate::score::judge::Prompts;

use super::cache_of;

/// A validated rescore: nothing left to check before the judge is asked.
pub struct RescorePlan<'a> {
    /// The run directory, locked by the caller.
    pub dir: &'a Path,
    /// Its manifest, as the run left it.
    pub manifest: Manifest,
    /// The prompts the answers replied to (`items.jsonl`).
    pub items: ItemFile,
    /// The rubric to score by, and its path and hash.
    pub rubric: Rubric,
    /// Path and SHA-256 of the rubric file.
    pub rubric_ref: FileRef,
    /// The judge's name and resolved endpoint; `None` = rule checks only. Of a panel, its names
    /// ("a,b,c") and the first judge.
    pub judge: Option<(String, ResolvedModel)>,
    /// A judge panel's other judges; empty for one judge.
    pub judge_panel: Vec<ResolvedModel>,
    /// The judge's templates (empty without a judge).
    pub prompts: Prompts,
    /// Judge samples per answer.
    pub judge_samples: u32,
    /// Knows the judge's secrets, so that no error message shows them.
    pub redactor: Redactor,
    /// The response cache, when `--cache` turns it on.
    pub cache: Option<Arc<Cache>>,
    /// Maximum judge calls in flight.
    pub concurrency: usize,
    /// No progress line.
    pub quiet: bool,
}

impl<'a> RescorePlan<'a> {
    /// Resolves `args` against the run in `dir` (manifest already read) and the configuration.
    pub fn build(
        dir: &'a Path,
        manifest: Manifest,
        args: &RescoreArgs,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self> {
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
        let items = ItemFile::open(&items_path).map_err(BadInput)?;

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
        let names = match &judge_name {
            Some(j) => super::judges::judge_names(j)?,
            None => Vec::new(),
        };
        let mut judge_panel = Vec::new();
        if !names.is_empty() {
            let config = Config::load(&args.config)?;
            for j in &names {
                let resolved = config
                    .resolve(std::slice::from_ref(j), env, &mut redactor)
                    .map_err(|e| UsageError::new(format!("judge `{j}`: {e}")))?;
                judge_panel.extend(resolved);
            }
            cache = cache_of(args.cache, args.cache_dir.as_ref(), &config, args.no_cache);
        }
        let judge = (!judge_panel.is_empty()).then(|| (names.join(","), judge_panel.remove(0)));
        Ok(RescorePlan {
            dir,
            manifest,
            items,
            rubric,
            rubric_ref,
            judge,
            judge_panel,
            prompts,
            judge_samples,
            redactor,
            cache,
            concurrency: args.concurrency.max(1),
            quiet: args.quiet,
        })
    }
}
