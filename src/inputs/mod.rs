//! What a run reads before it sends anything: configuration, eval set, rubric. Every problem is found
//! here and reported as `FILE:LINE: …` (exit 2).

pub mod config;
pub mod evalset;
pub mod item;
pub mod persona;
pub mod rubric;
pub mod secret;

/// `evalrun check`'s analysis moved to [`crate::check`]; kept at its old path.
pub use crate::check as makeup;
