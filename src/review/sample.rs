//! Blinding and subsetting, both seeded: the per-item shuffle of labels, the A/B side of a pair, and the
//! stratified subset of `--sample N`.
//!
//! Every draw comes from a SplitMix64 generator (`stats::bootstrap`) whose state is taken from SHA-256 of
//! the seed and what is drawn for, so a sheet can be exported again identically and no draw depends on
//! another item's.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::stats::bootstrap::SplitMix64;

/// A generator for `what`, seeded from `seed`.
fn rng(seed: u64, what: &str) -> SplitMix64 {
    let digest = Sha256::digest(format!("{seed}\n{what}").as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&digest[..8]);
    SplitMix64::new(u64::from_le_bytes(b))
}

/// A seeded Fisher–Yates shuffle of `v` for `what`.
fn shuffle<T>(v: &mut [T], seed: u64, what: &str) {
    let mut g = rng(seed, what);
    for i in (1..v.len()).rev() {
        let j = g.next_index(i + 1);
        v.swap(i, j);
    }
}

/// The label position of each model on item `item_id`: `models` shuffled (seeded per item), so label `A`
/// is a different model from item to item.
pub fn label_order(models: &[String], item_id: &str, seed: u64) -> BTreeMap<String, usize> {
    let mut order: Vec<&String> = models.iter().collect();
    shuffle(&mut order, seed, &format!("labels\n{item_id}"));
    order
        .into_iter()
        .enumerate()
        .map(|(i, m)| (m.clone(), i))
        .collect()
}

/// Whether the candidate of the pair (candidate, baseline) on `item_id` is shown as answer A.
pub fn candidate_is_a(item_id: &str, candidate: &str, baseline: &str, seed: u64) -> bool {
    rng(seed, &format!("pair\n{item_id}\n{candidate}\n{baseline}")).next_u64() >> 63 == 1
}

/// A stratified subset of `n` of the candidates: `strata[k]` is candidate k's stratum. Each stratum gets
/// ⌊n·size/total⌋ places, the places left over go to the strata with the largest remainders (ties to
/// the first stratum in sorted order), and each stratum's candidates are drawn by a seeded shuffle.
/// Returns candidate indices in ascending order; all of them when `n` ≥ the number of candidates.
pub fn stratified<S: Ord + std::fmt::Debug>(strata: &[S], n: usize, seed: u64) -> Vec<usize> {
    let total = strata.len();
    if n >= total {
        return (0..total).collect();
    }
    let mut groups: BTreeMap<&S, Vec<usize>> = BTreeMap::new();
    for (k, s) in strata.iter().enumerate() {
        groups.entry(s).or_default().push(k);
    }
    let mut places: Vec<(usize, usize)> = groups
        .values()
        .map(|g| (n * g.len() / total, n * g.len() % total))
        .collect();
    let mut left = n - places.iter().map(|p| p.0).sum::<usize>();
    let mut by_remainder: Vec<usize> = (0..places.len()).collect();
    by_remainder.sort_by(|&a, &b| places[b].1.cmp(&places[a].1).then(a.cmp(&b)));
    for g in by_remainder {
        if left == 0 {
            break;
        }
        places[g].0 += 1;
        left -= 1;
    }
    let mut chosen = Vec::with_capacity(n);
    for ((stratum, members), (take, _)) in groups.into_iter().zip(places) {
        let mut members = members;
        shuffle(&mut members, seed, &format!("sample\n{stratum:?}"));
        chosen.extend(members.into_iter().take(take));
    }
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_a_permutation_that_changes_between_items() {
        let models: Vec<String> = (0..8).map(|i| format!("m{i}")).collect();
        let a = label_order(&models, "oe-001", 7);
        let mut pos: Vec<usize> = a.values().copied().collect();
        pos.sort_unstable();
        assert_eq!(pos, (0..8).collect::<Vec<_>>());
        assert_eq!(a, label_order(&models, "oe-001", 7), "seeded");
        let differ = (2..20)
            .filter(|i| label_order(&models, &format!("oe-{i:03}"), 7) != a)
            .count();
        assert!(
            differ >= 17,
            "only {differ} of 18 items shuffled differently"
        );
    }

    #[test]
    fn pair_sides_are_balanced() {
        let a = (0..400)
            .filter(|i| candidate_is_a(&format!("i{i}"), "c", "b", 3))
            .count();
        assert!(
            (150..=250).contains(&a),
            "{a} of 400 with the candidate as A"
        );
    }

    #[test]
    fn stratified_allocation_by_largest_remainder() {
        // 10 of 20: strata of 10, 6 and 4 → 5, 3, 2 exactly.
        let strata: Vec<&str> = [vec!["a"; 10], vec!["b"; 6], vec!["c"; 4]].concat();
        let got = stratified(&strata, 10, 1);
        let count = |s: &str| got.iter().filter(|&&k| strata[k] == s).count();
        assert_eq!((count("a"), count("b"), count("c")), (5, 3, 2));
        // 5 of 20: quotas 2.5, 1.5, 1.0 → 2, 1, 1 and one left over for the first largest remainder (a).
        let got = stratified(&strata, 5, 1);
        let count = |s: &str| got.iter().filter(|&&k| strata[k] == s).count();
        assert_eq!((count("a"), count("b"), count("c")), (3, 1, 1));
        assert!(got.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(got, stratified(&strata, 5, 1));
        assert_ne!(stratified(&strata, 5, 1), stratified(&strata, 5, 2));
        assert_eq!(stratified(&strata, 50, 1), (0..20).collect::<Vec<_>>());
    }
}
