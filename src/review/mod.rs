//! Blind human review (SPEC §1 `evalrun review`): sheets people fill in, and their import.
//!
//! `export` draws rows from a run directory — every successful answer of sample 0, or a stratified
//! subset (`--sample N`, by model and category) — and writes them as a CSV sheet and an offline HTML
//! page, with model names replaced by labels shuffled per item (`sample`). The unblinding key stays in
//! the run directory (`sheet`). `import` validates filled sheets against their key and stores the scores
//! in `human.jsonl`. The agreement statistics are `stats::human`; `calibrate` words them as a verdict.

pub mod calibrate;
pub mod export;
mod html;
pub mod import;
pub mod sample;
pub mod sheet;

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::error::UsageError;
use crate::inputs::rubric::{self, Rubric};
use crate::manifest::Manifest;

pub use export::{export, ExportOptions, Exported};

/// The run's rubric: `given`, else the path the manifest records, else the copy in `RUN/inputs/` (where
/// `evalrun demo` keeps its inputs).
pub fn run_rubric(dir: &Path, manifest: &Manifest, given: Option<&Path>) -> Result<Rubric> {
    let recorded = PathBuf::from(&manifest.rubric.path);
    let candidates: Vec<PathBuf> = match given {
        Some(p) => vec![p.to_path_buf()],
        None => {
            let mut v = vec![recorded.clone()];
            if let Some(name) = recorded.file_name() {
                v.push(dir.join("inputs").join(name));
            }
            v
        }
    };
    match candidates.iter().find(|p| p.is_file()) {
        Some(p) => Ok(rubric::load(p)?),
        None => Err(UsageError::new(format!(
            "rubric {} (from {}) not found; pass --rubric F",
            candidates[0].display(),
            crate::records::files::MANIFEST
        ))
        .into()),
    }
}
