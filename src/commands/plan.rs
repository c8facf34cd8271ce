//! `evalrun plan --from RUN [--effect δ]`: items (and samples per item) needed to detect δ on each
//! dimension, from a previous run's paired differences (STATS §8). Sends nothing.

use std::fmt::Write as _;

use anyhow::Result;

use crate::cli::PlanArgs;
use crate::error::{BadInput, UsageError};
use crate::manifest::Manifest;
use crate::report::derive::stats_config;
use crate::stats::power;
use crate::stats::summarize_dir;

/// `evalrun plan`: items (and samples) needed per dimension, from a previous run's variance.
pub fn run(args: &PlanArgs) -> Result<String> {
    if !(args.effect.is_finite() && args.effect > 0.0) {
        return Err(UsageError::new(format!("--effect must be > 0, got {}", args.effect)).into());
    }
    if args.samples.contains(&0) {
        return Err(UsageError::new("--samples: every value must be at least 1").into());
    }
    let manifest = Manifest::read(&args.from).map_err(BadInput)?;
    let summary = summarize_dir(&stats_config(&manifest), &args.from)?;
    let rows = power::plan(&summary, args.effect, &args.samples, manifest.samples);
    let mut out = String::new();
    let baseline = summary
        .params
        .references
        .baseline
        .clone()
        .unwrap_or_default();
    writeln!(
        out,
        "Items needed to detect a difference of {} against the baseline {baseline} (two-sided, α = {} \
         Holm-adjusted within each candidate's dimensions, 80 % power), from the variance of {} \
         ({} items, {} sample(s) per item):",
        args.effect,
        summary.params.alpha,
        args.from.display(),
        manifest.items,
        manifest.samples
    )?;
    if rows.is_empty() {
        writeln!(
            out,
            "  none: that run has no paired comparison with its baseline (one model, or no scored dimension)."
        )?;
        return Ok(out);
    }
    let mut dims: Vec<&str> = rows.iter().map(|r| r.dimension.as_str()).collect();
    dims.dedup();
    dims.sort_unstable();
    dims.dedup();
    for dim in dims {
        let of_dim: Vec<&power::PlanRow> = rows.iter().filter(|r| r.dimension == dim).collect();
        let cells: Vec<String> = args
            .samples
            .iter()
            .map(|k| {
                // The plan must suffice for every candidate: the largest need.
                let worst = of_dim
                    .iter()
                    .map(|r| {
                        r.needed
                            .iter()
                            .find(|(kk, _)| kk == k)
                            .and_then(|(_, n)| *n)
                    })
                    .try_fold(0u64, |acc, n| n.map(|n| acc.max(n)));
                match worst {
                    Some(n) => format!(
                        "{n} items × {k} sample(s) = {} generations per model",
                        n * *k as u64
                    ),
                    None => format!("× {k} sample(s): not estimable from this run"),
                }
            })
            .collect();
        writeln!(out, "- {dim}: {}", cells.join("; "))?;
        for r in &of_dim {
            let sd = r
                .sd_diff
                .map(|s| format!("{s:.3}"))
                .unwrap_or_else(|| "–".into());
            let first = r.needed.first().and_then(|(_, n)| *n);
            writeln!(
                out,
                "    {}: sd of differences {sd}, {} tests in its family{}",
                r.candidate,
                r.m_family,
                first
                    .map(|n| format!(", {n} items at {} sample(s)", r.needed[0].0))
                    .unwrap_or_default()
            )?;
        }
    }
    writeln!(
        out,
        "Samples per item beyond the first only help when the judge's own spread (var_within) is large: \
         per generation, items buy more power than samples (STATS §8). Run with --samples 2 or more once \
         to split the variance."
    )?;
    Ok(out)
}
