//! The release headline in words: ship, or no release decision and why.

use super::lines::{against, mde_phrase, unscored_note};
use super::verdict::{Blocker, HeldBack, Outcome, Release};
use super::{status, Status, Words};
use crate::report::text::{and_list, p_eq, pct, pct_rounded, signed};
use crate::report::view::View;
/// The headline: "Ship X" with its evidence, or "No release decision" and every reason.
pub(super) fn release_headline(v: &View, w: Words, r: &Release, situation: &str) -> String {
    let no = w.bold("No release decision");
    if !r.blockers.is_empty() {
        let reasons: Vec<String> = r.blockers.iter().map(|b| blocker_words(v, w, b)).collect();
        return format!(
            "{no}: {}. The comparison below describes the answers that arrived; it is not a \
             recommendation.",
            reasons.join("; ")
        );
    }
    let Some(baseline) = v.baseline.as_deref() else {
        return situation.to_string();
    };
    let base = w.name(baseline);
    match &r.outcome {
        Outcome::Ship {
            pick,
            set,
            held_back,
        } => ship_words(v, w, pick, set, held_back, baseline),
        Outcome::TooFewItems { model } => {
            let mut undecided = Vec::new();
            let mut cases = Vec::new();
            for d in v.scored_dims() {
                let Some(p) = v.paired_vs(baseline, model, &d.id) else {
                    continue;
                };
                if let Status::NoDifference { diff, n, mde, .. } = status(v, baseline, model, &d.id)
                {
                    let need = match (p.n_needed_margin, p.n_needed_observed) {
                        (Some(a), Some(b)) if diff != 0.0 => format!(
                            "~{a} items would show it is not worse within the margin {}, ~{b} would \
                             detect the observed {}",
                            v.margin(&d.id),
                            signed(diff, 2)
                        ),
                        (Some(a), _) => format!(
                            "~{a} items would show it is not worse within the margin {}",
                            v.margin(&d.id)
                        ),
                        (None, Some(b)) if diff != 0.0 => {
                            format!("~{b} items would detect the observed {}", signed(diff, 2))
                        }
                        _ => "too few items to estimate how many would decide it".into(),
                    };
                    undecided.push(format!("{} ({need})", w.text(&d.name)));
                    cases.push((n, mde));
                }
            }
            format!(
                "{no}: too few items — {} is not detectably different from the baseline {base} on {} \
                 ({}).",
                w.name(model),
                and_list(&undecided),
                mde_phrase(&cases)
            )
        }
        Outcome::NothingBetter => format!(
            "{no}: nothing better — no candidate is significantly better than the baseline {base} on a \
             dimension while not worse on any (and unbeaten by another model of this run)."
        ),
        Outcome::NotCompared => situation.to_string(),
    }
}

pub(super) fn blocker_words(v: &View, w: Words, b: &Blocker) -> String {
    match b {
        Blocker::Interrupted { at } => format!(
            "the run is incomplete — it was interrupted at {at} (continue it with {})",
            w.name("--resume")
        ),
        Blocker::MaxCost { max } => format!(
            "the run is incomplete — {} stopped it before every request was sent{}",
            w.name(&format!("--max-cost {max}")),
            missing_counts(v)
        ),
        Blocker::Missing {
            model,
            recorded,
            planned,
        } => format!(
            "the run is incomplete — {} has {recorded} of {planned} answers",
            w.name(model)
        ),
        Blocker::Errors {
            model,
            n_errors,
            n,
            rate,
            budget,
        } => format!(
            "errors — {} failed {n_errors} of {n} requests ({}), over the error budget {} of {}",
            w.name(model),
            pct(Some(*rate)),
            pct(Some(*budget)),
            w.name("--max-error-rate")
        ),
        Blocker::NoJudgeOutput { judge } => format!(
            "no judge output — the judge {} returned no usable grade, so the scores are rule caps alone \
             and rank nothing",
            w.name(judge)
        ),
    }
}

/// " (a: 7 of 50 answers, b: 6 of 50)" for a stopped run.
pub(super) fn missing_counts(v: &View) -> String {
    let Some(planned) = v.ctx.run.planned_per_model else {
        return String::new();
    };
    let parts: Vec<String> = v
        .models
        .iter()
        .map(|m| {
            format!(
                "{m}: {} of {planned} answers",
                v.stats(m).errors.n_responses
            )
        })
        .collect();
    format!(" ({})", parts.join(", "))
}

pub(super) fn ship_words(
    v: &View,
    w: Words,
    pick: &str,
    set: &[String],
    held_back: &[(String, HeldBack)],
    baseline: &str,
) -> String {
    let mut better = Vec::new();
    let mut noninf = Vec::new();
    for d in v.scored_dims() {
        match status(v, baseline, pick, &d.id) {
            Status::Better { diff, p } => better.push(format!(
                "{} ({}, Holm p {})",
                w.text(&d.name),
                signed(diff, 2),
                p_eq(p)
            )),
            Status::NonInferior { .. } => noninf.push(w.text(&d.name)),
            _ => {}
        }
    }
    let mut out = format!(
        "{}: better than the baseline {} on {} (paired t-test, Holm-adjusted p < {})",
        w.bold(&format!("Ship {}", w.name(pick))),
        w.name(baseline),
        and_list(&better),
        v.summary.params.alpha
    );
    if noninf.is_empty() {
        out.push_str(", worse on none.");
    } else {
        out.push_str(&format!(
            " and not worse within the margin on {}.",
            and_list(&noninf)
        ));
    }
    if let Some(f) = v.flagship.as_deref().filter(|f| *f != pick) {
        if f == baseline {
            out.push_str(" The baseline is also the flagship.");
        } else {
            match against(
                v,
                w,
                f,
                pick,
                &format!(" Against the flagship {}", w.name(f)),
            ) {
                // The unscored dimensions are named once, at the end.
                Some(line) => out.push_str(line.split(" Not scored:").next().unwrap_or(&line)),
                None => out.push_str(&format!(
                    " Against the flagship {}: no paired test in this run.",
                    w.name(f)
                )),
            }
        }
        let (m, fs) = (v.stats(pick), v.stats(f));
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => Some(pct_rounded(a / b)),
            _ => None,
        };
        let mut parts = Vec::new();
        if let Some(r) = ratio(m.cost.per_item, fs.cost.per_item) {
            parts.push(format!("cost per item {r}"));
        }
        if let Some(r) = ratio(m.latency.total_ms.mean, fs.latency.total_ms.mean) {
            parts.push(format!("mean latency {r}"));
        }
        if !parts.is_empty() {
            let list = and_list(&parts);
            let mut c = list.chars();
            let first = c
                .next()
                .map(|x| x.to_uppercase().to_string())
                .unwrap_or_default();
            out.push_str(&format!(" {first}{} of {}'s.", c.as_str(), w.name(f)));
        }
    }
    if set.len() > 1 {
        let names: Vec<String> = set.iter().map(|m| w.name(m)).collect();
        out.push_str(&format!(
            " {} are tied with the best (no significant difference from the top-ranked model) and each \
             beats the baseline: {} is picked as the cheapest per item, then the fastest.",
            and_list(&names),
            w.name(pick)
        ));
    }
    out + &held_back_words(v, w, held_back) + &unscored_note(v, w)
}

/// The other models tied with the best, and why none of them is recommended.
fn held_back_words(v: &View, w: Words, held: &[(String, HeldBack)]) -> String {
    if held.is_empty() {
        return String::new();
    }
    let dim_names = |ids: &[String]| -> String {
        let names: Vec<String> = ids
            .iter()
            .map(|id| {
                v.scored_dims()
                    .find(|d| &d.id == id)
                    .map_or_else(|| id.clone(), |d| w.text(&d.name))
            })
            .collect();
        and_list(&names)
    };
    // Models held back for the same reason share one clause.
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (m, reason) in held {
        let reason = match reason {
            HeldBack::Beaten { by, dims } => format!(
                "{} is significantly better on {}",
                w.name(by),
                dim_names(dims)
            ),
            HeldBack::NotBetter => {
                "not significantly better than the baseline on any dimension".into()
            }
            HeldBack::NotNonInferior { dims } => format!(
                "not shown within the margin of the baseline on {}, which more items would decide",
                dim_names(dims)
            ),
        };
        match groups.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, models)) => models.push(w.name(m)),
            None => groups.push((reason, vec![w.name(m)])),
        }
    }
    let clauses: Vec<String> = groups
        .iter()
        .map(|(reason, models)| format!("{} — {reason}", and_list(models)))
        .collect();
    format!(
        " Also tied with the best, but not recommended: {}.",
        clauses.join("; ")
    )
}
