//! The decision summary: which model to ship and how sure that is, in plain words (STATS.md §0, §1.5).
//!
//! A difference is called better or worse only when the Holm-adjusted paired t-test p is below `alpha`;
//! "not worse" only when the paired CI clears the non-inferiority margin; everything else is "no
//! detectable difference", always with the smallest difference the run could have detected.

mod headline;
mod lines;
pub(crate) mod verdict;

use super::text::{and_list, code, esc};
use super::view::{Sig, View};
use headline::release_headline;
use lines::{
    against, against_baseline, all_failed, best_per_dimension, close_behind, cost_line, error_line,
    estimated_tokens, gsb_line, mde_phrase, missing_items, num2, overall_phrase, unscored_note,
};
use verdict::{Outcome, Release};

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
