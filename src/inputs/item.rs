//! One eval item, normalised from any of the eval-set shapes (SPEC §3); what a run sends and records.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
/// Speaker of a message.
pub enum Role {
    /// The user.
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The role's name on the wire (`user`, `assistant`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One chat turn. System text is kept apart, in `Item::system` (Qianfan v1 takes it as a field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: String,
}

/// One eval item, normalised from any of the accepted shapes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// `id` from the file, else `line-<N>`.
    pub id: String,
    /// 1-based line in the eval-set file, for error messages.
    pub line: usize,
    /// System prompt, if any.
    pub system: Option<String>,
    /// The conversation to send: alternating user/assistant (it may open with an assistant turn, e.g. a
    /// tutor who speaks first), ending with a user turn. Empty for a `vars`
    /// item until it is rendered through the rubric's template.
    pub messages: Vec<Message>,
    /// Template variables of a `vars` item (rendered by the rubric).
    pub vars: Option<serde_json::Map<String, serde_json::Value>>,
    /// Category for per-category breakdowns, if any.
    pub category: Option<String>,
    /// An ideal answer, for reference metrics (also taken from `completion` and the last Qianfan pair).
    pub reference: Option<String>,
    /// Free-form metadata carried through unchanged.
    pub meta: Option<serde_json::Value>,
}

impl Item {
    /// Whether the conversation opens with an assistant turn (Qianfan v1 refuses such a conversation;
    /// OpenAI-compatible servers accept it).
    pub fn opens_with_assistant(&self) -> bool {
        self.messages
            .first()
            .is_some_and(|m| m.role == Role::Assistant)
    }

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
