//! Eval sets: JSONL, one item a line, in the five shapes of SPEC §3.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::UsageError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// One chat turn. System text is kept apart, in `Item::system` (Qianfan v1 takes it as a field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

/// One eval item, normalised from any of the accepted shapes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// `id` from the file, else `line-<N>`.
    pub id: String,
    /// 1-based line in the eval-set file, for error messages.
    pub line: usize,
    pub system: Option<String>,
    /// The conversation to send: alternating user/assistant, ending with a user turn. Empty for a `vars`
    /// item until it is rendered through the rubric's template.
    pub messages: Vec<Message>,
    /// Template variables of a `vars` item (rendered by the rubric).
    pub vars: Option<serde_json::Map<String, serde_json::Value>>,
    pub category: Option<String>,
    /// An ideal answer, for reference metrics (also taken from `completion` and the last Qianfan pair).
    pub reference: Option<String>,
    pub meta: Option<serde_json::Value>,
}

impl Item {
    /// The last user turn: the prompt that is answered.
    pub fn last_prompt(&self) -> &str {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| m.content.as_str())
            .unwrap_or("")
    }
}

/// Load and validate an eval set. Errors are `FILE:LINE: what is wrong`.
pub fn load(path: &Path) -> Result<Vec<Item>, UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError::in_file(path, format!("cannot read eval set: {e}")))?;
    parse(path, &text)
}

/// Parse eval-set text (see `load`); `path` is used in messages only.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Item>, UsageError> {
    let _ = (path, text);
    Err(UsageError::in_file(path, "eval-set loader not written yet"))
}
