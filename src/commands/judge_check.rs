//! `evalrun judge-check --frozen RUN`: the judge drift canary. The frozen run's recorded answers are
//! graded again by the judge (no answering model is asked) in a scratch copy, by `rescore`'s
//! machinery, and the new grades compared with the recorded ones per dimension
//! (`crate::gate::judge_drift`). Exit 1 on drift (or a judge that could not be asked), 2 on bad input.

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{JudgeCheckArgs, RescoreArgs};
use crate::error::{exit, BadInput, UsageError};
use crate::gate::judge_drift::{self, Params};
use crate::gate::Run;
use crate::manifest::Manifest;
use crate::plan::rescore::RescorePlan;
use crate::runner::judge_phase::judge_dead;
use crate::runner::lock::RunLock;
use crate::runner::rescore::{rescore, scratch_copy, scratch_dir};

/// Re-judge `args.frozen` and compare. Returns the exit code.
pub async fn run(
    args: JudgeCheckArgs,
    env: &dyn Fn(&str) -> Option<String>,
    command_line: String,
) -> Result<u8> {
    let ok_alpha = args.alpha > 0.0 && args.alpha <= 1.0;
    if !ok_alpha || args.tolerance.is_some_and(|t| !(t.is_finite() && t >= 0.0)) {
        return Err(UsageError::new("--alpha must lie in (0, 1], --tolerance be ≥ 0").into());
    }
    let frozen = Run::read(&args.frozen, None)?;
    let temporary = args.out.is_none();
    let dir = args.out.clone().unwrap_or_else(scratch_dir);
    scratch_copy(&args.frozen, &dir)?;
    let result = check(&args, &frozen, &dir, env, command_line).await;
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn check(
    args: &JudgeCheckArgs,
    frozen: &Run,
    dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    command_line: String,
) -> Result<u8> {
    let _lock = RunLock::acquire(dir)?;
    let rescore_args = RescoreArgs {
        dir: dir.to_path_buf(),
        judge: args.judge.clone(),
        rubric: None,
        config: args.config.clone(),
        judge_samples: None,
        concurrency: args.concurrency,
        cache: false,
        no_cache: false,
        cache_dir: None,
        quiet: args.quiet,
    };
    let manifest = Manifest::read(dir).map_err(BadInput)?;
    let mut plan = RescorePlan::build(dir, manifest, &rescore_args, env)?;
    if plan.judge.is_none() || frozen.manifest.judge.is_none() {
        return Err(UsageError::new(
            "judge-check needs the frozen run's judge grades and a judge to ask now",
        )
        .into());
    }
    if plan.rubric_ref.sha256 != plan.manifest.rubric.sha256 {
        return Err(UsageError::new(format!(
            "{}: the rubric changed since the frozen run, so new grades would not measure the judge alone",
            plan.rubric_ref.path
        ))
        .into());
    }
    // Grades only: the pairwise verdicts are not compared, so the judge is not asked for them.
    plan.manifest.baseline = None;
    let judge = plan
        .judge
        .as_ref()
        .map_or(String::new(), |(n, _)| n.clone());
    let done = rescore(plan, command_line).await?;
    if judge_dead(&done.tally) {
        eprintln!("evalrun: every call to the judge {judge} failed; nothing to compare");
        return Ok(exit::FAILURE);
    }
    let rejudged = Run::read(dir, None)?;
    let params = Params {
        alpha: args.alpha,
        tolerance: args.tolerance,
    };
    let result = judge_drift::compare(frozen, &rejudged, &params);
    print!("{}", judge_drift::render_md(&result));
    if let Some(path) = &args.json {
        let text = format!("{}\n", serde_json::to_string_pretty(&result)?);
        std::fs::write(path, text)
            .with_context(|| format!("could not write {}", path.display()))?;
    }
    Ok(if result.drift() {
        exit::FAILURE
    } else {
        exit::SUCCESS
    })
}
