//! The regression gate (SPEC §7, STATS.md §7): pure functions over two runs' records.
//!
//! [`runs`] reads a run directory as a stream; [`compare`] works out every row (dimensions, rules,
//! latency, errors, cached answers) per gated model, then [`verdict`] applies Holm over the families
//! pooled across the gated models and decides each row; [`render_md`] and [`render_json`] word it.
//! [`inputs`] refuses runs of different inputs. The command (`commands::gate`) only wires them.

pub mod dimensions;
pub mod errors;
pub mod estimate;
pub mod exact;
pub mod inputs;
pub mod judge_drift;
pub mod junit;
pub mod latency;
pub mod render_json;
pub mod render_md;
pub mod rules;
pub mod runs;
pub mod verdict;

use std::collections::{BTreeMap, BTreeSet};

use crate::records::UnitKey;
pub use runs::Run;

/// `schema` of `evalrun gate --json`.
pub const SCHEMA: &str = "evalrun-gate/2";

/// The gate's settings (SPEC §7 defaults in `cli::GateArgs`).
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Family-wise significance level α.
    pub alpha: f64,
    /// Models to gate; empty: every model in both runs.
    pub models: Vec<String>,
    /// `--primary`; empty: the rubric's `primary` dimensions, else every dimension.
    pub primary: Vec<String>,
    /// `--tolerance x`: for every dimension (default 0.025 × the scale's range).
    pub tolerance: Option<f64>,
    /// `--tolerance d=x`.
    pub tolerance_by_dim: BTreeMap<String, f64>,
    /// Largest tolerated relative increase of p90 latency.
    pub max_latency_increase: f64,
    /// Largest tolerated candidate error rate.
    pub max_error_rate: f64,
    /// Whether cached answers are accepted.
    pub allow_cached: bool,
    /// Item field whose values define clusters, if any.
    pub cluster: Option<String>,
    /// Any change of an item score or rule outcome fails (deterministic endpoints).
    pub exact: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            alpha: 0.05,
            models: Vec::new(),
            primary: Vec::new(),
            tolerance: None,
            tolerance_by_dim: BTreeMap::new(),
            max_latency_increase: 0.25,
            max_error_rate: 0.02,
            allow_cached: false,
            cluster: None,
            exact: false,
        }
    }
}

/// A row's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// A regression the gate fails on.
    Fail,
    /// A concern that does not fail the gate.
    Warn,
    /// No regression detected.
    Pass,
    /// The comparison could not be made (e.g. no shared data).
    NotTested,
}

impl Status {
    /// The status's name as written in the gate outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::NotTested => "NOT TESTED",
        }
    }
}

/// The units both runs recorded for one model, and how many each run had.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// Units present in both runs.
    pub n_shared_units: usize,
    /// Units in the baseline run.
    pub n_baseline_units: usize,
    /// Units in the candidate run.
    pub n_candidate_units: usize,
}

/// Every row of one gated model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelGate {
    /// Which units the two runs share.
    pub coverage: Coverage,
    /// Per-dimension comparison rows.
    pub dimensions: BTreeMap<String, dimensions::DimRow>,
    /// Per-rule comparison rows.
    pub rules: BTreeMap<String, rules::RuleRow>,
    /// Latency comparison row.
    pub latency: latency::LatencyRow,
    /// Error-rate comparison row.
    pub errors: errors::ErrorRow,
    /// Cached-answer check row.
    pub cached: errors::CachedRow,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    /// Parameters the gate was run with.
    pub params: Params,
    /// The primary dimensions in force (every dimension when none is marked).
    pub primary: Vec<String>,
    /// Gate results per model.
    pub models: BTreeMap<String, ModelGate>,
    /// Lines for the reader: models not compared, dimensions never scored in both runs.
    pub notes: Vec<String>,
}

impl Gate {
    /// Every row's status, in model order.
    pub fn statuses(&self) -> Vec<Status> {
        let mut v = Vec::new();
        for m in self.models.values() {
            v.extend(m.dimensions.values().map(|r| r.status));
            v.extend(m.rules.values().map(|r| r.status));
            v.extend([m.latency.status, m.errors.status, m.cached.status]);
        }
        v
    }
    /// Number of rows with status Fail.
    pub fn n_fail(&self) -> usize {
        self.statuses()
            .iter()
            .filter(|s| **s == Status::Fail)
            .count()
    }
    /// Number of rows with status Warn.
    pub fn n_warn(&self) -> usize {
        self.statuses()
            .iter()
            .filter(|s| **s == Status::Warn)
            .count()
    }
}

/// The units of one model both runs recorded in `responses.jsonl`.
pub fn shared_units<'a>(base: &'a Run, cand: &Run, model: &str) -> Vec<&'a UnitKey> {
    base.answers
        .keys()
        .filter(|k| k.model == model && cand.answers.contains_key(*k))
        .collect()
}

/// The models to gate: `--models` (each must be in both runs), else every model in both runs.
pub fn gated_models(base: &Run, cand: &Run, params: &Params) -> Result<Vec<String>, String> {
    let in_both: BTreeSet<&str> = base
        .manifest
        .models
        .iter()
        .map(|m| m.name.as_str())
        .filter(|m| cand.manifest.model(m).is_some())
        .collect();
    if params.models.is_empty() {
        return Ok(in_both.iter().map(|m| m.to_string()).collect());
    }
    for m in &params.models {
        if !in_both.contains(m.as_str()) {
            return Err(format!(
                "--models: `{m}` is not in both runs (in both: {})",
                in_both.iter().copied().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    Ok(params.models.clone())
}

/// Compare `cand` with `base` for the gated models: every row, Holm applied, each decided.
pub fn compare(base: &Run, cand: &Run, params: &Params, models: &[String]) -> Gate {
    let dims = dimensions::dimension_scales(base, cand);
    let primary: Vec<String> = if !params.primary.is_empty() {
        params.primary.clone()
    } else if !base.primary.is_empty() {
        base.primary.clone()
    } else {
        dims.keys().cloned().collect()
    };
    let mut notes = Vec::new();
    let mut out = BTreeMap::new();
    for model in models {
        let shared = shared_units(base, cand, model);
        let count = |r: &Run| r.answers.keys().filter(|k| &k.model == model).count();
        let coverage = Coverage {
            n_shared_units: shared.len(),
            n_baseline_units: count(base),
            n_candidate_units: count(cand),
        };
        if shared.is_empty() {
            notes.push(format!(
                "model {model}: no (item, sample) answered in both runs ({} in the baseline, {} in \
                 the candidate)",
                coverage.n_baseline_units, coverage.n_candidate_units
            ));
        }
        let ctx = dimensions::Ctx {
            base,
            cand,
            shared: &shared,
            params,
        };
        let dim_rows = dims
            .iter()
            .map(|(d, scale)| {
                let tol = params
                    .tolerance_by_dim
                    .get(d)
                    .copied()
                    .or(params.tolerance)
                    .unwrap_or(0.025 * (scale.1 - scale.0) as f64);
                (
                    d.clone(),
                    dimensions::row(&ctx, d, tol, primary.contains(d)),
                )
            })
            .collect();
        out.insert(
            model.clone(),
            ModelGate {
                coverage,
                dimensions: dim_rows,
                rules: rules::rows(&ctx),
                latency: latency::row(&ctx),
                errors: errors::error_row(&ctx),
                cached: errors::cached_row(&ctx),
            },
        );
    }
    let mut gate = Gate {
        params: params.clone(),
        primary,
        models: out,
        notes,
    };
    verdict::decide(&mut gate);
    gate
}
