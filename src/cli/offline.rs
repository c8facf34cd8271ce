//! The commands that read files and send nothing: `report`, `check`, `models`, `plan`, `merge`.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The run directory.
    pub dir: PathBuf,
    /// Formats to write, comma-separated: md, csv, json, charts, html.
    #[arg(long, value_delimiter = ',', default_value = "md,csv,json,html")]
    pub format: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Eval set; default: [run].evalset of the configuration.
    #[arg(long, value_name = "F")]
    pub evalset: Option<PathBuf>,
    /// Rubric; default: [run].rubric of the configuration.
    #[arg(long, value_name = "F")]
    pub rubric: Option<PathBuf>,
    /// Configuration; checked too when it exists.
    #[arg(long, value_name = "F", default_value = "evalrun.toml")]
    pub config: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct ModelsArgs {
    /// Configuration file.
    #[arg(long, value_name = "F", default_value = "evalrun.toml")]
    pub config: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// The previous run directory whose paired differences give the variance.
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// The difference to detect, on each dimension's own scale.
    #[arg(long, value_name = "δ", default_value_t = 0.2)]
    pub effect: f64,
    /// Samples per item to plan for (STATS §8: sd_d(k)² = var_between + (v_cand + v_ref)/k).
    #[arg(
        long,
        value_name = "K,…",
        value_delimiter = ',',
        default_value = "1,2,3"
    )]
    pub samples: Vec<u32>,
}

#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// The shard run directories (`--shard 1/N` … `N/N`).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// The merged run directory to write.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}
