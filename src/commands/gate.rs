//! `evalrun gate --baseline A --candidate B`: the regression gate of SPEC §7.
//!
//! For each model present in both runs, on the (item, sample) units both runs recorded:
//! - each rubric dimension: the paired item-score difference (STATS.md §4.1–4.2: item score = mean of
//!   the non-null samples, d = round(candidate − baseline, 9)). Regression when the mean drop exceeds
//!   `--max-drop` *and* the Wilcoxon signed-rank test (Pratt, asymptotic) is significant at `--alpha`
//!   after Holm over every dimension test of the gate;
//! - each rule: the pass/fail outcomes paired per unit. Regression when more units went pass → fail
//!   than fail → pass and the exact McNemar test is significant at `--alpha` after Holm over every
//!   rule test of the gate (a second family: a nightly gate runs dozens of rule tests, and without the
//!   correction an A/A comparison would cry wolf);
//! - p90 of `total_ms` (nearest rank, successful uncached answers): regression when it rose by more
//!   than `--max-latency-increase`.
//!
//! With `--exact` (for deterministic endpoints such as the simulator) any change of a score or a rule
//! outcome fails, in either direction; latency is judged as usual.
//!
//! The runs must share eval set and rubric (by hash) and, when both have one, the judge; otherwise the
//! gate exits 2 naming what changed, unless `--allow-changed`, which the verdict then states. A run
//! without a judge has no judged scores, so a judge added or removed leaves only scores both runs have
//! to compare; the verdict says so.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cli::GateArgs;
use crate::error::{exit, UsageError};
use crate::manifest::Manifest;
use crate::records::{files, read_jsonl, ResponseRecord, ScoreRecord, UnitKey};
use crate::stats::describe::{mean, round9};
use crate::stats::holm::holm;
use crate::stats::mcnemar::McNemar;
use crate::stats::percentile::{nearest_rank, sorted};
use crate::stats::wilcoxon::signed_rank;

/// The gate's thresholds (SPEC §7 defaults in `cli::GateArgs`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Largest tolerated drop of a dimension mean, on the rubric scale.
    pub max_drop: f64,
    /// Significance level, after Holm.
    pub alpha: f64,
    /// Largest tolerated relative rise of p90 total latency (0.25 = +25 %).
    pub max_latency_increase: f64,
    /// Any change of a score or rule outcome fails (deterministic endpoints).
    pub exact: bool,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_drop: 0.10,
            alpha: 0.05,
            max_latency_increase: 0.25,
            exact: false,
        }
    }
}

/// What the gate reads of one run: the manifest and the records, the last line of a key winning.
pub struct RunData {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub responses: BTreeMap<UnitKey, ResponseRecord>,
    pub scores: BTreeMap<UnitKey, ScoreRecord>,
}

impl RunData {
    pub fn read(dir: &Path) -> Result<RunData> {
        let manifest = Manifest::read(dir).map_err(|e| UsageError::new(format!("{e:#}")))?;
        let key = |model: &str, item: &str, sample: u32| UnitKey {
            model: model.to_string(),
            item_id: item.to_string(),
            sample,
        };
        let responses = read_jsonl::<ResponseRecord>(&dir.join(files::RESPONSES))?
            .into_iter()
            .map(|r| (key(&r.model, &r.item_id, r.sample), r))
            .collect();
        let scores = read_jsonl::<ScoreRecord>(&dir.join(files::SCORES))?
            .into_iter()
            .map(|s| (key(&s.model, &s.item_id, s.sample), s))
            .collect();
        Ok(RunData {
            dir: dir.to_path_buf(),
            manifest,
            responses,
            scores,
        })
    }
}

/// What a check looks at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Measure {
    Dimension(String),
    Rule(String),
    LatencyP90,
}

impl Measure {
    fn label(&self) -> String {
        match self {
            Measure::Dimension(d) => format!("dimension `{d}` mean"),
            Measure::Rule(r) => format!("rule `{r}` pass rate"),
            Measure::LatencyP90 => "p90 total latency".into(),
        }
    }
}

/// One row of the verdict table.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub model: String,
    pub measure: Measure,
    pub baseline: String,
    pub candidate: String,
    pub change: String,
    /// The test and its p-values, or how the threshold applies.
    pub test: String,
    /// Raw p-value of the test, if one applies.
    pub p: Option<f64>,
    /// Holm-adjusted p-value within the check's family.
    pub p_holm: Option<f64>,
    pub regression: bool,
    /// Why the row is, or is not, a regression, in words.
    pub why: String,
    /// What the decision needs once the Holm-adjusted p is known (`None` for latency, decided at once).
    pending: Option<Pending>,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub checks: Vec<Check>,
    /// Lines under the table: what was not compared, and why.
    pub not_compared: Vec<String>,
    /// Per model compared: (model, shared units, baseline units, candidate units).
    pub coverage: Vec<(String, usize, usize, usize)>,
}

impl Verdict {
    pub fn regressions(&self) -> usize {
        self.checks.iter().filter(|c| c.regression).count()
    }
}

/// Compare `cand` with `base`. Pure: reads only the records given.
pub fn compare(base: &RunData, cand: &RunData, t: &Thresholds) -> Verdict {
    let mut checks = Vec::new();
    let mut not_compared = Vec::new();
    let mut coverage = Vec::new();
    let cand_models: BTreeSet<&str> = cand
        .manifest
        .models
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    let models: Vec<&str> = base
        .manifest
        .models
        .iter()
        .map(|m| m.name.as_str())
        .filter(|m| cand_models.contains(m))
        .collect();
    let only = |a: &Manifest, b: &Manifest| -> Vec<String> {
        a.models
            .iter()
            .filter(|m| b.model(&m.name).is_none())
            .map(|m| m.name.clone())
            .collect()
    };
    for (which, names) in [
        ("baseline", only(&base.manifest, &cand.manifest)),
        ("candidate", only(&cand.manifest, &base.manifest)),
    ] {
        if !names.is_empty() {
            not_compared.push(format!(
                "models only in the {which}: {} (not compared)",
                names.join(", ")
            ));
        }
    }
    let dims: Vec<String> = {
        let mut v: Vec<String> = base
            .manifest
            .dimensions
            .iter()
            .map(|d| d.id.clone())
            .collect();
        for d in &cand.manifest.dimensions {
            if !v.contains(&d.id) {
                v.push(d.id.clone());
            }
        }
        v
    };

    let mut unscored_dims: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for model in models {
        let in_model = |k: &&UnitKey| k.model == model;
        let base_keys: BTreeSet<&UnitKey> = base.responses.keys().filter(in_model).collect();
        let cand_keys: BTreeSet<&UnitKey> = cand.responses.keys().filter(in_model).collect();
        let shared: Vec<&UnitKey> = base_keys.intersection(&cand_keys).copied().collect();
        if shared.is_empty() {
            not_compared.push(format!(
                "model {model}: no (item, sample) answered in both runs ({} in the baseline, {} in the \
                 candidate)",
                base_keys.len(),
                cand_keys.len()
            ));
            continue;
        }
        coverage.push((
            model.to_string(),
            shared.len(),
            base_keys.len(),
            cand_keys.len(),
        ));
        for dim in &dims {
            match dimension_check(base, cand, model, dim, &shared) {
                Some(c) => checks.push(c),
                None => unscored_dims
                    .entry(dim.clone())
                    .or_default()
                    .push(model.to_string()),
            }
        }
        checks.extend(rule_checks(base, cand, model, &shared));
        match latency_check(base, cand, model, &shared, t) {
            Some(c) => checks.push(c),
            None => not_compared.push(format!(
                "{model}: p90 total latency — no successful uncached answer in one of the runs"
            )),
        }
    }
    // One line per set of models, listing the dimensions none of them could compare.
    let mut by_models: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (dim, ms) in unscored_dims {
        let who = if ms.len() == coverage.len() {
            "any model".to_string()
        } else {
            ms.join(", ")
        };
        by_models.entry(who).or_default().push(format!("`{dim}`"));
    }
    for (who, dims) in by_models {
        not_compared.push(format!(
            "dimension{} {}: no item scored in both runs for {who} (a run without a judge leaves judged \
             dimensions empty)",
            if dims.len() == 1 { "" } else { "s" },
            dims.join(", ")
        ));
    }

    // Holm within each family, then the decisions that depend on it.
    for family in [
        |m: &Measure| matches!(m, Measure::Dimension(_)),
        |m: &Measure| matches!(m, Measure::Rule(_)),
    ] {
        let idx: Vec<usize> = (0..checks.len())
            .filter(|&i| family(&checks[i].measure) && checks[i].p.is_some())
            .collect();
        let raw: Vec<f64> = idx.iter().map(|&i| checks[i].p.unwrap_or(1.0)).collect();
        for (&i, adj) in idx.iter().zip(holm(&raw)) {
            checks[i].p_holm = Some(adj);
        }
    }
    for c in &mut checks {
        decide(c, t);
    }
    // Regressions first, then by model and measure, so the reason to fail is at the top.
    checks.sort_by(|a, b| {
        b.regression
            .cmp(&a.regression)
            .then_with(|| a.model.cmp(&b.model))
            .then_with(|| a.measure.cmp(&b.measure))
    });
    Verdict {
        checks,
        not_compared,
        coverage,
    }
}

/// Facts a decision needs, kept on the row until the Holm adjustment is known.
#[derive(Debug, Clone, PartialEq)]
enum Pending {
    Dimension { mean_diff: f64, changed: usize },
    Rule { lost: u64, gained: u64 },
}

/// The item scores of one run for (model, dimension), over the shared units: item → mean of the
/// non-null sample scores.
fn item_scores(run: &RunData, dim: &str, shared: &[&UnitKey]) -> BTreeMap<String, f64> {
    let mut acc: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for key in shared {
        let score = run
            .scores
            .get(*key)
            .and_then(|s| s.dimensions.get(dim))
            .and_then(|d| d.score);
        if let Some(s) = score {
            let e = acc.entry(key.item_id.clone()).or_default();
            e.0 += s;
            e.1 += 1;
        }
    }
    acc.into_iter()
        .map(|(item, (sum, n))| (item, sum / n as f64))
        .collect()
}

fn dimension_check(
    base: &RunData,
    cand: &RunData,
    model: &str,
    dim: &str,
    shared: &[&UnitKey],
) -> Option<Check> {
    let b = item_scores(base, dim, shared);
    let c = item_scores(cand, dim, shared);
    let pairs: Vec<(f64, f64)> = b
        .iter()
        .filter_map(|(item, bs)| c.get(item).map(|cs| (*bs, *cs)))
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let d: Vec<f64> = pairs.iter().map(|(b, c)| round9(c - b)).collect();
    let mean_b = mean(&pairs.iter().map(|p| p.0).collect::<Vec<_>>())?;
    let mean_c = mean(&pairs.iter().map(|p| p.1).collect::<Vec<_>>())?;
    let mean_diff = mean(&d)?;
    let test = signed_rank(&d)?;
    let (lower, higher) = (
        d.iter().filter(|x| **x < 0.0).count(),
        d.iter().filter(|x| **x > 0.0).count(),
    );
    Some(Check {
        model: model.to_string(),
        measure: Measure::Dimension(dim.to_string()),
        baseline: format!("{mean_b:.3}"),
        candidate: format!("{mean_c:.3}"),
        change: signed(mean_diff, 3),
        test: format!(
            "Wilcoxon signed-rank over {} items ({lower} lower, {higher} higher): p = {}",
            d.len(),
            fmt_p(test.p)
        ),
        p: Some(test.p),
        p_holm: None,
        regression: false,
        why: String::new(),
        pending: Some(Pending::Dimension {
            mean_diff,
            changed: lower + higher,
        }),
    })
}

fn rule_checks(base: &RunData, cand: &RunData, model: &str, shared: &[&UnitKey]) -> Vec<Check> {
    let mut outcomes: BTreeMap<&str, Vec<(bool, bool)>> = BTreeMap::new();
    for key in shared {
        let (Some(b), Some(c)) = (base.scores.get(*key), cand.scores.get(*key)) else {
            continue;
        };
        for (rule, bo) in &b.rules {
            if let Some(co) = c.rules.get(rule) {
                outcomes
                    .entry(rule.as_str())
                    .or_default()
                    .push((bo.pass, co.pass));
            }
        }
    }
    outcomes
        .into_iter()
        .map(|(rule, pairs)| {
            let n = pairs.len();
            let passed_b = pairs.iter().filter(|p| p.0).count();
            let passed_c = pairs.iter().filter(|p| p.1).count();
            let test = McNemar::from_pairs(pairs.iter().copied());
            let rate = |k: usize| 100.0 * k as f64 / n as f64;
            Check {
                model: model.to_string(),
                measure: Measure::Rule(rule.to_string()),
                baseline: format!("{:.1} % ({passed_b}/{n})", rate(passed_b)),
                candidate: format!("{:.1} % ({passed_c}/{n})", rate(passed_c)),
                change: format!("{} pp", signed(rate(passed_c) - rate(passed_b), 1)),
                test: format!(
                    "exact McNemar: {} pass→fail, {} fail→pass: p = {}",
                    test.lost,
                    test.gained,
                    fmt_p(test.p)
                ),
                p: Some(test.p),
                p_holm: None,
                regression: false,
                why: String::new(),
                pending: Some(Pending::Rule {
                    lost: test.lost,
                    gained: test.gained,
                }),
            }
        })
        .collect()
}

fn latency_check(
    base: &RunData,
    cand: &RunData,
    model: &str,
    shared: &[&UnitKey],
    t: &Thresholds,
) -> Option<Check> {
    let p90 = |run: &RunData| -> Option<(f64, usize)> {
        let values: Vec<f64> = shared
            .iter()
            .filter_map(|k| run.responses.get(*k))
            .filter(|r| r.error.is_none() && !r.cached)
            .filter_map(|r| r.total_ms.filter(|x| x.is_finite()))
            .collect();
        let sorted = sorted(&values);
        Some((nearest_rank(&sorted, 90)?, sorted.len()))
    };
    let (b, nb) = p90(base)?;
    let (c, nc) = p90(cand)?;
    if b <= 0.0 {
        return None;
    }
    let rise = c / b - 1.0;
    let regression = rise > t.max_latency_increase;
    let pct = |x: f64| format!("{} %", signed(100.0 * x, 1));
    let why = if regression {
        format!(
            "rose {} — more than the allowed {:.0} %",
            pct(rise),
            100.0 * t.max_latency_increase
        )
    } else {
        format!(
            "{} — within the allowed +{:.0} %",
            pct(rise),
            100.0 * t.max_latency_increase
        )
    };
    Some(Check {
        model: model.to_string(),
        measure: Measure::LatencyP90,
        baseline: secs(b),
        candidate: secs(c),
        change: pct(rise),
        test: format!("nearest-rank p90 over {nb} / {nc} successful uncached answers"),
        p: None,
        p_holm: None,
        regression,
        why,
        pending: None,
    })
}

/// Decide a dimension or rule row once its Holm-adjusted p is known, and say why.
fn decide(c: &mut Check, t: &Thresholds) {
    let Some(pending) = c.pending.take() else {
        return; // latency: decided where it was computed
    };
    let p_holm = c.p_holm.unwrap_or(1.0);
    let significant = p_holm < t.alpha;
    let holm_text = format!("Holm p = {}", fmt_p(p_holm));
    c.test = format!("{}, {holm_text}", c.test);
    let alpha = t.alpha;
    match pending {
        Pending::Dimension { mean_diff, changed } => {
            let drop = -mean_diff;
            if t.exact {
                c.regression = changed > 0;
                c.why = if changed > 0 {
                    format!("{changed} item score(s) changed (--exact: any change fails)")
                } else {
                    "every item score is unchanged".into()
                };
                return;
            }
            c.regression = drop > t.max_drop && significant;
            c.why = if c.regression {
                format!(
                    "fell by {drop:.3} > {:.3} allowed, and significant ({holm_text} < {alpha})",
                    t.max_drop
                )
            } else if drop > t.max_drop {
                format!(
                    "fell by {drop:.3} > {:.3} allowed, but not significant ({holm_text} ≥ {alpha}): \
                     could be noise",
                    t.max_drop
                )
            } else if drop > 0.0 {
                format!("fell by {drop:.3}, within the {:.3} allowed", t.max_drop)
            } else if mean_diff > 0.0 {
                format!("rose by {mean_diff:.3}")
            } else {
                "unchanged".into()
            };
        }
        Pending::Rule { lost, gained } => {
            if t.exact {
                c.regression = lost + gained > 0;
                c.why = if c.regression {
                    format!("{lost} pass→fail and {gained} fail→pass (--exact: any change fails)")
                } else {
                    "every outcome is unchanged".into()
                };
                return;
            }
            c.regression = lost > gained && significant;
            c.why = if c.regression {
                format!(
                    "more answers now fail ({lost} pass→fail vs {gained} fail→pass), significant \
                     ({holm_text} < {alpha})"
                )
            } else if lost > gained {
                format!(
                    "{lost} pass→fail vs {gained} fail→pass, not significant ({holm_text} ≥ {alpha})"
                )
            } else if lost + gained == 0 {
                "every outcome is unchanged".into()
            } else {
                format!("no worse: {lost} pass→fail vs {gained} fail→pass")
            };
        }
    }
}

/// The markdown verdict: a headline, what was compared, the table, and what was not compared.
pub fn render(
    base: &RunData,
    cand: &RunData,
    t: &Thresholds,
    v: &Verdict,
    input_notes: &[String],
) -> String {
    let mut s = String::new();
    let n = v.regressions();
    let word = if t.exact { "change" } else { "regression" };
    if n > 0 {
        let _ = writeln!(
            s,
            "## evalrun gate: FAIL — {n} {word}{} in {} checks\n",
            if n == 1 { "" } else { "s" },
            v.checks.len()
        );
    } else {
        let _ = writeln!(
            s,
            "## evalrun gate: PASS — no {word} in {} checks\n",
            v.checks.len()
        );
    }
    let _ = writeln!(
        s,
        "- baseline: `{}` (run {}, started {})",
        base.dir.display(),
        base.manifest.run_id,
        base.manifest.started_utc
    );
    let _ = writeln!(
        s,
        "- candidate: `{}` (run {}, started {})",
        cand.dir.display(),
        cand.manifest.run_id,
        cand.manifest.started_utc
    );
    for note in input_notes {
        let _ = writeln!(s, "- {note}");
    }
    let rule = if t.exact {
        "--exact: any change of an item score or a rule outcome fails".to_string()
    } else {
        format!(
            "a dimension fails when its mean falls by more than {} and the drop is significant; a rule \
             when more answers fail and the change is significant; significance at α = {} after Holm \
             (dimensions and rules are separate families)",
            t.max_drop, t.alpha
        )
    };
    let _ = writeln!(
        s,
        "- rules of the gate: {rule}; p90 total latency fails when it rises by more than {:.0} %",
        100.0 * t.max_latency_increase
    );
    let coverage: Vec<String> = v
        .coverage
        .iter()
        .map(|(m, shared, b, c)| {
            if shared == b && shared == c {
                format!("{m} {shared}")
            } else {
                format!("{m} {shared} (of {b} / {c})")
            }
        })
        .collect();
    let _ = writeln!(
        s,
        "- compared on the (item, sample) units both runs recorded: {}",
        coverage.join(", ")
    );
    s.push_str(
        "\n| model | check | baseline | candidate | change | test | verdict | why |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for c in &v.checks {
        let verdict = match (c.regression, t.exact) {
            (true, false) => "**REGRESSION**",
            (true, true) => "**CHANGED**",
            (false, _) => "ok",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {verdict} | {} |",
            cell(&c.model),
            cell(&c.measure.label()),
            cell(&c.baseline),
            cell(&c.candidate),
            cell(&c.change),
            cell(&c.test),
            cell(&c.why)
        );
    }
    if !v.not_compared.is_empty() {
        s.push_str("\nNot compared:\n\n");
        for line in &v.not_compared {
            let _ = writeln!(s, "- {line}");
        }
    }
    s
}

/// `evalrun gate`: check the inputs match, compare, print and write the verdict. Exit 1 on a
/// regression, 0 otherwise; 2 when the runs cannot be compared.
pub fn run(args: &GateArgs) -> Result<u8> {
    let t = Thresholds {
        max_drop: args.max_drop,
        alpha: args.alpha,
        max_latency_increase: args.max_latency_increase,
        exact: args.exact,
    };
    for (flag, v, ok) in [
        ("--max-drop", t.max_drop, t.max_drop >= 0.0),
        ("--alpha", t.alpha, t.alpha > 0.0 && t.alpha <= 1.0),
        (
            "--max-latency-increase",
            t.max_latency_increase,
            t.max_latency_increase >= 0.0,
        ),
    ] {
        if !(v.is_finite() && ok) {
            return Err(UsageError::new(format!("{flag} {v}: out of range")).into());
        }
    }
    let base = RunData::read(&args.baseline)?;
    let cand = RunData::read(&args.candidate)?;
    let notes = input_notes(&base.manifest, &cand.manifest, args.allow_changed)?;
    if !base
        .manifest
        .models
        .iter()
        .any(|m| cand.manifest.model(&m.name).is_some())
    {
        return Err(UsageError::new(format!(
            "no model is in both runs (baseline: {}; candidate: {})",
            names(&base.manifest),
            names(&cand.manifest)
        ))
        .into());
    }
    let verdict = compare(&base, &cand, &t);
    let text = render(&base, &cand, &t, &verdict, &notes);
    print!("{text}");
    if let Some(out) = &args.out {
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("could not create {}", parent.display()))?;
        }
        std::fs::write(out, &text).with_context(|| format!("could not write {}", out.display()))?;
    }
    Ok(if verdict.regressions() > 0 {
        exit::FAILURE
    } else {
        exit::SUCCESS
    })
}

/// The inputs of the two runs: refuse (exit 2) when eval set, rubric or judge changed, unless
/// `allow_changed`; otherwise lines for the verdict saying what is the same and what changed.
fn input_notes(base: &Manifest, cand: &Manifest, allow_changed: bool) -> Result<Vec<String>> {
    let mut changes = base.input_changes(cand);
    let both_judged = base.judge.is_some() && cand.judge.is_some();
    if both_judged {
        changes.extend(base.judge_changes(cand, false));
    }
    let mut notes = Vec::new();
    if !changes.is_empty() && !allow_changed {
        return Err(UsageError::new(format!(
            "the runs differ in what they measure, so a difference would not be a regression:\n  {}\n\
             compare runs of the same eval set, rubric and judge, or pass --allow-changed to compare the \
             items and checks they share anyway",
            changes.join("\n  ")
        ))
        .into());
    }
    if changes.is_empty() {
        notes.push(format!(
            "inputs: same eval set (sha256 {}…), same rubric (sha256 {}…), judge {}",
            &base.evalset.sha256[..base.evalset.sha256.len().min(12)],
            &base.rubric.sha256[..base.rubric.sha256.len().min(12)],
            base.judge.as_deref().unwrap_or("none")
        ));
    } else {
        notes.push(format!(
            "**compared despite changed inputs (--allow-changed)**: {}",
            changes.join("; ")
        ));
    }
    if !both_judged && base.judge != cand.judge {
        notes.push(format!(
            "judge: {} in the baseline, {} in the candidate — judged dimensions are compared only where \
             both runs scored them",
            base.judge.as_deref().unwrap_or("none"),
            cand.judge.as_deref().unwrap_or("none")
        ));
    }
    Ok(notes)
}

fn names(m: &Manifest) -> String {
    m.models
        .iter()
        .map(|e| e.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn signed(x: f64, decimals: usize) -> String {
    let s = format!("{:+.*}", decimals, x);
    // Show −0.000 as 0.000: no direction.
    if s.trim_start_matches(['+', '-'])
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches(['+', '-']).to_string()
    } else {
        s.replace('-', "−")
    }
}

fn fmt_p(p: f64) -> String {
    if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

fn secs(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{DimensionEntry, FileRef, ModelEntry};
    use crate::records::{DimensionScore, RuleOutcome, ScoreSource};

    fn manifest(judge: Option<&str>) -> Manifest {
        let model = |name: &str| ModelEntry {
            name: name.into(),
            provider: crate::inputs::config::ProviderKind::Openai,
            api: crate::inputs::config::Api::Chat,
            endpoint: format!("http://127.0.0.1:1/v1/chat/completions (model {name})"),
            rps: None,
            tpm: None,
            concurrency: 4,
            timeout_s: 10.0,
            retries: 1,
            price_input_per_1k: None,
            price_output_per_1k: None,
            currency: None,
            params: Default::default(),
            extra_header_names: Vec::new(),
        };
        Manifest {
            tool: "evalrun".into(),
            version: "0".into(),
            run_id: "r".into(),
            command_line: String::new(),
            started_utc: "2026-01-01T00:00:00Z".into(),
            finished_utc: None,
            config: FileRef::of_bytes("c", b"c"),
            evalset: FileRef::of_bytes("e", b"e"),
            rubric: FileRef::of_bytes("r", b"r"),
            items: 0,
            models: vec![model("m"), model("j")],
            baseline: None,
            judge: judge.map(str::to_string),
            judge_model: None,
            samples: 1,
            judge_samples: 1,
            limit: None,
            shard: None,
            margin: 0.1,
            dimensions: vec![DimensionEntry {
                id: "reply".into(),
                name: "Reply".into(),
                scale: (1, 3),
            }],
            simulated: None,
            resumed_utc: Vec::new(),
            interrupted_utc: None,
            rescored: None,
        }
    }

    /// A run of model `m` over `scores.len()` items: reply score, `json_strict` outcome and latency.
    fn run(scores: &[(Option<f64>, bool, f64)]) -> RunData {
        let mut responses = BTreeMap::new();
        let mut records = BTreeMap::new();
        for (i, (score, pass, ms)) in scores.iter().enumerate() {
            let key = UnitKey {
                model: "m".into(),
                item_id: format!("i{i:02}"),
                sample: 0,
            };
            responses.insert(
                key.clone(),
                ResponseRecord {
                    model: "m".into(),
                    item_id: key.item_id.clone(),
                    sample: 0,
                    output: Some("x".into()),
                    ttft_ms: Some(ms / 2.0),
                    total_ms: Some(*ms),
                    queue_ms: Some(0.0),
                    prompt_tokens: None,
                    completion_tokens: None,
                    finish_reason: None,
                    attempts: 1,
                    error: None,
                    cached: false,
                    tokens_estimated: false,
                    invalid_utf8: false,
                },
            );
            records.insert(
                key.clone(),
                ScoreRecord {
                    model: "m".into(),
                    item_id: key.item_id.clone(),
                    sample: 0,
                    rules: [(
                        "json_strict".to_string(),
                        RuleOutcome {
                            pass: *pass,
                            detail: String::new(),
                        },
                    )]
                    .into(),
                    dimensions: [(
                        "reply".to_string(),
                        DimensionScore {
                            score: *score,
                            source: ScoreSource::Judge,
                            justification: None,
                            rule_cap: None,
                        },
                    )]
                    .into(),
                    reference_metrics: None,
                    judge_error: None,
                    judge_samples: None,
                },
            );
        }
        RunData {
            dir: PathBuf::from("r"),
            manifest: manifest(None),
            responses,
            scores: records,
        }
    }

    fn check<'a>(v: &'a Verdict, m: &Measure) -> &'a Check {
        v.checks.iter().find(|c| &c.measure == m).unwrap()
    }

    const REPLY: fn() -> Measure = || Measure::Dimension("reply".into());
    const STRICT: fn() -> Measure = || Measure::Rule("json_strict".into());

    #[test]
    fn a_large_significant_drop_fails_a_small_or_noisy_one_does_not() {
        let base = run(&[(Some(3.0), true, 100.0); 30]);
        // 12 of 30 items fall by one point: mean drop 0.4; scipy's Wilcoxon (Pratt) p = 5.32e-4.
        let mut cand: Vec<(Option<f64>, bool, f64)> = vec![(Some(3.0), true, 100.0); 30];
        for c in cand.iter_mut().take(12) {
            c.0 = Some(2.0);
        }
        let v = compare(&base, &run(&cand), &Thresholds::default());
        let c = check(&v, &REPLY());
        assert!(c.regression, "{c:?}");
        assert_eq!(
            (c.baseline.as_str(), c.candidate.as_str()),
            ("3.000", "2.600")
        );
        assert_eq!(c.change, "−0.400");
        assert!(
            c.why
                .starts_with("fell by 0.400 > 0.100 allowed, and significant"),
            "{}",
            c.why
        );
        assert!(
            (c.p.unwrap() - 5.320055051392497e-4).abs() < 1e-9,
            "{:?}",
            c.p
        );
        assert_eq!(v.regressions(), 1);

        // Two items fall: drop 0.067, within the allowed 0.1 even if it were significant.
        let mut small = vec![(Some(3.0), true, 100.0); 30];
        small[0].0 = Some(2.0);
        small[1].0 = Some(2.0);
        let v = compare(&base, &run(&small), &Thresholds::default());
        let c = check(&v, &REPLY());
        assert!(
            !c.regression && c.why.starts_with("fell by 0.067, within"),
            "{c:?}"
        );

        // Four items, two fall by two points: mean drop 1.0 but p = 0.157 — could be noise.
        let b4 = run(&[(Some(3.0), true, 100.0); 4]);
        let c4 = run(&[
            (Some(1.0), true, 100.0),
            (Some(1.0), true, 100.0),
            (Some(3.0), true, 100.0),
            (Some(3.0), true, 100.0),
        ]);
        let v = compare(&b4, &c4, &Thresholds::default());
        let c = check(&v, &REPLY());
        assert!(!c.regression && c.why.contains("not significant"), "{c:?}");
    }

    #[test]
    fn rules_fail_only_when_significantly_more_answers_fail() {
        let base = run(&[(None, true, 100.0); 20]);
        let mut cand = vec![(None, true, 100.0); 20];
        for c in cand.iter_mut().take(6) {
            c.1 = false;
        }
        let v = compare(&base, &run(&cand), &Thresholds::default());
        let c = check(&v, &STRICT());
        // 6 pass→fail: exact McNemar p = 2/64 = 0.03125; one rule test, so Holm changes nothing.
        assert!(c.regression, "{c:?}");
        assert!((c.p_holm.unwrap() - 0.03125).abs() < 1e-12, "{c:?}");
        // Five are not enough at α = 0.05 (p = 0.0625).
        let mut five = vec![(None, true, 100.0); 20];
        for c in five.iter_mut().take(5) {
            c.1 = false;
        }
        let v = compare(&base, &run(&five), &Thresholds::default());
        assert!(!check(&v, &STRICT()).regression);
        // Models without answers in both runs, and dimensions never scored in both runs, are listed.
        assert_eq!(
            v.not_compared,
            vec![
                "model j: no (item, sample) answered in both runs (0 in the baseline, 0 in the candidate)"
                    .to_string(),
                "dimension `reply`: no item scored in both runs for any model (a run without a judge \
                 leaves judged dimensions empty)"
                    .to_string()
            ]
        );
    }

    #[test]
    fn exact_mode_fails_any_change_in_either_direction_and_latency_uses_its_threshold() {
        let base = run(&[(Some(2.0), false, 100.0); 10]);
        let mut cand = vec![(Some(2.0), false, 100.0); 10];
        cand[3] = (Some(3.0), true, 100.0); // better, but different
        let t = Thresholds {
            exact: true,
            ..Thresholds::default()
        };
        let v = compare(&base, &run(&cand), &t);
        assert!(check(&v, &REPLY()).regression);
        assert!(check(&v, &STRICT()).regression);
        assert!(check(&v, &STRICT())
            .why
            .contains("0 pass→fail and 1 fail→pass"));
        let v = compare(&base, &base, &t);
        assert_eq!(v.regressions(), 0);

        // p90 of ten is the 9th value: 100 → 130 ms is +30 % > 25 %.
        let slow: Vec<(Option<f64>, bool, f64)> = (0..10)
            .map(|i| (Some(2.0), false, if i < 8 { 100.0 } else { 130.0 }))
            .collect();
        let v = compare(&base, &run(&slow), &Thresholds::default());
        let c = check(&v, &Measure::LatencyP90);
        assert!(c.regression && c.change == "+30.0 %", "{c:?}");
        let lenient = Thresholds {
            max_latency_increase: 0.5,
            ..Thresholds::default()
        };
        assert!(!check(&compare(&base, &run(&slow), &lenient), &Measure::LatencyP90).regression);
    }

    #[test]
    fn changed_inputs_are_refused_but_a_judge_added_to_a_judgeless_run_is_only_noted() {
        let base = manifest(None);
        let mut cand = manifest(Some("j"));
        let notes = input_notes(&base, &cand, false).unwrap();
        assert!(
            notes[1].contains("judge: none in the baseline, j in the candidate"),
            "{notes:?}"
        );

        let judged = manifest(Some("j"));
        cand.models[1]
            .params
            .insert("temperature".into(), serde_json::json!(0.7));
        let err = input_notes(&judged, &cand, false).unwrap_err().to_string();
        assert!(
            err.contains("judge j: params.temperature (unset) → 0.7"),
            "{err}"
        );
        // The judge served from another address is the same judge.
        let mut moved = manifest(Some("j"));
        moved.models[1].endpoint = "http://10.0.0.2:9/v1/chat/completions (model j)".into();
        assert!(input_notes(&judged, &moved, false).is_ok());

        cand.rubric = FileRef::of_bytes("r2", b"r2");
        let notes = input_notes(&judged, &cand, true).unwrap();
        assert!(
            notes[0].starts_with("**compared despite changed inputs"),
            "{notes:?}"
        );
        assert!(notes[0].contains("rubric: sha256"), "{notes:?}");
    }
}
