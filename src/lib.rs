//! evalrun: run an eval set through LLM endpoints under their rate limits, score the answers by rule
//! checks and a judge model, compare models with honest statistics, and write a run directory.
//!
//! The modules follow the data: `inputs` → `provider` → `runner` → `score` → `stats` → `report`, with
//! `records` (the JSONL vocabulary) at the bottom and `sim` (the endpoint simulator) standing apart.

#![warn(missing_docs)]
pub mod check;
// clap turns `///` comments into the user-visible `--help`; the argument structs are documented
// there, field by field, not as items.
#[allow(missing_docs)]
pub mod cli;
pub mod commands;
pub mod diff;
pub mod display;
pub mod error;
pub mod gate;
pub mod history;
pub mod inputs;
pub mod manifest;
pub mod plan;
pub mod provider;
pub mod records;
pub mod report;
pub mod review;
pub mod runner;
pub mod score;
pub mod sim;
pub mod stats;
