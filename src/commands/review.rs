//! `evalrun review export RUN` / `evalrun review import RUN FILE…`: blind review sheets and their import
//! (the work is in `crate::review`).

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::Result;

use crate::cli::{ReviewAction, ReviewArgs};
use crate::error::{exit, BadInput};
use crate::manifest::Manifest;
use crate::records::files;
use crate::report::derive;
use crate::review::{self, ExportOptions};
use crate::runner::lock::RunLock;

/// Export a sheet or import filled ones, as `args` says; print what was written.
pub fn run(args: &ReviewArgs) -> Result<u8> {
    let mut out = String::new();
    match &args.action {
        ReviewAction::Export(a) => {
            let manifest = Manifest::read(&a.dir).map_err(BadInput)?;
            let rubric = review::run_rubric(&a.dir, &manifest, a.rubric.as_deref())?;
            let done = review::export(
                &a.dir,
                &manifest,
                &rubric,
                &ExportOptions {
                    dimensions: a.dimensions.clone(),
                    pairwise: a.pairwise,
                    sample: a.sample,
                    seed: a.seed,
                    out: a.out.clone(),
                },
            )?;
            let _ = writeln!(
                out,
                "sheet {}: {} {} of {}\n  {}\n  {}\nkey (keep it from the raters): {}",
                done.sheet,
                done.rows,
                if a.pairwise { "pairs" } else { "answers" },
                done.available,
                done.csv.display(),
                done.html.display(),
                done.key.display()
            );
        }
        ReviewAction::Import(a) => {
            let manifest = Manifest::read(&a.dir).map_err(BadInput)?;
            let _lock = RunLock::acquire(&a.dir)?;
            let done = review::import::import(&a.dir, &a.files, a.rater.as_deref())?;
            for s in &done.sheets {
                let _ = writeln!(
                    out,
                    "{}: sheet {}, rater {}: {} scores, {} cells left empty",
                    s.file.display(),
                    s.sheet,
                    s.rater,
                    s.scores,
                    s.blank
                );
            }
            let _ = writeln!(
                out,
                "{}: {} new, {} changed, {} unchanged",
                a.dir.join(files::HUMAN).display(),
                done.added,
                done.changed,
                done.unchanged
            );
            // The report shows people beside the judge at once.
            derive::write_reports(&a.dir, &manifest, None)?;
            let _ = writeln!(out, "report: {}", a.dir.join(files::REPORT_MD).display());
        }
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(exit::SUCCESS)
}
