//! Summary from records, by hand.

use super::*;
use crate::records::{DimensionScore, ErrorInfo, ErrorKind, PairVerdict, RuleOutcome, ScoreSource};
use crate::stats::fixture;
use crate::stats::{Z_80, Z_975};

fn cfg(models: &[&str]) -> StatsConfig {
    StatsConfig {
        models: models.iter().map(|m| m.to_string()).collect(),
        margin: Some(0.1),
        ..StatsConfig::default()
    }
}

fn resp(model: &str, item: &str, sample: u32, ttft: f64, total: f64) -> ResponseRecord {
    ResponseRecord {
        model: model.into(),
        item_id: item.into(),
        sample,
        output: Some("ok".into()),
        ttft_ms: Some(ttft),
        total_ms: Some(total),
        queue_ms: None,
        prompt_tokens: Some(100),
        completion_tokens: Some(50),
        finish_reason: Some("stop".into()),
        attempts: 1,
        error: None,
        cached: false,
        tokens_estimated: false,
        invalid_utf8: false,
        cached_utc: None,
    }
}

fn score(model: &str, item: &str, sample: u32, dims: &[(&str, Option<f64>)]) -> ScoreRecord {
    ScoreRecord {
        model: model.into(),
        item_id: item.into(),
        sample,
        rules: BTreeMap::new(),
        dimensions: dims
            .iter()
            .map(|(d, s)| {
                (
                    d.to_string(),
                    DimensionScore {
                        score: *s,
                        source: ScoreSource::Judge,
                        justification: None,
                        rule_cap: None,
                    },
                )
            })
            .collect(),
        reference_metrics: None,
        judge_error: None,
        judge_samples: None,
        panel: None,
    }
}

fn pair(item: &str, cand: &str, v: PairVerdict, f: PairVerdict, s: PairVerdict) -> PairRecord {
    PairRecord {
        item_id: item.into(),
        candidate: cand.into(),
        baseline: "base".into(),
        verdict: v,
        first_order: Some(f),
        second_order: Some(s),
        panel: None,
    }
}

#[test]
fn paired_worked_example_through_the_records() {
    // STATS.md §7: d = (1, 0, 0, 1, 1, 0, −1) ⇒ R⁺ = 16.5, z = 1, p = 0.31731050786291415; a
    // one-test Holm family leaves p unchanged. Base scores 2 everywhere, candidate 2 + d.
    let d = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, -1.0];
    let mut scores = Vec::new();
    for (i, di) in d.iter().enumerate() {
        let item = format!("i{i}");
        scores.push(score("base", &item, 0, &[("reply", Some(2.0))]));
        scores.push(score("cand", &item, 0, &[("reply", Some(2.0 + di))]));
    }
    let s = summarize(&cfg(&["base", "cand"]), vec![], scores, vec![]);
    let p = &s.paired["base"]["cand"]["reply"];
    assert_eq!(p.n_pairs, 7);
    assert_eq!((p.n_pos, p.n_neg, p.n_zero), (3, 1, 3));
    // STATS.md §11 example 1: t = 1, df 6, p = 0.355918, CI [−0.413403, 0.984832], not non-inferior.
    assert!((p.t.unwrap() - 1.0).abs() < 1e-12);
    assert!((p.p.unwrap() - 0.355918).abs() < 1e-6);
    assert_eq!((p.p_holm, p.m_family, p.df), (p.p, 1, Some(6)));
    assert!((p.ci95_low.unwrap() + 0.413403).abs() < 1e-6);
    assert_eq!(p.non_inferior, Some(false));
    assert_eq!(p.verdict, "no detectable difference");
    assert!((p.wilcoxon_p.unwrap() - 0.31731050786291415).abs() < 1e-9); // statrs erfc: ~1e-10
                                                                         // mean 2/7; sd by hand: Σd² = 4, Σ(d − 2/7)² = 4 − 7·(2/7)² = 24/7, sd = √(4/7).
    assert!((p.mean_diff.unwrap() - 2.0 / 7.0).abs() < 1e-15);
    assert!((p.sd_diff.unwrap() - (4.0f64 / 7.0).sqrt()).abs() < 1e-15);
    let mde = (Z_975 + Z_80) * (4.0f64 / 7.0).sqrt() / 7.0f64.sqrt();
    assert!((p.mde80.unwrap() - mde).abs() < 1e-15);
    assert_eq!(s.params.references.baseline.as_deref(), Some("base"));
    assert!(!s.paired["base"].contains_key("base"));
}

#[test]
fn gsb_worked_example() {
    // STATS.md §7: G:S:B = 4:3:1 ⇒ win rate 0.6875, sign-test p = 12/32 = 0.375.
    use PairVerdict::*;
    let mut pairs = Vec::new();
    for i in 0..4 {
        pairs.push(pair(&format!("g{i}"), "cand", G, G, G));
    }
    pairs.push(pair("s0", "cand", S, G, B)); // inconsistent orders
    pairs.push(pair("s1", "cand", S, S, S));
    pairs.push(pair("s2", "cand", S, G, S));
    pairs.push(pair("b0", "cand", B, B, B));
    let s = summarize(&cfg(&["base", "cand"]), vec![], vec![], pairs);
    let g = &s.gsb["base"]["cand"];
    assert_eq!((g.G, g.S, g.B, g.N), (4, 3, 1, 8));
    assert_eq!(g.win_rate, Some(0.6875));
    assert!((g.sign_test_p.unwrap() - 0.375).abs() < 1e-12);
    assert_eq!(g.sign_test_p_holm, g.sign_test_p);
    assert_eq!(g.decisive_win_share, Some(0.8));
    // STATS.md §11 example 3: se 0.131526, CI [0.376490, 0.998510].
    assert!((g.se.unwrap() - 0.131526).abs() < 1e-6);
    assert!((g.ci95_low.unwrap() - 0.376490).abs() < 1e-6);
    assert!((g.ci95_high.unwrap() - 0.998510).abs() < 1e-6);
    let mde = (Z_975 + Z_80) * g.se.unwrap();
    assert!((g.mde80_win_rate.unwrap() - mde).abs() < 1e-12);
    assert_eq!(
        (g.m_family, g.verdict.as_str()),
        (1, "no detectable difference")
    );
    assert_eq!(
        (
            g.n_both_orders,
            g.n_order_disagree,
            g.n_verdict_rule_mismatch
        ),
        (8, 2, 0)
    );
}

#[test]
fn item_score_is_the_mean_of_non_null_samples_and_last_line_wins() {
    let scores = vec![
        score("m", "b", 0, &[("reply", Some(1.0))]),
        score("m", "b", 1, &[("reply", Some(2.0))]),
        score("m", "b", 2, &[("reply", None)]),
        score("m", "a", 0, &[("reply", Some(3.0))]),
        score("m", "a", 0, &[("reply", Some(1.0))]), // repeated key: replaces the line above
        score("m", "c", 0, &[("reply", None)]),      // no non-null sample: item dropped
    ];
    let s = summarize(&cfg(&["m"]), vec![], scores, vec![]);
    let d = &s.models["m"].dimensions["reply"];
    // Item scores (a, b) = (1, 1.5) ⇒ mean 1.25, sd = √0.125.
    assert_eq!((d.n_items, d.n_scores, d.n_null), (2, 3, 2));
    assert_eq!(d.mean, Some(1.25));
    assert!((d.sd.unwrap() - 0.125f64.sqrt()).abs() < 1e-15);
    assert!(s.warnings.iter().any(|w| w.contains("1 lines repeat")));
}

#[test]
fn latency_errors_cost_and_throughput_by_hand() {
    let mut responses = vec![
        resp("m", "a", 0, 200.0, 1200.0),
        resp("m", "b", 0, 300.0, 1300.0),
        resp("m", "c", 0, 400.0, 1400.0),
        resp("m", "d", 0, 600.0, 1600.0),
    ];
    let mut cached = resp("m", "e", 0, 1.0, 2.0);
    cached.cached = true;
    let mut failed = resp("m", "f", 0, 50.0, 99_000.0);
    failed.error = Some(ErrorInfo {
        kind: ErrorKind::Truncated,
        message: "cut".into(),
        status: None,
        code: None,
    });
    responses.extend([cached, failed]);
    let mut c = cfg(&["m", "empty"]);
    c.prices.insert(
        "m".into(),
        Prices {
            input_per_1k: Some(0.5),
            output_per_1k: Some(2.0),
            currency: Some("CNY".into()),
        },
    );
    let s = summarize(&c, responses, vec![], vec![]);
    let m = &s.models["m"];
    // STATS.md §7: p50 of (1200, 1300, 1400, 1600) is 1300; the cached and failed ones are out.
    assert_eq!(m.latency.total_ms.n, 4);
    assert_eq!(m.latency.total_ms.p50, Some(1300.0));
    assert_eq!(m.latency.total_ms.p99, Some(1600.0));
    assert_eq!(m.latency.total_ms.mean, Some(1375.0));
    assert_eq!(m.latency.ttft_ms.p90, Some(600.0));
    assert_eq!(
        (m.errors.n_responses, m.errors.n_errors, m.errors.n_cached),
        (6, 1, 1)
    );
    assert_eq!(m.errors.by_kind["truncated"], 1);
    assert!((m.errors.error_rate.unwrap() - 1.0 / 6.0).abs() < 1e-15);
    // Tokens over all six lines: 600 prompt, 300 completion ⇒ 600·0.5/1000 + 300·2/1000 = 0.9.
    assert_eq!((m.cost.prompt_tokens, m.cost.completion_tokens), (600, 300));
    assert!((m.cost.total.unwrap() - 0.9).abs() < 1e-12);
    assert!((m.cost.per_item.unwrap() - 0.15).abs() < 1e-12);
    assert!((m.cost.per_1k_tokens.unwrap() - 1.0).abs() < 1e-12);
    // 4 × 50 tokens over 4 × 1000 ms ⇒ 50 tokens/s.
    assert_eq!(m.output_tokens_per_s, Some(50.0));
    assert!(s.warnings.iter().any(|w| w.contains("model m: p99")));
    // A configured model without records is present, with zeros and nulls.
    let e = &s.models["empty"];
    assert_eq!(e.errors.n_responses, 0);
    assert_eq!(e.errors.error_rate, None);
    assert_eq!(e.latency.ttft_ms.p50, None);
    assert_eq!(e.output_tokens_per_s, None);
}

#[test]
fn rules_count_the_records_that_carry_them() {
    let mut scores = Vec::new();
    for (i, pass) in [true, true, true, true, false].into_iter().enumerate() {
        let mut s = score("m", &format!("i{i}"), 0, &[]);
        s.rules.insert(
            "json_strict".into(),
            RuleOutcome {
                pass,
                detail: String::new(),
            },
        );
        if i == 0 {
            s.rules.insert(
                "length_range".into(),
                RuleOutcome {
                    pass: false,
                    detail: String::new(),
                },
            );
        }
        scores.push(s);
    }
    let s = summarize(&cfg(&["m"]), vec![], scores, vec![]);
    let r = &s.models["m"].rules;
    assert_eq!((r["json_strict"].n, r["json_strict"].passed), (5, 4));
    assert_eq!(r["json_strict"].pass_rate, Some(0.8));
    // Wilson(4, 5) from statsmodels, as in binomial.rs.
    assert!((r["json_strict"].ci95_low.unwrap() - 0.3755346297625252).abs() < 1e-12);
    assert_eq!(r["json_strict"].ci_method, "wilson");
    assert_eq!((r["length_range"].n, r["length_range"].passed), (1, 0));
    assert!(s.models["m"].dimensions.is_empty());
}

#[test]
fn small_sample_warnings_fold_across_models() {
    let mut w = vec![
        "a first".to_string(),
        "model x: p99 with n < 100 is the maximum (ttft_ms n = 50)".to_string(),
        "model y: p99 with n < 100 is the maximum (ttft_ms n = 50)".to_string(),
        "model z: p99 with n < 100 is the maximum (ttft_ms n = 7)".to_string(),
        "a last".to_string(),
    ];
    fold_small_sample_warnings(&mut w);
    assert_eq!(
        w,
        [
            "a first",
            "p99 with n < 100 is the maximum (ttft_ms n = 50) for models x, y",
            "model z: p99 with n < 100 is the maximum (ttft_ms n = 7)",
            "a last"
        ]
    );
}

#[test]
fn degenerate_inputs_give_nulls_and_warnings() {
    // One-off check: these records written as a run directory pass scripts/verify_stats.py.
    use PairVerdict::*;
    let mut scores = Vec::new();
    let mut responses = Vec::new();
    for item in ["a", "b", "c"] {
        let y = (item == "a").then_some(3.0);
        scores.push(score("base", item, 0, &[("x", Some(2.0)), ("y", y)]));
        scores.push(score("c1", item, 0, &[("x", Some(2.0)), ("y", Some(1.0))]));
        let mut r = resp("c2", item, 0, 1.0, 2.0);
        r.error = Some(ErrorInfo {
            kind: ErrorKind::Auth,
            message: "denied".into(),
            status: Some(401),
            code: None,
        });
        responses.push(r);
    }
    let pairs = vec![
        pair("a", "c1", S, G, B),
        pair("b", "c1", S, S, S),
        pair("a", "c3", B, B, B),
    ];
    let s = summarize(&cfg(&["base", "c1", "c2"]), responses, scores, pairs);
    // Every difference zero: not run ("no variation"), left out of Holm; a point CI; MDE undefined.
    let x = &s.paired["base"]["c1"]["x"];
    assert_eq!((x.p, x.wilcoxon_p, x.n_zero), (None, Some(1.0), 3));
    assert_eq!(x.verdict, "no variation");
    assert_eq!(
        (x.mde80, x.mde80_why.as_deref()),
        (None, Some("nothing varied"))
    );
    assert_eq!((x.ci95_low, x.non_inferior), (Some(0.0), Some(true)));
    // One pair: no sd, no interval, no non-inferiority verdict, not tested.
    let y = &s.paired["base"]["c1"]["y"];
    assert_eq!((y.n_pairs, y.mean_diff, y.sd_diff), (1, Some(-2.0), None));
    assert_eq!((y.ci95_low, y.mde80, y.non_inferior), (None, None, None));
    assert_eq!((y.verdict.as_str(), y.m_family), ("not tested", 0));
    // No scores at all for c2: present, empty.
    assert_eq!(s.paired["base"]["c2"]["x"].n_pairs, 0);
    assert_eq!(s.models["c2"].dimensions["x"].mean, None);
    // All ties in GSB: win rate 0.5, p = 1, the decisive-share statistics undefined.
    let g = &s.gsb["base"]["c1"];
    assert_eq!((g.win_rate, g.sign_test_p), (Some(0.5), Some(1.0)));
    assert_eq!(
        (g.mde80_win_rate, g.verdict.as_str()),
        (None, "no decisive items")
    );
    assert_eq!(g.ci95_low, Some(0.5));
    assert_eq!(g.n_order_disagree, 1);
    assert!(s.gsb["base"].contains_key("c3"));
    for w in [
        "model c2: every one of its 3 responses is an error",
        "gsb c3: pairwise lines name a candidate",
    ] {
        assert!(
            s.warnings.iter().any(|x| x.starts_with(w)),
            "{w}: {:?}",
            s.warnings
        );
    }
}

#[test]
fn baseline_without_records_is_warned_and_pairs_are_empty() {
    let scores = vec![score("cand", "a", 0, &[("reply", Some(2.0))])];
    let mut c = cfg(&["cand"]);
    c.baseline = Some("base".into());
    let s = summarize(&c, vec![], scores, vec![]);
    assert!(s
        .warnings
        .contains(&"baseline base has no records".to_string()));
    let p = &s.paired["base"]["cand"]["reply"];
    assert_eq!(p.n_pairs, 0);
    assert_eq!((p.mean_diff, p.p, p.non_inferior), (None, None, None));
}

#[test]
fn synthetic_run_summary_is_complete_and_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = match std::env::var_os("EVALRUN_WRITE_FIXTURE") {
        Some(p) => std::path::PathBuf::from(p),
        None => tmp.path().to_path_buf(),
    };
    let cfg = fixture::synthetic_run(&dir).unwrap();
    let s = summarize_dir(&cfg, &dir).unwrap();
    let json = serde_json::to_string_pretty(&s).unwrap();
    std::fs::write(dir.join(records::files::SUMMARY), &json).unwrap();

    assert_eq!(s.schema, "evalrun-stats/2");
    assert_eq!(
        s.models.keys().collect::<Vec<_>>(),
        ["base", "cand-a", "cand-b", "ghost"]
    );
    assert_eq!(
        s.paired["base"].keys().collect::<Vec<_>>(),
        ["cand-a", "cand-b", "ghost"]
    );
    assert_eq!(
        s.gsb["base"].keys().collect::<Vec<_>>(),
        ["cand-a", "cand-b"]
    );
    for per_dim in s.paired.values().flat_map(|r| r.values()) {
        assert_eq!(per_dim.len(), fixture::DIMENSIONS.len());
    }
    assert_eq!(s.ranking.top, s.params.references.top);
    assert_eq!(s.ranking.tied_with_top.first(), s.ranking.top.as_ref());
    let a = &s.models["cand-a"];
    assert!(a.errors.n_errors > 0 && a.errors.n_cached > 0);
    assert!(a.cost.total.is_some() && s.models["cand-b"].cost.total.is_none());
    assert!(s.models["base"].rules["length_range"].n < s.models["base"].rules["json_strict"].n);
    assert_eq!(s.gsb["base"]["cand-b"].n_verdict_rule_mismatch, 1);
    for w in [
        "gsb cand-b: n_verdict_rule_mismatch = 1",
        "model base: p99 with n < 100",
        "responses.jsonl: 3 lines repeat",
    ] {
        assert!(
            s.warnings.iter().any(|x| x.contains(w)),
            "{w}: {:?}",
            s.warnings
        );
    }
    // serde_json would write a NaN or infinity as null, hiding it: check the values themselves.
    let debug = format!("{s:?}");
    for bad in ["(NaN)", "(inf)", "(-inf)", ": NaN", ": inf", ": -inf"] {
        assert!(!debug.contains(bad), "{bad} in the summary");
    }
    // The file reads back as a Summary. Without serde_json's `float_roundtrip` feature its float
    // parser may land one ulp away, so compare the values with a relative tolerance.
    let back: Summary = serde_json::from_str(&json).unwrap();
    assert_json_close(
        &serde_json::to_value(&back).unwrap(),
        &serde_json::to_value(&s).unwrap(),
    );
    assert_eq!(summarize_dir(&cfg, &dir).unwrap(), s);
}

fn assert_json_close(a: &serde_json::Value, b: &serde_json::Value) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= 1e-15 * x.abs().max(y.abs()), "{x} vs {y}");
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len());
            x.iter().zip(y).for_each(|(x, y)| assert_json_close(x, y));
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>());
            x.iter()
                .zip(y)
                .for_each(|((_, x), (_, y))| assert_json_close(x, y));
        }
        _ => assert_eq!(a, b),
    }
}

#[test]
fn cluster_key_groups_items_from_items_jsonl() {
    // STATS.md §11 example 2 through the records: clusters {i0,i1,i2}, {i3,i4}, {i5,i6} by
    // meta.persona (an object value: compared as compact JSON with sorted keys).
    let d = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, -1.0];
    let persona = [0, 0, 0, 1, 1, 2, 2];
    let mut c = cfg(&["base", "cand"]);
    c.cluster_key = Some("meta.persona".into());
    let mut b = SummaryBuilder::new(&c);
    for (i, di) in d.iter().enumerate() {
        let item = format!("i{i}");
        let value = serde_json::json!({"id": item, "meta": {"persona": {"z": 1, "a": persona[i]}}});
        b.add_item(&value);
        for (m, x) in [("base", 2.0), ("cand", 2.0 + di)] {
            let s = score(m, &item, 0, &[("reply", Some(x))]);
            b.add_score(m, &item, 0, &lines::score_facts(&s));
        }
    }
    let s = b.finish();
    let p = &s.paired["base"]["cand"]["reply"];
    assert_eq!((p.n_clusters, p.df), (3, Some(2)));
    assert!((p.se_diff.unwrap() - 0.372414).abs() < 1e-6);
    assert!((p.p.unwrap() - 0.523158).abs() < 1e-6);
    assert_eq!(s.params.cluster_key.as_deref(), Some("meta.persona"));
    assert_eq!(s.models["cand"].dimensions["reply"].n_clusters, 3);
    assert_eq!(
        cluster_value(&serde_json::json!({"m": {"b": 1, "a": [2]}}), "m"),
        Some(r#"{"a":[2],"b":1}"#.to_string())
    );
    assert_eq!(cluster_value(&serde_json::json!({"m": null}), "m"), None);
}

#[test]
fn rules_with_samples_take_the_items_pass_shares_whenever_the_second_sample_comes() {
    // i0 passes 2 of 2, i1 1 of 2, i2 0 of 1: q = 1, ½, 0 → the t-method over the items. The second
    // sample of i0 arrives after i1 and i2 have one record each.
    let outcomes = [
        ("i0", 0, true),
        ("i1", 0, true),
        ("i2", 0, false),
        ("i0", 1, true),
        ("i1", 1, false),
    ];
    let scores: Vec<ScoreRecord> = outcomes
        .iter()
        .map(|&(item, sample, pass)| {
            let mut s = score("m", item, sample, &[]);
            let detail = String::new();
            s.rules.insert("r".into(), RuleOutcome { pass, detail });
            s
        })
        .collect();
    let s = summarize(&cfg(&["m"]), vec![], scores, vec![]);
    let r = &s.models["m"].rules["r"];
    assert_eq!((r.n, r.passed, r.n_items), (5, 3, 3));
    assert_eq!(r.ci_method, "t");
    assert_eq!(r.pass_rate, Some(0.5));
}
