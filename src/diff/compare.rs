//! The comparison itself: pure functions over two runs' facts. Per (model, item) in both runs, the
//! sample means of A and B are compared; each difference becomes a [`Change`] with a signed size
//! (negative = worse, see the module doc of `diff`), and the flips are counted per model.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::records::PairVerdict;

use super::read::{RunFacts, Unit};
use super::{Change, Diff, Direction, Flips, ItemChange, ModelFlips, RunRef, SCHEMA};

/// Below this, two means are equal.
const EPS: f64 = 1e-9;

/// One (model, item)'s samples, summed up.
#[derive(Debug, Clone, Default, PartialEq)]
struct Means {
    /// Share of answered samples that errored, and the first error kind.
    errors: Option<(f64, Option<String>)>,
    /// Dimension → mean of the decided scores (None: none decided).
    scores: BTreeMap<String, Option<f64>>,
    /// Rule → pass share.
    rules: BTreeMap<String, f64>,
}

fn means(samples: &BTreeMap<u32, Unit>) -> Means {
    let answered: Vec<&Unit> = samples.values().filter(|u| u.answered).collect();
    let errors = (!answered.is_empty()).then(|| {
        let n_err = answered.iter().filter(|u| u.error.is_some()).count();
        let kind = answered.iter().find_map(|u| u.error.clone());
        (n_err as f64 / answered.len() as f64, kind)
    });
    let mut scores: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let mut rules: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for u in samples.values() {
        for (d, s) in &u.scores {
            let e = scores.entry(d.clone()).or_default();
            if let Some(s) = s {
                e.0 += s;
                e.1 += 1;
            }
        }
        for (r, p) in &u.rules {
            let e = rules.entry(r.clone()).or_default();
            e.0 += f64::from(u8::from(*p));
            e.1 += 1;
        }
    }
    let mean = |(sum, n): (f64, usize)| (n > 0).then(|| sum / n as f64);
    Means {
        errors,
        scores: scores.into_iter().map(|(d, v)| (d, mean(v))).collect(),
        rules: rules
            .into_iter()
            .filter_map(|(r, v)| mean(v).map(|m| (r, m)))
            .collect(),
    }
}

fn verdict_value(v: PairVerdict) -> f64 {
    match v {
        PairVerdict::G => 1.0,
        PairVerdict::S => 0.0,
        PairVerdict::B => -1.0,
    }
}

fn count(f: &mut Flips, delta: f64, sums: &mut (f64, usize)) {
    f.n += 1;
    if delta < -EPS {
        f.worse += 1;
    } else if delta > EPS {
        f.better += 1;
    }
    sums.0 += delta;
    sums.1 += 1;
}

/// Compare run `a` (reference) with run `b`; `notes` come from [`super::inputs::check`].
pub fn compare(a: &RunFacts, b: &RunFacts, notes: Vec<String>) -> Diff {
    let models: Vec<String> = a
        .manifest
        .models
        .iter()
        .map(|m| m.name.clone())
        .filter(|m| b.manifest.models.iter().any(|e| &e.name == m))
        .collect();
    let ranges: BTreeMap<&str, f64> = a
        .manifest
        .dimensions
        .iter()
        .chain(&b.manifest.dimensions)
        .rev()
        .map(|d| (d.id.as_str(), ((d.scale.1 - d.scale.0) as f64).max(1.0)))
        .collect();
    let mut summary: BTreeMap<String, ModelFlips> = models
        .iter()
        .map(|m| (m.clone(), ModelFlips::default()))
        .collect();
    let mut sums: BTreeMap<(String, String), (f64, usize)> = BTreeMap::new();
    let mut by_key: BTreeMap<(String, String), Vec<Change>> = BTreeMap::new();
    let mut items = std::collections::BTreeSet::new();

    for (key, sa) in &a.units {
        let Some(sb) = b.units.get(key) else { continue };
        let (model, item) = key;
        items.insert(item.clone());
        let Some(flips) = summary.get_mut(model) else {
            continue;
        };
        let (ma, mb) = (means(sa), means(sb));
        let changes = by_key.entry(key.clone()).or_default();
        if let (Some((ea, ka)), Some((eb, kb))) = (&ma.errors, &mb.errors) {
            let delta = -(eb - ea);
            count(
                &mut flips.errors,
                delta,
                sums.entry((model.clone(), "\0errors".into())).or_default(),
            );
            if delta.abs() > EPS {
                changes.push(Change::Error {
                    old: ka.clone(),
                    new: kb.clone(),
                    size: delta,
                });
            }
        }
        for (d, old) in &ma.scores {
            let Some(new) = mb.scores.get(d) else {
                continue;
            };
            let range = ranges.get(d.as_str()).copied().unwrap_or(1.0);
            let size = match (old, new) {
                (Some(o), Some(n)) => {
                    let f = flips.dimensions.entry(d.clone()).or_default();
                    count(
                        f,
                        n - o,
                        sums.entry((model.clone(), format!("d:{d}"))).or_default(),
                    );
                    if (n - o).abs() <= EPS {
                        continue;
                    }
                    (n - o) / range
                }
                (None, None) => continue,
                _ => 0.0,
            };
            changes.push(Change::Score {
                dimension: d.clone(),
                old: *old,
                new: *new,
                size,
            });
        }
        for (r, old) in &ma.rules {
            let Some(new) = mb.rules.get(r) else { continue };
            let f = flips.rules.entry(r.clone()).or_default();
            count(
                f,
                new - old,
                sums.entry((model.clone(), format!("r:{r}"))).or_default(),
            );
            if (new - old).abs() > EPS {
                changes.push(Change::Rule {
                    rule: r.clone(),
                    old: *old,
                    new: *new,
                    size: new - old,
                });
            }
        }
    }
    for (pk, va) in &a.pairs {
        let (item, cand, base) = pk;
        let Some(vb) = b.pairs.get(pk) else { continue };
        let Some(flips) = summary.get_mut(cand) else {
            continue;
        };
        let delta = (verdict_value(*vb) - verdict_value(*va)) / 2.0;
        count(
            flips.gsb.entry(base.clone()).or_default(),
            delta,
            sums.entry((cand.clone(), format!("g:{base}"))).or_default(),
        );
        if delta.abs() > EPS {
            by_key
                .entry((cand.clone(), item.clone()))
                .or_default()
                .push(Change::Gsb {
                    baseline: base.clone(),
                    old: *va,
                    new: *vb,
                    size: delta,
                });
        }
    }
    for (model, f) in summary.iter_mut() {
        let mean = |k: String| {
            sums.get(&(model.clone(), k))
                .filter(|s| s.1 > 0)
                .map(|s| s.0 / s.1 as f64)
        };
        f.errors.mean_change = mean("\0errors".into()).map(|x| -x);
        for (d, fl) in f.dimensions.iter_mut() {
            fl.mean_change = mean(format!("d:{d}"));
        }
        for (r, fl) in f.rules.iter_mut() {
            fl.mean_change = mean(format!("r:{r}"));
        }
        for (g, fl) in f.gsb.iter_mut() {
            fl.mean_change = mean(format!("g:{g}")).map(|x| 2.0 * x);
        }
    }
    let mut changes: Vec<ItemChange> = by_key
        .into_iter()
        .filter(|(_, c)| !c.is_empty())
        .map(|((model, item_id), mut changes)| {
            changes.sort_by(|x, y| {
                x.size()
                    .total_cmp(&y.size())
                    .then_with(|| x.subject().cmp(&y.subject()))
            });
            let size: f64 = changes.iter().map(Change::size).sum();
            let direction = if size < -EPS {
                Direction::Worse
            } else if size > EPS {
                Direction::Better
            } else {
                Direction::Mixed
            };
            let category = a
                .categories
                .get(&item_id)
                .or_else(|| b.categories.get(&item_id))
                .cloned();
            ItemChange {
                model,
                item_id,
                category,
                direction,
                size,
                changes,
            }
        })
        .collect();
    changes.sort_by(order);
    Diff {
        schema: SCHEMA,
        a: run_ref(a),
        b: run_ref(b),
        notes,
        models,
        n_items: items.len(),
        summary,
        changes,
    }
}

/// Worse first (largest drop first), then better (largest gain first), then mixed; ties by the
/// total size of the changes, then model and item.
fn order(x: &ItemChange, y: &ItemChange) -> Ordering {
    let magnitude = |c: &ItemChange| c.changes.iter().map(|c| c.size().abs()).sum::<f64>();
    x.direction
        .cmp(&y.direction)
        .then_with(|| y.size.abs().total_cmp(&x.size.abs()))
        .then_with(|| magnitude(y).total_cmp(&magnitude(x)))
        .then_with(|| x.model.cmp(&y.model))
        .then_with(|| x.item_id.cmp(&y.item_id))
}

fn run_ref(r: &RunFacts) -> RunRef {
    RunRef {
        dir: r.dir.display().to_string(),
        run_id: r.manifest.run_id.clone(),
        started_utc: r.manifest.started_utc.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn baseline() -> RunFacts {
        super::super::read::run(&Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/baseline"))
            .unwrap()
    }

    fn unit<'a>(m: &'a mut RunFacts, model: &str, item: &str) -> &'a mut Unit {
        m.units
            .get_mut(&(model.to_string(), item.to_string()))
            .unwrap()
            .get_mut(&0)
            .unwrap()
    }

    #[test]
    fn a_run_against_itself_has_no_change() {
        let a = baseline();
        let d = compare(&a, &a.clone(), vec![]);
        assert!(d.changes.is_empty());
        assert_eq!(d.n_items, 50);
        let f = &d.summary["ernie-4.0"].dimensions["reply"];
        assert_eq!((f.n, f.worse, f.better), (49, 0, 0));
    }

    #[test]
    fn changes_are_sized_signed_and_sorted_worst_first() {
        let mut a = baseline();
        let m = "ernie-speed";
        // Fix A's values so the sizes are known.
        for item in ["oe-001", "oe-002", "oe-003", "oe-004"] {
            let u = unit(&mut a, m, item);
            u.error = None;
            u.scores.insert("reply".into(), Some(2.0));
            u.rules.insert("json_strict".into(), true);
        }
        let mut b = a.clone();
        // oe-001: reply 2 → 1 (−0.5 on a 1–3 scale); oe-002: a rule fails (−1) and reply rises (+0.5):
        // net −0.5 but more moved; oe-003: errors (−1) and its scores become undecided; oe-004: better.
        unit(&mut b, m, "oe-001")
            .scores
            .insert("reply".into(), Some(1.0));
        let u = unit(&mut b, m, "oe-002");
        u.rules.insert("json_strict".into(), false);
        u.scores.insert("reply".into(), Some(3.0));
        let u = unit(&mut b, m, "oe-003");
        u.error = Some("timeout".into());
        for s in u.scores.values_mut() {
            *s = None;
        }
        unit(&mut b, m, "oe-004")
            .scores
            .insert("reply".into(), Some(3.0));
        let d = compare(&a, &b, vec![]);
        let order: Vec<(&str, Direction)> = d
            .changes
            .iter()
            .map(|c| (c.item_id.as_str(), c.direction))
            .collect();
        assert_eq!(
            order,
            vec![
                ("oe-003", Direction::Worse),
                ("oe-002", Direction::Worse),
                ("oe-001", Direction::Worse),
                ("oe-004", Direction::Better)
            ]
        );
        assert_eq!(d.changes[1].size, -0.5);
        assert_eq!(
            d.changes[1].changes[0].describe(),
            "rule json_strict pass → fail"
        );
        assert_eq!(d.changes[2].changes[0].describe(), "reply 2 → 1");
        let f = &d.summary[m];
        let reply = &f.dimensions["reply"];
        assert_eq!(
            (reply.worse, reply.better),
            (1, 2),
            "oe-003 has no reply score in B"
        );
        assert_eq!(f.rules["json_strict"].worse, 1);
        assert_eq!((f.errors.worse, f.errors.better), (1, 0));
        let e = &d.changes[0];
        assert_eq!(e.changes[0].describe(), "error none → timeout");
        assert!(e.changes.iter().any(|c| c.describe() == "reply 2 → –"));
    }

    #[test]
    fn gsb_flips_count_for_the_candidate() {
        let a = baseline();
        let mut b = a.clone();
        let (k, v) = b
            .pairs
            .iter_mut()
            .find(|(_, v)| **v == PairVerdict::G)
            .unwrap();
        *v = PairVerdict::B;
        let (item, cand, base) = k.clone();
        let d = compare(&a, &b, vec![]);
        assert_eq!(d.summary[&cand].gsb[&base].worse, 1);
        let c = &d.changes[0];
        assert_eq!(
            (c.model.as_str(), c.item_id.as_str()),
            (cand.as_str(), item.as_str())
        );
        assert_eq!(c.size, -1.0);
        assert_eq!(c.changes[0].describe(), format!("GSB vs {base} G → B"));
    }
}
