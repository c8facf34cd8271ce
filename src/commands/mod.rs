//! One module per command; `dispatch` runs the parsed command and returns its exit code.

pub mod calibrate;
pub mod check;
pub mod demo;
pub mod diff;
pub mod gate;
pub mod history;
pub mod merge;
pub mod models;
pub mod plan;
pub mod report;
pub mod rescore;
pub mod review;
pub mod run;

use anyhow::Result;

use crate::cli::Command;
use crate::error::exit;

/// Write `text` to `path`, creating its folder: the output files of `gate`, `diff` and `history`.
pub(crate) fn write_file(path: &std::path::Path, text: &str) -> Result<()> {
    use anyhow::Context;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("could not create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("could not write {}", path.display()))
}

/// The process environment, as commands read it (tests pass their own).
pub fn process_env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// Runs one subcommand and returns its exit code.
pub fn dispatch(command: Command, command_line: String) -> Result<u8> {
    match command {
        Command::Run(args) => runtime()?.block_on(run::run(&args, &process_env, command_line)),
        Command::Demo(args) => runtime()?.block_on(demo::run(args, command_line)),
        Command::Sim(args) => {
            runtime()?.block_on(crate::sim::run_foreground(args))?;
            Ok(exit::SUCCESS)
        }
        Command::Report(args) => {
            print!("{}", report::run(&args)?);
            Ok(exit::SUCCESS)
        }
        Command::Rescore(args) => {
            runtime()?.block_on(rescore::run(args, &process_env, command_line))
        }
        Command::Check(args) => check::run(&args),
        Command::Models(args) => {
            print!("{}", models::run(&args, &process_env)?);
            Ok(exit::SUCCESS)
        }
        Command::Gate(args) => gate::run(&args),
        Command::Merge(args) => merge::run(&args, command_line),
        Command::Review(args) => review::run(&args),
        Command::Calibrate(args) => calibrate::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::History(args) => history::run(&args),
        Command::Plan(args) => {
            print!("{}", plan::run(&args)?);
            Ok(exit::SUCCESS)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
