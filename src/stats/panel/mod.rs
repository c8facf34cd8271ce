//! Judge panels (`--judge a,b,c`): the `panel` section of `summary.json` — each judge's own means,
//! GSB and parse failures, agreement between the judges, the judges of the same family as a graded
//! model, and the panel's result with each judge left out ([`leave_one_out`]).
//!
//! Read from the per-judge grades and verdicts the panel records carry (`scores.jsonl` and
//! `pairwise.jsonl` field `panel`) and from `judgements.jsonl`. Definitions: README, "Judge panels:
//! statistics"; `scripts/verify_stats.py` recomputes every value.

mod leave_one_out;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::records::{files, stream_jsonl, JudgeTask, JudgementRecord, PairRecord, ScoreRecord};
use crate::stats::describe::median;
use crate::stats::human::agreement::{
    exact_agreement, kappa_quadratic, krippendorff_alpha_ordinal,
};
use crate::stats::Prices;

pub use leave_one_out::{LeaveOneOut, PairedDiff};

/// What the panel statistics need from the manifest.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PanelConfig {
    /// The judges, in panel order.
    pub judges: Vec<String>,
    /// Each judge's family (configured or read off its name), when known.
    pub judge_families: BTreeMap<String, Option<String>>,
    /// Each judge's configured prices.
    pub judge_prices: BTreeMap<String, Prices>,
    /// The graded models in report order, with their families when known.
    pub models: Vec<(String, Option<String>)>,
    /// The GSB and paired reference.
    pub baseline: Option<String>,
}

/// The `panel` section of `summary.json`: present when the run was judged by two or more judges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanelSummary {
    /// The judges, in panel order.
    pub judges: Vec<String>,
    /// Each judge's family, null when unknown.
    pub families: BTreeMap<String, Option<String>>,
    /// Per judge: its own means, GSB and parse failures.
    pub per_judge: BTreeMap<String, JudgeOwn>,
    /// Per judged dimension: agreement between the judges.
    pub agreement: BTreeMap<String, Agreement>,
    /// Judges of the same family as some graded model.
    pub same_family: Vec<SameFamily>,
    /// Per judge: the panel's result without that judge.
    pub leave_one_out: BTreeMap<String, LeaveOneOut>,
    /// How the figures are computed, in words.
    pub methods: BTreeMap<String, String>,
}

/// A mean over items.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ItemMean {
    /// Items with a score.
    pub n_items: usize,
    /// Mean over those items of the item score (the mean over its samples).
    pub mean: Option<f64>,
}

/// GSB counts and the win rate (G + S/2)/N.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct GsbCount {
    /// Candidate better.
    #[serde(rename = "G")]
    pub g: usize,
    /// Same.
    #[serde(rename = "S")]
    pub s: usize,
    /// Candidate worse.
    #[serde(rename = "B")]
    pub b: usize,
    /// Pairs.
    #[serde(rename = "N")]
    pub n: usize,
    /// (G + S/2)/N; null when N = 0.
    pub win_rate: Option<f64>,
}

impl GsbCount {
    fn add(&mut self, v: crate::records::PairVerdict) {
        use crate::records::PairVerdict::*;
        match v {
            G => self.g += 1,
            S => self.s += 1,
            B => self.b += 1,
        }
        self.n += 1;
        self.win_rate = Some((self.g as f64 + self.s as f64 / 2.0) / self.n as f64);
    }
}

/// One judge of the panel on its own.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JudgeOwn {
    /// Score lines this judge graded (its entry in `panel`).
    pub n_graded_answers: usize,
    /// Of those, answers where it gave no usable score for some asked dimension.
    pub n_unjudged_answers: usize,
    /// Grade calls (`judgements.jsonl` lines of this judge).
    pub n_grade_calls: usize,
    /// Grade calls that returned a reply.
    pub n_grade_replies: usize,
    /// Grade replies with a `parse_error`.
    pub n_grade_parse_failures: usize,
    /// n_grade_parse_failures / n_grade_replies.
    pub grade_parse_failure_rate: Option<f64>,
    /// Pair calls.
    pub n_pair_calls: usize,
    /// Pair calls that returned a reply.
    pub n_pair_replies: usize,
    /// Pair replies with a `parse_error`.
    pub n_pair_parse_failures: usize,
    /// n_pair_parse_failures / n_pair_replies.
    pub pair_parse_failure_rate: Option<f64>,
    /// Prompt and completion tokens of its calls (null as 0).
    pub prompt_tokens: u64,
    /// Completion tokens of its calls.
    pub completion_tokens: u64,
    /// Its calls' cost at its own prices, (prompt × input + completion × output) / 1000; null
    /// without both prices.
    pub cost: Option<f64>,
    /// Its configured currency.
    pub currency: Option<String>,
    /// Its configured price per 1k prompt tokens.
    pub price_input_per_1k: Option<f64>,
    /// Its configured price per 1k completion tokens.
    pub price_output_per_1k: Option<f64>,
    /// `models.<m>.<d>`: its own means.
    pub models: BTreeMap<String, BTreeMap<String, ItemMean>>,
    /// `gsb.<reference>.<candidate>`: its own verdicts.
    pub gsb: BTreeMap<String, BTreeMap<String, GsbCount>>,
}

/// Agreement between the judges on one dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Answers (model, item, sample) scored by two or more judges.
    pub n_units: usize,
    /// Krippendorff's α (ordinal) over those answers, every judge a rater.
    pub alpha_ordinal: Option<f64>,
    /// Per pair of judges `a|b` (panel order).
    pub pairs: BTreeMap<String, PairAgreement>,
}

/// Two judges on the answers both scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairAgreement {
    /// Answers both scored.
    pub n_units: usize,
    /// Share with equal scores.
    pub exact_agreement: Option<f64>,
    /// Quadratic-weighted Cohen's κ.
    pub kappa_quadratic: Option<f64>,
}

/// A judge of the same family as graded models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SameFamily {
    /// The judge.
    pub judge: String,
    /// The family.
    pub family: String,
    /// The graded models of that family.
    pub models: Vec<String>,
}

/// Per dimension of one answer: (judge index, the judge's median) for each judge that scored it, and
/// the rule cap.
type DimGrades = BTreeMap<String, (Vec<(usize, f64)>, Option<f64>)>;

/// One answer's per-judge grades.
pub(super) struct Unit {
    model: String,
    item: String,
    dims: DimGrades,
}

/// A judge's score as the panel uses it: the median of its samples, bounded by the rule cap.
pub(super) fn capped(v: f64, cap: Option<f64>) -> f64 {
    cap.map_or(v, |c| v.min(c))
}

/// Mean over items of the mean over each item's samples, from (model, item) → sample scores.
pub(super) fn item_means(
    values: &BTreeMap<(String, String, String), Vec<f64>>,
) -> BTreeMap<String, BTreeMap<String, ItemMean>> {
    let mut acc: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for ((m, d, _item), v) in values {
        if !v.is_empty() {
            let s = v.iter().sum::<f64>() / v.len() as f64;
            acc.entry((m.clone(), d.clone())).or_default().push(s);
        }
    }
    let mut out: BTreeMap<String, BTreeMap<String, ItemMean>> = BTreeMap::new();
    for ((m, d), xs) in acc {
        let mean = (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);
        out.entry(m).or_default().insert(
            d,
            ItemMean {
                n_items: xs.len(),
                mean,
            },
        );
    }
    out
}

/// The `panel` section of the run in `dir`; `None` with fewer than two judges.
pub fn summarize_dir(dir: &Path, cfg: &PanelConfig) -> Result<Option<PanelSummary>> {
    let judges = &cfg.judges;
    if judges.len() < 2 {
        return Ok(None);
    }
    let index = |j: &str| judges.iter().position(|x| x == j);
    let mut own: BTreeMap<String, JudgeOwn> = judges
        .iter()
        .map(|j| (j.clone(), JudgeOwn::default()))
        .collect();

    // Scores: the last line of a repeated (model, item, sample) wins.
    let mut lines: BTreeMap<(String, String, u32), ScoreRecord> = BTreeMap::new();
    for s in stream_jsonl::<ScoreRecord>(&dir.join(files::SCORES))? {
        let s = s?.record;
        lines.insert((s.model.clone(), s.item_id.clone(), s.sample), s);
    }
    let mut units: Vec<Unit> = Vec::new();
    for ((model, item, _), s) in &lines {
        let Some(panel) = &s.panel else { continue };
        let mut dims: DimGrades = BTreeMap::new();
        for (j, g) in panel {
            let Some(ji) = index(j) else { continue };
            let o = own.get_mut(j).expect("a panel judge");
            o.n_graded_answers += 1;
            o.n_unjudged_answers += usize::from(g.judge_error.is_some());
            for (d, samples) in &g.judge_samples {
                let Some(m) = median(samples) else { continue };
                let cap = s.dimensions.get(d).and_then(|x| x.rule_cap);
                let e = dims.entry(d.clone()).or_insert((Vec::new(), cap));
                e.0.push((ji, m));
            }
        }
        units.push(Unit {
            model: model.clone(),
            item: item.clone(),
            dims,
        });
    }

    // Each judge's own means.
    for (ji, j) in judges.iter().enumerate() {
        let mut values: BTreeMap<(String, String, String), Vec<f64>> = BTreeMap::new();
        for u in &units {
            for (d, (scores, cap)) in &u.dims {
                if let Some((_, v)) = scores.iter().find(|(k, _)| *k == ji) {
                    values
                        .entry((u.model.clone(), d.clone(), u.item.clone()))
                        .or_default()
                        .push(capped(*v, *cap));
                }
            }
        }
        own.get_mut(j).expect("a panel judge").models = item_means(&values);
    }

    // Agreement, on the judges' own medians before rule caps.
    let mut agreement = BTreeMap::new();
    let dim_ids: std::collections::BTreeSet<&String> =
        units.iter().flat_map(|u| u.dims.keys()).collect();
    for d in dim_ids {
        let per_unit: Vec<&Vec<(usize, f64)>> = units
            .iter()
            .filter_map(|u| u.dims.get(d).map(|x| &x.0))
            .collect();
        let rated: Vec<Vec<f64>> = per_unit
            .iter()
            .filter(|s| s.len() >= 2)
            .map(|s| s.iter().map(|x| x.1).collect())
            .collect();
        let mut pairs = BTreeMap::new();
        for a in 0..judges.len() {
            for b in a + 1..judges.len() {
                let (mut xa, mut xb) = (Vec::new(), Vec::new());
                for s in &per_unit {
                    let va = s.iter().find(|x| x.0 == a);
                    let vb = s.iter().find(|x| x.0 == b);
                    if let (Some(va), Some(vb)) = (va, vb) {
                        xa.push(va.1);
                        xb.push(vb.1);
                    }
                }
                pairs.insert(
                    format!("{}|{}", judges[a], judges[b]),
                    PairAgreement {
                        n_units: xa.len(),
                        exact_agreement: exact_agreement(&xa, &xb),
                        kappa_quadratic: kappa_quadratic(&xa, &xb),
                    },
                );
            }
        }
        agreement.insert(
            d.clone(),
            Agreement {
                n_units: rated.len(),
                alpha_ordinal: krippendorff_alpha_ordinal(&rated),
                pairs,
            },
        );
    }

    // Pairs: each judge's own GSB.
    let mut pair_lines: BTreeMap<(String, String, String), PairRecord> = BTreeMap::new();
    for p in stream_jsonl::<PairRecord>(&dir.join(files::PAIRWISE))? {
        let p = p?.record;
        pair_lines.insert(
            (p.baseline.clone(), p.candidate.clone(), p.item_id.clone()),
            p,
        );
    }
    for ((reference, cand, _), p) in &pair_lines {
        for (j, v) in p.panel.iter().flatten() {
            if let Some(o) = own.get_mut(j) {
                o.gsb
                    .entry(reference.clone())
                    .or_default()
                    .entry(cand.clone())
                    .or_default()
                    .add(v.verdict);
            }
        }
    }

    // Calls and parse failures.
    for r in stream_jsonl::<JudgementRecord>(&dir.join(files::JUDGEMENTS))? {
        let r = r?.record;
        let Some(o) = own.get_mut(&r.judge) else {
            continue;
        };
        let replied = r.error.is_none();
        let failed = replied && r.parse_error.is_some();
        match r.task {
            JudgeTask::Grade => {
                o.n_grade_calls += 1;
                o.n_grade_replies += usize::from(replied);
                o.n_grade_parse_failures += usize::from(failed);
            }
            JudgeTask::Pair => {
                o.n_pair_calls += 1;
                o.n_pair_replies += usize::from(replied);
                o.n_pair_parse_failures += usize::from(failed);
            }
        }
        o.prompt_tokens += r.prompt_tokens.unwrap_or(0);
        o.completion_tokens += r.completion_tokens.unwrap_or(0);
    }
    for (j, o) in own.iter_mut() {
        let rate = |f: usize, n: usize| (n > 0).then(|| f as f64 / n as f64);
        o.grade_parse_failure_rate = rate(o.n_grade_parse_failures, o.n_grade_replies);
        o.pair_parse_failure_rate = rate(o.n_pair_parse_failures, o.n_pair_replies);
        let prices = cfg.judge_prices.get(j).cloned().unwrap_or_default();
        o.cost = prices.cost(o.prompt_tokens, o.completion_tokens);
        o.currency = prices.currency;
        o.price_input_per_1k = prices.input_per_1k;
        o.price_output_per_1k = prices.output_per_1k;
    }

    let same_family = judges
        .iter()
        .filter_map(|j| {
            let family = cfg.judge_families.get(j)?.clone()?;
            let models: Vec<String> = cfg
                .models
                .iter()
                .filter(|(_, f)| f.as_ref().is_some_and(|f| f.eq_ignore_ascii_case(&family)))
                .map(|(m, _)| m.clone())
                .collect();
            (!models.is_empty()).then(|| SameFamily {
                judge: j.clone(),
                family,
                models,
            })
        })
        .collect();
    let leave_one_out = (0..judges.len())
        .map(|ji| {
            let l = leave_one_out::without(&units, &pair_lines, ji, cfg);
            (judges[ji].clone(), l)
        })
        .collect();

    Ok(Some(PanelSummary {
        judges: judges.clone(),
        families: judges
            .iter()
            .map(|j| (j.clone(), cfg.judge_families.get(j).cloned().flatten()))
            .collect(),
        per_judge: own,
        agreement,
        same_family,
        leave_one_out,
        methods: methods(),
    }))
}

fn methods() -> BTreeMap<String, String> {
    [
        (
            "judge_score",
            "a judge's score of a dimension of an answer = the median of its sample scores \
             (scores.jsonl panel.<judge>.judge_samples), bounded by the dimension's rule_cap; the \
             panel's score = the median over the judges that scored it, bounded alike",
        ),
        (
            "means",
            "per_judge.<j>.models.<m>.<d> and leave_one_out.<j>.models.<m>.<d>: item score = mean \
             over the item's samples, mean = mean over items (ascending item_id)",
        ),
        (
            "agreement",
            "on the judges' medians before rule caps, over answers (model, item, sample) scored by \
             two or more judges: Krippendorff's alpha (ordinal) with every judge a rater; per pair \
             of judges, exact agreement and quadratic-weighted Cohen's kappa over the answers both scored",
        ),
        (
            "gsb",
            "per_judge.<j>.gsb from pairwise.jsonl panel.<j>.verdict; the panel's verdict is the one \
             more judges gave than any other, S when the most frequent is shared; leave_one_out.<j>.gsb \
             applies that rule to the other judges' verdicts",
        ),
        (
            "leave_one_out",
            "the panel's scores and verdicts recomputed without judge j; paired.<ref>.<cand>.<d>: \
             d_i = round(s_cand - s_ref, 9) over the items both have, mean, t-interval and two-sided \
             t-test of STATS.md §2 with every item its own cluster (the run's cluster key is not used)",
        ),
        (
            "cost",
            "per_judge.<j>.cost = (prompt_tokens x price_input_per_1k + completion_tokens x \
             price_output_per_1k) / 1000 at the judge's own configured prices, null without both; \
             judge.cost.total is their sum (null when the judges that made calls are priced in \
             different currencies or one has no prices)",
        ),
        (
            "parse_failures",
            "judgements.jsonl lines of the judge: calls, replies (error null), parse failures \
             (parse_error set) per task; rate = failures / replies",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}
