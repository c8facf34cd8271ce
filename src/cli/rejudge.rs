//! `rescore` and `judge-check`: re-judge a finished run's recorded answers.

use std::path::PathBuf;

use clap::Args;

pub(super) const JUDGE_CHECK_HELP: &str = "\
Example:
  evalrun judge-check --frozen reports/frozen --json judge-check.json

Exit codes: 0 no drift, 1 the judge grades some dimension differently now (DRIFT: significant after
Holm and at least the tolerance) or it could not be asked, 2 bad input.";

#[derive(Debug, Clone, Args)]
pub struct RescoreArgs {
    /// The run directory (written by `evalrun run` or `evalrun demo`).
    pub dir: PathBuf,
    /// Judge model; `none` = rule checks only; `a,b,c` = a judge panel. Default: the run's judge.
    #[arg(long, value_name = "NAME")]
    pub judge: Option<String>,
    /// Rubric; default: the run's (the path recorded in manifest.json).
    #[arg(long, value_name = "F")]
    pub rubric: Option<PathBuf>,
    /// Configuration that defines the judge model.
    #[arg(long, value_name = "F", default_value = "evalrun.toml")]
    pub config: PathBuf,
    /// Judge calls per graded answer, aggregated by median. Default: the run's.
    #[arg(long, value_name = "N")]
    pub judge_samples: Option<u32>,
    /// Global cap on judge requests in flight (the judge model also has its own `concurrency`).
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub concurrency: usize,
    /// Use the response cache for the judge's replies (read and written). Off by default.
    #[arg(long)]
    pub cache: bool,
    /// With --cache: do not read the cache, ask the judge again (its replies are still written to it).
    #[arg(long)]
    pub no_cache: bool,
    /// Response cache folder; default: .evalrun-cache beside the --config file.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// No progress display.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct JudgeCheckArgs {
    /// The frozen run whose recorded answers and grades are the reference (left unchanged).
    #[arg(long, value_name = "RUN")]
    pub frozen: PathBuf,
    /// Judge to ask now; default: the frozen run's judge.
    #[arg(long, value_name = "NAME")]
    pub judge: Option<String>,
    /// Configuration that defines the judge model.
    #[arg(long, value_name = "F", default_value = "evalrun.toml")]
    pub config: PathBuf,
    /// Keep the re-judged copy of the run here (a new or empty directory); default: a temporary
    /// directory, removed afterwards.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also write the result as JSON (schema `evalrun-judge-check/1`), for `gate --judge-check`.
    #[arg(long, value_name = "F")]
    pub json: Option<PathBuf>,
    /// Significance level of the two-sided tests, after Holm over the dimensions.
    #[arg(long, value_name = "α", default_value_t = 0.05)]
    pub alpha: f64,
    /// Smallest change of a dimension mean that counts as drift. Default: 0.025 × the scale's range.
    #[arg(long, value_name = "X")]
    pub tolerance: Option<f64>,
    /// Global cap on judge requests in flight.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub concurrency: usize,
    /// No progress display.
    #[arg(long)]
    pub quiet: bool,
}
