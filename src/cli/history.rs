//! `history add` and `history show`: the trend of runs' headline figures.

use std::path::PathBuf;

use clap::{Args, Subcommand};

pub(super) const HISTORY_HELP: &str = "\
Examples:
  evalrun history add reports/runs/nightly --db ci/history.jsonl --commit \"$GITHUB_SHA\"
  evalrun history show --db ci/history.jsonl --baseline release-2026-11 --svg trend.svg
  evalrun history show --db ci/history.jsonl --format json | jq '.drift[] | select(.status==\"drift\")'

The history file has one JSON line per run (schema evalrun-history/1): run id, start time, commit,
judge, input hashes, and per model each dimension's mean, 95 % CI, se and n, every rule's pass rate,
p50/p90 total latency, cost per item and error rate. `add` appends under a file lock; keep the file
as a CI artifact and add every night's run.

`show` prints a trend table per metric (a row per run, the release baseline marked) and tests each
model and dimension for a sustained drift: the last k runs' means (default k = 5) against the release
baseline's (--baseline RUN_ID, default the first run), a one-sided t-test with se = sqrt(s^2/k +
se_baseline^2) on k - 1 df, flagged when p < alpha (0.05) AND the mean drop >= the tolerance (default
0.025 x the scale's range, 0.05 on 1-3). A slow drift passes every night's gate against the night
before; it shows here. --fail-on-drift exits 1 when anything is flagged.

Exit codes: 0 shown/added (drift or not, unless --fail-on-drift), 1 drift with --fail-on-drift, 2 bad
input (a bad history line is named by file:line).";

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub action: HistoryAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum HistoryAction {
    /// Append a run directory's headline figures to the history file (one JSON line).
    #[command(
        after_help = "Example:\n  evalrun history add reports/runs/nightly --db ci/history.jsonl"
    )]
    Add(HistoryAddArgs),
    /// The trend per metric and the drift test against the release baseline; optionally an SVG chart.
    #[command(
        after_help = "Example:\n  evalrun history show --db ci/history.jsonl --baseline release-1 --svg trend.svg"
    )]
    Show(HistoryShowArgs),
}

#[derive(Debug, Clone, Args)]
pub struct HistoryAddArgs {
    /// The run directory (with its summary.json).
    pub dir: PathBuf,
    /// The history file (JSONL; created when missing).
    #[arg(long, value_name = "F")]
    pub db: PathBuf,
    /// The commit the run measured; default: `commit` in manifest.json, else none.
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryShowArgs {
    /// The history file.
    #[arg(long, value_name = "F")]
    pub db: PathBuf,
    /// Run id of the release baseline; default: the first run of the history.
    #[arg(long, value_name = "RUN_ID")]
    pub baseline: Option<String>,
    /// Output format: md or json.
    #[arg(long, value_name = "md|json", default_value = "md")]
    pub format: String,
    /// Also write the trend chart (one line chart per dimension) as SVG to this file.
    #[arg(long, value_name = "F")]
    pub svg: Option<PathBuf>,
    /// Write the table to this file instead of stdout.
    #[arg(long, value_name = "F")]
    pub out: Option<PathBuf>,
    /// Runs after the baseline that the drift test uses (the last k).
    #[arg(long, value_name = "K", default_value_t = 5)]
    pub k: usize,
    /// Significance level of the one-sided drift test.
    #[arg(long, value_name = "α", default_value_t = 0.05)]
    pub alpha: f64,
    /// Smallest mean drop that counts as drift, on the scale; default 0.025 × the scale's range.
    #[arg(long, value_name = "X")]
    pub tolerance: Option<f64>,
    /// Exit 1 when a drift is flagged.
    #[arg(long)]
    pub fail_on_drift: bool,
}
