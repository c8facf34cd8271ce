//! `summary.csv`: one row per model, one column per number, for spreadsheets. Columns: identity;
//! per dimension (rubric order) mean, CI and the paired comparison with the baseline; overall; per rule
//! (by id) pass rate and Wilson CI; latency in ms; throughput; cost; errors (total and per kind); GSB.
//! Numbers are raw (shortest round-trip form, no units, no rounding); null is an empty cell.

use std::collections::BTreeSet;

use anyhow::Result;

use crate::stats::summary::Summary;

use super::view::View;
use super::{Exporter, ReportContext};

pub(crate) struct CsvExporter;

impl Exporter for CsvExporter {
    fn serialize(&self, summary: &Summary, ctx: &ReportContext) -> Result<Vec<u8>> {
        Ok(render(summary, ctx)?.into_bytes())
    }
}

fn f(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => v.to_string(),
        _ => String::new(),
    }
}

fn u<T: ToString>(x: T) -> String {
    x.to_string()
}

pub(crate) fn render(summary: &Summary, ctx: &ReportContext) -> Result<String> {
    let v = View::new(summary, ctx);
    let rules: BTreeSet<&String> = summary
        .models
        .values()
        .flat_map(|m| m.rules.keys())
        .collect();
    let kinds: BTreeSet<&String> = summary
        .models
        .values()
        .flat_map(|m| m.errors.by_kind.keys())
        .collect();

    let mut header: Vec<String> = vec!["model".into(), "role".into()];
    for d in &v.dims {
        for col in [
            "mean",
            "ci95_low",
            "ci95_high",
            "delta",
            "delta_ci95_low",
            "delta_ci95_high",
            "p_holm",
            "mde80",
            "non_inferior",
        ] {
            header.push(format!("{}_{col}", d.id));
        }
    }
    header.push("overall_mean".into());
    for r in &rules {
        for col in ["pass_rate", "ci95_low", "ci95_high"] {
            header.push(format!("rule_{r}_{col}"));
        }
    }
    for col in [
        "ttft_n",
        "ttft_mean_ms",
        "ttft_p50_ms",
        "ttft_p90_ms",
        "ttft_p99_ms",
        "total_n",
        "total_mean_ms",
        "total_p50_ms",
        "total_p90_ms",
        "total_p99_ms",
        "output_tokens_per_s",
        "currency",
        "prompt_tokens",
        "completion_tokens",
        "cost_total",
        "cost_per_item",
        "cost_per_1k_tokens",
        "n_responses",
        "n_errors",
        "error_rate",
        "n_cached",
    ] {
        header.push(col.into());
    }
    for k in &kinds {
        header.push(format!("errors_{k}"));
    }
    for col in [
        "gsb_G",
        "gsb_S",
        "gsb_B",
        "gsb_win_rate",
        "gsb_ci95_low",
        "gsb_ci95_high",
        "gsb_sign_test_p_holm",
        "gsb_n_order_disagree",
    ] {
        header.push(col.into());
    }

    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(&header)?;
    for m in &v.models {
        let s = v.stats(m);
        let roles = v.roles(m);
        let role = if roles.is_empty() {
            "candidate".to_string()
        } else {
            roles.join("+")
        };
        let mut row: Vec<String> = vec![m.clone(), role];
        for d in &v.dims {
            let ds = v.dim(m, &d.id);
            row.push(f(ds.and_then(|x| x.mean)));
            row.push(f(ds.and_then(|x| x.ci95_low)));
            row.push(f(ds.and_then(|x| x.ci95_high)));
            let p = v.paired(m, &d.id);
            row.push(f(p.and_then(|x| x.mean_diff)));
            row.push(f(p.and_then(|x| x.ci95_low)));
            row.push(f(p.and_then(|x| x.ci95_high)));
            row.push(f(p.and_then(|x| x.p_holm)));
            row.push(f(p.and_then(|x| x.mde80)));
            row.push(p.and_then(|x| x.non_inferior).map(u).unwrap_or_default());
        }
        row.push(f(v.overall(m)));
        for r in &rules {
            let rs = s.rules.get(*r);
            row.push(f(rs.and_then(|x| x.pass_rate)));
            row.push(f(rs.and_then(|x| x.ci95_low)));
            row.push(f(rs.and_then(|x| x.ci95_high)));
        }
        for dist in [&s.latency.ttft_ms, &s.latency.total_ms] {
            row.extend([
                u(dist.n),
                f(dist.mean),
                f(dist.p50),
                f(dist.p90),
                f(dist.p99),
            ]);
        }
        row.push(f(s.output_tokens_per_s));
        row.extend([
            s.cost.currency.clone().unwrap_or_default(),
            u(s.cost.prompt_tokens),
            u(s.cost.completion_tokens),
            f(s.cost.total),
            f(s.cost.per_item),
            f(s.cost.per_1k_tokens),
        ]);
        row.extend([
            u(s.errors.n_responses),
            u(s.errors.n_errors),
            f(s.errors.error_rate),
            u(s.errors.n_cached),
        ]);
        for k in &kinds {
            row.push(u(s.errors.by_kind.get(*k).copied().unwrap_or(0)));
        }
        match v.gsb(m) {
            Some(g) => row.extend([
                u(g.G),
                u(g.S),
                u(g.B),
                f(g.win_rate),
                f(g.ci95_low),
                f(g.ci95_high),
                f(g.sign_test_p_holm),
                u(g.n_order_disagree),
            ]),
            None => row.extend(std::iter::repeat_n(String::new(), 8)),
        }
        w.write_record(&row)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
