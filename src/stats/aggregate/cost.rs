//! Prices and cost: the one home of tokens × price per 1,000 (used by the runner's budget, the
//! summary's model cost and the judge's cost).

use std::collections::BTreeMap;

use crate::stats::describe::finite;

/// A model's prices per 1,000 tokens (SPEC §2).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prices {
    /// `price_input_per_1k`: per 1,000 prompt tokens.
    pub input_per_1k: Option<f64>,
    /// `price_output_per_1k`: per 1,000 completion tokens.
    pub output_per_1k: Option<f64>,
    /// e.g. `"CNY"`; copied into the summary.
    pub currency: Option<String>,
}

impl Prices {
    /// Both prices, when both are set.
    pub fn pair(&self) -> Option<(f64, f64)> {
        Some((self.input_per_1k?, self.output_per_1k?))
    }

    /// (prompt × input + completion × output) / 1000; `None` unless both prices are set.
    pub fn cost(&self, prompt_tokens: u64, completion_tokens: u64) -> Option<f64> {
        let (pi, po) = self.pair()?;
        finite(cost(pi, po, prompt_tokens, completion_tokens))
    }

    /// The list price `price_input_per_1k + price_output_per_1k` that picks the flagship (STATS §4).
    pub fn list_price(&self) -> Option<f64> {
        self.pair().map(|(a, b)| a + b)
    }
}

/// tokens × price per 1,000 tokens: the one cost formula.
pub fn cost(
    input_per_1k: f64,
    output_per_1k: f64,
    prompt_tokens: u64,
    completion_tokens: u64,
) -> f64 {
    (prompt_tokens as f64 * input_per_1k + completion_tokens as f64 * output_per_1k) / 1000.0
}

/// The model with the strictly highest list price among `models` (STATS §4); a tie at the top, or no
/// priced model, gives `None`.
pub fn most_expensive(models: &[String], prices: &BTreeMap<String, Prices>) -> Option<String> {
    let mut best: Option<(&str, f64)> = None;
    let mut tied = false;
    for m in models {
        let Some(p) = prices.get(m).and_then(Prices::list_price) else {
            continue;
        };
        match best {
            Some((_, b)) if p == b => tied = true,
            Some((_, b)) if p < b => {}
            _ => {
                best = Some((m, p));
                tied = false;
            }
        }
    }
    best.filter(|_| !tied).map(|(m, _)| m.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(i: f64, o: f64) -> Prices {
        Prices {
            input_per_1k: Some(i),
            output_per_1k: Some(o),
            currency: None,
        }
    }

    #[test]
    fn cost_and_flagship() {
        assert_eq!(p(1.0, 2.0).cost(1000, 500), Some(2.0));
        assert_eq!(Prices::default().cost(1000, 500), None);
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let mut prices = BTreeMap::new();
        prices.insert("a".to_string(), p(1.0, 1.0));
        prices.insert("b".to_string(), p(3.0, 1.0));
        assert_eq!(most_expensive(&names, &prices), Some("b".into()));
        prices.insert("c".to_string(), p(2.0, 2.0));
        assert_eq!(most_expensive(&names, &prices), None);
    }
}
