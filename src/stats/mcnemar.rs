//! Exact McNemar test of paired binary outcomes (the regression gate's rule check, SPEC §7).
//!
//! Each pair is one (item, sample) scored in both runs. Only the discordant pairs carry information:
//! `lost` = passed in the baseline and failed in the candidate, `gained` = the reverse. Under the null
//! hypothesis each discordant pair goes either way with probability ½, so the exact test is the
//! two-sided sign test of `lost` in `lost + gained` trials. statsmodels:
//! `mcnemar([[a, lost], [gained, d]], exact=True).pvalue`.

use super::binomial::sign_test_p;

/// The discordant counts of a paired comparison and the exact two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct McNemar {
    /// Pass in the baseline, fail in the candidate.
    pub lost: u64,
    /// Fail in the baseline, pass in the candidate.
    pub gained: u64,
    /// Two-sided exact p; 1 when there is no discordant pair.
    pub p: f64,
}

impl McNemar {
    /// Test from the paired outcomes `(baseline passed, candidate passed)`.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (bool, bool)>) -> McNemar {
        let (mut lost, mut gained) = (0, 0);
        for (base, cand) in pairs {
            match (base, cand) {
                (true, false) => lost += 1,
                (false, true) => gained += 1,
                _ => {}
            }
        }
        McNemar::from_counts(lost, gained)
    }

    /// The test from its discordant counts (lost, gained).
    pub fn from_counts(lost: u64, gained: u64) -> McNemar {
        McNemar {
            lost,
            gained,
            p: sign_test_p(lost, lost + gained),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_statsmodels_exact_mcnemar() {
        // statsmodels 0.15.0 mcnemar([[a, b], [c, d]], exact=True).pvalue, (b, c) = (lost, gained):
        let cases = [
            (10, 2, 0.03857421875), // 2·(1 + 12 + 66)/4096 by hand
            (5, 0, 0.0625),         // 2/32: five discordant pairs are never enough at 0.05
            (6, 0, 0.03125),
            (3, 3, 1.0),
            (0, 0, 1.0),
            (1, 9, 0.021484375),
            (20, 0, 1.9073486328125e-06),
            (37, 23, 0.09246098107292373),
        ];
        for (lost, gained, want) in cases {
            let got = McNemar::from_counts(lost, gained).p;
            assert!(
                (got - want).abs() < 1e-12,
                "({lost}, {gained}): {got} vs {want}"
            );
        }
    }

    #[test]
    fn concordant_pairs_do_not_count() {
        let pairs = [
            (true, true),
            (true, false),
            (false, false),
            (true, false),
            (false, true),
        ];
        let t = McNemar::from_pairs(pairs);
        assert_eq!((t.lost, t.gained), (2, 1));
        assert_eq!(t.p, 1.0);
    }
}
