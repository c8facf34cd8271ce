//! `evalrun run`: flags and files → a validated `Plan` (every input error found here, exit 2, before
//! any request) → answers under limits → scores → summary and reports.
//!
//! With `--resume` the run directory's records decide what is left (`runner::resume`): recorded answers
//! are never asked for again, answers without a score are scored from the record, judge calls with a
//! reply in `judgements.jsonl` are not asked again, and the summary and reports are derived from all
//! records at the end. Ctrl-C stops sending (`runner::interrupt`), writes what arrived and exits 130.
//!
//! The response cache (`runner::cache`, `.evalrun-cache/` beside the configuration or `--cache-dir`)
//! answers what an earlier run already received, for answers and judge calls alike; `--no-cache` skips
//! its reads but still writes it.
//!
//! With a judge: answers under limits, each scored by the rules as it arrives → with a judge, the judge
//! phase (`runner::judging`: grades, GSB in both orders, then `scores.jsonl` and `pairwise.jsonl`
//! replaced by the judged records) → summary and reports.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::cli::RunArgs;
use crate::commands::finalize;
use crate::error::{exit, UsageError};
use crate::inputs::config::{Config, ResolvedModel};
use crate::inputs::evalset::{self, Item};
use crate::inputs::rubric::{self, Rubric};
use crate::inputs::secret::Redactor;
use crate::manifest::{utc_now, DimensionEntry, FileRef, Manifest, ModelEntry, Simulated};
use crate::provider::Client;
use crate::records::{files, read_jsonl, JudgementRecord, ResponseRecord};
use crate::runner::cache::{self, Cache};
use crate::runner::interrupt::Interrupt;
use crate::runner::judging::{self, JudgeJob, JudgeModel, JudgeTally};
use crate::runner::resume;
use crate::runner::store::{RecordFile, Store};
use crate::runner::{self, Endpoint, Job};
use crate::score::judge::Prompts;

/// Rendered items are kept beside the records so a run directory is self-contained (reports quote the
/// prompts; a later re-judge needs them).
pub const ITEMS_FILE: &str = "items.jsonl";

/// A validated run: nothing left to check before sending.
pub struct Plan {
    pub config_ref: FileRef,
    pub evalset_ref: FileRef,
    pub rubric_ref: FileRef,
    pub items: Vec<Item>,
    pub rubric: Rubric,
    pub models: Vec<ResolvedModel>,
    pub baseline: String,
    pub judge: Option<String>,
    /// The judge, resolved like any model (its secrets read now); `None` = rule checks only.
    pub judge_model: Option<ResolvedModel>,
    pub judge_samples: u32,
    /// The judge's templates (the rubric's or the built-in ones), validated; `None` without a judge.
    pub prompts: Option<Prompts>,
    pub out: PathBuf,
    pub samples: u32,
    pub concurrency: usize,
    pub margin: f64,
    pub limit: Option<usize>,
    pub shard: Option<(usize, usize)>,
    pub quiet: bool,
    pub redactor: Redactor,
    pub simulated: Option<Simulated>,
    pub command_line: String,
    /// Continue the run in `out` (`--resume`).
    pub resume: bool,
    /// `--dry-run`: print what would be sent, send nothing.
    pub dry_run: bool,
    /// `--max-cost`: stop sending before the spend would pass this.
    pub max_cost: Option<f64>,
    /// The response cache; `None` (the demo) neither reads nor writes one.
    pub cache: Option<Arc<Cache>>,
}

/// Eval set and rubric, loaded, validated and rendered.
pub struct Inputs {
    pub evalset_path: PathBuf,
    pub rubric_path: PathBuf,
    pub items: Vec<Item>,
    pub rubric: Rubric,
}

/// Load the eval set and the rubric and render every `vars` item through the rubric's templates.
pub fn load_inputs(evalset_path: &Path, rubric_path: &Path) -> Result<Inputs, UsageError> {
    let rubric = rubric::load(rubric_path)?;
    let mut items = evalset::load(evalset_path)?;
    for item in &mut items {
        rubric
            .render(item)
            .map_err(|e| UsageError::at(evalset_path, item.line, e))?;
    }
    Ok(Inputs {
        evalset_path: evalset_path.to_path_buf(),
        rubric_path: rubric_path.to_path_buf(),
        items,
        rubric,
    })
}

/// `--evalset` / `--rubric`, else the configuration's `[run]` entry (relative to the config's folder).
pub fn input_path(
    flag: Option<&PathBuf>,
    from_config: Option<&PathBuf>,
    config: &Config,
    what: &str,
) -> Result<PathBuf, UsageError> {
    match (flag, from_config) {
        (Some(p), _) => Ok(p.clone()),
        (None, Some(p)) if p.is_absolute() => Ok(p.clone()),
        (None, Some(p)) => Ok(config.base_dir().join(p)),
        (None, None) => Err(UsageError::new(format!(
            "no {what}: pass --{what} FILE or set [run].{what} in {}",
            config.path.display()
        ))),
    }
}

/// The response cache of `--cache-dir`, else `.evalrun-cache/` beside the configuration file; read
/// unless `--no-cache`.
pub fn cache_of(cache_dir: Option<&PathBuf>, config: &Config, no_cache: bool) -> Arc<Cache> {
    let dir = cache_dir
        .cloned()
        .unwrap_or_else(|| config.base_dir().join(cache::DEFAULT_DIR));
    Arc::new(Cache::new(dir, !no_cache))
}

/// Parse `K/N` (1 ≤ K ≤ N).
pub fn parse_shard(s: &str) -> Result<(usize, usize), UsageError> {
    let bad = || {
        UsageError::new(format!(
            "--shard {s}: expected K/N with 1 ≤ K ≤ N, e.g. 1/4"
        ))
    };
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

impl Plan {
    /// Build the plan from command-line flags; `env` reads environment variables (tests pass their own).
    pub fn from_args(
        args: &RunArgs,
        env: &dyn Fn(&str) -> Option<String>,
        command_line: String,
    ) -> Result<Plan, UsageError> {
        if args.resume && args.out.is_none() {
            return Err(UsageError::new(
                "--resume continues the run in --out DIR: name the run directory",
            ));
        }
        let config = Config::load(&args.config)?;
        let evalset_path = input_path(
            args.evalset.as_ref(),
            config.run.evalset.as_ref(),
            &config,
            "evalset",
        )?;
        let rubric_path = input_path(
            args.rubric.as_ref(),
            config.run.rubric.as_ref(),
            &config,
            "rubric",
        )?;
        let judge = args
            .judge
            .clone()
            .or_else(|| config.run.judge.clone())
            .filter(|j| j != "none");
        let config_ref =
            FileRef::of(&args.config).map_err(|e| UsageError::new(format!("{e:#}")))?;
        let out = args.out.clone().unwrap_or_else(default_out_dir);
        let cache = cache_of(args.cache_dir.as_ref(), &config, args.no_cache);
        let baseline = args
            .baseline
            .clone()
            .or_else(|| config.run.baseline.clone());
        if !args.resume && holds_a_run(&out) {
            return Err(UsageError::new(format!(
                "{} already holds a run; choose a new --out, or pass --resume to continue it",
                out.display()
            )));
        }
        let mut plan = Plan::build(PlanParts {
            config,
            config_ref,
            evalset_path,
            rubric_path,
            model_names: args.models.clone(),
            baseline,
            judge,
            judge_samples: args.judge_samples,
            out,
            samples: args.samples,
            concurrency: args.concurrency,
            margin: args.margin,
            limit: args.limit,
            shard: args.shard.as_deref().map(parse_shard).transpose()?,
            quiet: args.quiet,
            simulated: None,
            command_line,
            env,
        })?;
        plan.resume = args.resume;
        plan.dry_run = args.dry_run;
        plan.cache = Some(cache);
        if let Some(x) = args.max_cost {
            check_max_cost(x, &plan.models)?;
            plan.max_cost = Some(x);
        }
        Ok(plan)
    }

    pub fn build(p: PlanParts<'_>) -> Result<Plan, UsageError> {
        if p.model_names.is_empty() {
            return Err(UsageError::new("--models: name at least one model"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in &p.model_names {
            if !seen.insert(m) {
                return Err(UsageError::new(format!("--models: `{m}` is listed twice")));
            }
            p.config.model(m)?;
        }
        if p.samples == 0 {
            return Err(UsageError::new("--samples must be at least 1"));
        }
        if p.judge_samples == 0 {
            return Err(UsageError::new("--judge-samples must be at least 1"));
        }
        if p.judge_samples > 1 && p.judge.is_none() {
            return Err(UsageError::new(
                "--judge-samples needs a judge: pass --judge NAME or set [run].judge",
            ));
        }
        if p.concurrency == 0 {
            return Err(UsageError::new("--concurrency must be at least 1"));
        }
        if !(p.margin.is_finite() && p.margin >= 0.0) {
            return Err(UsageError::new(format!(
                "--margin must be ≥ 0, got {}",
                p.margin
            )));
        }
        let baseline = p.baseline.unwrap_or_else(|| p.model_names[0].clone());
        if !p.model_names.contains(&baseline) {
            return Err(UsageError::new(format!(
                "baseline `{baseline}` is not one of --models ({}); add it or pick another with --baseline",
                p.model_names.join(", ")
            )));
        }
        let inputs = load_inputs(&p.evalset_path, &p.rubric_path)?;
        let mut items = inputs.items;
        // `--limit` first, then `--shard`: the shards of a limited run are the limited run, split.
        if let Some(limit) = p.limit {
            items.truncate(limit);
        }
        if let Some((k, n)) = p.shard {
            items = shard_of(items, k, n);
        }
        if items.is_empty() {
            return Err(UsageError::in_file(
                &p.evalset_path,
                "no items to run (after --limit/--shard)",
            ));
        }
        let mut redactor = Redactor::default();
        let models = p.config.resolve(&p.model_names, p.env, &mut redactor)?;
        let judge_model = match &p.judge {
            Some(j) => p
                .config
                .resolve(std::slice::from_ref(j), p.env, &mut redactor)
                .map_err(|e| UsageError::new(format!("judge `{j}`: {e}")))?
                .pop(),
            None => None,
        };
        let prompts = match &p.judge {
            Some(_) => Some(
                Prompts::of(&inputs.rubric).map_err(|e| UsageError::in_file(&p.rubric_path, e))?,
            ),
            None => None,
        };
        let hash = |path: &Path| FileRef::of(path).map_err(|e| UsageError::new(format!("{e:#}")));
        Ok(Plan {
            config_ref: p.config_ref,
            evalset_ref: hash(&p.evalset_path)?,
            rubric_ref: hash(&p.rubric_path)?,
            items,
            rubric: inputs.rubric,
            models,
            baseline,
            judge: p.judge,
            judge_model,
            judge_samples: p.judge_samples,
            prompts,
            out: p.out,
            samples: p.samples,
            concurrency: p.concurrency,
            margin: p.margin,
            limit: p.limit,
            shard: p.shard,
            quiet: p.quiet,
            redactor,
            simulated: p.simulated,
            command_line: p.command_line,
            resume: false,
            dry_run: false,
            max_cost: None,
            cache: None,
        })
    }

    fn manifest(&self, started: String) -> Manifest {
        Manifest {
            tool: "evalrun".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            run_id: self
                .out
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| started.clone()),
            command_line: self.command_line.clone(),
            started_utc: started,
            finished_utc: None,
            config: self.config_ref.clone(),
            evalset: self.evalset_ref.clone(),
            rubric: self.rubric_ref.clone(),
            items: self.items.len(),
            models: self.models.iter().map(ModelEntry::of).collect(),
            baseline: Some(self.baseline.clone()),
            judge: self.judge.clone(),
            judge_model: self.judge_model.as_ref().map(ModelEntry::of),
            samples: self.samples,
            judge_samples: self.judge_samples,
            limit: self.limit,
            shard: self.shard.map(|(k, n)| format!("{k}/{n}")),
            margin: self.margin,
            dimensions: self
                .rubric
                .dimensions
                .iter()
                .map(|d| DimensionEntry {
                    id: d.id.clone(),
                    name: d.name.clone(),
                    scale: d.scale,
                })
                .collect(),
            simulated: self.simulated.clone(),
            resumed_utc: Vec::new(),
            interrupted_utc: None,
            rescored: None,
        }
    }
}

/// Items whose index (0-based, in eval-set order) mod `n` is `k` − 1.
pub fn shard_of<T>(items: Vec<T>, k: usize, n: usize) -> Vec<T> {
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % n == k - 1)
        .map(|(_, it)| it)
        .collect()
}

/// Whether `dir` already holds records of a run.
fn holds_a_run(dir: &Path) -> bool {
    dir.join(files::RESPONSES)
        .metadata()
        .map(|m| m.len() > 0)
        .unwrap_or(false)
}

/// The parts a plan is built from, whether they come from flags (`run`) or are assembled (`demo`).
pub struct PlanParts<'a> {
    pub config: Config,
    pub config_ref: FileRef,
    pub evalset_path: PathBuf,
    pub rubric_path: PathBuf,
    pub model_names: Vec<String>,
    pub baseline: Option<String>,
    pub judge: Option<String>,
    /// `--judge-samples`.
    pub judge_samples: u32,
    pub out: PathBuf,
    pub samples: u32,
    pub concurrency: usize,
    pub margin: f64,
    pub limit: Option<usize>,
    pub shard: Option<(usize, usize)>,
    pub quiet: bool,
    pub simulated: Option<Simulated>,
    pub command_line: String,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

fn default_out_dir() -> PathBuf {
    // RFC 3339 with ':' replaced, so the folder name is valid on every file system.
    PathBuf::from("reports/runs").join(utc_now().replace(':', "-"))
}

/// `--max-cost X` needs a number ≥ 0 and every model's prices (0 is a price; unknown is not).
fn check_max_cost(x: f64, models: &[ResolvedModel]) -> Result<(), UsageError> {
    if !(x.is_finite() && x >= 0.0) {
        return Err(UsageError::new(format!(
            "--max-cost must be a number ≥ 0, got {x}"
        )));
    }
    for m in models {
        if m.config.price_input_per_1k.is_none() || m.config.price_output_per_1k.is_none() {
            return Err(UsageError::new(format!(
                "--max-cost needs prices for model `{}`: set price_input_per_1k and price_output_per_1k in [models.\"{}\"] (0 for a free endpoint)",
                m.name, m.name
            )));
        }
    }
    Ok(())
}

/// `--dry-run`: per model, the requests, estimated tokens, the cost bound and the shortest wall time
/// the limits allow — the same estimate and bucket arithmetic the runner uses. Sends nothing.
pub fn dry_run_report(plan: &Plan) -> String {
    use runner::limits::{estimate_tokens, min_wall_time, Binding, Prices, DEFAULT_MAX_OUTPUT};
    let prompt_tokens: u64 = plan
        .items
        .iter()
        .map(|it| {
            let texts: Vec<&str> = it
                .system
                .as_deref()
                .into_iter()
                .chain(it.messages.iter().map(|m| m.content.as_str()))
                .collect();
            estimate_tokens(&texts, 0)
        })
        .sum::<u64>()
        * plan.samples as u64;
    let requests = plan.items.len() as u64 * plan.samples as u64;
    let mut out = String::from("dry run: nothing was sent.\n\n");
    out.push_str(&format!(
        "{:<24} {:>8} {:>13} {:>13} {:>18}  {}\n",
        "model", "requests", "input tokens", "output (max)", "cost (at most)", "min wall time"
    ));
    let mut totals: std::collections::BTreeMap<String, f64> = Default::default();
    let mut unpriced = Vec::new();
    let mut longest = std::time::Duration::ZERO;
    for m in &plan.models {
        let c = &m.config;
        let output = c.max_output_tokens().unwrap_or(DEFAULT_MAX_OUTPUT) * requests;
        let currency = c.currency.clone().unwrap_or_default();
        let cost = match (c.price_input_per_1k, c.price_output_per_1k) {
            (Some(i), Some(o)) => {
                let cost = Prices {
                    input_per_1k: i,
                    output_per_1k: o,
                }
                .cost(prompt_tokens, output);
                *totals.entry(currency.clone()).or_default() += cost;
                format!("{cost:.4} {currency}").trim_end().to_string()
            }
            _ => {
                unpriced.push(m.name.as_str());
                "(no prices)".to_string()
            }
        };
        let (wall, by) = min_wall_time(requests, prompt_tokens + output, c.rps, c.tpm);
        longest = longest.max(wall);
        let why = match by {
            Some(Binding::Rps) => format!("rps {}", c.rps.unwrap_or_default()),
            Some(Binding::Tpm) => format!("tpm {}", c.tpm.unwrap_or_default()),
            None => "no rps/tpm limit".to_string(),
        };
        out.push_str(&format!(
            "{:<24} {:>8} {:>13} {:>13} {:>18}  {:.1} s ({why})\n",
            m.name,
            requests,
            prompt_tokens,
            output,
            cost,
            wall.as_secs_f64()
        ));
    }
    let spend: Vec<String> = totals
        .iter()
        .map(|(cur, v)| format!("{v:.4} {cur}").trim_end().to_string())
        .collect();
    out.push_str(&format!(
        "\ntotal: {} requests; cost at most {}{}; the limits allow the run in no less than {:.1} s.\n",
        requests * plan.models.len() as u64,
        if spend.is_empty() { "0".to_string() } else { spend.join(" + ") },
        if unpriced.is_empty() {
            String::new()
        } else {
            format!(" (without {}: no prices)", unpriced.join(", "))
        },
        longest.as_secs_f64()
    ));
    out.push_str(
        "Input tokens are estimated (one per Han/kana/hangul character, one per four other\n\
         characters); output is bounded by params.max_output_tokens / max_tokens (1024 when unset).\n\
         The tpm figure assumes every answer uses its whole output allowance: reported usage is\n\
         refunded while running, and a server's X-Ratelimit headers may lower the limits.\n",
    );
    out
}

/// Send everything, score it, write summary and reports. Returns the exit code.
pub async fn execute(plan: Plan) -> Result<u8> {
    if plan.dry_run {
        print!("{}", dry_run_report(&plan));
        return Ok(exit::SUCCESS);
    }
    let started = utc_now();
    std::fs::create_dir_all(&plan.out)
        .with_context(|| format!("could not create run directory {}", plan.out.display()))?;
    let mut manifest = plan.manifest(started);
    let mut done = resume::Done::default();
    if plan.resume {
        (manifest, done) = continue_run(&plan.out, manifest)?;
    }
    manifest.write(&plan.out)?;
    write_items(&plan.out, &plan.items)?;

    let mut endpoints = Vec::with_capacity(plan.models.len());
    for m in &plan.models {
        endpoints.push(Endpoint {
            client: Client::new(m, plan.redactor.clone())
                .map_err(|e| UsageError::new(format!("{e:#}")))?,
            model: m.clone(),
        });
    }
    let store = Store::open(&plan.out)?;
    let rubric = Arc::new(plan.rubric);
    let scoring_rubric = rubric.clone();
    let scorer: runner::Scorer = Arc::new(move |resp: &ResponseRecord, item: &Item| {
        judging::rule_score(&scoring_rubric, item, resp)
    });
    if plan.resume {
        score_unscored(&plan.out, &done, &plan.items, &scorer, &store)?;
    }
    let interrupt = Interrupt::new();
    let listener = interrupt.listen();
    let budget = plan
        .max_cost
        .map(|x| Arc::new(runner::limits::Budget::new(x)));
    let planned = plan.items.len() * plan.samples as usize * plan.models.len();
    let items = Arc::new(plan.items);
    let tallies = runner::answer_all(Job {
        endpoints,
        items: items.clone(),
        samples: plan.samples,
        global_concurrency: plan.concurrency,
        sink: store.sink(),
        scorer,
        quiet: plan.quiet,
        recorded: std::mem::take(&mut done.answers),
        interrupt: interrupt.clone(),
        budget: budget.clone(),
        cache: plan.cache.clone(),
    })
    .await;
    store.close()?;
    let interrupted = interrupt.is_requested();
    let served: usize = tallies.values().map(|t| t.cached).sum();
    if let (Some(c), true) = (&plan.cache, served > 0) {
        eprintln!(
            "evalrun: {served} answer(s) served from the response cache {} (cached: true, left out of \
             latency statistics); --no-cache asks the endpoints again",
            c.dir().display()
        );
    }

    // The judge phase needs every answer: an interrupted run is judged when it is resumed.
    let judge_tally = match (interrupted, plan.judge_model, plan.prompts) {
        (false, Some(j), Some(prompts)) => {
            let judge = JudgeModel {
                endpoint: Endpoint {
                    client: Client::new(&j, plan.redactor.clone())
                        .map_err(|e| UsageError::new(format!("{e:#}")))?,
                    model: j,
                },
                samples: plan.judge_samples,
            };
            let models = plan.models.iter().map(|m| m.name.clone()).collect();
            Some(
                judge_phase(JudgePhase {
                    dir: &plan.out,
                    rubric,
                    prompts: Arc::new(prompts),
                    items,
                    models,
                    baseline: Some(plan.baseline.clone()),
                    judge: Some(judge),
                    concurrency: plan.concurrency,
                    quiet: plan.quiet,
                    resume: plan.resume,
                    cache: plan.cache.clone(),
                })
                .await?,
            )
        }
        _ => None,
    };

    if interrupted {
        manifest.interrupted_utc = Some(utc_now());
    } else {
        manifest.finished_utc = Some(utc_now());
    }
    manifest.write(&plan.out)?;
    let (summary, ctx) = finalize::write_reports(&plan.out, &manifest, None)?;
    print!("{}", finalize::stdout_summary(&plan.out, &summary, &ctx));
    listener.abort();

    if interrupted {
        eprintln!(
            "evalrun: interrupted; the records that arrived are in {} — continue with the same command \
             plus --resume",
            plan.out.display()
        );
        return Ok(exit::INTERRUPTED);
    }
    if let Some(b) = budget.filter(|b| b.stopped()) {
        let sent: usize = tallies.values().map(|t| t.answered + t.failed).sum();
        eprintln!(
            "evalrun: --max-cost {} reached: stopped sending after {sent} of {planned} requests \
             (spent {:.4}); the answers that arrived are kept in {}",
            b.max(),
            b.spent(),
            plan.out.display()
        );
        return Ok(exit::FAILURE);
    }
    let mut code = exit::SUCCESS;
    let dead: Vec<&str> = summary
        .models
        .iter()
        .filter(|(_, m)| m.errors.n_responses > 0 && m.errors.n_errors == m.errors.n_responses)
        .map(|(n, _)| n.as_str())
        .collect();
    if !dead.is_empty() {
        eprintln!(
            "evalrun: every request of {} failed; see the errors in {}",
            dead.join(", "),
            plan.out.join(files::RESPONSES).display()
        );
        code = exit::FAILURE;
    }
    if let (Some(t), Some(j)) = (&judge_tally, &plan.judge) {
        if judge_dead(t) {
            eprintln!(
                "evalrun: every call to the judge {j} failed; see the errors in {}",
                plan.out.join(files::JUDGEMENTS).display()
            );
            code = exit::FAILURE;
        } else if t.unjudged_answers > 0 || t.unjudged_pairs > 0 {
            eprintln!(
                "evalrun: the judge left {} answers and {} pairs without a usable verdict (judge_error in {}); \
                 means are over the rest",
                t.unjudged_answers,
                t.unjudged_pairs,
                files::SCORES
            );
        }
    }
    Ok(code)
}

/// Every judge call failed in transport and no reply came from the records or the cache: the judge is
/// as dead as a model whose every request failed.
pub fn judge_dead(t: &JudgeTally) -> bool {
    t.calls > 0 && t.call_errors == t.calls && t.reused + t.cached == 0
}

/// What the judge phase runs on: a run directory whose `responses.jsonl` is complete.
pub struct JudgePhase<'a> {
    pub dir: &'a Path,
    pub rubric: Arc<Rubric>,
    pub prompts: Arc<Prompts>,
    pub items: Arc<Vec<Item>>,
    /// Models in report order.
    pub models: Vec<String>,
    pub baseline: Option<String>,
    /// `None`: rules and reference metrics only (pairs need a judge, so `pairwise.jsonl` is emptied).
    pub judge: Option<JudgeModel>,
    pub concurrency: usize,
    pub quiet: bool,
    /// `--resume`: judge calls with a reply in `judgements.jsonl` are not asked again.
    pub resume: bool,
    /// The response cache, for judge calls.
    pub cache: Option<Arc<Cache>>,
}

/// Score every recorded response again (rules, reference metrics, judge) and compare candidates with
/// the baseline: judgements are appended as they return, then `scores.jsonl` and `pairwise.jsonl` are
/// replaced by the new records in one step each. Used by `run` (after answering) and `rescore`. With
/// `resume`, a judge phase that was cut short continues: recorded replies are reused, only missing or
/// failed calls are sent.
pub async fn judge_phase(p: JudgePhase<'_>) -> Result<JudgeTally> {
    let responses: Vec<ResponseRecord> = read_jsonl(&p.dir.join(files::RESPONSES))?;
    let recorded: Vec<JudgementRecord> = if p.resume {
        read_jsonl(&p.dir.join(files::JUDGEMENTS))?
    } else {
        Vec::new()
    };
    let store = Store::open(p.dir)?;
    let outcome = judging::judge_all(JudgeJob {
        rubric: p.rubric,
        prompts: p.prompts,
        items: p.items,
        responses,
        models: p.models,
        baseline: p.baseline,
        judge: p.judge,
        global_concurrency: p.concurrency,
        sink: store.sink(),
        quiet: p.quiet,
        recorded,
        cache: p.cache,
    })
    .await;
    store.close()?;
    let t = &outcome.tally;
    if t.reused + t.cached > 0 {
        eprintln!(
            "evalrun: judge: {} repl{} reused from {}, {} from the response cache, {} call(s) sent",
            t.reused,
            if t.reused == 1 { "y" } else { "ies" },
            files::JUDGEMENTS,
            t.cached,
            t.calls
        );
    }
    judging::replace_jsonl(&p.dir.join(files::SCORES), &outcome.scores)?;
    judging::replace_jsonl(&p.dir.join(files::PAIRWISE), &outcome.pairs)?;
    Ok(outcome.tally)
}

/// `--resume`: check the stored manifest against the new one (exit 2 naming every change), make the
/// record files safe to append to, and return the manifest to write and what is done. A directory
/// without a manifest and without records starts a new run, so `--resume` can always be passed.
fn continue_run(dir: &Path, manifest: Manifest) -> Result<(Manifest, resume::Done)> {
    if !dir.join(files::MANIFEST).exists() {
        if holds_a_run(dir) {
            return Err(UsageError::new(format!(
                "--resume: {} holds records but no {}; it cannot be checked against this command",
                dir.display(),
                files::MANIFEST
            ))
            .into());
        }
        eprintln!(
            "evalrun: --resume: {} holds no run yet; starting it",
            dir.display()
        );
        let (done, _) = resume::prepare(dir)?;
        return Ok((manifest, done));
    }
    let stored = Manifest::read(dir).map_err(|e| UsageError::new(format!("{e:#}")))?;
    resume::check_manifest(&stored, &manifest, dir)?;
    let (done, repairs) = resume::prepare(dir)?;
    if let Some(r) = repairs.describe() {
        eprintln!("evalrun: --resume: {r}");
    }
    Ok((resume::continued(&stored, manifest), done))
}

/// Score, from their records, the answers that were recorded without a score line (a kill between the
/// two lines). No request is sent.
fn score_unscored(
    dir: &Path,
    done: &resume::Done,
    items: &[Item],
    scorer: &runner::Scorer,
    store: &Store,
) -> Result<()> {
    let missing = done.answers.difference(&done.scores).count();
    if missing == 0 {
        return Ok(());
    }
    let by_id: std::collections::BTreeMap<&str, &Item> =
        items.iter().map(|i| (i.id.as_str(), i)).collect();
    let sink = store.sink();
    let responses: Vec<ResponseRecord> = read_jsonl(&dir.join(files::RESPONSES))?;
    for r in responses {
        let key = crate::records::UnitKey {
            model: r.model.clone(),
            item_id: r.item_id.clone(),
            sample: r.sample,
        };
        if !done.answers.contains(&key) || done.scores.contains(&key) {
            continue;
        }
        if let Some(item) = by_id.get(r.item_id.as_str()) {
            sink.write(RecordFile::Scores, &scorer(&r, item));
        }
    }
    Ok(())
}

fn write_items(dir: &Path, items: &[Item]) -> Result<()> {
    let mut text = String::new();
    for it in items {
        text.push_str(&serde_json::to_string(it)?);
        text.push('\n');
    }
    let path = dir.join(ITEMS_FILE);
    std::fs::write(&path, text).with_context(|| format!("could not write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_syntax() {
        assert_eq!(parse_shard("1/2").unwrap(), (1, 2));
        assert!(parse_shard("0/2").is_err());
        assert!(parse_shard("3/2").is_err());
        assert!(parse_shard("x").is_err());
    }
}
