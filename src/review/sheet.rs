//! The review sheet's format: its columns, its id, and the unblinding key kept in the run directory.
//!
//! A sheet is blind: a row names the item, a label (`A`, `B`, …, shuffled per item) and the answer, never
//! the model. The key that maps each row back to (model, item, sample) is written to
//! `RUN/review/key-<sheet>.json` and nowhere else; `review import` reads it to validate a filled sheet.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::UsageError;
use crate::records::files;

/// `schema` of a key file.
pub const KEY_SCHEMA: &str = "evalrun-review-key/1";
/// Column: the sheet id (the same on every row).
pub const COL_SHEET: &str = "sheet";
/// Column: the row number, 1-based.
pub const COL_ROW: &str = "row";
/// Column: the eval-set item id.
pub const COL_ITEM: &str = "item_id";
/// Column: the blind label of the answer within its item (grade sheets).
pub const COL_LABEL: &str = "label";
/// Column: the item's category.
pub const COL_CATEGORY: &str = "category";
/// Column: the rendered conversation.
pub const COL_PROMPT: &str = "prompt";
/// Column: the answer (grade sheets).
pub const COL_ANSWER: &str = "answer";
/// Column: answer A of a pair.
pub const COL_ANSWER_A: &str = "answer_A";
/// Column: answer B of a pair.
pub const COL_ANSWER_B: &str = "answer_B";
/// Column: the pair's verdict, `A`, `B` or `same` (pair sheets).
pub const COL_VERDICT: &str = "verdict";

/// The score column of dimension `d`.
pub fn score_column(d: &str) -> String {
    format!("score:{d}")
}

/// The column with dimension `d`'s level texts.
pub fn levels_column(d: &str) -> String {
    format!("levels:{d}")
}

/// What a sheet asks people for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SheetKind {
    /// A score per answer and dimension.
    Grade,
    /// A side-by-side verdict per pair of answers (`--pairwise`).
    Pair,
}

/// A dimension as the sheet shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyDimension {
    /// Dimension id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Lowest and highest score.
    pub scale: (i64, i64),
    /// The text of each level, lowest first.
    pub levels: Vec<(i64, String)>,
}

/// One row of a sheet and what it really is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    /// 1-based row number, as in the sheet's `row` column.
    pub row: usize,
    /// Item id.
    pub item_id: String,
    /// Grade rows: the blind label shown; pair rows: empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// The graded model, or the pair's candidate.
    pub model: String,
    /// The pair's reference; absent for a grade row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// Pair rows: whether the candidate is shown as answer A (else B).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_is_a: Option<bool>,
    /// Sample index of the answer(s).
    pub sample: u32,
}

/// The unblinding key of one sheet: `RUN/review/key-<sheet>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SheetKey {
    /// Always [`KEY_SCHEMA`].
    pub schema: String,
    /// The sheet id, as in its `sheet` column.
    pub sheet: String,
    /// The run the sheet was drawn from.
    pub run_id: String,
    /// Grades or pairs.
    pub kind: SheetKind,
    /// The dimensions asked for (grade sheets).
    pub dimensions: Vec<KeyDimension>,
    /// `--sample N`, if the rows are a stratified subset.
    pub sample: Option<usize>,
    /// `--seed S`: label shuffles and the subset follow from it.
    pub seed: u64,
    /// Every row of the sheet.
    pub rows: Vec<KeyRow>,
}

impl SheetKey {
    /// Where the key of sheet `id` lives in the run directory `dir`.
    pub fn path(dir: &Path, id: &str) -> PathBuf {
        dir.join(files::REVIEW_DIR).join(format!("key-{id}.json"))
    }

    /// Write the key into the run directory.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        let path = SheetKey::path(dir, &self.sheet);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("could not create {}", parent.display()))?;
        }
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        std::fs::write(&path, text)
            .with_context(|| format!("could not write {}", path.display()))?;
        Ok(path)
    }

    /// Read the key of sheet `id` from the run directory; `sheet_file` names the sheet in the error.
    pub fn read(dir: &Path, id: &str, sheet_file: &Path) -> Result<SheetKey> {
        let valid = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric());
        let path = SheetKey::path(dir, id);
        if !valid || !path.exists() {
            return Err(UsageError::in_file(
                sheet_file,
                format!(
                    "sheet `{id}` has no key in {} (was it exported from this run, and is its `sheet` \
                     column untouched?)",
                    dir.join(files::REVIEW_DIR).display()
                ),
            )
            .into());
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("could not read {}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| UsageError::in_file(&path, format!("invalid key: {e}")).into())
    }
}

/// A sheet's id: 10 hex digits of SHA-256 over what determines its rows, so exporting again with the same
/// options gives the same sheet and key.
pub fn sheet_id(
    run_id: &str,
    kind: SheetKind,
    dims: &[String],
    sample: Option<usize>,
    seed: u64,
) -> String {
    let text = format!("{run_id}\n{kind:?}\n{}\n{sample:?}\n{seed}", dims.join(","));
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(5).map(|b| format!("{b:02x}")).collect()
}

/// The blind label of the `i`-th answer of an item: `A` … `Z`, then `A2` … `Z2`, and so on.
pub fn label(i: usize) -> String {
    let letter = (b'A' + (i % 26) as u8) as char;
    match i / 26 {
        0 => letter.to_string(),
        k => format!("{letter}{}", k + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_run_past_z() {
        assert_eq!(label(0), "A");
        assert_eq!(label(25), "Z");
        assert_eq!(label(26), "A2");
        assert_eq!(label(53), "B3");
    }

    #[test]
    fn sheet_id_depends_on_every_option() {
        let dims = vec!["reply".to_string()];
        let a = sheet_id("run", SheetKind::Grade, &dims, Some(60), 1);
        assert_eq!(a.len(), 10);
        assert_eq!(a, sheet_id("run", SheetKind::Grade, &dims, Some(60), 1));
        assert_ne!(a, sheet_id("run", SheetKind::Grade, &dims, Some(60), 2));
        assert_ne!(a, sheet_id("run", SheetKind::Pair, &dims, Some(60), 1));
        assert_ne!(a, sheet_id("run", SheetKind::Grade, &dims, None, 1));
    }
}
