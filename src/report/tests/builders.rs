//! Builders of the summary's statistics records, with the fields a report reads.

use crate::stats::summary::*;

pub(super) fn dim(n: usize, mean: f64, lo: f64, hi: f64, sd: f64) -> DimensionStats {
    DimensionStats {
        n_items: n,
        n_scores: n,
        n_null: 0,
        mean: Some(mean),
        sd: Some(sd),
        se: Some(sd / (n as f64).sqrt()),
        ci95_low: Some(lo),
        ci95_high: Some(hi),
        n_clusters: n,
        df: Some(n - 1),
        var_within: None,
    }
}

pub(super) fn null_dim(n_null: usize) -> DimensionStats {
    DimensionStats {
        n_items: 0,
        n_scores: 0,
        n_null,
        mean: None,
        sd: None,
        se: None,
        ci95_low: None,
        ci95_high: None,
        n_clusters: 0,
        df: None,
        var_within: None,
    }
}

pub(super) fn rule(passed: usize, n: usize, lo: f64, hi: f64) -> RuleStats {
    RuleStats {
        n,
        passed,
        n_items: n,
        pass_rate: Some(passed as f64 / n as f64),
        ci95_low: Some(lo),
        ci95_high: Some(hi),
        ci_method: "wilson".into(),
    }
}

pub(super) fn dist(n: usize, mean: f64, p50: f64, p90: f64, p99: f64) -> Distribution {
    Distribution {
        n,
        mean: Some(mean),
        p50: Some(p50),
        p90: Some(p90),
        p99: Some(p99),
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn paired(
    n: usize,
    diff: f64,
    lo: f64,
    hi: f64,
    p: f64,
    p_holm: f64,
    mde: f64,
    margin: f64,
) -> PairedStats {
    let sd = mde * (n as f64).sqrt() / 2.8016;
    PairedStats {
        n_pairs: n,
        mean_diff: Some(diff),
        sd_diff: Some(sd),
        se_diff: Some(sd / (n as f64).sqrt()),
        ci95_low: Some(lo),
        ci95_high: Some(hi),
        n_pos: 0,
        n_neg: 0,
        n_zero: 0,
        n_clusters: n,
        df: Some(n - 1),
        t: Some(diff / (sd / (n as f64).sqrt())),
        p: Some(p),
        p_holm: Some(p_holm),
        m_family: 3,
        verdict: if p_holm < 0.05 {
            if diff > 0.0 {
                "better"
            } else {
                "worse"
            }
        } else {
            "no detectable difference"
        }
        .into(),
        mde80: Some(mde),
        mde80_why: None,
        margin,
        non_inferior: Some(lo > -margin),
        n_needed_margin: Some((n as f64 * (mde / margin).powi(2)).ceil() as u64),
        n_needed_observed: Some((n as f64 * (mde / diff.abs().max(1e-9)).powi(2)).ceil() as u64),
        var_between: None,
        wilcoxon_p: Some(p),
    }
}

pub(super) fn empty_paired() -> PairedStats {
    PairedStats {
        n_pairs: 0,
        mean_diff: None,
        sd_diff: None,
        se_diff: None,
        ci95_low: None,
        ci95_high: None,
        n_pos: 0,
        n_neg: 0,
        n_zero: 0,
        n_clusters: 0,
        df: None,
        t: None,
        p: None,
        p_holm: None,
        m_family: 3,
        verdict: "not tested".into(),
        mde80: None,
        mde80_why: Some("fewer than 2 items or clusters".into()),
        margin: 0.1,
        non_inferior: None,
        n_needed_margin: None,
        n_needed_observed: None,
        var_between: None,
        wilcoxon_p: None,
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn gsb(
    g: usize,
    s: usize,
    b: usize,
    p: f64,
    p_holm: f64,
    wilson: (f64, f64),
    disagree: usize,
) -> GsbStats {
    let n = g + s + b;
    let d = g + b;
    let map = |x: f64| 0.5 + d as f64 / n as f64 * (x - 0.5);
    let se = 0.5 * (d as f64).sqrt() / n as f64;
    GsbStats {
        baseline: "ernie-speed".into(),
        G: g,
        S: s,
        B: b,
        N: n,
        win_rate: Some((g as f64 + 0.5 * s as f64) / n as f64),
        sign_test_p: Some(p),
        sign_test_p_holm: Some(p_holm),
        decisive_win_share: Some(g as f64 / d as f64),
        se: Some(se),
        df: Some(n - 1),
        n_clusters: n,
        ci95_low: Some(map(wilson.0)),
        ci95_high: Some(map(wilson.1)),
        m_family: 2,
        verdict: if p_holm < 0.05 {
            if g > b {
                "better"
            } else {
                "worse"
            }
        } else {
            "no detectable difference"
        }
        .into(),
        mde80_win_rate: Some(0.5 * 2.8016 * (d as f64).sqrt() / n as f64),
        n_both_orders: n,
        n_order_disagree: disagree,
        n_verdict_rule_mismatch: 0,
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn model(
    dims: [DimensionStats; 4],
    rules: [RuleStats; 4],
    ttft: Distribution,
    total: Distribution,
    errors: (usize, usize, usize, &[(&str, usize)]),
    tokens: (u64, u64),
    cost: (f64, f64, f64),
    tps: f64,
) -> ModelStats {
    let ids = ["adherence", "reply", "suggestion", "analysis"];
    let rule_ids = [
        "json_strict",
        "suggestion_count",
        "reply_english",
        "analysis_han",
    ];
    ModelStats {
        overall: None,
        dimensions: ids.iter().map(|s| s.to_string()).zip(dims).collect(),
        rules: rule_ids.iter().map(|s| s.to_string()).zip(rules).collect(),
        latency: LatencyStats {
            ttft_ms: ttft,
            total_ms: total,
        },
        errors: ErrorStats {
            n_responses: errors.0,
            n_errors: errors.1,
            error_rate: Some(errors.1 as f64 / errors.0 as f64),
            n_cached: errors.2,
            by_kind: errors.3.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
            n_retried: 0,
            n_invalid_utf8: 0,
        },
        cost: CostStats {
            currency: Some("CNY".into()),
            price_input_per_1k: None,
            price_output_per_1k: None,
            prompt_tokens: tokens.0,
            completion_tokens: tokens.1,
            total: Some(cost.0),
            per_item: Some(cost.1),
            per_1k_tokens: Some(cost.2),
            note: None,
        },
        output_tokens_per_s: Some(tps),
    }
}
