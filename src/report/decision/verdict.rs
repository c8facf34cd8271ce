//! The release verdict as data (issue 13): whether the run may recommend a model at all (complete,
//! within its error budget, judged), and if so which one, from the paired tests only. The wording
//! (`super`) renders it; the tests pin it.

use super::{status, Status};
use crate::report::view::View;

/// What stops a run from recommending anything, whatever its means say.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Blocker {
    /// Ctrl-C stopped the run.
    Interrupted { at: String },
    /// `--max-cost` stopped sending.
    MaxCost { max: f64 },
    /// A model has fewer records than planned (no interruption or budget stop recorded).
    Missing {
        model: String,
        recorded: usize,
        planned: usize,
    },
    /// A model's share of failed requests is over `--max-error-rate`.
    Errors {
        model: String,
        n_errors: usize,
        n: usize,
        rate: f64,
        budget: f64,
    },
    /// The judge was asked but returned no usable grade: the scores are rule caps alone.
    NoJudgeOutput { judge: String },
}

/// What the paired tests say, once nothing blocks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// `pick` is better than the baseline on some dimension and not worse (non-inferior) on any, and no
    /// reference of the run significantly beats it. `set`: every such model tied with the best; when it
    /// has several, `pick` is the cheapest per item, then the fastest. `held_back`: the other models
    /// tied with the best (no significant difference from the top-ranked model) that cannot be
    /// recommended, each with why — so the headline names every model the run cannot separate from
    /// the best, not only those it recommends.
    Ship {
        pick: String,
        set: Vec<String>,
        held_back: Vec<(String, HeldBack)>,
    },
    /// The best candidate is undecided against the baseline on some dimension: more items would decide.
    TooFewItems { model: String },
    /// No candidate is better than the baseline (or those that are are beaten by another model).
    NothingBetter,
    /// One model only, no baseline, or nothing scored.
    NotCompared,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Release {
    pub blockers: Vec<Blocker>,
    pub outcome: Outcome,
}

pub(crate) fn release(v: &View) -> Release {
    Release {
        blockers: blockers(v),
        outcome: outcome(v),
    }
}

fn blockers(v: &View) -> Vec<Blocker> {
    let run = &v.ctx.run;
    let mut out = Vec::new();
    if let Some(at) = &run.interrupted_utc {
        out.push(Blocker::Interrupted { at: at.clone() });
    }
    if let (Some(max), Some(_)) = (run.max_cost, &run.max_cost_reached_utc) {
        out.push(Blocker::MaxCost { max });
    }
    if out.is_empty() {
        if let Some(planned) = run.planned_per_model {
            for m in &v.models {
                let recorded = v.stats(m).errors.n_responses;
                if recorded < planned {
                    out.push(Blocker::Missing {
                        model: m.clone(),
                        recorded,
                        planned,
                    });
                }
            }
        }
    }
    for m in &v.models {
        let e = &v.stats(m).errors;
        if let Some(rate) = e.error_rate.filter(|r| *r > run.max_error_rate) {
            out.push(Blocker::Errors {
                model: m.clone(),
                n_errors: e.n_errors,
                n: e.n_responses,
                rate,
                budget: run.max_error_rate,
            });
        }
    }
    if let (Some(judge), Some(j)) = (&v.ctx.judge, &v.summary.judge) {
        let graded: usize = j.per_model.values().map(|m| m.n_graded_answers).sum();
        let unjudged: usize = j.per_model.values().map(|m| m.n_unjudged_answers).sum();
        if graded > 0 && unjudged == graded {
            out.push(Blocker::NoJudgeOutput {
                judge: judge.clone(),
            });
        }
    }
    out
}

/// Why a model tied with the best is not among those the headline recommends.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HeldBack {
    /// A reference of the run is significantly better on these dimensions (ids).
    Beaten { by: String, dims: Vec<String> },
    /// Not significantly better than the baseline on any dimension.
    NotBetter,
    /// Better somewhere, but not shown within the margin of the baseline on these dimensions (ids).
    NotNonInferior { dims: Vec<String> },
}

/// Why `model` (tied with the best, not in the shipped set) is held back.
fn held_back(v: &View, baseline: &str, model: &str) -> HeldBack {
    let refs = [
        v.summary.ranking.top.as_deref(),
        v.flagship.as_deref(),
        Some(baseline),
    ];
    for r in refs.into_iter().flatten().filter(|r| *r != model) {
        let dims: Vec<String> = v
            .scored_dims()
            .filter(|d| matches!(status(v, r, model, &d.id), Status::Worse { .. }))
            .map(|d| d.id.clone())
            .collect();
        if !dims.is_empty() {
            return HeldBack::Beaten {
                by: r.to_string(),
                dims,
            };
        }
    }
    let st: Vec<(String, Status)> = v
        .scored_dims()
        .map(|d| (d.id.clone(), status(v, baseline, model, &d.id)))
        .collect();
    if !st.iter().any(|(_, s)| matches!(s, Status::Better { .. })) {
        return HeldBack::NotBetter;
    }
    HeldBack::NotNonInferior {
        dims: st
            .into_iter()
            .filter(|(_, s)| !matches!(s, Status::Better { .. } | Status::NonInferior { .. }))
            .map(|(d, _)| d)
            .collect(),
    }
}

/// Every scored dimension of `model` against `reference`.
fn statuses(v: &View, reference: &str, model: &str) -> Vec<Status> {
    v.scored_dims()
        .map(|d| status(v, reference, model, &d.id))
        .collect()
}

/// Better than the baseline on one dimension at least, non-inferior on every other (tests run).
fn beats_baseline(v: &View, baseline: &str, model: &str) -> bool {
    let st = statuses(v, baseline, model);
    !st.is_empty()
        && st.iter().any(|s| matches!(s, Status::Better { .. }))
        && st
            .iter()
            .all(|s| matches!(s, Status::Better { .. } | Status::NonInferior { .. }))
}

/// Some reference of the run (top, flagship, baseline) is significantly better than `model` somewhere.
fn beaten(v: &View, model: &str) -> bool {
    let refs = [
        v.summary.ranking.top.as_deref(),
        v.flagship.as_deref(),
        v.baseline.as_deref(),
    ];
    refs.into_iter().flatten().filter(|r| *r != model).any(|r| {
        statuses(v, r, model)
            .iter()
            .any(|s| matches!(s, Status::Worse { .. }))
    })
}

fn outcome(v: &View) -> Outcome {
    let Some(baseline) = v.baseline.as_deref() else {
        return Outcome::NotCompared;
    };
    if v.models.len() < 2 || v.scored_dims().next().is_none() {
        return Outcome::NotCompared;
    }
    // A summary without a ranking (older, or hand-made) ties only the best overall model with itself.
    let tied: Vec<String> = if v.summary.ranking.tied_with_top.is_empty() {
        v.best_overall().into_iter().collect()
    } else {
        v.summary.ranking.tied_with_top.clone()
    };
    let mut set: Vec<String> = tied
        .iter()
        .filter(|m| v.summary.models.contains_key(*m) && m.as_str() != baseline)
        .filter(|m| beats_baseline(v, baseline, m) && !beaten(v, m))
        .cloned()
        .collect();
    if !set.is_empty() {
        set.sort_by(|a, b| {
            let key = |m: &str| {
                let s = v.stats(m);
                (
                    s.cost.per_item.unwrap_or(f64::INFINITY),
                    s.latency.total_ms.mean.unwrap_or(f64::INFINITY),
                )
            };
            let (ca, la) = key(a);
            let (cb, lb) = key(b);
            ca.total_cmp(&cb)
                .then(la.total_cmp(&lb))
                .then_with(|| a.cmp(b))
        });
        let held_back = tied
            .iter()
            .filter(|m| v.summary.models.contains_key(*m) && m.as_str() != baseline)
            .filter(|m| !set.contains(m))
            .map(|m| (m.clone(), held_back(v, baseline, m)))
            .collect();
        return Outcome::Ship {
            pick: set[0].clone(),
            set,
            held_back,
        };
    }
    // The best candidate other than the baseline: undecided dimensions (no test says worse) mean the
    // run was too small to decide.
    let best = v
        .summary
        .ranking
        .order
        .iter()
        .find(|m| m.as_str() != baseline && v.summary.models.contains_key(*m));
    if let Some(m) = best {
        let st = statuses(v, baseline, m);
        let worse = st.iter().any(|s| matches!(s, Status::Worse { .. }));
        let undecided = st
            .iter()
            .any(|s| matches!(s, Status::NoDifference { .. } | Status::NoData));
        if !worse && undecided {
            return Outcome::TooFewItems { model: m.clone() };
        }
    }
    Outcome::NothingBetter
}
