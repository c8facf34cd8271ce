//! `evalrun check`: validate configuration, eval set and rubric without sending a request, and print
//! the eval set's make-up (seed 002's data-quality advice). Exit 2 on errors, 0 with warnings.
//!
//! The eval set is read leniently, so one `check` names every bad line, not just the first. With a
//! rubric, every item is also checked the way a run would use it: its `vars` must render through the
//! rubric's template, and a `length_range` rule must be able to read its `meta.length`.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::check::{self, rubric_findings};
use crate::cli::CheckArgs;
use crate::error::{exit, UsageError};
use crate::inputs::config::Config;
use crate::inputs::evalset;
use crate::inputs::rubric;
use crate::plan::input_path;

/// `evalrun check`: analyses the inputs and prints the findings; exit 1 when any is an error.
pub fn run(args: &CheckArgs) -> Result<u8> {
    // The configuration is checked when given or present; it also supplies default paths.
    let config = if args.config.exists() {
        let c = Config::load(&args.config)?;
        println!(
            "config   {}: ok ({} models)",
            args.config.display(),
            c.models.len()
        );
        Some(c)
    } else {
        None
    };
    let from_config = |flag: Option<&PathBuf>,
                       pick: fn(&Config) -> Option<&PathBuf>,
                       what: &str| match (&config, flag) {
        (_, Some(p)) => Ok(Some(p.clone())),
        (Some(c), None) => input_path(None, pick(c), c, what).map(Some),
        (None, None) => Ok(None),
    };
    let evalset_path = from_config(args.evalset.as_ref(), |c| c.run.evalset.as_ref(), "evalset")?
        .ok_or_else(|| {
        UsageError::new("no eval set: pass --evalset FILE (or --config with [run].evalset)")
    })?;
    let rubric_path = from_config(args.rubric.as_ref(), |c| c.run.rubric.as_ref(), "rubric")?;

    let rubric = match &rubric_path {
        Some(r) => {
            let rubric = rubric::load(r)?;
            println!(
                "rubric   {}: ok ({}, {})",
                r.display(),
                count(rubric.dimensions.len(), "dimension"),
                count(rubric.rules.len(), "rule")
            );
            Some(rubric)
        }
        None => None,
    };
    let text = std::fs::read_to_string(&evalset_path)
        .map_err(|e| UsageError::in_file(&evalset_path, format!("cannot read eval set: {e}")))?;
    let parsed = evalset::parse_lenient(&text);
    if rubric.is_none() && parsed.items.iter().any(|i| i.vars.is_some()) {
        return Err(UsageError::new(format!(
            "{}: items use `vars`, which render through a rubric's template: pass --rubric FILE",
            evalset_path.display()
        ))
        .into());
    }
    let target = rubric.as_ref().and_then(|r| r.target_categories.as_ref());
    let mut m = check::analyze_parsed(&parsed, target);
    if let Some(rubric) = &rubric {
        rubric_findings(rubric, &parsed.items, &mut m);
    }
    println!("evalset  {}: {} items\n", evalset_path.display(), m.items);
    print!("{m}");
    Ok(if m.problems().is_empty() {
        exit::SUCCESS
    } else {
        eprintln!("{}", problems_summary(&evalset_path, m.problems().len()));
        exit::USAGE
    })
}

/// `1 rule`, `13 rules`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn problems_summary(path: &Path, n: usize) -> String {
    format!(
        "evalrun: {}: {} (listed above with their lines); fix them before a run",
        path.display(),
        count(n, "problem")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_problems() {
        assert_eq!(
            problems_summary(Path::new("set.jsonl"), 1),
            "evalrun: set.jsonl: 1 problem (listed above with their lines); fix them before a run"
        );
        assert!(problems_summary(Path::new("s"), 4).contains("4 problems"));
    }
}
