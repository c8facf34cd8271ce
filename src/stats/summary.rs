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
    /// How far the judge can be trusted (SPEC §6 judge diagnostics); absent for runs without a judge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<JudgeDiagnostics>,
    /// Per model, per metric (`bleu-4`, `rouge-1`, `rouge-2`, `rouge-l`, `edit-distance`, in %): over the
    /// items with a `reference`; absent when no item has one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reference_metrics: BTreeMap<String, BTreeMap<String, ReferenceStats>>,
}

/// One reference metric of one model: item value = mean over the item's samples; then as §4.1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceStats {
    pub n_items: usize,
    pub n_scores: usize,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub se: Option<f64>,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
}

/// Judge diagnostics, from `judgements.jsonl`, `scores.jsonl`, `responses.jsonl` and `pairwise.jsonl`.
/// `methods` says how each number is computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeDiagnostics {
    /// The judge model's name.
    pub judge: Option<String>,
    /// Every judge call (`judgements.jsonl` lines), of which grade and pair calls.
    pub n_calls: usize,
    pub n_grade_calls: usize,
    pub n_pair_calls: usize,
    /// Calls that failed in transport after the judge model's own retries.
    pub n_call_errors: usize,
    /// Per graded model (the candidate, for pair calls).
    pub per_model: BTreeMap<String, JudgeModelStats>,
    pub position: PositionStats,
    pub self_agreement: SelfAgreement,
    /// Spearman ρ of judge score and answer length over every judged answer of every model (mixes
    /// differences between models with the judge's own bias; see `per_model` for within-model ρ).
    pub length_spearman_pooled: Option<f64>,
    pub n_length_pooled: usize,
    /// The judge's own tokens and cost, apart from the answers' cost.
    pub cost: CostStats,
    pub methods: JudgeMethods,
}

/// What the judge did with one model's answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeModelStats {
    /// Answers sent to the judge (`scores.jsonl` lines with `judge_samples` or a `judge_error`).
    pub n_graded_answers: usize,
    /// Of those, answers with a `judge_error`: some judged dimension got no usable score; they are left
    /// out of that dimension's mean.
    pub n_unjudged_answers: usize,
    pub n_grade_calls: usize,
    /// Grade calls that returned a reply (no transport error).
    pub n_grade_replies: usize,
    /// Replies that did not give a valid score for every requested dimension (`parse_error`).
    pub n_grade_parse_failures: usize,
    /// n_grade_parse_failures / n_grade_replies.
    pub grade_parse_failure_rate: Option<f64>,
    pub n_pair_calls: usize,
    pub n_pair_replies: usize,
    pub n_pair_parse_failures: usize,
    pub pair_parse_failure_rate: Option<f64>,
    /// Items compared with the baseline (pair calls made) that got no `pairwise.jsonl` line.
    pub n_unjudged_pairs: usize,
    /// Spearman ρ of the answer's judge score and its length in characters, within this model.
    pub length_spearman: Option<f64>,
    pub n_length: usize,
}

/// Position bias in pairwise judging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionStats {
    /// `pairwise.jsonl` lines with both orders, and those whose two raw verdicts differ (STATS §1.10).
    pub n_both_orders: usize,
    pub n_order_disagree: usize,
    pub order_disagreement_rate: Option<f64>,
    /// Usable raw pair verdicts naming a winner (A or B), and of those the ones for the first-shown
    /// answer (A): an unbiased judge is near 0.5.
    pub n_decisive_raw: usize,
    pub n_first_position_wins: usize,
    pub first_position_win_share: Option<f64>,
}

/// Agreement of the judge with itself across `--judge-samples`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfAgreement {
    /// The most samples any (answer, dimension) has.
    pub max_samples: usize,
    /// (answer, dimension) units with at least two valid sample scores.
    pub n_units: usize,
    /// Units whose sample scores are all equal, and their share.
    pub n_exact_agree: usize,
    pub exact_agreement_rate: Option<f64>,
    /// Mean over units of (max − min) of the sample scores.
    pub mean_range: Option<f64>,
}

/// How the judge diagnostics are defined, for a reader recomputing them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeMethods {
    pub parse_failure: String,
    pub unjudged: String,
    pub position: String,
    pub self_agreement: String,
    pub length_correlation: String,
    pub cost: String,
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
    /// Uncached lines that took more than one attempt (retried after a rate limit, a 5xx, a torn
    /// stream, …), whether or not they succeeded in the end. Absent in older summaries.
    #[serde(default)]
    pub n_retried: usize,
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
