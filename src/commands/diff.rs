//! `evalrun diff RUN_A RUN_B`: reads both runs, refuses runs of other inputs, and writes what changed
//! item by item as markdown, HTML or JSON; the comparison lives in `crate::diff`.

use anyhow::Result;

use crate::cli::DiffArgs;
use crate::diff::{self, inputs, read, Format};
use crate::error::{exit, UsageError};

/// `evalrun diff`: exit 0 when the diff was written, 2 when the runs cannot be compared.
pub fn run(args: &DiffArgs) -> Result<u8> {
    let format = Format::parse(&args.format).ok_or_else(|| {
        UsageError::new(format!(
            "--format {}: expected md, html or json",
            args.format
        ))
    })?;
    let a = read::run(&args.a)?;
    let b = read::run(&args.b)?;
    let notes = inputs::check(&a, &b, args.allow_changed)?;
    let d = diff::compare(&a, &b, notes);
    if d.models.is_empty() {
        return Err(UsageError::new(format!(
            "no model is in both runs ({} and {})",
            args.a.display(),
            args.b.display()
        ))
        .into());
    }
    let text = diff::render(&d, format, &args.a, &args.b, args.top)?;
    match &args.out {
        Some(path) => {
            super::write_file(path, &text)?;
            eprintln!(
                "wrote {} ({} changed (model, item) of {} items)",
                path.display(),
                d.changes.len(),
                d.n_items
            );
        }
        None => print!("{text}"),
    }
    Ok(exit::SUCCESS)
}
