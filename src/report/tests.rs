//! Every format pinned on one realistic run (seed 000's line-up: a cheap base model as the baseline, the
//! flagship, and a fine-tuned cheap model), plus the decision's wording in each situation.

use std::collections::BTreeMap;

use crate::stats::summary::*;

use super::decision::{decide, Verdict, Words};
use super::view::View;
use super::*;

fn dim(n: usize, mean: f64, lo: f64, hi: f64, sd: f64) -> DimensionStats {
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

fn null_dim(n_null: usize) -> DimensionStats {
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

fn rule(passed: usize, n: usize, lo: f64, hi: f64) -> RuleStats {
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

fn dist(n: usize, mean: f64, p50: f64, p90: f64, p99: f64) -> Distribution {
    Distribution {
        n,
        mean: Some(mean),
        p50: Some(p50),
        p90: Some(p90),
        p99: Some(p99),
    }
}

#[allow(clippy::too_many_arguments)]
fn paired(
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

fn empty_paired() -> PairedStats {
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
fn gsb(
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
fn model(
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

pub(super) fn summary() -> Summary {
    let margin = 0.1;
    let mut models = BTreeMap::new();
    models.insert(
        "ernie-speed".to_string(),
        model(
            [
                dim(49, 2.62, 2.49, 2.76, 0.49),
                dim(49, 2.52, 2.37, 2.67, 0.54),
                dim(49, 1.92, 1.73, 2.10, 0.67),
                null_dim(49),
            ],
            [
                rule(41, 49, 0.7096, 0.9149),
                rule(38, 49, 0.6412, 0.8698),
                rule(47, 49, 0.8629, 0.9887),
                rule(44, 49, 0.7824, 0.9556),
            ],
            dist(44, 650.4, 610.0, 890.0, 1320.0),
            dist(44, 4020.2, 3900.0, 5200.0, 6900.0),
            (50, 1, 5, &[("timeout", 1)]),
            (30120, 13050),
            (0.22488, 0.0045894, 0.0052092),
            62.3,
        ),
    );
    models.insert(
        "ernie-4.0".to_string(),
        model(
            [
                dim(48, 2.96, 2.90, 3.00, 0.20),
                dim(48, 2.74, 2.61, 2.86, 0.44),
                dim(48, 2.58, 2.42, 2.73, 0.54),
                null_dim(48),
            ],
            [
                rule(47, 48, 0.891, 0.9963),
                rule(47, 48, 0.891, 0.9963),
                rule(48, 48, 0.9259, 1.0),
                rule(46, 48, 0.8602, 0.9885),
            ],
            dist(48, 1166.06, 1080.0, 1620.0, 2410.0),
            dist(48, 12801.6, 12100.0, 16900.0, 21400.0),
            (50, 2, 0, &[("rate_limited", 2)]),
            (30120, 12480),
            (5.112, 0.1065, 0.12),
            19.5,
        ),
    );
    models.insert(
        "ernie-speed-sft".to_string(),
        model(
            [
                dim(50, 3.00, 3.00, 3.00, 0.0),
                dim(50, 2.86, 2.76, 2.94, 0.35),
                dim(50, 2.84, 2.74, 2.94, 0.37),
                null_dim(50),
            ],
            [
                rule(50, 50, 0.9287, 1.0),
                rule(49, 50, 0.895, 0.9965),
                rule(50, 50, 0.9287, 1.0),
                rule(48, 50, 0.8654, 0.989),
            ],
            dist(50, 676.3, 640.0, 910.0, 1280.0),
            dist(50, 4050.0, 3880.0, 5350.0, 7020.0),
            (50, 0, 0, &[]),
            (30120, 12900),
            (0.2151, 0.004302, 0.005),
            60.8,
        ),
    );

    let mut paired_map = BTreeMap::new();
    paired_map.insert(
        "ernie-4.0".to_string(),
        BTreeMap::from([
            (
                "adherence".to_string(),
                paired(47, 0.34, 0.21, 0.47, 0.00002, 0.0001, 0.13, margin),
            ),
            (
                "reply".to_string(),
                paired(47, 0.22, 0.04, 0.40, 0.021, 0.063, 0.25, margin),
            ),
            (
                "suggestion".to_string(),
                paired(47, 0.66, 0.47, 0.85, 0.000001, 0.000006, 0.27, margin),
            ),
            ("analysis".to_string(), empty_paired()),
        ]),
    );
    paired_map.insert(
        "ernie-speed-sft".to_string(),
        BTreeMap::from([
            (
                "adherence".to_string(),
                paired(49, 0.38, 0.25, 0.51, 0.000004, 0.00002, 0.14, margin),
            ),
            (
                "reply".to_string(),
                paired(49, 0.34, 0.18, 0.50, 0.0004, 0.0016, 0.22, margin),
            ),
            (
                "suggestion".to_string(),
                paired(49, 0.92, 0.74, 1.10, 0.00000001, 0.00000006, 0.26, margin),
            ),
            ("analysis".to_string(), empty_paired()),
        ]),
    );

    let gsb_map = BTreeMap::from([
        (
            "ernie-4.0".to_string(),
            gsb(24, 18, 8, 0.0070, 0.0070, (0.5789, 0.8675), 11),
        ),
        (
            "ernie-speed-sft".to_string(),
            gsb(30, 15, 5, 0.0000224, 0.0000447, (0.7062, 0.9374), 9),
        ),
    ]);

    Summary {
        schema: "evalrun-stats/2".into(),
        params: Params {
            references: References {
                baseline: Some("ernie-speed".into()),
                flagship: None,
                top: None,
            },
            cluster_key: None,
            confidence: 0.95,
            alpha: 0.05,
            power: 0.8,
            scales: ["adherence", "reply", "suggestion", "analysis"]
                .iter()
                .map(|d| (d.to_string(), [1.0, 3.0]))
                .collect(),
            margins: ["adherence", "reply", "suggestion", "analysis"]
                .iter()
                .map(|d| (d.to_string(), margin))
                .collect(),
            methods: BTreeMap::new(),
        },
        warnings: vec!["p99 with n < 100 is the maximum".into()],
        models,
        paired: BTreeMap::from([
            ("ernie-speed".to_string(), paired_map),
            ("ernie-4.0".to_string(), flagship_paired(margin)),
        ]),
        ranking: Ranking::default(),
        gsb: BTreeMap::from([("ernie-speed".to_string(), gsb_map)]),
        judge: Some(judge_diagnostics()),
        reference_metrics: BTreeMap::new(),
        human: None,
        panel: None,
    }
}

/// The fine-tune against the flagship: not worse on adherence, better on suggestion.
fn flagship_paired(margin: f64) -> BTreeMap<String, BTreeMap<String, PairedStats>> {
    BTreeMap::from([(
        "ernie-speed-sft".to_string(),
        BTreeMap::from([
            (
                "adherence".to_string(),
                paired(47, 0.04, -0.05, 0.13, 0.38, 0.76, 0.13, margin),
            ),
            (
                "reply".to_string(),
                paired(47, 0.12, -0.02, 0.26, 0.09, 0.27, 0.2, margin),
            ),
            (
                "suggestion".to_string(),
                paired(47, 0.26, 0.08, 0.44, 0.004, 0.012, 0.25, margin),
            ),
            ("analysis".to_string(), empty_paired()),
        ]),
    )])
}

fn judge_model(
    graded: usize,
    unjudged: usize,
    grade: (usize, usize, usize),
    pair: (usize, usize, usize, usize),
    rho: Option<(f64, usize)>,
) -> JudgeModelStats {
    let rate = |f: usize, of: usize| (of > 0).then(|| f as f64 / of as f64);
    JudgeModelStats {
        n_graded_answers: graded,
        n_unjudged_answers: unjudged,
        n_grade_calls: grade.0,
        n_grade_replies: grade.1,
        n_grade_parse_failures: grade.2,
        grade_parse_failure_rate: rate(grade.2, grade.1),
        n_pair_calls: pair.0,
        n_pair_replies: pair.1,
        n_pair_parse_failures: pair.2,
        pair_parse_failure_rate: rate(pair.2, pair.1),
        n_unjudged_pairs: pair.3,
        length_spearman: rho.map(|r| r.0),
        n_length: rho.map_or(0, |r| r.1),
    }
}

/// The judge of the realistic run: one sample per answer, a little position bias, one transport error.
pub(super) fn judge_diagnostics() -> JudgeDiagnostics {
    JudgeDiagnostics {
        judge: Some("ernie-4.0".into()),
        n_calls: 354,
        n_grade_calls: 151,
        n_pair_calls: 203,
        n_call_errors: 1,
        per_model: BTreeMap::from([
            (
                "ernie-speed".to_string(),
                judge_model(49, 1, (52, 52, 3), (0, 0, 0, 0), Some((0.21, 48))),
            ),
            (
                "ernie-4.0".to_string(),
                judge_model(48, 0, (49, 49, 1), (103, 102, 3, 0), Some((0.31, 48))),
            ),
            (
                "ernie-speed-sft".to_string(),
                judge_model(50, 0, (50, 50, 0), (100, 100, 0, 0), Some((0.08, 50))),
            ),
        ]),
        position: PositionStats {
            n_both_orders: 100,
            n_order_disagree: 20,
            order_disagreement_rate: Some(0.2),
            n_decisive_raw: 170,
            n_first_position_wins: 96,
            first_position_win_share: Some(96.0 / 170.0),
            first_position_p: Some(0.1004),
        },
        self_agreement: SelfAgreement {
            max_samples: 1,
            n_units: 0,
            n_exact_agree: 0,
            exact_agreement_rate: None,
            mean_range: None,
        },
        length_spearman_pooled: Some(0.12),
        n_length_pooled: 146,
        cost: CostStats {
            currency: Some("CNY".into()),
            price_input_per_1k: Some(0.12),
            price_output_per_1k: Some(0.12),
            prompt_tokens: 310_500,
            completion_tokens: 40_250,
            total: Some(42.09),
            per_item: Some(42.09 / 147.0),
            per_1k_tokens: Some(0.12),
            note: None,
        },
        methods: JudgeMethods {
            parse_failure: "replies with parse_error / replies".into(),
            unjudged: "judge_error != null".into(),
            position: "first_order != second_order".into(),
            self_agreement: "all samples equal".into(),
            length_correlation: "Spearman".into(),
            cost: "tokens x prices".into(),
        },
    }
}

pub(super) fn context() -> ReportContext {
    let line = |name: &str, endpoint: &str, pin: f64, pout: f64| ModelLine {
        name: name.into(),
        provider: "qianfan".into(),
        endpoint: endpoint.into(),
        price_input_per_1k: Some(pin),
        price_output_per_1k: Some(pout),
        currency: Some("CNY".into()),
    };
    let dim = |id: &str, name: &str| DimensionInfo {
        id: id.into(),
        name: name.into(),
        scale: (1.0, 3.0),
    };
    ReportContext {
        run_id: "20261121T100000Z".into(),
        started_utc: "2026-11-21T10:00:00Z".into(),
        command_line: "evalrun run --models ernie-speed,ernie-4.0,ernie-speed-sft --judge ernie-4.0".into(),
        evalset: NamedFile {
            path: "evalsets/oral_english.jsonl".into(),
            items: Some(50),
            sha256: "5b036b3403da612f9c1e0a7d2b4f6e8a1c3d5f7092b4d6e8f0a2c4e6b8d0f2a4".into(),
        },
        rubric: NamedFile {
            path: "rubrics/oral_english.toml".into(),
            items: None,
            sha256: "0f2a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a".into(),
        },
        judge: Some("ernie-4.0".into()),
        models: vec![
            line("ernie-speed", "ernie_speed", 0.004, 0.008),
            line("ernie-4.0", "completions_pro", 0.12, 0.12),
            line("ernie-speed-sft", "speed-sft-e6", 0.005, 0.005),
        ],
        baseline: Some("ernie-speed".into()),
        flagship: Some("ernie-4.0".into()),
        simulated: None,
        dimensions: vec![
            dim("adherence", "Prompt adherence"),
            dim("reply", "Reply"),
            dim("suggestion", "Suggestion"),
            dim("analysis", "Analysis"),
        ],
        worst_cases: vec![
            WorstCase {
                model: "ernie-speed".into(),
                item_id: "oe-017".into(),
                dimension: "suggestion".into(),
                score: 1.0,
                prompt_key_line: "Student: I not know. High school okay?".into(),
                answer: "{\"Reply\": \"Sure | let's talk about `high school`!\",\n \"Suggestion\": [\"<b>I don't know.</b>\"]}"
                    .into(),
                justification: Some("Suggestion has one sentence, not three.".into()),
            },
            WorstCase {
                model: "ernie-speed-sft".into(),
                item_id: "oe-032".into(),
                dimension: "reply".into(),
                score: 2.0,
                prompt_key_line: "Student: My favourite food is hotpot, and you?".into(),
                answer: "{\"Reply\": \"Hotpot is great! What do you like to put in it?\"}".into(),
                justification: None,
            },
        ],
        notices: vec![
            "analysis: the judge's replies for this dimension could not be parsed (see judgements.jsonl)".into(),
        ],
        run: super::RunFacts {
            max_error_rate: 0.05,
            ..Default::default()
        },
    }
}

fn headline(summary: &Summary, ctx: &ReportContext) -> (Verdict, String) {
    let v = View::new(summary, ctx);
    let d = decide(&v, Words { md: true });
    (d.verdict, d.situation)
}

/// Rewrite the fine-tuned model's paired results.
fn set_sft_paired(s: &mut Summary, f: impl Fn(&mut PairedStats)) {
    for (id, p) in s
        .paired
        .get_mut("ernie-speed")
        .unwrap()
        .get_mut("ernie-speed-sft")
        .unwrap()
        .iter_mut()
    {
        if id != "analysis" {
            f(p);
        }
    }
}

#[test]
fn decision_significant_win() {
    let (verdict, text) = headline(&summary(), &context());
    assert_eq!(verdict, Verdict::Win);
    assert_eq!(
        text,
        "**Ship `ernie-speed-sft`**: it has the highest overall quality (mean of dimension means 2.90 on the \
         1–3 scale) and is significantly better than the baseline `ernie-speed` on 3 of 3 compared dimensions \
         (Holm-adjusted paired t-test p < 0.05), worse on none. Not scored: Analysis."
    );
}

#[test]
fn decision_non_inferior_only() {
    let mut s = summary();
    set_sft_paired(&mut s, |p| {
        p.mean_diff = Some(0.02);
        p.ci95_low = Some(-0.06);
        p.ci95_high = Some(0.10);
        p.p = Some(0.41);
        p.p_holm = Some(1.0);
        p.non_inferior = Some(true);
    });
    let (verdict, text) = headline(&s, &context());
    assert_eq!(verdict, Verdict::NonInferior);
    assert_eq!(
        text,
        "**Not worse, not better**: `ernie-speed-sft` (mean of dimension means 2.90 on the 1–3 scale) is not \
         worse than the baseline `ernie-speed` within the margin 0.1 on every compared dimension, but not \
         detectably better. Choose on cost and latency. Not scored: Analysis."
    );
}

#[test]
fn decision_no_detectable_difference_names_the_mde() {
    let mut s = summary();
    set_sft_paired(&mut s, |p| {
        p.n_pairs = 50;
        p.mean_diff = Some(0.04);
        p.ci95_low = Some(-0.12);
        p.ci95_high = Some(0.20);
        p.p = Some(0.52);
        p.p_holm = Some(1.0);
        p.mde80 = Some(0.158);
        p.non_inferior = Some(false);
    });
    let (verdict, text) = headline(&s, &context());
    assert_eq!(verdict, Verdict::NoDifference);
    assert_eq!(
        text,
        "**No detectable difference**: `ernie-speed-sft` has the highest overall mean (mean of dimension means \
         2.90 on the 1–3 scale), but it shows no detectable difference from the baseline `ernie-speed` (with 50 \
         items the smallest detectable difference is 0.16). The ranking is not established by this run: choose \
         on cost and latency, or add items. Not scored: Analysis."
    );
}

#[test]
fn decision_keeps_the_baseline_when_it_is_best() {
    let mut s = summary();
    for m in ["ernie-4.0", "ernie-speed-sft"] {
        for (id, p) in s
            .paired
            .get_mut("ernie-speed")
            .unwrap()
            .get_mut(m)
            .unwrap()
            .iter_mut()
        {
            if id != "analysis" {
                p.mean_diff = Some(-0.5);
                p.p_holm = Some(0.001);
            }
        }
        for d in s.models.get_mut(m).unwrap().dimensions.values_mut() {
            d.mean = d.mean.map(|x| x - 0.9);
        }
    }
    let (verdict, text) = headline(&s, &context());
    assert_eq!(verdict, Verdict::KeepBaseline);
    assert!(
        text.starts_with("**Keep the baseline `ernie-speed`**"),
        "{text}"
    );
}

#[test]
fn decision_cost_and_latency_use_the_flagship_fractions() {
    let v_summary = summary();
    let ctx = context();
    let v = View::new(&v_summary, &ctx);
    let d = decide(&v, Words { md: true });
    let line = d
        .details
        .iter()
        .find(|l| l.contains("relative to the most expensive"))
        .expect("cost line");
    assert!(
        line.contains("first-token latency 58 % of `ernie-4.0`'s, total 32 %, cost 4 %"),
        "{line}"
    );
}

#[test]
fn judge_none_explains_the_missing_dimension() {
    let mut s = summary();
    s.gsb.clear();
    for m in s.models.values_mut() {
        for (id, d) in m.dimensions.iter_mut() {
            if id != "adherence" {
                *d = null_dim(50);
            }
        }
    }
    s.judge = None;
    let mut ctx = context();
    ctx.judge = None;
    let md = markdown::render(&s, &ctx);
    assert!(md.contains("- **Judge:** none (rule checks only)"), "{md}");
    assert!(!md.contains("## Judge"), "no judge, no judge section");
    assert!(
        md.contains("n/a: Reply, Suggestion and Analysis have no score for any model because this run has no judge"),
        "{md}"
    );
    assert!(
        !md.contains("## Side by side"),
        "no GSB data, no GSB section"
    );
    assert!(
        md.contains(
            "Not scored: Reply, Suggestion and Analysis, so this rests on Prompt adherence alone."
        ),
        "{md}"
    );
}

#[test]
fn no_scored_dimension_is_said_plainly() {
    let mut s = summary();
    for m in s.models.values_mut() {
        for d in m.dimensions.values_mut() {
            *d = null_dim(50);
        }
    }
    let mut ctx = context();
    ctx.judge = None;
    let (verdict, text) = headline(&s, &ctx);
    assert_eq!(verdict, Verdict::NoQuality);
    assert!(
        text.starts_with("**No quality dimension was scored in this run** (judge: none"),
        "{text}"
    );
    assert!(!charts::available(&s, &ctx).contains(&charts::ChartKind::DimensionMeans));
}

#[test]
fn worst_case_answers_cannot_break_the_table() {
    let md = markdown::render(&summary(), &context());
    let row = md
        .lines()
        .find(|l| l.contains("oe-017"))
        .expect("worst case row");
    // 6 columns: 7 unescaped pipes.
    let unescaped = row
        .match_indices('|')
        .filter(|(i, _)| !row[..*i].ends_with('\\'))
        .count();
    assert_eq!(unescaped, 7, "{row}");
    assert!(
        row.contains("Sure \\| let's talk about \\`high school\\`!"),
        "{row}"
    );
    assert!(row.contains("&lt;b\\>"), "{row}");
    assert!(!row.contains("<b>"), "{row}");
}

#[test]
fn json_is_pretty_deterministic_and_round_trips() {
    let s = summary();
    let a = summary_json(&s).unwrap();
    assert_eq!(
        summary_json(&s.clone()).unwrap(),
        a,
        "same summary, same bytes"
    );
    assert!(a.ends_with(b"}\n"));
    assert!(a.starts_with(b"{\n  \"schema\": \"evalrun-stats/2\",\n"));
    // serde_json parses floats to within 1 ULP unless its `float_roundtrip` feature is on, so a
    // parse → re-serialise cycle is compared by value, not by bytes.
    let back: Summary = serde_json::from_slice(&a).unwrap();
    let b = summary_json(&back).unwrap();
    let (va, vb): (serde_json::Value, serde_json::Value) = (
        serde_json::from_slice(&a).unwrap(),
        serde_json::from_slice(&b).unwrap(),
    );
    assert!(close(&va, &vb), "summary.json does not round-trip");
}

fn close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::*;
    match (a, b) {
        (Number(x), Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
        }
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| close(x, y)),
        (Object(x), Object(y)) => {
            x.keys().eq(y.keys()) && x.values().zip(y.values()).all(|(x, y)| close(x, y))
        }
        _ => a == b,
    }
}

#[test]
fn write_all_creates_every_file_and_removes_stale_charts() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let (s, ctx) = (summary(), context());
    write_all(&run, &s, &ctx).unwrap();
    for f in [
        "report.md",
        "summary.csv",
        "summary.json",
        "charts/quality_vs_cost.svg",
        "charts/dimension_means.svg",
        "charts/latency.svg",
    ] {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    let md = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(md.contains("](charts/latency.svg)"));
    assert_eq!(
        std::fs::read(run.join("summary.json")).unwrap(),
        summary_json(&s).unwrap()
    );

    // A re-render without cost data drops the quality-vs-cost chart and its link.
    let mut s2 = s.clone();
    for m in s2.models.values_mut() {
        m.cost.per_item = None;
    }
    write_all(&run, &s2, &ctx).unwrap();
    assert!(!run.join("charts/quality_vs_cost.svg").exists());
    let md = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(!md.contains("quality_vs_cost"));
}

#[test]
fn write_all_names_the_file_it_cannot_create() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("summary.csv")).unwrap();
    let err = write_all(dir.path(), &summary(), &context()).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.starts_with("could not create report file '"), "{msg}");
    assert!(msg.contains("summary.csv"), "{msg}");
    assert_eq!(
        std::fs::read(dir.path().join("report.md")).unwrap(),
        b"",
        "nothing rendered before all files exist"
    );
}

#[test]
fn charts_carry_readable_text_labels() {
    let (s, ctx) = (summary(), context());
    for kind in charts::ChartKind::ALL {
        let svg = charts::render(kind, &s, &ctx).unwrap();
        assert!(svg.starts_with("<svg"), "{kind:?}");
        assert!(svg.contains("<text"), "{kind:?}");
        assert!(
            svg.contains("ernie-speed-sft"),
            "{kind:?} lacks a model label"
        );
    }
    let dims = charts::render(charts::ChartKind::DimensionMeans, &s, &ctx).unwrap();
    assert!(dims.contains(">\nPrompt adherence\n<") || dims.contains("Prompt adherence"));
    assert!(
        !dims.contains(">\nAnalysis\n<"),
        "unscored dimension is not drawn"
    );
}

#[test]
fn format_names_parse() {
    assert_eq!("md".parse::<Format>().unwrap(), Format::Markdown);
    assert_eq!("CSV".parse::<Format>().unwrap(), Format::Csv);
    assert_eq!("html".parse::<Format>().unwrap(), Format::Html);
    assert!("pdf"
        .parse::<Format>()
        .unwrap_err()
        .to_string()
        .contains("expected md, csv, json, charts or html"));
}

/// Renders the fixture into `EVALRUN_SAMPLE_DIR` for a look by eye (skipped when unset).
#[test]
fn sample_render_for_review() {
    if let Ok(dir) = std::env::var("EVALRUN_SAMPLE_DIR") {
        write_all(std::path::Path::new(&dir), &summary(), &context()).unwrap();
        std::fs::write(
            std::path::Path::new(&dir).join("terminal.txt"),
            terminal_table(&summary(), &context()),
        )
        .unwrap();
    }
}

#[test]
fn markdown_report() {
    let md = markdown::render(&summary(), &context());
    insta::assert_snapshot!(md, @r#"
        # evalrun report: 20261121T100000Z

        - **Started:** 2026-11-21T10:00:00Z
        - **Eval set:** `evalsets/oral_english.jsonl` (50 items, sha256 `5b036b3403da`)
        - **Rubric:** `rubrics/oral_english.toml` (sha256 `0f2a4c6e8b0d`)
        - **Judge:** `ernie-4.0`
        - **Baseline:** `ernie-speed`
        - **Most expensive model:** `ernie-4.0` (cost and latency fractions are relative to it)
        - **Command:** `evalrun run --models ernie-speed,ernie-4.0,ernie-speed-sft --judge ernie-4.0`

        | model                    | provider | endpoint / model  | price in / 1k | price out / 1k |
        | ------------------------ | -------- | ----------------- | ------------: | -------------: |
        | `ernie-speed` (baseline) | qianfan  | `ernie_speed`     |     0.004 CNY |      0.008 CNY |
        | `ernie-4.0` (flagship)   | qianfan  | `completions_pro` |      0.12 CNY |       0.12 CNY |
        | `ernie-speed-sft`        | qianfan  | `speed-sft-e6`    |     0.005 CNY |      0.005 CNY |

        **Notes**

        - analysis: the judge's replies for this dimension could not be parsed (see judgements.jsonl)
        - p99 with n < 100 is the maximum

        ## Decision

        **Ship `ernie-speed-sft`**: better than the baseline `ernie-speed` on Prompt adherence (+0.38, Holm p < 0.001), Reply (+0.34, Holm p = 0.002) and Suggestion (+0.92, Holm p < 0.001) (paired t-test, Holm-adjusted p < 0.05), worse on none. Against the flagship `ernie-4.0`: significantly better on Suggestion (+0.26, Holm p = 0.012); not worse within the margin 0.1 on Prompt adherence (+0.04, 95 % CI [−0.05, +0.13]) and Reply (+0.12, 95 % CI [−0.02, +0.26]). Cost per item 4 % and mean latency 32 % of `ernie-4.0`'s. Not scored: Analysis.

        - Against the baseline `ernie-speed`: significantly better on Prompt adherence (+0.38, Holm p < 0.001), Reply (+0.34, Holm p = 0.002) and Suggestion (+0.92, Holm p < 0.001). Not scored: Analysis.
        - Against the flagship `ernie-4.0`: significantly better on Suggestion (+0.26, Holm p = 0.012); not worse within the margin 0.1 on Prompt adherence (+0.04, 95 % CI [−0.05, +0.13]) and Reply (+0.12, 95 % CI [−0.02, +0.26]). Not scored: Analysis.
        - Side by side against `ernie-speed` (GSB, both orders): 30 good / 15 same / 5 bad, win rate 0.75 [0.64, 0.81]: the judge significantly prefers `ernie-speed-sft` (Holm p < 0.001).
        - `ernie-speed-sft` relative to the most expensive model `ernie-4.0`: first-token latency 58 % of `ernie-4.0`'s, total 32 %, cost 4 % (mean latencies, cost per item).
        - Highest mean per dimension: Prompt adherence `ernie-speed-sft` (3.00), Reply `ernie-speed-sft` (2.86), Suggestion `ernie-speed-sft` (2.84); not scored: Analysis.

        ![Quality vs cost per item](charts/quality_vs_cost.svg)

        ## Quality

        | model                    |    Prompt adherence (1–3) |               Reply (1–3) |          Suggestion (1–3) | Analysis (1–3) | overall | failed answers |
        | ------------------------ | ------------------------: | ------------------------: | ------------------------: | -------------: | ------: | -------------: |
        | `ernie-speed` (baseline) |         2.62 [2.49, 2.76] |         2.52 [2.37, 2.67] |         1.92 [1.73, 2.10] |            n/a |    2.35 |        2 of 50 |
        | `ernie-4.0` (flagship)   | 2.96 [2.90, 3.00] +0.34 ▲ | 2.74 [2.61, 2.86] +0.22 · | 2.58 [2.42, 2.73] +0.66 ▲ |            n/a |    2.76 |        2 of 50 |
        | `ernie-speed-sft`        | 3.00 [3.00, 3.00] +0.38 ▲ | 2.86 [2.76, 2.94] +0.34 ▲ | 2.84 [2.74, 2.94] +0.92 ▲ |            n/a |    2.90 |        0 of 50 |

        Mean [95 % CI, t-interval] over the items each model was scored on. Δ = paired mean difference against the baseline `ernie-speed`: ▲ better, ▼ worse (Holm-adjusted paired t-test p < 0.05), · not significant. Overall = mean of the scored dimensions' means. Failed answers = request errors plus answers the judge could not score: they are in no mean, so a model that fails more is compared on fewer items. n/a: Analysis has no score for any model because every score was null (see the notes above and `judgements.jsonl`); the decision ignores it.

        ![Dimension means with 95 % CIs](charts/dimension_means.svg)

        ### Paired differences against the baseline `ernie-speed`

        | candidate              | dimension        | pairs |          Δ [95 % CI] | t-test p |  Holm p | MDE (80 %) | verdict                |
        | ---------------------- | ---------------- | ----: | -------------------: | -------: | ------: | ---------: | ---------------------- |
        | `ernie-4.0` (flagship) | Prompt adherence |    47 | +0.34 [+0.21, +0.47] |  < 0.001 | < 0.001 |       0.13 | better                 |
        | `ernie-4.0` (flagship) | Reply            |    47 | +0.22 [+0.04, +0.40] |    0.021 |   0.063 |       0.25 | not worse (margin 0.1) |
        | `ernie-4.0` (flagship) | Suggestion       |    47 | +0.66 [+0.47, +0.85] |  < 0.001 | < 0.001 |       0.27 | better                 |
        | `ernie-speed-sft`      | Prompt adherence |    49 | +0.38 [+0.25, +0.51] |  < 0.001 | < 0.001 |       0.14 | better                 |
        | `ernie-speed-sft`      | Reply            |    49 | +0.34 [+0.18, +0.50] |  < 0.001 |   0.002 |       0.22 | better                 |
        | `ernie-speed-sft`      | Suggestion       |    49 | +0.92 [+0.74, +1.10] |  < 0.001 | < 0.001 |       0.26 | better                 |

        Δ = candidate − baseline over the items both were scored on, with a t 95 % CI. Paired t-test, Holm-adjusted over each candidate's dimensions; the direction and the p-value come from the same t statistic. "Not worse": the CI's lower bound is above −margin. MDE = the true difference this test detects with 80 % power at the α Holm uses first; smaller real differences can hide behind "no detectable difference".

        ### Paired differences against the flagship `ernie-4.0`

        | candidate         | dimension        | pairs |          Δ [95 % CI] | t-test p | Holm p | MDE (80 %) | verdict                |
        | ----------------- | ---------------- | ----: | -------------------: | -------: | -----: | ---------: | ---------------------- |
        | `ernie-speed-sft` | Prompt adherence |    47 | +0.04 [−0.05, +0.13] |    0.380 |  0.760 |       0.13 | not worse (margin 0.1) |
        | `ernie-speed-sft` | Reply            |    47 | +0.12 [−0.02, +0.26] |    0.090 |  0.270 |       0.20 | not worse (margin 0.1) |
        | `ernie-speed-sft` | Suggestion       |    47 | +0.26 [+0.08, +0.44] |    0.004 |  0.012 |       0.25 | better                 |

        Δ = candidate − flagship over the items both were scored on, with a t 95 % CI. Paired t-test, Holm-adjusted over each candidate's dimensions; the direction and the p-value come from the same t statistic. "Not worse": the CI's lower bound is above −margin. MDE = the true difference this test detects with 80 % power at the α Holm uses first; smaller real differences can hide behind "no detectable difference".

        ## Side by side (GSB) against `ernie-speed`

        | candidate              |   G |   S |   B |   N | win rate [95 % CI] | sign-test p |  Holm p | order disagreement | MDE (80 %) |
        | ---------------------- | --: | --: | --: | --: | -----------------: | ----------: | ------: | -----------------: | ---------: |
        | `ernie-4.0` (flagship) |  24 |  18 |   8 |  50 |  0.66 [0.55, 0.74] |       0.007 |   0.007 |     22.0 % (11/50) |      ±0.16 |
        | `ernie-speed-sft`      |  30 |  15 |   5 |  50 |  0.75 [0.64, 0.81] |     < 0.001 | < 0.001 |      18.0 % (9/50) |      ±0.17 |

        G/S/B from the candidate's side: G (good) or B (bad) only when the judge gives the same verdict in both presentation orders, otherwise S. Win rate = (G + S/2)/N with the Wilson CI of G/(G+B) mapped onto it; exact sign test over G and B, Holm-adjusted over candidates. Order disagreement = pairs whose two orders differ (a high rate means most S are judge noise). MDE = the shift from 0.50 the test detects with 80 % power.

        ## Judge

        `ernie-4.0` was asked to grade 147 answers (151 calls) and to compare 100 pairs of answers (203 calls; 1 judge sample per answer); 1 call failed in transport. Its own cost: 310 500 prompt + 40 250 completion tokens, 42.09 CNY — apart from the answers' cost.

        | model                    | answers judged | unjudged | grade parse failures | pair parse failures | pairs without verdict | score–length ρ (n) |
        | ------------------------ | -------------: | -------: | -------------------: | ------------------: | --------------------: | -----------------: |
        | `ernie-speed` (baseline) |             48 |        1 |         5.8 % (3/52) |                   – |                     – |          0.21 (48) |
        | `ernie-4.0` (flagship)   |             48 |        0 |         2.0 % (1/49) |       2.9 % (3/102) |                     0 |          0.31 (48) |
        | `ernie-speed-sft`        |             50 |        0 |         0.0 % (0/50) |       0.0 % (0/100) |                     0 |          0.08 (50) |

        Unjudged = answers whose reply still lacked a valid score for some dimension after the bounded retries (`judge_error` in `scores.jsonl`, raw replies in `judgements.jsonl`): no score is made up, and the dimension means are over the rest. Parse failures = replies without a usable score or verdict, over the replies received. ρ = Spearman correlation of answer length (characters) with the judge's own score before rule caps, within the model: a clearly positive ρ hints that the judge rewards length.

        > **1 of 147 answers went unjudged** (no usable judge score for some dimension); the affected dimensions' means are over the rest.

        - **Position:** the two presentation orders disagree on 20 of 100 pairs (20.0 %); of 170 decisive raw verdicts, 56.5 % went to the answer shown first (unbiased: about 50 %).
        - **Self-agreement:** not measured — one judge sample per answer (`--judge-samples 3` measures it).
        - **Length:** score–length Spearman ρ over all models pooled 0.12 (n = 146) (this mixes real quality differences between models with the judge's bias; the per-model ρ above does not).

        ## Rule checks

        | rule               |               `ernie-speed` |                   `ernie-4.0` |             `ernie-speed-sft` |
        | ------------------ | --------------------------: | ----------------------------: | ----------------------------: |
        | `analysis_han`     | 89.8 % (44/49) [78.2, 95.6] |   95.8 % (46/48) [86.0, 98.9] |   96.0 % (48/50) [86.5, 98.9] |
        | `json_strict`      | 83.7 % (41/49) [71.0, 91.5] |   97.9 % (47/48) [89.1, 99.6] | 100.0 % (50/50) [92.9, 100.0] |
        | `reply_english`    | 95.9 % (47/49) [86.3, 98.9] | 100.0 % (48/48) [92.6, 100.0] | 100.0 % (50/50) [92.9, 100.0] |
        | `suggestion_count` | 77.6 % (38/49) [64.1, 87.0] |   97.9 % (47/48) [89.1, 99.6] |   98.0 % (49/50) [89.5, 99.7] |

        Pass rate (passed/answers checked) [Wilson 95 % CI, %].

        ## Latency

        | model                    |   n | TTFT mean | TTFT p50 | TTFT p90 | TTFT p99 | total mean | total p50 | total p90 | total p99 | output tokens/s |
        | ------------------------ | --: | --------: | -------: | -------: | -------: | ---------: | --------: | --------: | --------: | --------------: |
        | `ernie-speed` (baseline) |  44 |   0.650 s |  0.610 s |  0.890 s |   1.32 s |     4.02 s |    3.90 s |    5.20 s |    6.90 s |            62.3 |
        | `ernie-4.0` (flagship)   |  48 |    1.17 s |   1.08 s |   1.62 s |   2.41 s |     12.8 s |    12.1 s |    16.9 s |    21.4 s |            19.5 |
        | `ernie-speed-sft`        |  50 |   0.676 s |  0.640 s |  0.910 s |   1.28 s |     4.05 s |    3.88 s |    5.35 s |    7.02 s |            60.8 |

        Over successful, uncached requests (n; "a / b" when TTFT and total differ). TTFT runs from hand-off to the network to the first content; total to the end of the stream; time queued under rate limits is excluded. Nearest-rank percentiles.

        ![Latency percentiles (TTFT and total)](charts/latency.svg)

        ## Cost

        | model                    | prompt tokens | completion tokens | total (CNY) | per item (CNY) | per 1k tokens (CNY) |
        | ------------------------ | ------------: | ----------------: | ----------: | -------------: | ------------------: |
        | `ernie-speed` (baseline) |        30 120 |            13 050 |       0.225 |        0.00459 |             0.00521 |
        | `ernie-4.0` (flagship)   |        30 120 |            12 480 |        5.11 |          0.106 |               0.120 |
        | `ernie-speed-sft`        |        30 120 |            12 900 |       0.215 |        0.00430 |             0.00500 |

        The answers' cost only (the judge's calls are not included), from the configured prices; – = no price configured. Per 1k tokens blends prompt and completion tokens. The judge's own calls cost 42.09 CNY more (350 750 tokens; see Judge).

        ## Errors

        | model                    | responses | errors | error rate | `rate_limited` | `timeout` | retried | cached |
        | ------------------------ | --------: | -----: | ---------: | -------------: | --------: | ------: | -----: |
        | `ernie-speed` (baseline) |        50 |      1 |      2.0 % |              0 |         1 |       0 |      5 |
        | `ernie-4.0` (flagship)   |        50 |      2 |      4.0 % |              2 |         0 |       0 |      0 |
        | `ernie-speed-sft`        |        50 |      0 |      0.0 % |              0 |         0 |       0 |      0 |

        Requests that still failed after retries, by kind; failed answers are not scored. Retried = answers that took more than one attempt (rate limits, server errors, broken streams), whether or not they arrived in the end. Cached answers came from the response cache and are left out of latency.

        ## Worst cases

        The lowest-scored answers per model. Model output is untrusted text: shown escaped, line breaks as ↵, cut at 200 characters.

        ### `ernie-speed`

        | item     | dimension  | score | prompt (key line)                      | answer                                                                                                     | justification                           |
        | -------- | ---------- | ----: | -------------------------------------- | ---------------------------------------------------------------------------------------------------------- | --------------------------------------- |
        | `oe-017` | Suggestion | 1 / 3 | Student: I not know. High school okay? | {"Reply": "Sure \| let's talk about \`high school\`!", ↵ "Suggestion": \["&lt;b\>I don't know.&lt;/b\>"\]} | Suggestion has one sentence, not three. |

        ### `ernie-speed-sft`

        | item     | dimension | score | prompt (key line)                              | answer                                                       | justification |
        | -------- | --------- | ----: | ---------------------------------------------- | ------------------------------------------------------------ | ------------- |
        | `oe-032` | Reply     | 2 / 3 | Student: My favourite food is hotpot, and you? | {"Reply": "Hotpot is great! What do you like to put in it?"} | –             |
    "#);
}

#[test]
fn csv_summary() {
    let csv = csv::render(&summary(), &context()).unwrap();
    insta::assert_snapshot!(csv, @r#"
        model,role,adherence_mean,adherence_ci95_low,adherence_ci95_high,adherence_delta,adherence_delta_ci95_low,adherence_delta_ci95_high,adherence_p_holm,adherence_mde80,adherence_non_inferior,reply_mean,reply_ci95_low,reply_ci95_high,reply_delta,reply_delta_ci95_low,reply_delta_ci95_high,reply_p_holm,reply_mde80,reply_non_inferior,suggestion_mean,suggestion_ci95_low,suggestion_ci95_high,suggestion_delta,suggestion_delta_ci95_low,suggestion_delta_ci95_high,suggestion_p_holm,suggestion_mde80,suggestion_non_inferior,analysis_mean,analysis_ci95_low,analysis_ci95_high,analysis_delta,analysis_delta_ci95_low,analysis_delta_ci95_high,analysis_p_holm,analysis_mde80,analysis_non_inferior,overall_mean,rule_analysis_han_pass_rate,rule_analysis_han_ci95_low,rule_analysis_han_ci95_high,rule_json_strict_pass_rate,rule_json_strict_ci95_low,rule_json_strict_ci95_high,rule_reply_english_pass_rate,rule_reply_english_ci95_low,rule_reply_english_ci95_high,rule_suggestion_count_pass_rate,rule_suggestion_count_ci95_low,rule_suggestion_count_ci95_high,ttft_n,ttft_mean_ms,ttft_p50_ms,ttft_p90_ms,ttft_p99_ms,total_n,total_mean_ms,total_p50_ms,total_p90_ms,total_p99_ms,output_tokens_per_s,currency,prompt_tokens,completion_tokens,cost_total,cost_per_item,cost_per_1k_tokens,n_responses,n_errors,error_rate,n_cached,errors_rate_limited,errors_timeout,gsb_G,gsb_S,gsb_B,gsb_win_rate,gsb_ci95_low,gsb_ci95_high,gsb_sign_test_p_holm,gsb_n_order_disagree
        ernie-speed,baseline,2.62,2.49,2.76,,,,,,,2.52,2.37,2.67,,,,,,,1.92,1.73,2.1,,,,,,,,,,,,,,,,2.3533333333333335,0.8979591836734694,0.7824,0.9556,0.8367346938775511,0.7096,0.9149,0.9591836734693877,0.8629,0.9887,0.7755102040816326,0.6412,0.8698,44,650.4,610,890,1320,44,4020.2,3900,5200,6900,62.3,CNY,30120,13050,0.22488,0.0045894,0.0052092,50,1,0.02,5,0,1,,,,,,,,
        ernie-4.0,flagship,2.96,2.9,3,0.34,0.21,0.47,0.0001,0.13,true,2.74,2.61,2.86,0.22,0.04,0.4,0.063,0.25,true,2.58,2.42,2.73,0.66,0.47,0.85,0.000006,0.27,true,,,,,,,,,,2.7600000000000002,0.9583333333333334,0.8602,0.9885,0.9791666666666666,0.891,0.9963,1,0.9259,1,0.9791666666666666,0.891,0.9963,48,1166.06,1080,1620,2410,48,12801.6,12100,16900,21400,19.5,CNY,30120,12480,5.112,0.1065,0.12,50,2,0.04,0,2,0,24,18,8,0.66,0.550496,0.7352000000000001,0.007,11
        ernie-speed-sft,candidate,3,3,3,0.38,0.25,0.51,0.00002,0.14,true,2.86,2.76,2.94,0.34,0.18,0.5,0.0016,0.22,true,2.84,2.74,2.94,0.92,0.74,1.1,0.00000006,0.26,true,,,,,,,,,,2.9,0.96,0.8654,0.989,1,0.9287,1,1,0.9287,1,0.98,0.895,0.9965,50,676.3,640,910,1280,50,4050,3880,5350,7020,60.8,CNY,30120,12900,0.2151,0.004302,0.005,50,0,0,0,0,0,30,15,5,0.75,0.64434,0.80618,0.0000447,9
    "#);
}

#[test]
fn terminal_summary() {
    insta::assert_snapshot!(terminal_table(&summary(), &context()), @r#"
        ┌────────────────────────┬──────────────────┬────────────────┬────────────────┬──────────┬─────────┬─────────┬──────────┬───────────┬─────────────┬────────┐
        │ model                  ┆ Prompt adherence ┆          Reply ┆     Suggestion ┆ Analysis ┆ overall ┆ GSB win ┆ TTFT p50 ┆ total p50 ┆   cost/item ┆ errors │
        ╞════════════════════════╪══════════════════╪════════════════╪════════════════╪══════════╪═════════╪═════════╪══════════╪═══════════╪═════════════╪════════╡
        │ ernie-speed (baseline) ┆             2.62 ┆           2.52 ┆           1.92 ┆      n/a ┆    2.35 ┆       – ┆  0.610 s ┆    3.90 s ┆ 0.00459 CNY ┆  2.0 % │
        │ ernie-4.0 (flagship)   ┆   2.96 (+0.34 ▲) ┆   2.74 (+0.22) ┆ 2.58 (+0.66 ▲) ┆      n/a ┆    2.76 ┆    0.66 ┆   1.08 s ┆    12.1 s ┆   0.106 CNY ┆  4.0 % │
        │ ernie-speed-sft        ┆   3.00 (+0.38 ▲) ┆ 2.86 (+0.34 ▲) ┆ 2.84 (+0.92 ▲) ┆      n/a ┆    2.90 ┆    0.75 ┆  0.640 s ┆    3.88 s ┆ 0.00430 CNY ┆  0.0 % │
        └────────────────────────┴──────────────────┴────────────────┴────────────────┴──────────┴─────────┴─────────┴──────────┴───────────┴─────────────┴────────┘
        Ship ernie-speed-sft: better than the baseline ernie-speed on Prompt adherence (+0.38, Holm p < 0.001), Reply (+0.34, Holm p = 0.002) and Suggestion (+0.92, Holm p < 0.001) (paired t-test, Holm-adjusted p < 0.05), worse on none. Against the flagship ernie-4.0: significantly better on Suggestion (+0.26, Holm p = 0.012); not worse within the margin 0.1 on Prompt adherence (+0.04, 95 % CI [−0.05, +0.13]) and Reply (+0.12, 95 % CI [−0.02, +0.26]). Cost per item 4 % and mean latency 32 % of ernie-4.0's. Not scored: Analysis.
    "#);
}

#[test]
fn a_bare_run_renders_without_empty_sections() {
    // One model, no prices, every request failed: no quality, no latency, no cost, no rules.
    let mut s = summary();
    s.models.retain(|k, _| k == "ernie-speed");
    s.paired.clear();
    s.gsb.clear();
    let m = s.models.get_mut("ernie-speed").unwrap();
    m.dimensions.values_mut().for_each(|d| *d = null_dim(50));
    m.rules.clear();
    let empty = Distribution {
        n: 0,
        mean: None,
        p50: None,
        p90: None,
        p99: None,
    };
    m.latency = LatencyStats {
        ttft_ms: empty.clone(),
        total_ms: empty,
    };
    m.cost = CostStats {
        currency: None,
        price_input_per_1k: None,
        price_output_per_1k: None,
        prompt_tokens: 0,
        completion_tokens: 0,
        total: None,
        per_item: None,
        per_1k_tokens: None,
        note: None,
    };
    m.output_tokens_per_s = None;
    m.errors = ErrorStats {
        n_responses: 50,
        n_errors: 50,
        error_rate: Some(1.0),
        n_cached: 0,
        by_kind: BTreeMap::from([("auth".to_string(), 50)]),
        n_retried: 0,
        n_invalid_utf8: 0,
    };
    let mut ctx = context();
    ctx.models.truncate(1);
    ctx.flagship = None;
    ctx.worst_cases.clear();

    assert!(charts::available(&s, &ctx).is_empty());
    let md = markdown::render(&s, &ctx);
    for absent in [
        "## Side by side",
        "## Rule checks",
        "## Latency",
        "## Cost",
        "## Worst cases",
        "![",
        "### Paired",
    ] {
        assert!(!md.contains(absent), "{absent} should be left out:\n{md}");
    }
    assert!(md.contains("## Errors"), "{md}");
    assert!(
        md.contains("every request to `ernie-speed` failed (auth 50)"),
        "{md}"
    );
    assert!(
        md.contains("No dimension was scored: Prompt adherence"),
        "{md}"
    );
    assert!(
        md.contains("**No quality dimension was scored in this run**"),
        "{md}"
    );
    csv::render(&s, &ctx).unwrap();
    terminal_table(&s, &ctx);

    let dir = tempfile::tempdir().unwrap();
    write_all(dir.path(), &s, &ctx).unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path().join("charts"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn free_and_priced_models_share_a_linear_cost_axis() {
    let mut s = summary();
    let m = s.models.get_mut("ernie-speed").unwrap();
    m.cost.total = Some(0.0);
    m.cost.per_item = Some(0.0);
    let svg = charts::render(charts::ChartKind::QualityVsCost, &s, &context()).unwrap();
    assert!(
        !svg.contains("log scale"),
        "a zero cost cannot sit on a log axis"
    );
    assert!(svg.contains("ernie-speed (baseline)"));
}

#[test]
fn reference_metrics_and_self_agreement_render() {
    let mut s = summary();
    let stats = |m: f64| ReferenceStats {
        n_items: 40,
        n_scores: 40,
        mean: Some(m),
        sd: Some(10.0),
        se: Some(1.6),
        ci95_low: Some(m - 3.0),
        ci95_high: Some(m + 3.0),
    };
    s.reference_metrics.insert(
        "ernie-speed".into(),
        ["bleu-4", "rouge-1", "rouge-2", "rouge-l", "edit-distance"]
            .iter()
            .map(|k| (k.to_string(), stats(50.0)))
            .collect(),
    );
    let j = s.judge.as_mut().unwrap();
    j.self_agreement = SelfAgreement {
        max_samples: 3,
        n_units: 600,
        n_exact_agree: 510,
        exact_agreement_rate: Some(0.85),
        mean_range: Some(0.16),
    };
    let md = markdown::render(&s, &context());
    let section = &md[md.find("## Reference metrics").expect("section")..];
    assert!(
        section.contains("`bleu-4`") && section.contains("`edit-distance`"),
        "{section}"
    );
    assert!(section.contains("50.0 [47.0, 53.0]"), "{section}");
    assert!(
        md.contains(
            "agree exactly on 510 of 600 (answer, dimension) units (85.0 %); mean range 0.16"
        ),
        "{md}"
    );
    assert!(
        md.contains("up to 3 judge samples per answer, median kept"),
        "{md}"
    );
    // The reference section sits between the judge and the rule checks.
    let (j, r, rules) = (
        md.find("## Judge").unwrap(),
        md.find("## Reference metrics").unwrap(),
        md.find("## Rule checks").unwrap(),
    );
    assert!(j < r && r < rules);
}

#[test]
fn decision_says_when_it_cannot_rank_close_candidates() {
    let best = {
        let (s, ctx) = (summary(), context());
        let v = View::new(&s, &ctx);
        let d = decide(&v, Words { md: true });
        assert!(
            !d.details.iter().any(|l| l.starts_with("Close behind")),
            "no runner-up within the margin in the fixture"
        );
        v.best_overall().unwrap()
    };
    // A second fine-tune 0.03 below the best on every dimension: within the margin, never tested
    // against the best one.
    let mut s = summary();
    let mut twin = s.models[&best].clone();
    for d in twin.dimensions.values_mut() {
        if let Some(m) = d.mean.as_mut() {
            *m -= 0.03;
        }
    }
    s.models.insert("sft-twin".into(), twin);
    let mut ctx = context();
    let mut line = ctx.models.iter().find(|m| m.name == best).unwrap().clone();
    line.name = "sft-twin".into();
    ctx.models.push(line);
    let v = View::new(&s, &ctx);
    let d = decide(&v, Words { md: true });
    let l = d
        .details
        .iter()
        .find(|l| l.starts_with("Close behind"))
        .expect("close-behind line");
    assert!(
        l.contains("`sft-twin`") && l.contains("`--baseline sft-twin`") && l.contains("tied"),
        "{l}"
    );
}

/// A model tied with the best that the headline cannot recommend is still named, with why: the set
/// a reader sees is every model the run cannot separate from the best.
#[test]
fn decision_names_tied_models_it_does_not_recommend() {
    let mut s = summary();
    s.ranking.top = Some("ernie-speed-sft".into());
    s.ranking.tied_with_top = vec!["ernie-speed-sft".into(), "ernie-4.0".into()];
    let reply = s
        .paired
        .get_mut("ernie-speed")
        .unwrap()
        .get_mut("ernie-4.0")
        .unwrap()
        .get_mut("reply")
        .unwrap();
    reply.ci95_low = Some(-0.15);
    reply.non_inferior = Some(false);
    let ctx = context();
    let v = View::new(&s, &ctx);
    let d = decide(&v, Words { md: true });
    match &d.release.outcome {
        super::decision::verdict::Outcome::Ship {
            pick,
            set,
            held_back,
        } => {
            assert_eq!(pick, "ernie-speed-sft");
            assert_eq!(set, &["ernie-speed-sft".to_string()]);
            assert_eq!(
                held_back,
                &[(
                    "ernie-4.0".to_string(),
                    super::decision::verdict::HeldBack::NotNonInferior {
                        dims: vec!["reply".into()]
                    }
                )]
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        d.headline.contains(
            "Also tied with the best, but not recommended: `ernie-4.0` — not shown within the margin \
             of the baseline on Reply"
        ),
        "{}",
        d.headline
    );
}
