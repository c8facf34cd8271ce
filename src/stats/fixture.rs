//! A synthetic but realistic run directory, for tests of the statistics and of everything that reads a
//! summary (reports, gate). Deterministic: the same files on every call.
//!
//! [`synthetic_run`] writes `responses.jsonl`, `scores.jsonl` and `pairwise.jsonl` for the models
//! `base` (the baseline), `cand-a` (slightly better), `cand-b` (slightly worse, more errors) and `ghost`
//! (configured, no records), over 50 items whose byte order differs from their numeric order
//! (`q1`, `q10`, …, `Q-upper`, `é-accent`), 2 samples each, 4 dimensions on a 1–3 scale and 4 rules. It
//! contains what real runs contain: tied and zero paired differences, null scores (judge errors, failed
//! answers, one dimension never scored on some items), errors of several kinds (a truncated one with
//! usage), cached answers, answers without `ttft_ms`, GSB lines with inconsistent orders, one line with
//! a missing order, one verdict that breaks the both-orders rule, lines against another baseline,
//! repeated keys (the last line wins) and a torn last line.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! let dir = std::path::Path::new("/tmp/run");
//! let cfg = evalrun::stats::fixture::synthetic_run(dir)?;
//! let summary = evalrun::stats::summarize_dir(&cfg, dir)?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::records::{
    files, DimensionScore, ErrorInfo, ErrorKind, PairRecord, PairVerdict, ResponseRecord,
    RuleOutcome, ScoreRecord, ScoreSource,
};

use super::aggregate::{Prices, StatsConfig};
use super::bootstrap::SplitMix64;

/// Configured models of the synthetic run, in report order; `base` is the baseline.
pub const MODELS: [&str; 4] = ["base", "cand-a", "cand-b", "ghost"];
/// Dimensions of the synthetic rubric (the oral-English tutor's, SPEC §4).
pub const DIMENSIONS: [&str; 4] = ["adherence", "reply", "suggestion", "analysis"];
const RULES: [&str; 3] = ["json_strict", "array_len", "english_only"];
const SAMPLES: u32 = 2;

/// The configuration that goes with [`synthetic_run`]: baseline `base`, margin 0.1, prices for `base`
/// (0.12 / 0.12 CNY per 1k) and `cand-a` (0.004 / 0.008 CNY), none for the others.
pub fn synthetic_config() -> StatsConfig {
    let mut prices = BTreeMap::new();
    prices.insert(
        "base".to_owned(),
        Prices {
            input_per_1k: Some(0.12),
            output_per_1k: Some(0.12),
            currency: Some("CNY".to_owned()),
        },
    );
    prices.insert(
        "cand-a".to_owned(),
        Prices {
            input_per_1k: Some(0.004),
            output_per_1k: Some(0.008),
            currency: Some("CNY".to_owned()),
        },
    );
    StatsConfig {
        models: MODELS.iter().map(|m| m.to_string()).collect(),
        baseline: Some("base".to_owned()),
        margin: Some(0.1),
        scales: DIMENSIONS
            .iter()
            .map(|d| (d.to_string(), (1.0, 3.0)))
            .collect(),
        prices,
        ..StatsConfig::default()
    }
}

/// The 50 item ids, in generation (numeric) order.
pub fn item_ids() -> Vec<String> {
    let mut ids: Vec<String> = (1..=48).map(|i| format!("q{i}")).collect();
    ids.push("Q-upper".to_owned());
    ids.push("é-accent".to_owned());
    ids
}

/// Uniform in [0, 1) from the top 53 bits.
fn unit(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn tenth(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Write the synthetic run into `dir` (created if needed; the three record files are overwritten) and
/// return its configuration.
pub fn synthetic_run(dir: &Path) -> anyhow::Result<StatsConfig> {
    std::fs::create_dir_all(dir)?;
    let mut rng = SplitMix64::new(20_261_121);
    let items = item_ids();
    let answering = &MODELS[..3];

    // Item difficulty per dimension: the baseline's typical score, 1..=3, mostly 2 or 3.
    let difficulty: Vec<[f64; 4]> = items
        .iter()
        .map(|_| {
            let mut d = [0.0; 4];
            for x in &mut d {
                let u = unit(&mut rng);
                *x = if u < 0.15 {
                    1.0
                } else if u < 0.55 {
                    2.0
                } else {
                    3.0
                };
            }
            d
        })
        .collect();

    let mut responses = String::new();
    let mut scores = String::new();
    let mut failed: BTreeMap<(usize, usize, u32), bool> = BTreeMap::new();
    for (mi, model) in answering.iter().enumerate() {
        let error_rate = [0.05, 0.06, 0.12][mi];
        for (ii, item) in items.iter().enumerate() {
            for sample in 0..SAMPLES {
                let r = response(&mut rng, model, item, sample, error_rate, ii);
                failed.insert((mi, ii, sample), r.error.is_some());
                writeln!(responses, "{}", serde_json::to_string(&r)?)?;
                let s = score(&mut rng, mi, model, item, ii, sample, &difficulty[ii], &r);
                writeln!(scores, "{}", serde_json::to_string(&s)?)?;
            }
        }
    }
    // Resumed work: a failed answer retried successfully (same key, later line wins), and a re-scored one.
    for (mi, ii, sample) in failed
        .iter()
        .filter(|(_, &f)| f)
        .map(|(k, _)| *k)
        .take(3)
        .collect::<Vec<_>>()
    {
        let mut r = response(&mut rng, answering[mi], &items[ii], sample, 0.0, ii);
        r.attempts = 3;
        writeln!(responses, "{}", serde_json::to_string(&r)?)?;
        let s = score(
            &mut rng,
            mi,
            answering[mi],
            &items[ii],
            ii,
            sample,
            &difficulty[ii],
            &r,
        );
        writeln!(scores, "{}", serde_json::to_string(&s)?)?;
    }
    // A kill mid-write leaves a torn last line without a newline.
    responses.push_str(r#"{"model":"base","item_id":"q7","sample":0,"output":"Hel"#);

    let mut pairs = String::new();
    for (ci, cand) in ["cand-a", "cand-b"].iter().enumerate() {
        // (P(G), P(G or S)) of one presentation order.
        let (pg, pgs) = [(0.42, 0.78), (0.22, 0.62)][ci];
        for (ii, item) in items.iter().enumerate() {
            let draw = |rng: &mut SplitMix64| {
                let u = unit(rng);
                if u < pg {
                    PairVerdict::G
                } else if u < pgs {
                    PairVerdict::S
                } else {
                    PairVerdict::B
                }
            };
            let first = draw(&mut rng);
            let second = if unit(&mut rng) < 0.7 {
                first
            } else {
                draw(&mut rng)
            };
            let mut line = PairRecord {
                item_id: item.clone(),
                candidate: cand.to_string(),
                baseline: "base".to_owned(),
                verdict: PairVerdict::combine(first, second),
                first_order: Some(first),
                second_order: Some(second),
                panel: None,
            };
            if ii == 5 {
                // The second order's judge reply could not be parsed: S by the conservative rule.
                line.second_order = None;
                line.verdict = PairVerdict::S;
            }
            if ci == 1 && ii == 9 {
                // A verdict that breaks the both-orders rule (counted in n_verdict_rule_mismatch).
                line.first_order = Some(PairVerdict::G);
                line.second_order = Some(PairVerdict::S);
                line.verdict = PairVerdict::G;
            }
            writeln!(pairs, "{}", serde_json::to_string(&line)?)?;
        }
    }
    for item in &items[..3] {
        // Pairs against a model that is not the baseline: ignored with a warning.
        let line = PairRecord {
            item_id: item.clone(),
            candidate: "cand-b".to_owned(),
            baseline: "cand-a".to_owned(),
            verdict: PairVerdict::B,
            first_order: Some(PairVerdict::B),
            second_order: Some(PairVerdict::B),
            panel: None,
        };
        writeln!(pairs, "{}", serde_json::to_string(&line)?)?;
    }
    // A re-judged pair: the later line wins.
    let line = PairRecord {
        item_id: items[0].clone(),
        candidate: "cand-a".to_owned(),
        baseline: "base".to_owned(),
        verdict: PairVerdict::B,
        first_order: Some(PairVerdict::B),
        second_order: Some(PairVerdict::B),
        panel: None,
    };
    writeln!(pairs, "{}", serde_json::to_string(&line)?)?;

    std::fs::write(dir.join(files::RESPONSES), responses)?;
    std::fs::write(dir.join(files::SCORES), scores)?;
    std::fs::write(dir.join(files::PAIRWISE), pairs)?;
    Ok(synthetic_config())
}

fn response(
    rng: &mut SplitMix64,
    model: &str,
    item: &str,
    sample: u32,
    error_rate: f64,
    item_index: usize,
) -> ResponseRecord {
    let ttft = tenth(150.0 + 650.0 * unit(rng));
    let total = tenth(ttft + 800.0 + 2500.0 * unit(rng));
    let prompt_tokens = 100 + (80.0 * unit(rng)) as u64;
    let completion_tokens = 40 + (220.0 * unit(rng)) as u64;
    let cached = unit(rng) < 0.1;
    let mut r = ResponseRecord {
        model: model.to_owned(),
        item_id: item.to_owned(),
        sample,
        output: Some(format!("{{\"Reply\": \"answer {item_index}\"}}")),
        ttft_ms: Some(ttft),
        total_ms: Some(total),
        queue_ms: Some(tenth(30.0 * unit(rng))),
        prompt_tokens: Some(prompt_tokens),
        completion_tokens: Some(completion_tokens),
        finish_reason: Some("stop".to_owned()),
        attempts: 1,
        error: None,
        cached,
        tokens_estimated: false,
        invalid_utf8: false,
        cached_utc: None,
    };
    if item_index % 17 == 3 && sample == 1 {
        // A non-streaming answer: no time to first token.
        r.ttft_ms = None;
    }
    if unit(rng) < error_rate {
        let kinds = [
            (ErrorKind::Timeout, None),
            (ErrorKind::Server, Some(500)),
            (ErrorKind::RateLimited, Some(429)),
            (ErrorKind::Truncated, None),
        ];
        let (kind, status) = kinds[rng.next_index(kinds.len())];
        r.cached = false;
        r.attempts = 5;
        r.finish_reason = None;
        r.error = Some(ErrorInfo {
            kind,
            message: format!("synthetic {kind}"),
            status,
            code: None,
        });
        if kind == ErrorKind::Truncated {
            // The part that arrived, with usage.
            r.output = Some("{\"Reply\": \"ans".to_owned());
            r.finish_reason = Some("length".to_owned());
        } else {
            r.output = None;
            r.ttft_ms = None;
            r.total_ms = if kind == ErrorKind::Timeout {
                Some(120_000.0)
            } else {
                None
            };
            r.prompt_tokens = None;
            r.completion_tokens = None;
        }
    }
    r
}

#[allow(clippy::too_many_arguments)]
fn score(
    rng: &mut SplitMix64,
    model_index: usize,
    model: &str,
    item: &str,
    item_index: usize,
    sample: u32,
    difficulty: &[f64; 4],
    response: &ResponseRecord,
) -> ScoreRecord {
    let failed = response.error.is_some();
    let judge_error = !failed && unit(rng) < 0.04;
    let mut dimensions = BTreeMap::new();
    for (di, dim) in DIMENSIONS.iter().enumerate() {
        // Per model and dimension: P(one level down), P(one level up) relative to the item's level.
        let (down, up) = match (model_index, di) {
            (0, _) => (0.12, 0.10),
            (1, 1) => (0.06, 0.30),
            (1, _) => (0.10, 0.14),
            (_, 3) => (0.30, 0.05),
            (_, _) => (0.16, 0.10),
        };
        let u = unit(rng);
        let delta = if u < down {
            -1.0
        } else if u < down + up {
            1.0
        } else {
            0.0
        };
        let never_scored = model_index == 2 && di == 3 && item_index.is_multiple_of(7);
        let null = failed || judge_error || never_scored || unit(rng) < 0.03;
        let value = (difficulty[di] + delta).clamp(1.0, 3.0);
        dimensions.insert(
            dim.to_string(),
            DimensionScore {
                score: (!null).then_some(value),
                source: if failed {
                    ScoreSource::Rules
                } else {
                    ScoreSource::Judge
                },
                justification: (!null).then(|| format!("level {value}")),
                rule_cap: None,
            },
        );
    }
    let mut rules = BTreeMap::new();
    if !failed {
        let pass_rate = [0.92, 0.95, 0.80][model_index];
        for rule in RULES {
            let pass = unit(rng) < pass_rate;
            rules.insert(
                rule.to_owned(),
                RuleOutcome {
                    pass,
                    detail: if pass { "ok" } else { "failed" }.to_owned(),
                },
            );
        }
        if item_index.is_multiple_of(5) {
            // A category-limited rule: only some items carry it.
            let pass = unit(rng) < 0.7;
            rules.insert(
                "length_range".to_owned(),
                RuleOutcome {
                    pass,
                    detail: String::new(),
                },
            );
        }
    }
    ScoreRecord {
        model: model.to_owned(),
        item_id: item.to_owned(),
        sample,
        rules,
        dimensions,
        reference_metrics: None,
        judge_error: judge_error.then(|| "judge reply did not parse".to_owned()),
        judge_samples: None,
        panel: None,
    }
}
