//! Reference metrics (seed 004: the Qianfan platform's BLEU-4, ROUGE-1/2/L and edit distance) of an
//! answer against an item's `reference`, as percentages, under the platform's names.
//!
//! Tokens: every Han, kana or hangul character is one token (Chinese is not split into words); every
//! maximal run of other letters and digits (apostrophes inside it kept, so `don't` is one token) is one
//! word token, lowercased; whitespace and punctuation (ASCII or full-width) separate tokens and are
//! dropped. So `I love 北京!` is `[i, love, 北, 京]`.
//!
//! - `bleu-4`: sentence BLEU with one reference, uniform weights over 1- to 4-grams, clipped counts and
//!   the brevity penalty BP = 1 if c > r else exp(1 − r/c). Smoothed by adding one to the matched and
//!   the total n-gram counts of the 2- to 4-gram precisions (Lin & Och 2004, ORANGE; NLTK's
//!   `SmoothingFunction().method2`); the unigram precision is not smoothed, so an answer sharing no
//!   token with the reference scores 0.
//! - `rouge-1`, `rouge-2`: F1 of clipped n-gram overlap (P = overlap / candidate n-grams, R = overlap /
//!   reference n-grams).
//! - `rouge-l`: F1 (β = 1) of the longest common token subsequence.
//! - `edit-distance`: Levenshtein distance over tokens divided by the longer length (0 = identical,
//!   100 = nothing in common), so that it is comparable across lengths.
//!
//! Every value is × 100 and rounded to 4 decimals. A reference without any token gives no metrics.

use std::collections::BTreeMap;

use super::text::{classify, CharClass};

/// Metric names, as the Qianfan platform prints them (seed 004).
pub const BLEU4: &str = "bleu-4";
/// ROUGE-1 F1 metric name.
pub const ROUGE1: &str = "rouge-1";
/// ROUGE-2 F1 metric name.
pub const ROUGE2: &str = "rouge-2";
/// ROUGE-L F1 metric name.
pub const ROUGEL: &str = "rouge-l";
/// Edit-distance metric name.
pub const EDIT_DISTANCE: &str = "edit-distance";

/// Every metric, in report order.
pub const METRICS: [&str; 5] = [BLEU4, ROUGE1, ROUGE2, ROUGEL, EDIT_DISTANCE];

/// The tokens of `text` (see the module doc).
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        let w = word.trim_end_matches('\'');
        if !w.is_empty() {
            out.push(w.to_lowercase());
        }
        word.clear();
    };
    for c in text.chars() {
        match classify(c) {
            CharClass::Han | CharClass::Kana | CharClass::Hangul => {
                flush(&mut word, &mut out);
                out.push(c.to_string());
            }
            _ if c.is_alphanumeric() => word.push(c),
            _ if (c == '\'' || c == '’') && !word.is_empty() => word.push('\''),
            _ => flush(&mut word, &mut out),
        }
    }
    flush(&mut word, &mut out);
    out
}

/// All five metrics of `candidate` against `reference`; `None` when the reference has no token.
pub fn metrics(candidate: &str, reference: &str) -> Option<BTreeMap<String, f64>> {
    let r = tokens(reference);
    if r.is_empty() {
        return None;
    }
    let c = tokens(candidate);
    let values = [
        (BLEU4, bleu4(&c, &r)),
        (ROUGE1, rouge_n(&c, &r, 1)),
        (ROUGE2, rouge_n(&c, &r, 2)),
        (ROUGEL, rouge_l(&c, &r)),
        (EDIT_DISTANCE, edit_distance(&c, &r)),
    ];
    Some(
        values
            .into_iter()
            .map(|(k, v)| (k.to_string(), percent(v)))
            .collect(),
    )
}

fn percent(x: f64) -> f64 {
    (x * 100.0 * 10_000.0).round() / 10_000.0
}

fn ngrams(tokens: &[String], n: usize) -> BTreeMap<&[String], usize> {
    let mut m = BTreeMap::new();
    if tokens.len() >= n {
        for w in tokens.windows(n) {
            *m.entry(w).or_insert(0) += 1;
        }
    }
    m
}

/// Σ over the candidate's n-grams of min(count in candidate, count in reference), and the candidate's
/// and the reference's n-gram totals.
fn overlap(c: &[String], r: &[String], n: usize) -> (usize, usize, usize) {
    let (cn, rn) = (ngrams(c, n), ngrams(r, n));
    let matched = cn
        .iter()
        .map(|(g, k)| (*k).min(rn.get(g).copied().unwrap_or(0)))
        .sum();
    (
        matched,
        c.len().saturating_sub(n - 1),
        r.len().saturating_sub(n - 1),
    )
}

/// Smoothed sentence BLEU-4 in 0..=1.
pub fn bleu4(c: &[String], r: &[String]) -> f64 {
    if c.is_empty() || r.is_empty() {
        return 0.0;
    }
    let mut log_sum = 0.0;
    for n in 1..=4 {
        let (m, total, _) = overlap(c, r, n);
        let p = if n == 1 {
            if m == 0 {
                return 0.0;
            }
            m as f64 / total as f64
        } else {
            (m as f64 + 1.0) / (total as f64 + 1.0)
        };
        log_sum += p.ln() / 4.0;
    }
    let (clen, rlen) = (c.len() as f64, r.len() as f64);
    let bp = if clen > rlen {
        1.0
    } else {
        (1.0 - rlen / clen).exp()
    };
    bp * log_sum.exp()
}

fn f1(matched: usize, c_total: usize, r_total: usize) -> f64 {
    if matched == 0 || c_total == 0 || r_total == 0 {
        return 0.0;
    }
    let p = matched as f64 / c_total as f64;
    let r = matched as f64 / r_total as f64;
    2.0 * p * r / (p + r)
}

/// ROUGE-N F1 in 0..=1.
pub fn rouge_n(c: &[String], r: &[String], n: usize) -> f64 {
    let (m, ct, rt) = overlap(c, r, n);
    f1(m, ct, rt)
}

/// ROUGE-L F1 in 0..=1.
pub fn rouge_l(c: &[String], r: &[String]) -> f64 {
    f1(lcs(c, r), c.len(), r.len())
}

fn lcs(a: &[String], b: &[String]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                cur[j].max(prev[j + 1])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Token Levenshtein distance / the longer length, in 0..=1 (0 when both are empty).
pub fn edit_distance(a: &[String], b: &[String]) -> f64 {
    let longer = a.len().max(b.len());
    if longer == 0 {
        return 0.0;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(x != y);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] as f64 / longer as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 5e-4, "{a} vs {b}");
    }

    #[test]
    fn tokens_split_chinese_by_character_and_latin_by_word() {
        assert_eq!(tokens("I love 北京!"), ["i", "love", "北", "京"]);
        assert_eq!(
            tokens("Don't   stop，好吗？ e-mail 3.5"),
            ["don't", "stop", "好", "吗", "e", "mail", "3", "5"]
        );
        assert!(tokens(" ，。!? ").is_empty());
    }

    /// Worked by hand. Candidate `the cat sat on the mat`, reference `the cat is on the mat` (6 tokens
    /// each). Clipped matches: 1-grams 5 of 6; 2-grams 3 of 5 (the cat, on the, the mat); 3-grams 1 of 4
    /// (on the mat); 4-grams 0 of 3. BLEU: p = 5/6, (3+1)/(5+1), (1+1)/(4+1), (0+1)/(3+1), product 1/18,
    /// BP = 1 (equal lengths) → 18^(−1/4) = 0.485492. ROUGE-1 = 5/6, ROUGE-2 = 3/5, LCS `the cat on the
    /// mat` = 5 → ROUGE-L 5/6; one substitution → edit distance 1/6.
    #[test]
    fn english_fixture_by_hand() {
        let m = metrics("The cat sat on the mat.", "The cat is on the mat.").unwrap();
        close(m[BLEU4], 48.5492);
        close(m[ROUGE1], 83.3333);
        close(m[ROUGE2], 60.0);
        close(m[ROUGEL], 83.3333);
        close(m[EDIT_DISTANCE], 16.6667);
    }

    /// Worked by hand, by characters. Candidate 我爱北京天安门 (7), reference 我爱北京 (4). Matches: 1-grams
    /// 4 of 7, 2-grams 3 of 6, 3-grams 2 of 5, 4-grams 1 of 4 → p = 4/7, 4/7, 3/6, 2/5; product 16/245;
    /// BP = 1 (c > r) → (16/245)^(1/4) = 0.505520. ROUGE-1: P 4/7, R 1 → F1 8/11; ROUGE-2: P 3/6, R 3/3
    /// → 2/3; ROUGE-L: LCS 4 → 8/11; three insertions over 7 → 3/7.
    #[test]
    fn chinese_fixture_by_hand() {
        let m = metrics("我爱北京天安门", "我爱北京").unwrap();
        close(m[BLEU4], 50.5520);
        close(m[ROUGE1], 72.7273);
        close(m[ROUGE2], 66.6667);
        close(m[ROUGEL], 72.7273);
        close(m[EDIT_DISTANCE], 42.8571);
    }

    /// The short candidate of the same pair: every smoothed precision is 1 (4/4, 4/4, 3/3, 2/2), so
    /// BLEU is the brevity penalty alone, exp(1 − 7/4) = 0.472367.
    #[test]
    fn brevity_penalty_by_hand() {
        let m = metrics("我爱北京", "我爱北京天安门").unwrap();
        close(m[BLEU4], 47.2367);
        close(m[ROUGE1], 72.7273);
        close(m[EDIT_DISTANCE], 42.8571);
    }

    #[test]
    fn identical_disjoint_and_empty() {
        let m = metrics("完全一样的句子。", "完全一样的句子").unwrap();
        close(m[BLEU4], 100.0);
        close(m[ROUGEL], 100.0);
        close(m[EDIT_DISTANCE], 0.0);
        let m = metrics("hello there", "你好").unwrap();
        assert_eq!(m[BLEU4], 0.0);
        assert_eq!(m[ROUGE1], 0.0);
        close(m[EDIT_DISTANCE], 100.0);
        let m = metrics("", "你好").unwrap();
        assert_eq!((m[BLEU4], m[ROUGEL], m[EDIT_DISTANCE]), (0.0, 0.0, 100.0));
        assert!(metrics("anything", "，。").is_none());
    }
}
