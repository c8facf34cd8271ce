//! The item browser's data: every item of a run with each model's answers, rule outcomes, judge scores
//! and GSB verdicts, read from the run's records and embedded in `report.html` as one JSON blob.
//!
//! The page renders from this blob lazily (a page of items at a time), so the HTML stays small in DOM
//! terms even for 100,000 records. The blob is written item by item straight into the page: a first
//! pass over the record files keeps only where each unit's last line is ([`LineSpan`]), then each item
//! is read back, joined and written, so memory holds positions, not answers. The text is what
//! minijinja's `tojson` writes (`", "` and `": "` separators, `<`, `>`, `&` and `'`
//! escaped for a `<script>` element): [`Json`] is that format for serde.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::records::{
    files, ItemRecord, LineAt, LineSpan, PairRecord, PairVerdict, ResponseRecord, ScoreRecord,
    UnitKey,
};
use crate::stats::{reread_lines, ItemIds};

/// A dimension as the browser names it.
#[derive(Debug, Serialize)]
pub(crate) struct BrowserDim {
    pub id: String,
    pub name: String,
}

/// One item with its answers.
#[derive(Debug, Serialize, Default)]
struct BrowserItem {
    id: String,
    category: Option<String>,
    system: Option<String>,
    /// `[role, content]` per turn, as the run rendered and sent them.
    messages: Vec<(String, String)>,
    answers: Vec<Answer>,
    gsb: Vec<Gsb>,
}

/// One (model, sample) answer with its scores.
#[derive(Debug, Serialize, Default)]
struct Answer {
    model: String,
    sample: u32,
    output: Option<String>,
    /// `kind: message` when the request failed.
    error: Option<String>,
    /// `[rule, pass, detail]`.
    rules: Vec<(String, bool, String)>,
    dims: BTreeMap<String, DimScore>,
    judge_error: Option<String>,
}

#[derive(Debug, Serialize)]
struct DimScore {
    score: Option<f64>,
    source: String,
    justification: Option<String>,
    /// The judge samples' scores, when the judge was sampled more than once.
    samples: Vec<f64>,
}

/// A GSB verdict of `model` against `baseline` on one item, with both presentation orders.
#[derive(Debug, Serialize)]
struct Gsb {
    model: String,
    baseline: String,
    verdict: PairVerdict,
    first_order: Option<PairVerdict>,
    second_order: Option<PairVerdict>,
}

/// What the first pass reads of a `pairwise.jsonl` line.
#[derive(Deserialize)]
struct PairLine<'a> {
    #[serde(borrow)]
    item_id: Cow<'a, str>,
    #[serde(borrow)]
    candidate: Cow<'a, str>,
    #[serde(borrow)]
    baseline: Cow<'a, str>,
}

/// Where a unit's last response and score lines are.
#[derive(Default)]
struct UnitLines {
    response: Option<LineSpan>,
    score: Option<LineSpan>,
}

/// Positions of every record the browser shows, by item (index in first-seen order); items past the
/// cap are only counted.
struct Index {
    /// Every item id seen → its index.
    ids: ItemIds,
    /// Per shown item: its last `items.jsonl` line, if it has one.
    items: Vec<Option<LineSpan>>,
    models: Vec<String>,
    model_ids: HashMap<String, u32>,
    /// (item, model, sample) → its lines.
    units: BTreeMap<(u32, u32, u32), UnitLines>,
    /// (item, candidate, baseline) → (first seen, its last line).
    pairs: BTreeMap<(u32, u32, u32), (u32, LineSpan)>,
    /// Items shown.
    cap: usize,
}

impl Index {
    /// The item's index, and whether it is shown.
    fn item(&mut self, id: &str) -> (u32, bool) {
        let i = self.ids.id(id);
        let shown = (i as usize) < self.cap;
        if shown && i as usize == self.items.len() {
            self.items.push(None);
        }
        (i, shown)
    }

    fn model(&mut self, name: &str) -> u32 {
        if let Some(&m) = self.model_ids.get(name) {
            return m;
        }
        let m = self.models.len() as u32;
        self.models.push(name.to_string());
        self.model_ids.insert(name.to_string(), m);
        m
    }

    fn read(dir: &Path, cap: usize) -> Result<Index> {
        let mut ix = Index {
            ids: ItemIds::default(),
            items: Vec::new(),
            models: Vec::new(),
            model_ids: HashMap::new(),
            units: BTreeMap::new(),
            pairs: BTreeMap::new(),
            cap,
        };
        reread_lines(&dir.join(files::ITEMS), |line| {
            let Some(id) = line.item_id() else {
                return line.parse::<ItemRecord>().map(drop); // reported, or a torn last line
            };
            if let (i, true) = ix.item(&id) {
                ix.items[i as usize] = Some(line.span());
            }
            Ok(())
        })?;
        for (name, score) in [(files::RESPONSES, false), (files::SCORES, true)] {
            reread_lines(&dir.join(name), |line| {
                let Some((model, item, sample)) = line.unit_key() else {
                    return line.parse::<UnitKey>().map(drop);
                };
                let (i, shown) = ix.item(&item);
                if shown {
                    let key = (i, ix.model(&model), sample);
                    let lines = ix.units.entry(key).or_default();
                    match score {
                        false => lines.response = Some(line.span()),
                        true => lines.score = Some(line.span()),
                    }
                }
                Ok(())
            })?;
        }
        let mut seen = 0u32;
        reread_lines(&dir.join(files::PAIRWISE), |line| {
            let Some(p) = line.parse::<PairLine>()? else {
                return Ok(());
            };
            let (i, shown) = ix.item(&p.item_id);
            let key = (i, ix.model(&p.candidate), ix.model(&p.baseline));
            if shown {
                ix.pairs.entry(key).or_insert((seen, line.span())).1 = line.span();
            }
            seen += 1;
            Ok(())
        })?;
        Ok(ix)
    }
}

/// Items the item browser embeds at most: a page holding more cannot be opened (500,000 items make a
/// 2.5 GB page, past what a browser parses as one string) and takes longer to write than the rest of
/// the report. A larger run's page says that it shows the first ones (README, "The HTML report").
pub(crate) const BROWSER_CAP: usize = 20_000;

/// The browser's data of a run directory, indexed: where each shown record is.
pub(crate) struct BrowserData {
    dir: std::path::PathBuf,
    ix: Index,
}

impl BrowserData {
    /// Index the records of `dir`, keeping the positions of the first `cap` items' records.
    pub(crate) fn index(dir: &Path, cap: usize) -> Result<BrowserData> {
        Ok(BrowserData {
            dir: dir.to_path_buf(),
            ix: Index::read(dir, cap)?,
        })
    }

    /// (items shown, items in the run) when the run has more items than the browser shows.
    pub(crate) fn capped(&self) -> Option<(usize, usize)> {
        let total = self.ix.ids.len();
        (total > self.ix.cap).then_some((self.ix.cap, total))
    }

    /// Write the data as JSON into `out` (see [`write`]).
    pub(crate) fn write(
        &self,
        models: &[String],
        baseline: Option<&str>,
        dims: &[BrowserDim],
        out: &mut dyn Write,
    ) -> Result<()> {
        write(&self.dir, &self.ix, models, baseline, dims, out)
    }
}

/// Write the browser's data for the run directory `dir` as JSON into `out`. Items keep the order of
/// `items.jsonl`; an answer or score whose item is not listed there gets an item of its own (so nothing
/// received is hidden, up to the cap). The last line of a (model, item, sample) unit wins, as everywhere
/// else; answers are in `models` order (any other model after them, by name), then by sample.
fn write(
    dir: &Path,
    ix: &Index,
    models: &[String],
    baseline: Option<&str>,
    dims: &[BrowserDim],
    out: &mut dyn Write,
) -> Result<()> {
    // Each model's place among the answers of an item.
    let order: Vec<(usize, &str)> = ix.models.iter().map(|m| rank(models, m)).collect();
    let open = |name: &str| -> Result<Option<LineAt>> {
        let path = dir.join(name);
        Ok(match path.exists() {
            true => Some(LineAt::open(&path)?),
            false => None,
        })
    };
    let (mut items, mut responses) = (open(files::ITEMS)?, open(files::RESPONSES)?);
    let (mut scores, mut pairs) = (open(files::SCORES)?, open(files::PAIRWISE)?);

    out.write_all(b"{\"models\": ")?;
    to_json(out, &models)?;
    out.write_all(b", \"baseline\": ")?;
    to_json(out, &baseline)?;
    out.write_all(b", \"dims\": ")?;
    to_json(out, &dims)?;
    out.write_all(b", \"items\": [")?;
    let mut units = ix.units.iter().peekable();
    let mut gsb = ix.pairs.iter().peekable();
    for (i, line) in ix.items.iter().enumerate() {
        let i = i as u32;
        let mut item = match (line, items.as_mut()) {
            (Some(at), Some(f)) => browser_item(f.read::<ItemRecord>(*at)?),
            _ => BrowserItem {
                id: ix.ids.name(i).to_string(),
                ..BrowserItem::default()
            },
        };
        let mut answers: Vec<(&(usize, &str), Answer)> = Vec::new();
        while let Some(((_, m, sample), lines)) = units.next_if(|((it, ..), _)| *it == i) {
            let mut a = Answer {
                model: ix.models[*m as usize].clone(),
                sample: *sample,
                ..Answer::default()
            };
            if let (Some(at), Some(f)) = (lines.response, responses.as_mut()) {
                let r: ResponseRecord = f.read(at)?;
                a.output = r.output;
                a.error = r.error.map(|e| format!("{}: {}", e.kind, e.message));
            }
            if let (Some(at), Some(f)) = (lines.score, scores.as_mut()) {
                add_score(&mut a, f.read(at)?);
            }
            answers.push((&order[*m as usize], a));
        }
        answers.sort_by(|a, b| a.0.cmp(b.0).then(a.1.sample.cmp(&b.1.sample)));
        item.answers = answers.into_iter().map(|(_, a)| a).collect();
        let mut verdicts: Vec<(u32, Gsb)> = Vec::new();
        while let Some((_, (seen, at))) = gsb.next_if(|((it, ..), _)| *it == i) {
            if let Some(f) = pairs.as_mut() {
                let p: PairRecord = f.read(*at)?;
                verdicts.push((
                    *seen,
                    Gsb {
                        model: p.candidate,
                        baseline: p.baseline,
                        verdict: p.verdict,
                        first_order: p.first_order,
                        second_order: p.second_order,
                    },
                ));
            }
        }
        verdicts.sort_by_key(|(seen, _)| *seen);
        item.gsb = verdicts.into_iter().map(|(_, g)| g).collect();
        if i > 0 {
            out.write_all(b", ")?;
        }
        to_json(out, &item)?;
    }
    out.write_all(b"]}")?;
    Ok(())
}

fn browser_item(it: ItemRecord) -> BrowserItem {
    BrowserItem {
        id: it.id,
        category: it.category,
        system: it.system,
        messages: it
            .messages
            .into_iter()
            .map(|m| (role_name(&m.role), m.content))
            .collect(),
        ..BrowserItem::default()
    }
}

fn add_score(a: &mut Answer, s: ScoreRecord) {
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

/// Write `value` as minijinja's `tojson` would.
fn to_json<T: Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, Json);
    value.serialize(&mut ser)?;
    Ok(())
}

/// The JSON text of minijinja's `tojson` filter (its `Spaced` style, HTML-safe strings): `", "` between
/// items, `": "` after keys, `<`, `>`, `&` and `'` as `\u003c`, `\u003e`, `\u0026`, `\u0027`. Numbers
/// and the other escapes are serde_json's, which are minijinja's; fields in declaration order, as
/// minijinja keeps them.
pub(crate) struct Json;

impl serde_json::ser::Formatter for Json {
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut start = 0;
        for (i, b) in bytes.iter().enumerate() {
            let escaped: &[u8] = match b {
                b'<' => b"\\u003c",
                b'>' => b"\\u003e",
                b'&' => b"\\u0026",
                b'\'' => b"\\u0027",
                _ => continue,
            };
            w.write_all(&bytes[start..i])?;
            w.write_all(escaped)?;
            start = i + 1;
        }
        w.write_all(&bytes[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::value::Serde;

    fn ours<T: Serialize>(v: &T) -> String {
        let mut out = Vec::new();
        to_json(&mut out, v).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn tojson<T: Serialize>(v: &T) -> String {
        let env = minijinja::Environment::new();
        env.render_str("{{ v|tojson }}", minijinja::context! { v => Serde(v) })
            .unwrap()
    }

    #[test]
    fn the_blob_is_written_as_minijinja_tojson_writes_it() {
        let text = "</script> & 'quoted' \"double\" \\ \n\t\r\u{1}\u{7f} 汉字 \u{1F600}";
        let mut dims = BTreeMap::new();
        for (name, score) in [("b", Some(2.5)), ("a", None), ("c", Some(1e-7))] {
            dims.insert(
                name.to_string(),
                DimScore {
                    justification: Some(text.to_string()),
                    samples: vec![1.0, 0.1 + 0.2, 123456789012345680.0, -0.0],
                    score,
                    source: "rules+judge".into(),
                },
            );
        }
        let item = BrowserItem {
            answers: vec![
                Answer {
                    dims,
                    error: Some(text.into()),
                    judge_error: None,
                    model: "m".into(),
                    output: Some(text.into()),
                    rules: vec![("r".into(), true, text.into())],
                    sample: 3,
                },
                Answer::default(),
            ],
            category: None,
            gsb: vec![Gsb {
                baseline: "b".into(),
                first_order: Some(PairVerdict::G),
                model: "m".into(),
                second_order: None,
                verdict: PairVerdict::S,
            }],
            id: text.into(),
            messages: vec![("user".into(), text.into()), (String::new(), String::new())],
            system: Some(text.into()),
        };
        assert_eq!(ours(&item), tojson(&item));
        let empty = BrowserItem::default();
        assert_eq!(ours(&empty), tojson(&empty));
        let dims = vec![BrowserDim {
            id: "x".into(),
            name: text.into(),
        }];
        assert_eq!(ours(&dims), tojson(&dims));
        assert_eq!(ours(&Some("<b>")), tojson(&Some("<b>")));
        assert_eq!(ours(&None::<String>), tojson(&None::<String>));
    }

    #[test]
    fn a_capped_browser_holds_the_first_items_and_counts_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let item = |id: &str| {
            format!(
                r#"{{"id":"{id}","line":1,"system":null,"messages":[{{"role":"user","content":"q {id}"}}],"vars":null,"category":null,"reference":null,"meta":null}}"#
            )
        };
        let answer = |id: &str| {
            format!(
                r#"{{"model":"m","item_id":"{id}","sample":0,"output":"a {id}","ttft_ms":1.0,"total_ms":2.0,"queue_ms":0.0,"prompt_tokens":1,"completion_tokens":1,"finish_reason":"stop","attempts":1,"error":null,"cached":false}}"#
            )
        };
        let items = ["b", "a", "c"].map(item).join("\n") + "\n";
        // An answer to an item that items.jsonl does not list comes after the listed ones.
        let answers = ["c", "x", "a"].map(answer).join("\n") + "\n";
        std::fs::write(dir.path().join(files::ITEMS), items).unwrap();
        std::fs::write(dir.path().join(files::RESPONSES), answers).unwrap();
        let blob = |cap: usize| {
            let data = BrowserData::index(dir.path(), cap).unwrap();
            let mut out = Vec::new();
            data.write(&["m".to_string()], None, &[], &mut out).unwrap();
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            let ids: Vec<String> = (v["items"].as_array().unwrap().iter())
                .map(|it| format!("{}:{}", it["id"], it["answers"].as_array().unwrap().len()))
                .collect();
            (data.capped(), ids.join(" "))
        };
        assert_eq!(blob(4), (None, r#""b":0 "a":1 "c":1 "x":1"#.to_string()));
        assert_eq!(blob(2), (Some((2, 4)), r#""b":0 "a":1"#.to_string()));
    }
}
