//! Finding the JSON object in an answer, strictly or leniently, and reading a field of it as text.
//!
//! Models wrap JSON in ```json fences, put prose around it, or (seed 000, problem 1) write several
//! objects separated by invented `[学生回复]` turns. `json_strict` accepts none of that;
//! `json_extractable` and every field-based check use the first object that can be recovered.

use serde_json::{Map, Value};

/// How the object was recovered from the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// The whole output, trimmed, is exactly one JSON object.
    Strict,
    /// The content of a ``` fence (any info string, e.g. `json`) is one JSON object.
    Fenced,
    /// The first balanced object amid other text; `objects` counts the top-level objects found.
    AmidProse {
        /// Top-level objects found in the text.
        objects: usize,
    },
}

impl Found {
    /// A phrase describing how the JSON was found.
    pub fn describe(self) -> String {
        match self {
            Found::Strict => "the whole output is one JSON object".into(),
            Found::Fenced => "the JSON object is inside a ``` fence".into(),
            Found::AmidProse { objects: 1 } => "the JSON object has other text around it".into(),
            Found::AmidProse { objects } => {
                format!("the output holds {objects} JSON objects and other text; the first is used")
            }
        }
    }
}

/// A JSON object recovered from an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    /// The JSON object found.
    pub object: Map<String, Value>,
    /// How it was found in the answer.
    pub how: Found,
}

/// Parse the trimmed output as exactly one JSON object. The error says what the output is instead.
pub fn strict_object(output: &str) -> Result<Map<String, Value>, String> {
    let trimmed = output.trim();
    if trimmed.is_empty() {
        return Err("the output is empty".into());
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(format!(
            "the output is a JSON {}, not an object",
            kind(&other)
        )),
        Err(e) => Err(match extract_object(output) {
            Some(x) => x.how.describe(),
            None => format!("no JSON object ({e})"),
        }),
    }
}

/// Recover the first JSON object: the strict form, else a ``` fence whose content is an object, else the
/// first `{` from which a whole object parses (`serde_json`'s streaming deserializer stops at the end of
/// that object, so trailing prose or further objects do not matter).
pub fn extract_object(output: &str) -> Option<Extracted> {
    if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(output.trim()) {
        return Some(Extracted {
            object,
            how: Found::Strict,
        });
    }
    if let Some(object) = fenced_object(output) {
        return Some(Extracted {
            object,
            how: Found::Fenced,
        });
    }
    let (object, end) = first_object_from(output, 0)?;
    let mut objects = 1;
    let mut at = end;
    while let Some((_, next_end)) = first_object_from(output, at) {
        objects += 1;
        at = next_end;
    }
    Some(Extracted {
        object,
        how: Found::AmidProse { objects },
    })
}

/// The first ``` fence whose content parses as one JSON object.
fn fenced_object(output: &str) -> Option<Map<String, Value>> {
    let mut rest = output;
    while let Some(open) = rest.find("```") {
        let after_open = &rest[open + 3..];
        // The info string (`json`, `JSON`, nothing) runs to the end of the opening line.
        let body_start = after_open.find('\n').map_or(after_open.len(), |i| i + 1);
        let body = &after_open[body_start..];
        let close = body.find("```")?;
        if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(body[..close].trim()) {
            return Some(m);
        }
        rest = &body[close + 3..];
    }
    None
}

/// The first object that parses starting at a `{` at or after byte `from`, and the byte where it ends.
fn first_object_from(s: &str, from: usize) -> Option<(Map<String, Value>, usize)> {
    for (i, _) in s[from..].match_indices('{') {
        let start = from + i;
        let mut stream = serde_json::Deserializer::from_str(&s[start..]).into_iter::<Value>();
        if let Some(Ok(Value::Object(m))) = stream.next() {
            return Some((m, start + stream.byte_offset()));
        }
    }
    None
}

/// A JSON value's kind in words, for details.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// The text of a field, as labelled parts: a string is one part (`Reply`); a list of strings is one
/// part per element (`Suggestion[0]`, …) so a detail can name the element at fault. Anything else is
/// an error naming what was found.
pub fn field_parts(
    object: &Map<String, Value>,
    field: &str,
) -> Result<Vec<(String, String)>, String> {
    match object.get(field) {
        None => Err(format!("no field `{field}` in the JSON object")),
        Some(Value::String(s)) => Ok(vec![(field.to_string(), s.clone())]),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok((format!("{field}[{i}]"), s.clone())),
                other => Err(format!("{field}[{i}] is a {}, not text", kind(other))),
            })
            .collect(),
        Some(other) => Err(format!("{field} is a {}, not text", kind(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBJ: &str = r#"{"Reply": "Hi!", "Suggestion": ["a", "b", "c"]}"#;

    #[test]
    fn strict_accepts_one_object_with_surrounding_whitespace() {
        let m = strict_object(&format!("\n  {OBJ}\n")).unwrap();
        assert_eq!(m["Reply"], "Hi!");
        assert_eq!(extract_object(OBJ).unwrap().how, Found::Strict);
    }

    #[test]
    fn strict_rejects_fence_but_extraction_recovers_it() {
        let fenced = format!("```json\n{OBJ}\n```");
        let err = strict_object(&fenced).unwrap_err();
        assert!(err.contains("fence"), "{err}");
        let x = extract_object(&fenced).unwrap();
        assert_eq!(x.how, Found::Fenced);
        assert_eq!(x.object["Suggestion"][2], "c");
        // A fence without an info string works too.
        assert_eq!(
            extract_object(&format!("```\n{OBJ}\n```")).unwrap().how,
            Found::Fenced
        );
    }

    #[test]
    fn prose_before_and_after_is_not_strict_but_extractable() {
        let wrapped = format!("Sure! Here it is:\n{OBJ}\nHope this helps.");
        let err = strict_object(&wrapped).unwrap_err();
        assert!(err.contains("other text around"), "{err}");
        let x = extract_object(&wrapped).unwrap();
        assert_eq!(x.how, Found::AmidProse { objects: 1 });
        assert_eq!(x.object["Reply"], "Hi!");
    }

    #[test]
    fn braces_in_prose_before_the_object_are_skipped() {
        let s = format!("Use {{curly}} braces: {OBJ}");
        assert_eq!(extract_object(&s).unwrap().object["Reply"], "Hi!");
    }

    #[test]
    fn seed_continuation_with_several_objects_takes_the_first() {
        let s = "Hello everyone!\n\n{\"Reply\": \"one\", \"Suggestion\": []}\n\n[学生回复]\nI agree.\n\n\
                 {\"Reply\": \"two\", \"Suggestion\": []}\n\n[学生回复]\nOK.\n\n{\"Reply\": \"three\"}";
        let x = extract_object(s).unwrap();
        assert_eq!(x.how, Found::AmidProse { objects: 3 });
        assert_eq!(x.object["Reply"], "one");
        let err = strict_object(s).unwrap_err();
        assert!(err.contains("3 JSON objects"), "{err}");
        // Two bare objects back to back are not strict either.
        assert!(strict_object(&format!("{OBJ}\n{OBJ}")).is_err());
    }

    #[test]
    fn nothing_recoverable() {
        // The seed's own SFT example response lacks its braces.
        let s = r#""Reply": "What did you enjoy?", "Suggestion": ["a"]"#;
        assert!(extract_object(s).is_none());
        let err = strict_object(s).unwrap_err();
        assert!(err.starts_with("no JSON object"), "{err}");
        assert_eq!(strict_object("  ").unwrap_err(), "the output is empty");
        assert_eq!(
            strict_object("[1, 2]").unwrap_err(),
            "the output is a JSON list, not an object"
        );
        assert!(extract_object("{\"a\": ").is_none());
    }

    #[test]
    fn field_parts_labels_list_elements_and_rejects_non_text() {
        let m = strict_object(r#"{"R": "x", "S": ["a", "b"], "N": 3, "L": ["a", 1]}"#).unwrap();
        assert_eq!(
            field_parts(&m, "R").unwrap(),
            vec![("R".to_string(), "x".to_string())]
        );
        let s = field_parts(&m, "S").unwrap();
        assert_eq!(s[1], ("S[1]".to_string(), "b".to_string()));
        assert_eq!(field_parts(&m, "N").unwrap_err(), "N is a number, not text");
        assert_eq!(
            field_parts(&m, "L").unwrap_err(),
            "L[1] is a number, not text"
        );
        assert_eq!(
            field_parts(&m, "X").unwrap_err(),
            "no field `X` in the JSON object"
        );
    }
}
