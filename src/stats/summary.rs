//! The shape of `summary.json` (STATS.md §6). Every statistic is computed in `stats`; every report format
//! renders from this one structure. Names are the external contract: add fields, never rename one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Always `"evalrun-stats/2"`.
    pub schema: String,
    pub params: Params,
    /// What the reader must know (e.g. "p99 with n < 100 is the maximum").
    pub warnings: Vec<String>,
    /// Per model, keyed by the model name of the configuration.
    pub models: BTreeMap<String, ModelStats>,
    /// `paired.<reference>.<candidate>.<dimension>` (STATS.md §4): each reference (baseline, flagship,
    /// top) against every other model.
    pub paired: BTreeMap<String, BTreeMap<String, BTreeMap<String, PairedStats>>>,
    /// Models by `overall` and the set this run cannot separate from the best (STATS.md §4).
    pub ranking: Ranking,
    /// `gsb.<reference>.<candidate>` (STATS.md §5), keyed by the reference named in `pairwise.jsonl`.
    pub gsb: BTreeMap<String, BTreeMap<String, GsbStats>>,
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
    /// Exact two-sided binomial p of the first-position wins at ½; null without decisive verdicts.
    pub first_position_p: Option<f64>,
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

/// The parameters every statistic used (STATS.md §10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// The reference models of the paired comparisons.
    pub references: References,
    /// `[run].cluster` / `--cluster`: the dotted path into `items.jsonl` that groups items into clusters.
    pub cluster_key: Option<String>,
    pub alpha: f64,
    pub confidence: f64,
    pub power: f64,
    /// Each dimension's scale [lo, hi].
    pub scales: BTreeMap<String, [f64; 2]>,
    /// Each dimension's non-inferiority margin.
    pub margins: BTreeMap<String, f64>,
    /// How each statistic is computed, for a reader recomputing them.
    pub methods: BTreeMap<String, String>,
}

/// `params.references` (STATS.md §4): a model may hold several roles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct References {
    pub baseline: Option<String>,
    pub flagship: Option<String>,
    pub top: Option<String>,
}

/// `ranking` (STATS.md §4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    /// Models with an `overall`, descending (tie: name).
    pub order: Vec<String>,
    pub top: Option<String>,
    /// `top`, then every model no dimension of whose `paired.<top>` entry has p_holm < α.
    pub tied_with_top: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelStats {
    pub dimensions: BTreeMap<String, DimensionStats>,
    /// Mean over the scored dimensions of (mean − lo)/range; null if one is missing or has no scale.
    pub overall: Option<f64>,
    pub rules: BTreeMap<String, RuleStats>,
    pub latency: LatencyStats,
    pub errors: ErrorStats,
    /// Token counts and cost of this model's answers (judge calls excluded).
    pub cost: CostStats,
    /// Output tokens per second over the latency population: Σ completion_tokens / Σ (total_ms − ttft_ms)
    /// seconds, null when undefined.
    pub output_tokens_per_s: Option<f64>,
}

/// STATS.md §3: E over the item scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionStats {
    pub n_items: usize,
    pub n_clusters: usize,
    pub n_scores: usize,
    pub n_null: usize,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub se: Option<f64>,
    pub df: Option<usize>,
    /// t-interval, clipped to the scale.
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
    /// Pooled within-item variance of the sample scores (items with ≥ 2 non-null samples).
    pub var_within: Option<f64>,
}

/// STATS.md §3: a rule's pass rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleStats {
    pub n: usize,
    pub passed: usize,
    pub n_items: usize,
    pub pass_rate: Option<f64>,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
    /// "wilson" (one record per item) or "t" (E over the items' pass shares).
    pub ci_method: String,
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

/// `paired.<ref>.<cand>.<dim>` (STATS.md §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedStats {
    pub n_pairs: usize,
    pub n_clusters: usize,
    pub df: Option<usize>,
    pub mean_diff: Option<f64>,
    pub sd_diff: Option<f64>,
    pub se_diff: Option<f64>,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
    pub n_pos: usize,
    pub n_neg: usize,
    pub n_zero: usize,
    pub t: Option<f64>,
    /// Two-sided p; null when the test was not run.
    pub p: Option<f64>,
    pub p_holm: Option<f64>,
    /// Tests run in this candidate's family against this reference.
    pub m_family: usize,
    /// "better", "worse", "no detectable difference", "no variation" or "not tested".
    pub verdict: String,
    pub mde80: Option<f64>,
    /// Why `mde80` is null (extra key): "nothing varied", "fewer than 2 items or clusters", …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mde80_why: Option<String>,
    pub margin: f64,
    pub non_inferior: Option<bool>,
    pub n_needed_margin: Option<u64>,
    /// Items needed to detect the observed |mean_diff| at this family's α/m (extra key).
    #[serde(default)]
    pub n_needed_observed: Option<u64>,
    pub var_between: Option<f64>,
    /// Informational only, never a verdict.
    pub wilcoxon_p: Option<f64>,
}

/// `gsb.<ref>.<cand>` (STATS.md §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct GsbStats {
    /// The reference (extra key, the map key above it).
    pub baseline: String,
    pub G: usize,
    pub S: usize,
    pub B: usize,
    pub N: usize,
    pub win_rate: Option<f64>,
    pub se: Option<f64>,
    pub df: Option<usize>,
    pub n_clusters: usize,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
    pub sign_test_p: Option<f64>,
    pub sign_test_p_holm: Option<f64>,
    pub m_family: usize,
    /// "better", "worse", "no detectable difference" or "no decisive items".
    pub verdict: String,
    pub decisive_win_share: Option<f64>,
    pub mde80_win_rate: Option<f64>,
    pub n_both_orders: usize,
    pub n_order_disagree: usize,
    pub n_verdict_rule_mismatch: usize,
}
