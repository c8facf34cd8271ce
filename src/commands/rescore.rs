//! `evalrun rescore DIR [--judge NAME] [--rubric F]`: score a finished run's answers again — rules,
//! reference metrics, the judge's grades and GSB — without asking the models for anything. Only the
//! judge model is called, and with `--cache` not for a prompt whose reply the response cache holds
//! (`--no-cache` asks again). The answers come from `responses.jsonl` and the prompts they answered from
//! `items.jsonl`; `scores.jsonl`, `pairwise.jsonl` and `judgements.jsonl` are rewritten, then the
//! manifest (judge, rubric, `rescored`) and every report.

use anyhow::Result;

use crate::cli::RescoreArgs;
use crate::error::{exit, BadInput};
use crate::manifest::Manifest;
use crate::plan::rescore::RescorePlan;
use crate::records::files;
use crate::runner::judge_phase::judge_dead;
use crate::runner::lock::RunLock;
use crate::runner::rescore::rescore;

/// Rescore the run directory of `args`. Returns the exit code.
pub async fn run(
    args: RescoreArgs,
    env: &dyn Fn(&str) -> Option<String>,
    command_line: String,
) -> Result<u8> {
    let dir = &args.dir;
    let manifest = Manifest::read(dir).map_err(BadInput)?;
    let _lock = RunLock::acquire(dir)?;
    let plan = RescorePlan::build(dir, manifest, &args, env)?;
    let judge = plan.judge.as_ref().map(|(name, _)| name.clone());
    let done = rescore(plan, command_line).await?;
    print!("{}", done.stdout);
    if let Some(j) = &judge {
        let tally = &done.tally;
        if judge_dead(tally) {
            eprintln!(
                "evalrun: every call to the judge {j} failed; see the errors in {}",
                dir.join(files::JUDGEMENTS).display()
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
