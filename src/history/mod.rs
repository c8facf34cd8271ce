//! `evalrun history`: a run's headline figures appended to a history file, one JSON line per run
//! (schema `evalrun-history/1`), and the trend over the runs with a sustained drift flagged.
//!
//! [`entry`] makes a line from a run directory's `manifest.json` and `summary.json`, [`db`] appends it
//! under a file lock and reads the file back (a bad line is an error naming file and line),
//! [`drift`] is the drift rule (pure), and `render` / `svg` write the trend tables and chart.

pub mod db;
pub mod drift;
pub mod entry;
pub mod render;
pub mod svg;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Schema name of a history line.
pub const SCHEMA: &str = "evalrun-history/1";

/// One line of the history file: one run's headline figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The run's id (`manifest.json`).
    pub run_id: String,
    /// When the run started (UTC, RFC 3339): the order of the trend.
    pub started_utc: String,
    /// When the line was added (UTC).
    pub added_utc: String,
    /// The commit the run measured: `--commit`, else `manifest.json`'s `commit`, else null.
    #[serde(default)]
    pub commit: Option<String>,
    /// The judge model, or null for a rules-only run.
    #[serde(default)]
    pub judge: Option<String>,
    /// SHA-256 of the eval set.
    pub evalset_sha256: String,
    /// SHA-256 of the rubric.
    pub rubric_sha256: String,
    /// Items the run covered.
    pub n_items: usize,
    /// Per model.
    pub models: BTreeMap<String, ModelLine>,
}

/// One model's figures in one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelLine {
    /// Per rubric dimension.
    pub dimensions: BTreeMap<String, DimLine>,
    /// Rule → pass rate (0–1).
    #[serde(default)]
    pub rules: BTreeMap<String, f64>,
    /// p50 total latency (ms).
    #[serde(default)]
    pub latency_p50_ms: Option<f64>,
    /// p90 total latency (ms).
    #[serde(default)]
    pub latency_p90_ms: Option<f64>,
    /// Cost per item, in `currency`.
    #[serde(default)]
    pub cost_per_item: Option<f64>,
    /// Currency of the cost.
    #[serde(default)]
    pub currency: Option<String>,
    /// Share of requests that failed.
    #[serde(default)]
    pub error_rate: Option<f64>,
}

/// One dimension of one model in one run (STATS §4.1 names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DimLine {
    /// Mean item score.
    pub mean: Option<f64>,
    /// Lower end of the 95 % interval.
    #[serde(default)]
    pub ci95_low: Option<f64>,
    /// Upper end of the 95 % interval.
    #[serde(default)]
    pub ci95_high: Option<f64>,
    /// Standard error of the mean.
    #[serde(default)]
    pub se: Option<f64>,
    /// Items scored.
    pub n: usize,
    /// The dimension's scale `[min, max]`, when known.
    #[serde(default)]
    pub scale: Option<(i64, i64)>,
}

/// The entries in trend order: by start time, ties in file order.
pub fn in_order(mut entries: Vec<Entry>) -> Vec<Entry> {
    entries.sort_by(|a, b| a.started_utc.cmp(&b.started_utc));
    entries
}

/// Index of the release baseline: the run whose id (or start time) is `run_id`, else the first run.
/// An id that several runs share (a fixed `--out`) must be given as the start time.
pub fn baseline_index(entries: &[Entry], run_id: Option<&str>) -> Result<usize, String> {
    let Some(id) = run_id else {
        return if entries.is_empty() {
            Err("the history has no run".into())
        } else {
            Ok(0)
        };
    };
    let hits: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].run_id == id || entries[i].started_utc == id)
        .collect();
    match hits[..] {
        [i] => Ok(i),
        [] => {
            let known: Vec<&str> = entries.iter().map(|e| e.run_id.as_str()).collect();
            Err(format!(
                "--baseline {id}: no such run in the history (runs: {})",
                known.join(", ")
            ))
        }
        _ => {
            let times: Vec<&str> = hits
                .iter()
                .map(|&i| entries[i].started_utc.as_str())
                .collect();
            Err(format!(
                "--baseline {id}: {} runs have this id; give the start time of one ({})",
                hits.len(),
                times.join(", ")
            ))
        }
    }
}
