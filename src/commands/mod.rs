//! One module per command; `dispatch` runs the parsed command and returns its exit code.

pub mod calibrate;
pub mod check;
pub mod demo;
pub mod diff;
pub mod gate;
pub mod history;
pub mod judge_check;
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
        Command::Run(args) => {
            client_runtime()?.block_on(run::run(&args, &process_env, command_line))
        }
        Command::Demo(args) => server_runtime()?.block_on(demo::run(args, command_line)),
        Command::Sim(args) => {
            server_runtime()?.block_on(crate::sim::run_foreground(args))?;
            Ok(exit::SUCCESS)
        }
        Command::Report(args) => {
            print!("{}", report::run(&args)?);
            Ok(exit::SUCCESS)
        }
        Command::Rescore(args) => {
            client_runtime()?.block_on(rescore::run(args, &process_env, command_line))
        }
        Command::JudgeCheck(args) => {
            client_runtime()?.block_on(judge_check::run(args, &process_env, command_line))
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

/// The runtime of a command that only calls endpoints (`run`, `rescore`, `judge-check`): one thread.
/// Such a command waits on the network almost all the time (a rules-only run at full speed against
/// `evalrun sim --time-scale 0` uses about half a core), so a second worker buys no throughput, while
/// handing every stream event between two workers costs wake-ups and context switches: on the 2-core
/// bench machine one thread takes 10–28 % off the CPU per request and about 90 % of the context
/// switches (README, Performance). Records are written by the store's own thread either way.
fn client_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// The runtime of a command that serves (`sim`, and `demo`, which runs the simulator in-process next to
/// its client): a worker per core, so the simulator's timing does not wait on the client's work.
fn server_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
