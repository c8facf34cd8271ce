//! The table printed at the end of a run: one row per model, the numbers a reader checks first, and the
//! decision's headline under it. Plain text, no colour, no wrapping, so it can be pasted anywhere.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};

use crate::stats::summary::Summary;

use super::decision::{decide, Words};
use super::text::{money, num, pct, secs, signed};
use super::view::{Sig, View};
use super::ReportContext;

/// The end-of-run summary for stdout: a comfy-table of quality (dimension means, Δ against the baseline
/// with ▲/▼ when Holm-significant), GSB win rate, median latencies, cost per item and error rate, followed
/// by the decision's headline in plain words.
pub fn terminal_table(summary: &Summary, ctx: &ReportContext) -> String {
    let v = View::new(summary, ctx);
    let mut header = vec!["model".to_string()];
    header.extend(v.dims.iter().map(|d| d.name.clone()));
    let any_scored = v.scored_dims().next().is_some();
    if any_scored {
        header.push("overall".into());
    }
    let any_gsb = v.has_gsb();
    if any_gsb {
        header.push("GSB win".into());
    }
    header.extend(["TTFT p50", "total p50", "cost/item", "errors"].map(String::from));

    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .force_no_tty()
        .set_header(header.clone());
    for m in &v.models {
        let s = v.stats(m);
        let roles = v.roles(m);
        let mut row = vec![if roles.is_empty() {
            m.clone()
        } else {
            format!("{m} ({})", roles.join(", "))
        }];
        for d in &v.dims {
            if !d.scored {
                row.push("n/a".into());
                continue;
            }
            let mut cell = num(v.mean(m, &d.id), 2);
            if let Some(p) = v.paired(m, &d.id) {
                if let Some(diff) = p.mean_diff {
                    let mark = match v.sig(p) {
                        Sig::Better => " ▲",
                        Sig::Worse => " ▼",
                        Sig::NotSignificant => "",
                    };
                    cell = format!("{cell} ({}{mark})", signed(diff, 2));
                }
            }
            row.push(cell);
        }
        if any_scored {
            row.push(num(v.overall(m), 2));
        }
        if any_gsb {
            row.push(
                v.gsb(m)
                    .map(|g| num(g.win_rate, 2))
                    .unwrap_or_else(|| "–".into()),
            );
        }
        let cur = s
            .cost
            .currency
            .as_deref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        let cost = match s.cost.per_item {
            Some(_) => format!("{}{cur}", money(s.cost.per_item)),
            None => "–".into(),
        };
        row.extend([
            secs(s.latency.ttft_ms.p50),
            secs(s.latency.total_ms.p50),
            cost,
            pct(s.errors.error_rate),
        ]);
        t.add_row(row);
    }
    for i in 1..header.len() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let d = decide(&v, Words { md: false });
    format!("{t}\n{}\n", d.headline)
}
