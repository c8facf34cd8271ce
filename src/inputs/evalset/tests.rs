//! Unit tests of the eval-set loader.

use super::*;
use serde_json::json;

use super::fields::edit_distance;

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
        "set.jsonl:1: messages[1]: roles out of order: expected assistant here, found user (turns alternate user/assistant)"
    );
    assert_eq!(
        err(r#"{"messages": [{"role": "assistant", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]}"#),
        "set.jsonl:1: messages[1]: roles out of order: expected user here, found assistant (turns alternate user/assistant)"
    );
}

/// Seed 000's teacher speaks first: a chat may open with the assistant's turn, and the item keeps its
/// line so a provider that refuses such a conversation (Qianfan v1) can name it.
#[test]
fn a_chat_may_open_with_an_assistant_turn() {
    let text = concat!(
        r#"{"id": "a", "prompt": "hi"}"#,
        "\n",
        r#"{"id": "t", "system": "You are a tutor.", "messages": [{"role": "assistant", "content": "Hello! What did you do today?"}, {"role": "user", "content": "I go to park."}]}"#,
    );
    let items = parse(path(), text).unwrap();
    let item = &items[1];
    assert_eq!(item.line, 2);
    assert!(item.opens_with_assistant());
    assert!(!items[0].opens_with_assistant());
    assert_eq!(
        item.messages,
        vec![
            assistant("Hello! What did you do today?"),
            user("I go to park.")
        ]
    );
    assert_eq!(item.last_prompt(), "I go to park.");
    assert_eq!(item.system.as_deref(), Some("You are a tutor."));
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
        err(r#"[{"prompt": "q1", "response": [["a1"]]}, {"prompt": "", "response": [["a2"]]}]"#),
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
