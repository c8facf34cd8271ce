//! `evalrun check`: validate configuration, eval set and rubric without sending a request, and print
//! the eval set's make-up (seed 002's data-quality advice). Exit 2 on errors, 0 with warnings.

use anyhow::Result;

use crate::cli::CheckArgs;
use crate::commands::run::{input_path, load_inputs};
use crate::error::{exit, UsageError};
use crate::inputs::config::Config;
use crate::inputs::{evalset, makeup};

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
    let from_config = |flag: Option<&std::path::PathBuf>,
                       pick: fn(&Config) -> Option<&std::path::PathBuf>,
                       what: &str| {
        match (&config, flag) {
            (_, Some(p)) => Ok(Some(p.clone())),
            (Some(c), None) => input_path(None, pick(c), c, what).map(Some),
            (None, None) => Ok(None),
        }
    };
    let evalset_path = from_config(args.evalset.as_ref(), |c| c.run.evalset.as_ref(), "evalset")?
        .ok_or_else(|| {
        UsageError::new("no eval set: pass --evalset FILE (or --config with [run].evalset)")
    })?;
    let rubric_path = from_config(args.rubric.as_ref(), |c| c.run.rubric.as_ref(), "rubric")?;

    let (items, target) = match &rubric_path {
        Some(r) => {
            let inputs = load_inputs(&evalset_path, r)?;
            println!(
                "rubric   {}: ok ({} dimensions, {} rules)",
                r.display(),
                inputs.rubric.dimensions.len(),
                inputs.rubric.rules.len()
            );
            (inputs.items, inputs.rubric.target_categories.clone())
        }
        None => {
            let items = evalset::load(&evalset_path)?;
            if items.iter().any(|i| i.vars.is_some()) {
                return Err(UsageError::new(format!(
                    "{}: items use `vars`, which render through a rubric's template: pass --rubric FILE",
                    evalset_path.display()
                ))
                .into());
            }
            (items, None)
        }
    };
    println!(
        "evalset  {}: {} items\n",
        evalset_path.display(),
        items.len()
    );
    let m = makeup::analyze(&items, target.as_ref());
    print!("{m}");
    Ok(if m.problems().is_empty() {
        exit::SUCCESS
    } else {
        exit::USAGE
    })
}
