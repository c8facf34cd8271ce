//! The eval sets shipped in `evalsets/`: they load, their make-up is the planned one (seed 000's mix,
//! eight personas, every length-demand shape), and `check`'s analysis finds nothing wrong with them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use evalrun::check::{analyze, analyze_text, FindingKind};
use evalrun::inputs::evalset::{load, Role};
use evalrun::inputs::persona::persona;
fn shipped(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("evalsets")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(shipped(name)).unwrap()
}

fn string_list(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

/// Seed 000's recipe: 55% normal, 40% terse, 5% each for the four problem kinds.
fn seed_000_target() -> BTreeMap<String, f64> {
    [
        ("normal", 55.0),
        ("terse", 40.0),
        ("off_topic", 5.0),
        ("chinese", 5.0),
        ("misspelled", 5.0),
        ("ungrammatical", 5.0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn count_by<'a>(values: impl Iterator<Item = &'a str>) -> BTreeMap<&'a str, usize> {
    let mut counts = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts
}

#[test]
fn every_shipped_set_loads_and_checks_clean() {
    for (name, n) in [
        ("oral_english.jsonl", 50),
        ("roleplay.jsonl", 30),
        ("length_control.jsonl", 40),
    ] {
        let items = load(&shipped(name)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(items.len(), n, "{name}");
        let target = (name == "oral_english.jsonl").then(seed_000_target);
        let makeup = analyze(&items, target.as_ref());
        assert!(
            makeup.problems().is_empty(),
            "{name}: {:?}",
            makeup.problems()
        );
        assert!(
            makeup.warnings().is_empty(),
            "{name}: {:?}",
            makeup.warnings()
        );
    }
}

#[test]
fn oral_english_has_the_planned_mix() {
    let items = load(&shipped("oral_english.jsonl")).unwrap();
    let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
    let wanted: Vec<String> = (1..=50).map(|n| format!("oe-{n:03}")).collect();
    assert_eq!(ids, wanted, "50 unique ids oe-001 … oe-050, in order");

    let categories = count_by(items.iter().map(|i| i.category.as_deref().unwrap()));
    assert_eq!(
        categories,
        BTreeMap::from([
            ("chinese", 2),
            ("misspelled", 2),
            ("normal", 24),
            ("off_topic", 2),
            ("terse", 17),
            ("ungrammatical", 3),
        ])
    );

    let mut openings = 0;
    for item in &items {
        assert!(item.messages.is_empty());
        let vars = item.vars.as_ref().unwrap();
        let topic = vars["topic"].as_str().unwrap();
        assert!(topic.chars().count() >= 20, "{}: topic too short", item.id);
        let rounds = item.meta.as_ref().unwrap()["rounds"].as_u64().unwrap() as usize;
        match vars["template"].as_str().unwrap() {
            "opening" => {
                openings += 1;
                assert!(!vars.contains_key("history"), "{}", item.id);
                assert_eq!(item.category.as_deref(), Some("normal"), "{}", item.id);
                assert_eq!(rounds, 0);
            }
            "turn" => {
                let history = string_list(&vars["history"]);
                assert!(
                    history.len().is_multiple_of(2) && (2..=8).contains(&history.len()),
                    "{}: teacher/student pairs, one to four rounds",
                    item.id
                );
                assert_eq!(rounds, history.len() / 2, "{}", item.id);
                let last = history.last().unwrap();
                let has_han = last.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
                match item.category.as_deref().unwrap() {
                    "terse" => assert!(last.split_whitespace().count() <= 6, "{}", item.id),
                    "chinese" => assert!(has_han, "{}", item.id),
                    _ => assert!(
                        !has_han,
                        "{}: only the chinese items answer in Chinese",
                        item.id
                    ),
                }
            }
            other => panic!("{}: unknown template {other}", item.id),
        }
    }
    assert_eq!(openings, 8);
}

#[test]
fn oral_english_keeps_the_seed_examples_verbatim() {
    let items = load(&shipped("oral_english.jsonl")).unwrap();
    let find = |id: &str| {
        items
            .iter()
            .find(|i| i.id == id)
            .unwrap()
            .vars
            .clone()
            .unwrap()
    };
    assert_eq!(
        find("oe-001")["topic"],
        "学生们备考期间互相分享学习技巧和时间管理方法，讨论如何高效学习并保持良好的心理状态。"
    );
    assert_eq!(
        string_list(&find("oe-002")["history"]),
        [
            "That was an amazing basketball game, wasn't it?",
            "当然，这非常令人兴奋，而结果完全出乎意料！"
        ]
    );
    assert_eq!(string_list(&find("oe-004")["history"])[1], "Yes, very fun!");
    assert_eq!(
        string_list(&find("oe-005")["history"])[2],
        "It's called 'LifeHelper'. It helps you organize your day-to-day tasks."
    );
    let high_school = find("oe-006");
    assert_eq!(
        high_school["topic"],
        "一名学生在和外国朋友讨论他们对高中生活在不同文化背景下的体验。"
    );
    assert_eq!(
        string_list(&high_school["history"]).last().copied(),
        Some("I not know \"adventure\". High school okay.")
    );
}

#[test]
fn roleplay_personas_and_turns() {
    let items = load(&shipped("roleplay.jsonl")).unwrap();
    let makeup = analyze(&items, None);
    let personas: BTreeMap<&str, usize> = makeup
        .personas
        .iter()
        .map(|(p, n)| (p.as_str(), *n))
        .collect();
    assert_eq!(
        personas,
        BTreeMap::from([
            ("孙悟空", 5),
            ("猪八戒", 4),
            ("诸葛亮", 4),
            ("林黛玉", 4),
            ("贾宝玉", 4),
            ("武松", 3),
            ("王熙凤", 3),
            ("宋江", 3),
        ])
    );
    assert_eq!(makeup.without_persona, 0);
    assert_eq!(makeup.turns.keys().next(), Some(&2));
    assert_eq!(makeup.turns.keys().last(), Some(&14));
    for item in &items {
        let name = persona(item).unwrap();
        assert!(item.messages[0]
            .content
            .ends_with(&format!("请你根据上述信息扮演{name}进行对话。\n")));
        assert_eq!(
            item.messages[1].content,
            format!("好的！现在我来扮演{name}。")
        );
        let reference = item.reference.as_deref().unwrap();
        assert!(
            reference.starts_with(&format!("{name}:(")),
            "line {}",
            item.line
        );
        for reply in item
            .messages
            .iter()
            .skip(3)
            .filter(|m| m.role == Role::Assistant)
        {
            assert!(
                reply.content.starts_with(&format!("{name}:(")),
                "line {}",
                item.line
            );
        }
    }
}

/// Every length demand is in `meta` in a shape the `length_range` rule reads (`{"max"}`,
/// `{"min"}`, `{"min","max"}`, a number N for "about N" at the rule's ±20 %), except sentence
/// counts, which no rule checks (`meta.sentences`, beside `length`, so the rule leaves them out);
/// and every reference answer keeps its item's demand.
#[test]
fn length_control_bounds_match_categories_and_references() {
    use evalrun::inputs::rubric::DEFAULT_LENGTH_TOLERANCE;
    use evalrun::score::length::bound_from_meta;
    let items = load(&shipped("length_control.jsonl")).unwrap();
    let categories = count_by(items.iter().map(|i| i.category.as_deref().unwrap()));
    assert_eq!(
        categories,
        BTreeMap::from([
            ("approx", 10),
            ("max", 12),
            ("min", 9),
            ("range", 4),
            ("sentences", 5)
        ])
    );
    let mut references = 0;
    for item in &items {
        let meta = item.meta.as_ref().unwrap();
        let length = meta.get("length");
        let category = item.category.as_deref().unwrap();
        let keys = |v: &Value| -> Vec<String> {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort_unstable();
            k
        };
        match category {
            "max" => assert_eq!(keys(length.unwrap()), ["max"], "{}", item.id),
            "min" => assert_eq!(keys(length.unwrap()), ["min"], "{}", item.id),
            "range" => assert_eq!(keys(length.unwrap()), ["max", "min"], "{}", item.id),
            "approx" => assert!(length.unwrap().is_u64(), "{}", item.id),
            "sentences" => {
                assert!(length.is_none(), "{}", item.id);
                assert!(meta["sentences"].is_u64(), "{}", item.id);
            }
            other => panic!("{}: unknown category {other}", item.id),
        }
        let bound = bound_from_meta(Some(meta), DEFAULT_LENGTH_TOLERANCE)
            .map(|b| b.unwrap_or_else(|e| panic!("{}: {e}", item.id)));
        let Some(reference) = &item.reference else {
            continue;
        };
        references += 1;
        // Both ways of counting must agree with the bound: Han characters only, and every
        // character but line breaks.
        let han = reference
            .chars()
            .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
            .count();
        let all = reference.chars().filter(|c| *c != '\n').count();
        if let Some(bound) = &bound {
            for n in [han, all] {
                assert!(
                    bound.contains(n),
                    "{}: {n} not in {}",
                    item.id,
                    bound.describe_range()
                );
            }
        }
        if let Some(s) = meta.get("sentences").and_then(Value::as_u64) {
            let ends = reference.chars().filter(|c| "。！？".contains(*c)).count() as u64;
            assert_eq!(ends, s, "{}", item.id);
        }
    }
    assert_eq!(references, 12);
}

#[test]
fn a_broken_copy_names_every_problem_with_its_line() {
    let good: Vec<String> = read("roleplay.jsonl")
        .lines()
        .take(6)
        .map(String::from)
        .collect();
    let turns = |line: &str| serde_json::from_str::<Vec<Value>>(line).unwrap();
    let mut lines = good.clone();
    // Line 3: an empty prompt in turn 2 of a four-turn conversation.
    let mut empty = turns(&good[2]);
    assert_eq!(empty.len(), 4);
    empty[1]["prompt"] = Value::String(String::new());
    lines[2] = serde_json::to_string(&empty).unwrap();
    // Line 4: the middle turn of a three-turn conversation has lost its response.
    let mut gap = turns(&good[3]);
    assert_eq!(gap.len(), 3);
    gap[1]["response"] = serde_json::json!([[""]]);
    lines[3] = serde_json::to_string(&gap).unwrap();
    // Line 6: cut off mid-line.
    lines[5] = good[5].chars().take(200).collect();
    // Line 7: the same conversation as line 2.
    lines.push(good[1].clone());
    let makeup = analyze_text(&lines.join("\n"), None);

    let found: Vec<(Option<usize>, FindingKind)> =
        makeup.problems().iter().map(|f| (f.line, f.kind)).collect();
    assert_eq!(
        found,
        [
            (Some(3), FindingKind::EmptyTurn),
            (Some(4), FindingKind::MissingTurn),
            (Some(6), FindingKind::InvalidLine),
            (Some(7), FindingKind::DuplicatePrompt),
        ]
    );
    let messages: Vec<String> = makeup.problems().iter().map(ToString::to_string).collect();
    assert_eq!(messages[0], "line 3: turn 2 of 4: empty prompt");
    assert_eq!(
        messages[1],
        "line 4: turn 2 of 3 has no response (only the last turn, the one answered, may leave it empty)"
    );
    assert!(
        messages[2].starts_with("line 6: invalid JSON at column 200: EOF while parsing"),
        "{}",
        messages[2]
    );
    assert!(
        messages[3].starts_with("line 7: duplicate prompt: same as line 2"),
        "{}",
        messages[3]
    );
    assert_eq!(makeup.items, 4);
    assert_eq!(makeup.rejected_lines, 3);

    let report = makeup.to_string();
    for needle in [
        "items            4",
        "rejected lines   3",
        "duplicate prompts      1",
        "empty/missing turns    2",
        "problems (4)",
        "  line 4: turn 2 of 3 has no response",
    ] {
        assert!(report.contains(needle), "{needle:?} missing from\n{report}");
    }
}
