//! The `evalrun` binary: parse, dispatch, and turn errors into the exit codes of SPEC §1.

use std::process::ExitCode;

use clap::Parser;

use evalrun::cli::Cli;
use evalrun::error::{exit, is_usage};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command_line = command_line();
    match evalrun::commands::dispatch(cli.into_command(), command_line) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::from(exit::SUCCESS);
            }
            eprintln!("evalrun: {err:#}");
            ExitCode::from(if is_usage(&err) {
                exit::USAGE
            } else {
                exit::FAILURE
            })
        }
    }
}

/// The command line as typed, for the manifest and report header. Arguments are flags, names and
/// paths — evalrun takes no secret on its command line.
fn command_line() -> String {
    let mut args = std::env::args();
    let mut parts = vec!["evalrun".to_string()];
    args.next();
    for a in args {
        if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$`\\".contains(c)) {
            parts.push(format!("'{}'", a.replace('\'', "'\\''")));
        } else {
            parts.push(a);
        }
    }
    parts.join(" ")
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
