//! `evalrun run`'s flags → a [`Plan`]: each flag, else the configuration's `[run]` default, checked.

use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::RunArgs;
use crate::error::{BadInput, PlanError, UsageError};
use crate::inputs::config::{Config, ResolvedModel};
use crate::manifest::{utc_now, FileRef, DEFAULT_MAX_ERROR_RATE};
use crate::runner::cache::{self, Cache};

use super::{holds_a_run, input_path, parse_shard, Plan, PlanParts};

/// The response cache of `--cache-dir`, else `.evalrun-cache/` beside the configuration file, when
/// `--cache` turns it on (`None`: no cache file is read or written); read unless `--no-cache`.
pub fn cache_of(
    on: bool,
    cache_dir: Option<&PathBuf>,
    config: &Config,
    no_cache: bool,
) -> Option<Arc<Cache>> {
    if !on {
        return None;
    }
    let dir = cache_dir
        .cloned()
        .unwrap_or_else(|| config.base_dir().join(cache::DEFAULT_DIR));
    Some(Arc::new(Cache::new(dir, !no_cache)))
}

impl Plan {
    /// Build the plan from command-line flags; `env` reads environment variables (tests pass their own).
    pub fn from_args(
        args: &RunArgs,
        env: &dyn Fn(&str) -> Option<String>,
        command_line: String,
    ) -> Result<Plan, PlanError> {
        if args.resume && args.out.is_none() {
            return Err(UsageError::new(
                "--resume continues the run in --out DIR: name the run directory",
            )
            .into());
        }
        let config = Config::load(&args.config)?;
        let evalset_path = input_path(
            args.evalset.as_ref(),
            config.run.evalset.as_ref(),
            &config,
            "evalset",
        )?;
        let rubric_path = input_path(
            args.rubric.as_ref(),
            config.run.rubric.as_ref(),
            &config,
            "rubric",
        )?;
        let judge = args
            .judge
            .clone()
            .or_else(|| config.run.judge.clone())
            .filter(|j| j != "none");
        let config_ref = FileRef::of(&args.config).map_err(BadInput)?;
        let out = args.out.clone().unwrap_or_else(default_out_dir);
        let cache_on = args.cache || config.run.cache == Some(true);
        let cache = cache_of(cache_on, args.cache_dir.as_ref(), &config, args.no_cache);
        let baseline = args
            .baseline
            .clone()
            .or_else(|| config.run.baseline.clone());
        let flagship = args
            .flagship
            .clone()
            .or_else(|| config.run.flagship.clone());
        let cluster = args.cluster.clone().or_else(|| config.run.cluster.clone());
        let max_error_rate = args
            .max_error_rate
            .or(config.run.max_error_rate)
            .unwrap_or(DEFAULT_MAX_ERROR_RATE);
        if !(0.0..=1.0).contains(&max_error_rate) {
            return Err(UsageError::new(format!(
                "--max-error-rate must be between 0 and 1, got {max_error_rate}"
            ))
            .into());
        }
        if let Some(c) = &cluster {
            if c.is_empty() || c.split('.').any(str::is_empty) {
                return Err(UsageError::new(format!(
                    "--cluster `{c}`: expected a dotted path into the item, e.g. meta.persona"
                ))
                .into());
            }
        }
        if !args.resume && holds_a_run(&out) {
            return Err(UsageError::new(format!(
                "{} already holds a run; choose a new --out, or pass --resume to continue it",
                out.display()
            ))
            .into());
        }
        let mut plan = Plan::build(PlanParts {
            config,
            config_ref,
            evalset_path,
            rubric_path,
            model_names: args.models.clone(),
            baseline,
            judge,
            judge_samples: args.judge_samples,
            out,
            samples: args.samples,
            concurrency: args.concurrency,
            margin: args.margin,
            limit: args.limit,
            shard: args.shard.as_deref().map(parse_shard).transpose()?,
            quiet: args.quiet,
            simulated: None,
            command_line,
            env,
        })?;
        if let Some(f) = &flagship {
            if !plan.models.iter().any(|m| &m.name == f) {
                return Err(UsageError::new(format!(
                    "flagship `{f}` is not one of --models ({}); add it or pick another with --flagship",
                    args.models.join(", ")
                ))
                .into());
            }
        }
        plan.flagship = flagship;
        plan.cluster = cluster;
        plan.max_error_rate = max_error_rate;
        plan.resume = args.resume;
        plan.dry_run = args.dry_run;
        plan.from = args.from.clone();
        plan.cache = cache;
        if let Some(x) = args.max_cost {
            check_max_cost(x, &plan.models)?;
            plan.max_cost = Some(x);
        }
        Ok(plan)
    }
}

fn default_out_dir() -> PathBuf {
    // RFC 3339 with ':' replaced, so the folder name is valid on every file system.
    PathBuf::from("reports/runs").join(utc_now().replace(':', "-"))
}

/// `--max-cost X` needs a number ≥ 0 and every model's prices (0 is a price; unknown is not).
fn check_max_cost(x: f64, models: &[ResolvedModel]) -> Result<(), UsageError> {
    if !(x.is_finite() && x >= 0.0) {
        return Err(UsageError::new(format!(
            "--max-cost must be a number ≥ 0, got {x}"
        )));
    }
    for m in models {
        if m.config.price_input_per_1k.is_none() || m.config.price_output_per_1k.is_none() {
            return Err(UsageError::new(format!(
                "--max-cost needs prices for model `{}`: set price_input_per_1k and price_output_per_1k in [models.\"{}\"] (0 for a free endpoint)",
                m.name, m.name
            )));
        }
    }
    Ok(())
}
