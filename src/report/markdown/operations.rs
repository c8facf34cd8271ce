//! The operational sections of `report.md`: rule checks, latency, cost and errors.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::report::text::{code, code_cell, esc, int, money, num, pct, secs, Align, Table, NULL};
use crate::report::view::View;

use super::{chart_link, model_cell};
use crate::report::charts::ChartKind;

pub(super) fn rules(out: &mut String, v: &View) {
    let ids: BTreeSet<&String> = v
        .models
        .iter()
        .flat_map(|m| v.stats(m).rules.keys())
        .collect();
    if ids.is_empty() {
        return;
    }
    let mut cols = vec![("rule".to_string(), Align::Left)];
    cols.extend(v.models.iter().map(|m| (code_cell(m), Align::Right)));
    let mut t = Table::new(cols);
    for id in ids {
        let mut row = vec![code_cell(id)];
        for m in &v.models {
            row.push(match v.stats(m).rules.get(id) {
                Some(r) if r.n > 0 => {
                    let ci = match (r.ci95_low, r.ci95_high) {
                        (Some(lo), Some(hi)) => format!(" [{:.1}, {:.1}]", lo * 100.0, hi * 100.0),
                        _ => String::new(),
                    };
                    format!("{} ({}/{}){ci}", pct(r.pass_rate), r.passed, r.n)
                }
                _ => NULL.to_string(),
            });
        }
        t.row(row);
    }
    let rendered = t.render();
    let dash = if rendered.contains(NULL) {
        " – = the rule does not apply to this model's items."
    } else {
        ""
    };
    let _ = writeln!(out, "## Rule checks\n\n{rendered}");
    let _ = writeln!(
        out,
        "Pass rate (passed/answers checked) [Wilson 95 % CI, %].{dash}\n"
    );
}

pub(super) fn latency(out: &mut String, v: &View, charts: &[ChartKind]) {
    let any = v.models.iter().any(|m| {
        let l = &v.stats(m).latency;
        l.ttft_ms.n > 0 || l.total_ms.n > 0
    });
    if !any {
        return;
    }
    let mut t = Table::new([
        ("model", Align::Left),
        ("n", Align::Right),
        ("TTFT mean", Align::Right),
        ("TTFT p50", Align::Right),
        ("TTFT p90", Align::Right),
        ("TTFT p99", Align::Right),
        ("total mean", Align::Right),
        ("total p50", Align::Right),
        ("total p90", Align::Right),
        ("total p99", Align::Right),
        ("output tokens/s", Align::Right),
    ]);
    for m in &v.models {
        let s = v.stats(m);
        let (a, b) = (&s.latency.ttft_ms, &s.latency.total_ms);
        let n = if a.n == b.n {
            a.n.to_string()
        } else {
            format!("{} / {}", a.n, b.n)
        };
        t.row(vec![
            model_cell(v, m),
            n,
            secs(a.mean),
            secs(a.p50),
            secs(a.p90),
            secs(a.p99),
            secs(b.mean),
            secs(b.p50),
            secs(b.p90),
            secs(b.p99),
            num(s.output_tokens_per_s, 1),
        ]);
    }
    let _ = writeln!(out, "## Latency\n\n{}", t.render());
    let sim = match &v.ctx.simulated {
        Some(s) => format!(
            " Simulated at time scale {}: not real latencies.",
            s.time_scale
        ),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "Over successful, uncached requests (n; \"a / b\" when TTFT and total differ). TTFT runs from hand-off \
         to the network to the first content; total to the end of the stream; time queued under rate limits \
         is excluded. Nearest-rank percentiles.{sim}\n"
    );
    chart_link(out, charts, ChartKind::Latency);
}

pub(super) fn cost(out: &mut String, v: &View) {
    let any = v.models.iter().any(|m| {
        let c = &v.stats(m).cost;
        c.total.is_some() || c.prompt_tokens > 0 || c.completion_tokens > 0
    });
    if !any {
        return;
    }
    let currencies: BTreeSet<Option<String>> = v
        .models
        .iter()
        .map(|m| v.stats(m).cost.currency.clone())
        .collect();
    let single = (currencies.len() == 1)
        .then(|| currencies.iter().next().cloned().flatten())
        .flatten();
    let unit = |h: &str| match &single {
        Some(c) => format!("{h} ({})", esc(c)),
        None => h.to_string(),
    };
    let mut t = Table::new([
        ("model".to_string(), Align::Left),
        ("prompt tokens".to_string(), Align::Right),
        ("completion tokens".to_string(), Align::Right),
        (unit("total"), Align::Right),
        (unit("per item"), Align::Right),
        (unit("per 1k tokens"), Align::Right),
    ]);
    for m in &v.models {
        let c = &v.stats(m).cost;
        let with_cur = |x: Option<f64>| match (&single, &c.currency, x) {
            (None, Some(cur), Some(_)) => format!("{} {}", money(x), esc(cur)),
            _ => money(x),
        };
        t.row(vec![
            model_cell(v, m),
            int(c.prompt_tokens),
            int(c.completion_tokens),
            with_cur(c.total),
            with_cur(c.per_item),
            with_cur(c.per_1k_tokens),
        ]);
    }
    let _ = writeln!(out, "## Cost\n\n{}", t.render());
    let judge_cost = match v.summary.judge.as_ref().map(|j| &j.cost) {
        Some(c) if c.prompt_tokens + c.completion_tokens > 0 => {
            let tokens = int(c.prompt_tokens + c.completion_tokens);
            match panel_cost_parts(v, c) {
                None => format!(
                    " The judge's own calls cost {} more ({tokens} tokens; see Judge).",
                    cost_words(c)
                ),
                Some((parts, None)) => format!(
                    " The judge's own calls cost {} more ({parts}; {tokens} tokens; see Judge).",
                    cost_words(c)
                ),
                Some((parts, Some(why))) => format!(
                    " The judges' own calls have no total cost ({why}): {parts} ({tokens} tokens; see \
                     Judge)."
                ),
            }
        }
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "The answers' cost only (the judge's calls are not included), from the configured prices; – = no \
         price configured. Per 1k tokens blends prompt and completion tokens.{judge_cost}\n"
    );
}

/// `1.76 CNY`, or `– (no price configured)`.
pub(super) fn cost_words(c: &crate::stats::summary::CostStats) -> String {
    match (c.total, &c.currency) {
        (Some(t), Some(cur)) => format!("{} {}", money(Some(t)), esc(cur)),
        (Some(t), None) => money(Some(t)),
        (None, _) => format!("{NULL} (no price configured)"),
    }
}

/// A panel's judge cost, judge by judge: each judge's part at its own prices (`` `a` 3.50 CNY ``), and
/// why there is no total when there is none (different currencies, a judge without prices). `None`
/// for one judge, or when no judge has prices.
pub(super) fn panel_cost_parts(
    v: &View,
    c: &crate::stats::summary::CostStats,
) -> Option<(String, Option<&'static str>)> {
    let p = v.summary.panel.as_ref()?;
    if c.total.is_none() && c.note.is_none() {
        return None;
    }
    let parts: Vec<String> = (p.judges.iter())
        .filter_map(|j| {
            let o = p.per_judge.get(j)?;
            let cur = match (o.cost, &o.currency) {
                (Some(_), Some(c)) => format!(" {}", esc(c)),
                _ => String::new(),
            };
            Some(format!("{} {}{cur}", code(j), money(o.cost)))
        })
        .collect();
    let why = c.total.is_none().then(|| {
        let currencies: BTreeSet<Option<&String>> = (p.per_judge.values())
            .filter(|o| o.cost.is_some())
            .map(|o| o.currency.as_ref())
            .collect();
        if currencies.len() > 1 {
            "amounts in different currencies are not added"
        } else {
            "a judge has no price configured"
        }
    });
    Some((parts.join(", "), why))
}

/// The judge's own cost in words; a panel's with each judge's part.
pub(super) fn judge_cost_words(v: &View, c: &crate::stats::summary::CostStats) -> String {
    match panel_cost_parts(v, c) {
        None => cost_words(c),
        Some((parts, None)) => format!("{} ({parts})", cost_words(c)),
        Some((parts, Some(why))) => format!("no total ({why}): {parts}"),
    }
}

/// Pairs the judge was asked to compare: those with a verdict plus those left without one.
pub(super) fn errors(out: &mut String, v: &View) {
    let kinds: BTreeSet<&String> = v
        .models
        .iter()
        .flat_map(|m| v.stats(m).errors.by_kind.keys())
        .collect();
    let mut cols = vec![
        ("model".to_string(), Align::Left),
        ("responses".to_string(), Align::Right),
        ("errors".to_string(), Align::Right),
        ("error rate".to_string(), Align::Right),
    ];
    cols.extend(kinds.iter().map(|k| (code_cell(k), Align::Right)));
    cols.push(("retried".to_string(), Align::Right));
    cols.push(("cached".to_string(), Align::Right));
    let any_invalid = v
        .models
        .iter()
        .any(|m| v.stats(m).errors.n_invalid_utf8 > 0);
    if any_invalid {
        cols.push(("invalid UTF-8".to_string(), Align::Right));
    }
    let mut t = Table::new(cols);
    for m in &v.models {
        let e = &v.stats(m).errors;
        let mut row = vec![
            model_cell(v, m),
            e.n_responses.to_string(),
            e.n_errors.to_string(),
            pct(e.error_rate),
        ];
        row.extend(
            kinds
                .iter()
                .map(|k| e.by_kind.get(*k).copied().unwrap_or(0).to_string()),
        );
        row.push(e.n_retried.to_string());
        row.push(e.n_cached.to_string());
        if any_invalid {
            row.push(e.n_invalid_utf8.to_string());
        }
        t.row(row);
    }
    let _ = writeln!(out, "## Errors\n\n{}", t.render());
    let _ = writeln!(
        out,
        "Requests that still failed after retries, by kind; failed answers are not scored. Retried = answers \
         that took more than one attempt (rate limits, server errors, broken streams), whether or not they \
         arrived in the end. Cached answers came from the response cache and are left out of latency.\n"
    );
    if any_invalid {
        let _ = writeln!(
            out,
            "Invalid UTF-8 = answers whose stream carried bytes that are not UTF-8: they are scored as \
             received, with each bad sequence replaced by U+FFFD (record flag `invalid_utf8`).\n"
        );
    }
}
