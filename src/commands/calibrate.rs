//! `evalrun calibrate RUN`: per dimension, whether the judge agrees with people's scores
//! (`review::calibrate` words the verdict from `stats::human`).

use std::io::Write as _;

use anyhow::Result;

use crate::cli::CalibrateArgs;
use crate::error::{exit, BadInput, UsageError};
use crate::manifest::Manifest;
use crate::records::files;
use crate::review::calibrate::{render, DimensionRef};
use crate::stats::human;

/// Print the verdict for the run of `args`; exit 0, or a usage error without `human.jsonl`.
pub fn run(args: &CalibrateArgs) -> Result<u8> {
    let manifest = Manifest::read(&args.dir).map_err(BadInput)?;
    let Some(h) = human::summarize_dir(&args.dir)? else {
        return Err(UsageError::new(format!(
            "{}: no {} — export a sheet (`evalrun review export {}`), have people fill it, and import it \
             (`evalrun review import {} FILE`)",
            args.dir.display(),
            files::HUMAN,
            args.dir.display(),
            args.dir.display()
        ))
        .into());
    };
    let dims: Vec<DimensionRef> = manifest
        .dimensions
        .iter()
        .map(|d| DimensionRef {
            id: &d.id,
            name: &d.name,
            scale: (d.scale.0 as f64, d.scale.1 as f64),
        })
        .collect();
    let text = render(&args.dir.display().to_string(), &h, &dims);
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(exit::SUCCESS)
}
