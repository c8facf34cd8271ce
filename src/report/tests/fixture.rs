//! The realistic run every format is pinned on (seed 000's line-up: a cheap base model as the
//! baseline, the flagship, and a fine-tuned cheap model), as a summary and its report context.

use std::collections::BTreeMap;

use crate::report::*;
use crate::stats::summary::*;

use super::builders::*;

pub(crate) fn summary() -> Summary {
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

pub(crate) fn context() -> ReportContext {
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
        run: crate::report::RunFacts {
            max_error_rate: 0.05,
            ..Default::default()
        },
    }
}
