//! The supporting sentences of the decision: each comparison, GSB, cost, errors, missing items.

use super::{status, Status, Words};
use crate::report::text::{and_list, p_eq, pct, pct_rounded, signed};
use crate::report::view::{scale_label, View};
/// Other candidates whose overall mean is within the non-inferiority margin of the best one and that
/// were not tested against it (a summary without `paired.<best>`): the run cannot rank them, so say so
/// and how to test the pair.
pub(super) fn close_behind(v: &View, w: Words, best: &str, baseline: &str) -> Option<String> {
    if v.overall_rescaled {
        return None; // mixed scales: the margin is on no common scale
    }
    let top = v.overall(best)?;
    let margin = v.common_margin();
    let mut close: Vec<(&String, f64)> = v
        .models
        .iter()
        .filter(|m| m.as_str() != best && m.as_str() != baseline)
        // STATS v2 tests every model against the top-ranked one (`ranking.tied_with_top`): only a
        // model without that test is "close behind, untested".
        .filter(|m| {
            v.summary
                .paired
                .get(best)
                .is_none_or(|c| !c.contains_key(m.as_str()))
        })
        .filter_map(|m| Some((m, v.overall(m)?)))
        .filter(|(_, o)| top - o <= margin + 1e-9)
        .collect();
    close.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let (runner_up, _) = close.first()?;
    let list: Vec<String> = close
        .iter()
        .map(|(m, o)| format!("{} ({})", w.name(m), num2(Some(*o))))
        .collect();
    Some(format!(
        "Close behind: {} — within the margin {margin} of {}'s overall {}. Every model was tested against \
         the baseline, not against the others, so this run does not rank them: treat them as tied on \
         quality and choose on cost and latency, or rerun with {} to test the pair.",
        and_list(&list),
        w.name(best),
        num2(Some(top)),
        w.name(&format!("--baseline {runner_up}"))
    ))
}

/// "with 50 items the smallest detectable difference is 0.16" (STATS.md §0, §4.6).
pub(super) fn mde_phrase(cases: &[(usize, Option<f64>)]) -> String {
    let range = |lo: String, hi: String| if lo == hi { lo } else { format!("{lo}–{hi}") };
    let n_lo = cases.iter().map(|c| c.0).min().unwrap_or(0);
    let n_hi = cases.iter().map(|c| c.0).max().unwrap_or(0);
    let items = range(n_lo.to_string(), n_hi.to_string());
    let noun = if n_hi == 1 { "item" } else { "items" };
    let mdes: Vec<f64> = cases.iter().filter_map(|c| c.1).collect();
    if mdes.is_empty() {
        // STATS v2: the MDE is undefined (never 0.00) when every paired difference is the same, or
        // when there are fewer than 2 items.
        return if n_lo >= 2 {
            format!(
                "with {items} {noun} every paired difference was the same, so no smallest detectable difference can be estimated"
            )
        } else {
            format!(
                "with {items} {noun} there are too few to estimate the smallest detectable difference"
            )
        };
    }
    let lo = mdes.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = mdes.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!(
        "with {items} {noun} the smallest detectable difference is {}",
        range(format!("{lo:.2}"), format!("{hi:.2}"))
    )
}

pub(super) fn overall_phrase(v: &View, model: &str) -> String {
    let o = num2(v.overall(model));
    if v.overall_rescaled {
        format!("mean of dimension means {o}, each rescaled to 0–1")
    } else if let Some(scale) = v.common_scale() {
        format!(
            "mean of dimension means {o} on the {} scale",
            scale_label(scale)
        )
    } else {
        format!("mean of dimension means {o}")
    }
}

pub(super) fn num2(x: Option<f64>) -> String {
    crate::report::text::num(x, 2)
}

/// One candidate's dimensions against the baseline, grouped by outcome.
pub(super) fn against_baseline(v: &View, w: Words, model: &str, label: &str) -> Option<String> {
    against(v, w, v.baseline.as_deref()?, model, label)
}

/// One line: how `model` compares with `reference` per dimension, from the paired tests.
pub(super) fn against(
    v: &View,
    w: Words,
    reference: &str,
    model: &str,
    label: &str,
) -> Option<String> {
    let mut better = Vec::new();
    let mut worse = Vec::new();
    let mut noninf = Vec::new();
    let mut nodiff = Vec::new();
    let mut nodiff_cases = Vec::new();
    for d in v.scored_dims() {
        let name = w.text(&d.name);
        match status(v, reference, model, &d.id) {
            Status::Better { diff, p } => {
                better.push(format!("{name} ({}, Holm p {})", signed(diff, 2), p_eq(p)))
            }
            Status::Worse { diff, p } => {
                worse.push(format!("{name} ({}, Holm p {})", signed(diff, 2), p_eq(p)))
            }
            Status::NonInferior { diff, lo, hi } => noninf.push(format!(
                "{name} ({}, 95 % CI [{}, {}])",
                signed(diff, 2),
                signed(lo, 2),
                signed(hi, 2)
            )),
            Status::NoDifference {
                diff,
                n,
                mde,
                needed,
            } => {
                let detect = match needed {
                    Some(k) if diff != 0.0 => format!("; ~{k} items would detect it"),
                    _ => String::new(),
                };
                nodiff.push(format!("{name} ({}{detect})", signed(diff, 2)));
                nodiff_cases.push((n, mde));
            }
            Status::NoData => {}
        }
    }
    let mut parts = Vec::new();
    if !better.is_empty() {
        parts.push(format!("significantly better on {}", and_list(&better)));
    }
    if !worse.is_empty() {
        parts.push(format!("significantly worse on {}", and_list(&worse)));
    }
    if !noninf.is_empty() {
        parts.push(format!(
            "not worse within the margin {} on {}",
            v.common_margin(),
            and_list(&noninf)
        ));
    }
    if !nodiff.is_empty() {
        parts.push(format!(
            "no detectable difference on {} ({})",
            and_list(&nodiff),
            mde_phrase(&nodiff_cases)
        ));
    }
    let unscored: Vec<String> = v
        .dims
        .iter()
        .filter(|d| !d.scored)
        .map(|d| w.text(&d.name))
        .collect();
    if parts.is_empty() {
        return None;
    }
    let mut line = format!("{label}: {}.", parts.join("; "));
    if !unscored.is_empty() {
        line.push_str(&format!(" Not scored: {}.", and_list(&unscored)));
    }
    Some(line)
}

/// " Not scored: Analysis." — so a verdict never hides that it rests on part of the rubric.
pub(super) fn unscored_note(v: &View, w: Words) -> String {
    let unscored: Vec<String> = v
        .dims
        .iter()
        .filter(|d| !d.scored)
        .map(|d| w.text(&d.name))
        .collect();
    if unscored.is_empty() {
        return String::new();
    }
    let scored: Vec<String> = v.scored_dims().map(|d| w.text(&d.name)).collect();
    if scored.len() == 1 {
        format!(
            " Not scored: {}, so this rests on {} alone.",
            and_list(&unscored),
            scored[0]
        )
    } else {
        format!(" Not scored: {}.", and_list(&unscored))
    }
}

pub(super) fn gsb_line(v: &View, w: Words, model: &str, baseline: &str) -> Option<String> {
    let g = v.gsb(model)?;
    if g.N == 0 {
        return None;
    }
    let alpha = v.summary.params.alpha;
    let ci = match (g.ci95_low, g.ci95_high) {
        (Some(lo), Some(hi)) => format!(" [{lo:.2}, {hi:.2}]"),
        _ => String::new(),
    };
    let verdict = match (g.sign_test_p_holm, g.win_rate) {
        (Some(p), Some(wr)) if p < alpha && wr > 0.5 => {
            format!(
                "the judge significantly prefers {} (Holm p {})",
                w.name(model),
                p_eq(p)
            )
        }
        (Some(p), Some(wr)) if p < alpha && wr < 0.5 => {
            format!(
                "the judge significantly prefers {} (Holm p {})",
                w.name(baseline),
                p_eq(p)
            )
        }
        (p, _) => {
            let mde = g
                .mde80_win_rate
                .map(|m| {
                    format!(
                        "; with {} pairs the smallest detectable shift from 0.50 is ±{m:.2}",
                        g.N
                    )
                })
                .unwrap_or_default();
            format!(
                "no significant preference (Holm p {}{mde})",
                p.map(p_eq).unwrap_or_else(|| "–".into())
            )
        }
    };
    Some(format!(
        "Side by side against {} (GSB, both orders): {} good / {} same / {} bad, win rate {}{ci}: {verdict}.",
        w.name(baseline),
        g.G,
        g.S,
        g.B,
        g.win_rate.map(|x| format!("{x:.2}")).unwrap_or_else(|| "–".into()),
    ))
}

/// Seed 000 §4's shape: latency and cost as fractions of the most expensive model's.
pub(super) fn cost_line(v: &View, w: Words, model: &str) -> Option<String> {
    let f = v.flagship.as_deref()?;
    let m = v.stats(model);
    if f == model {
        let per_item = m.cost.per_item?;
        return Some(
            format!(
                "{} is itself the most expensive model: {} {} per item.",
                w.name(model),
                crate::report::text::money(Some(per_item)),
                m.cost.currency.clone().unwrap_or_default()
            )
            .replace("  ", " "),
        );
    }
    let fs = v.stats(f);
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(pct_rounded(a / b)),
        _ => None,
    };
    let mut parts = Vec::new();
    if let Some(r) = ratio(m.latency.ttft_ms.mean, fs.latency.ttft_ms.mean) {
        parts.push(format!("first-token latency {r} of {}'s", w.name(f)));
    }
    if let Some(r) = ratio(m.latency.total_ms.mean, fs.latency.total_ms.mean) {
        parts.push(format!("total {r}"));
    }
    if let Some(r) = ratio(m.cost.per_item, fs.cost.per_item) {
        parts.push(format!("cost {r}"));
    }
    if parts.is_empty() {
        return None;
    }
    let sim = if v.ctx.simulated.is_some() {
        "; simulated endpoints, so synthetic numbers"
    } else {
        ""
    };
    Some(format!(
        "{} relative to the most expensive model {}: {} (mean latencies, cost per item{sim}).",
        w.name(model),
        w.name(f),
        parts.join(", ")
    ))
}

pub(super) fn error_line(v: &View, w: Words, model: &str) -> Option<String> {
    let e = &v.stats(model).errors;
    if e.n_errors == 0 {
        return None;
    }
    let kinds: Vec<String> = e.by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
    Some(format!(
        "{} failed {} of {} requests ({}): {}. Failed answers are not scored.",
        w.name(model),
        e.n_errors,
        e.n_responses,
        pct(e.error_rate),
        kinds.join(", ")
    ))
}

/// Models whose every request failed: the run is broken for them, whatever the rest says.
pub(super) fn all_failed(v: &View, w: Words) -> Vec<String> {
    v.models
        .iter()
        .filter(|m| {
            let e = &v.stats(m).errors;
            e.n_responses > 0 && e.n_errors == e.n_responses
        })
        .map(|m| {
            let e = &v.stats(m).errors;
            let kinds: Vec<String> = e.by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
            format!(
                "{}: every request to {} failed ({}); check its configuration and credentials.",
                w.bold("Broken"),
                w.name(m),
                kinds.join(", ")
            )
        })
        .collect()
}

pub(super) fn best_per_dimension(v: &View, w: Words) -> Option<String> {
    let mut parts = Vec::new();
    for d in v.scored_dims() {
        if let Some(m) = v.best_in(&d.id) {
            parts.push(format!(
                "{} {} ({})",
                w.text(&d.name),
                w.name(&m),
                num2(v.mean(&m, &d.id))
            ));
        }
    }
    if parts.is_empty() {
        return None;
    }
    let unscored: Vec<String> = v
        .dims
        .iter()
        .filter(|d| !d.scored)
        .map(|d| w.text(&d.name))
        .collect();
    let tail = if unscored.is_empty() {
        String::new()
    } else {
        format!("; not scored: {}", and_list(&unscored))
    };
    Some(format!(
        "Highest mean per dimension: {}{tail}.",
        parts.join(", ")
    ))
}

/// Each model's items without a score beside its means, so failed items cannot hide.
pub(super) fn missing_items(v: &View, w: Words) -> Option<String> {
    let planned = v.ctx.run.planned_per_model?;
    let items = planned / v.ctx.run.samples.max(1) as usize;
    let parts: Vec<String> = v
        .models
        .iter()
        .filter_map(|m| {
            let s = v.stats(m);
            let scored = v
                .scored_dims()
                .filter_map(|d| s.dimensions.get(&d.id).map(|x| x.n_items))
                .min()?;
            let missing = items.checked_sub(scored).filter(|n| *n > 0)?;
            Some(format!(
                "{} {missing} of {items} (errors {}, unjudged {}, the rest not applicable on some dimension)",
                w.name(m),
                s.errors.n_errors,
                v.unjudged(m)
            ))
        })
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "Items without a score (left out of the means above, so compare with care): {}.",
            parts.join(", ")
        )
    })
}

/// Token counts the server never sent are evalrun's estimate: say so, never show them as exact.
pub(super) fn estimated_tokens(v: &View, w: Words) -> Option<String> {
    let est = &v.ctx.run.tokens_estimated;
    if est.values().all(|n| *n == 0) {
        return None;
    }
    let parts: Vec<String> = est
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(m, n)| format!("{} {n} answers", w.name(m)))
        .collect();
    Some(format!(
        "Estimated token counts: the server sent no usage for {}; their tokens and cost are evalrun's \
         estimate (the one the rate limits use), not billed figures.",
        and_list(&parts)
    ))
}
