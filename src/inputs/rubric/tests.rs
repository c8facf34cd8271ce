//! Unit tests of the rubric loader and template rendering.

use std::path::Path;

use super::*;
use crate::inputs::item::{Item, Message, Role};

const MINIMAL: &str = r#"
id = "t"
name = "Test"

[[dimensions]]
id = "quality"
name = "Quality"
scale = [1, 3]
levels = { "1" = "bad", "2" = "ok", "3" = "good" }

[[rules]]
id = "short"
check = "max_words"
field = "Reply"
max = 30

[[caps]]
dimension = "quality"
max = 2
if_any_fails = ["short"]

[templates]
default = "Topic: {topic}\n{history}\n{ {not a placeholder} }"

[template_lists.history]
prefixes = ["teacher: ", "student: "]
"#;

fn parse_ok(text: &str) -> Rubric {
    parse(Path::new("r.toml"), text).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(text: &str) -> String {
    parse(Path::new("r.toml"), text).unwrap_err().to_string()
}

fn item(vars: serde_json::Value) -> Item {
    Item {
        id: "x".into(),
        line: 1,
        system: None,
        messages: vec![],
        vars: vars.as_object().cloned(),
        category: None,
        reference: None,
        meta: None,
    }
}

#[test]
fn minimal_rubric_loads() {
    let r = parse_ok(MINIMAL);
    assert_eq!(r.judge_mode, JudgeMode::Joint);
    assert_eq!(r.dimensions[0].scale, (1, 3));
    assert_eq!(r.dimensions[0].levels[&2], "ok");
    assert!(r.dimensions[0].judged);
    assert!(matches!(r.rules[0].check, Check::MaxWords { max: 30, .. }));
    assert_eq!(r.caps_for("quality").count(), 1);
    assert_eq!(r.template_lists["history"].separator, "\n");
}

#[test]
fn unknown_key_keeps_tomls_line_and_key() {
    let e = parse_err(&MINIMAL.replace("max = 30", "max = 30\nmaxx = 2"));
    assert!(e.starts_with("r.toml: TOML parse error at line"), "{e}");
    assert!(e.contains("unknown field `maxx`"), "{e}");
    let e = parse_err(&MINIMAL.replace("check = \"max_words\"", "check = \"max_word\""));
    assert!(e.contains("unknown variant `max_word`"), "{e}");
}

#[test]
fn validation_names_file_line_and_id() {
    let text = format!("{MINIMAL}\n[[rules]]\nid = \"short\"\ncheck = \"json_strict\"\n");
    let e = parse_err(&text);
    let dup_line = text[..text.rfind("id = \"short\"").unwrap()]
        .matches('\n')
        .count()
        + 1;
    assert_eq!(
        e,
        format!("r.toml:{dup_line}: rule `short` (json_strict): duplicate rule id")
    );

    let e = parse_err(&MINIMAL.replace("if_any_fails = [\"short\"]", "if_any_fails = [\"long\"]"));
    assert!(
        e.ends_with("cap on `quality`: if_any_fails: no rule `long`"),
        "{e}"
    );
    let e = parse_err(&MINIMAL.replace("dimension = \"quality\"", "dimension = \"qualty\""));
    assert!(
        e.ends_with("cap on `qualty`: no such dimension (dimensions: quality)"),
        "{e}"
    );
    let e = parse_err(&MINIMAL.replace("max = 2\n", "max = 5\n"));
    assert!(e.ends_with("max 5 is outside the scale [1, 3]"), "{e}");
}

#[test]
fn scales_and_levels_are_checked() {
    let e = parse_err(&MINIMAL.replace("scale = [1, 3]", "scale = [3, 1]"));
    assert!(
        e.ends_with("dimension `quality`: scale [3, 1] must have min < max"),
        "{e}"
    );
    let e = parse_err(&MINIMAL.replace(", \"3\" = \"good\"", ""));
    assert!(
        e.ends_with("no text for level 3 (every level of the scale needs one)"),
        "{e}"
    );
    let e = parse_err(&MINIMAL.replace("\"3\" = \"good\"", "\"4\" = \"good\""));
    assert!(e.ends_with("level 4 is outside the scale [1, 3]"), "{e}");
    let e = parse_err(&MINIMAL.replace("\"3\" = \"good\"", "\"three\" = \"good\""));
    assert!(e.ends_with("levels key \"three\" is not an integer"), "{e}");
    let dup = MINIMAL.replace("[[rules]]", "[[dimensions]]\nid = \"quality\"\nname = \"Q\"\nscale = [0, 1]\nlevels = { \"0\" = \"no\", \"1\" = \"yes\" }\n\n[[rules]]");
    assert!(parse_err(&dup).ends_with("dimension `quality`: duplicate dimension id"));
}

#[test]
fn rule_keys_must_fit_the_check() {
    let e = parse_err(&MINIMAL.replace("max = 30", "max = 30\npattern = \"x\""));
    assert!(e.ends_with("rule `short` (max_words): key `pattern` does not apply to this check (it takes: field, max)"), "{e}");
    let e = parse_err(&MINIMAL.replace("max = 30\n", ""));
    assert!(e.ends_with("rule `short` (max_words): needs `max`"), "{e}");
    let bad_re = "[[rules]]\nid = \"r\"\ncheck = \"regex\"\npattern = \"(unclosed\"\n";
    let e = parse_err(&format!("{MINIMAL}\n{bad_re}"));
    assert!(
        e.contains("rule `r` (regex): pattern does not compile"),
        "{e}"
    );
    let bad_tpl = "[[rules]]\nid = \"r\"\ncheck = \"json_strict\"\ntemplates = [\"turn\"]\n";
    let e = parse_err(&format!("{MINIMAL}\n{bad_tpl}"));
    assert!(
        e.ends_with("templates: no template `turn` in [templates]"),
        "{e}"
    );
    let both = "[[rules]]\nid = \"n\"\ncheck = \"array_len\"\nfield = \"S\"\nlen = 3\nmax = 4\n";
    assert!(
        parse_err(&format!("{MINIMAL}\n{both}")).ends_with("give `len` or `min`/`max`, not both")
    );
}

#[test]
fn render_fills_placeholders_and_alternates_list_prefixes() {
    let r = parse_ok(MINIMAL);
    let mut it = item(serde_json::json!({"topic": "篮球", "history": ["Hi!", "Hello.", "Ready?"]}));
    r.render(&mut it).unwrap();
    assert_eq!(it.messages.len(), 1);
    assert_eq!(it.messages[0].role, Role::User);
    assert_eq!(
        it.messages[0].content,
        "Topic: 篮球\nteacher: Hi!\nstudent: Hello.\nteacher: Ready?\n{ {not a placeholder} }"
    );
}

#[test]
fn render_errors_name_template_and_variables() {
    let r = parse_ok(MINIMAL);
    let mut it = item(serde_json::json!({"template": "turn"}));
    assert_eq!(
        r.render(&mut it).unwrap_err().to_string(),
        "unknown template `turn` (rubric `t` has: default)"
    );
    let mut it = item(serde_json::json!({}));
    assert_eq!(
        r.render(&mut it).unwrap_err().to_string(),
        "template `default` needs vars `topic`, `history` (missing)"
    );
    let mut it = item(serde_json::json!({"topic": {"a": 1}, "history": [null, "b"]}));
    let e = r.render(&mut it).unwrap_err();
    assert_eq!(
        e.to_string(),
        "variable `topic` is {\"a\":1}; only text, numbers, booleans and lists render; \
         variable `history`[0] is null; list elements must be text"
    );
    assert!(it.messages.is_empty());
}

#[test]
fn list_without_rendering_rule_is_an_error_and_plain_items_are_untouched() {
    let r = parse_ok(&MINIMAL.replace(
        "[template_lists.history]\nprefixes = [\"teacher: \", \"student: \"]\n",
        "",
    ));
    let mut it = item(serde_json::json!({"topic": "t", "history": ["a"]}));
    let e = r.render(&mut it).unwrap_err();
    assert_eq!(
        e,
        RenderError::Variables(vec![VariableError::ListWithoutRendering {
            var: "history".into()
        }])
    );
    assert!(e.to_string().contains("no [template_lists.history]"), "{e}");
    let mut plain = item(serde_json::Value::Null);
    plain.messages = vec![Message {
        role: Role::User,
        content: "hi".into(),
    }];
    r.render(&mut plain).unwrap();
    assert_eq!(plain.messages[0].content, "hi");
}

#[test]
fn rule_filters_by_category_and_template() {
    let text = format!("{MINIMAL}\n[[rules]]\nid = \"c\"\ncheck = \"json_strict\"\ncategories = [\"chinese\"]\ntemplates = [\"default\"]\n");
    let r = parse_ok(&text);
    let rule = &r.rules[1];
    let mut it = item(serde_json::json!({"topic": "t"}));
    assert!(!rule.applies_to(&it));
    it.category = Some("chinese".into());
    assert!(rule.applies_to(&it));
    it.vars = Some(
        serde_json::json!({"template": "other"})
            .as_object()
            .cloned()
            .unwrap(),
    );
    assert!(!rule.applies_to(&it));
    it.vars = None;
    assert!(!rule.applies_to(&it));
    assert!(r.rules[0].applies_to(&it));
}

#[test]
fn target_shares_are_normalised() {
    let r = parse_ok(&format!("{MINIMAL}\n[target_categories]\nnormal = 0.55\nterse = 0.40\nchinese = 0.05\noff_topic = 0.05\nmisspelled = 0.05\nungrammatical = 0.05\n"));
    let s = r.target_shares().unwrap();
    assert!((s.values().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!((s["normal"] - 0.55 / 1.15).abs() < 1e-12);
    let e = parse_err(&format!("{MINIMAL}\n[target_categories]\nnormal = -1\n"));
    assert!(e.contains("weights must be 0 or more"), "{e}");
}

#[test]
fn primary_and_margin_are_read_and_checked() {
    let r = parse_ok(MINIMAL);
    assert!(!r.dimensions[0].primary);
    assert_eq!(r.dimensions[0].margin, None);

    let r = parse_ok(&MINIMAL.replace(
        "scale = [1, 3]",
        "scale = [1, 3]\nprimary = true\nmargin = 0.25",
    ));
    assert!(r.dimensions[0].primary);
    assert_eq!(r.dimensions[0].margin, Some(0.25));

    let line = MINIMAL[..MINIMAL.find("id = \"quality\"").unwrap()]
        .matches('\n')
        .count()
        + 1;
    for bad in ["0", "-0.1", "2.5"] {
        let e = parse_err(
            &MINIMAL.replace("scale = [1, 3]", &format!("scale = [1, 3]\nmargin = {bad}")),
        );
        assert_eq!(
            e,
            format!("r.toml:{line}: dimension `quality`: margin {bad} must be above 0 and at most the scale's width 2 (it is on the scale [1, 3])")
        );
    }
    let e = parse_err(&MINIMAL.replace("scale = [1, 3]", "scale = [1, 3]\nprimary = \"yes\""));
    assert!(
        e.contains("invalid type: string \"yes\", expected a boolean"),
        "{e}"
    );
}
