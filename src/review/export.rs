//! `review export`: draw the rows of a blind sheet from a run directory and write it as CSV and as an
//! offline HTML page, with its unblinding key in the run directory.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::UsageError;
use crate::inputs::rubric::Rubric;
use crate::manifest::Manifest;
use crate::records::{files, stream_jsonl, ItemRecord, PairRecord, ResponseRecord};

use super::sample::{candidate_is_a, label_order, stratified};
use super::sheet::{
    label, levels_column, score_column, sheet_id, KeyDimension, KeyRow, SheetKey, SheetKind,
    COL_ANSWER, COL_ANSWER_A, COL_ANSWER_B, COL_CATEGORY, COL_ITEM, COL_LABEL, COL_PROMPT, COL_ROW,
    COL_SHEET, COL_VERDICT, KEY_SCHEMA,
};

/// The sample index a sheet shows: the first generation of each (model, item).
const SHEET_SAMPLE: u32 = 0;

/// What `review export` was asked for.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Dimensions to score (grade sheets); empty = every dimension of the rubric.
    pub dimensions: Vec<String>,
    /// A side-by-side sheet instead of a grade sheet.
    pub pairwise: bool,
    /// A stratified subset of this many rows.
    pub sample: Option<usize>,
    /// Seed of the label shuffles and the subset.
    pub seed: u64,
    /// The CSV file to write (the HTML page goes beside it); default `RUN/review/sheet-<id>.csv`.
    pub out: Option<PathBuf>,
}

/// What `review export` wrote.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The sheet id.
    pub sheet: String,
    /// Grades or pairs.
    pub kind: SheetKind,
    /// Rows in the sheet.
    pub rows: usize,
    /// Rows there would have been without `--sample`.
    pub available: usize,
    /// The CSV sheet.
    pub csv: PathBuf,
    /// The HTML sheet.
    pub html: PathBuf,
    /// The unblinding key (in the run directory).
    pub key: PathBuf,
}

/// One row as people see it.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct SheetRow {
    pub row: usize,
    pub item_id: String,
    /// Grade rows: the blind label; pair rows: empty.
    pub label: String,
    pub category: String,
    /// `(role, text)` per turn, system first.
    pub turns: Vec<(String, String)>,
    /// One answer (grade) or answers A and B (pair).
    pub answers: Vec<String>,
}

/// Write the sheet of `opts` for the run directory `dir`.
pub fn export(
    dir: &Path,
    manifest: &Manifest,
    rubric: &Rubric,
    opts: &ExportOptions,
) -> Result<Exported> {
    let kind = if opts.pairwise {
        SheetKind::Pair
    } else {
        SheetKind::Grade
    };
    let dims = dimensions(rubric, &opts.dimensions, kind)?;
    let items = read_items(dir)?;
    let answers = read_answers(dir, manifest)?;
    let models: Vec<String> = manifest.models.iter().map(|m| m.name.clone()).collect();

    // Every row there could be, in item order, with its stratum.
    let mut keys: Vec<KeyRow> = Vec::new();
    let mut strata: Vec<(String, String)> = Vec::new();
    let pairs = pairs_of(dir, manifest)?;
    for (item_id, item) in &items {
        let category = item.category.clone().unwrap_or_default();
        match kind {
            SheetKind::Grade => {
                let order = label_order(&models, item_id, opts.seed);
                let mut here: Vec<(usize, &String)> = models
                    .iter()
                    .filter(|m| answers.contains_key(&(m.to_string(), item_id.clone())))
                    .map(|m| (order[m], m))
                    .collect();
                here.sort();
                for (pos, m) in here {
                    keys.push(KeyRow {
                        row: 0,
                        item_id: item_id.clone(),
                        label: label(pos),
                        model: m.clone(),
                        baseline: None,
                        candidate_is_a: None,
                        sample: SHEET_SAMPLE,
                    });
                    strata.push((m.clone(), category.clone()));
                }
            }
            SheetKind::Pair => {
                for (cand, base) in &pairs {
                    let has = |m: &String| answers.contains_key(&(m.clone(), item_id.clone()));
                    if !has(cand) || !has(base) {
                        continue;
                    }
                    keys.push(KeyRow {
                        row: 0,
                        item_id: item_id.clone(),
                        label: String::new(),
                        model: cand.clone(),
                        baseline: Some(base.clone()),
                        candidate_is_a: Some(candidate_is_a(item_id, cand, base, opts.seed)),
                        sample: SHEET_SAMPLE,
                    });
                    strata.push((cand.clone(), category.clone()));
                }
            }
        }
    }
    let available = keys.len();
    if available == 0 {
        return Err(UsageError::new(format!(
            "{}: no answers to review (no successful answer of sample {SHEET_SAMPLE}{})",
            dir.display(),
            if opts.pairwise {
                " for both models of a pair"
            } else {
                ""
            }
        ))
        .into());
    }
    let chosen = match opts.sample {
        Some(0) => return Err(UsageError::new("--sample must be at least 1").into()),
        Some(n) => stratified(&strata, n, opts.seed),
        None => (0..available).collect(),
    };
    let mut key_rows: Vec<KeyRow> = chosen.into_iter().map(|k| keys[k].clone()).collect();
    let mut rows = Vec::with_capacity(key_rows.len());
    for (n, k) in key_rows.iter_mut().enumerate() {
        k.row = n + 1;
        let item = &items[&k.item_id];
        let answer = |m: &String| answers[&(m.clone(), k.item_id.clone())].clone();
        let shown = match (&k.baseline, k.candidate_is_a) {
            (Some(b), Some(true)) => vec![answer(&k.model), answer(b)],
            (Some(b), _) => vec![answer(b), answer(&k.model)],
            (None, _) => vec![answer(&k.model)],
        };
        rows.push(SheetRow {
            row: k.row,
            item_id: k.item_id.clone(),
            label: k.label.clone(),
            category: item.category.clone().unwrap_or_default(),
            turns: turns(item),
            answers: shown,
        });
    }

    let dim_ids: Vec<String> = dims.iter().map(|d| d.id.clone()).collect();
    let id = sheet_id(&manifest.run_id, kind, &dim_ids, opts.sample, opts.seed);
    let key = SheetKey {
        schema: KEY_SCHEMA.to_string(),
        sheet: id.clone(),
        run_id: manifest.run_id.clone(),
        kind,
        dimensions: dims,
        sample: opts.sample,
        seed: opts.seed,
        rows: key_rows,
    };
    let csv_path = opts
        .out
        .clone()
        .unwrap_or_else(|| dir.join(files::REVIEW_DIR).join(format!("sheet-{id}.csv")));
    let html_path = csv_path.with_extension("html");
    if let Some(parent) = csv_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("could not create {}", parent.display()))?;
    }
    let key_path = key.write(dir)?;
    write_file(&csv_path, &csv_bytes(&key, &rows)?)?;
    write_file(&html_path, &super::html::render(&key, &rows)?)?;
    Ok(Exported {
        sheet: id,
        kind,
        rows: rows.len(),
        available,
        csv: csv_path,
        html: html_path,
        key: key_path,
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::File::create(path)
        .with_context(|| format!("could not create {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("could not write {}", path.display()))
}

/// The dimensions a grade sheet asks for: `wanted` (validated against the rubric) or all of them.
fn dimensions(rubric: &Rubric, wanted: &[String], kind: SheetKind) -> Result<Vec<KeyDimension>> {
    if kind == SheetKind::Pair {
        if !wanted.is_empty() {
            return Err(UsageError::new(
                "--dimensions applies to grade sheets; a --pairwise sheet asks for one verdict per pair",
            )
            .into());
        }
        return Ok(Vec::new());
    }
    let known: Vec<&str> = rubric.dimensions.iter().map(|d| d.id.as_str()).collect();
    for w in wanted {
        if !known.contains(&w.as_str()) {
            return Err(UsageError::new(format!(
                "--dimensions: `{w}` is not a dimension of rubric `{}` (it has {})",
                rubric.id,
                known.join(", ")
            ))
            .into());
        }
    }
    Ok(rubric
        .dimensions
        .iter()
        .filter(|d| wanted.is_empty() || wanted.contains(&d.id))
        .map(|d| KeyDimension {
            id: d.id.clone(),
            name: d.name.clone(),
            scale: d.scale,
            levels: d.levels.iter().map(|(k, v)| (*k, v.clone())).collect(),
        })
        .collect())
}

fn read_items(dir: &Path) -> Result<BTreeMap<String, ItemRecord>> {
    let path = dir.join(files::ITEMS);
    if !path.exists() {
        return Err(UsageError::new(format!(
            "{}: no {}, so the prompts are unknown; review needs a run directory written by `evalrun run` \
             or `evalrun demo`",
            dir.display(),
            files::ITEMS
        ))
        .into());
    }
    let mut items = BTreeMap::new();
    for line in stream_jsonl::<ItemRecord>(&path)? {
        let it = line?.record;
        items.insert(it.id.clone(), it);
    }
    Ok(items)
}

/// The successful answers of sample 0, by (model, item); the last line of a unit wins.
fn read_answers(dir: &Path, m: &Manifest) -> Result<BTreeMap<(String, String), String>> {
    let models: BTreeSet<&str> = m.models.iter().map(|e| e.name.as_str()).collect();
    let mut out = BTreeMap::new();
    for line in stream_jsonl::<ResponseRecord>(&dir.join(files::RESPONSES))? {
        let r = line?.record;
        if r.sample != SHEET_SAMPLE || !models.contains(r.model.as_str()) {
            continue;
        }
        let key = (r.model, r.item_id);
        match (r.error, r.output) {
            (None, Some(o)) if !o.trim().is_empty() => {
                out.insert(key, o);
            }
            _ => {
                out.remove(&key);
            }
        }
    }
    Ok(out)
}

/// The (candidate, reference) pairs a pair sheet shows: those of `pairwise.jsonl`, else every model
/// against the run's baseline.
fn pairs_of(dir: &Path, m: &Manifest) -> Result<Vec<(String, String)>> {
    let mut pairs = BTreeSet::new();
    for line in stream_jsonl::<PairRecord>(&dir.join(files::PAIRWISE))? {
        let p = line?.record;
        pairs.insert((p.candidate, p.baseline));
    }
    if pairs.is_empty() {
        if let Some(b) = &m.baseline {
            for e in m.models.iter().filter(|e| &e.name != b) {
                pairs.insert((e.name.clone(), b.clone()));
            }
        }
    }
    Ok(pairs.into_iter().collect())
}

fn turns(item: &ItemRecord) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(s) = &item.system {
        out.push(("system".to_string(), s.clone()));
    }
    for m in &item.messages {
        out.push((m.role.as_str().to_string(), m.content.clone()));
    }
    out
}

/// The conversation in one cell: `[role]` then the text, turns separated by a blank line.
fn prompt_text(turns: &[(String, String)]) -> String {
    turns
        .iter()
        .map(|(r, t)| format!("[{r}]\n{t}"))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The CSV sheet: a UTF-8 byte-order mark (so spreadsheets read the Chinese right), a header, one row
/// per answer (or pair) with empty score (verdict) cells.
fn csv_bytes(key: &SheetKey, rows: &[SheetRow]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let mut head: Vec<String> = [COL_SHEET, COL_ROW, COL_ITEM]
        .iter()
        .map(|s| s.to_string())
        .collect();
    match key.kind {
        SheetKind::Grade => {
            head.extend([COL_LABEL, COL_CATEGORY, COL_PROMPT, COL_ANSWER].map(String::from));
            head.extend(key.dimensions.iter().map(|d| score_column(&d.id)));
            head.extend(key.dimensions.iter().map(|d| levels_column(&d.id)));
        }
        SheetKind::Pair => {
            head.extend(
                [
                    COL_CATEGORY,
                    COL_PROMPT,
                    COL_ANSWER_A,
                    COL_ANSWER_B,
                    COL_VERDICT,
                ]
                .map(String::from),
            );
        }
    }
    w.write_record(&head)?;
    let levels: Vec<String> = key
        .dimensions
        .iter()
        .map(|d| {
            d.levels
                .iter()
                .map(|(k, t)| format!("{k} = {t}"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    for r in rows {
        let mut cells = vec![key.sheet.clone(), r.row.to_string(), r.item_id.clone()];
        match key.kind {
            SheetKind::Grade => {
                cells.extend([
                    r.label.clone(),
                    r.category.clone(),
                    prompt_text(&r.turns),
                    r.answers[0].clone(),
                ]);
                cells.extend(key.dimensions.iter().map(|_| String::new()));
                cells.extend(levels.iter().cloned());
            }
            SheetKind::Pair => {
                cells.extend([
                    r.category.clone(),
                    prompt_text(&r.turns),
                    r.answers[0].clone(),
                    r.answers[1].clone(),
                    String::new(),
                ]);
            }
        }
        w.write_record(&cells)?;
    }
    w.into_inner().context("could not write the CSV sheet")
}
