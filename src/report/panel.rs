//! "Judge panel": the `panel` section of the summary as table rows, shared by `report.md` and
//! `report.html` (each escapes names its own way through `name`).

use crate::stats::panel::{PairedDiff, PanelSummary};

use super::text::{money, num, pct, signed, NULL};
use super::view::View;

/// A table: its header and rows of cells.
pub(crate) type Rows = (Vec<String>, Vec<Vec<String>>);

/// Dimensions in the report's order that some judge of the panel scored, with their names.
fn dims<'a>(v: &'a View, p: &PanelSummary) -> Vec<(&'a str, &'a str)> {
    v.dims
        .iter()
        .filter(|d| {
            p.agreement.contains_key(&d.id)
                || p.per_judge
                    .values()
                    .any(|o| o.models.values().any(|m| m.contains_key(&d.id)))
        })
        .map(|d| (d.id.as_str(), d.name.as_str()))
        .collect()
}

fn rate(failures: usize, rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!("{failures} ({})", pct(Some(r))),
        None => NULL.to_string(),
    }
}

/// Per judge: family, answers graded, unjudged answers, parse failures, its own cost.
pub(crate) fn judges(p: &PanelSummary, name: &dyn Fn(&str) -> String) -> Rows {
    let head = [
        "judge",
        "family",
        "answers graded",
        "unjudged answers",
        "grade parse failures",
        "pair parse failures",
        "cost",
    ];
    let rows = p
        .judges
        .iter()
        .filter_map(|j| {
            let o = p.per_judge.get(j)?;
            Some(vec![
                name(j),
                p.families
                    .get(j)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| NULL.to_string()),
                o.n_graded_answers.to_string(),
                o.n_unjudged_answers.to_string(),
                rate(o.n_grade_parse_failures, o.grade_parse_failure_rate),
                rate(o.n_pair_parse_failures, o.pair_parse_failure_rate),
                match (o.cost, &o.currency) {
                    (Some(_), Some(cur)) => format!("{} {cur}", money(o.cost)),
                    _ => money(o.cost),
                },
            ])
        })
        .collect();
    (head.iter().map(|s| s.to_string()).collect(), rows)
}

/// Per dimension: answers scored by two or more judges, α, and κ of each pair of judges.
pub(crate) fn agreement(v: &View, p: &PanelSummary, name: &dyn Fn(&str) -> String) -> Rows {
    let pairs: Vec<(String, String)> = p
        .judges
        .iter()
        .enumerate()
        .flat_map(|(a, ja)| {
            p.judges[a + 1..]
                .iter()
                .map(move |jb| (ja.clone(), jb.clone()))
        })
        .collect();
    let mut head = vec![
        "dimension".to_string(),
        "answers".to_string(),
        "α (ordinal)".to_string(),
    ];
    head.extend(
        pairs
            .iter()
            .map(|(a, b)| format!("κ {} · {}", name(a), name(b))),
    );
    let rows = dims(v, p)
        .into_iter()
        .filter_map(|(id, dname)| {
            let a = p.agreement.get(id)?;
            let mut row = vec![
                dname.to_string(),
                a.n_units.to_string(),
                num(a.alpha_ordinal, 2),
            ];
            row.extend(pairs.iter().map(|(x, y)| {
                a.pairs
                    .get(&format!("{x}|{y}"))
                    .map_or(NULL.to_string(), |k| {
                        format!("{} ({})", num(k.kappa_quadratic, 2), k.n_units)
                    })
            }));
            Some(row)
        })
        .collect();
    (head, rows)
}

/// Per model and dimension: the panel's mean beside each judge's own.
pub(crate) fn means(
    v: &View,
    p: &PanelSummary,
    model: &dyn Fn(&str) -> String,
    name: &dyn Fn(&str) -> String,
) -> Rows {
    let mut head = vec![
        "model".to_string(),
        "dimension".to_string(),
        "panel".to_string(),
    ];
    head.extend(p.judges.iter().map(|j| name(j)));
    let mut rows = Vec::new();
    for m in &v.models {
        for (id, dname) in dims(v, p) {
            let mut row = vec![model(m), dname.to_string(), num(v.mean(m, id), 2)];
            row.extend(p.judges.iter().map(|j| {
                let x = p.per_judge.get(j).and_then(|o| o.models.get(m)?.get(id));
                num(x.and_then(|x| x.mean), 2)
            }));
            rows.push(row);
        }
    }
    (head, rows)
}

fn diff(d: Option<&PairedDiff>) -> String {
    match d {
        Some(PairedDiff {
            mean_diff: Some(m),
            ci95_low: Some(lo),
            ci95_high: Some(hi),
            ..
        }) => format!("{} [{}, {}]", signed(*m, 2), signed(*lo, 2), signed(*hi, 2)),
        Some(PairedDiff {
            mean_diff: Some(m), ..
        }) => signed(*m, 2),
        _ => NULL.to_string(),
    }
}

/// The panel's result beside the panel without `judge`: per model and dimension the means; per
/// candidate and dimension the difference with the reference; GSB win rates.
pub(crate) fn leave_one_out(
    v: &View,
    p: &PanelSummary,
    judge: &str,
    model: &dyn Fn(&str) -> String,
) -> Rows {
    let head = ["model", "dimension", "panel", "without", "Δ"];
    let Some(l) = p.leave_one_out.get(judge) else {
        return (Vec::new(), Vec::new());
    };
    let mut rows = Vec::new();
    for m in &v.models {
        for (id, dname) in dims(v, p) {
            let full = v.mean(m, id);
            let without = l.models.get(m).and_then(|x| x.get(id)).and_then(|x| x.mean);
            let delta = match (full, without) {
                (Some(a), Some(b)) => signed(b - a, 2),
                _ => NULL.to_string(),
            };
            rows.push(vec![
                model(m),
                dname.to_string(),
                num(full, 2),
                num(without, 2),
                delta,
            ]);
        }
    }
    if let Some(reference) = &v.baseline {
        for m in v.models.iter().filter(|m| *m != reference) {
            for (id, dname) in dims(v, p) {
                let full = v.paired_vs(reference, m, id);
                let full = full.map(|x| PairedDiff {
                    n_pairs: x.n_pairs,
                    mean_diff: x.mean_diff,
                    ci95_low: x.ci95_low,
                    ci95_high: x.ci95_high,
                    p: x.p,
                });
                let without = l.paired.get(reference).and_then(|x| x.get(m)?.get(id));
                let delta = match (
                    full.as_ref().and_then(|x| x.mean_diff),
                    without.and_then(|x| x.mean_diff),
                ) {
                    (Some(a), Some(b)) => signed(b - a, 2),
                    _ => NULL.to_string(),
                };
                rows.push(vec![
                    format!("{} − {}", model(m), model(reference)),
                    dname.to_string(),
                    diff(full.as_ref()),
                    diff(without),
                    delta,
                ]);
            }
            let full = v.gsb(m).map(|g| g.win_rate);
            let without = l
                .gsb
                .get(reference)
                .and_then(|x| x.get(m))
                .and_then(|g| g.win_rate);
            if full.is_some() || without.is_some() {
                let delta = match (full.flatten(), without) {
                    (Some(a), Some(b)) => signed(b - a, 2),
                    _ => NULL.to_string(),
                };
                rows.push(vec![
                    format!("{} vs {}", model(m), model(reference)),
                    "GSB win rate".to_string(),
                    num(full.flatten(), 2),
                    num(without, 2),
                    delta,
                ]);
            }
        }
    }
    (head.iter().map(|s| s.to_string()).collect(), rows)
}
