//! The quality sections of `report.md`: means per dimension with their paired differences against the
//! baseline and the flagship, and the side-by-side (GSB) comparison.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::report::text::{code, esc, num, pct, pval, signed, Align, Table, NULL};
use crate::report::view::{scale_label, Sig, View};

use super::{chart_link, model_cell};
use crate::report::charts::ChartKind;

/// "2.96 [2.90, 3.00]".
fn mean_ci(mean: Option<f64>, lo: Option<f64>, hi: Option<f64>) -> String {
    match (mean, lo, hi) {
        (Some(m), Some(lo), Some(hi)) => format!("{m:.2} [{lo:.2}, {hi:.2}]"),
        (m, _, _) => num(m, 2),
    }
}

fn marker(sig: Sig) -> &'static str {
    match sig {
        Sig::Better => "▲",
        Sig::Worse => "▼",
        Sig::NotSignificant => "·",
    }
}

pub(super) fn quality(out: &mut String, v: &View, charts: &[ChartKind]) {
    if v.dims.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Quality\n");
    let unscored: Vec<String> = v
        .dims
        .iter()
        .filter(|d| !d.scored)
        .map(|d| esc(&d.name))
        .collect();
    let why = if v.ctx.judge.is_none() {
        "this run has no judge (`judge: none`) and only the judge scores it"
    } else {
        "every score was null (see the notes above and `judgements.jsonl`)"
    };
    if v.scored_dims().next().is_none() {
        let verb = if unscored.len() == 1 { "has" } else { "have" };
        let _ = writeln!(
            out,
            "No dimension was scored: {} {verb} no score for any model because {why}.\n",
            crate::report::text::and_list(&unscored)
        );
        return;
    }
    let mut cols = vec![("model".to_string(), Align::Left)];
    for d in &v.dims {
        let name = match d.scale {
            Some(s) => format!("{} ({})", esc(&d.name), scale_label(s)),
            None => esc(&d.name),
        };
        cols.push((name, Align::Right));
    }
    let any_scored = v.scored_dims().next().is_some();
    if any_scored {
        cols.push(("overall".to_string(), Align::Right));
    }
    // Failed and unjudged answers drop out of the means: their count stands beside them.
    if any_scored {
        cols.push(("failed answers".to_string(), Align::Right));
    }
    let mut t = Table::new(cols);
    for m in &v.models {
        let mut row = vec![model_cell(v, m)];
        for d in &v.dims {
            if !d.scored {
                row.push("n/a".into());
                continue;
            }
            let ds = v.dim(m, &d.id);
            let mut cell = mean_ci(
                ds.and_then(|x| x.mean),
                ds.and_then(|x| x.ci95_low),
                ds.and_then(|x| x.ci95_high),
            );
            if let Some(p) = v.paired(m, &d.id) {
                if let Some(diff) = p.mean_diff {
                    let _ = write!(cell, " {} {}", signed(diff, 2), marker(v.sig(p)));
                }
            }
            row.push(cell);
        }
        if any_scored {
            row.push(num(v.overall(m), 2));
        }
        if any_scored {
            let (failed, of) = v.failed_answers(m);
            row.push(format!("{failed} of {of}"));
        }
        t.row(row);
    }
    let _ = writeln!(out, "{}", t.render());

    let ns: BTreeSet<usize> = v
        .models
        .iter()
        .flat_map(|m| {
            v.scored_dims()
                .filter_map(move |d| v.dim(m, &d.id).map(|s| s.n_items))
        })
        .collect();
    let over = match (ns.len(), ns.iter().next()) {
        (1, Some(n)) => format!(" over {n} items"),
        _ => " over the items each model was scored on".to_string(),
    };
    let mut legend = format!("Mean [95 % CI, t-interval]{over}.");
    if let Some(b) = v.baseline.as_ref().filter(|_| !v.summary.paired.is_empty()) {
        let _ = write!(
            legend,
            " Δ = paired mean difference against the baseline {}: ▲ better, ▼ worse (Holm-adjusted paired t-test \
             p < {}), · not significant.",
            code(b),
            v.summary.params.alpha
        );
    }
    if any_scored {
        let rescaled = if v.overall_rescaled {
            ", each rescaled to 0–1 by its scale"
        } else {
            ""
        };
        let _ = write!(
            legend,
            " Overall = mean of the scored dimensions' means{rescaled}. Failed answers = request errors \
             plus answers the judge could not score: they are in no mean, so a model that fails more is \
             compared on fewer items."
        );
    }
    if !unscored.is_empty() {
        let (verb, noun) = if unscored.len() == 1 {
            ("has", "it")
        } else {
            ("have", "them")
        };
        let _ = write!(
            legend,
            " n/a: {} {verb} no score for any model because {why}; the decision ignores {noun}.",
            crate::report::text::and_list(&unscored)
        );
    }
    let _ = writeln!(out, "{legend}\n");
    chart_link(out, charts, ChartKind::DimensionMeans);
    paired(out, v);
}

fn paired(out: &mut String, v: &View) {
    let mut refs: Vec<(&str, &str)> = Vec::new();
    if let Some(b) = v.baseline.as_deref() {
        refs.push((b, "baseline"));
    }
    if let Some(f) = v
        .flagship
        .as_deref()
        .filter(|f| Some(*f) != v.baseline.as_deref())
    {
        refs.push((f, "flagship"));
    }
    for (reference, role) in refs {
        paired_against(out, v, reference, role);
    }
}

/// One table of `paired.<reference>`: every other model × scored dimension.
fn paired_against(out: &mut String, v: &View, reference: &str, role: &str) {
    let mut t = Table::new([
        ("candidate", Align::Left),
        ("dimension", Align::Left),
        ("pairs", Align::Right),
        ("Δ [95 % CI]", Align::Right),
        ("t-test p", Align::Right),
        ("Holm p", Align::Right),
        ("MDE (80 %)", Align::Right),
        ("verdict", Align::Left),
    ]);
    for m in v.models.iter().filter(|m| m.as_str() != reference) {
        for d in v.scored_dims() {
            let Some(p) = v.paired_vs(reference, m, &d.id) else {
                continue;
            };
            let Some(diff) = p.mean_diff else { continue };
            let ci = match (p.ci95_low, p.ci95_high) {
                (Some(lo), Some(hi)) => {
                    format!("{} [{}, {}]", signed(diff, 2), signed(lo, 2), signed(hi, 2))
                }
                _ => signed(diff, 2),
            };
            let verdict = match (p.verdict.as_str(), p.non_inferior) {
                ("no detectable difference", Some(true)) => {
                    format!("not worse (margin {})", p.margin)
                }
                ("no detectable difference", _) => match p.n_needed_observed {
                    Some(n) if diff != 0.0 => {
                        format!("no detectable difference (~{n} items would detect it)")
                    }
                    _ => p.verdict.clone(),
                },
                (other, _) => other.to_string(),
            };
            let mde = match (p.mde80, &p.mde80_why) {
                (Some(x), _) => num(Some(x), 2),
                (None, Some(why)) => format!("– ({why})"),
                (None, None) => NULL.to_string(),
            };
            t.row(vec![
                model_cell(v, m),
                esc(&d.name),
                p.n_pairs.to_string(),
                ci,
                pval(p.p),
                pval(p.p_holm),
                mde,
                verdict,
            ]);
        }
    }
    if t.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "### Paired differences against the {role} {}\n",
        code(reference)
    );
    let _ = writeln!(out, "{}", t.render());
    let _ = writeln!(
        out,
        "Δ = candidate − {role} over the items both were scored on, with a t 95 % CI. Paired t-test, \
         Holm-adjusted over each candidate's dimensions; the direction and the p-value come from the same \
         t statistic. \"Not worse\": the CI's lower bound is above −margin. MDE = the true difference this \
         test detects with 80 % power at the α Holm uses first; smaller real differences can hide behind \
         \"no detectable difference\".\n"
    );
}

pub(super) fn gsb(out: &mut String, v: &View) {
    let mut t = Table::new([
        ("candidate", Align::Left),
        ("G", Align::Right),
        ("S", Align::Right),
        ("B", Align::Right),
        ("N", Align::Right),
        ("win rate [95 % CI]", Align::Right),
        ("sign-test p", Align::Right),
        ("Holm p", Align::Right),
        ("order disagreement", Align::Right),
        ("MDE (80 %)", Align::Right),
    ]);
    let mut baselines = BTreeSet::new();
    let mut mismatches = 0;
    let per_ref = v.summary.gsb.iter().flat_map(|(r, cands)| {
        v.models
            .iter()
            .filter_map(move |m| Some((r, m, cands.get(m)?)))
    });
    for (reference, m, g) in per_ref {
        baselines.insert(reference.clone());
        mismatches += g.n_verdict_rule_mismatch;
        let wr = match (g.win_rate, g.ci95_low, g.ci95_high) {
            (Some(w), Some(lo), Some(hi)) => format!("{w:.2} [{lo:.2}, {hi:.2}]"),
            (w, _, _) => num(w, 2),
        };
        let disagree = if g.n_both_orders > 0 {
            format!(
                "{} ({}/{})",
                pct(Some(g.n_order_disagree as f64 / g.n_both_orders as f64)),
                g.n_order_disagree,
                g.n_both_orders
            )
        } else {
            NULL.to_string()
        };
        t.row(vec![
            model_cell(v, m),
            g.G.to_string(),
            g.S.to_string(),
            g.B.to_string(),
            g.N.to_string(),
            wr,
            pval(g.sign_test_p),
            pval(g.sign_test_p_holm),
            disagree,
            g.mde80_win_rate
                .map(|x| format!("±{x:.2}"))
                .unwrap_or_else(|| NULL.to_string()),
        ]);
    }
    if t.is_empty() {
        return;
    }
    let against: Vec<String> = baselines.iter().map(|b| code(b)).collect();
    let _ = writeln!(
        out,
        "## Side by side (GSB) against {}\n",
        crate::report::text::and_list(&against)
    );
    let _ = writeln!(out, "{}", t.render());
    let _ = writeln!(
        out,
        "G/S/B from the candidate's side: G (good) or B (bad) only when the judge gives the same verdict in \
         both presentation orders, otherwise S. Win rate = (G + S/2)/N with the Wilson CI of G/(G+B) mapped \
         onto it; exact sign test over G and B, Holm-adjusted over candidates. Order disagreement = pairs \
         whose two orders differ (a high rate means most S are judge noise). MDE = the shift from 0.50 the \
         test detects with 80 % power.\n"
    );
    if mismatches > 0 {
        let _ = writeln!(
            out,
            "> **Warning:** {mismatches} recorded verdicts do not follow the both-orders rule; the pairwise \
             records are inconsistent.\n"
        );
    }
}
