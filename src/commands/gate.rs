//! `evalrun gate --baseline A --candidate B`: the regression gate of SPEC §7 / STATS.md §7. This adapter
//! turns the flags into [`gate::Params`], reads both runs, and prints and writes the verdict; the
//! comparison itself lives in `crate::gate`.

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::GateArgs;
use crate::diff::{self, Format};
use crate::error::{exit, UsageError};
use crate::gate::{self, inputs, judge_drift, junit, render_json, render_md, Run};
use crate::plan::gate::gate_params;

/// `evalrun gate`: exit 1 on a failing check, 0 otherwise; 2 when the runs cannot be compared.
pub fn run(args: &GateArgs) -> Result<u8> {
    let params = gate_params(args)?;
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
    gate::dimensions::check_named(&base, &cand, &params).map_err(UsageError::new)?;
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
