//! `evalrun report DIR`: re-derive the summary and reports from a run directory's records alone.

use anyhow::Result;

use crate::cli::ReportArgs;
use crate::error::{BadInput, UsageError};
use crate::manifest::Manifest;
use crate::report::{derive, Format};

/// `evalrun report`: derives the reports of a run directory from its records.
pub fn run(args: &ReportArgs) -> Result<String> {
    let manifest = Manifest::read(&args.dir).map_err(BadInput)?;
    let formats: Vec<Format> = args
        .format
        .iter()
        .map(|f| {
            f.parse::<Format>()
                .map_err(|e| UsageError::new(format!("--format: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let (summary, ctx) = derive::write_reports(&args.dir, &manifest, Some(&formats))?;
    Ok(derive::stdout_summary(&args.dir, &summary, &ctx))
}
