//! The other formats (JSON, CSV, charts, terminal table), their names, and writing them all into a
//! run directory.

use crate::report::*;
use crate::stats::summary::*;

use super::fixture::*;

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
