//! What the judge diagnostics keep per answer, per score and per pair: a few numbers under interned
//! keys (model names once, item ids once in one text buffer), in file order. [`Sorted`] puts them in
//! key order, a repeated key's last line winning, as the maps of whole records they replace did.

use std::collections::HashMap;

use crate::records::PairVerdict;
use crate::stats::ItemIds;

/// Model names and item ids, each stored once and referred to by number.
#[derive(Debug, Default)]
pub(super) struct Keys {
    models: Vec<String>,
    model_ids: HashMap<String, u32>,
    items: ItemIds,
}

impl Keys {
    /// The number of model `name`, numbering it if it is new.
    pub(super) fn model(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.model_ids.get(name) {
            return id;
        }
        let id = self.models.len() as u32;
        self.models.push(name.to_owned());
        self.model_ids.insert(name.to_owned(), id);
        id
    }

    /// The number of model `name`, if it was numbered.
    pub(super) fn model_id(&self, name: &str) -> Option<u32> {
        self.model_ids.get(name).copied()
    }

    /// The name of model `id`.
    pub(super) fn model_name(&self, id: u32) -> &str {
        &self.models[id as usize]
    }

    /// The number of item `id`, numbering it if it is new.
    pub(super) fn item(&mut self, id: &str) -> u32 {
        self.items.id(id)
    }

    /// Each model's and each item's place in the byte order of their names: what sorting by the
    /// names sorts by.
    pub(super) fn ranks(&self) -> Ranks {
        Ranks {
            models: ranks(self.models.len(), |id| self.model_name(id)),
            items: ranks(self.items.len(), |id| self.items.name(id)),
        }
    }
}

/// The place of each of `n` names (`name(id)`) in their byte order.
fn ranks<'a>(n: usize, name: impl Fn(u32) -> &'a str) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by(|&a, &b| name(a).cmp(name(b)));
    let mut rank = vec![0; n];
    for (r, &id) in order.iter().enumerate() {
        rank[id as usize] = r as u32;
    }
    rank
}

/// See [`Keys::ranks`].
pub(super) struct Ranks {
    models: Vec<u32>,
    items: Vec<u32>,
}

/// A (model, item, sample) key, numbered by [`Keys`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Unit {
    pub(super) model: u32,
    pub(super) item: u32,
    pub(super) sample: u32,
}

impl Unit {
    /// Its place in (model name, item id, sample) order.
    pub(super) fn order(&self, r: &Ranks) -> (u32, u32, u32) {
        (
            r.models[self.model as usize],
            r.items[self.item as usize],
            self.sample,
        )
    }
}

/// A (candidate, baseline, item) key, numbered by [`Keys`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct PairUnit {
    pub(super) candidate: u32,
    pub(super) baseline: u32,
    pub(super) item: u32,
}

/// An answer's length in characters; `None` for a response without an answer.
#[derive(Debug, Clone, Copy)]
pub(super) struct Length {
    pub(super) unit: Unit,
    pub(super) chars: Option<u64>,
}

/// What the diagnostics use of one score record.
#[derive(Debug, Clone, Copy)]
pub(super) struct ScoreFacts {
    pub(super) unit: Unit,
    /// The judge graded it (`judge_samples` or `judge_error` present).
    pub(super) judged: bool,
    /// `judge_error` is set.
    pub(super) error: bool,
    /// The mean over dimensions of the median judge-sample score, when there is one.
    pub(super) score: Option<f64>,
    /// The most samples of a dimension.
    pub(super) max_samples: usize,
    /// Dimensions with two samples or more whose samples are all equal.
    pub(super) agree: u32,
    /// The max − min of each dimension with two samples or more, in dimension order: this many values
    /// of the ranges' buffer from `ranges_at`.
    pub(super) n_ranges: u32,
    pub(super) ranges_at: usize,
}

/// A pairwise line's raw verdicts.
#[derive(Debug, Clone, Copy)]
pub(super) struct PairFacts {
    pub(super) unit: PairUnit,
    pub(super) first: Option<PairVerdict>,
    pub(super) second: Option<PairVerdict>,
}

/// Sort `v` by `key`, keeping of each key only its last element in the original order.
pub(super) fn last_of_each<T, K: Ord + Copy>(v: &mut Vec<T>, key: impl Fn(&T) -> K) {
    // A stable sort keeps the elements of a key in their order.
    v.sort_by_key(|x| key(x));
    let mut kept = 0;
    for i in 0..v.len() {
        if i + 1 < v.len() && key(&v[i]) == key(&v[i + 1]) {
            continue;
        }
        v.swap(kept, i);
        kept += 1;
    }
    v.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_of_each_key_is_kept_in_key_order() {
        let mut v = vec![(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e'), (3, 'f')];
        last_of_each(&mut v, |x| x.0);
        assert_eq!(v, [(1, 'e'), (2, 'd'), (3, 'f')]);
        let mut keys = Keys::default();
        let (b, a) = (keys.model("b"), keys.model("a"));
        let (y, x) = (keys.item("y"), keys.item("x"));
        let r = keys.ranks();
        let unit = |model, item| Unit {
            model,
            item,
            sample: 0,
        };
        assert!(unit(a, y).order(&r) < unit(b, x).order(&r));
        assert!(unit(a, x).order(&r) < unit(a, y).order(&r));
        assert_eq!(keys.model_id("a"), Some(a));
    }
}
