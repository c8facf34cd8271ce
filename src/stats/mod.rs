//! Statistics of STATS.md, computed from the run records.
//!
//! The pure building blocks work on plain slices, one concept per file, each tested against values
//! worked out by hand or by scipy: [`describe`] (mean, sd, se), [`percentile`] (nearest rank for
//! latency, type 7 for bootstrap bounds), [`bootstrap`] (SplitMix64 and the percentile bootstrap of a
//! mean), [`wilcoxon`] (signed-rank test, Pratt zeros), [`binomial`] (exact sign test, Wilson interval),
//! [`holm`] (step-down adjustment) and [`mcnemar`] (exact test of paired pass/fail outcomes).
//! [`estimate`] is the one estimator of STATS v2 §2 (E(x), t-interval, t-test, Holm, MDE, items needed).
//! [`aggregate`] groups the records and fills [`Summary`];
//! [`fixture`] writes a synthetic run directory for tests of everything downstream.

pub mod aggregate;
pub mod binomial;
pub mod bootstrap;
pub mod describe;
pub mod estimate;
pub mod fixture;
pub mod holm;
pub mod human;
pub mod judge;
pub mod mcnemar;
pub mod panel;
pub mod percentile;
pub mod power;
pub mod summary;
pub mod wilcoxon;

pub use aggregate::{
    for_each_line, item_score, reread_lines, summarize, summarize_dir, summarize_dir_with, ItemIds,
    Line, LineVisitor, Prices, ResponseLine, ScoreLine, StatsConfig, SummaryBuilder,
};
pub use summary::Summary;

/// `schema` of `summary.json`.
pub const SCHEMA: &str = "evalrun-stats/2";
/// Bootstrap seed (STATS.md §5): every bootstrapped statistic starts a fresh generator with this state.
pub const SEED: u64 = 42;
/// Bootstrap resamples (STATS.md §5).
pub const RESAMPLES: usize = 2000;
/// Confidence level of every interval.
pub const CONFIDENCE: f64 = 0.95;
/// Significance level of the verdicts.
pub const ALPHA: f64 = 0.05;
/// Power of the minimum detectable effect.
pub const POWER: f64 = 0.8;
/// z = Φ⁻¹(0.975) (STATS.md §4).
pub const Z_975: f64 = 1.959963984540054;
/// z_β = Φ⁻¹(0.80) (STATS.md §4).
pub const Z_80: f64 = 0.8416212335729143;
