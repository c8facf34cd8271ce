//! The object shapes: `{"prompt"}`, `{"messages"}` (OpenAI chat), `{"prompt", "completion"}` and `{"vars"}`.

use serde_json::{Map, Value};

use super::fields::{
    check_fields, field, is_blank, kind, optional_text, MESSAGE_FIELDS, OBJECT_FIELDS,
};
use super::{empty_turn, missing_turn, shape, LineResult};
use crate::inputs::item::{Item, Message, Role};

pub(super) fn parse_object(object: &Map<String, Value>, line: usize) -> LineResult<Item> {
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
        // The first turn may be the assistant's (a tutor who speaks first, as the OpenAI API accepts);
        // from there on the roles alternate.
        if let Some(last) = chat.last() {
            let expected = match last.role {
                Role::User => Role::Assistant,
                Role::Assistant => Role::User,
            };
            if role != expected {
                return missing_turn(format!(
                    "{at}roles out of order: expected {} here, found {} (turns alternate user/assistant)",
                    expected.as_str(),
                    role.as_str()
                ));
            }
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
