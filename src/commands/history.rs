//! `evalrun history add RUN --db F` and `evalrun history show --db F`: the adapter between the flags
//! and `crate::history` (the line, the file, the drift rule, the tables and the chart).

use anyhow::Result;

use crate::cli::{HistoryAction, HistoryAddArgs, HistoryArgs, HistoryShowArgs};
use crate::error::{exit, UsageError};
use crate::history::{self, db, drift, entry, render, svg};

/// `evalrun history …`: exit 0, or 1 for a drift under `--fail-on-drift`; 2 on bad input.
pub fn run(args: &HistoryArgs) -> Result<u8> {
    match &args.action {
        HistoryAction::Add(a) => add(a),
        HistoryAction::Show(a) => show(a),
    }
}

fn add(a: &HistoryAddArgs) -> Result<u8> {
    let e = entry::of_run(&a.dir, a.commit.as_deref())?;
    db::append(&a.db, &e)?;
    eprintln!(
        "added run {} ({} models) to {}",
        e.run_id,
        e.models.len(),
        a.db.display()
    );
    Ok(exit::SUCCESS)
}

fn show(a: &HistoryShowArgs) -> Result<u8> {
    let json = match a.format.trim() {
        "md" => false,
        "json" => true,
        f => return Err(UsageError::new(format!("--format {f}: expected md or json")).into()),
    };
    if a.k < 2
        || !(a.alpha > 0.0 && a.alpha < 1.0)
        || a.tolerance.is_some_and(|t| t.is_nan() || t < 0.0)
    {
        return Err(UsageError::new("--k must be ≥ 2, --alpha in (0, 1), --tolerance ≥ 0").into());
    }
    let entries = history::in_order(db::read(&a.db)?);
    let baseline =
        history::baseline_index(&entries, a.baseline.as_deref()).map_err(UsageError::new)?;
    let params = drift::Params {
        k: a.k,
        alpha: a.alpha,
        tolerance: a.tolerance,
    };
    let rows = drift::assess(&entries, baseline, &params);
    let s = render::Show {
        db: &a.db,
        entries: &entries,
        baseline,
        params: &params,
        drift: &rows,
    };
    let text = if json {
        render::json(&s)?
    } else {
        render::markdown(&s)
    };
    match &a.out {
        Some(p) => super::write_file(p, &text)?,
        None => print!("{text}"),
    }
    if let Some(p) = &a.svg {
        super::write_file(p, &svg::render(&s)?)?;
    }
    Ok(if a.fail_on_drift && s.n_drift() > 0 {
        exit::FAILURE
    } else {
        exit::SUCCESS
    })
}
