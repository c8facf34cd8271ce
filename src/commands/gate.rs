//! `evalrun gate --baseline A --candidate B`: the regression gate of SPEC §7 / STATS.md §7. This adapter
//! turns the flags into [`gate::Params`], reads both runs, and prints and writes the verdict; the
//! comparison itself lives in `crate::gate`.

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::GateArgs;
use crate::diff::{self, Format};
use crate::error::{exit, UsageError};
use crate::gate::{self, inputs, judge_drift, junit, render_json, render_md, Params, Run};

/// The gate's settings from the flags; exit 2 on a value out of range.
fn params(args: &GateArgs) -> Result<Params, UsageError> {
    let mut p = Params {
        alpha: args.alpha,
        models: args.models.clone(),
        primary: args.primary.clone(),
        max_latency_increase: args.max_latency_increase,
        max_error_rate: args.max_error_rate,
        allow_cached: args.allow_cached,
        cluster: args.cluster.clone(),
        exact: args.exact,
        ..Params::default()
    };
    let number = |flag: &str, v: &str| -> Result<f64, UsageError> {
        match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
            _ => Err(UsageError::new(format!(
                "{flag} {v}: expected a number ≥ 0"
            ))),
        }
    };
    if let Some(x) = args.max_drop {
        eprintln!("warning: --max-drop is deprecated; use --tolerance {x}");
        p.tolerance = Some(number("--max-drop", &x.to_string())?);
    }
    for t in &args.tolerance {
        match t.split_once('=') {
            Some((d, x)) => {
                p.tolerance_by_dim
                    .insert(d.trim().to_string(), number("--tolerance", x)?);
            }
            None => p.tolerance = Some(number("--tolerance", t)?),
        }
    }
    for (flag, v, ok) in [
        ("--alpha", p.alpha, p.alpha > 0.0 && p.alpha <= 1.0),
        (
            "--max-latency-increase",
            p.max_latency_increase,
            p.max_latency_increase >= 0.0,
        ),
        (
            "--max-error-rate",
            p.max_error_rate,
            (0.0..=1.0).contains(&p.max_error_rate),
        ),
    ] {
        if !(v.is_finite() && ok) {
            return Err(UsageError::new(format!("{flag} {v}: out of range")));
        }
    }
    Ok(p)
}

/// `evalrun gate`: exit 1 on a failing check, 0 otherwise; 2 when the runs cannot be compared.
pub fn run(args: &GateArgs) -> Result<u8> {
    let params = params(args)?;
    let judge_check = args
        .judge_check
        .as_deref()
        .map(judge_drift::read)
        .transpose()?;
    let base = Run::read(&args.baseline, params.cluster.as_deref())?;
    let cand = Run::read(&args.candidate, params.cluster.as_deref())?;
    let notes = inputs::input_notes(&base.manifest, &cand.manifest, args.allow_changed)?;
    let models = gate::gated_models(&base, &cand, &params).map_err(UsageError::new)?;
    if models.is_empty() {
        return Err(UsageError::new(format!(
            "no model is in both runs (baseline: {}; candidate: {})",
            inputs::names(&base.manifest),
            inputs::names(&cand.manifest)
        ))
        .into());
    }
    let dims = gate::dimensions::dimension_scales(&base, &cand);
    for d in params.primary.iter().chain(params.tolerance_by_dim.keys()) {
        if !dims.contains_key(d) {
            let known: Vec<&str> = dims.keys().map(String::as_str).collect();
            return Err(UsageError::new(format!(
                "dimension `{d}` is not in the runs' rubric (known: {})",
                known.join(", ")
            ))
            .into());
        }
    }
    let g = gate::compare(&base, &cand, &params, &models);
    let (da, db) = (
        diff::read::run(&args.baseline)?,
        diff::read::run(&args.candidate)?,
    );
    let d = diff::compare(&da, &db, notes.clone());
    let mut text = render_md::render(&base, &cand, &g, &notes);
    if let (Some(c), Some(f)) = (&judge_check, &args.judge_check) {
        let note = judge_drift::gate_note(c, &g, &f.display().to_string());
        judge_drift::insert_under_headline(&mut text, &note);
    }
    let link = args
        .diff
        .as_deref()
        .map(|p| diff_link(p, args.out.as_deref()));
    text.push_str(&render_md::worst_flips(&d, &models, link.as_deref()));
    print!("{text}");
    if let Some(p) = &args.diff {
        let page = diff::render(
            &d,
            Format::of_path(p),
            &args.baseline,
            &args.candidate,
            None,
        )?;
        super::write_file(p, &page)?;
    }
    if let Some(out) = &args.out {
        super::write_file(out, &text)?;
    }
    if let Some(path) = &args.json {
        let json = render_json::render(&base, &cand, &g, &notes);
        super::write_file(path, &format!("{}\n", serde_json::to_string_pretty(&json)?))?;
    }
    if let Some(path) = &args.junit {
        super::write_file(path, &junit::render(&g, &cand.manifest.run_id)?)?;
    }
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|v| !v.is_empty()) {
        append(Path::new(&summary), &text)?;
    }
    Ok(if g.n_fail() > 0 {
        exit::FAILURE
    } else {
        exit::SUCCESS
    })
}

/// The diff file as the verdict links to it: its name when it lies beside `--out`, else as given.
fn diff_link(diff: &Path, out: Option<&Path>) -> String {
    let dir = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
    match (out, diff.file_name()) {
        (Some(o), Some(name)) if dir(o) == dir(diff) => name.to_string_lossy().into_owned(),
        _ => diff.display().to_string(),
    }
}

/// GitHub Actions' step summary is shared by every step of a job: append, never truncate.
fn append(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(format!("{text}\n").as_bytes()))
        .with_context(|| format!("could not append to GITHUB_STEP_SUMMARY {}", path.display()))
}
