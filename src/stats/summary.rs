//! The shape of `summary.json` (STATS.md §6). Every statistic is computed in `stats`; every report format
//! renders from this one structure. Names are the external contract: add fields, never rename one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Always `"evalrun-stats/2"`.
    pub schema: String,
    /// Parameters the statistics were computed with.
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
    /// Judge vs people (extension): from `human.jsonl`, absent when the run has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human: Option<crate::stats::human::HumanSummary>,
    /// Judge panels (extension): each judge's own means, agreement between the judges, leave-one-out;
    /// absent unless the run was judged by two or more judges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panel: Option<crate::stats::panel::PanelSummary>,
}

/// One reference metric of one model: item value = mean over the item's samples; then as §4.1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceStats {
    /// Items with at least one value of this metric.
    pub n_items: usize,
    /// Metric values used (items × samples).
    pub n_scores: usize,
    /// Mean over items of the per-item mean.
    pub mean: Option<f64>,
    /// Standard deviation of the item values.
    pub sd: Option<f64>,
    /// Standard error of the mean.
    pub se: Option<f64>,
    /// Lower bound of the 95% confidence interval.
    pub ci95_low: Option<f64>,
    /// Upper bound of the 95% confidence interval.
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
    /// Grade calls made by the judge.
    pub n_grade_calls: usize,
    /// Pair calls made by the judge.
    pub n_pair_calls: usize,
    /// Calls that failed in transport after the judge model's own retries.
    pub n_call_errors: usize,
    /// Per graded model (the candidate, for pair calls).
    pub per_model: BTreeMap<String, JudgeModelStats>,
    /// Position-bias diagnostics of pair calls.
    pub position: PositionStats,
    /// Agreement between repeated judge samples.
    pub self_agreement: SelfAgreement,
    /// Spearman ρ of judge score and answer length over every judged answer of every model (mixes
    /// differences between models with the judge's own bias; see `per_model` for within-model ρ).
    pub length_spearman_pooled: Option<f64>,
    /// Scores pooled for the length correlation.
    pub n_length_pooled: usize,
    /// The judge's own tokens and cost, apart from the answers' cost.
    pub cost: CostStats,
    /// How each diagnostic is defined.
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
    /// Grade calls made.
    pub n_grade_calls: usize,
    /// Grade calls that returned a reply (no transport error).
    pub n_grade_replies: usize,
    /// Replies that did not give a valid score for every requested dimension (`parse_error`).
    pub n_grade_parse_failures: usize,
    /// n_grade_parse_failures / n_grade_replies.
    pub grade_parse_failure_rate: Option<f64>,
    /// Pair calls made.
    pub n_pair_calls: usize,
    /// Pair calls that returned a reply.
    pub n_pair_replies: usize,
    /// Pair replies that did not parse.
    pub n_pair_parse_failures: usize,
    /// Pair parse failures over pair replies; null when there were none.
    pub pair_parse_failure_rate: Option<f64>,
    /// Items compared with the baseline (pair calls made) that got no `pairwise.jsonl` line.
    pub n_unjudged_pairs: usize,
    /// Spearman ρ of the answer's judge score and its length in characters, within this model.
    pub length_spearman: Option<f64>,
    /// Scores used for the length correlation.
    pub n_length: usize,
}

/// Position bias in pairwise judging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionStats {
    /// `pairwise.jsonl` lines with both orders, and those whose two raw verdicts differ (STATS §1.10).
    pub n_both_orders: usize,
    /// Pairs judged in both orders whose two verdicts disagree.
    pub n_order_disagree: usize,
    /// Share of both-order pairs whose verdicts disagree; null when there were none.
    pub order_disagreement_rate: Option<f64>,
    /// Usable raw pair verdicts naming a winner (A or B), and of those the ones for the first-shown
    /// answer (A): an unbiased judge is near 0.5.
    pub n_decisive_raw: usize,
    /// Decisive pair calls won by the answer shown first.
    pub n_first_position_wins: usize,
    /// Share of decisive pair calls won by the first position; null when there were none.
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
    /// Share of repeated judge samples giving the same score; null when there were none.
    pub exact_agreement_rate: Option<f64>,
    /// Mean over units of (max − min) of the sample scores.
    pub mean_range: Option<f64>,
}

/// How the judge diagnostics are defined, for a reader recomputing them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeMethods {
    /// Definition of the parse-failure rate.
    pub parse_failure: String,
    /// Definition of the unjudged count.
    pub unjudged: String,
    /// Definition of the position-bias statistics.
    pub position: String,
    /// Definition of self-agreement.
    pub self_agreement: String,
    /// Definition of the length correlation.
    pub length_correlation: String,
    /// Definition of the judge cost.
    pub cost: String,
}

/// The parameters every statistic used (STATS.md §10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// The reference models of the paired comparisons.
    pub references: References,
    /// `[run].cluster` / `--cluster`: the dotted path into `items.jsonl` that groups items into clusters.
    pub cluster_key: Option<String>,
    /// Family-wise significance level α.
    pub alpha: f64,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// Target power for minimum detectable effects and sample sizes.
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
    /// The baseline model, if configured.
    pub baseline: Option<String>,
    /// The flagship model, if configured.
    pub flagship: Option<String>,
    /// The top-ranked model, if any.
    pub top: Option<String>,
}

/// `ranking` (STATS.md §4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    /// Models with an `overall`, descending (tie: name).
    pub order: Vec<String>,
    /// The model ranked first, if any model has an `overall`.
    pub top: Option<String>,
    /// `top`, then every model no dimension of whose `paired.<top>` entry has p_holm < α.
    pub tied_with_top: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// Everything `summary.json` reports about one model.
pub struct ModelStats {
    /// Statistics of each rubric dimension, by name.
    pub dimensions: BTreeMap<String, DimensionStats>,
    /// Mean over the scored dimensions of (mean − lo)/range; null if one is missing or has no scale.
    pub overall: Option<f64>,
    /// Pass statistics of each rule, by name.
    pub rules: BTreeMap<String, RuleStats>,
    /// Latency distributions.
    pub latency: LatencyStats,
    /// Error counts.
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
    /// Items with at least one score.
    pub n_items: usize,
    /// Clusters the items fall into (items when unclustered).
    pub n_clusters: usize,
    /// Non-null scores used.
    pub n_scores: usize,
    /// Scores that were null (unjudged or failed).
    pub n_null: usize,
    /// Mean over items of the per-item mean score.
    pub mean: Option<f64>,
    /// Standard deviation of the item means.
    pub sd: Option<f64>,
    /// Standard error of the mean (cluster-robust when clustered).
    pub se: Option<f64>,
    /// Degrees of freedom of the t interval.
    pub df: Option<usize>,
    /// t-interval, clipped to the scale.
    pub ci95_low: Option<f64>,
    /// Upper bound of the 95% confidence interval.
    pub ci95_high: Option<f64>,
    /// Pooled within-item variance of the sample scores (items with ≥ 2 non-null samples).
    pub var_within: Option<f64>,
}

/// STATS.md §3: a rule's pass rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleStats {
    /// Outcomes counted.
    pub n: usize,
    /// Outcomes that passed.
    pub passed: usize,
    /// Items with at least one outcome.
    pub n_items: usize,
    /// Passed over counted; null when nothing was counted.
    pub pass_rate: Option<f64>,
    /// Lower bound of the 95% interval of the pass rate.
    pub ci95_low: Option<f64>,
    /// Upper bound of the 95% interval of the pass rate.
    pub ci95_high: Option<f64>,
    /// "wilson" (one record per item) or "t" (E over the items' pass shares).
    pub ci_method: String,
}

/// STATS.md §4.5.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyStats {
    /// Time to first token, in milliseconds.
    pub ttft_ms: Distribution,
    /// Total request time, in milliseconds.
    pub total_ms: Distribution,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// Summary of a sample of latencies.
pub struct Distribution {
    /// Values in the sample.
    pub n: usize,
    /// Mean value; null for an empty sample.
    pub mean: Option<f64>,
    /// Median; null for an empty sample.
    pub p50: Option<f64>,
    /// 90th percentile; null for an empty sample.
    pub p90: Option<f64>,
    /// 99th percentile; null for an empty sample.
    pub p99: Option<f64>,
}

/// STATS.md §4.5.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorStats {
    /// Response records of the model.
    pub n_responses: usize,
    /// Response records that carry an error.
    pub n_errors: usize,
    /// Errors over responses; null when there were none.
    pub error_rate: Option<f64>,
    /// Responses served from the cache.
    pub n_cached: usize,
    /// Error count by error kind.
    pub by_kind: BTreeMap<String, usize>,
    /// Uncached lines that took more than one attempt (retried after a rate limit, a 5xx, a torn
    /// stream, …), whether or not they succeeded in the end. Absent in older summaries.
    #[serde(default)]
    pub n_retried: usize,
    /// Answers whose stream carried bytes that are not UTF-8 (kept decoded with U+FFFD, record flag
    /// `invalid_utf8`). Absent in older summaries and when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub n_invalid_utf8: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Cost of one model's answers (SPEC §6). Prices come from the configuration (manifest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostStats {
    /// Currency of the configured prices, if any.
    pub currency: Option<String>,
    /// The configured price per 1k prompt tokens, so that `total` can be recomputed from the records.
    pub price_input_per_1k: Option<f64>,
    /// The configured price per 1k completion tokens.
    pub price_output_per_1k: Option<f64>,
    /// Prompt tokens summed over the model's responses.
    pub prompt_tokens: u64,
    /// Completion tokens summed over the model's responses.
    pub completion_tokens: u64,
    /// Total cost; null when the model has no prices configured.
    pub total: Option<f64>,
    /// Cost per answered item (total / items with a response).
    pub per_item: Option<f64>,
    /// Cost per 1k tokens (prompt + completion), the blended rate.
    pub per_1k_tokens: Option<f64>,
    /// Why `total` is null although tokens were spent (judge panels: judges priced in different
    /// currencies, or a judge without prices); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `paired.<ref>.<cand>.<dim>` (STATS.md §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedStats {
    /// Items with a score from both models.
    pub n_pairs: usize,
    /// Clusters those items fall into.
    pub n_clusters: usize,
    /// Degrees of freedom of the paired t test.
    pub df: Option<usize>,
    /// Mean of the per-item differences (candidate − reference).
    pub mean_diff: Option<f64>,
    /// Standard deviation of the differences.
    pub sd_diff: Option<f64>,
    /// Standard error of the mean difference.
    pub se_diff: Option<f64>,
    /// Lower bound of the 95% interval of the mean difference.
    pub ci95_low: Option<f64>,
    /// Upper bound of the 95% interval of the mean difference.
    pub ci95_high: Option<f64>,
    /// Items where the candidate scored higher.
    pub n_pos: usize,
    /// Items where the candidate scored lower.
    pub n_neg: usize,
    /// Items with no difference.
    pub n_zero: usize,
    /// Paired t statistic.
    pub t: Option<f64>,
    /// Two-sided p; null when the test was not run.
    pub p: Option<f64>,
    /// Holm-adjusted p over the candidate's family (STATS §4).
    pub p_holm: Option<f64>,
    /// Tests run in this candidate's family against this reference.
    pub m_family: usize,
    /// "better", "worse", "no detectable difference", "no variation" or "not tested".
    pub verdict: String,
    /// Minimum detectable difference at 80% power.
    pub mde80: Option<f64>,
    /// Why `mde80` is null (extra key): "nothing varied", "fewer than 2 items or clusters", …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mde80_why: Option<String>,
    /// Non-inferiority margin of this dimension.
    pub margin: f64,
    /// Whether the lower CI bound exceeds −margin; null when untested.
    pub non_inferior: Option<bool>,
    /// Items needed to show non-inferiority at this margin.
    pub n_needed_margin: Option<u64>,
    /// Items needed to detect the observed |mean_diff| at this family's α/m (extra key).
    #[serde(default)]
    pub n_needed_observed: Option<u64>,
    /// Between-cluster variance component.
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
    /// Items where the candidate was judged better.
    pub G: usize,
    /// Items judged the same.
    pub S: usize,
    /// Items where the candidate was judged worse.
    pub B: usize,
    /// Items with a verdict (G + S + B).
    pub N: usize,
    /// Win rate, ties counting half.
    pub win_rate: Option<f64>,
    /// Standard error of the win rate.
    pub se: Option<f64>,
    /// Degrees of freedom of the win-rate interval.
    pub df: Option<usize>,
    /// Clusters the items fall into.
    pub n_clusters: usize,
    /// Lower bound of the 95% interval of the win rate.
    pub ci95_low: Option<f64>,
    /// Upper bound of the 95% interval of the win rate.
    pub ci95_high: Option<f64>,
    /// Two-sided sign-test p of G against B.
    pub sign_test_p: Option<f64>,
    /// Holm-adjusted sign-test p over the candidate's family.
    pub sign_test_p_holm: Option<f64>,
    /// Tests in this candidate's family.
    pub m_family: usize,
    /// "better", "worse", "no detectable difference" or "no decisive items".
    pub verdict: String,
    /// Decisive verdicts (G or B) over all verdicts.
    pub decisive_win_share: Option<f64>,
    /// Minimum detectable win rate at 80% power.
    pub mde80_win_rate: Option<f64>,
    /// Items judged in both presentation orders.
    pub n_both_orders: usize,
    /// Items whose two order verdicts disagree.
    pub n_order_disagree: usize,
    /// Items whose stored verdict does not match the combination rule.
    pub n_verdict_rule_mismatch: usize,
}
