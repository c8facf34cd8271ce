//! The plan: flags and files → a validated [`Plan`], before any request (DESIGN §1). Every input error
//! is found here and reported as `FILE:LINE: …` (exit 2), as ripgrep turns low-level flags into a
//! validated high-level plan. `run` builds it from its flags, `demo` from the shipped inputs; `check`,
//! `merge` and `rescore` share its input paths and shard syntax.

use std::path::{Path, PathBuf};
use std::sync::Arc;

mod from_args;
pub mod gate;
mod inputs;
pub mod judges;
pub mod rescore;

pub use from_args::cache_of;
pub use inputs::{input_path, load_inputs, parse_shard, Inputs, Selection};

use crate::error::{BadInput, PlanError, UsageError};
use crate::inputs::config::{Config, ResolvedModel};
use crate::inputs::rubric::Rubric;
use crate::inputs::secret::Redactor;
use crate::manifest::{self, FileRef, Manifest, ModelEntry, Simulated, DEFAULT_MAX_ERROR_RATE};
use crate::records::files;
use crate::runner::cache::Cache;
use crate::runner::items::ItemFile;
use crate::score::judge::Prompts;

/// A validated run: nothing left to check before sending.
pub struct Plan {
    /// Path and SHA-256 of the config file.
    pub config_ref: FileRef,
    /// Path and SHA-256 of the evalset file.
    pub evalset_ref: FileRef,
    /// Path and SHA-256 of the rubric file.
    pub rubric_ref: FileRef,
    /// The evalset items this run covers (after `--limit` and `--shard`), on disk.
    pub items: ItemFile,
    /// The validated rubric.
    pub rubric: Rubric,
    /// The answering models, resolved from the config.
    pub models: Vec<ResolvedModel>,
    /// Name of the baseline model the others are compared against.
    pub baseline: String,
    /// Name of the judge model, when the run is judged.
    pub judge: Option<String>,
    /// The judge, resolved like any model (its secrets read now); `None` = rule checks only. Of a
    /// panel (`--judge a,b,c`; `judge` is then "a,b,c"), the first judge.
    pub judge_model: Option<ResolvedModel>,
    /// A judge panel's other judges, resolved; empty for one judge.
    pub judge_panel: Vec<ResolvedModel>,
    /// Judge samples per answer.
    pub judge_samples: u32,
    /// The judge's templates (the rubric's or the built-in ones), validated; `None` without a judge.
    pub prompts: Option<Prompts>,
    /// The run directory records are written to.
    pub out: PathBuf,
    /// Answer samples per item and model.
    pub samples: u32,
    /// Maximum requests in flight across the run.
    pub concurrency: usize,
    /// `--margin`: overrides every dimension's margin; `None` = the rubric's, else 0.05 × range.
    pub margin: Option<f64>,
    /// `--flagship` / `[run].flagship` (validated: one of the models).
    pub flagship: Option<String>,
    /// `--cluster` / `[run].cluster`.
    pub cluster: Option<String>,
    /// `--max-error-rate` / `[run].max_error_rate`, else 0.02.
    pub max_error_rate: f64,
    /// `--limit`: the cap on the number of items, when given.
    pub limit: Option<usize>,
    /// `--shard k/n` as `(k, n)`, when given.
    pub shard: Option<(usize, usize)>,
    /// `--quiet`: no progress output.
    pub quiet: bool,
    /// Removes secrets from anything written or shown.
    pub redactor: Redactor,
    /// Present when the endpoints are simulated.
    pub simulated: Option<Simulated>,
    /// The command line, recorded in the manifest.
    pub command_line: String,
    /// Continue the run in `out` (`--resume`).
    pub resume: bool,
    /// `--dry-run`: print what would be sent, send nothing.
    pub dry_run: bool,
    /// `--max-cost`: stop sending before the spend would pass this.
    pub max_cost: Option<f64>,
    /// The response cache; `None` (the demo) neither reads nor writes one.
    pub cache: Option<Arc<Cache>>,
    /// `--dry-run --from DIR`: the run whose variance gives the planned run's MDE.
    pub from: Option<PathBuf>,
}

impl Plan {
    /// Validates the parts and builds the plan; input errors come back as `PlanError`.
    pub fn build(p: PlanParts<'_>) -> Result<Plan, PlanError> {
        if p.model_names.is_empty() {
            return Err(UsageError::new("--models: name at least one model").into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in &p.model_names {
            if !seen.insert(m) {
                return Err(UsageError::new(format!("--models: `{m}` is listed twice")).into());
            }
            p.config.model(m)?;
        }
        if p.samples == 0 {
            return Err(UsageError::new("--samples must be at least 1").into());
        }
        if p.judge_samples == 0 {
            return Err(UsageError::new("--judge-samples must be at least 1").into());
        }
        if p.judge_samples > 1 && p.judge.is_none() {
            return Err(UsageError::new(
                "--judge-samples needs a judge: pass --judge NAME or set [run].judge",
            )
            .into());
        }
        if p.concurrency == 0 {
            return Err(UsageError::new("--concurrency must be at least 1").into());
        }
        if let Some(m) = p.margin.filter(|m| !(m.is_finite() && *m >= 0.0)) {
            return Err(UsageError::new(format!("--margin must be ≥ 0, got {m}")).into());
        }
        let baseline = p.baseline.unwrap_or_else(|| p.model_names[0].clone());
        if !p.model_names.contains(&baseline) {
            return Err(UsageError::new(format!(
                "baseline `{baseline}` is not one of --models ({}); add it or pick another with --baseline",
                p.model_names.join(", ")
            )).into());
        }
        let selection = Selection {
            limit: p.limit,
            shard: p.shard,
        };
        let inputs = load_inputs(&p.evalset_path, &p.rubric_path, selection)?;
        let items = inputs.items;
        if items.is_empty() {
            return Err(UsageError::in_file(
                &p.evalset_path,
                "no items to run (after --limit/--shard)",
            )
            .into());
        }
        let mut redactor = Redactor::default();
        let models = p.config.resolve(&p.model_names, p.env, &mut redactor)?;
        let judge_names = match &p.judge {
            Some(j) => judges::judge_names(j)?,
            None => Vec::new(),
        };
        let mut judge_panel = Vec::new();
        for j in &judge_names {
            let resolved = p
                .config
                .resolve(std::slice::from_ref(j), p.env, &mut redactor)
                .map_err(|e| UsageError::new(format!("judge `{j}`: {e}")))?;
            judge_panel.extend(resolved);
        }
        let judge_model = (!judge_panel.is_empty()).then(|| judge_panel.remove(0));
        let judge = (!judge_names.is_empty()).then(|| judge_names.join(","));
        let prompts = match &p.judge {
            Some(_) => Some(
                Prompts::of(&inputs.rubric).map_err(|e| UsageError::in_file(&p.rubric_path, e))?,
            ),
            None => None,
        };
        let hash = |path: &Path| FileRef::of(path).map_err(BadInput);
        Ok(Plan {
            config_ref: p.config_ref,
            evalset_ref: hash(&p.evalset_path)?,
            rubric_ref: hash(&p.rubric_path)?,
            items,
            rubric: inputs.rubric,
            models,
            baseline,
            judge,
            judge_model,
            judge_panel,
            judge_samples: p.judge_samples,
            prompts,
            out: p.out,
            samples: p.samples,
            concurrency: p.concurrency,
            margin: p.margin,
            flagship: None,
            cluster: None,
            max_error_rate: DEFAULT_MAX_ERROR_RATE,
            limit: p.limit,
            shard: p.shard,
            quiet: p.quiet,
            redactor,
            simulated: p.simulated,
            command_line: p.command_line,
            resume: false,
            dry_run: false,
            max_cost: None,
            cache: None,
            from: None,
        })
    }

    /// The manifest of this plan's run, started at `started`.
    pub fn manifest(&self, started: String) -> Manifest {
        Manifest {
            tool: "evalrun".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            run_id: self
                .out
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| started.clone()),
            command_line: self.command_line.clone(),
            started_utc: started,
            finished_utc: None,
            config: self.config_ref.clone(),
            evalset: self.evalset_ref.clone(),
            rubric: self.rubric_ref.clone(),
            items: self.items.len(),
            models: self.models.iter().map(ModelEntry::of).collect(),
            baseline: Some(self.baseline.clone()),
            judge: self.judge.clone(),
            judge_model: self.judge_model.as_ref().map(ModelEntry::of),
            judge_panel: self.judge_panel.iter().map(ModelEntry::of).collect(),
            samples: self.samples,
            judge_samples: self.judge_samples,
            limit: self.limit,
            shard: self.shard.map(|(k, n)| format!("{k}/{n}")),
            margin: self.margin,
            flagship: self.flagship.clone(),
            cluster: self.cluster.clone(),
            max_error_rate: self.max_error_rate,
            max_cost: self.max_cost,
            max_cost_reached_utc: None,
            cache: self.cache.is_some(),
            dimensions: manifest::dimensions_of(&self.rubric),
            simulated: self.simulated.clone(),
            resumed_utc: Vec::new(),
            interrupted_utc: None,
            rescored: None,
        }
    }
}

/// Whether `dir` already holds records of a run.
pub fn holds_a_run(dir: &Path) -> bool {
    dir.join(files::RESPONSES)
        .metadata()
        .map(|m| m.len() > 0)
        .unwrap_or(false)
}

/// The parts a plan is built from, whether they come from flags (`run`) or are assembled (`demo`).
pub struct PlanParts<'a> {
    /// The parsed config.
    pub config: Config,
    /// Path and SHA-256 of the config file.
    pub config_ref: FileRef,
    /// Path of the evalset file.
    pub evalset_path: PathBuf,
    /// Path of the rubric file.
    pub rubric_path: PathBuf,
    /// Names of the models to run (`--models`).
    pub model_names: Vec<String>,
    /// `--baseline`, when given.
    pub baseline: Option<String>,
    /// `--judge`, when given.
    pub judge: Option<String>,
    /// `--judge-samples`.
    pub judge_samples: u32,
    /// The run directory.
    pub out: PathBuf,
    /// Answer samples per item and model.
    pub samples: u32,
    /// Maximum requests in flight across the run.
    pub concurrency: usize,
    /// `--margin`; `None` = each dimension's own.
    pub margin: Option<f64>,
    /// `--limit`, when given.
    pub limit: Option<usize>,
    /// `--shard k/n` as `(k, n)`, when given.
    pub shard: Option<(usize, usize)>,
    /// `--quiet`: no progress output.
    pub quiet: bool,
    /// Present when the endpoints are simulated.
    pub simulated: Option<Simulated>,
    /// The command line, recorded in the manifest.
    pub command_line: String,
    /// Looks up environment variables (for secrets); injectable for tests.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}
