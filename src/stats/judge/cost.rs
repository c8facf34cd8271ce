//! The judge's cost, `judge.cost` (STATS.md §6): tokens × prices per 1,000.
//!
//! One judge: every call at its prices, as STATS.md says. A panel (README, "Judge panels:
//! statistics"): each judge's calls (`judgements.jsonl` field `judge`) at that judge's own prices,
//! summed. When every judge has the same prices that is the one-judge formula, and the prices are
//! shown; otherwise the prices are null (each judge's are in `panel.per_judge.<j>`). Amounts in
//! different currencies are not added, and a judge without prices leaves the total unknown: the total
//! is then null and `note` says why.

use std::collections::{BTreeMap, BTreeSet};

use crate::stats::describe::ratio;
use crate::stats::summary::CostStats;
use crate::stats::Prices;

use super::JudgeConfig;

/// Prompt and completion tokens of one judge's calls (null as 0).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tokens {
    /// Σ `prompt_tokens`.
    pub prompt: u64,
    /// Σ `completion_tokens`.
    pub completion: u64,
}

/// `judge.cost` from each judge's tokens and the answers graded (the `per_item` denominator).
pub(super) fn judge_cost(
    judge: Option<&JudgeConfig>,
    tokens: &BTreeMap<String, Tokens>,
    graded: usize,
) -> CostStats {
    let sum = tokens.values().fold(Tokens::default(), |a, t| Tokens {
        prompt: a.prompt + t.prompt,
        completion: a.completion + t.completion,
    });
    let (shown, total, note) = match judge {
        Some(cfg) if !cfg.panel.is_empty() => panel_total(&cfg.panel, tokens, sum),
        _ => {
            let prices = judge.map(|j| j.prices.clone()).unwrap_or_default();
            let total = prices.cost(sum.prompt, sum.completion);
            (prices, total, None)
        }
    };
    let all = (sum.prompt + sum.completion) as f64;
    CostStats {
        currency: shown.currency,
        price_input_per_1k: shown.input_per_1k,
        price_output_per_1k: shown.output_per_1k,
        prompt_tokens: sum.prompt,
        completion_tokens: sum.completion,
        total,
        per_item: total.and_then(|t| ratio(t, graded as f64)),
        per_1k_tokens: total.and_then(|t| ratio(t * 1000.0, all)),
        note,
    }
}

/// A panel's prices to show, its total and, when the total is null for want of a rule, why.
fn panel_total(
    panel: &[(String, Prices)],
    tokens: &BTreeMap<String, Tokens>,
    sum: Tokens,
) -> (Prices, Option<f64>, Option<String>) {
    // A judge the records name but the panel does not has no known prices.
    let prices_of = |j: &str| {
        panel
            .iter()
            .find(|(n, _)| n == j)
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    };
    let called: Vec<(&String, Prices, Tokens)> =
        tokens.iter().map(|(j, t)| (j, prices_of(j), *t)).collect();
    let first = &panel[0].1;
    if panel.iter().all(|(_, p)| p == first) && called.iter().all(|(_, p, _)| p == first) {
        return (first.clone(), first.cost(sum.prompt, sum.completion), None);
    }
    let currencies: BTreeSet<Option<&str>> = (panel.iter().map(|(_, p)| p))
        .chain(called.iter().map(|(_, p, _)| p))
        .map(|p| p.currency.as_deref())
        .collect();
    let shown = Prices {
        input_per_1k: None,
        output_per_1k: None,
        currency: match currencies.iter().collect::<Vec<_>>()[..] {
            [Some(c)] => Some(c.to_string()),
            _ => None,
        },
    };
    let mut by_currency: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    // Only an amount has a currency: a judge without prices is the next case.
    for (j, p, _) in called.iter().filter(|(_, p, _)| p.pair().is_some()) {
        let c = p.currency.as_deref().unwrap_or("no currency");
        by_currency.entry(c).or_default().push(j);
    }
    if by_currency.len() > 1 {
        let groups: Vec<String> = by_currency
            .iter()
            .map(|(c, js)| format!("{c}: {}", js.join(", ")))
            .collect();
        let note = format!(
            "the panel's judges are priced in different currencies ({}), which are not added; each \
             judge's own cost is panel.per_judge.<judge>.cost",
            groups.join("; ")
        );
        return (shown, None, Some(note));
    }
    let unpriced: Vec<&str> = called
        .iter()
        .filter(|(_, p, _)| p.pair().is_none())
        .map(|(j, _, _)| j.as_str())
        .collect();
    if !unpriced.is_empty() {
        let note = format!(
            "no price_input_per_1k / price_output_per_1k for {}: the panel's total is unknown; each \
             priced judge's own cost is panel.per_judge.<judge>.cost",
            unpriced.join(", ")
        );
        return (shown, None, Some(note));
    }
    let total = called
        .iter()
        .map(|(_, p, t)| p.cost(t.prompt, t.completion))
        .sum::<Option<f64>>();
    (shown, total, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices(input: f64, output: f64, currency: &str) -> Prices {
        Prices {
            input_per_1k: Some(input),
            output_per_1k: Some(output),
            currency: Some(currency.into()),
        }
    }

    fn tokens(rows: &[(&str, u64, u64)]) -> BTreeMap<String, Tokens> {
        rows.iter()
            .map(|(j, p, c)| {
                let t = Tokens {
                    prompt: *p,
                    completion: *c,
                };
                (j.to_string(), t)
            })
            .collect()
    }

    fn panel(judges: &[(&str, Prices)]) -> JudgeConfig {
        JudgeConfig {
            name: judges.iter().map(|j| j.0).collect::<Vec<_>>().join(","),
            prices: judges[0].1.clone(),
            panel: judges
                .iter()
                .map(|(j, p)| (j.to_string(), p.clone()))
                .collect(),
        }
    }

    #[test]
    fn mixed_currencies_are_not_added() {
        let cfg = panel(&[
            ("a", prices(0.1, 0.2, "CNY")),
            ("b", prices(0.1, 0.2, "USD")),
        ]);
        let c = judge_cost(Some(&cfg), &tokens(&[("a", 1000, 0), ("b", 1000, 0)]), 2);
        assert_eq!((c.total, c.per_item, c.currency), (None, None, None));
        assert_eq!((c.price_input_per_1k, c.price_output_per_1k), (None, None));
        let note = c.note.unwrap();
        assert!(note.contains("CNY: a; USD: b"), "{note}");
        // A judge of another currency that made no call does not stop the total.
        let c = judge_cost(Some(&cfg), &tokens(&[("a", 1000, 0)]), 2);
        assert_eq!((c.total, c.note), (Some(0.1), None));
    }

    #[test]
    fn an_unpriced_judge_leaves_the_total_unknown() {
        let cfg = panel(&[("a", prices(0.1, 0.2, "CNY")), ("b", Prices::default())]);
        let c = judge_cost(Some(&cfg), &tokens(&[("a", 1000, 0), ("b", 1000, 0)]), 2);
        assert_eq!(c.total, None);
        assert!(c.note.unwrap().contains("for b:"));
        // Every judge unpriced: no total and nothing to explain, as for one judge.
        let cfg = panel(&[("a", Prices::default()), ("b", Prices::default())]);
        let c = judge_cost(Some(&cfg), &tokens(&[("a", 1000, 0), ("b", 1000, 0)]), 2);
        assert_eq!((c.total, c.note), (None, None));
    }

    #[test]
    fn one_price_list_is_shown_as_for_one_judge() {
        let p = prices(0.1, 0.2, "CNY");
        let cfg = panel(&[("a", p.clone()), ("b", p.clone())]);
        let c = judge_cost(Some(&cfg), &tokens(&[("a", 1000, 100), ("b", 3000, 0)]), 4);
        // (4000 × 0.1 + 100 × 0.2) / 1000 = 0.42.
        assert_eq!(c.total, p.cost(4000, 100));
        assert_eq!(
            (c.price_input_per_1k, c.price_output_per_1k),
            (Some(0.1), Some(0.2))
        );
        assert_eq!(c.currency.as_deref(), Some("CNY"));
    }
}
