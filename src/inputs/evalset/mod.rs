//! Eval sets: JSONL, one item a line, in the five shapes of SPEC §3.
//!
//! Every line is normalised into one [`Item`]: a conversation (`messages`, alternating user/assistant and
//! ending with the user turn that is answered) or, for `vars` items, the template variables a rubric
//! renders later. A file may mix the shapes:
//!
//! | line | becomes |
//! | --- | --- |
//! | `{"id", "prompt"}` | one user turn |
//! | `{"id", "system", "messages": [...]}` | the chat; a leading `system` message moves to `Item::system` |
//! | `[{"prompt", "response": [["…"]]}, …]` | Qianfan multi-turn: earlier pairs are history, the last prompt is answered, the last response (if any) is the reference |
//! | `{"prompt", "completion"}` | one user turn; `completion` is the reference |
//! | `{"id", "vars": {…}}` | no messages yet; the rubric's template renders them |
//!
//! Objects may also carry `category`, `reference` and `meta` (and `system` beside `prompt` or `vars`). The loader is strict on purpose: an unknown
//! field (a typo such as `"promt"`), a wrong type, an empty turn or a gap in a conversation is an error
//! naming the line, because a silently skipped field changes what is measured.
//!
//! [`parse`] stops at the first bad line; [`parse_lenient`] keeps going and returns every bad line with
//! the items that did load (what `check` needs to show the whole picture); [`stream`] reads a file line
//! by line, as `parse_lenient` does, holding one line at a time (what `run` needs for a large set).

mod fields;
mod object;
mod qianfan;
mod stream;

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::error::UsageError;
pub use crate::inputs::item::{Item, Message, Role};
use fields::kind;
pub use stream::{stream, Stream};

/// What kind of fault made a line unusable; `check` groups them (seed 002 §四(一)2 asks for missing and
/// empty turns apart from the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LineErrorKind {
    /// Not JSON at all.
    InvalidJson,
    /// Valid JSON of the wrong shape: unknown field, wrong type, missing prompt, ….
    Shape,
    /// A prompt or turn that is empty (or only whitespace).
    EmptyTurn,
    /// A gap in a conversation: a middle turn without its response, roles out of order, or a conversation
    /// that does not end with the user turn to answer.
    MissingTurn,
    /// The id was already used on an earlier line.
    DuplicateId,
}

/// One line that could not become an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// What went wrong on the line.
    pub kind: LineErrorKind,
    /// What is wrong, naming the field (without the `FILE:LINE:` prefix).
    pub message: String,
}

impl LineError {
    /// As the user sees it: `FILE:LINE: what is wrong`.
    pub fn to_usage(&self, path: &Path) -> UsageError {
        UsageError::at(path, self.line, &self.message)
    }
}

/// The result of [`parse_lenient`]: the items that loaded and every line that did not.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// Items that parsed.
    pub items: Vec<Item>,
    /// Lines that did not parse.
    pub errors: Vec<LineError>,
}

/// Load and validate an eval set. Errors are `FILE:LINE: what is wrong`.
pub fn load(path: &Path) -> Result<Vec<Item>, UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError::in_file(path, format!("cannot read eval set: {e}")))?;
    parse(path, &text)
}

/// Parse eval-set text (see `load`); `path` is used in messages only.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Item>, UsageError> {
    let parsed = parse_lenient(text);
    if let Some(first) = parsed.errors.first() {
        return Err(first.to_usage(path));
    }
    if parsed.items.is_empty() {
        return Err(UsageError::in_file(path, "the eval set has no items"));
    }
    Ok(parsed.items)
}

/// Parse every line, collecting the bad ones instead of stopping at the first. Blank lines are skipped.
/// A line whose id repeats an earlier one is reported and left out.
pub fn parse_lenient(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut seen = Seen::default();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, raw) in text.lines().enumerate() {
        match seen.read(raw, index + 1) {
            Some(Ok(item)) => parsed.items.push(item),
            Some(Err(e)) => parsed.errors.push(e),
            None => {}
        }
    }
    parsed
}

/// The ids read so far, with their lines: a later line repeating one is an error.
#[derive(Default)]
struct Seen {
    first_line_of: HashMap<String, usize>,
}

impl Seen {
    /// The item of line `line` (1-based) with text `raw`; `None` for a blank line.
    fn read(&mut self, raw: &str, line: usize) -> Option<Result<Item, LineError>> {
        if raw.trim().is_empty() {
            return None;
        }
        let item = match parse_line(raw, line) {
            Ok(item) => item,
            Err((kind, message)) => {
                return Some(Err(LineError {
                    line,
                    kind,
                    message,
                }))
            }
        };
        if let Some(&first) = self.first_line_of.get(&item.id) {
            return Some(Err(LineError {
                line,
                kind: LineErrorKind::DuplicateId,
                message: format!("duplicate id \"{}\" (first used on line {first})", item.id),
            }));
        }
        self.first_line_of.insert(item.id.clone(), line);
        Some(Ok(item))
    }
}

type LineResult<T> = Result<T, (LineErrorKind, String)>;

fn shape<T>(message: impl Into<String>) -> LineResult<T> {
    Err((LineErrorKind::Shape, message.into()))
}

fn empty_turn<T>(message: impl Into<String>) -> LineResult<T> {
    Err((LineErrorKind::EmptyTurn, message.into()))
}

fn missing_turn<T>(message: impl Into<String>) -> LineResult<T> {
    Err((LineErrorKind::MissingTurn, message.into()))
}

fn parse_line(raw: &str, line: usize) -> LineResult<Item> {
    let value: Value = serde_json::from_str(raw).map_err(|e| {
        (
            LineErrorKind::InvalidJson,
            format!(
                "invalid JSON at column {}: {}",
                char_column(raw, e.column()),
                strip_position(&e)
            ),
        )
    })?;
    match value {
        Value::Array(turns) => qianfan::parse_qianfan(&turns, line),
        Value::Object(object) => object::parse_object(&object, line),
        other => shape(format!(
            "expected a JSON object or a Qianfan multi-turn array, found {}",
            kind(&other)
        )),
    }
}

/// serde_json counts columns in bytes; people count characters (the lines are mostly Chinese).
fn char_column(raw: &str, byte_column: usize) -> usize {
    raw.char_indices()
        .take_while(|&(i, _)| i < byte_column)
        .count()
}

/// serde_json's message without its ` at line 1 column N` tail (we give the column ourselves).
fn strip_position(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let tail = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&tail).unwrap_or(&full).to_string()
}

#[cfg(test)]
mod tests;
