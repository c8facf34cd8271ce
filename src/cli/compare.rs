//! `gate` and `diff`: compare a candidate run with a baseline run.

use std::path::PathBuf;

use clap::Args;

pub(super) const DIFF_HELP: &str = "\
Examples:
  evalrun diff reports/accepted reports/runs/nightly                 # markdown on stdout
  evalrun diff reports/accepted reports/runs/nightly --format html --out diff.html
  evalrun diff A B --format json --top 50 | jq '.changes[0]'

How to read it: A is the reference, B the run under study. For each model and item in both runs,
scores and rule outcomes are compared as means over the item's samples, GSB verdicts from the
candidate's side, errors as ok or error. Every change gets a signed size on one scale (negative =
worse): a score's change / its scale's range, a rule's pass-share change, half a GSB verdict's
change (B = -1, S = 0, G = 1), minus the change of the error share. Items are listed worse first
(largest drop first), then better, then mixed. The flips table counts, per model and dimension,
the items that got worse and better. A single item's flip is evidence to read, not a verdict:
`evalrun gate` says whether a drop is significant.

The runs must share rubric and items (one run's items may be a subset of the other's, e.g. with
--limit); otherwise diff exits 2 naming the files, unless --allow-changed.

Exit codes: 0 the diff was written (whatever it shows), 2 the runs cannot be compared.";

#[derive(Debug, Clone, Args)]
pub struct GateArgs {
    /// The accepted run to compare against: keep it fixed, the run of what is in production.
    #[arg(long, value_name = "DIR")]
    pub baseline: PathBuf,
    /// The run under test.
    #[arg(long, value_name = "DIR")]
    pub candidate: PathBuf,
    /// Gate only these models (default: every model in both runs); gate the models that changed.
    #[arg(long, value_delimiter = ',', value_name = "A,B,…")]
    pub models: Vec<String>,
    /// Significance level of the one-sided tests, after Holm.
    #[arg(long, value_name = "α", default_value_t = 0.05)]
    pub alpha: f64,
    /// Primary dimensions (a significant drop fails; others warn). Default: the rubric's `primary`
    /// dimensions, else every dimension.
    #[arg(long, value_delimiter = ',', value_name = "D,…")]
    pub primary: Vec<String>,
    /// Smallest drop of a dimension mean that fails: `X` for every dimension or `D=X` for one
    /// (comma-separated). Default: 0.025 × the scale's range (0.05 on 1–3).
    #[arg(long, value_delimiter = ',', value_name = "X | D=X")]
    pub tolerance: Vec<String>,
    /// Deprecated: `--tolerance X`.
    #[arg(long, value_name = "X", hide = true)]
    pub max_drop: Option<f64>,
    /// Largest tolerated rise of the p90 total latency ratio (0.25 = +25 %), judged by its bootstrap
    /// interval.
    #[arg(long, value_name = "F", default_value_t = 0.25)]
    pub max_latency_increase: f64,
    /// Largest tolerated share of failed requests in the candidate.
    #[arg(long, value_name = "F", default_value_t = 0.02)]
    pub max_error_rate: f64,
    /// Accept answers the candidate took from the response cache (they are not the candidate's).
    #[arg(long)]
    pub allow_cached: bool,
    /// Cluster key: a dotted path into the items (e.g. `meta.persona`); items sharing its value are
    /// one cluster for the standard errors.
    #[arg(long, value_name = "KEY")]
    pub cluster: Option<String>,
    /// Also write the verdict as JSON (schema `evalrun-gate/2`) to this file.
    #[arg(long, value_name = "F")]
    pub json: Option<PathBuf>,
    /// Also write the markdown verdict to this file.
    #[arg(long, value_name = "F")]
    pub out: Option<PathBuf>,
    /// Also write the verdict as JUnit XML to this file: one test case per check, failures with the
    /// reason. When `GITHUB_STEP_SUMMARY` is set, the markdown verdict is appended to that file too.
    #[arg(long, value_name = "F")]
    pub junit: Option<PathBuf>,
    /// Also write the item-by-item diff of the two runs (`evalrun diff`) to this file, as HTML, JSON or
    /// markdown by its extension; the markdown verdict links to it under its ten worst flips.
    #[arg(long, value_name = "F")]
    pub diff: Option<PathBuf>,
    /// Compare even when eval set, rubric or judge changed (the verdict says so).
    #[arg(long)]
    pub allow_changed: bool,
    /// Deterministic endpoints (e.g. the simulator): any change of a score or rule outcome fails.
    #[arg(long)]
    pub exact: bool,
    /// The JSON of `evalrun judge-check` run before the gate: the verdict then says whether the
    /// judge changed, apart from whether the model regressed.
    #[arg(long, value_name = "F")]
    pub judge_check: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// The reference run directory (e.g. the accepted run).
    #[arg(value_name = "RUN_A")]
    pub a: PathBuf,
    /// The run directory to compare with it (e.g. tonight's run).
    #[arg(value_name = "RUN_B")]
    pub b: PathBuf,
    /// Output format: md (markdown), html (one self-contained page) or json (schema evalrun-diff/1).
    #[arg(long, value_name = "md|html|json", default_value = "md")]
    pub format: String,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "F")]
    pub out: Option<PathBuf>,
    /// List only the N worst changed items (the flips still count every item). Default: all (html:
    /// the first 1000).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Compare even when rubric or items differ (the output says so).
    #[arg(long)]
    pub allow_changed: bool,
}
