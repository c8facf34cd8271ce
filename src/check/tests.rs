//! Unit tests of the eval-set analysis.

use std::collections::BTreeMap;

use super::duplicates::{jaccard, normalise, trigrams};
use super::render::pad;
use super::*;
use crate::display::display_width;
use crate::inputs::evalset::Message;
use crate::inputs::evalset::{Item, Role};
use crate::inputs::persona::persona;
use serde_json::json;

fn prompt_item(line: usize, prompt: &str, category: Option<&str>) -> Item {
    Item {
        id: format!("i{line}"),
        line,
        system: None,
        messages: vec![Message {
            role: Role::User,
            content: prompt.into(),
        }],
        vars: None,
        category: category.map(String::from),
        reference: None,
        meta: None,
    }
}

fn kinds(findings: &[Finding]) -> Vec<(Option<usize>, FindingKind)> {
    findings.iter().map(|f| (f.line, f.kind)).collect()
}

/// Prompts that share no meaningful 3-grams with each other.
fn distinct(k: usize) -> String {
    format!("{}", (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

fn target(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn nearest_rank_spread() {
    let s = Spread::of(vec![1400, 1200, 1600, 1300]).unwrap();
    assert_eq!((s.min, s.p50, s.p90, s.max), (1200, 1300, 1600, 1600));
    let s = Spread::of((1..=50).collect()).unwrap();
    assert_eq!((s.p50, s.p90), (25, 45));
    assert_eq!(Spread::of(vec![]), None);
}

#[test]
fn normalise_strips_punctuation_and_case() {
    let n: String = normalise("Hello, World! 你好，世界。")
        .into_iter()
        .collect();
    assert_eq!(n, "helloworld你好世界");
}

#[test]
fn jaccard_of_trigrams() {
    let a = trigrams(&normalise("abcd"));
    let b = trigrams(&normalise("abce"));
    assert_eq!(a.len(), 2);
    assert!((jaccard(&a, &b) - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(jaccard(&a, &a), 1.0);
    assert_eq!(
        jaccard(&trigrams(&normalise("ab")), &trigrams(&normalise("ab"))),
        1.0
    );
}

#[test]
fn counts_categories_against_a_normalised_target() {
    let mut items = Vec::new();
    for k in 0..24 {
        items.push(prompt_item(k + 1, &distinct(k), Some("normal")));
    }
    for k in 0..26 {
        items.push(prompt_item(k + 25, &distinct(100 + k), Some("terse")));
    }
    // seed 000's weights do not sum to 100; here 55 : 40 → 57.9% : 42.1%.
    let t = target(&[("normal", 55.0), ("terse", 40.0), ("chinese", 5.0)]);
    let m = analyze(&items, Some(&t));
    let rows: Vec<_> = m
        .categories
        .iter()
        .map(|r| (r.name.as_str(), r.count, r.deviates))
        .collect();
    assert_eq!(
        rows,
        [
            ("terse", 26, false),
            ("normal", 24, false),
            ("chinese", 0, false)
        ]
    );
    assert!((m.categories[1].target_share.unwrap() - 0.55).abs() < 1e-12);
    assert_eq!(kinds(m.warnings()), [(None, FindingKind::CategoryMissing)]);
    assert!(m.problems().is_empty(), "{:?}", m.problems());
}

#[test]
fn flags_a_large_deviation() {
    let mut items: Vec<Item> = (0..45)
        .map(|k| prompt_item(k + 1, &distinct(k), Some("normal")))
        .collect();
    items.extend((0..5).map(|k| prompt_item(k + 46, &distinct(100 + k), Some("terse"))));
    // Expected 25 : 25 with s.d. 3.5; 45 : 5 is far off.
    let m = analyze(&items, Some(&target(&[("normal", 0.5), ("terse", 0.5)])));
    assert!(m.categories.iter().all(|r| r.deviates));
    assert_eq!(
        kinds(m.warnings()),
        [
            (None, FindingKind::CategoryDeviation),
            (None, FindingKind::CategoryDeviation)
        ]
    );
    assert!(m.warnings()[0]
        .message
        .contains("against a target of 50.0%"));
}

#[test]
fn categories_outside_the_target_and_uncategorised_items_are_named() {
    let items = vec![
        prompt_item(1, "alpha beta gamma", Some("normal")),
        prompt_item(2, "delta epsilon zeta", Some("weird")),
        prompt_item(3, "eta theta iota", None),
    ];
    let m = analyze(&items, Some(&target(&[("normal", 1.0)])));
    assert_eq!(
        kinds(m.warnings()),
        [
            (None, FindingKind::CategoryDeviation),
            (Some(2), FindingKind::CategoryNotInTarget),
            (Some(3), FindingKind::Uncategorised),
        ]
    );
    assert_eq!(m.categories.last().unwrap().name, "(none)");
}

#[test]
fn without_target_nothing_is_flagged() {
    let items = vec![
        prompt_item(1, "one", Some("a")),
        prompt_item(2, "two", None),
    ];
    let m = analyze(&items, None);
    assert!(m.warnings().is_empty() && m.problems().is_empty());
    assert!(!m.has_target);
}

#[test]
fn exact_and_near_duplicates_name_both_lines() {
    let items = vec![
        prompt_item(
            1,
            "Write a New Year greeting for my grandmother in 50 characters.",
            None,
        ),
        prompt_item(
            2,
            "Something entirely different about basketball games.",
            None,
        ),
        prompt_item(
            4,
            "Write a New Year greeting for my grandmother in 50 characters.",
            None,
        ),
        prompt_item(
            7,
            "write a new year greeting for my grandmother, in 50 characters!!",
            None,
        ),
        prompt_item(
            9,
            "Write a New Year greeting for my grandfather in 50 characters.",
            None,
        ),
    ];
    let m = analyze(&items, None);
    assert_eq!(
        kinds(m.problems()),
        [(Some(4), FindingKind::DuplicatePrompt)]
    );
    assert!(m.problems()[0]
        .message
        .starts_with("duplicate prompt: same as line 1"));
    assert_eq!(kinds(m.warnings()), [(Some(7), FindingKind::NearDuplicate)]);
    assert!(m.warnings()[0]
        .message
        .starts_with("near-duplicate of line 1 (3-gram Jaccard 1.00)"));
    // "grandfather" vs "grandmother" changes too many 3-grams to count as near.
}

#[test]
fn near_duplicate_threshold() {
    let base =
        "两位朋友在户外徒步时一人询问另一人的生日引发了关于生日当天的活动的对话我们聊了很久很开心";
    let close = format!("{base}呀");
    let items = vec![prompt_item(1, base, None), prompt_item(2, &close, None)];
    let m = analyze(&items, None);
    assert_eq!(kinds(m.warnings()), [(Some(2), FindingKind::NearDuplicate)]);
    let far = "两位同学对一场激动人心的篮球比赛进行回顾和分析";
    let m = analyze(
        &[prompt_item(1, base, None), prompt_item(2, far, None)],
        None,
    );
    assert!(m.warnings().is_empty());
}

#[test]
fn persona_profiles_do_not_make_conversations_alike() {
    let profile = format!(
        "{{'姓名': '孙悟空', '性别': '男', '人物经历': '{}'}}\n现在请你扮演一个角色扮演专家。请你根据上述信息扮演孙悟空进行对话。",
        "石生花果山".repeat(40)
    );
    let conversation = |line: usize, last: &str| Item {
        id: format!("c{line}"),
        line,
        system: None,
        messages: vec![
            Message {
                role: Role::User,
                content: profile.clone(),
            },
            Message {
                role: Role::Assistant,
                content: "好的!现在我来扮演孙悟空。".into(),
            },
            Message {
                role: Role::User,
                content: last.into(),
            },
        ],
        vars: None,
        category: None,
        reference: None,
        meta: None,
    };
    let items = vec![
        conversation(1, "唐三藏:(责备)你怎么步步行凶,打死这个无故平人?"),
        conversation(2, "猪八戒:(笑)哥哥,师父又念紧箍咒了么?"),
    ];
    let m = analyze(&items, None);
    assert!(m.warnings().is_empty(), "{:?}", m.warnings());
    assert_eq!(m.personas, [("孙悟空".to_string(), 2)]);
    assert_eq!(m.turns, BTreeMap::from([(2, 2)]));
}

#[test]
fn persona_sources_in_order() {
    let mut item = prompt_item(
        1,
        "{'姓名': '林黛玉', '性别': '女'}\n请你扮演林黛玉进行对话。",
        None,
    );
    assert_eq!(persona(&item).as_deref(), Some("林黛玉"));
    item.meta = Some(json!({"persona": "薛宝钗"}));
    assert_eq!(persona(&item).as_deref(), Some("薛宝钗"));

    let mut item = prompt_item(1, "你好", None);
    item.system = Some(r#"{"姓名": "诸葛亮", "字": "孔明"}"#.into());
    assert_eq!(persona(&item).as_deref(), Some("诸葛亮"));
    item.system = Some("现在请你扮演一个角色扮演专家。请你根据上述信息扮演猪八戒进行对话。".into());
    assert_eq!(persona(&item).as_deref(), Some("猪八戒"));
    item.system = Some("你是武松，景阳冈打虎的好汉。".into());
    assert_eq!(persona(&item).as_deref(), Some("武松"));
    item.system = Some("You are a helpful assistant.".into());
    assert_eq!(persona(&item), None);
}

#[test]
fn lengths_turns_and_history() {
    let mut chat = prompt_item(1, "12345", None);
    chat.messages.push(Message {
        role: Role::Assistant,
        content: "a".into(),
    });
    chat.messages.push(Message {
        role: Role::User,
        content: "123".into(),
    });
    let vars = Item {
        id: "v".into(),
        line: 2,
        system: None,
        messages: vec![],
        vars: json!({"topic": "篮球比赛", "history": ["Hi", "Yes"]})
            .as_object()
            .cloned(),
        category: None,
        reference: None,
        meta: None,
    };
    let m = analyze(&[chat, vars], None);
    assert_eq!(m.turns, BTreeMap::from([(2, 1)]));
    assert_eq!(m.history_entries, BTreeMap::from([(2, 1)]));
    let s = m.prompt_chars.unwrap();
    // "123" for the chat; 篮球比赛 + Hi + Yes = 9 characters for the vars item.
    assert_eq!((s.min, s.max), (3, 9));
}

#[test]
fn empty_and_missing_turns_in_built_items() {
    let mut gap = prompt_item(3, "q", None);
    gap.messages.push(Message {
        role: Role::User,
        content: "q2".into(),
    });
    let mut blank = prompt_item(5, "q", None);
    blank.messages.push(Message {
        role: Role::Assistant,
        content: " ".into(),
    });
    blank.messages.push(Message {
        role: Role::User,
        content: "q2".into(),
    });
    let vars = Item {
        id: "v".into(),
        line: 8,
        system: None,
        messages: vec![],
        vars: json!({"topic": "t", "history": ["Hi", ""]})
            .as_object()
            .cloned(),
        category: None,
        reference: None,
        meta: None,
    };
    let m = analyze(&[gap, blank, vars], None);
    assert_eq!(
        kinds(m.problems()),
        [
            (Some(3), FindingKind::MissingTurn),
            (Some(5), FindingKind::EmptyTurn),
            (Some(8), FindingKind::EmptyTurn),
        ]
    );
    assert_eq!(m.problems()[2].message, "vars.history[1] is empty");
}

#[test]
fn no_items_is_a_problem() {
    let m = analyze(&[], None);
    assert_eq!(kinds(m.problems()), [(None, FindingKind::NoItems)]);
}

#[test]
fn report_aligns_wide_characters() {
    assert_eq!(display_width("孙悟空"), 6);
    assert_eq!(display_width("abc"), 3);
    assert_eq!(pad("武松", 6), "武松  ");
}
