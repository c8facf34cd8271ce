//! "Judge vs people": the `human` section of the summary as table rows, shared by `report.md` and
//! `report.html` (each escapes names its own way through `name`).

use crate::stats::human::{GsbCounts, HumanSummary, WithCi};

use super::text::{num, pct, signed, NULL};
use super::view::View;

/// A table: its header and rows of cells.
pub(crate) type Rows = (Vec<&'static str>, Vec<Vec<String>>);

/// `0.71 [0.55, 0.84]`, or the value alone when it has no interval.
fn ci(x: &WithCi, decimals: usize, as_pct: bool) -> String {
    let f = |v: Option<f64>| {
        if as_pct {
            pct(v)
        } else {
            num(v, decimals)
        }
    };
    match (x.value, x.ci95_low, x.ci95_high) {
        (None, ..) => NULL.to_string(),
        (Some(v), Some(lo), Some(hi)) => {
            format!("{} [{}, {}]", f(Some(v)), f(Some(lo)), f(Some(hi)))
        }
        (Some(v), ..) => f(Some(v)),
    }
}

fn signed_ci(x: &WithCi) -> String {
    match (x.value, x.ci95_low, x.ci95_high) {
        (None, ..) => NULL.to_string(),
        (Some(v), Some(lo), Some(hi)) => {
            format!("{} [{}, {}]", signed(v, 2), signed(lo, 2), signed(hi, 2))
        }
        (Some(v), ..) => signed(v, 2),
    }
}

/// Dimensions in the report's order, then any only the people scored.
fn dims<'a>(v: &'a View, h: &'a HumanSummary) -> Vec<(&'a str, String)> {
    let mut out: Vec<(&str, String)> = v
        .dims
        .iter()
        .filter(|d| h.dimensions.contains_key(&d.id))
        .map(|d| (d.id.as_str(), d.name.clone()))
        .collect();
    for id in h.dimensions.keys() {
        if !out.iter().any(|(d, _)| d == id) {
            out.push((id.as_str(), id.clone()));
        }
    }
    out
}

/// Per dimension: people beside the judge, and their agreement.
pub(crate) fn agreement(v: &View, h: &HumanSummary, name: &dyn Fn(&str) -> String) -> Rows {
    let head = vec![
        "dimension",
        "answers (items)",
        "people",
        "judge",
        "judge − people",
        "exact agreement",
        "κ (quadratic)",
        "Spearman ρ",
        "α among people (answers)",
        "judge = majority (answers)",
    ];
    let rows = dims(v, h)
        .into_iter()
        .map(|(id, label)| {
            let d = &h.dimensions[id];
            vec![
                name(&label),
                format!("{} ({})", d.n_units, d.n_items),
                num(d.human_mean, 2),
                num(d.judge_mean, 2),
                signed_ci(&d.mean_diff),
                ci(&d.exact_agreement, 1, true),
                ci(&d.kappa_quadratic, 2, false),
                ci(&d.spearman, 2, false),
                match d.alpha_ordinal {
                    Some(a) => format!("{} ({})", num(Some(a), 2), d.n_multi_rated),
                    None => NULL.to_string(),
                },
                match d.judge_majority_agreement {
                    Some(a) => format!("{} ({})", pct(Some(a)), d.n_majority_units),
                    None => NULL.to_string(),
                },
            ]
        })
        .collect();
    (head, rows)
}

/// Per model and dimension: `people / judge (answers)`.
pub(crate) fn per_model(
    v: &View,
    h: &HumanSummary,
    name: &dyn Fn(&str) -> String,
    dim_name: &dyn Fn(&str) -> String,
) -> (Vec<String>, Vec<Vec<String>>) {
    let ds = dims(v, h);
    let mut head = vec!["model".to_string()];
    head.extend(ds.iter().map(|(_, n)| dim_name(n)));
    let mut models: Vec<&String> = v.models.iter().collect();
    for d in h.dimensions.values() {
        for m in d.per_model.keys() {
            if !models.contains(&m) {
                models.push(m);
            }
        }
    }
    let rows = models
        .into_iter()
        .filter(|m| h.dimensions.values().any(|d| d.per_model.contains_key(*m)))
        .map(|m| {
            let mut row = vec![name(m)];
            row.extend(
                ds.iter()
                    .map(|(id, _)| match h.dimensions[*id].per_model.get(m) {
                        Some(a) => format!(
                            "{} / {} ({})",
                            num(a.human_mean, 2),
                            num(a.judge_mean, 2),
                            a.n_units
                        ),
                        None => NULL.to_string(),
                    }),
            );
            row
        })
        .collect();
    (head, rows)
}

fn gsb_cell(c: &GsbCounts) -> String {
    format!("{} / {} / {}", c.good, c.same, c.bad)
}

/// People's GSB beside the judge's, per (reference, candidate).
pub(crate) fn gsb(h: &HumanSummary, name: &dyn Fn(&str) -> String) -> Rows {
    let head = vec![
        "candidate",
        "against",
        "pairs",
        "people G / S / B",
        "people win rate",
        "judge G / S / B",
        "judge win rate",
        "same verdict",
    ];
    let mut rows = Vec::new();
    for (reference, cands) in &h.gsb {
        for (cand, g) in cands {
            rows.push(vec![
                name(cand),
                name(reference),
                g.n_pairs.to_string(),
                gsb_cell(&g.human),
                pct(g.human.win_rate),
                gsb_cell(&g.judge),
                pct(g.judge.win_rate),
                pct(g.agreement),
            ]);
        }
    }
    (head, rows)
}
