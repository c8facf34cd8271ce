//! Command-line interface (SPEC §1). `evalrun` with no subcommand means `evalrun run`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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

const JUDGE_CHECK_HELP: &str = "\
Example:
  evalrun judge-check --frozen reports/frozen --json judge-check.json

Exit codes: 0 no drift, 1 the judge grades some dimension differently now (DRIFT: significant after
Holm and at least the tolerance) or it could not be asked, 2 bad input.";

const HISTORY_HELP: &str = "\
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

const DIFF_HELP: &str = "\
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

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The run directory.
    pub dir: PathBuf,
    /// Formats to write, comma-separated: md, csv, json, charts, html.
    #[arg(long, value_delimiter = ',', default_value = "md,csv,json,html")]
    pub format: Vec<String>,
}

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

#[derive(Debug, Clone, Args)]
pub struct ModelsArgs {
    /// Configuration file.
    #[arg(long, value_name = "F", default_value = "evalrun.toml")]
    pub config: PathBuf,
}

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

impl Cli {
    /// The command to run: an explicit subcommand, or `run` with the top-level flags.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Run(self.run))
    }
}
