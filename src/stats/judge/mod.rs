//! Judge diagnostics (SPEC §6): how far the judge's numbers can be trusted, from the run's records.
//!
//! - Parse failures per model: judge calls that returned a reply whose `parse_error` is set (a requested
//!   dimension missing or rejected, or no verdict), over the calls that returned a reply.
//! - Unjudged answers: `scores.jsonl` lines with a `judge_error`; unjudged pairs: (candidate, item) with
//!   pair calls but no `pairwise.jsonl` line.
//! - Position: the share of `pairwise.jsonl` lines whose two raw verdicts differ (STATS.md §1.10), and
//!   the share of decisive raw verdicts that went to the answer shown first.
//! - Self-agreement: over (answer, dimension) with two or more valid judge-sample scores
//!   (`judge_samples` in `scores.jsonl`), the share whose samples all agree and the mean range.
//! - Length correlation: Spearman's ρ (Pearson correlation of average ranks, ties averaged) between an
//!   answer's length in characters and its judge score — the mean over judged dimensions of the median
//!   sample score, before rule caps, so that it measures the judge and not the rules.
//! - Cost: the judge's prompt and completion tokens × the judge model's prices, apart from the answers;
//!   a panel's judges each at their own prices ([`cost`]).

mod cost;
mod facts;

use std::collections::BTreeMap;

use crate::records::{JudgeTask, JudgementRecord, PairRecord, ResponseRecord, ScoreRecord};

use super::aggregate::Prices;
use super::describe::{finite, mean, median};
use super::estimate::sign_test;
pub use cost::Tokens;
use facts::{last_of_each, Keys, Length, PairFacts, PairUnit, ScoreFacts, Unit};

use super::summary::{
    JudgeDiagnostics, JudgeMethods, JudgeModelStats, PositionStats, SelfAgreement,
};

/// The judge of the run and its prices.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JudgeConfig {
    /// Judge model name (a panel's: "a,b,c").
    pub name: String,
    /// The judge's configured prices (a panel's: the first judge's).
    pub prices: Prices,
    /// A panel's judges with their own prices, in panel order; empty for one judge.
    pub panel: Vec<(String, Prices)>,
}

#[derive(Debug, Default, Clone)]
struct CallCounts {
    grade_calls: usize,
    grade_replies: usize,
    grade_failures: usize,
    pair_calls: usize,
    pair_replies: usize,
    pair_failures: usize,
}

/// Collects what the diagnostics need; records in file order (the last of a repeated key wins). Per
/// answer, score and pair it keeps a few numbers under interned keys (`facts`), not the records.
#[derive(Debug, Default)]
pub struct JudgeBuilder {
    keys: Keys,
    /// Each response line's answer length.
    lengths: Vec<Length>,
    /// Each score line's facts.
    scores: Vec<ScoreFacts>,
    /// The self-agreement ranges of the score lines ([`ScoreFacts::ranges_at`]).
    ranges: Vec<f64>,
    /// Each pairwise line's raw verdicts.
    pairs: Vec<PairFacts>,
    calls: BTreeMap<String, CallCounts>,
    /// (candidate, reference, item) of each pair call.
    pair_items_asked: Vec<PairUnit>,
    n_calls: usize,
    n_call_errors: usize,
    decisive: usize,
    first_wins: usize,
    /// Per judge (`judgements.jsonl` field `judge`): its calls' tokens.
    tokens: BTreeMap<String, Tokens>,
}

impl JudgeBuilder {
    fn unit(&mut self, model: &str, item: &str, sample: u32) -> Unit {
        Unit {
            model: self.keys.model(model),
            item: self.keys.item(item),
            sample,
        }
    }

    fn pair_unit(&mut self, candidate: &str, baseline: &str, item: &str) -> PairUnit {
        PairUnit {
            candidate: self.keys.model(candidate),
            baseline: self.keys.model(baseline),
            item: self.keys.item(item),
        }
    }

    /// Account for one response record.
    pub fn add_response(&mut self, r: &ResponseRecord) {
        let unit = self.unit(&r.model, &r.item_id, r.sample);
        let chars = match (&r.error, &r.output) {
            (None, Some(out)) => Some(out.chars().count() as u64),
            _ => None,
        };
        self.lengths.push(Length { unit, chars });
    }

    /// Account for one score record.
    pub fn add_score(&mut self, s: &ScoreRecord) {
        let unit = self.unit(&s.model, &s.item_id, s.sample);
        let samples = s.judge_samples.as_ref();
        let ranges_at = self.ranges.len();
        let (mut max_samples, mut agree) = (0, 0);
        for v in samples.into_iter().flat_map(|m| m.values()) {
            max_samples = max_samples.max(v.len());
            if v.len() >= 2 {
                let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                agree += u32::from(lo == hi);
                self.ranges.push(hi - lo);
            }
        }
        let medians: Vec<f64> = (samples.into_iter().flat_map(|m| m.values()))
            .filter_map(|v| median(v))
            .collect();
        self.scores.push(ScoreFacts {
            unit,
            judged: s.judge_samples.is_some() || s.judge_error.is_some(),
            error: s.judge_error.is_some(),
            score: mean(&medians),
            max_samples,
            agree,
            n_ranges: (self.ranges.len() - ranges_at) as u32,
            ranges_at,
        });
    }

    /// Account for one pairwise record.
    pub fn add_pair(&mut self, p: &PairRecord) {
        let unit = self.pair_unit(&p.candidate, &p.baseline, &p.item_id);
        self.pairs.push(PairFacts {
            unit,
            first: p.first_order,
            second: p.second_order,
        });
    }

    /// Whether any judge call was accounted for.
    pub fn has_calls(&self) -> bool {
        self.n_calls > 0
    }

    /// Account for one judge call.
    pub fn add_judgement(&mut self, j: &JudgementRecord) {
        self.n_calls += 1;
        let t = self.tokens.entry(j.judge.clone()).or_default();
        t.prompt += j.prompt_tokens.unwrap_or(0);
        t.completion += j.completion_tokens.unwrap_or(0);
        let replied = j.error.is_none();
        self.n_call_errors += usize::from(!replied);
        let failed = replied && j.parse_error.is_some();
        let c = self.calls.entry(j.model.clone()).or_default();
        match j.task {
            JudgeTask::Grade => {
                c.grade_calls += 1;
                c.grade_replies += usize::from(replied);
                c.grade_failures += usize::from(failed);
            }
            JudgeTask::Pair => {
                c.pair_calls += 1;
                c.pair_replies += usize::from(replied);
                c.pair_failures += usize::from(failed);
                let asked = self.pair_unit(
                    &j.model,
                    j.baseline.as_deref().unwrap_or_default(),
                    &j.item_id,
                );
                self.pair_items_asked.push(asked);
                if let Some(w) = j
                    .parsed
                    .as_ref()
                    .and_then(|p| p.get("winner"))
                    .and_then(|w| w.as_str())
                {
                    if w == "A" || w == "B" {
                        self.decisive += 1;
                        self.first_wins += usize::from(w == "A");
                    }
                }
            }
        }
    }

    /// The diagnostics, or `None` when the run has no judge and no judge records.
    pub fn finish(
        mut self,
        judge: Option<&JudgeConfig>,
        models: &[String],
    ) -> Option<JudgeDiagnostics> {
        if judge.is_none() && self.n_calls == 0 {
            return None;
        }
        // Scores and lengths in (model, item id, sample) order, pairs in any: the last line of a key.
        let ranks = self.keys.ranks();
        last_of_each(&mut self.scores, |f| f.unit.order(&ranks));
        last_of_each(&mut self.lengths, |l| l.unit.order(&ranks));
        last_of_each(&mut self.pairs, |p| p.unit);
        self.pair_items_asked.sort_unstable();
        self.pair_items_asked.dedup();
        let keys = &self.keys;
        let mut per_model: BTreeMap<String, JudgeModelStats> = BTreeMap::new();
        let mut names: Vec<String> = models.to_vec();
        let scored = self.scores.iter().map(|f| keys.model_name(f.unit.model));
        for m in self.calls.keys().map(String::as_str).chain(scored) {
            if !names.iter().any(|n| n == m) {
                names.push(m.to_owned());
            }
        }
        let mut pooled: (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
        let (mut units, mut agree, mut ranges, mut max_samples) =
            (0usize, 0usize, Vec::new(), 0usize);
        for m in &names {
            let id = keys.model_id(m);
            let c = self.calls.get(m).cloned().unwrap_or_default();
            let mut st = JudgeModelStats {
                n_graded_answers: 0,
                n_unjudged_answers: 0,
                n_grade_calls: c.grade_calls,
                n_grade_replies: c.grade_replies,
                n_grade_parse_failures: c.grade_failures,
                grade_parse_failure_rate: ratio(c.grade_failures, c.grade_replies),
                n_pair_calls: c.pair_calls,
                n_pair_replies: c.pair_replies,
                n_pair_parse_failures: c.pair_failures,
                pair_parse_failure_rate: ratio(c.pair_failures, c.pair_replies),
                n_unjudged_pairs: self
                    .pair_items_asked
                    .iter()
                    .filter(|&key| Some(key.candidate) == id)
                    .filter(|&key| self.pairs.binary_search_by_key(key, |p| p.unit).is_err())
                    .count(),
                length_spearman: None,
                n_length: 0,
            };
            let (mut lx, mut ly) = (Vec::new(), Vec::new());
            for f in &self.scores {
                if Some(f.unit.model) != id || !f.judged {
                    continue;
                }
                st.n_graded_answers += 1;
                st.n_unjudged_answers += usize::from(f.error);
                max_samples = max_samples.max(f.max_samples);
                units += f.n_ranges as usize;
                agree += f.agree as usize;
                ranges.extend_from_slice(&self.ranges[f.ranges_at..][..f.n_ranges as usize]);
                let order = f.unit.order(&ranks);
                let len = (self.lengths)
                    .binary_search_by_key(&order, |l| l.unit.order(&ranks))
                    .ok()
                    .and_then(|i| self.lengths[i].chars);
                if let (Some(score), Some(len)) = (f.score, len) {
                    lx.push(len as f64);
                    ly.push(score);
                }
            }
            st.length_spearman = spearman(&lx, &ly);
            st.n_length = lx.len();
            pooled.0.extend(lx);
            pooled.1.extend(ly);
            let empty = st.n_graded_answers == 0 && st.n_grade_calls == 0 && st.n_pair_calls == 0;
            if !empty {
                per_model.insert(m.clone(), st);
            }
        }
        let both: Vec<_> = self
            .pairs
            .iter()
            .filter_map(|p| Some((p.first?, p.second?)))
            .collect();
        let disagree = both.iter().filter(|(a, b)| a != b).count();
        let graded: usize = per_model.values().map(|s| s.n_graded_answers).sum();
        Some(JudgeDiagnostics {
            judge: judge.map(|j| j.name.clone()),
            n_calls: self.n_calls,
            n_grade_calls: self.calls.values().map(|c| c.grade_calls).sum(),
            n_pair_calls: self.calls.values().map(|c| c.pair_calls).sum(),
            n_call_errors: self.n_call_errors,
            per_model,
            position: PositionStats {
                n_both_orders: both.len(),
                n_order_disagree: disagree,
                order_disagreement_rate: ratio(disagree, both.len()),
                n_decisive_raw: self.decisive,
                n_first_position_wins: self.first_wins,
                first_position_win_share: ratio(self.first_wins, self.decisive),
                first_position_p: (self.decisive > 0)
                    .then(|| sign_test(self.first_wins as u64, self.decisive as u64)),
            },
            self_agreement: SelfAgreement {
                max_samples,
                n_units: units,
                n_exact_agree: agree,
                exact_agreement_rate: ratio(agree, units),
                mean_range: mean(&ranges),
            },
            length_spearman_pooled: spearman(&pooled.0, &pooled.1),
            n_length_pooled: pooled.0.len(),
            cost: cost::judge_cost(judge, &self.tokens, graded),
            methods: methods(),
        })
    }
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    super::describe::ratio(a as f64, b as f64)
}

/// Average ranks (1-based), ties sharing the mean of their positions.
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[idx[k]] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman's ρ: Pearson correlation of the average ranks (scipy `spearmanr`); `None` for fewer than
/// three pairs or when either side is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 3 {
        return None;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let (mx, my) = (mean(&rx)?, mean(&ry)?);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    finite(sxy / (sxx * syy).sqrt())
}

fn methods() -> JudgeMethods {
    JudgeMethods {
        parse_failure: "judge calls that returned a reply (error == null) whose parse_error is set (a requested \
                        dimension missing, not a whole number or off the scale; no JSON; no winner), over the \
                        calls that returned a reply; grade and pair calls apart, per graded model (pair: the \
                        candidate)"
            .to_owned(),
        unjudged: "answers: scores.jsonl lines with judge_error != null (left out of the affected dimensions' \
                   means); pairs: (candidate, item) with pair calls in judgements.jsonl and no pairwise.jsonl line"
            .to_owned(),
        position: "order_disagreement_rate = pairwise.jsonl lines whose first_order != second_order over lines \
                   with both; first_position_win_share = usable raw pair verdicts with winner A (the answer \
                   shown first) over those with winner A or B; first_position_p = exact two-sided binomial p of those \
                   at 1/2"
            .to_owned(),
        self_agreement: "over (answer, dimension) with >= 2 valid judge-sample scores (scores.jsonl \
                         judge_samples): share whose scores are all equal; mean of max - min"
            .to_owned(),
        length_correlation: "Spearman rho (Pearson correlation of average ranks) between answer length in \
                             characters and the answer's judge score = mean over judged dimensions of the \
                             median judge-sample score, before rule caps; null for n < 3 or a constant side"
            .to_owned(),
        cost: "sum of prompt_tokens and completion_tokens over judgements.jsonl times the judge model's \
               price_input_per_1k / price_output_per_1k; a panel: each judge's tokens (judgements.jsonl \
               judge) times its own prices, summed (prices null unless every judge has the same; null total \
               and a note when currencies differ or a judge that made calls has no prices); per_item = \
               total / graded answers"
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{ErrorInfo, ErrorKind, PairVerdict};

    #[test]
    fn spearman_by_hand() {
        // x ranks 1..5; y = [5, 6, 7, 8, 7] ranks [1, 2, 3.5, 5, 3.5]; both rank means 3. Deviations
        // (−2, −1, 0, 1, 2) and (−2, −1, 0.5, 2, 0.5): Σ products 4 + 1 + 0 + 2 + 1 = 8, Σ squares 10
        // and 9.5 → ρ = 8/√95 = 0.82078 (scipy.stats.spearmanr gives the same).
        let r = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 7.0]).unwrap();
        assert!((r - 8.0 / 95f64.sqrt()).abs() < 1e-12, "{r}");
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[2.0, 2.0, 2.0]), None);
        assert_eq!(spearman(&[1.0, 2.0], &[1.0, 2.0]), None);
    }

    fn judgement(
        task: JudgeTask,
        model: &str,
        item: &str,
        parsed: Option<serde_json::Value>,
        parse_error: Option<&str>,
        error: bool,
    ) -> JudgementRecord {
        let baseline = (task == JudgeTask::Pair).then(|| "b".into());
        JudgementRecord {
            judge: "j".into(),
            task,
            item_id: item.into(),
            model: model.into(),
            baseline,
            sample: 0,
            order: 1,
            attempt: 1,
            dimensions: vec![],
            raw: Some("x".into()),
            parsed,
            parse_error: parse_error.map(str::to_string),
            prompt_tokens: Some(1000),
            completion_tokens: Some(100),
            total_ms: Some(5.0),
            error: error.then(|| ErrorInfo {
                kind: ErrorKind::Timeout,
                message: "t".into(),
                status: None,
                code: None,
            }),
            cached: false,
            tokens_estimated: false,
        }
    }

    fn score(model: &str, item: &str, samples: &[(&str, &[f64])], error: bool) -> ScoreRecord {
        ScoreRecord {
            model: model.into(),
            item_id: item.into(),
            sample: 0,
            rules: BTreeMap::new(),
            dimensions: BTreeMap::new(),
            reference_metrics: None,
            judge_error: error.then(|| "no usable judge score".into()),
            judge_samples: Some(
                samples
                    .iter()
                    .map(|(d, v)| (d.to_string(), v.to_vec()))
                    .collect(),
            ),
            panel: None,
        }
    }

    fn response(model: &str, item: &str, out: &str) -> ResponseRecord {
        ResponseRecord {
            model: model.into(),
            item_id: item.into(),
            sample: 0,
            output: Some(out.into()),
            ttft_ms: None,
            total_ms: None,
            queue_ms: None,
            prompt_tokens: None,
            completion_tokens: None,
            finish_reason: None,
            attempts: 1,
            error: None,
            cached: false,
            tokens_estimated: false,
            invalid_utf8: false,
            cached_utc: None,
        }
    }

    #[test]
    fn diagnostics_by_hand() {
        let mut b = JudgeBuilder::default();
        for (item, out) in [("i1", "a"), ("i2", "bbb"), ("i3", "cc"), ("i4", "dddd")] {
            b.add_response(&response("m", item, out));
        }
        b.add_score(&score("m", "i1", &[("q", &[1.0, 1.0])], false));
        b.add_score(&score("m", "i2", &[("q", &[3.0, 2.0, 3.0])], false));
        b.add_score(&score("m", "i3", &[("q", &[2.0, 2.0])], false));
        b.add_score(&score("m", "i4", &[], true));
        let grade = |p: Option<&str>, e: bool| judgement(JudgeTask::Grade, "m", "i1", None, p, e);
        b.add_judgement(&grade(None, false));
        b.add_judgement(&grade(Some("q: not in the reply"), false));
        b.add_judgement(&grade(None, true));
        let pair = |w: &str| {
            judgement(
                JudgeTask::Pair,
                "m",
                "i1",
                Some(serde_json::json!({"winner": w})),
                None,
                false,
            )
        };
        b.add_judgement(&pair("A"));
        b.add_judgement(&pair("A"));
        b.add_judgement(&pair("B"));
        b.add_judgement(&pair("tie"));
        b.add_judgement(&judgement(
            JudgeTask::Pair,
            "m",
            "i2",
            None,
            Some("no JSON"),
            false,
        ));
        b.add_pair(&PairRecord {
            item_id: "i1".into(),
            candidate: "m".into(),
            baseline: "b".into(),
            verdict: PairVerdict::S,
            first_order: Some(PairVerdict::G),
            second_order: Some(PairVerdict::S),
            panel: None,
        });
        let cfg = JudgeConfig {
            name: "j".into(),
            prices: Prices {
                input_per_1k: Some(0.1),
                output_per_1k: Some(0.2),
                currency: Some("CNY".into()),
            },
            panel: vec![],
        };
        let d = b.finish(Some(&cfg), &["m".to_string()]).unwrap();
        let m = &d.per_model["m"];
        assert_eq!((m.n_graded_answers, m.n_unjudged_answers), (4, 1));
        assert_eq!(
            (m.n_grade_calls, m.n_grade_replies, m.n_grade_parse_failures),
            (3, 2, 1)
        );
        assert_eq!(m.grade_parse_failure_rate, Some(0.5));
        assert_eq!((m.n_pair_calls, m.n_pair_parse_failures), (5, 1));
        assert_eq!(
            m.n_unjudged_pairs, 1,
            "i2 was asked but has no pairwise line"
        );
        // Lengths 1, 3, 2 against judge scores 1, 3, 2 (medians): ρ = 1; i4 has no judge score.
        assert_eq!((m.length_spearman, m.n_length), (Some(1.0), 3));
        assert_eq!(
            (d.position.n_both_orders, d.position.n_order_disagree),
            (1, 1)
        );
        assert_eq!(
            (d.position.n_decisive_raw, d.position.n_first_position_wins),
            (3, 2)
        );
        // Units i1 (1,1), i2 (3,2,3), i3 (2,2): two agree; ranges 0, 1, 0.
        assert_eq!(
            (d.self_agreement.n_units, d.self_agreement.n_exact_agree),
            (3, 2)
        );
        assert_eq!(d.self_agreement.max_samples, 3);
        assert!((d.self_agreement.mean_range.unwrap() - 1.0 / 3.0).abs() < 1e-12);
        // 8 calls × (1000, 100) tokens: 8 × (0.1 + 0.02) = 0.96.
        assert_eq!((d.n_calls, d.n_call_errors), (8, 1));
        assert!((d.cost.total.unwrap() - 0.96).abs() < 1e-12);
        assert!((d.cost.per_item.unwrap() - 0.24).abs() < 1e-12);
        assert!(JudgeBuilder::default().finish(None, &[]).is_none());
    }

    #[test]
    fn a_panel_prices_each_judge_at_its_own_prices() {
        let mut b = JudgeBuilder::default();
        b.add_score(&score("m", "i1", &[("q", &[3.0])], false));
        b.add_score(&score("m", "i2", &[("q", &[4.0])], false));
        // Each call: 1000 prompt + 100 completion tokens. "cheap" makes 3 calls, "dear" 2.
        for (judge, n) in [("cheap", 3), ("dear", 2)] {
            for _ in 0..n {
                let mut r = judgement(JudgeTask::Grade, "m", "i1", None, None, false);
                r.judge = judge.into();
                b.add_judgement(&r);
            }
        }
        let prices = |i, o| Prices {
            input_per_1k: Some(i),
            output_per_1k: Some(o),
            currency: Some("CNY".into()),
        };
        let cfg = JudgeConfig {
            name: "cheap,dear".into(),
            prices: prices(0.1, 0.2),
            panel: vec![
                ("cheap".into(), prices(0.1, 0.2)),
                ("dear".into(), prices(2.0, 4.0)),
            ],
        };
        let c = b.finish(Some(&cfg), &["m".to_string()]).unwrap().cost;
        // cheap: 3 × (1.0 × 0.1 + 0.1 × 0.2) = 0.36; dear: 2 × (1.0 × 2.0 + 0.1 × 4.0) = 4.8.
        // At the first judge's prices it would be 5 × 0.12 = 0.6.
        assert!((c.total.unwrap() - 5.16).abs() < 1e-12, "{:?}", c.total);
        assert_eq!((c.prompt_tokens, c.completion_tokens), (5000, 500));
        assert!((c.per_item.unwrap() - 2.58).abs() < 1e-12);
        assert!((c.per_1k_tokens.unwrap() - 5.16 / 5.5).abs() < 1e-12);
        assert_eq!((c.price_input_per_1k, c.price_output_per_1k), (None, None));
        assert_eq!((c.currency.as_deref(), c.note), (Some("CNY"), None));
    }
}
