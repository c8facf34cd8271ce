//! The markdown verdict: a headline, what was compared and by which rules, one table row per check
//! (failures first), and what could not be compared.

use std::fmt::Write as _;

use crate::diff::{Diff, Direction};
use crate::report::text::esc;

use super::{Gate, Run, Status};

/// Flips listed under the verdict.
pub const WORST_FLIPS: usize = 10;

/// One table row.
struct Line {
    status: Status,
    model: String,
    check: String,
    baseline: String,
    candidate: String,
    change: String,
    test: String,
    why: String,
}

/// The whole verdict text; `input_notes` come from [`super::inputs::input_notes`].
pub fn render(base: &Run, cand: &Run, g: &Gate, input_notes: &[String]) -> String {
    let lines = lines(g);
    let (n_fail, n_warn) = (g.n_fail(), g.n_warn());
    let word = if g.params.exact {
        "change"
    } else {
        "regression"
    };
    let mut s = String::new();
    let warn = match n_warn {
        0 => String::new(),
        1 => ", 1 warning".to_string(),
        n => format!(", {n} warnings"),
    };
    let _ = if n_fail > 0 {
        writeln!(
            s,
            "## evalrun gate: FAIL — {n_fail} failing check{} of {}{warn}\n",
            plural(n_fail),
            lines.len()
        )
    } else {
        writeln!(
            s,
            "## evalrun gate: PASS — no {word} in {} checks{warn}\n",
            lines.len()
        )
    };
    for (which, run) in [("baseline", base), ("candidate", cand)] {
        let _ = writeln!(
            s,
            "- {which}: `{}` (run {}, started {})",
            run.dir.display(),
            run.manifest.run_id,
            run.manifest.started_utc
        );
    }
    for note in input_notes {
        let _ = writeln!(s, "- {note}");
    }
    let p = &g.params;
    let models: Vec<&str> = g.models.keys().map(String::as_str).collect();
    let _ = writeln!(
        s,
        "- gated models: {} (each Holm family pools the tests of every gated model; gate only the \
         models that changed to keep their power)",
        models.join(", ")
    );
    let rule = if p.exact {
        "--exact: any change of an item score or a rule outcome fails".to_string()
    } else {
        format!(
            "a primary dimension ({}) fails when its one-sided paired t-test for a drop is significant \
             at α = {} after Holm and the drop reaches its tolerance (other dimensions warn); a rule \
             fails when more answers fail, significant after Holm (one-sided McNemar)",
            g.primary.join(", "),
            p.alpha
        )
    };
    let _ = writeln!(
        s,
        "- rules of the gate: {rule}; p90 total latency fails when the 95 % bootstrap interval of the \
         ratio lies above {:.2}; errors fail above {:.1} % of requests or when significantly more \
         fail; cached answers in the candidate fail{}",
        1.0 + p.max_latency_increase,
        100.0 * p.max_error_rate,
        if p.allow_cached { " (allowed here: --allow-cached)" } else { "" }
    );
    let coverage: Vec<String> = g
        .models
        .iter()
        .map(|(m, mg)| {
            let c = &mg.coverage;
            if c.n_shared_units == c.n_baseline_units && c.n_shared_units == c.n_candidate_units {
                format!("{m} {}", c.n_shared_units)
            } else {
                format!(
                    "{m} {} (of {} / {})",
                    c.n_shared_units, c.n_baseline_units, c.n_candidate_units
                )
            }
        })
        .collect();
    let _ = writeln!(
        s,
        "- compared on the (item, sample) units both runs recorded: {}",
        coverage.join(", ")
    );
    s.push_str(
        "\n| model | check | baseline | candidate | change | test | status | why |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for l in &lines {
        let status = match l.status {
            Status::Fail => format!("**{}**", l.status.as_str()),
            st => st.as_str().to_string(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {status} | {} |",
            cell(&l.model),
            cell(&l.check),
            cell(&l.baseline),
            cell(&l.candidate),
            cell(&l.change),
            cell(&l.test),
            cell(&l.why)
        );
    }
    if !g.notes.is_empty() {
        s.push_str("\nNot compared:\n\n");
        for line in &g.notes {
            let _ = writeln!(s, "- {line}");
        }
    }
    s
}

/// The section under the verdict: the [`WORST_FLIPS`] items that got worse for the gated `models`
/// (from `evalrun diff`), each with what got worse as dimension old → new, and where the full diff is:
/// `link` (a file written beside the verdict), else the command that writes it.
pub fn worst_flips(d: &Diff, models: &[String], link: Option<&str>) -> String {
    let mut s = String::from("\n### Worst flips: items that got worse (baseline → candidate)\n\n");
    let worse: Vec<_> = d
        .changes
        .iter()
        .filter(|c| c.direction == Direction::Worse && models.contains(&c.model))
        .collect();
    if worse.is_empty() {
        s.push_str("No item got worse for the gated models.\n");
    } else {
        s.push_str("| # | model | item | what got worse | size |\n|---|---|---|---|---|\n");
        for (i, c) in worse.iter().take(WORST_FLIPS).enumerate() {
            let what: Vec<String> = c.worse().map(|x| esc(&x.describe())).collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:+.2} |",
                i + 1,
                esc(&c.model),
                esc(&c.item_id),
                what.join("; "),
                c.size
            );
        }
        if worse.len() > WORST_FLIPS {
            let _ = writeln!(
                s,
                "\n{} more item{} got worse.",
                worse.len() - WORST_FLIPS,
                plural(worse.len() - WORST_FLIPS)
            );
        }
    }
    let _ = match link {
        Some(l) => writeln!(
            s,
            "\nEvery item's change, with both answers: [{}]({})",
            esc(l),
            l.replace(' ', "%20").replace(['(', ')'], "")
        ),
        None => writeln!(
            s,
            "\nEvery item's change, with both answers: `evalrun diff {} {} --format html --out diff.html`",
            d.a.dir.replace('`', ""),
            d.b.dir.replace('`', "")
        ),
    };
    s
}

fn lines(g: &Gate) -> Vec<Line> {
    let mut out = Vec::new();
    let opt = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.3}"));
    let p_text = |p: Option<f64>, holm: Option<f64>| match (p, holm) {
        (Some(p), Some(h)) => format!("p = {}, Holm p = {}", fmt_p(p), fmt_p(h)),
        _ => "not run".to_string(),
    };
    for (model, m) in &g.models {
        for (dim, d) in &m.dimensions {
            out.push(Line {
                status: d.status,
                model: model.clone(),
                check: format!(
                    "dimension `{dim}` mean{}",
                    if d.primary { " (primary)" } else { "" }
                ),
                baseline: opt(d.mean_baseline),
                candidate: opt(d.mean_candidate),
                change: d.mean_diff.map_or("–".into(), |x| signed(x, 3)),
                test: format!(
                    "one-sided paired t over {} items ({} lower, {} higher): {}",
                    d.n_pairs,
                    d.n_lower,
                    d.n_higher,
                    p_text(d.p, d.p_holm)
                ),
                why: d.why.clone(),
            });
        }
        for (rule, r) in &m.rules {
            let rate = |x: f64| format!("{:.1} %", 100.0 * x);
            out.push(Line {
                status: r.status,
                model: model.clone(),
                check: format!("rule `{rule}` pass rate"),
                baseline: rate(r.pass_rate_baseline),
                candidate: rate(r.pass_rate_candidate),
                change: format!("{} pp", signed(100.0 * r.mean_diff, 1)),
                test: format!(
                    "{} over {} units / {} items: {}",
                    match r.test {
                        "mcnemar" => "exact one-sided McNemar",
                        "sign-flip" => "exact sign-flip permutation",
                        _ => "one-sided t of item pass shares",
                    },
                    r.n_units,
                    r.n_items,
                    p_text(r.p, r.p_holm)
                ),
                why: r.why.clone(),
            });
        }
        let l = &m.latency;
        out.push(Line {
            status: l.status,
            model: model.clone(),
            check: "p90 total latency".into(),
            baseline: l.p90_baseline.map_or("–".into(), secs),
            candidate: l.p90_candidate.map_or("–".into(), secs),
            change: l
                .ratio
                .map_or("–".into(), |r| format!("{} %", signed(100.0 * (r - 1.0), 1))),
            test: format!(
                "ratio of nearest-rank p90s over {} units / {} items, bootstrap over items (B = {})",
                l.n_units,
                l.n_items,
                super::latency::RESAMPLES
            ),
            why: l.why.clone(),
        });
        let e = &m.errors;
        let pct = |x: Option<f64>| x.map_or("–".into(), |v| format!("{:.1} %", 100.0 * v));
        out.push(Line {
            status: e.status,
            model: model.clone(),
            check: "failed requests".into(),
            baseline: pct(e.error_rate_baseline),
            candidate: pct(e.error_rate_candidate),
            change: format!("+{} / −{}", e.new_errors, e.fixed_errors),
            test: format!(
                "budget {:.1} %; exact one-sided McNemar of new vs fixed errors over {} units",
                100.0 * e.max_error_rate,
                e.n_units
            ),
            why: e.why.clone(),
        });
        let c = &m.cached;
        out.push(Line {
            status: c.status,
            model: model.clone(),
            check: "cached answers".into(),
            baseline: c.n_cached_baseline.to_string(),
            candidate: c.n_cached_candidate.to_string(),
            change: String::new(),
            test: "answers served from the response cache on the shared units".into(),
            why: c.why.clone(),
        });
    }
    // Failures first, then warnings, passes, untested; stable within each.
    out.sort_by_key(|l| l.status);
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A number to three decimals.
pub fn num(x: f64) -> String {
    format!("{x:.3}")
}

/// A signed number, −0.000 shown as 0.000 (no direction).
pub fn signed(x: f64, decimals: usize) -> String {
    let s = format!("{:+.*}", decimals, x);
    if s.trim_start_matches(['+', '-'])
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches(['+', '-']).to_string()
    } else {
        s.replace('-', "−")
    }
}

/// A p-value: three decimals, or scientific below 0.001.
pub fn fmt_p(p: f64) -> String {
    if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

fn secs(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}
