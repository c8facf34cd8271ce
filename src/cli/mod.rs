//! Command-line interface (SPEC §1). `evalrun` with no subcommand means `evalrun run`.

use clap::{Parser, Subcommand};

mod compare;
mod history;
mod offline;
mod rejudge;
mod review;
mod run;

use compare::DIFF_HELP;
pub use compare::{DiffArgs, GateArgs};
use history::HISTORY_HELP;
pub use history::{HistoryAction, HistoryAddArgs, HistoryArgs, HistoryShowArgs};
pub use offline::{CheckArgs, MergeArgs, ModelsArgs, PlanArgs, ReportArgs};
use rejudge::JUDGE_CHECK_HELP;
pub use rejudge::{JudgeCheckArgs, RescoreArgs};
pub use review::{CalibrateArgs, ReviewAction, ReviewArgs, ReviewExportArgs, ReviewImportArgs};
pub use run::{DemoArgs, RunArgs};

const EXAMPLES: &str = "\
Examples:
  evalrun demo                                   # the whole pipeline against the built-in simulator, no keys
  evalrun --models ernie-4.0,ernie-speed,sft-e6  # = evalrun run --models …, settings from ./evalrun.toml
  evalrun run --models a,b --judge none --evalset evalsets/oral_english.jsonl --out reports/runs/try1
  evalrun models                                 # what is configured (never prints secrets)
  evalrun check --evalset evalsets/oral_english.jsonl --rubric rubrics/oral_english.toml
  evalrun report reports/runs/try1               # re-derive summary and reports from the records
  evalrun rescore reports/runs/try1 --judge ernie-4.0   # re-judge recorded answers; no model is asked again
  evalrun sim --addr 127.0.0.1:8765              # serve the simulator for your own clients
  evalrun --models a,b --out reports/runs/try1 --resume   # continue a killed or interrupted run
  evalrun gate --baseline reports/accepted --candidate reports/runs/try1   # exit 1 on a regression
  evalrun merge shard-1 shard-2 --out reports/runs/full                  # join --shard K/N runs
  evalrun review export reports/runs/try1 --sample 60   # a blind sheet for people; then review import, calibrate
  evalrun diff reports/accepted reports/runs/try1 --format html --out diff.html  # item by item

Exit codes: 0 success, 1 a failure the command exists to report, 2 bad usage/input/configuration,
130 interrupted.";

#[derive(Debug, Parser)]
#[command(
    name = "evalrun",
    version,
    about = "Evaluate LLM endpoints: run an eval set through each model under its rate limits, score the \
             answers by rules and a judge, compare models with honest statistics, and write a report.",
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the eval set through each model, score, aggregate, write a run directory, print a summary.
    #[command(
        after_help = "Example:\n  evalrun run --models ernie-4.0,ernie-speed --judge none --limit 10"
    )]
    Run(RunArgs),
    /// Start the built-in simulator on a free loopback port and run the seed line-up end to end
    /// (no keys, no network).
    #[command(after_help = "Example:\n  evalrun demo --out /tmp/demo && less /tmp/demo/report.md")]
    Demo(DemoArgs),
    /// Serve the endpoint simulator in the foreground (Qianfan v1/v2 and OpenAI wire protocols).
    #[command(
        after_help = "Example:\n  evalrun sim --addr 127.0.0.1:8765 --faults rate=5,tear=0.05"
    )]
    Sim(crate::sim::SimArgs),
    /// Re-derive a run directory's summary and reports from its records alone, calling no endpoint.
    #[command(after_help = "Example:\n  evalrun report reports/runs/2026-11-22T10:00:00Z")]
    Report(ReportArgs),
    /// Re-judge a finished run's recorded answers (rules, reference metrics, judge grades, GSB) without
    /// asking the models again; rewrites scores, pairwise verdicts, judgements, summary and reports.
    #[command(
        after_help = "Example:\n  evalrun rescore reports/runs/try1 --judge ernie-4.0 --judge-samples 3"
    )]
    Rescore(RescoreArgs),
    /// The judge drift canary: re-judge a frozen run's recorded answers (no model is asked) and compare
    /// the new grades with the recorded ones per dimension; exit 1 when the judge drifted.
    #[command(after_help = JUDGE_CHECK_HELP)]
    JudgeCheck(JudgeCheckArgs),
    /// Validate configuration, eval set and rubric without sending a request, and print the eval set's
    /// make-up (categories, duplicates, lengths, turns, personas).
    #[command(
        after_help = "Example:\n  evalrun check --evalset evalsets/roleplay.jsonl --rubric rubrics/roleplay.toml"
    )]
    Check(CheckArgs),
    /// List the configured models with provider, endpoint, limits and prices (never secrets).
    #[command(after_help = "Example:\n  evalrun models --config evalrun.toml")]
    Models(ModelsArgs),
    /// Compare a candidate run with a baseline run; exit 1 on a significant regression (SPEC §7).
    #[command(
        after_help = "Example:\n  evalrun gate --baseline reports/accepted --candidate reports/runs/nightly --out gate.md\n\n\
                      Exit codes: 0 no regression, 1 a regression (the table says which and why), 2 the runs \
                      cannot be compared (changed eval set, rubric or judge; no model in common)."
    )]
    Gate(GateArgs),
    /// Items (and samples) needed to detect a difference, per dimension, from a previous run's
    /// variance (STATS §8). Sends nothing.
    #[command(after_help = "Example:\n  evalrun plan --from reports/runs/try1 --effect 0.2")]
    Plan(PlanArgs),
    /// Merge the run directories of `--shard 1/N` … `N/N` into one, as if the run had not been split.
    #[command(
        after_help = "Example:\n  evalrun merge shards/1 shards/2 shards/3 --out reports/runs/nightly"
    )]
    Merge(MergeArgs),
    /// Blind human review: export sheets for people to score, import the filled sheets (SPEC §1).
    #[command(
        after_help = "Example:\n  evalrun review export reports/runs/try1 --sample 60 --seed 1\n  \
                      evalrun review import reports/runs/try1 alice.csv bob.csv"
    )]
    Review(ReviewArgs),
    /// Per dimension, whether the judge agrees with people's scores (imported by `review import`): a
    /// short verdict and whether the judge can be trusted for this rubric.
    #[command(after_help = "Example:\n  evalrun calibrate reports/runs/try1")]
    Calibrate(CalibrateArgs),
    /// What changed item by item between two runs of the same inputs: per model, every judge score,
    /// rule outcome, GSB verdict and error that differs, worst first, and the flips per dimension.
    #[command(after_help = DIFF_HELP)]
    Diff(DiffArgs),
    /// Keep a history of runs' headline figures (`add`) and show the trend against the release
    /// baseline, flagging a sustained drift (`show`).
    #[command(after_help = HISTORY_HELP)]
    History(HistoryArgs),
}

impl Cli {
    /// The command to run: an explicit subcommand, or `run` with the top-level flags.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Run(self.run))
    }
}
