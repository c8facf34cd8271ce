//! One module per command; `dispatch` runs the parsed command and returns its exit code.

pub mod check;
pub mod demo;
pub mod diff;
pub mod gate;
pub mod judge_check;
pub mod merge;
pub mod models;
pub mod plan;
pub mod report;
pub mod rescore;
pub mod run;

use anyhow::Result;

use crate::cli::Command;
use crate::error::exit;

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
        Command::JudgeCheck(args) => {
            runtime()?.block_on(judge_check::run(args, &process_env, command_line))
        }
        Command::Check(args) => check::run(&args),
        Command::Models(args) => {
            print!("{}", models::run(&args, &process_env)?);
            Ok(exit::SUCCESS)
        }
        Command::Gate(args) => gate::run(&args),
        Command::Merge(args) => merge::run(&args, command_line),
        Command::Diff(args) => diff::run(&args),
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
