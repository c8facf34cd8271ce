//! `report.md`: the pull-request-readable report. Sections, in order: header, decision, quality (with
//! the paired differences), side by side (GSB), judge diagnostics, reference metrics, rule checks,
//! latency, cost, errors, worst cases. A section without data is left out, never left empty; tables are
//! padded so the raw file reads well.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::Result;

use crate::stats::summary::Summary;

use super::charts::{self, ChartKind};
use super::decision::{decide, Words};
use super::text::{
    code, code_cell, esc, int, money, num, pct, pval, secs, signed, truncate, Align, Table, NULL,
};
use super::view::{scale_label, Sig, View};
use super::{Exporter, ReportContext};

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

fn model_cell(v: &View, m: &str) -> String {
    let roles = v.roles(m);
    if roles.is_empty() {
        code_cell(m)
    } else {
        format!("{} ({})", code_cell(m), roles.join(", "))
    }
}

fn chart_link(out: &mut String, charts: &[ChartKind], kind: ChartKind) {
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

fn quality(out: &mut String, v: &View, charts: &[ChartKind]) {
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
            super::text::and_list(&unscored)
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
    let mut legend = format!("Mean [95 % bootstrap CI]{over}.");
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
            " Overall = mean of the scored dimensions' means{rescaled}."
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
            super::text::and_list(&unscored)
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

fn gsb(out: &mut String, v: &View) {
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
        super::text::and_list(&against)
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

fn rules(out: &mut String, v: &View) {
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

fn latency(out: &mut String, v: &View, charts: &[ChartKind]) {
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

fn cost(out: &mut String, v: &View) {
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
        Some(c) if c.prompt_tokens + c.completion_tokens > 0 => format!(
            " The judge's own calls cost {} more ({} tokens; see Judge).",
            cost_words(c),
            int(c.prompt_tokens + c.completion_tokens)
        ),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "The answers' cost only (the judge's calls are not included), from the configured prices; – = no \
         price configured. Per 1k tokens blends prompt and completion tokens.{judge_cost}\n"
    );
}

/// `1.76 CNY`, or `– (no price configured)`.
fn cost_words(c: &crate::stats::summary::CostStats) -> String {
    match (c.total, &c.currency) {
        (Some(t), Some(cur)) => format!("{} {}", money(Some(t)), esc(cur)),
        (Some(t), None) => money(Some(t)),
        (None, _) => format!("{NULL} (no price configured)"),
    }
}

/// Pairs the judge was asked to compare: those with a verdict plus those left without one.
fn pairs_asked(j: &crate::stats::summary::JudgeDiagnostics) -> usize {
    j.position.n_both_orders
        + j.per_model
            .values()
            .map(|m| m.n_unjudged_pairs)
            .sum::<usize>()
}

/// `4.0 % (2/50)`, or `–` without calls.
fn rate_of(failures: usize, of: usize) -> String {
    if of == 0 {
        NULL.to_string()
    } else {
        format!(
            "{} ({failures}/{of})",
            pct(Some(failures as f64 / of as f64))
        )
    }
}

fn judge(out: &mut String, v: &View) {
    let Some(j) = &v.summary.judge else { return };
    if j.n_calls == 0 && j.per_model.is_empty() {
        return;
    }
    let name = j
        .judge
        .as_deref()
        .or(v.ctx.judge.as_deref())
        .map(code)
        .unwrap_or_else(|| "The judge".to_string());
    let _ = writeln!(out, "## Judge\n");
    let graded: usize = j.per_model.values().map(|m| m.n_graded_answers).sum();
    let unjudged: usize = j.per_model.values().map(|m| m.n_unjudged_answers).sum();
    let samples = match j.self_agreement.max_samples {
        0 | 1 => "1 judge sample per answer".to_string(),
        n => format!("up to {n} judge samples per answer, median kept"),
    };
    let _ = writeln!(
        out,
        "{name} was asked to grade {graded} answers ({} calls) and to compare {} pairs of answers ({} calls; \
         {samples}); {} failed in \
         transport. Its own cost: {} prompt + {} completion tokens, {} — apart from the answers' cost.\n",
        j.n_grade_calls,
        pairs_asked(j),
        j.n_pair_calls,
        match j.n_call_errors {
            0 => "no call".to_string(),
            1 => "1 call".to_string(),
            n => format!("{n} calls"),
        },
        int(j.cost.prompt_tokens),
        int(j.cost.completion_tokens),
        cost_words(&j.cost)
    );
    let mut t = Table::new([
        ("model", Align::Left),
        ("answers judged", Align::Right),
        ("unjudged", Align::Right),
        ("grade parse failures", Align::Right),
        ("pair parse failures", Align::Right),
        ("pairs without verdict", Align::Right),
        ("score–length ρ (n)", Align::Right),
    ]);
    let mut names: Vec<&String> = v
        .models
        .iter()
        .filter(|m| j.per_model.contains_key(*m))
        .collect();
    names.extend(j.per_model.keys().filter(|m| !v.models.contains(m)));
    for m in names {
        let s = &j.per_model[m];
        let rho = match s.length_spearman {
            Some(r) => format!("{} ({})", num(Some(r), 2), s.n_length),
            None => NULL.to_string(),
        };
        t.row(vec![
            model_cell(v, m),
            (s.n_graded_answers - s.n_unjudged_answers).to_string(),
            s.n_unjudged_answers.to_string(),
            rate_of(s.n_grade_parse_failures, s.n_grade_replies),
            rate_of(s.n_pair_parse_failures, s.n_pair_replies),
            if s.n_pair_calls == 0 {
                NULL.to_string()
            } else {
                s.n_unjudged_pairs.to_string()
            },
            rho,
        ]);
    }
    let _ = writeln!(out, "{}", t.render());
    let _ = writeln!(
        out,
        "Unjudged = answers whose reply still lacked a valid score for some dimension after the bounded retries \
         (`judge_error` in `scores.jsonl`, raw replies in `judgements.jsonl`): no score is made up, and the \
         dimension means are over the rest. Parse failures = replies without a usable score or verdict, over \
         the replies received. ρ = Spearman correlation of answer length (characters) with the judge's own \
         score before rule caps, within the model: a clearly positive ρ hints that the judge rewards length.\n"
    );
    if unjudged > 0 {
        let _ = writeln!(
            out,
            "> **{unjudged} of {graded} answers went unjudged** (no usable judge score for some dimension); the \
             affected dimensions' means are over the rest.\n"
        );
    }
    let p = &j.position;
    if p.n_both_orders > 0 || p.n_decisive_raw > 0 {
        let order = match p.order_disagreement_rate {
            Some(r) => format!(
                "the two presentation orders disagree on {} of {} pairs ({})",
                p.n_order_disagree,
                p.n_both_orders,
                pct(Some(r))
            ),
            None => "no pair was judged in both orders".to_string(),
        };
        let first = match p.first_position_win_share {
            Some(r) => format!(
                "; of {} decisive raw verdicts, {} went to the answer shown first (unbiased: about 50 %)",
                p.n_decisive_raw,
                pct(Some(r))
            ),
            None => String::new(),
        };
        let _ = writeln!(out, "- **Position:** {order}{first}.");
    }
    let a = &j.self_agreement;
    match a.exact_agreement_rate {
        Some(r) => {
            let _ = writeln!(
                out,
                "- **Self-agreement:** the judge samples of an answer agree exactly on {} of {} (answer, \
                 dimension) units ({}); mean range {}.",
                a.n_exact_agree,
                a.n_units,
                pct(Some(r)),
                num(a.mean_range, 2)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "- **Self-agreement:** not measured — one judge sample per answer (`--judge-samples 3` measures it)."
            );
        }
    }
    let pooled = match j.length_spearman_pooled {
        Some(r) => format!("{} (n = {})", num(Some(r), 2), j.n_length_pooled),
        None => NULL.to_string(),
    };
    let _ = writeln!(
        out,
        "- **Length:** score–length Spearman ρ over all models pooled {pooled} (this mixes real quality \
         differences between models with the judge's bias; the per-model ρ above does not).\n"
    );
}

fn reference(out: &mut String, v: &View) {
    let r = &v.summary.reference_metrics;
    if r.is_empty() {
        return;
    }
    // The platform's order: BLEU-4, the ROUGEs, then edit distance (the one where lower is better).
    let mut metrics: Vec<&String> = r.values().flat_map(|m| m.keys()).collect();
    metrics.sort_by_key(|k| (k.as_str() == "edit-distance", k.as_str()));
    metrics.dedup();
    let mut cols = vec![
        ("model".to_string(), Align::Left),
        ("items".to_string(), Align::Right),
    ];
    cols.extend(metrics.iter().map(|m| (code_cell(m), Align::Right)));
    let mut t = Table::new(cols);
    let mut names: Vec<&String> = v.models.iter().filter(|m| r.contains_key(*m)).collect();
    names.extend(r.keys().filter(|m| !v.models.contains(m)));
    for m in names {
        let per = &r[m];
        let n = per.values().map(|s| s.n_items).max().unwrap_or(0);
        let mut row = vec![model_cell(v, m), n.to_string()];
        for k in &metrics {
            row.push(match per.get(*k) {
                Some(s) => match (s.mean, s.ci95_low, s.ci95_high) {
                    (Some(x), Some(lo), Some(hi)) => format!("{x:.1} [{lo:.1}, {hi:.1}]"),
                    (x, _, _) => num(x, 1),
                },
                None => NULL.to_string(),
            });
        }
        t.row(row);
    }
    let _ = writeln!(out, "## Reference metrics\n\n{}", t.render());
    let _ = writeln!(
        out,
        "Against each item's `reference`, in % (mean [95 % bootstrap CI] over the items that have one), as the \
         Qianfan platform reports them. Tokens: one per Chinese character, one per Latin-script word. BLEU-4 \
         is sentence BLEU with add-one smoothing of the 2- to 4-gram precisions; ROUGE are F1; edit distance \
         is normalised by the longer text (lower is closer). They reward wording close to one reference, not \
         quality: read them beside the rubric's scores.\n"
    );
}

fn errors(out: &mut String, v: &View) {
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
