//! `review export`, `review import` and `calibrate`: people's scores and the judge.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Clone, Args)]
pub struct ReviewArgs {
    #[command(subcommand)]
    pub action: ReviewAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ReviewAction {
    /// Write a blind review sheet (CSV and an offline HTML page); the unblinding key stays in the run
    /// directory (`review/key-<sheet>.json`).
    Export(ReviewExportArgs),
    /// Validate filled sheets and store their scores in the run's human.jsonl (idempotent).
    Import(ReviewImportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ReviewExportArgs {
    /// The run directory.
    pub dir: PathBuf,
    /// Dimensions to score, comma-separated; default: every dimension of the rubric.
    #[arg(long, value_delimiter = ',', value_name = "D,…")]
    pub dimensions: Vec<String>,
    /// A side-by-side sheet: one verdict (A, B or same) per pair of answers, as the judge's GSB.
    #[arg(long)]
    pub pairwise: bool,
    /// A subset of N rows, stratified by model and category.
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// Seed of the label shuffles and of the subset.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// The CSV sheet to write (the HTML page goes beside it, `.html`); default:
    /// RUN/review/sheet-<id>.csv.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Rubric whose level texts the sheet shows; default: the run's.
    #[arg(long, value_name = "F")]
    pub rubric: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ReviewImportArgs {
    /// The run directory the sheets were exported from.
    pub dir: PathBuf,
    /// Filled sheets (CSV).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Who scored; default: each file's name without extension (alice.csv → alice).
    #[arg(long, value_name = "NAME")]
    pub rater: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CalibrateArgs {
    /// The run directory, with people's scores in human.jsonl.
    pub dir: PathBuf,
}
