//! `report.md`: the whole report pinned, and the sections that hold, change or drop out with the
//! run (no judge, hostile answers, a bare run, reference metrics).

use std::collections::BTreeMap;

use crate::report::*;
use crate::stats::summary::*;

use super::builders::*;
use super::fixture::*;

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
