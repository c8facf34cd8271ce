//! The judge sections of `report.md`: the judge's diagnostics (parse failures, position bias,
//! agreement between orders, its cost) and the reference metrics.

use std::fmt::Write as _;

use crate::report::text::{code, code_cell, int, num, pct, Align, Table, NULL};
use crate::report::view::View;

use super::model_cell;
use super::operations::judge_cost_words;

/// Pairs the judge was asked to compare: those with both orders recorded (a panel's records carry
/// the judges' orders inside `panel`, so for a panel: those with a combined verdict), plus the
/// unjudged ones.
fn pairs_asked(v: &View, j: &crate::stats::summary::JudgeDiagnostics) -> usize {
    let judged = match v.summary.panel {
        Some(_) => v
            .summary
            .gsb
            .values()
            .flat_map(|c| c.values())
            .map(|g| g.N)
            .sum(),
        None => j.position.n_both_orders,
    };
    judged
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

pub(super) fn judge(out: &mut String, v: &View) {
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
        pairs_asked(v, j),
        j.n_pair_calls,
        match j.n_call_errors {
            0 => "no call".to_string(),
            1 => "1 call".to_string(),
            n => format!("{n} calls"),
        },
        int(j.cost.prompt_tokens),
        int(j.cost.completion_tokens),
        judge_cost_words(v, &j.cost)
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

pub(super) fn reference(out: &mut String, v: &View) {
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
        "Against each item's `reference`, in % (mean [95 % CI, t-interval] over the items that have one), as the \
         Qianfan platform reports them. Tokens: one per Chinese character, one per Latin-script word. BLEU-4 \
         is sentence BLEU with add-one smoothing of the 2- to 4-gram precisions; ROUGE are F1; edit distance \
         is normalised by the longer text (lower is closer). They reward wording close to one reference, not \
         quality: read them beside the rubric's scores.\n"
    );
}
