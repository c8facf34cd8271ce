//! GSB per reference and candidate (STATS.md §5): per-item scores 1, ½, 0, E over them, the exact sign
//! test of G against B with Holm over the reference's candidates.

use std::collections::BTreeMap;

use crate::records::{self, PairVerdict};
use crate::stats::estimate::{estimate, holm, mde_multiplier, sign_test, Alternative, Bounds};
use crate::stats::summary::GsbStats;

use super::ingest::PairFacts;
use super::model::sort_by_item;
use super::{ratio, SummaryBuilder};

impl SummaryBuilder<'_> {
    /// `gsb.<ref>.<cand>`, keyed by the reference each `pairwise.jsonl` line names.
    pub(super) fn gsb(
        &self,
        models: &[u32],
        rank: &[u32],
        warnings: &mut Vec<String>,
    ) -> BTreeMap<String, BTreeMap<String, GsbStats>> {
        // (reference, candidate) → (item, facts) in item order.
        let mut lines: BTreeMap<(u32, u32), Vec<(&str, PairFacts)>> = BTreeMap::new();
        let mut self_pairs = 0usize;
        for (&(c, b), pairs) in &self.pairs {
            if c == b {
                self_pairs += pairs.len();
                continue;
            }
            let mut pairs = pairs.clone();
            sort_by_item(&mut pairs, rank, |p| (p.0, 0));
            lines.entry((b, c)).or_default().extend(
                pairs
                    .into_iter()
                    .map(|(item, facts)| (self.items.name(item), facts)),
            );
        }
        if self_pairs > 0 {
            warnings.push(format!(
                "{}: {self_pairs} lines compare a model with itself; ignored",
                records::files::PAIRWISE
            ));
        }
        let mut out: BTreeMap<String, BTreeMap<String, GsbStats>> = BTreeMap::new();
        for ((b, c), lines) in lines {
            let (reference, name) = (self.models.name(b), self.models.name(c).to_owned());
            if !models.contains(&c) {
                warnings.push(format!(
                    "gsb {name}: pairwise lines name a candidate that has no other records and is not configured"
                ));
            }
            let items: Vec<&str> = lines.iter().map(|l| l.0).collect();
            let facts: Vec<PairFacts> = lines.iter().map(|l| l.1).collect();
            let stats = gsb_stats(reference, &facts, self.labels(&items).as_deref());
            if stats.n_verdict_rule_mismatch > 0 {
                warnings.push(format!(
                    "gsb {name}: n_verdict_rule_mismatch = {} (verdicts that disagree with the both-orders rule)",
                    stats.n_verdict_rule_mismatch
                ));
            }
            out.entry(reference.to_owned())
                .or_default()
                .insert(name, stats);
        }
        for family in out.values_mut() {
            finish_family(family, self.cfg.alpha);
        }
        out
    }
}

fn gsb_stats(reference: &str, lines: &[PairFacts], labels: Option<&[usize]>) -> GsbStats {
    let g: Vec<f64> = lines
        .iter()
        .map(|l| match l.verdict {
            PairVerdict::G => 1.0,
            PairVerdict::S => 0.5,
            PairVerdict::B => 0.0,
        })
        .collect();
    let count = |v: PairVerdict| lines.iter().filter(|l| l.verdict == v).count();
    let (good, same, bad) = (
        count(PairVerdict::G),
        count(PairVerdict::S),
        count(PairVerdict::B),
    );
    let decisive = good + bad;
    let (mut both, mut disagree, mut mismatch) = (0, 0, 0);
    for l in lines {
        if let (Some(first), Some(second)) = (l.first, l.second) {
            both += 1;
            disagree += usize::from(first != second);
            mismatch += usize::from(l.verdict != PairVerdict::combine(first, second));
        }
    }
    let e = estimate(&g, labels);
    let ci = e.interval(Bounds::Share);
    GsbStats {
        baseline: reference.to_owned(),
        G: good,
        S: same,
        B: bad,
        N: lines.len(),
        win_rate: e.mean,
        se: e.se,
        df: e.df,
        n_clusters: e.n_clusters,
        ci95_low: ci.map(|c| c.0),
        ci95_high: ci.map(|c| c.1),
        sign_test_p: Some(sign_test(good as u64, decisive as u64)),
        sign_test_p_holm: None,
        m_family: 0,
        verdict: String::new(),
        decisive_win_share: ratio(good as f64, decisive as f64),
        mde80_win_rate: None,
        n_both_orders: both,
        n_order_disagree: disagree,
        n_verdict_rule_mismatch: mismatch,
    }
}

/// Holm over the reference's candidates with D > 0, then verdicts and MDE at that m.
fn finish_family(family: &mut BTreeMap<String, GsbStats>, alpha: f64) {
    let raw: Vec<Option<f64>> = family
        .values()
        .map(|g| g.sign_test_p.filter(|_| g.G + g.B > 0))
        .collect();
    let (adjusted, m) = holm(&raw);
    for (g, adj) in family.values_mut().zip(adjusted) {
        g.sign_test_p_holm = adj;
        g.m_family = m;
        let decisive = g.G + g.B > 0;
        g.verdict = if !decisive {
            "no decisive items"
        } else if adj.is_some_and(|p| p < alpha) {
            if g.G > g.B {
                "better"
            } else {
                "worse"
            }
        } else {
            "no detectable difference"
        }
        .to_owned();
        g.mde80_win_rate =
            g.se.filter(|_| decisive)
                .map(|se| mde_multiplier(alpha, m, Alternative::TwoSided) * se);
    }
}
