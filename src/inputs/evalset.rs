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
//! [`parse`] stops at the first bad line (what `run` needs); [`parse_lenient`] keeps going and returns
//! every bad line with the items that did load (what `check` needs to show the whole picture).

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::UsageError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
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
    pub items: Vec<Item>,
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
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let item = match parse_line(raw, line) {
            Ok(item) => item,
            Err((kind, message)) => {
                parsed.errors.push(LineError {
                    line,
                    kind,
                    message,
                });
                continue;
            }
        };
        if let Some(&first) = first_line_of.get(&item.id) {
            parsed.errors.push(LineError {
                line,
                kind: LineErrorKind::DuplicateId,
                message: format!("duplicate id \"{}\" (first used on line {first})", item.id),
            });
            continue;
        }
        first_line_of.insert(item.id.clone(), line);
        parsed.items.push(item);
    }
    parsed
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
        Value::Array(turns) => parse_qianfan(&turns, line),
        Value::Object(object) => parse_object(&object, line),
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

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

const OBJECT_FIELDS: &[&str] = &[
    "id",
    "prompt",
    "system",
    "messages",
    "completion",
    "vars",
    "category",
    "reference",
    "meta",
];
const MESSAGE_FIELDS: &[&str] = &["role", "content", "weight"];
const QIANFAN_FIELDS: &[&str] = &["prompt", "response", "system", "weight"];

/// Reject fields we do not know, suggesting the field a typo most likely meant.
fn check_fields(object: &Map<String, Value>, known: &[&str], context: &str) -> LineResult<()> {
    for key in object.keys() {
        if known.contains(&key.as_str()) {
            continue;
        }
        let hint = known
            .iter()
            .map(|k| (edit_distance(key, k), *k))
            .filter(|&(d, _)| d <= 2)
            .min()
            .map(|(_, k)| format!(" (did you mean \"{k}\"?)"))
            .unwrap_or_default();
        let allowed = known
            .iter()
            .map(|k| format!("\"{k}\""))
            .collect::<Vec<_>>()
            .join(", ");
        return shape(format!(
            "{context}unknown field \"{key}\"{hint}; allowed: {allowed}"
        ));
    }
    Ok(())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// An optional field; JSON `null` counts as absent.
fn field<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

/// An optional string field that, when given, must not be empty.
fn optional_text(
    object: &Map<String, Value>,
    key: &str,
    context: &str,
) -> LineResult<Option<String>> {
    match field(object, key) {
        None => Ok(None),
        Some(Value::String(s)) if is_blank(s) => shape(format!(
            "{context}\"{key}\" is empty (leave the field out instead)"
        )),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => shape(format!(
            "{context}\"{key}\" must be a string, found {}",
            kind(other)
        )),
    }
}

fn parse_object(object: &Map<String, Value>, line: usize) -> LineResult<Item> {
    check_fields(object, OBJECT_FIELDS, "")?;

    let id = match optional_text(object, "id", "")? {
        Some(id) => id,
        None => format!("line-{line}"),
    };
    let category = optional_text(object, "category", "")?;
    let mut reference = optional_text(object, "reference", "")?;
    let meta = field(object, "meta").cloned();
    let mut system = optional_text(object, "system", "")?;

    let given: Vec<&str> = ["prompt", "messages", "vars"]
        .into_iter()
        .filter(|k| field(object, k).is_some())
        .collect();
    if given.len() > 1 {
        return shape(format!(
            "\"{}\" and \"{}\" cannot be combined: an item is either a prompt, a chat or template variables",
            given[0], given[1]
        ));
    }
    if field(object, "completion").is_some() && given != ["prompt"] {
        return shape("\"completion\" belongs with \"prompt\" (the prompt/completion form)");
    }

    let mut messages = Vec::new();
    let mut vars = None;
    match given.first().copied() {
        Some("prompt") => {
            let prompt = match field(object, "prompt") {
                Some(Value::String(s)) => s,
                Some(other) => {
                    return shape(format!(
                        "\"prompt\" must be a string, found {}",
                        kind(other)
                    ))
                }
                None => unreachable!("\"prompt\" was found above"),
            };
            if is_blank(prompt) {
                return empty_turn("empty prompt");
            }
            messages.push(Message {
                role: Role::User,
                content: prompt.clone(),
            });
            if let Some(completion) = optional_text(object, "completion", "")? {
                if reference.is_some() {
                    return shape(
                        "both \"completion\" and \"reference\" give the reference answer; keep one",
                    );
                }
                reference = Some(completion);
            }
        }
        Some("messages") => {
            let (leading_system, chat) = parse_messages(&object["messages"])?;
            if let Some(text) = leading_system {
                if system.is_some() {
                    return shape(
                        "system text given twice: in \"system\" and as messages[0]; keep one",
                    );
                }
                system = Some(text);
            }
            messages = chat;
        }
        Some(_) => match &object["vars"] {
            Value::Object(map) if map.is_empty() => return shape("\"vars\" is empty"),
            Value::Object(map) => vars = Some(map.clone()),
            other => {
                return shape(format!(
                    "\"vars\" must be an object of template variables, found {}",
                    kind(other)
                ))
            }
        },
        None => return shape(
            "nothing to ask: give \"prompt\", \"messages\" or \"vars\" (SPEC §3 lists the shapes)",
        ),
    }

    Ok(Item {
        id,
        line,
        system,
        messages,
        vars,
        category,
        reference,
        meta,
    })
}

/// The OpenAI chat form. Returns the leading system text apart from the user/assistant turns.
fn parse_messages(value: &Value) -> LineResult<(Option<String>, Vec<Message>)> {
    let list = match value {
        Value::Array(list) => list,
        other => {
            return shape(format!(
                "\"messages\" must be an array of {{\"role\", \"content\"}} objects, found {}",
                kind(other)
            ))
        }
    };
    let mut system = None;
    let mut chat: Vec<Message> = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let at = format!("messages[{i}]: ");
        let object = match entry {
            Value::Object(object) => object,
            other => {
                return shape(format!(
                    "{at}expected an object with \"role\" and \"content\", found {}",
                    kind(other)
                ))
            }
        };
        check_fields(object, MESSAGE_FIELDS, &at)?;
        let role = match field(object, "role") {
            Some(Value::String(role)) => role.as_str(),
            Some(other) => {
                return shape(format!(
                    "{at}\"role\" must be a string, found {}",
                    kind(other)
                ))
            }
            None => return shape(format!("{at}missing \"role\"")),
        };
        let content = match field(object, "content") {
            Some(Value::String(content)) => content,
            Some(other) => {
                return shape(format!(
                    "{at}\"content\" must be a string, found {}",
                    kind(other)
                ))
            }
            None => return shape(format!("{at}missing \"content\"")),
        };
        let role = match role {
            "system" if i == 0 => {
                if is_blank(content) {
                    return shape(format!("{at}the system message is empty"));
                }
                system = Some(content.clone());
                continue;
            }
            "system" => {
                return shape(format!(
                    "{at}a \"system\" message is only allowed as the first message"
                ))
            }
            "user" => Role::User,
            "assistant" => Role::Assistant,
            other => {
                return shape(format!(
                    "{at}unknown role \"{other}\" (expected \"user\" or \"assistant\"; \"system\" only first)"
                ))
            }
        };
        let expected = if chat.len().is_multiple_of(2) {
            Role::User
        } else {
            Role::Assistant
        };
        if role != expected {
            return missing_turn(format!(
                "{at}roles out of order: expected {} here, found {} (turns alternate user/assistant, starting with user)",
                expected.as_str(),
                role.as_str()
            ));
        }
        if is_blank(content) {
            return empty_turn(format!("{at}empty {} turn", role.as_str()));
        }
        chat.push(Message {
            role,
            content: content.clone(),
        });
    }
    match chat.last() {
        None => empty_turn("\"messages\" has no user turn"),
        Some(last) if last.role == Role::Assistant => missing_turn(format!(
            "messages[{}]: the last message must be the user turn to answer, found assistant (put an ideal answer in \"reference\")",
            list.len() - 1
        )),
        Some(_) => Ok((system, chat)),
    }
}

/// Qianfan's multi-turn SFT form: `[{"prompt", "response": [["…"]]}, …]`, `system` allowed on the first
/// pair, `weight` (a training-only field) accepted and ignored.
fn parse_qianfan(turns: &[Value], line: usize) -> LineResult<Item> {
    if turns.is_empty() {
        return empty_turn(
            "empty conversation: a Qianfan multi-turn line needs at least one {\"prompt\", \"response\"} pair",
        );
    }
    let n = turns.len();
    let mut system = None;
    let mut messages = Vec::with_capacity(2 * n - 1);
    let mut reference = None;
    for (i, turn) in turns.iter().enumerate() {
        let number = i + 1;
        let at = format!("turn {number} of {n}: ");
        let object = match turn {
            Value::Object(object) => object,
            other => {
                return shape(format!(
                    "{at}expected an object with \"prompt\" and \"response\", found {}",
                    kind(other)
                ))
            }
        };
        check_fields(object, QIANFAN_FIELDS, &at)?;
        if field(object, "system").is_some() {
            if number > 1 {
                return shape(format!("{at}\"system\" is only allowed on the first turn"));
            }
            system = optional_text(object, "system", &at)?;
        }
        let prompt = match field(object, "prompt") {
            Some(Value::String(s)) if is_blank(s) => {
                return empty_turn(format!("{at}empty prompt"))
            }
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return shape(format!(
                    "{at}\"prompt\" must be a string, found {}",
                    kind(other)
                ))
            }
            None => return missing_turn(format!("{at}missing \"prompt\"")),
        };
        let response = qianfan_response(field(object, "response"), &at)?;
        messages.push(Message {
            role: Role::User,
            content: prompt,
        });
        match response {
            Some(text) if number < n => messages.push(Message {
                role: Role::Assistant,
                content: text,
            }),
            None if number < n => {
                return missing_turn(format!(
                    "turn {number} of {n} has no response (only the last turn, the one answered, may leave it empty)"
                ))
            }
            last => reference = last,
        }
    }
    let mut item = Item {
        id: format!("line-{line}"),
        line,
        system,
        messages,
        vars: None,
        category: None,
        reference,
        meta: None,
    };
    // A Qianfan line has no room for `category`: the persona it asks for is its category, so rubric
    // rules can be scoped per character (e.g. "孙悟空 must not answer as 猪八戒").
    item.category = crate::inputs::persona::persona(&item);
    Ok(item)
}

/// `[["text"]]` (Qianfan; further candidates after the first are ranking data and ignored) or a plain
/// string (Qianfan's newer form). Empty or missing means no response.
fn qianfan_response(value: Option<&Value>, at: &str) -> LineResult<Option<String>> {
    let wrong = |found: &Value| {
        shape(format!(
            "{at}\"response\" must be [[\"…\"]] or a string, found {}",
            kind(found)
        ))
    };
    let text = match value {
        None => return Ok(None),
        Some(Value::String(s)) => s,
        Some(Value::Array(outer)) => match outer.first() {
            None => return Ok(None),
            Some(Value::Array(inner)) => match inner.first() {
                None => return Ok(None),
                Some(Value::String(s)) => s,
                Some(other) => return wrong(other),
            },
            Some(other) => return wrong(other),
        },
        Some(other) => return wrong(other),
    };
    Ok((!is_blank(text)).then(|| text.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path() -> &'static Path {
        Path::new("set.jsonl")
    }

    fn one(line: &str) -> Item {
        let items = parse(path(), line).unwrap_or_else(|e| panic!("{line} -> {e}"));
        assert_eq!(items.len(), 1);
        items.into_iter().next().unwrap()
    }

    fn err(text: &str) -> String {
        match parse(path(), text) {
            Ok(items) => panic!("expected an error for {text}, got {items:?}"),
            Err(e) => e.0,
        }
    }

    fn user(s: &str) -> Message {
        Message {
            role: Role::User,
            content: s.into(),
        }
    }

    fn assistant(s: &str) -> Message {
        Message {
            role: Role::Assistant,
            content: s.into(),
        }
    }

    #[test]
    fn prompt_shape() {
        let item = one(r#"{"id": "oe-001", "prompt": "Say hi."}"#);
        assert_eq!(item.id, "oe-001");
        assert_eq!(item.line, 1);
        assert_eq!(item.messages, vec![user("Say hi.")]);
        assert_eq!(item.last_prompt(), "Say hi.");
        assert_eq!(item.system, None);
        assert_eq!(item.reference, None);
        assert_eq!(item.vars, None);
    }

    #[test]
    fn optional_fields_are_kept() {
        let item = one(
            r#"{"id": "a", "prompt": "p", "category": "terse", "reference": "r", "meta": {"rounds": 2}}"#,
        );
        assert_eq!(item.category.as_deref(), Some("terse"));
        assert_eq!(item.reference.as_deref(), Some("r"));
        assert_eq!(item.meta, Some(json!({"rounds": 2})));
    }

    #[test]
    fn null_optional_fields_count_as_absent() {
        let item = one(r#"{"id": "a", "prompt": "p", "reference": null, "meta": null}"#);
        assert_eq!(item.reference, None);
        assert_eq!(item.meta, None);
    }

    #[test]
    fn chat_shape_with_system_field() {
        let item = one(
            r#"{"id": "c", "system": "Be brief.", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Bye?"}]}"#,
        );
        assert_eq!(item.system.as_deref(), Some("Be brief."));
        assert_eq!(
            item.messages,
            vec![user("Hi"), assistant("Hello"), user("Bye?")]
        );
        assert_eq!(item.last_prompt(), "Bye?");
    }

    #[test]
    fn system_message_moves_to_item_system() {
        let item = one(
            r#"{"id": "c", "messages": [{"role": "system", "content": "You are a tutor."}, {"role": "user", "content": "Hi"}]}"#,
        );
        assert_eq!(item.system.as_deref(), Some("You are a tutor."));
        assert_eq!(item.messages, vec![user("Hi")]);
    }

    #[test]
    fn qianfan_shape() {
        let item = one(
            r#"[{"prompt": "设定", "response": [["好的"]]}, {"prompt": "唐三藏:你回去罢!", "response": [["孙悟空:师父,你教我回那里去?"]]}, {"prompt": "唐三藏:我不要你做徒弟。", "response": [["孙悟空:只怕你西天路去不成。"]]}]"#,
        );
        assert_eq!(item.id, "line-1");
        assert_eq!(
            item.messages,
            vec![
                user("设定"),
                assistant("好的"),
                user("唐三藏:你回去罢!"),
                assistant("孙悟空:师父,你教我回那里去?"),
                user("唐三藏:我不要你做徒弟。"),
            ]
        );
        assert_eq!(
            item.reference.as_deref(),
            Some("孙悟空:只怕你西天路去不成。")
        );
    }

    #[test]
    fn qianfan_last_response_may_be_empty_or_missing() {
        for last in [
            r#"{"prompt": "q2", "response": [[""]]}"#,
            r#"{"prompt": "q2", "response": [[]]}"#,
            r#"{"prompt": "q2", "response": []}"#,
            r#"{"prompt": "q2"}"#,
        ] {
            let line = format!(r#"[{{"prompt": "q1", "response": [["a1"]]}}, {last}]"#);
            let item = one(&line);
            assert_eq!(item.reference, None, "{line}");
            assert_eq!(item.messages, vec![user("q1"), assistant("a1"), user("q2")]);
        }
    }

    #[test]
    fn qianfan_string_response_system_and_weight() {
        let item = one(
            r#"[{"system": "你是诗人", "prompt": "写诗", "response": "好的", "weight": 0}, {"prompt": "秋天", "response": "秋风起"}]"#,
        );
        assert_eq!(item.system.as_deref(), Some("你是诗人"));
        assert_eq!(
            item.messages,
            vec![user("写诗"), assistant("好的"), user("秋天")]
        );
        assert_eq!(item.reference.as_deref(), Some("秋风起"));
    }

    #[test]
    fn prompt_completion_shape() {
        let item = one(r#"{"prompt": "Translate: 你好 ->", "completion": " Hello"}"#);
        assert_eq!(item.id, "line-1");
        assert_eq!(item.messages, vec![user("Translate: 你好 ->")]);
        assert_eq!(item.reference.as_deref(), Some(" Hello"));
    }

    #[test]
    fn vars_shape() {
        let item = one(
            r#"{"id": "oe-002", "vars": {"template": "turn", "topic": "篮球", "history": ["Hi", "Yes"]}, "category": "terse"}"#,
        );
        assert!(item.messages.is_empty());
        let vars = item.vars.expect("vars");
        assert_eq!(vars["topic"], json!("篮球"));
        assert_eq!(vars["history"], json!(["Hi", "Yes"]));
        assert_eq!(
            vars.keys().collect::<Vec<_>>(),
            ["template", "topic", "history"],
            "key order is kept"
        );
        assert_eq!(item.category.as_deref(), Some("terse"));
    }

    #[test]
    fn mixed_file_blank_lines_and_default_ids() {
        let text = "\n{\"prompt\": \"a\"}\n   \n[{\"prompt\": \"b\"}]\r\n{\"id\": \"x\", \"vars\": {\"t\": 1}}\n";
        let items = parse(path(), text).unwrap();
        let ids: Vec<_> = items.iter().map(|i| (i.id.as_str(), i.line)).collect();
        assert_eq!(ids, [("line-2", 2), ("line-4", 4), ("x", 5)]);
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        let items = parse(path(), "\u{feff}{\"prompt\": \"a\"}\n").unwrap();
        assert_eq!(items[0].last_prompt(), "a");
    }

    #[test]
    fn invalid_json_names_line_and_character_column() {
        let e = err("{\"prompt\": \"a\"}\n{\"prompt\": \"中文\" x}\n");
        assert_eq!(
            e,
            "set.jsonl:2: invalid JSON at column 17: expected `,` or `}`"
        );
    }

    #[test]
    fn truncated_json_is_invalid() {
        let e = err(r#"{"prompt": "a""#);
        assert!(
            e.starts_with("set.jsonl:1: invalid JSON at column 14: EOF while parsing"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_id_names_both_lines() {
        let e = err("{\"id\": \"a\", \"prompt\": \"x\"}\n\n{\"id\": \"a\", \"prompt\": \"y\"}\n");
        assert_eq!(e, "set.jsonl:3: duplicate id \"a\" (first used on line 1)");
    }

    #[test]
    fn explicit_id_may_collide_with_a_default_id() {
        let e = err("{\"prompt\": \"x\"}\n{\"id\": \"line-1\", \"prompt\": \"y\"}\n");
        assert_eq!(
            e,
            "set.jsonl:2: duplicate id \"line-1\" (first used on line 1)"
        );
    }

    #[test]
    fn empty_prompt() {
        assert_eq!(
            err(r#"{"id": "a", "prompt": "  "}"#),
            "set.jsonl:1: empty prompt"
        );
    }

    #[test]
    fn empty_chat_turns() {
        assert_eq!(
            err(r#"{"messages": [{"role": "user", "content": ""}]}"#),
            "set.jsonl:1: messages[0]: empty user turn"
        );
        assert_eq!(
            err(
                r#"{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": " "}, {"role": "user", "content": "q"}]}"#
            ),
            "set.jsonl:1: messages[1]: empty assistant turn"
        );
        assert_eq!(
            err(r#"{"messages": []}"#),
            "set.jsonl:1: \"messages\" has no user turn"
        );
    }

    #[test]
    fn roles_out_of_order() {
        assert_eq!(
            err(r#"{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}"#),
            "set.jsonl:1: messages[1]: roles out of order: expected assistant here, found user (turns alternate user/assistant, starting with user)"
        );
        assert_eq!(
            err(r#"{"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}]}"#),
            "set.jsonl:1: messages[0]: roles out of order: expected user here, found assistant (turns alternate user/assistant, starting with user)"
        );
    }

    #[test]
    fn chat_must_end_with_user() {
        assert_eq!(
            err(r#"{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}"#),
            "set.jsonl:1: messages[1]: the last message must be the user turn to answer, found assistant (put an ideal answer in \"reference\")"
        );
    }

    #[test]
    fn unknown_role_and_late_system() {
        assert_eq!(
            err(r#"{"messages": [{"role": "bot", "content": "a"}]}"#),
            "set.jsonl:1: messages[0]: unknown role \"bot\" (expected \"user\" or \"assistant\"; \"system\" only first)"
        );
        assert_eq!(
            err(
                r#"{"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "b"}]}"#
            ),
            "set.jsonl:1: messages[1]: a \"system\" message is only allowed as the first message"
        );
    }

    #[test]
    fn system_given_twice() {
        assert_eq!(
            err(
                r#"{"system": "s", "messages": [{"role": "system", "content": "t"}, {"role": "user", "content": "a"}]}"#
            ),
            "set.jsonl:1: system text given twice: in \"system\" and as messages[0]; keep one"
        );
    }

    #[test]
    fn qianfan_middle_turn_without_response() {
        let line = r#"[{"prompt": "q1", "response": [["a1"]]}, {"prompt": "q2", "response": [[""]]}, {"prompt": "q3", "response": [["a3"]]}]"#;
        let e = err(&format!("{{\"prompt\": \"x\"}}\n{line}\n"));
        assert_eq!(
            e,
            "set.jsonl:2: turn 2 of 3 has no response (only the last turn, the one answered, may leave it empty)"
        );
        let missing = r#"[{"prompt": "q1"}, {"prompt": "q2"}]"#;
        assert!(err(missing).starts_with("set.jsonl:1: turn 1 of 2 has no response"));
    }

    #[test]
    fn qianfan_empty_prompt_and_empty_conversation() {
        assert_eq!(
            err(
                r#"[{"prompt": "q1", "response": [["a1"]]}, {"prompt": "", "response": [["a2"]]}]"#
            ),
            "set.jsonl:1: turn 2 of 2: empty prompt"
        );
        assert!(err("[]").starts_with("set.jsonl:1: empty conversation"));
        assert_eq!(
            err(r#"[{"response": [["a"]]}]"#),
            "set.jsonl:1: turn 1 of 1: missing \"prompt\""
        );
    }

    #[test]
    fn qianfan_wrong_types_and_fields() {
        assert_eq!(
            err(r#"[{"prompt": "q", "response": 3}]"#),
            "set.jsonl:1: turn 1 of 1: \"response\" must be [[\"…\"]] or a string, found a number"
        );
        assert_eq!(
            err(r#"[{"prompt": "q", "response": [[1]]}]"#),
            "set.jsonl:1: turn 1 of 1: \"response\" must be [[\"…\"]] or a string, found a number"
        );
        assert_eq!(
            err(r#"["q"]"#),
            "set.jsonl:1: turn 1 of 1: expected an object with \"prompt\" and \"response\", found a string"
        );
        assert!(
            err(r#"[{"prompt": "q", "respones": [["a"]]}]"#).starts_with(
                "set.jsonl:1: turn 1 of 1: unknown field \"respones\" (did you mean \"response\"?)"
            )
        );
        assert_eq!(
            err(r#"[{"prompt": "q", "response": "a"}, {"system": "s", "prompt": "q"}]"#),
            "set.jsonl:1: turn 2 of 2: \"system\" is only allowed on the first turn"
        );
    }

    #[test]
    fn unknown_top_level_field_is_named() {
        let e = err(r#"{"id": "a", "promt": "hi"}"#);
        assert!(
            e.starts_with(
                "set.jsonl:1: unknown field \"promt\" (did you mean \"prompt\"?); allowed: \"id\""
            ),
            "{e}"
        );
        let e = err(r#"{"id": "a", "prompt": "hi", "difficulty": 3}"#);
        assert!(
            e.starts_with("set.jsonl:1: unknown field \"difficulty\"; allowed:"),
            "{e}"
        );
    }

    #[test]
    fn unknown_message_field_is_named() {
        let e = err(r#"{"messages": [{"role": "user", "text": "hi"}]}"#);
        assert!(
            e.starts_with("set.jsonl:1: messages[0]: unknown field \"text\""),
            "{e}"
        );
    }

    #[test]
    fn wrong_types_are_named() {
        let cases = [
            (
                r#"{"id": 7, "prompt": "a"}"#,
                "\"id\" must be a string, found a number",
            ),
            (
                r#"{"prompt": ["a"]}"#,
                "\"prompt\" must be a string, found an array",
            ),
            (
                r#"{"prompt": "a", "category": 1}"#,
                "\"category\" must be a string, found a number",
            ),
            (
                r#"{"prompt": "a", "reference": {}}"#,
                "\"reference\" must be a string, found an object",
            ),
            (
                r#"{"system": 1, "messages": []}"#,
                "\"system\" must be a string, found a number",
            ),
            (
                r#"{"messages": {"role": "user"}}"#,
                "\"messages\" must be an array of {\"role\", \"content\"} objects, found an object",
            ),
            (
                r#"{"messages": ["hi"]}"#,
                "messages[0]: expected an object with \"role\" and \"content\", found a string",
            ),
            (
                r#"{"messages": [{"role": "user", "content": ["hi"]}]}"#,
                "messages[0]: \"content\" must be a string, found an array",
            ),
            (
                r#"{"messages": [{"role": 1, "content": "hi"}]}"#,
                "messages[0]: \"role\" must be a string, found a number",
            ),
            (
                r#"{"messages": [{"content": "hi"}]}"#,
                "messages[0]: missing \"role\"",
            ),
            (
                r#"{"vars": ["a"]}"#,
                "\"vars\" must be an object of template variables, found an array",
            ),
            (r#"{"vars": {}}"#, "\"vars\" is empty"),
            (
                "42",
                "expected a JSON object or a Qianfan multi-turn array, found a number",
            ),
            (
                r#"{"prompt": "a", "completion": 3}"#,
                "\"completion\" must be a string, found a number",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(err(line), format!("set.jsonl:1: {want}"), "{line}");
        }
    }

    #[test]
    fn shapes_cannot_be_combined_or_missing() {
        assert_eq!(
            err(r#"{"prompt": "a", "vars": {"t": 1}}"#),
            "set.jsonl:1: \"prompt\" and \"vars\" cannot be combined: an item is either a prompt, a chat or template variables"
        );
        assert_eq!(
            err(r#"{"id": "a", "category": "normal"}"#),
            "set.jsonl:1: nothing to ask: give \"prompt\", \"messages\" or \"vars\" (SPEC §3 lists the shapes)"
        );
        assert_eq!(
            err(r#"{"vars": {"t": 1}, "completion": "c"}"#),
            "set.jsonl:1: \"completion\" belongs with \"prompt\" (the prompt/completion form)"
        );
        assert_eq!(
            err(r#"{"prompt": "a", "completion": "c", "reference": "r"}"#),
            "set.jsonl:1: both \"completion\" and \"reference\" give the reference answer; keep one"
        );
        assert_eq!(
            err(r#"{"id": "", "prompt": "a"}"#),
            "set.jsonl:1: \"id\" is empty (leave the field out instead)"
        );
    }

    #[test]
    fn empty_file_is_an_error() {
        assert_eq!(err("\n  \n"), "set.jsonl: the eval set has no items");
    }

    #[test]
    fn lenient_parse_reports_every_bad_line_and_keeps_the_rest() {
        let text = [
            r#"{"id": "a", "prompt": "ok"}"#,
            r#"{"id": "b", "prompt": ""}"#,
            "not json",
            r#"{"id": "a", "prompt": "again"}"#,
            r#"[{"prompt": "q1"}, {"prompt": "q2"}]"#,
            r#"{"id": "c", "prompt": "fine"}"#,
        ]
        .join("\n");
        let parsed = parse_lenient(&text);
        let ids: Vec<_> = parsed.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["a", "c"]);
        let errors: Vec<_> = parsed.errors.iter().map(|e| (e.line, e.kind)).collect();
        assert_eq!(
            errors,
            [
                (2, LineErrorKind::EmptyTurn),
                (3, LineErrorKind::InvalidJson),
                (4, LineErrorKind::DuplicateId),
                (5, LineErrorKind::MissingTurn),
            ]
        );
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("promt", "prompt"), 1);
        assert_eq!(edit_distance("prompt", "prompt"), 0);
        assert_eq!(edit_distance("", "id"), 2);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
