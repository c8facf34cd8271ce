//! `evalrun run`: flags and files → a validated `Plan` (`crate::plan`: every input error found there,
//! exit 2, before any request) → the run pipeline (`runner::pipeline`: answers under limits → scores →
//! with a judge, the judge phase → summary and reports).
//!
//! With `--cache`, the response cache (`runner::cache`, `.evalrun-cache/` beside the configuration or
//! `--cache-dir`) answers what an earlier run already received, for answers and judge calls alike;
//! `--no-cache` then skips its reads but still writes it. Without `--cache` no cache file is touched.

use anyhow::Result;

use crate::cli::RunArgs;
use crate::runner::lock::RunLock;
use crate::runner::pipeline;

// Kept at their old paths for callers outside this crate's commands.
pub use crate::plan::{
    cache_of, input_path, load_inputs, parse_shard, Inputs, Plan, PlanParts, Selection,
};
pub use crate::records::files::ITEMS as ITEMS_FILE;
pub use crate::runner::dry_run::dry_run_report;
pub use crate::runner::judge_phase::{judge_dead, judge_phase, JudgePhase};
pub use crate::runner::pipeline::execute;

/// Build the plan from the flags and run it. Returns the exit code.
pub async fn run(
    args: &RunArgs,
    env: &dyn Fn(&str) -> Option<String>,
    command_line: String,
) -> Result<u8> {
    let plan = Plan::from_args(args, env, command_line)?;
    if plan.dry_run {
        return pipeline::execute(plan).await;
    }
    // One writer per run directory, for the whole command (`runner::lock`).
    let _lock = RunLock::create(&plan.out, "--out")?;
    pipeline::execute(plan).await
}
