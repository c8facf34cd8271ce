//! How one simulated judge leans, for judge panels (issue 16): a bias toward answers of its own
//! family (`bias=AMOUNT`), noise on every grade (`noise=P`), and the `drift` fault; plus which family
//! gave which answer (`family=NAME`, default [`DEFAULT_FAMILY`]).
//!
//! A judge prompt does not say which model answered, so the server remembers, per answer text, the
//! family of the model that gave it ([`Families`], kept by the server only while some judge has a
//! `bias`). Each judge profile (`judge`, `judge-b`, `judge-c`) salts its misreadings and noise with
//! its name, so two judges err independently; `judge` keeps the unsalted hashes `evalrun demo` was
//! calibrated with.

use std::collections::HashMap;
use std::sync::Mutex;

use super::faults::Degrade;
use super::judge::degrade::Degraded;
use super::rng::{chance, hash64, Rng};

/// The family of every built-in profile unless `family=NAME` says otherwise: they are ERNIE models,
/// ERNIE-Speed fine-tunes, and ERNIE-4.0-class judges.
pub(crate) const DEFAULT_FAMILY: &str = "ERNIE";

/// The judge profile whose hashes are unsalted (the demo's judge).
const FIRST_JUDGE: &str = "judge";

/// Which family gave which answer, by a hash of the text (the text a judge later sees in its ANSWER
/// block). An identical text given by models of two families counts as the last one's.
#[derive(Debug, Default)]
pub(crate) struct Families(Mutex<HashMap<u64, String>>);

impl Families {
    fn key(answer: &str) -> u64 {
        hash64(&[b"family", answer.as_bytes()])
    }

    /// Remember that a model of `family` gave this answer.
    pub(crate) fn register(&self, answer: &str, family: &str) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.insert(Self::key(answer), family.to_string());
    }

    /// The family of the model that gave this answer, if it was given here.
    pub(crate) fn of(&self, answer: &str) -> Option<String> {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.get(&Self::key(answer)).cloned()
    }
}

/// One judge profile's leanings, from its fault settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lean<'a> {
    /// The judge profile's name (salts its hashes).
    pub profile: &'a str,
    /// The judge's own family.
    pub family: &'a str,
    /// `drift`: every grade lowered (see `judge::degrade`).
    pub drift: Option<&'a Degrade>,
    /// `bias`: levels added to grades of its own family's answers, in expectation.
    pub bias: Option<f64>,
    /// `noise`: the probability that a grade moves one level.
    pub noise: Option<f64>,
    /// Who gave which answer; `None`: nobody is favoured.
    pub families: Option<&'a Families>,
    /// The answers given under a `degrade` fault; `None`: none are.
    pub degraded: Option<&'a Degraded>,
}

impl Lean<'static> {
    /// The demo's judge as it is: no drift, bias or noise.
    #[cfg(test)]
    pub(crate) fn none() -> Lean<'static> {
        Lean {
            profile: FIRST_JUDGE,
            family: DEFAULT_FAMILY,
            drift: None,
            bias: None,
            noise: None,
            families: None,
            degraded: None,
        }
    }
}

impl Lean<'_> {
    /// A hash stream's name for this judge: `judge` keeps the plain name, other judges salt it.
    pub(crate) fn salt(&self, name: &str) -> String {
        if self.profile == FIRST_JUDGE {
            name.to_string()
        } else {
            format!("{}:{name}", self.profile)
        }
    }

    /// Whether this answer came from a model of the judge's own family.
    fn own_family(&self, answer: &str) -> bool {
        self.bias.is_some()
            && self
                .families
                .and_then(|f| f.of(answer))
                .is_some_and(|f| f.eq_ignore_ascii_case(self.family))
    }

    /// Levels the bias adds to one grade of this answer: ⌊AMOUNT⌋, plus one with probability
    /// frac(AMOUNT) (a hash of the answer), for answers of the judge's own family; else 0.
    pub(crate) fn bias_levels(&self, answer: &str, answer_hash: u64, dim: &str) -> i64 {
        match self.bias {
            Some(b) if b > 0.0 && self.own_family(answer) => {
                let whole = b.floor();
                whole as i64
                    + i64::from(chance(
                        answer_hash,
                        &self.salt(&format!("judge:bias:{dim}")),
                        b - whole,
                    ))
            }
            _ => 0,
        }
    }

    /// One grade after bias and noise, within `lo..=hi`. Noise draws per request (`key`): with
    /// probability `noise` the grade moves one level, up or down alike, inward at either end.
    pub(crate) fn lean(
        &self,
        answer: &str,
        answer_hash: u64,
        key: u64,
        dim: &str,
        (lo, hi): (i64, i64),
        score: i64,
    ) -> i64 {
        let s = (score + self.bias_levels(answer, answer_hash, dim)).clamp(lo, hi);
        let p = self.noise.unwrap_or(0.0);
        if !chance(key, &self.salt(&format!("judge:noise:{dim}")), p) || lo == hi {
            return s;
        }
        let up = Rng::for_key(key, &self.salt(&format!("judge:noise-dir:{dim}"))).below(2) == 0;
        match (up, s) {
            (_, s) if s <= lo => s + 1,
            (_, s) if s >= hi => s - 1,
            (true, s) => s + 1,
            (false, s) => s - 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lean<'a>(fam: &'a Families, bias: Option<f64>, noise: Option<f64>) -> Lean<'a> {
        Lean {
            profile: "judge-b",
            family: "ERNIE",
            drift: None,
            bias,
            noise,
            families: Some(fam),
            degraded: None,
        }
    }

    /// A bias of 0.4 raises 40 % (±3 %) of its own family's mid-scale grades by one level and nobody
    /// else's; the family is matched case-insensitively.
    #[test]
    fn bias_raises_only_the_judges_own_family() {
        let fam = Families::default();
        let l = lean(&fam, Some(0.4), None);
        let (mut own, mut other) = (0, 0);
        for i in 0..2000 {
            let (a, b) = (format!("answer {i}"), format!("other {i}"));
            fam.register(&a, "ernie");
            fam.register(&b, "Qwen");
            let (ha, hb) = (hash64(&[a.as_bytes()]), hash64(&[b.as_bytes()]));
            own += l.lean(&a, ha, i, "reply", (1, 3), 2) - 2;
            other += l.lean(&b, hb, i, "reply", (1, 3), 2) - 2;
        }
        assert_eq!(other, 0);
        assert!((740..=860).contains(&own), "{own}");
        // Never above the top.
        let a = "top";
        fam.register(a, "ERNIE");
        let l = lean(&fam, Some(2.0), None);
        assert_eq!(l.lean(a, 1, 1, "reply", (1, 3), 3), 3);
    }

    /// Noise of 0.3 moves 30 % (±3 %) of grades by exactly one level, about as often up as down,
    /// never off the scale; the draw is per request, so the same request keeps its grade.
    #[test]
    fn noise_moves_a_share_of_grades_one_level() {
        let fam = Families::default();
        let l = lean(&fam, None, Some(0.3));
        let (mut moved, mut up) = (0, 0);
        for key in 0..4000u64 {
            let s = l.lean("a", 7, key, "reply", (0, 4), 2);
            assert!((1..=3).contains(&s));
            assert_eq!(s, l.lean("a", 7, key, "reply", (0, 4), 2));
            if s != 2 {
                moved += 1;
                up += i32::from(s == 3);
            }
        }
        assert!((1080..=1320).contains(&moved), "{moved}");
        assert!(
            (moved / 2 - 90..=moved / 2 + 90).contains(&up),
            "{up} of {moved}"
        );
        for key in 0..200u64 {
            assert!((1..=3).contains(&l.lean("a", 7, key, "reply", (1, 3), 1)));
            assert!((1..=3).contains(&l.lean("a", 7, key, "reply", (1, 3), 3)));
        }
    }

    #[test]
    fn the_first_judge_keeps_its_unsalted_hashes() {
        assert_eq!(
            Lean::none().salt("judge:misread:reply"),
            "judge:misread:reply"
        );
        let fam = Families::default();
        assert_eq!(
            lean(&fam, None, None).salt("judge:misread:reply"),
            "judge-b:judge:misread:reply"
        );
    }
}
