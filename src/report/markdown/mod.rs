//! `report.md`: the pull-request-readable report. Sections, in order: header, decision, quality (with
//! the paired differences), side by side (GSB), judge diagnostics, judge panel, judge vs people,
//! reference metrics, rule checks,
//! latency, cost, errors, worst cases. A section without data is left out, never left empty; tables are
//! padded so the raw file reads well.

mod judge;
mod operations;
mod panel;
mod people;
mod quality;

use std::fmt::Write as _;

use anyhow::Result;

use crate::stats::summary::Summary;

use super::charts::{self, ChartKind};
use super::decision::{decide, Words};
use super::text::{code, code_cell, esc, truncate, Align, Table, NULL};
use super::view::View;
use super::{Exporter, ReportContext};
use judge::{judge, reference};
use operations::{cost, errors, latency, rules};
use panel::panel;
use people::people;
use quality::{gsb, quality};

/// Graphemes of model output shown per worst case.
const ANSWER_CHARS: usize = 200;
const PROMPT_CHARS: usize = 120;

pub(crate) struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn serialize(&self, summary: &Summary, ctx: &ReportContext) -> Result<Vec<u8>> {
        Ok(render(summary, ctx).into_bytes())
    }
}

pub(crate) fn render(summary: &Summary, ctx: &ReportContext) -> String {
    let v = View::new(summary, ctx);
    let charts = charts::available(summary, ctx);
    let mut out = String::new();
    header(&mut out, &v);
    decision(&mut out, &v, &charts);
    quality(&mut out, &v, &charts);
    gsb(&mut out, &v);
    judge(&mut out, &v);
    panel(&mut out, &v);
    people(&mut out, &v);
    reference(&mut out, &v);
    rules(&mut out, &v);
    latency(&mut out, &v, &charts);
    cost(&mut out, &v);
    errors(&mut out, &v);
    worst_cases(&mut out, &v);
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

pub(super) fn model_cell(v: &View, m: &str) -> String {
    let roles = v.roles(m);
    if roles.is_empty() {
        code_cell(m)
    } else {
        format!("{} ({})", code_cell(m), roles.join(", "))
    }
}

pub(super) fn chart_link(out: &mut String, charts: &[ChartKind], kind: ChartKind) {
    if charts.contains(&kind) {
        let _ = writeln!(
            out,
            "![{}]({}/{})\n",
            kind.title(),
            crate::records::files::CHARTS_DIR,
            kind.file_name()
        );
    }
}

fn header(out: &mut String, v: &View) {
    let ctx = v.ctx;
    let _ = writeln!(out, "# evalrun report: {}\n", esc(&ctx.run_id));
    let short = |h: &str| h.chars().take(12).collect::<String>();
    let items = match ctx.evalset.items {
        Some(n) => format!("{n} items, "),
        None => String::new(),
    };
    let _ = writeln!(out, "- **Started:** {}", esc(&ctx.started_utc));
    let _ = writeln!(
        out,
        "- **Eval set:** {} ({items}sha256 {})",
        code(&ctx.evalset.path),
        code(&short(&ctx.evalset.sha256))
    );
    let _ = writeln!(
        out,
        "- **Rubric:** {} (sha256 {})",
        code(&ctx.rubric.path),
        code(&short(&ctx.rubric.sha256))
    );
    match &ctx.judge {
        Some(j) => {
            let _ = writeln!(out, "- **Judge:** {}", code(j));
        }
        None => {
            let _ = writeln!(out, "- **Judge:** none (rule checks only)");
        }
    }
    if let Some(b) = &v.baseline {
        let _ = writeln!(out, "- **Baseline:** {}", code(b));
    }
    if let Some(f) = &v.flagship {
        let _ = writeln!(
            out,
            "- **Most expensive model:** {} (cost and latency fractions are relative to it)",
            code(f)
        );
    }
    let _ = writeln!(out, "- **Command:** {}\n", code(&ctx.command_line));

    if let Some(sim) = &ctx.simulated {
        let _ = writeln!(
            out,
            "> **Simulated run.** Every endpoint was evalrun's built-in simulator (time scale {}): latencies, \
             token counts and costs are synthetic and say nothing about the real services.\n",
            sim.time_scale
        );
    }

    if !ctx.models.is_empty() {
        let mut t = Table::new([
            ("model", Align::Left),
            ("provider", Align::Left),
            ("endpoint / model", Align::Left),
            ("price in / 1k", Align::Right),
            ("price out / 1k", Align::Right),
        ]);
        for m in &ctx.models {
            let cur = m
                .currency
                .as_deref()
                .map(|c| format!(" {}", esc(c)))
                .unwrap_or_default();
            let price = |p: Option<f64>| match p {
                Some(p) => format!("{p}{cur}"),
                None => NULL.to_string(),
            };
            t.row(vec![
                model_cell(v, &m.name),
                esc(&m.provider),
                code_cell(&m.endpoint),
                price(m.price_input_per_1k),
                price(m.price_output_per_1k),
            ]);
        }
        let _ = writeln!(out, "{}", t.render());
    }

    let notes: Vec<&String> = ctx.notices.iter().chain(&v.summary.warnings).collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "**Notes**\n");
        for n in notes {
            let _ = writeln!(out, "- {}", esc(n));
        }
        out.push('\n');
    }
}

fn decision(out: &mut String, v: &View, charts: &[ChartKind]) {
    let d = decide(v, Words { md: true });
    let _ = writeln!(out, "## Decision\n\n{}\n", d.headline);
    for line in &d.details {
        let _ = writeln!(out, "- {line}");
    }
    if !d.details.is_empty() {
        out.push('\n');
    }
    chart_link(out, charts, ChartKind::QualityVsCost);
}

/// The items where the models differ most, with links into the records.
fn worst_cases(out: &mut String, v: &View) {
    if v.ctx.worst_cases.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Worst cases\n");
    let _ = writeln!(
        out,
        "The lowest-scored answers per model. Model output is untrusted text: shown escaped, line breaks as ↵, \
         cut at {ANSWER_CHARS} characters.\n"
    );
    let mut models: Vec<&String> = v.models.iter().collect();
    for w in &v.ctx.worst_cases {
        if !models.contains(&&w.model) {
            models.push(&w.model);
        }
    }
    for m in models {
        let mut cases: Vec<_> = v.ctx.worst_cases.iter().filter(|w| &w.model == m).collect();
        if cases.is_empty() {
            continue;
        }
        cases.sort_by(|a, b| {
            a.score
                .total_cmp(&b.score)
                .then_with(|| a.item_id.cmp(&b.item_id))
                .then_with(|| a.dimension.cmp(&b.dimension))
        });
        let mut t = Table::new([
            ("item", Align::Left),
            ("dimension", Align::Left),
            ("score", Align::Right),
            ("prompt (key line)", Align::Left),
            ("answer", Align::Left),
            ("justification", Align::Left),
        ]);
        for c in cases {
            let dim = v.dims.iter().find(|d| d.id == c.dimension);
            let name = dim.map(|d| d.name.as_str()).unwrap_or(&c.dimension);
            let score = match dim.and_then(|d| d.scale) {
                Some((_, hi)) => format!("{} / {}", trim_num(c.score), trim_num(hi)),
                None => trim_num(c.score),
            };
            t.row(vec![
                code_cell(&c.item_id),
                esc(name),
                score,
                esc(&truncate(&c.prompt_key_line, PROMPT_CHARS)),
                esc(&truncate(&c.answer, ANSWER_CHARS)),
                c.justification
                    .as_deref()
                    .map(|j| esc(&truncate(j, ANSWER_CHARS)))
                    .unwrap_or_else(|| NULL.to_string()),
            ]);
        }
        let _ = writeln!(out, "### {}\n\n{}", code(m), t.render());
    }
}

/// `1`, `2.5`.
fn trim_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}").trim_end_matches('0').to_string()
    }
}
