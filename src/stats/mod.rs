//! Statistics of STATS.md, computed from the run records.

pub mod summary;
