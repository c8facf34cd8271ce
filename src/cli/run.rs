//! `run` (also the default with no subcommand) and `demo`: the arguments of a run.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Models to run, comma-separated names from the configuration's [models.NAME] tables.
    #[arg(long, value_delimiter = ',', required = true, value_name = "A,B,…")]
    pub models: Vec<String>,
    /// Configuration file.
    #[arg(long, value_name = "F", default_value = "evalrun.toml")]
    pub config: PathBuf,
    /// Eval set (JSONL); default: [run].evalset.
    #[arg(long, value_name = "F")]
    pub evalset: Option<PathBuf>,
    /// Rubric (TOML); default: [run].rubric.
    #[arg(long, value_name = "F")]
    pub rubric: Option<PathBuf>,
    /// Judge model; `none` = rule checks only; `a,b,c` = a judge panel (median score, majority
    /// verdict). Default: [run].judge, else none.
    #[arg(long, value_name = "NAME")]
    pub judge: Option<String>,
    /// Reference model for GSB and paired tests; default: [run].baseline, else the first of --models.
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Run directory; default: reports/runs/<UTC timestamp>.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Continue the run in --out, doing only what is missing.
    #[arg(long)]
    pub resume: bool,
    /// First N items only.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Only items whose index mod N = K−1 (split one run over CI jobs or machines).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Generations per (model, item).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub samples: u32,
    /// Judge calls per graded answer, aggregated by median.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub judge_samples: u32,
    /// Global cap on requests in flight (each model also has its own `concurrency`).
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub concurrency: usize,
    /// Second reference for the paired tests; default: [run].flagship, else the strictly most
    /// expensive model.
    #[arg(long, value_name = "NAME")]
    pub flagship: Option<String>,
    /// Cluster key for the standard errors: a dotted path into each item (e.g. `meta.persona`);
    /// default: [run].cluster, else none.
    #[arg(long, value_name = "KEY")]
    pub cluster: Option<String>,
    /// A model whose share of failed requests is above this (0–1) cannot be recommended; default:
    /// [run].max_error_rate, else 0.02.
    #[arg(long, value_name = "x")]
    pub max_error_rate: Option<f64>,
    /// Non-inferiority margin on the rubric scale, for every dimension; default: each dimension's
    /// `margin`, else 0.05 × its scale range.
    #[arg(long, value_name = "δ")]
    pub margin: Option<f64>,
    /// Stop sending once the spend (answers + judge) would pass X in the configured currency.
    #[arg(long, value_name = "X")]
    pub max_cost: Option<f64>,
    /// Print requests, estimated tokens, cost and the minimum wall time the limits allow; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: a previous run directory whose variance gives the MDE the planned run will have.
    #[arg(long, value_name = "DIR", requires = "dry_run")]
    pub from: Option<PathBuf>,
    /// Use the response cache: answers and judge replies an earlier run received are read from it, and
    /// new ones written to it. Off by default: without it no cache file is read or written.
    #[arg(long)]
    pub cache: bool,
    /// With --cache: do not read the cache, ask every endpoint again (answers are still written to it).
    #[arg(long)]
    pub no_cache: bool,
    /// Response cache folder, shared across runs; default: .evalrun-cache beside the --config file.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// No progress display.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Run directory to write.
    #[arg(long, value_name = "DIR", default_value = "reports/demo")]
    pub out: PathBuf,
    /// Simulated-time factor: 1.0 replays the seeds' real latencies; the demo default finishes fast.
    #[arg(long, value_name = "X", default_value_t = 0.02)]
    pub time_scale: f64,
    /// No progress display.
    #[arg(long)]
    pub quiet: bool,
}
