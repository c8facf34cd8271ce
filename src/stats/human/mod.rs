//! Judge vs people: what `human.jsonl` (imported review sheets) says about the judge, per dimension and
//! per GSB comparison — the `human` section of `summary.json`, read by the report and `evalrun calibrate`.
//!
//! A *unit* is one graded answer (model, item, sample). Per dimension, the units with both a person's
//! score and a non-null score in `scores.jsonl` are compared. Definitions: README, "Judge vs people:
//! statistics"; `scripts/verify_stats.py` recomputes them.

pub mod agreement;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::records::{files, stream_jsonl, HumanRecord, PairRecord, PairVerdict, ScoreRecord};
use crate::stats::bootstrap::resample_items;
use crate::stats::judge::spearman;
use crate::stats::percentile::type7;
use crate::stats::{CONFIDENCE, RESAMPLES, SEED};

use agreement::{
    consensus, exact_agreement, kappa_quadratic, krippendorff_alpha_ordinal, majority,
};

/// The `human` section of `summary.json`: present when the run has a `human.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HumanSummary {
    /// The raters, sorted.
    pub raters: Vec<String>,
    /// Lines of `human.jsonl` with a score.
    pub n_scores: usize,
    /// Lines of `human.jsonl` with a pair verdict.
    pub n_verdicts: usize,
    /// Per dimension (with people's scores).
    pub dimensions: BTreeMap<String, DimensionAgreement>,
    /// `gsb.<reference>.<candidate>`: people's GSB beside the judge's, over the same pairs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub gsb: BTreeMap<String, BTreeMap<String, GsbAgreement>>,
    /// How the figures are computed, in words.
    pub methods: BTreeMap<String, String>,
}

/// A statistic with its percentile bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WithCi {
    /// The statistic over the units.
    pub value: Option<f64>,
    /// 2.5 % bootstrap quantile (items resampled).
    pub ci95_low: Option<f64>,
    /// 97.5 % bootstrap quantile.
    pub ci95_high: Option<f64>,
}

/// People against the judge on one dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionAgreement {
    /// Units with a person's score and a judge (run) score.
    pub n_units: usize,
    /// Distinct items among them (the bootstrap resamples these).
    pub n_items: usize,
    /// Units people scored that have no score in the run (unjudged, not applicable).
    pub n_human_only: usize,
    /// Mean over the units of the people's mean score.
    pub human_mean: Option<f64>,
    /// Mean over the same units of the run's score.
    pub judge_mean: Option<f64>,
    /// judge_mean − human_mean, with its interval: > 0 means the judge scores higher than people.
    pub mean_diff: WithCi,
    /// Share of units where the run's score equals the people's consensus.
    pub exact_agreement: WithCi,
    /// Quadratic-weighted Cohen's κ, run score vs consensus.
    pub kappa_quadratic: WithCi,
    /// Spearman ρ, run score vs consensus.
    pub spearman: WithCi,
    /// Units scored by two or more people.
    pub n_multi_rated: usize,
    /// Krippendorff's α (ordinal) among the people, over the units scored by two or more.
    pub alpha_ordinal: Option<f64>,
    /// Share of the units with a majority among their people where the run's score is that majority.
    pub judge_majority_agreement: Option<f64>,
    /// Units scored by two or more people that have a majority score and a run score.
    pub n_majority_units: usize,
    /// Per model: units, people's mean, the run's mean.
    pub per_model: BTreeMap<String, ModelAgreement>,
}

/// One model's people and judge means on a dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelAgreement {
    /// Units compared.
    pub n_units: usize,
    /// People's mean.
    pub human_mean: Option<f64>,
    /// The run's mean over the same units.
    pub judge_mean: Option<f64>,
}

/// GSB counts of one side.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GsbCounts {
    /// Candidate better.
    pub good: usize,
    /// Neither.
    pub same: usize,
    /// Candidate worse.
    pub bad: usize,
    /// (good + same/2) / n.
    pub win_rate: Option<f64>,
}

/// People's side-by-side verdicts beside the judge's on the same (candidate, reference, item) pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GsbAgreement {
    /// Pairs with a people's verdict and a judge verdict.
    pub n_pairs: usize,
    /// People (per pair: the verdict more than half of its raters gave, else S).
    pub human: GsbCounts,
    /// The judge, from `pairwise.jsonl`.
    pub judge: GsbCounts,
    /// Share of pairs with the same verdict.
    pub agreement: Option<f64>,
}

type Unit = (String, String, u32);

/// The `human` section for the run directory `dir`, or `None` when it has no `human.jsonl`.
pub fn summarize_dir(dir: &Path) -> Result<Option<HumanSummary>> {
    let path = dir.join(files::HUMAN);
    if !path.exists() {
        return Ok(None);
    }
    let mut raters = BTreeSet::new();
    // dimension → unit → people's scores; (reference, candidate, item) → verdicts.
    let mut scores: BTreeMap<String, BTreeMap<Unit, Vec<f64>>> = BTreeMap::new();
    let mut verdicts: BTreeMap<(String, String, String), Vec<PairVerdict>> = BTreeMap::new();
    let (mut n_scores, mut n_verdicts) = (0, 0);
    let mut last: BTreeMap<_, HumanRecord> = BTreeMap::new();
    for line in stream_jsonl::<HumanRecord>(&path)? {
        let r = line?.record;
        last.insert(r.key(), r);
    }
    for r in last.into_values() {
        raters.insert(r.rater.clone());
        match (&r.dimension, r.score, &r.baseline, r.verdict) {
            (Some(d), Some(s), _, _) => {
                n_scores += 1;
                scores
                    .entry(d.clone())
                    .or_default()
                    .entry((r.model, r.item_id, r.sample))
                    .or_default()
                    .push(s);
            }
            (None, _, Some(b), Some(v)) => {
                n_verdicts += 1;
                verdicts
                    .entry((b.clone(), r.model, r.item_id))
                    .or_default()
                    .push(v);
            }
            _ => {}
        }
    }
    let wanted: BTreeSet<Unit> = scores.values().flat_map(|u| u.keys().cloned()).collect();
    let mut run: BTreeMap<(String, Unit), f64> = BTreeMap::new();
    for line in stream_jsonl::<ScoreRecord>(&dir.join(files::SCORES))? {
        let s = line?.record;
        let unit = (s.model.clone(), s.item_id.clone(), s.sample);
        if !wanted.contains(&unit) {
            continue;
        }
        for (d, v) in &s.dimensions {
            match v.score {
                Some(x) => run.insert((d.clone(), unit.clone()), x),
                None => run.remove(&(d.clone(), unit.clone())),
            };
        }
    }
    let dimensions = scores
        .iter()
        .map(|(d, units)| {
            let judged: BTreeMap<&Unit, f64> = units
                .keys()
                .filter_map(|u| Some((u, *run.get(&(d.clone(), u.clone()))?)))
                .collect();
            (d.clone(), dimension(units, &judged))
        })
        .collect();
    let mut judge_pairs: BTreeMap<(String, String, String), PairVerdict> = BTreeMap::new();
    if !verdicts.is_empty() {
        for line in stream_jsonl::<PairRecord>(&dir.join(files::PAIRWISE))? {
            let p = line?.record;
            judge_pairs.insert((p.baseline, p.candidate, p.item_id), p.verdict);
        }
    }
    Ok(Some(HumanSummary {
        raters: raters.into_iter().collect(),
        n_scores,
        n_verdicts,
        dimensions,
        gsb: gsb(&verdicts, &judge_pairs),
        methods: methods(),
    }))
}

/// One dimension's figures from the people's scores per unit and the run's score of the units it has.
fn dimension(
    units: &BTreeMap<Unit, Vec<f64>>,
    judged: &BTreeMap<&Unit, f64>,
) -> DimensionAgreement {
    // Units grouped by item (item order, then model and sample): the bootstrap draws items.
    let mut by_item: BTreeMap<&str, Vec<(f64, f64, f64)>> = BTreeMap::new();
    let mut per_model: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for (u, hs) in units {
        let Some(&j) = judged.get(u) else { continue };
        let mean = hs.iter().sum::<f64>() / hs.len() as f64;
        let cons = consensus(hs).unwrap_or(mean);
        by_item
            .entry(u.1.as_str())
            .or_default()
            .push((j, mean, cons));
        let pm = per_model.entry(u.0.clone()).or_default();
        pm.0.push(mean);
        pm.1.push(j);
    }
    let items: Vec<&Vec<(f64, f64, f64)>> = by_item.values().collect();
    let all: Vec<(f64, f64, f64)> = items.iter().flat_map(|v| v.iter().copied()).collect();
    let stats = |v: &[(f64, f64, f64)]| -> [Option<f64>; 4] {
        let j: Vec<f64> = v.iter().map(|x| x.0).collect();
        let m: Vec<f64> = v.iter().map(|x| x.1).collect();
        let c: Vec<f64> = v.iter().map(|x| x.2).collect();
        [
            diff_of_means(&j, &m),
            exact_agreement(&j, &c),
            kappa_quadratic(&j, &c),
            spearman(&j, &c),
        ]
    };
    let point = stats(&all);
    let mut boot: [Vec<f64>; 4] = Default::default();
    let mut draw: Vec<(f64, f64, f64)> = Vec::new();
    resample_items(items.len(), RESAMPLES, SEED, |idx| {
        draw.clear();
        for &i in idx {
            draw.extend_from_slice(items[i]);
        }
        for (k, v) in stats(&draw).into_iter().enumerate() {
            if let Some(v) = v {
                boot[k].push(v);
            }
        }
    });
    let mut with_ci = |k: usize| {
        let mut b = std::mem::take(&mut boot[k]);
        b.sort_by(f64::total_cmp);
        let alpha = 1.0 - CONFIDENCE;
        WithCi {
            value: point[k],
            ci95_low: point[k].and(type7(&b, alpha / 2.0)),
            ci95_high: point[k].and(type7(&b, 1.0 - alpha / 2.0)),
        }
    };
    let (mean_diff, exact, kappa, rho) = (with_ci(0), with_ci(1), with_ci(2), with_ci(3));
    let multi: Vec<Vec<f64>> = units.values().filter(|h| h.len() >= 2).cloned().collect();
    let majorities: Vec<(f64, f64)> = units
        .iter()
        .filter(|(_, h)| h.len() >= 2)
        .filter_map(|(u, h)| Some((*judged.get(u)?, majority(h)?)))
        .collect();
    let (mj, mm): (Vec<f64>, Vec<f64>) = majorities.iter().copied().unzip();
    let j: Vec<f64> = all.iter().map(|x| x.0).collect();
    let h: Vec<f64> = all.iter().map(|x| x.1).collect();
    DimensionAgreement {
        n_units: all.len(),
        n_items: items.len(),
        n_human_only: units.len() - all.len(),
        human_mean: mean(&h),
        judge_mean: mean(&j),
        mean_diff,
        exact_agreement: exact,
        kappa_quadratic: kappa,
        spearman: rho,
        n_multi_rated: multi.len(),
        alpha_ordinal: krippendorff_alpha_ordinal(&multi),
        judge_majority_agreement: exact_agreement(&mj, &mm),
        n_majority_units: mj.len(),
        per_model: per_model
            .into_iter()
            .map(|(m, (h, j))| {
                (
                    m,
                    ModelAgreement {
                        n_units: h.len(),
                        human_mean: mean(&h),
                        judge_mean: mean(&j),
                    },
                )
            })
            .collect(),
    }
}

fn mean(x: &[f64]) -> Option<f64> {
    crate::stats::describe::mean(x)
}

fn diff_of_means(j: &[f64], h: &[f64]) -> Option<f64> {
    Some(mean(j)? - mean(h)?)
}

fn gsb(
    verdicts: &BTreeMap<(String, String, String), Vec<PairVerdict>>,
    judge: &BTreeMap<(String, String, String), PairVerdict>,
) -> BTreeMap<String, BTreeMap<String, GsbAgreement>> {
    let mut acc: BTreeMap<(String, String), Vec<(PairVerdict, PairVerdict)>> = BTreeMap::new();
    for (k, vs) in verdicts {
        let Some(&j) = judge.get(k) else { continue };
        let n = vs.len();
        let people = [PairVerdict::G, PairVerdict::S, PairVerdict::B]
            .into_iter()
            .find(|v| 2 * vs.iter().filter(|x| *x == v).count() > n)
            .unwrap_or(PairVerdict::S);
        acc.entry((k.0.clone(), k.1.clone()))
            .or_default()
            .push((people, j));
    }
    let mut out: BTreeMap<String, BTreeMap<String, GsbAgreement>> = BTreeMap::new();
    for ((reference, cand), pairs) in acc {
        let counts = |side: &dyn Fn(&(PairVerdict, PairVerdict)) -> PairVerdict| {
            let c = |v: PairVerdict| pairs.iter().filter(|p| side(p) == v).count();
            let (g, s, b) = (c(PairVerdict::G), c(PairVerdict::S), c(PairVerdict::B));
            GsbCounts {
                good: g,
                same: s,
                bad: b,
                win_rate: Some((g as f64 + s as f64 / 2.0) / pairs.len() as f64),
            }
        };
        let same = pairs.iter().filter(|(a, b)| a == b).count();
        out.entry(reference).or_default().insert(
            cand,
            GsbAgreement {
                n_pairs: pairs.len(),
                human: counts(&|p| p.0),
                judge: counts(&|p| p.1),
                agreement: Some(same as f64 / pairs.len() as f64),
            },
        );
    }
    out
}

fn methods() -> BTreeMap<String, String> {
    [
        ("unit", "one graded answer (model, item, sample); per dimension, the units with a person's score and a non-null score in scores.jsonl"),
        ("consensus", "per unit, the most frequent of its people's scores; when several are most frequent, the median of its scores"),
        ("mean_diff", "mean of the run's scores minus mean of the people's per-unit mean score, over the same units"),
        ("exact_agreement", "share of units whose run score equals the consensus"),
        ("kappa_quadratic", "1 - mean (j - h)^2 / mean over all unit pairs (j_u - h_v)^2, run score j vs consensus h (Cohen's kappa, quadratic weights)"),
        ("spearman", "Pearson correlation of the average ranks of the run scores and the consensus"),
        ("ci95", "percentile bootstrap: 2000 resamples of items (all of an item's units together), SplitMix64 seed 42 as STATS.md section 9, type-7 quantiles 0.025 and 0.975 of the resamples where the statistic is defined"),
        ("alpha_ordinal", "Krippendorff's alpha, ordinal metric, among the people, over units scored by two or more"),
        ("judge_majority_agreement", "over units scored by two or more people with a score more than half of them gave: share where the run's score is that score"),
        ("gsb", "per pair, the verdict more than half of its people gave, else S; win rate (G + S/2)/n; beside the judge's verdict in pairwise.jsonl"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, lines: &[String]) {
        std::fs::write(dir.join(name), lines.join("\n") + "\n").unwrap();
    }

    fn score(model: &str, item: &str, reply: Option<f64>) -> String {
        serde_json::json!({"model": model, "item_id": item, "sample": 0, "rules": {},
            "dimensions": {"reply": {"score": reply, "source": "judge", "justification": null}},
            "judge_error": null})
        .to_string()
    }

    fn human(rater: &str, model: &str, item: &str, s: f64) -> String {
        serde_json::json!({"rater": rater, "item_id": item, "model": model, "sample": 0,
            "dimension": "reply", "score": s, "sheet": "x", "row": 1})
        .to_string()
    }

    #[test]
    fn agreement_by_hand_on_a_small_run() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(
            summarize_dir(d).unwrap(),
            None,
            "no human.jsonl, no section"
        );
        // Judge (a,i1)=3 (a,i2)=2 (b,i1)=1 (b,i2)=3, (b,i3) unjudged.
        write(
            d,
            files::SCORES,
            &[
                score("a", "i1", Some(3.0)),
                score("a", "i2", Some(2.0)),
                score("b", "i1", Some(1.0)),
                score("b", "i2", Some(3.0)),
                score("b", "i3", None),
            ],
        );
        // Alice: 3, 2, 1, 2 (+ b/i3); Bob on (a,i1) 3 and (b,i2) 3.
        write(
            d,
            files::HUMAN,
            &[
                human("alice", "a", "i1", 3.0),
                human("alice", "a", "i2", 2.0),
                human("alice", "b", "i1", 1.0),
                human("alice", "b", "i2", 2.0),
                human("alice", "b", "i3", 2.0),
                human("bob", "a", "i1", 3.0),
                human("bob", "b", "i2", 3.0),
            ],
        );
        let h = summarize_dir(d).unwrap().unwrap();
        assert_eq!(h.raters, ["alice", "bob"]);
        let r = &h.dimensions["reply"];
        assert_eq!((r.n_units, r.n_items, r.n_human_only), (4, 2, 1));
        // People's unit means 3, 2, 1, 2.5 → 2.125; judge 3, 2, 1, 3 → 2.25.
        assert_eq!(r.human_mean, Some(2.125));
        assert_eq!(r.judge_mean, Some(2.25));
        assert!((r.mean_diff.value.unwrap() - 0.125).abs() < 1e-12);
        // Consensus 3, 2, 1, 2.5 (a tie → median): exact 3/4.
        assert_eq!(r.exact_agreement.value, Some(0.75));
        // κ: observed 0.25/4; means 2.25 and 2.125, pop. variances 0.6875 and 0.546875.
        let expected = 0.125f64.powi(2) + 0.6875 + 0.546875;
        let kappa = 1.0 - 0.0625 / expected;
        assert!((r.kappa_quadratic.value.unwrap() - kappa).abs() < 1e-12);
        let (lo, hi) = (
            r.kappa_quadratic.ci95_low.unwrap(),
            r.kappa_quadratic.ci95_high.unwrap(),
        );
        assert!(lo <= hi);
        // Two units with two raters: (3, 3) and (2, 3); α defined, majority only on the first.
        assert_eq!(r.n_multi_rated, 2);
        assert!(r.alpha_ordinal.is_some());
        assert_eq!(
            (r.n_majority_units, r.judge_majority_agreement),
            (1, Some(1.0))
        );
        assert_eq!(r.per_model["b"].n_units, 2);
        assert_eq!(r.per_model["b"].human_mean, Some(1.75));
    }
}
