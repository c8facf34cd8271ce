//! Qianfan's multi-turn SFT shape: one line is one conversation.

use serde_json::Value;

use super::fields::{check_fields, field, is_blank, kind, optional_text, QIANFAN_FIELDS};
use super::{empty_turn, missing_turn, shape, LineResult};
use crate::inputs::item::{Item, Message, Role};

/// Qianfan's multi-turn SFT form: `[{"prompt", "response": [["…"]]}, …]`, `system` allowed on the first
/// pair, `weight` (a training-only field) accepted and ignored.
pub(super) fn parse_qianfan(turns: &[Value], line: usize) -> LineResult<Item> {
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
