//! JSON schemas of the judge's replies, for endpoints that constrain their output to one
//! (`structured_replies = true` on the judge model): the same shapes `prompt` asks for in words and
//! `parse` reads leniently, so a structured reply always parses and an unstructured one still does.

use serde_json::{json, Map, Value};

use crate::inputs::rubric::Dimension;
use crate::provider::ReplySchema;

/// A grading reply: per dimension id, an integer score within its scale (or null where the
/// dimension does not apply) and a justification.
pub fn grade_schema(dims: &[&Dimension]) -> ReplySchema {
    let mut props = Map::new();
    for d in dims {
        props.insert(
            d.id.clone(),
            json!({
                "type": "object",
                "properties": {
                    "score": {"type": ["integer", "null"], "minimum": d.scale.0, "maximum": d.scale.1},
                    "justification": {"type": "string"},
                },
                "required": ["score", "justification"],
                "additionalProperties": false,
            }),
        );
    }
    let required: Vec<&str> = dims.iter().map(|d| d.id.as_str()).collect();
    ReplySchema {
        name: "evalrun_grade",
        schema: json!({
            "type": "object",
            "properties": Value::Object(props),
            "required": required,
            "additionalProperties": false,
        }),
    }
}

/// A pairwise reply: the winner, "A", "B" or "tie", and a justification.
pub fn pair_schema() -> ReplySchema {
    ReplySchema {
        name: "evalrun_pair",
        schema: json!({
            "type": "object",
            "properties": {
                "winner": {"type": "string", "enum": ["A", "B", "tie"]},
                "justification": {"type": "string"},
            },
            "required": ["winner", "justification"],
            "additionalProperties": false,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::judge::parse::{parse_grade, parse_pair};
    use std::collections::BTreeMap;

    fn dim(id: &str) -> Dimension {
        Dimension {
            id: id.into(),
            name: id.into(),
            description: None,
            scale: (1, 3),
            levels: BTreeMap::new(),
            judged: true,
            primary: false,
            margin: None,
        }
    }

    #[test]
    fn a_reply_of_the_grade_schema_parses() {
        let (a, b) = (dim("reply"), dim("analysis"));
        let s = grade_schema(&[&a, &b]).schema;
        assert_eq!(s["required"], json!(["reply", "analysis"]));
        assert_eq!(
            s["properties"]["reply"]["properties"]["score"]["maximum"],
            3
        );
        // A reply in exactly this shape is what a constrained decoder emits.
        let reply = r#"{"reply": {"score": 2, "justification": "ok"}, "analysis": {"score": null, "justification": "n/a"}}"#;
        let parsed = parse_grade(reply, &[&a, &b]);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert_eq!(parsed.dims.len(), 2);
    }

    #[test]
    fn a_reply_of_the_pair_schema_parses() {
        let s = pair_schema().schema;
        for w in s["properties"]["winner"]["enum"].as_array().unwrap() {
            let reply = format!(r#"{{"winner": {w}, "justification": "x"}}"#);
            assert!(parse_pair(&reply).is_ok(), "{reply}");
        }
    }
}
