//! Field-level helpers shared by the object and Qianfan shapes: known-field checks with typo hints,
//! optional fields, and the names of JSON kinds for messages.

use serde_json::{Map, Value};

use super::{shape, LineResult};

pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

pub(super) const OBJECT_FIELDS: &[&str] = &[
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
pub(super) const MESSAGE_FIELDS: &[&str] = &["role", "content", "weight"];
pub(super) const QIANFAN_FIELDS: &[&str] = &["prompt", "response", "system", "weight"];

/// Reject fields we do not know, suggesting the field a typo most likely meant.
pub(super) fn check_fields(
    object: &Map<String, Value>,
    known: &[&str],
    context: &str,
) -> LineResult<()> {
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

pub(super) fn edit_distance(a: &str, b: &str) -> usize {
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
pub(super) fn field<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

/// An optional string field that, when given, must not be empty.
pub(super) fn optional_text(
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
