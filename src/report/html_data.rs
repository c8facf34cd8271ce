//! The item browser's data: every item of a run with each model's answers, rule outcomes, judge scores
//! and GSB verdicts, read from the run's records and embedded in `report.html` as one JSON blob.
//!
//! The page renders from this blob lazily (a page of items at a time), so the HTML stays small in DOM
//! terms even for 100,000 records; the blob itself is plain data, escaped for a `<script>` element by
//! minijinja's `tojson`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::records::{
    files, stream_jsonl, ItemRecord, PairRecord, PairVerdict, ResponseRecord, ScoreRecord,
};

#[derive(Debug, Serialize)]
pub(crate) struct BrowserData {
    pub models: Vec<String>,
    pub baseline: Option<String>,
    pub dims: Vec<BrowserDim>,
    pub items: Vec<BrowserItem>,
}

#[derive(Debug, Serialize)]
pub(crate) struct BrowserDim {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, Default)]
pub(crate) struct BrowserItem {
    pub id: String,
    pub category: Option<String>,
    pub system: Option<String>,
    /// `[role, content]` per turn, as the run rendered and sent them.
    pub messages: Vec<(String, String)>,
    pub answers: Vec<Answer>,
    pub gsb: Vec<Gsb>,
}

/// One (model, sample) answer with its scores.
#[derive(Debug, Serialize, Default)]
pub(crate) struct Answer {
    pub model: String,
    pub sample: u32,
    pub output: Option<String>,
    /// `kind: message` when the request failed.
    pub error: Option<String>,
    /// `[rule, pass, detail]`.
    pub rules: Vec<(String, bool, String)>,
    pub dims: BTreeMap<String, DimScore>,
    pub judge_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct DimScore {
    pub score: Option<f64>,
    pub source: String,
    pub justification: Option<String>,
    /// The judge samples' scores, when the judge was sampled more than once.
    pub samples: Vec<f64>,
}

/// A GSB verdict of `model` against `baseline` on one item, with both presentation orders.
#[derive(Debug, Serialize)]
pub(crate) struct Gsb {
    pub model: String,
    pub baseline: String,
    pub verdict: PairVerdict,
    pub first_order: Option<PairVerdict>,
    pub second_order: Option<PairVerdict>,
}

/// Read the run directory `dir` into the browser's data. Items keep the order of `items.jsonl`; an
/// answer or score whose item is not listed there gets an item of its own (so nothing received is
/// hidden). The last line of a (model, item, sample) unit wins, as everywhere else.
pub(crate) fn load(
    dir: &Path,
    models: Vec<String>,
    baseline: Option<String>,
    dims: Vec<BrowserDim>,
) -> Result<BrowserData> {
    let mut items: Vec<BrowserItem> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for line in stream_jsonl::<ItemRecord>(&dir.join(files::ITEMS))? {
        let it = line?.record;
        let item = BrowserItem {
            id: it.id.clone(),
            category: it.category,
            system: it.system,
            messages: it
                .messages
                .into_iter()
                .map(|m| (role_name(&m.role), m.content))
                .collect(),
            ..BrowserItem::default()
        };
        match index.get(&it.id) {
            Some(&i) => items[i] = item,
            None => {
                index.insert(it.id, items.len());
                items.push(item);
            }
        }
    }
    let mut slot = |items: &mut Vec<BrowserItem>, id: &str| -> usize {
        *index.entry(id.to_string()).or_insert_with(|| {
            items.push(BrowserItem {
                id: id.to_string(),
                ..BrowserItem::default()
            });
            items.len() - 1
        })
    };
    // (item index, model, sample) → position in that item's answers.
    let mut answer_at: BTreeMap<(usize, String, u32), usize> = BTreeMap::new();
    for line in stream_jsonl::<ResponseRecord>(&dir.join(files::RESPONSES))? {
        let r = line?.record;
        let i = slot(&mut items, &r.item_id);
        let a = answer(&mut items[i], &mut answer_at, i, &r.model, r.sample);
        a.output = r.output;
        a.error = r.error.map(|e| format!("{}: {}", e.kind, e.message));
    }
    for line in stream_jsonl::<ScoreRecord>(&dir.join(files::SCORES))? {
        let s = line?.record;
        let i = slot(&mut items, &s.item_id);
        let a = answer(&mut items[i], &mut answer_at, i, &s.model, s.sample);
        a.rules = s
            .rules
            .into_iter()
            .map(|(name, o)| (name, o.pass, o.detail))
            .collect();
        let mut samples = s.judge_samples.unwrap_or_default();
        a.dims = s
            .dimensions
            .into_iter()
            .map(|(dim, d)| {
                let source = serde_json::to_value(d.source)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                let score = DimScore {
                    score: d.score,
                    source,
                    justification: d.justification,
                    samples: samples.remove(&dim).unwrap_or_default(),
                };
                (dim, score)
            })
            .collect();
        a.judge_error = s.judge_error;
    }
    let mut pair_at: BTreeMap<(usize, String, String), usize> = BTreeMap::new();
    for line in stream_jsonl::<PairRecord>(&dir.join(files::PAIRWISE))? {
        let p = line?.record;
        let i = slot(&mut items, &p.item_id);
        let g = Gsb {
            model: p.candidate,
            baseline: p.baseline,
            verdict: p.verdict,
            first_order: p.first_order,
            second_order: p.second_order,
        };
        let key = (i, g.model.clone(), g.baseline.clone());
        match pair_at.get(&key) {
            Some(&k) => items[i].gsb[k] = g,
            None => {
                pair_at.insert(key, items[i].gsb.len());
                items[i].gsb.push(g);
            }
        }
    }
    for item in &mut items {
        item.answers.sort_by(|a, b| {
            rank(&models, &a.model)
                .cmp(&rank(&models, &b.model))
                .then(a.sample.cmp(&b.sample))
        });
    }
    Ok(BrowserData {
        models,
        baseline,
        dims,
        items,
    })
}

fn answer<'a>(
    item: &'a mut BrowserItem,
    at: &mut BTreeMap<(usize, String, u32), usize>,
    i: usize,
    model: &str,
    sample: u32,
) -> &'a mut Answer {
    let k = *at.entry((i, model.to_string(), sample)).or_insert_with(|| {
        item.answers.push(Answer {
            model: model.to_string(),
            sample,
            ..Answer::default()
        });
        item.answers.len() - 1
    });
    &mut item.answers[k]
}

/// Models in `--models` order, then any other by name.
fn rank<'m>(models: &[String], m: &'m str) -> (usize, &'m str) {
    (
        models.iter().position(|x| x == m).unwrap_or(models.len()),
        m,
    )
}

fn role_name(role: &crate::inputs::evalset::Role) -> String {
    serde_json::to_value(role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
