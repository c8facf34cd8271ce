//! End to end through `rubrics/oral_english.toml`: the seed's own awkward answers, scored.

use std::path::Path;

use serde_json::json;

use super::*;
use crate::inputs::evalset::{Item, Role};
use crate::inputs::rubric::{self, Rubric};

fn oral_english() -> Rubric {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("rubrics/oral_english.toml");
    rubric::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// A rendered `vars` item, as the runner would hold it.
fn item(r: &Rubric, template: &str, category: &str) -> Item {
    let vars = json!({
        "template": template,
        "topic": "一名学生在向她的好友介绍一个新的手机应用，讨论了它的功能以及如何能在日常生活中使用这个应用。",
        "history": [
            "Hey, have you checked out this new app?",
            "What app?",
            "It's called 'LifeHelper'. It helps you organize your day-to-day tasks.",
            "Sounds intriguing. How does it enhance task management?"
        ]
    });
    let mut it = Item {
        id: "oe-001".into(),
        line: 1,
        system: None,
        messages: vec![],
        vars: vars.as_object().cloned(),
        category: Some(category.into()),
        reference: None,
        meta: None,
    };
    r.render(&mut it).unwrap();
    it
}

fn pass(rules: &BTreeMap<String, RuleOutcome>, id: &str) -> bool {
    rules
        .get(id)
        .unwrap_or_else(|| panic!("rule {id} missing from {rules:#?}"))
        .pass
}

fn detail<'a>(rules: &'a BTreeMap<String, RuleOutcome>, id: &str) -> &'a str {
    &rules[id].detail
}

/// Seed §3.3.3, problem 3 example 1, after SFT: strict JSON, short, English, Chinese Analysis.
const GOOD: &str = r#"{
"Reply": "That sounds like a good strategy. How do you prioritize?", 
"Suggestion": ["I make a to-do list every morning.", "I focus on the most important tasks first.", "I decide based on deadlines and deadlines."],
 "Analysis": "学生正确地使用了动词'prioritize'和名词'schedule'来表达他们如何平衡工作和学习。使用了恰当的词组'prioritize tasks'和'maintain a strict schedule'来表明他们的工作安排。"
}"#;

/// Seed §3.1.2, second round: the ```json fence, and Analysis as a list.
const FENCED: &str = "```json
{
\"Reply\": \"What do you usually do on your birthday?\",
\"Suggestion\": [
\"I usually have a birthday party.\",
\"I often go out with my family.\",
\"We always have a special dinner.\"
],
\"Analysis\": [
\"学生准确地回答了自己的生日时间，并且表示从来不会忘记，这是符合对话逻辑的。接下来老师询问生日当天的活动，这是一个自然的过渡，能够引导学生继续分享更多信息。\"
]
}
```";

/// Seed §1, problem 1: prose, then three objects separated by invented `[学生回复]` turns.
const CONTINUATION: &str = r#"Hello everyone! As exams are approaching, it's crucial to discuss effective study strategies and time management tips. How are you balancing your studies, hobbies, and relaxation? Let's share our experiences today.

{"Reply": "Hi, I'm preparing for exams too. It's challenging to manage time effectively. What strategies do you use?", "Suggestion": ["I find setting a daily schedule helps me a lot.", "I prioritize important subjects and allocate more time to them.", "I try to revise regularly to avoid last-minute cramming."]}

[学生回复]
I really need to work on my time management. I tend to procrastinate sometimes.

{"Reply": "Procrastination is a common issue. Let's talk about how to overcome it.", "Suggestion": ["I find setting small goals helps me stay on track.", "I use planners and reminders on my phone to stay organized.", "I try to create a relaxing study environment to stay motivated."]}

[学生回复]
That's helpful. I also feel a bit stressed during exams. How do you deal with it?

{"Reply": "Stress is natural, but we can manage it. What strategies do you use?", "Suggestion": ["I try deep breathing exercises and meditation to relax.", "I remind myself of my achievements and capabilities.", "I avoid comparing myself to others and focus on my own progress."]}"#;

/// Seed §1, problem 3 example 3: strict JSON, but a 41-word Reply.
const LONG_REPLY: &str = r#"{
"Reply": "It has a to-do list feature that helps you prioritize and keep track of your daily tasks. Plus, it has reminders and notifications so you never miss an important commitment. You can even set reminders for specific times or locations.",
"Suggestion": [
"The app is really user-friendly and helps me a lot in managing my daily routine.",
"I love the reminder feature as it helps me stay organized.",
"The app also has a calendar integration that makes planning easier."
],
"Analysis": "学生回复的句子详细解释了应用的功能如何提升任务管理，包括待办事项清单、提醒和通知功能以及定时或定位提醒等。回复使用了合适的词汇和句式，表达清晰，符合高中生的英语水平。"
}"#;

/// What the seed's prompt literally asks for when the student answers in Chinese: Chinese in the Reply.
const CHINESE_REPLY: &str = r#"{"Reply": "请尝试使用英语回答", "Suggestion": ["Yes, it was very exciting!", "Indeed, the game was thrilling!", "Absolutely, the match was intense!"], "Analysis": "学生使用了中文进行回复，需要提醒学生使用英文进行交流。"}"#;

#[test]
fn oral_english_rubric_loads_with_seed_levels() {
    let r = oral_english();
    let ids: Vec<&str> = r.dimensions.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["adherence", "reply", "suggestion", "analysis"]);
    let adherence = r.dimension("adherence").unwrap();
    assert_eq!(adherence.scale, (1, 3));
    assert_eq!(
        adherence.levels[&1],
        "不是严格按照prompt要求的json格式输出，或者出现中文；"
    );
    assert!(r.dimensions.iter().all(|d| d.judged && d.levels.len() == 3));
}

#[test]
fn templates_render_exactly_the_seed_prompts() {
    let r = oral_english();
    let turn = item(&r, "turn", "normal");
    assert_eq!(turn.messages[0].role, Role::User);
    assert_eq!(
        turn.messages[0].content,
        include_str!("testdata/seed000_turn_prompt.txt")
    );

    let mut opening = item(&r, "opening", "normal");
    opening.vars.as_mut().unwrap()["topic"] = json!(
        "学生们备考期间互相分享学习技巧和时间管理方法，讨论如何高效学习并保持良好的心理状态。"
    );
    r.render(&mut opening).unwrap();
    assert_eq!(
        opening.messages[0].content,
        include_str!("testdata/seed000_opening_prompt.txt")
    );
}

#[test]
fn strict_good_answer_passes_every_rule_and_waits_for_the_judge() {
    let r = oral_english();
    let (rules, dims) = score_answer(&r, &item(&r, "turn", "normal"), Some(GOOD));
    let failed: Vec<_> = rules.iter().filter(|(_, o)| !o.pass).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(pass(&rules, "analysis_present") && pass(&rules, "analysis_chinese"));
    // Category rules of other categories are left out.
    assert!(!rules.contains_key("chinese_asks_for_english"));
    let a = &dims["adherence"];
    assert_eq!(
        (a.score, a.rule_cap, a.source),
        (None, None, ScoreSource::RulesAndJudge)
    );
    assert_eq!(a.justification, None);
}

#[test]
fn fenced_json_is_extractable_but_caps_adherence_at_1() {
    let r = oral_english();
    let (rules, dims) = score_answer(&r, &item(&r, "turn", "normal"), Some(FENCED));
    assert!(!pass(&rules, "json_strict"));
    assert_eq!(
        detail(&rules, "json_strict"),
        "the JSON object is inside a ``` fence"
    );
    assert!(pass(&rules, "json_extractable"));
    assert!(pass(&rules, "reply_max_30_words"));
    assert!(
        pass(&rules, "analysis_chinese"),
        "a list Analysis is checked per element"
    );
    let a = &dims["adherence"];
    assert_eq!(
        (a.score, a.rule_cap, a.source),
        (None, Some(1.0), ScoreSource::RulesAndJudge)
    );
    let j = a.justification.as_deref().unwrap();
    assert!(
        j.starts_with(
            "rules cap it at 1: json_strict failed (the JSON object is inside a ``` fence)"
        ),
        "{j}"
    );
    assert!(
        j.contains("rubric: 1分：不是严格按照prompt要求的json格式输出，或者出现中文"),
        "{j}"
    );
    // Other dimensions are untouched.
    assert_eq!(dims["suggestion"].score, None);
    assert_eq!(dims["suggestion"].rule_cap, None);
}

#[test]
fn prose_wrapped_continuation_fails_strict_and_the_invented_turns() {
    let r = oral_english();
    let (rules, dims) = score_answer(&r, &item(&r, "opening", "normal"), Some(CONTINUATION));
    assert_eq!(
        detail(&rules, "json_strict"),
        "the output holds 3 JSON objects and other text; the first is used"
    );
    assert!(pass(&rules, "json_extractable"));
    assert!(pass(&rules, "keys_reply_suggestion"));
    assert!(!pass(&rules, "no_invented_student_turn"));
    assert_eq!(
        detail(&rules, "no_invented_student_turn"),
        "output contains \"[学生回复]\" 2 times"
    );
    // The first object's fields are checked.
    assert_eq!(
        detail(&rules, "reply_max_30_words"),
        "Reply has 17 words (max 30)"
    );
    assert!(pass(&rules, "suggestion_count_3"));
    // The opening template asks for no Analysis.
    assert!(!rules.contains_key("analysis_present") && !rules.contains_key("analysis_chinese"));
    assert_eq!(
        (dims["adherence"].score, dims["adherence"].rule_cap),
        (None, Some(1.0))
    );
    assert_eq!(dims["adherence"].source, ScoreSource::RulesAndJudge);
}

#[test]
fn over_long_reply_caps_adherence_at_2_and_leaves_it_to_the_judge() {
    let r = oral_english();
    let (rules, dims) = score_answer(&r, &item(&r, "turn", "normal"), Some(LONG_REPLY));
    assert!(pass(&rules, "json_strict"));
    assert!(!pass(&rules, "reply_max_30_words"));
    assert_eq!(
        detail(&rules, "reply_max_30_words"),
        "Reply has 41 words (max 30)"
    );
    let a = &dims["adherence"];
    assert_eq!(
        (a.score, a.rule_cap, a.source),
        (None, Some(2.0), ScoreSource::RulesAndJudge)
    );
    let j = a.justification.as_deref().unwrap();
    assert!(
        j.starts_with("rules cap it at 2: reply_max_30_words failed (Reply has 41 words (max 30))"),
        "{j}"
    );

    // The judge's 3 is capped at 2; its 1 stands.
    let dim = r.dimension("adherence").unwrap();
    let s = combine_with_judge(dim, Some(3.0), a.rule_cap, Some("流畅".into()));
    assert_eq!((s.score, s.source), (Some(2.0), ScoreSource::RulesAndJudge));
    assert_eq!(
        s.justification.as_deref(),
        Some("流畅 [capped at 2 by rule checks (the judge gave 3)]")
    );
    let s = combine_with_judge(dim, Some(1.0), a.rule_cap, None);
    assert_eq!((s.score, s.justification), (Some(1.0), None));
}

#[test]
fn chinese_in_reply_caps_adherence_at_1() {
    let r = oral_english();
    let (rules, dims) = score_answer(&r, &item(&r, "turn", "chinese"), Some(CHINESE_REPLY));
    assert!(pass(&rules, "json_strict"));
    assert!(!pass(&rules, "reply_english_only"));
    assert_eq!(
        detail(&rules, "reply_english_only"),
        "Reply has 9 non-English characters, first '请' (Han character)"
    );
    assert!(pass(&rules, "suggestion_english_only"));
    assert!(
        pass(&rules, "chinese_asks_for_english"),
        "英语 counts as asking for English"
    );
    let a = &dims["adherence"];
    assert_eq!(
        (a.score, a.rule_cap, a.source),
        (None, Some(1.0), ScoreSource::RulesAndJudge)
    );
    assert!(a
        .justification
        .as_deref()
        .unwrap()
        .contains("reply_english_only failed"));
}

#[test]
fn uncorrected_chinese_student_caps_reply_at_2() {
    // Seed §1, problem 2: the base model answers as if the student had spoken English.
    let r = oral_english();
    let out = r#"{"Reply": "Absolutely, it was a thrilling game! The unexpected result made it even more exciting.", "Suggestion": ["It was an action-packed game with an unexpected finish!", "The game was so competitive, the outcome was truly surprising.", "The unexpected result only added to the excitement of the game."], "Analysis": "学生的回复非常流畅自然，能够准确表达情感并且符合语法规则。"}"#;
    let (rules, dims) = score_answer(&r, &item(&r, "turn", "chinese"), Some(out));
    assert!(!pass(&rules, "chinese_asks_for_english"));
    assert_eq!(
        (dims["reply"].score, dims["reply"].rule_cap),
        (None, Some(2.0))
    );
    assert_eq!(dims["adherence"].rule_cap, None);
}

#[test]
fn uncorrected_grammar_caps_analysis_at_2() {
    // Seed §1, problem 4: the Analysis describes the error but names no correction.
    let r = oral_english();
    let out = r#"{"Reply": "We can use 'adventure' to describe high school.", "Suggestion": ["a", "b", "c"], "Analysis": "学生试图表达他们对“冒险”这个词的不理解，并确认高中生活的描述。虽然他们的句子结构有误，但他们的核心意思是他们想了解如何用英语描述高中生活的冒险性。教师回应时应纠正语法错误并鼓励他们继续用英语表达。"}"#;
    let (rules, dims) = score_answer(&r, &item(&r, "turn", "ungrammatical"), Some(out));
    assert!(!pass(&rules, "analysis_names_correction"));
    assert_eq!(dims["analysis"].rule_cap, Some(2.0));
    // The seed's SFT target names the correction.
    let fixed = out.replace("教师回应时应纠正语法错误", "应为'I do not know'");
    let (rules, _) = score_answer(&r, &item(&r, "turn", "ungrammatical"), Some(&fixed));
    assert!(pass(&rules, "analysis_names_correction"));
}

#[test]
fn suggestion_as_a_string_caps_suggestion_at_1() {
    let r = oral_english();
    let out = r#"{"Reply": "Nice!", "Suggestion": "I agree. Me too. Sounds good.", "Analysis": "回答正确。"}"#;
    let (rules, dims) = score_answer(&r, &item(&r, "turn", "terse"), Some(out));
    assert_eq!(
        detail(&rules, "suggestion_count_3"),
        "Suggestion is a string, not a list (expected 3 items)"
    );
    assert!(pass(&rules, "suggestion_english_only"));
    let s = &dims["suggestion"];
    assert_eq!(
        (s.score, s.rule_cap, s.source),
        (None, Some(1.0), ScoreSource::RulesAndJudge)
    );
    assert_eq!(dims["adherence"].rule_cap, None);
}

#[test]
fn no_json_fails_every_field_rule_with_a_reason() {
    let r = oral_english();
    let (rules, dims) = score_answer(
        &r,
        &item(&r, "turn", "normal"),
        Some("Sorry, I can't help with that."),
    );
    for id in [
        "json_extractable",
        "keys_reply_suggestion",
        "reply_max_30_words",
        "analysis_chinese",
    ] {
        assert!(!pass(&rules, id), "{id}");
    }
    assert_eq!(detail(&rules, "reply_english_only"), "no JSON object");
    assert!(pass(&rules, "no_invented_student_turn"));
    assert_eq!(
        (dims["adherence"].score, dims["adherence"].rule_cap),
        (None, Some(1.0))
    );
    assert_eq!(
        (dims["suggestion"].score, dims["suggestion"].rule_cap),
        (None, Some(1.0))
    );
}

#[test]
fn failed_request_scores_nothing() {
    let r = oral_english();
    let (rules, dims) = score_answer(&r, &item(&r, "turn", "normal"), None);
    assert!(rules.is_empty());
    assert_eq!(dims.len(), 4);
    for d in dims.values() {
        assert_eq!(
            (d.score, d.rule_cap, d.source),
            (None, None, ScoreSource::RulesAndJudge)
        );
        assert!(d.justification.as_deref().unwrap().starts_with("no answer"));
    }
}

/// A small rubric exercising rules-only dimensions, `length_range` and dimensions without caps.
const LENGTH_RUBRIC: &str = r#"
id = "len"
name = "Length"

[[dimensions]]
id = "length"
name = "Length compliance"
scale = [0, 4]
judged = false
levels = { "0" = "way off", "1" = "off", "2" = "close", "3" = "near", "4" = "exact" }

[[dimensions]]
id = "content"
name = "Content"
scale = [0, 4]
levels = { "0" = "a", "1" = "b", "2" = "c", "3" = "d", "4" = "e" }

[[rules]]
id = "length_ok"
check = "length_range"

[[caps]]
dimension = "length"
max = 0
if_any_fails = ["length_ok"]
"#;

fn prompt_item(prompt: &str) -> Item {
    Item {
        id: "p".into(),
        line: 1,
        system: None,
        messages: vec![crate::inputs::evalset::Message {
            role: Role::User,
            content: prompt.into(),
        }],
        vars: None,
        category: None,
        reference: None,
        meta: None,
    }
}

#[test]
fn length_rule_reads_the_prompt_and_decides_a_rules_only_dimension() {
    let r = rubric::parse(Path::new("len.toml"), LENGTH_RUBRIC).unwrap();
    let it = prompt_item("请以“春天”为题，写一篇不少于200字的短文。");
    let (rules, dims) = score_answer(&r, &it, Some(&"春".repeat(150)));
    assert_eq!(
        detail(&rules, "length_ok"),
        "output has 150 characters (expected at least 200, from \"不少于200字\")"
    );
    assert_eq!(
        (dims["length"].score, dims["length"].source),
        (Some(0.0), ScoreSource::Rules)
    );
    let c = &dims["content"];
    assert_eq!(
        (c.score, c.rule_cap, c.source, c.justification.clone()),
        (None, None, ScoreSource::Judge, None)
    );

    let (rules, dims) = score_answer(&r, &it, Some(&"春".repeat(200)));
    assert!(pass(&rules, "length_ok"));
    assert_eq!(dims["length"].score, Some(4.0));

    // meta.length wins over the prompt; a prompt without a length leaves the rule out.
    let mut meta = prompt_item("写一篇300字左右的短文");
    meta.meta = Some(json!({"length": "50字以内"}));
    let (rules, _) = score_answer(&r, &meta, Some(&"春".repeat(60)));
    assert_eq!(
        detail(&rules, "length_ok"),
        "output has 60 characters (expected at most 50, from \"50字以内\")"
    );
    let (rules, dims) = score_answer(&r, &prompt_item("写一首诗"), Some("春眠不觉晓"));
    assert!(rules.is_empty());
    assert_eq!(dims["length"].score, Some(4.0));
}

#[test]
fn combine_with_judge_without_a_cap_or_a_judge_score() {
    let r = rubric::parse(Path::new("len.toml"), LENGTH_RUBRIC).unwrap();
    let content = r.dimension("content").unwrap();
    let s = combine_with_judge(content, Some(3.0), None, Some("ok".into()));
    assert_eq!(
        (s.score, s.source, s.rule_cap),
        (Some(3.0), ScoreSource::Judge, None)
    );
    let s = combine_with_judge(content, None, Some(2.0), Some("judge error".into()));
    assert_eq!((s.score, s.source), (None, ScoreSource::RulesAndJudge));
    // A cap at the scale minimum decides it even when the judge failed.
    let s = combine_with_judge(content, None, Some(0.0), None);
    assert_eq!((s.score, s.source), (Some(0.0), ScoreSource::Rules));
    // A cap that exists but does not bind still marks the source.
    let s = combine_with_judge(content, Some(1.0), Some(2.0), None);
    assert_eq!((s.score, s.source), (Some(1.0), ScoreSource::RulesAndJudge));
}
