//! The decision summary: which model to ship and how sure that is, in plain words (STATS.md §0, §1.5).
//!
//! A difference is called better or worse only when the Holm-adjusted paired t-test p is below `alpha`;
//! "not worse" only when the paired CI clears the non-inferiority margin; everything else is "no
//! detectable difference", always with the smallest difference the run could have detected.

pub(crate) mod verdict;

use super::text::{and_list, code, esc, p_eq, pct, pct_rounded, signed};
use super::view::{scale_label, Sig, View};
use verdict::{Blocker, Outcome, Release};

/// How the best model stands against the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Significantly better on at least one dimension, worse on none.
    Win,
    /// Significantly better on some dimensions and worse on others.
    TradeOff,
    /// Highest overall mean, yet significantly worse on some dimension and better on none.
    Worse,
    /// Not worse within the margin on every compared dimension, better on none.
    NonInferior,
    /// Neither a significant difference nor non-inferiority on every dimension.
    NoDifference,
    /// The baseline has the highest overall quality.
    KeepBaseline,
    /// Several models but no paired comparison (no baseline, or no pairs).
    Untested,
    /// One model only.
    Alone,
    /// No dimension was scored.
    NoQuality,
}

/// How a candidate stands on one dimension.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Status {
    Better {
        diff: f64,
        p: f64,
    },
    Worse {
        diff: f64,
        p: f64,
    },
    NonInferior {
        diff: f64,
        lo: f64,
        hi: f64,
    },
    NoDifference {
        diff: f64,
        n: usize,
        mde: Option<f64>,
        /// Items that would detect the observed difference (`n_needed_observed`).
        needed: Option<u64>,
    },
    NoData,
}

pub(crate) struct Decision {
    /// How the best model stands against the baseline; the tests pin it, the formats print the words.
    #[cfg_attr(not(test), allow(dead_code))]
    pub verdict: Verdict,
    /// The release verdict the headline words.
    #[allow(dead_code)] // the data the wording renders; kept for callers that act on it
    pub release: Release,
    pub headline: String,
    /// How the best model stands against the baseline in words (the first detail when the headline is
    /// the release verdict).
    #[allow(dead_code)]
    pub situation: String,
    /// Supporting sentences, one bullet each.
    pub details: Vec<String>,
}

/// Markdown (code spans, bold, escaping) or plain text for the terminal.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Words {
    pub md: bool,
}

impl Words {
    fn name(self, s: &str) -> String {
        if self.md {
            code(s)
        } else {
            s.to_string()
        }
    }

    fn bold(self, s: &str) -> String {
        if self.md {
            format!("**{s}**")
        } else {
            s.to_string()
        }
    }

    fn text(self, s: &str) -> String {
        if self.md {
            esc(s)
        } else {
            s.to_string()
        }
    }
}

/// The decision: the release verdict as the headline, what the tests say against the baseline below it.
pub(crate) fn decide(v: &View, w: Words) -> Decision {
    let release = verdict::release(v);
    // When the release verdict ships a model, the supporting lines describe that model (which may be
    // the cheapest of a tied set rather than the top-ranked one).
    let focus = match (&release.outcome, release.blockers.is_empty()) {
        (Outcome::Ship { pick, .. }, true) => Some(pick.as_str()),
        _ => None,
    };
    let (verdict, situation, mut details) = situation(v, w, focus);
    let headline = release_headline(v, w, &release, &situation);
    let ships = release.blockers.is_empty() && matches!(release.outcome, Outcome::Ship { .. });
    if headline != situation && !ships {
        details.insert(0, situation.clone());
    }
    details.extend(missing_items(v, w));
    details.extend(estimated_tokens(v, w));
    Decision {
        verdict,
        release,
        headline,
        situation,
        details,
    }
}

/// How the best model stands against the baseline, in words, with the supporting lines.
fn situation(v: &View, w: Words, focus: Option<&str>) -> (Verdict, String, Vec<String>) {
    let mut details = Vec::new();
    let best = focus.map(str::to_string).or_else(|| v.best_overall());

    let Some(best) = best else {
        let why = match &v.ctx.judge {
            None => " (judge: none, and every dimension of this rubric needs the judge)",
            Some(_) => "",
        };
        let mut below = Vec::new();
        if v.models.iter().any(|m| !v.stats(m).rules.is_empty()) {
            below.push("rule pass rates".to_string());
        }
        if v.models.iter().any(|m| v.stats(m).cost.per_item.is_some()) {
            below.push("cost".to_string());
        }
        if v.models.iter().any(|m| v.stats(m).latency.total_ms.n > 0) {
            below.push("latency".to_string());
        }
        let next = if below.is_empty() {
            "see the errors below.".to_string()
        } else {
            format!("compare the {} below.", and_list(&below))
        };
        details.extend(all_failed(v, w));
        return (
            Verdict::NoQuality,
            format!(
                "{}{why}: {next}",
                w.bold("No quality dimension was scored in this run")
            ),
            details,
        );
    };

    let quality = overall_phrase(v, &best);
    if v.models.len() == 1 {
        return (
            Verdict::Alone,
            format!(
                "{} was the only model run ({quality}): there is nothing to compare it with.",
                w.name(&best)
            ),
            details,
        );
    }

    let Some(baseline) = v.baseline.clone() else {
        details.extend(best_per_dimension(v, w));
        return (
            Verdict::Untested,
            format!(
                "{} has the highest overall quality ({quality}), but this run has no baseline, so no \
                 difference between models was tested.",
                w.name(&best)
            ),
            details,
        );
    };
    let base_label = if v.is_flagship(&baseline) {
        format!(
            "the baseline {} (also the most expensive model)",
            w.name(&baseline)
        )
    } else {
        format!("the baseline {}", w.name(&baseline))
    };

    let (verdict, headline) = if best == baseline {
        let ups: Vec<String> = v
            .models
            .iter()
            .filter(|m| **m != baseline)
            .filter_map(|m| {
                let better: Vec<String> = v
                    .scored_dims()
                    .filter(|d| matches!(status(v, &baseline, m, &d.id), Status::Better { .. }))
                    .map(|d| w.text(&d.name))
                    .collect();
                (!better.is_empty()).then(|| {
                    format!(
                        "{} is significantly better on {} only",
                        w.name(m),
                        and_list(&better)
                    )
                })
            })
            .collect();
        let tail = if ups.is_empty() {
            "no candidate is significantly better on any dimension.".to_string()
        } else {
            format!("{}.", ups.join("; "))
        };
        (
            Verdict::KeepBaseline,
            format!(
                "{}: it has the highest overall quality ({quality}); {tail}",
                w.bold(&format!("Keep {base_label}"))
            ),
        )
    } else {
        let st: Vec<(String, Status)> = v
            .scored_dims()
            .map(|d| (d.name.clone(), status(v, &baseline, &best, &d.id)))
            .collect();
        let compared = st
            .iter()
            .filter(|(_, s)| !matches!(s, Status::NoData))
            .count();
        let n_better = st
            .iter()
            .filter(|(_, s)| matches!(s, Status::Better { .. }))
            .count();
        let n_worse = st
            .iter()
            .filter(|(_, s)| matches!(s, Status::Worse { .. }))
            .count();
        let n_nodiff = st
            .iter()
            .filter(|(_, s)| matches!(s, Status::NoDifference { .. }))
            .count();
        let names = |pred: fn(&Status) -> bool| -> Vec<String> {
            st.iter()
                .filter(|(_, s)| pred(s))
                .map(|(n, _)| w.text(n))
                .collect()
        };
        let nodiff_mde = mde_phrase(
            &st.iter()
                .filter_map(|(_, s)| match s {
                    Status::NoDifference { n, mde, .. } => Some((*n, *mde)),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        );
        let b = w.name(&best);
        if compared == 0 {
            (
                Verdict::Untested,
                format!(
                    "{b} has the highest overall quality ({quality}), but no item was scored for both it \
                     and {base_label}, so the difference was not tested."
                ),
            )
        } else if n_better > 0 && n_worse == 0 {
            let rest = if n_nodiff > 0 {
                format!(
                    "; no detectable difference on {} ({nodiff_mde})",
                    and_list(&names(|s| matches!(s, Status::NoDifference { .. })))
                )
            } else {
                String::new()
            };
            (
                Verdict::Win,
                format!(
                    "{}: it has the highest overall quality ({quality}) and is significantly better than \
                     {base_label} on {n_better} of {compared} compared dimensions (Holm-adjusted paired t-test \
                     p < {}), worse on none{rest}.",
                    w.bold(&format!("Ship {b}")),
                    v.summary.params.alpha
                ),
            )
        } else if n_better > 0 {
            (
                Verdict::TradeOff,
                format!(
                    "{}: {b} has the highest overall quality ({quality}); against {base_label} it is \
                     significantly better on {} but significantly worse on {}. Decide which matters more.",
                    w.bold("Trade-off"),
                    and_list(&names(|s| matches!(s, Status::Better { .. }))),
                    and_list(&names(|s| matches!(s, Status::Worse { .. })))
                ),
            )
        } else if n_worse > 0 {
            (
                Verdict::Worse,
                format!(
                    "{}: {b} has the highest overall quality ({quality}) but is significantly worse than \
                     {base_label} on {} and better on none.",
                    w.bold("No clear winner"),
                    and_list(&names(|s| matches!(s, Status::Worse { .. })))
                ),
            )
        } else if n_nodiff == 0 {
            (
                Verdict::NonInferior,
                format!(
                    "{}: {b} ({quality}) is not worse than {base_label} within the margin {} on every \
                     compared dimension, but not detectably better. Choose on cost and latency.",
                    w.bold("Not worse, not better"),
                    v.common_margin()
                ),
            )
        } else {
            (
                Verdict::NoDifference,
                format!(
                    "{}: {b} has the highest overall mean ({quality}), but it shows no detectable \
                     difference from {base_label} ({nodiff_mde}). The ranking is not established by \
                     this run: choose on cost and latency, or add items.",
                    w.bold("No detectable difference")
                ),
            )
        }
    };

    let headline = headline + &unscored_note(v, w);

    if verdict == Verdict::KeepBaseline {
        for m in v.models.iter().filter(|m| **m != baseline) {
            if let Some(line) =
                against_baseline(v, w, m, &format!("{} against the baseline", w.name(m)))
            {
                details.push(line);
            }
        }
    } else if let Some(line) = against_baseline(v, w, &best, &format!("Against {base_label}")) {
        details.push(line);
    }
    if best != baseline {
        details.extend(close_behind(v, w, &best, &baseline));
    }
    if let Some(f) = v.flagship.as_deref() {
        if f != best && f != baseline {
            let label = format!("Against the flagship {}", w.name(f));
            match against(v, w, f, &best, &label) {
                Some(line) => details.push(line),
                None => details.push(format!(
                    "Against the most expensive model {}: overall {} vs {} (no paired test against it in \
                     this run).",
                    w.name(f),
                    num2(v.overall(&best)),
                    num2(v.overall(f)),
                )),
            }
        }
    }
    if best != baseline {
        details.extend(gsb_line(v, w, &best, &baseline));
    }
    details.extend(cost_line(v, w, &best));
    details.extend(error_line(v, w, &best));
    details.extend(all_failed(v, w));
    details.extend(best_per_dimension(v, w));

    (verdict, headline, details)
}

/// Other candidates whose overall mean is within the non-inferiority margin of the best one and that
/// were not tested against it (a summary without `paired.<best>`): the run cannot rank them, so say so
/// and how to test the pair.
fn close_behind(v: &View, w: Words, best: &str, baseline: &str) -> Option<String> {
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

pub(super) fn status(v: &View, reference: &str, model: &str, dim: &str) -> Status {
    let Some(p) = v.paired_vs(reference, model, dim) else {
        return Status::NoData;
    };
    let Some(diff) = p.mean_diff.filter(|_| p.n_pairs > 0) else {
        return Status::NoData;
    };
    match v.sig(p) {
        Sig::Better => Status::Better {
            diff,
            p: p.p_holm.unwrap_or(f64::NAN),
        },
        Sig::Worse => Status::Worse {
            diff,
            p: p.p_holm.unwrap_or(f64::NAN),
        },
        // "Not worse" only from a test that was run (issue 14: never from a couple of pairs).
        Sig::NotSignificant => match (p.non_inferior, p.ci95_low, p.ci95_high, p.p) {
            (Some(true), Some(lo), Some(hi), Some(_)) => Status::NonInferior { diff, lo, hi },
            _ => Status::NoDifference {
                diff,
                n: p.n_pairs,
                mde: p.mde80,
                needed: p.n_needed_observed,
            },
        },
    }
}

/// "with 50 items the smallest detectable difference is 0.16" (STATS.md §0, §4.6).
pub(crate) fn mde_phrase(cases: &[(usize, Option<f64>)]) -> String {
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

fn overall_phrase(v: &View, model: &str) -> String {
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

fn num2(x: Option<f64>) -> String {
    super::text::num(x, 2)
}

/// One candidate's dimensions against the baseline, grouped by outcome.
fn against_baseline(v: &View, w: Words, model: &str, label: &str) -> Option<String> {
    against(v, w, v.baseline.as_deref()?, model, label)
}

/// One line: how `model` compares with `reference` per dimension, from the paired tests.
fn against(v: &View, w: Words, reference: &str, model: &str, label: &str) -> Option<String> {
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
fn unscored_note(v: &View, w: Words) -> String {
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

fn gsb_line(v: &View, w: Words, model: &str, baseline: &str) -> Option<String> {
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
fn cost_line(v: &View, w: Words, model: &str) -> Option<String> {
    let f = v.flagship.as_deref()?;
    let m = v.stats(model);
    if f == model {
        let per_item = m.cost.per_item?;
        return Some(
            format!(
                "{} is itself the most expensive model: {} {} per item.",
                w.name(model),
                super::text::money(Some(per_item)),
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

fn error_line(v: &View, w: Words, model: &str) -> Option<String> {
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
fn all_failed(v: &View, w: Words) -> Vec<String> {
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

fn best_per_dimension(v: &View, w: Words) -> Option<String> {
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

/// The headline: "Ship X" with its evidence, or "No release decision" and every reason.
fn release_headline(v: &View, w: Words, r: &Release, situation: &str) -> String {
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
        Outcome::Ship { pick, set } => ship_words(v, w, pick, set, baseline),
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

fn blocker_words(v: &View, w: Words, b: &Blocker) -> String {
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
fn missing_counts(v: &View) -> String {
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

fn ship_words(v: &View, w: Words, pick: &str, set: &[String], baseline: &str) -> String {
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
    out + &unscored_note(v, w)
}

/// Each model's items without a score beside its means, so failed items cannot hide.
fn missing_items(v: &View, w: Words) -> Option<String> {
    let planned = v.ctx.run.planned_per_model?;
    let mut parts = Vec::new();
    for m in &v.models {
        let s = v.stats(m);
        let scored = v
            .scored_dims()
            .filter_map(|d| s.dimensions.get(&d.id).map(|x| x.n_items))
            .min();
        let items = planned / v.ctx.run.samples.max(1) as usize;
        if let Some(n) = scored.filter(|n| *n < items) {
            parts.push(format!(
                "{} {} of {items} (errors {})",
                w.name(m),
                items - n,
                s.errors.n_errors
            ));
        }
    }
    (!parts.is_empty()).then(|| {
        format!(
            "Items without a score (left out of the means above, so compare with care): {}.",
            parts.join(", ")
        )
    })
}

/// Token counts the server never sent are evalrun's estimate: say so, never show them as exact.
fn estimated_tokens(v: &View, w: Words) -> Option<String> {
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
