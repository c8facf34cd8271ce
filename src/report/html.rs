//! `report.html`: one self-contained page (no network, works from `file://`) with the report's tables,
//! its charts inlined as SVG, and an item browser over every answer.
//!
//! The page is a minijinja template (`templates/report.html`, autoescaped as HTML by its name) plus a
//! script (`templates/report.js`). Tables are prepared here as plain strings, so every cell is escaped
//! by the template; the charts are our own SVG and go in unescaped. The browser's data is one JSON blob
//! in `<script type="application/json">`, written with `tojson`, which escapes `<`, `>`, `&` and `'`:
//! an answer containing `</script>` cannot end the element, and the script shows answers with
//! `textContent` only, so no answer or prompt is ever parsed as HTML.

use std::path::PathBuf;

use anyhow::{Context, Result};
use minijinja::value::{Serde, Value};
use minijinja::{context, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::stats::summary::Summary;

use super::html_data::{self, BrowserDim};
use super::text::{money, num, pct, pval, secs, signed, NULL};
use super::view::{scale_label, View};
use super::{charts, Exporter, ReportContext};

const TEMPLATE: &str = include_str!("templates/report.html");
const SCRIPT: &str = include_str!("templates/report.js");

/// Renders `report.html` from the summary and the records of the run directory `dir`.
pub(crate) struct HtmlExporter {
    pub dir: PathBuf,
}

/// The browser's status line counts the items it holds as the run's; on a page that holds only the
/// first ones it counts them as what they are, against the run's total (kept in the status element).
const RUN_COUNT: &str = "' in the run).'";
const CAPPED_RUN_COUNT: &str =
    "' embedded of ' + document.getElementById('status').dataset.inRun + ' in the run).'";

/// Stands in for the browser's data while the page is rendered; the data is then written in its place.
const DATA_MARK: &str = "evalrun-browser-data-4f1c9e27";

impl Exporter for HtmlExporter {
    fn serialize(&self, summary: &Summary, ctx: &ReportContext) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write_into(summary, ctx, &mut out)?;
        Ok(out)
    }

    /// The page is rendered around a mark, then written with the browser's data streamed in its place
    /// (`html_data::write`), so the answers are never all in memory.
    fn write_into(
        &self,
        summary: &Summary,
        ctx: &ReportContext,
        out: &mut dyn std::io::Write,
    ) -> Result<()> {
        let v = View::new(summary, ctx);
        let dims: Vec<BrowserDim> = v
            .dims
            .iter()
            .map(|d| BrowserDim {
                id: d.id.clone(),
                name: d.name.clone(),
            })
            .collect();
        let mut chart_svgs = Vec::new();
        for kind in charts::available(summary, ctx) {
            let svg = charts::render(kind, summary, ctx)?;
            chart_svgs.push(context! {
                title => kind.title(),
                svg => Value::from_safe_string(strip_prolog(&svg).to_string()),
            });
        }
        let data = html_data::BrowserData::index(&self.dir, html_data::BROWSER_CAP)?;
        let capped = data.capped();
        let page = context! {
            run_id => &ctx.run_id,
            started => &ctx.started_utc,
            command_line => &ctx.command_line,
            evalset => &ctx.evalset.path,
            judge => ctx.judge.as_deref().unwrap_or("none"),
            baseline => v.baseline.as_deref().unwrap_or(NULL),
            notices => &ctx.notices,
            tables => Serde(tables(&v)),
            charts => chart_svgs,
            data => DATA_MARK,
            browser_cap => capped.map(|(shown, total)| context! { shown, total }),
            script => match capped {
                Some(_) => SCRIPT.replace(RUN_COUNT, CAPPED_RUN_COUNT),
                None => SCRIPT.to_string(),
            },
        };
        let html = render(page)?;
        let mark = format!("\"{DATA_MARK}\"");
        let (head, tail) = html
            .rsplit_once(&mark)
            .context("report.html template has no data element")?;
        out.write_all(head.as_bytes())?;
        data.write(&v.models, v.baseline.as_deref(), &dims, out)?;
        out.write_all(tail.as_bytes())?;
        Ok(())
    }
}

fn render(page: Value) -> Result<String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template("report.html", TEMPLATE)
        .context("report.html template")?;
    env.get_template("report.html")
        .and_then(|t| t.render(page))
        .context("could not render report.html")
}

/// The SVG element without the XML declaration, which is not allowed inside HTML.
fn strip_prolog(svg: &str) -> &str {
    match (svg.starts_with("<?xml"), svg.find("?>")) {
        (true, Some(end)) => svg[end + 2..].trim_start(),
        _ => svg,
    }
}

#[derive(Debug, Serialize)]
struct Table {
    title: String,
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn tables(v: &View) -> Vec<Table> {
    let mut out = vec![quality(v)];
    if let Some(t) = paired(v) {
        out.push(t);
    }
    if let Some(t) = gsb(v) {
        out.push(t);
    }
    if let Some(t) = rules(v) {
        out.push(t);
    }
    out.push(operations(v));
    out.extend(panel(v));
    out.extend(people(v));
    out
}

/// "Judge panel" tables, when two or more judges graded the run.
fn panel(v: &View) -> Vec<Table> {
    let Some(p) = &v.summary.panel else {
        return Vec::new();
    };
    let plain = |s: &str| s.to_string();
    let table = |title: String, (head, rows): super::panel::Rows| Table { title, head, rows };
    let mut out = vec![
        table("Judge panel".into(), super::panel::judges(p, &plain)),
        table(
            "Judge panel: agreement between the judges".into(),
            super::panel::agreement(v, p, &plain),
        ),
        table(
            "Judge panel: each judge's own mean".into(),
            super::panel::means(v, p, &plain, &plain),
        ),
    ];
    for s in &p.same_family {
        out.push(table(
            format!(
                "Same-family judge {} ({}): the panel without it",
                s.judge, s.family
            ),
            super::panel::leave_one_out(v, p, &s.judge, &plain),
        ));
    }
    out
}

/// "Judge vs people" tables, when the run has people's scores (`human.jsonl`).
fn people(v: &View) -> Vec<Table> {
    let Some(h) = &v.summary.human else {
        return Vec::new();
    };
    let plain = |s: &str| s.to_string();
    let owned = |head: Vec<&str>| head.into_iter().map(String::from).collect();
    let mut out = Vec::new();
    if !h.dimensions.is_empty() {
        let (head, rows) = super::people::agreement(v, h, &plain);
        out.push(Table {
            title: "Judge vs people".into(),
            head: owned(head),
            rows,
        });
        let (head, rows) = super::people::per_model(v, h, &plain, &plain);
        out.push(Table {
            title: "People / judge mean per model (answers)".into(),
            head,
            rows,
        });
    }
    if !h.gsb.is_empty() {
        let (head, rows) = super::people::gsb(h, &plain);
        out.push(Table {
            title: "Side by side: people beside the judge".into(),
            head: owned(head),
            rows,
        });
    }
    out
}

fn quality(v: &View) -> Table {
    let mut head = vec!["model".to_string()];
    head.extend(v.scored_dims().map(|d| match d.scale {
        Some(s) => format!("{} ({})", d.name, scale_label(s)),
        None => d.name.clone(),
    }));
    head.push("overall".to_string());
    let rows = v
        .models
        .iter()
        .map(|m| {
            let mut row = vec![model_label(v, m)];
            row.extend(v.scored_dims().map(|d| match v.dim(m, &d.id) {
                Some(s) => format!(
                    "{} [{}, {}] n={}",
                    num(s.mean, 2),
                    num(s.ci95_low, 2),
                    num(s.ci95_high, 2),
                    s.n_items
                ),
                None => NULL.to_string(),
            }));
            row.push(num(v.overall(m), 2));
            row
        })
        .collect();
    Table {
        title: "Quality: dimension means with 95 % CI".to_string(),
        head,
        rows,
    }
}

fn model_label(v: &View, m: &str) -> String {
    let roles = v.roles(m);
    if roles.is_empty() {
        m.to_string()
    } else {
        format!("{m} ({})", roles.join(", "))
    }
}

fn paired(v: &View) -> Option<Table> {
    let base = v.baseline.as_deref()?;
    let mut rows = Vec::new();
    for m in v.models.iter().filter(|m| *m != base) {
        for d in v.scored_dims() {
            if let Some(p) = v.paired(m, &d.id) {
                rows.push(vec![
                    m.clone(),
                    d.name.clone(),
                    p.mean_diff.map_or(NULL.to_string(), |x| signed(x, 2)),
                    format!("[{}, {}]", num(p.ci95_low, 2), num(p.ci95_high, 2)),
                    pval(p.p_holm),
                    p.verdict.clone(),
                ]);
            }
        }
    }
    (!rows.is_empty()).then(|| Table {
        title: format!("Paired differences against {base}"),
        head: [
            "model",
            "dimension",
            "Δ mean",
            "95 % CI",
            "Holm p",
            "verdict",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    })
}

fn gsb(v: &View) -> Option<Table> {
    let base = v.baseline.as_deref()?;
    let rows: Vec<Vec<String>> = v
        .models
        .iter()
        .filter_map(|m| {
            let g = v.gsb(m)?;
            Some(vec![
                m.clone(),
                format!("{} / {} / {}", g.G, g.S, g.B),
                pct(g.win_rate),
                format!("[{}, {}]", pct(g.ci95_low), pct(g.ci95_high)),
                format!("{} of {}", g.n_order_disagree, g.n_both_orders),
                g.verdict.clone(),
            ])
        })
        .collect();
    (!rows.is_empty()).then(|| Table {
        title: format!("GSB against {base}"),
        head: [
            "model",
            "G / S / B",
            "win rate",
            "95 % CI",
            "orders disagree",
            "verdict",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    })
}

fn rules(v: &View) -> Option<Table> {
    let mut names: Vec<&String> = v
        .models
        .iter()
        .flat_map(|m| v.stats(m).rules.keys())
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return None;
    }
    let mut head = vec!["model".to_string()];
    head.extend(names.iter().map(|n| n.to_string()));
    let rows = v
        .models
        .iter()
        .map(|m| {
            let mut row = vec![m.clone()];
            row.extend(
                names
                    .iter()
                    .map(|n| pct(v.stats(m).rules.get(*n).and_then(|r| r.pass_rate))),
            );
            row
        })
        .collect();
    Some(Table {
        title: "Rule pass rates".to_string(),
        head,
        rows,
    })
}

fn operations(v: &View) -> Table {
    let currency = v.currency().map(|c| format!(" ({c})")).unwrap_or_default();
    let rows = v
        .models
        .iter()
        .map(|m| {
            let s = v.stats(m);
            let (t, a) = (&s.latency.ttft_ms, &s.latency.total_ms);
            vec![
                m.clone(),
                format!("{} / {} / {}", secs(t.p50), secs(t.p90), secs(t.p99)),
                format!("{} / {} / {}", secs(a.p50), secs(a.p90), secs(a.p99)),
                money(s.cost.per_item),
                format!(
                    "{} ({} of {})",
                    pct(s.errors.error_rate),
                    s.errors.n_errors,
                    s.errors.n_responses
                ),
            ]
        })
        .collect();
    Table {
        title: "Latency, cost and errors".to_string(),
        head: vec![
            "model".to_string(),
            "TTFT p50 / p90 / p99".to_string(),
            "total p50 / p90 / p99".to_string(),
            format!("cost per item{currency}"),
            "errors".to_string(),
        ],
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_a_capped_page_rewrites_is_in_the_script_once() {
        assert_eq!(SCRIPT.matches(RUN_COUNT).count(), 1);
    }
}
