//! The shape of `summary.json` (STATS.md §6). Every statistic is computed in `stats`; every report format
//! renders from this one structure. Names are the external contract: add fields, never rename one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Always `"evalrun-stats/1"`.
    pub schema: String,
    pub params: Params,
    /// What the reader must know (e.g. "p99 with n < 100 is the maximum").
    pub warnings: Vec<String>,
    /// Per model, keyed by the model name of the configuration.
    pub models: BTreeMap<String, ModelStats>,
    /// Per candidate (every model but the baseline), per dimension.
    pub paired: BTreeMap<String, BTreeMap<String, PairedStats>>,
    /// Per candidate.
    pub gsb: BTreeMap<String, GsbStats>,
}

/// Methods used, so a reader can recompute (STATS.md §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub baseline: Option<String>,
    pub seed: u64,
    pub resamples: usize,
    pub confidence: f64,
    pub alpha: f64,
    pub power: f64,
    pub item_score: String,
    pub bootstrap: String,
    pub wilcoxon: WilcoxonParams,
    pub sign_test: String,
    pub holm_families: Vec<String>,
    pub percentiles: String,
    pub latency_population: String,
    pub mde: String,
    /// Non-inferiority margin on the rubric scale (SPEC §6, `--margin`).
    pub margin: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WilcoxonParams {
    pub zero_method: String,
    pub method: String,
    pub correction: bool,
    pub tie_correction: bool,
    pub diff_decimals: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelStats {
    pub dimensions: BTreeMap<String, DimensionStats>,
    pub rules: BTreeMap<String, RuleStats>,
    pub latency: LatencyStats,
    pub errors: ErrorStats,
    /// Token counts and cost of this model's answers (judge calls excluded).
    pub cost: CostStats,
    /// Output tokens per second over the latency population: Σ completion_tokens / Σ (total_ms − ttft_ms)
    /// seconds, null when undefined.
    pub output_tokens_per_s: Option<f64>,
}

/// STATS.md §4.1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionStats {
    pub n_items: usize,
    pub n_scores: usize,
    pub n_null: usize,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub se: Option<f64>,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
}

/// STATS.md §4.4.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleStats {
    pub n: usize,
    pub passed: usize,
    pub pass_rate: Option<f64>,
    pub wilson95_low: Option<f64>,
    pub wilson95_high: Option<f64>,
}

/// STATS.md §4.5.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyStats {
    pub ttft_ms: Distribution,
    pub total_ms: Distribution,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    pub n: usize,
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
}

/// STATS.md §4.5.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorStats {
    pub n_responses: usize,
    pub n_errors: usize,
    pub error_rate: Option<f64>,
    pub n_cached: usize,
    pub by_kind: BTreeMap<String, usize>,
}

/// Cost of one model's answers (SPEC §6). Prices come from the configuration (manifest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostStats {
    pub currency: Option<String>,
    /// The configured price per 1k prompt tokens, so that `total` can be recomputed from the records.
    pub price_input_per_1k: Option<f64>,
    /// The configured price per 1k completion tokens.
    pub price_output_per_1k: Option<f64>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Total cost; null when the model has no prices configured.
    pub total: Option<f64>,
    /// Cost per answered item (total / items with a response).
    pub per_item: Option<f64>,
    /// Cost per 1k tokens (prompt + completion), the blended rate.
    pub per_1k_tokens: Option<f64>,
}

/// STATS.md §4.2, plus the non-inferiority verdict of SPEC §6.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedStats {
    pub n_pairs: usize,
    pub mean_diff: Option<f64>,
    pub sd_diff: Option<f64>,
    pub se_diff: Option<f64>,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
    pub n_pos: usize,
    pub n_neg: usize,
    pub n_zero: usize,
    pub wilcoxon_r_plus: Option<f64>,
    pub wilcoxon_z: Option<f64>,
    pub wilcoxon_p: Option<f64>,
    pub wilcoxon_p_holm: Option<f64>,
    pub mde80: Option<f64>,
    /// `ci95_low > -margin` (SPEC §6); null when the CI is undefined.
    pub non_inferior: Option<bool>,
}

/// STATS.md §4.3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct GsbStats {
    pub baseline: String,
    pub G: usize,
    pub S: usize,
    pub B: usize,
    pub N: usize,
    pub win_rate: Option<f64>,
    pub sign_test_p: Option<f64>,
    pub sign_test_p_holm: Option<f64>,
    pub decisive_win_share: Option<f64>,
    pub wilson95_low: Option<f64>,
    pub wilson95_high: Option<f64>,
    pub win_rate_ci95_low: Option<f64>,
    pub win_rate_ci95_high: Option<f64>,
    pub mde80_win_rate: Option<f64>,
    pub n_both_orders: usize,
    pub n_order_disagree: usize,
    pub n_verdict_rule_mismatch: usize,
}
