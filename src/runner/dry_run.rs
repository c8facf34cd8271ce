//! `--dry-run`: what a plan would send, estimated with the runner's own arithmetic; nothing is sent.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::BadInput;
use crate::manifest::Manifest;
use crate::plan::Plan;
use crate::report::derive::stats_config;
use crate::runner::limits::{estimate_tokens, min_wall_time, Binding, Prices, DEFAULT_MAX_OUTPUT};
use crate::stats::power::planned_mde;
use crate::stats::summarize_dir;

/// `--dry-run`: per model, the requests, estimated tokens, the cost bound and the shortest wall time
/// the limits allow — the same estimate and bucket arithmetic the runner uses. Sends nothing.
pub fn dry_run_report(plan: &Plan) -> String {
    let prompt_tokens: u64 = plan
        .items
        .iter()
        .map(|it| {
            let texts: Vec<&str> = it
                .system
                .as_deref()
                .into_iter()
                .chain(it.messages.iter().map(|m| m.content.as_str()))
                .collect();
            estimate_tokens(&texts, 0)
        })
        .sum::<u64>()
        * plan.samples as u64;
    let requests = plan.items.len() as u64 * plan.samples as u64;
    let mut out = String::from("dry run: nothing was sent.\n\n");
    out.push_str(&format!(
        "{:<24} {:>8} {:>13} {:>13} {:>18}  {}\n",
        "model", "requests", "input tokens", "output (max)", "cost (at most)", "min wall time"
    ));
    let mut totals: std::collections::BTreeMap<String, f64> = Default::default();
    let mut unpriced = Vec::new();
    let mut longest = std::time::Duration::ZERO;
    for m in &plan.models {
        let c = &m.config;
        let output = c.max_output_tokens().unwrap_or(DEFAULT_MAX_OUTPUT) * requests;
        let currency = c.currency.clone().unwrap_or_default();
        let cost = match (c.price_input_per_1k, c.price_output_per_1k) {
            (Some(i), Some(o)) => {
                let cost = Prices {
                    input_per_1k: i,
                    output_per_1k: o,
                }
                .cost(prompt_tokens, output);
                *totals.entry(currency.clone()).or_default() += cost;
                format!("{cost:.4} {currency}").trim_end().to_string()
            }
            _ => {
                unpriced.push(m.name.as_str());
                "(no prices)".to_string()
            }
        };
        let (wall, by) = min_wall_time(requests, prompt_tokens + output, c.rps, c.tpm);
        longest = longest.max(wall);
        let why = match by {
            Some(Binding::Rps) => format!("rps {}", c.rps.unwrap_or_default()),
            Some(Binding::Tpm) => format!("tpm {}", c.tpm.unwrap_or_default()),
            None => "no rps/tpm limit".to_string(),
        };
        out.push_str(&format!(
            "{:<24} {:>8} {:>13} {:>13} {:>18}  {:.1} s ({why})\n",
            m.name,
            requests,
            prompt_tokens,
            output,
            cost,
            wall.as_secs_f64()
        ));
    }
    let spend: Vec<String> = totals
        .iter()
        .map(|(cur, v)| format!("{v:.4} {cur}").trim_end().to_string())
        .collect();
    out.push_str(&format!(
        "\ntotal: {} requests; cost at most {}{}; the limits allow the run in no less than {:.1} s.\n",
        requests * plan.models.len() as u64,
        if spend.is_empty() { "0".to_string() } else { spend.join(" + ") },
        if unpriced.is_empty() {
            String::new()
        } else {
            format!(" (without {}: no prices)", unpriced.join(", "))
        },
        longest.as_secs_f64()
    ));
    out.push_str(
        "Input tokens are estimated (one per Han/kana/hangul character, one per four other\n\
         characters); output is bounded by params.max_output_tokens / max_tokens (1024 when unset).\n\
         The tpm figure assumes every answer uses its whole output allowance: reported usage is\n\
         refunded while running, and a server's X-Ratelimit headers may lower the limits.\n",
    );
    out
}

/// `--dry-run --from DIR`: the smallest difference the planned run of `n_items` items could detect on
/// each dimension (80 % power, two-sided, Holm within each candidate's family as in `DIR`), from the
/// spread of `DIR`'s paired differences (STATS §8). The largest over the candidates, so the figure
/// holds for every comparison.
pub fn planned_mde_report(from: &Path, n_items: usize, samples: u32) -> anyhow::Result<String> {
    let manifest = Manifest::read(from).map_err(BadInput)?;
    let summary = summarize_dir(&stats_config(&manifest), from)?;
    let mut worst: BTreeMap<String, (f64, String)> = BTreeMap::new();
    for (dim, cand, mde) in planned_mde(&summary, n_items) {
        let e = worst.entry(dim).or_insert((0.0, String::new()));
        if mde > e.0 {
            *e = (mde, cand);
        }
    }
    let mut out = format!(
        "\nSmallest detectable difference of this run ({n_items} items; 80 % power, two-sided α = {}, \
         Holm within each candidate's dimensions), from the spread of {}:\n",
        summary.params.alpha,
        from.display()
    );
    if worst.is_empty() {
        out.push_str(
            "  not estimable: that run has no paired comparison with a spread (one model, no baseline, \
             or no scored dimension).\n",
        );
        return Ok(out);
    }
    for (dim, (mde, cand)) in &worst {
        out.push_str(&format!(
            "  {dim}: {mde:.3} (largest over the candidates: {cand})\n"
        ));
    }
    if samples != manifest.samples {
        out.push_str(&format!(
            "  The figures assume {} sample(s) per item, as in that run; `evalrun plan --from {}` \
             plans other sample counts.\n",
            manifest.samples,
            from.display()
        ));
    }
    Ok(out)
}
