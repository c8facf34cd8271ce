//! `review import`: validate filled sheets against their keys and store the scores in `human.jsonl`.
//!
//! A sheet is read whole before anything is written. Every problem is collected and named by file, line
//! and row: an unknown or repeated row, an edited `item_id` or label, a score off the dimension's scale
//! or not a whole level, a verdict other than A / B / same, a row of the key missing from the sheet. If
//! any sheet has a problem, nothing is imported (exit 2) and `human.jsonl` is left as it was. Otherwise
//! the scores join `human.jsonl`, one line per (rater, model, item, sample, dimension or pair); a line
//! already there for the same key is replaced, so importing a sheet twice changes nothing. Empty cells
//! (also `n/a`, `-`) are "could not tell" and import nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::UsageError;
use crate::records::{files, read_jsonl, HumanRecord, PairVerdict};

use super::sheet::{
    score_column, KeyRow, SheetKey, SheetKind, COL_ITEM, COL_LABEL, COL_ROW, COL_SHEET, COL_VERDICT,
};

/// Problems listed per sheet before the rest are counted.
const MAX_LISTED: usize = 20;

/// What one sheet held.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetImport {
    /// The file read.
    pub file: PathBuf,
    /// Who scored.
    pub rater: String,
    /// The sheet id.
    pub sheet: String,
    /// Scores (or verdicts) read.
    pub scores: usize,
    /// Cells left empty.
    pub blank: usize,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// Per sheet, in the order given.
    pub sheets: Vec<SheetImport>,
    /// Lines new to `human.jsonl`.
    pub added: usize,
    /// Lines whose score (or verdict) changed.
    pub changed: usize,
    /// Lines already there as they are.
    pub unchanged: usize,
}

/// Validate every sheet of `sheets` against its key in `dir`, then store them (or nothing).
pub fn import(dir: &Path, sheets: &[PathBuf], rater: Option<&str>) -> Result<Imported> {
    let mut problems: Vec<String> = Vec::new();
    let mut read: Vec<(SheetImport, Vec<HumanRecord>)> = Vec::new();
    for file in sheets {
        let rater = match rater {
            Some(r) => r.trim().to_string(),
            None => file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        if rater.is_empty() {
            return Err(UsageError::new("--rater: the rater's name is empty").into());
        }
        match read_sheet(dir, file, &rater) {
            Ok(r) => read.push(r),
            Err(SheetErrors::Fatal(e)) => return Err(e),
            Err(SheetErrors::Rows(list)) => {
                let n = list.len();
                problems.extend(list.into_iter().take(MAX_LISTED));
                if n > MAX_LISTED {
                    problems.push(format!(
                        "{}: … and {} more problems",
                        file.display(),
                        n - MAX_LISTED
                    ));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(UsageError::new(format!(
            "nothing imported, {} unchanged:\n  {}",
            files::HUMAN,
            problems.join("\n  ")
        ))
        .into());
    }
    let path = dir.join(files::HUMAN);
    let before = std::fs::read(&path).ok();
    let mut all: BTreeMap<_, HumanRecord> = read_jsonl::<HumanRecord>(&path)?
        .into_iter()
        .map(|r| (r.key(), r))
        .collect();
    let (mut added, mut changed, mut unchanged) = (0, 0, 0);
    let mut out = Imported {
        sheets: Vec::new(),
        added: 0,
        changed: 0,
        unchanged: 0,
    };
    for (sheet, records) in read {
        for r in records {
            match all.insert(r.key(), r.clone()) {
                None => added += 1,
                Some(old) if old == r => unchanged += 1,
                Some(_) => changed += 1,
            }
        }
        out.sheets.push(sheet);
    }
    let mut text = String::new();
    for r in all.values() {
        text.push_str(&serde_json::to_string(r)?);
        text.push('\n');
    }
    if before.as_deref() != Some(text.as_bytes()) {
        files::replace(&path, |out| Ok(out.write_all(text.as_bytes())?))?;
    }
    out.added = added;
    out.changed = changed;
    out.unchanged = unchanged;
    Ok(out)
}

enum SheetErrors {
    /// The file cannot be read at all (missing, not CSV): stop at once.
    Fatal(anyhow::Error),
    /// Problems with rows, each `FILE:LINE: …`.
    Rows(Vec<String>),
}

impl From<anyhow::Error> for SheetErrors {
    fn from(e: anyhow::Error) -> Self {
        SheetErrors::Fatal(e)
    }
}

/// One sheet's records, or every problem found in it.
fn read_sheet(
    dir: &Path,
    file: &Path,
    rater: &str,
) -> Result<(SheetImport, Vec<HumanRecord>), SheetErrors> {
    let bytes = std::fs::read(file)
        .with_context(|| format!("could not read {}", file.display()))
        .map_err(|e| SheetErrors::Fatal(UsageError::new(format!("{e:#}")).into()))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let at = |line: u64, msg: String| format!("{}:{line}: {msg}", file.display());
    let fatal = |msg: String| SheetErrors::Fatal(UsageError::in_file(file, msg).into());
    let head: Vec<String> = reader
        .headers()
        .map_err(|e| fatal(format!("not a CSV sheet: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let col = |name: &str| head.iter().position(|h| h == name);
    let mut records: Vec<(u64, csv::StringRecord)> = Vec::new();
    let mut problems = Vec::new();
    for rec in reader.records() {
        match rec {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                if r.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                records.push((line, r));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(at(line, format!("not a CSV row: {e}")));
            }
        }
    }
    let Some(sheet_col) = col(COL_SHEET) else {
        return Err(fatal(format!(
            "no `{COL_SHEET}` column: this is not an evalrun review sheet"
        )));
    };
    let Some((_, first)) = records.first() else {
        return Err(fatal("the sheet has no rows".to_string()));
    };
    let sheet = first.get(sheet_col).unwrap_or("").trim().to_string();
    let key = SheetKey::read(dir, &sheet, file)?;
    let mut needed = vec![COL_ROW.to_string(), COL_ITEM.to_string()];
    match key.kind {
        SheetKind::Grade => {
            needed.push(COL_LABEL.to_string());
            needed.extend(key.dimensions.iter().map(|d| score_column(&d.id)));
        }
        SheetKind::Pair => needed.push(COL_VERDICT.to_string()),
    }
    let missing: Vec<&String> = needed.iter().filter(|c| col(c).is_none()).collect();
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|c| format!("`{c}`")).collect();
        return Err(fatal(format!(
            "column {} missing: keep the exported header",
            names.join(", ")
        )));
    }
    for h in head.iter().filter(|h| h.starts_with("score:")) {
        if !needed.contains(h) {
            problems.push(at(
                1,
                format!("column `{h}` is not a dimension of sheet {sheet}"),
            ));
        }
    }

    let by_row: BTreeMap<usize, &KeyRow> = key.rows.iter().map(|r| (r.row, r)).collect();
    let mut seen: BTreeMap<usize, u64> = BTreeMap::new();
    let mut out = Vec::new();
    let mut blank = 0;
    for (line, r) in &records {
        let line = *line;
        let cell = |name: &str| r.get(col(name).unwrap_or(usize::MAX)).unwrap_or("").trim();
        if cell(COL_SHEET) != sheet {
            problems.push(at(
                line,
                format!(
                    "`{COL_SHEET}` is `{}`, not {sheet}: one file holds one sheet",
                    cell(COL_SHEET)
                ),
            ));
            continue;
        }
        let row_text = cell(COL_ROW);
        let Some(k) = row_text.parse::<usize>().ok().and_then(|n| by_row.get(&n)) else {
            problems.push(at(
                line,
                format!("row `{row_text}` is not a row of sheet {sheet}"),
            ));
            continue;
        };
        if let Some(prev) = seen.insert(k.row, line) {
            problems.push(at(
                line,
                format!("row {} appears twice (also line {prev})", k.row),
            ));
            continue;
        }
        if cell(COL_ITEM) != k.item_id {
            problems.push(at(
                line,
                format!(
                    "row {}: item_id is `{}`, the sheet was exported with `{}`",
                    k.row,
                    cell(COL_ITEM),
                    k.item_id
                ),
            ));
            continue;
        }
        let base = HumanRecord {
            rater: rater.to_string(),
            item_id: k.item_id.clone(),
            model: k.model.clone(),
            baseline: k.baseline.clone(),
            sample: k.sample,
            dimension: None,
            score: None,
            verdict: None,
            sheet: sheet.clone(),
            row: k.row,
        };
        match key.kind {
            SheetKind::Grade => {
                if cell(COL_LABEL) != k.label {
                    problems.push(at(
                        line,
                        format!(
                            "row {}: label is `{}`, the sheet was exported with `{}`: labels must stay as \
                             exported",
                            k.row,
                            cell(COL_LABEL),
                            k.label
                        ),
                    ));
                    continue;
                }
                for d in &key.dimensions {
                    let name = score_column(&d.id);
                    let text = cell(&name);
                    if is_blank(text) {
                        blank += 1;
                        continue;
                    }
                    let (lo, hi) = d.scale;
                    match text.parse::<f64>() {
                        Ok(x) if x.fract() == 0.0 && x >= lo as f64 && x <= hi as f64 => {
                            out.push(HumanRecord {
                                dimension: Some(d.id.clone()),
                                score: Some(x),
                                ..base.clone()
                            });
                        }
                        Ok(_) => problems.push(at(
                            line,
                            format!(
                                "row {}, {name}: `{text}` is off the scale: a whole number from {lo} to {hi}",
                                k.row
                            ),
                        )),
                        Err(_) => problems.push(at(
                            line,
                            format!(
                                "row {}, {name}: `{text}` is not a score (a whole number from {lo} to {hi}, \
                                 or empty)",
                                k.row
                            ),
                        )),
                    }
                }
            }
            SheetKind::Pair => {
                let text = cell(COL_VERDICT);
                if is_blank(text) {
                    blank += 1;
                    continue;
                }
                let a = k.candidate_is_a.unwrap_or(true);
                let verdict = match text.to_ascii_lowercase().as_str() {
                    "a" => Some(if a { PairVerdict::G } else { PairVerdict::B }),
                    "b" => Some(if a { PairVerdict::B } else { PairVerdict::G }),
                    "same" | "tie" | "=" => Some(PairVerdict::S),
                    _ => None,
                };
                match verdict {
                    Some(v) => out.push(HumanRecord {
                        verdict: Some(v),
                        ..base.clone()
                    }),
                    None => problems.push(at(
                        line,
                        format!("row {}, {COL_VERDICT}: `{text}` is not A, B or same", k.row),
                    )),
                }
            }
        }
    }
    let seen_rows: BTreeSet<usize> = seen.keys().copied().collect();
    for k in key.rows.iter().filter(|k| !seen_rows.contains(&k.row)) {
        let what = match key.kind {
            SheetKind::Grade => format!("item {}, label {}", k.item_id, k.label),
            SheetKind::Pair => format!("item {}", k.item_id),
        };
        problems.push(format!(
            "{}: row {} ({what}) is missing",
            file.display(),
            k.row
        ));
    }
    if !problems.is_empty() {
        return Err(SheetErrors::Rows(problems));
    }
    let summary = SheetImport {
        file: file.to_path_buf(),
        rater: rater.to_string(),
        sheet,
        scores: out.len(),
        blank,
    };
    Ok((summary, out))
}

/// An empty cell, or one that says "could not tell".
fn is_blank(text: &str) -> bool {
    matches!(text.to_ascii_lowercase().as_str(), "" | "n/a" | "na" | "-")
}
