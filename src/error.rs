//! Errors a user acts on. A `UsageError` means bad usage, input or configuration (exit 2); its message
//! names the file, line and field at fault. Everything else that stops a command is exit 1 or, when the
//! command itself reports a failure (gate regression, a model that never answered), an explicit outcome.

use std::fmt::Display;
use std::path::Path;

/// Bad usage, input or configuration: exit code 2, before any request is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl UsageError {
    /// A usage error with `msg` as its text.
    pub fn new(msg: impl Display) -> Self {
        UsageError(msg.to_string())
    }

    /// `FILE:LINE: what is wrong` — the shape SPEC §3 asks for.
    pub fn at(path: &Path, line: usize, msg: impl Display) -> Self {
        UsageError(format!("{}:{}: {}", path.display(), line, msg))
    }

    /// `FILE: what is wrong`, for problems that have no single line.
    pub fn in_file(path: &Path, msg: impl Display) -> Self {
        UsageError(format!("{}: {}", path.display(), msg))
    }
}

/// Bad input whose cause is an error chain of its own (a manifest that cannot be read, an input file
/// that cannot be hashed, a client that cannot be built from the configuration): exit code 2, and the
/// chain is kept, so the message users see is the chain's (`evalrun: CONTEXT: CAUSE`).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BadInput(#[from] pub anyhow::Error);

/// Why a run cannot be planned (`crate::plan`): every variant is bad input (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A flag, file or field at fault, named in the message.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// An input that could not be read, with its cause.
    #[error(transparent)]
    Input(#[from] BadInput),
}

/// Whether an error is bad usage, input or configuration (exit 2): a [`UsageError`] or a [`BadInput`]
/// anywhere in its chain.
pub fn is_usage(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|e| e.is::<UsageError>() || e.is::<BadInput>() || e.is::<PlanError>())
}

/// Exit codes shared by every command (SPEC §1).
pub mod exit {
    /// Success.
    pub const SUCCESS: u8 = 0;
    /// Failure (SPEC §1).
    pub const FAILURE: u8 = 1;
    /// Bad usage or bad input.
    pub const USAGE: u8 = 2;
    /// Interrupted by Ctrl-C.
    pub const INTERRUPTED: u8 = 130;
}
