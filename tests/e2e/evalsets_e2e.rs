//! The shipped eval sets and their rubrics, end to end with the real binary: `evalrun check` shows each
//! set's make-up and names every problem of a broken copy; each set runs against the simulator; and the
//! role-play and length rules catch what they exist for, against replies scripted on the simulator.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::{jsonl, reply, repo_file, Out, Sim, TestDir};
use serde_json::{json, Value};

/// (eval set, rubric, items) as shipped.
const SHIPPED: [(&str, &str, usize); 3] = [
    (
        "evalsets/oral_english.jsonl",
        "rubrics/oral_english.toml",
        50,
    ),
    ("evalsets/roleplay.jsonl", "rubrics/roleplay.toml", 30),
    (
        "evalsets/length_control.jsonl",
        "rubrics/length_control.toml",
        40,
    ),
];

/// `evalrun check` in an empty folder (no evalrun.toml), so only the given files are read.
fn check(dir: &TestDir, evalset: &std::path::Path, rubric: &str) -> Out {
    dir.cmd(&["check"])
        .arg("--evalset")
        .arg(evalset)
        .arg("--rubric")
        .arg(repo_file(rubric))
        .output()
}

fn assert_lines(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(
            text.lines().any(|l| l.contains(needle)),
            "no line with {needle:?} in\n{text}"
        );
    }
}

#[test]
fn check_passes_on_each_shipped_set_and_prints_its_makeup() {
    let dir = TestDir::new();
    let expected: [&[&str]; 3] = [
        &[
            "rubric   ",
            "oral_english.toml: ok (4 dimensions, 13 rules)",
            "items            50",
            "normal            24   48.0%   47.8%",
            "terse             17   34.0%   34.8%",
            "ungrammatical      3    6.0%    4.3%",
            "chinese            2    4.0%    4.3%",
            "misspelled         2    4.0%    4.3%",
            "off_topic          2    4.0%    4.3%",
            "history entries per vars item",
        ],
        &[
            "roleplay.toml: ok (1 dimension, 13 rules)",
            "items            30",
            "with reference   30",
            "孙悟空       5   16.7%",
            "王熙凤       3   10.0%",
            "宋江         3   10.0%",
            "user turns per conversation",
            "   2  2  ",
            "  14  1  ",
        ],
        &[
            "length_control.toml: ok (2 dimensions, 4 rules)",
            "items            40",
            "with reference   12",
            "max           12   30.0%   30.0%",
            "approx        10   25.0%   25.0%",
            "sentences      5   12.5%   12.5%",
            // The three-sentence items have no character length; the rule says so rather than pass.
            "line 36: rule `length_ok` finds no length in the rule, meta.length or the prompt of 5 items (lines 36, 37, 38, 39, 40): the rule is left out there",
        ],
    ];
    for ((set, rubric, n), needles) in SHIPPED.iter().zip(expected) {
        let out = check(&dir, &repo_file(set), rubric);
        let text = out.stdout();
        assert_eq!(out.code(), Some(0), "{set}: {text}{}", out.stderr());
        assert_lines(&text, &[&format!("{set}: {n} items")]);
        assert_lines(
            &text,
            &[
                "prompt length (chars)  min ",
                "duplicate prompts      none",
                "near-duplicates        none",
                "empty/missing turns    none",
            ],
        );
        assert_lines(&text, needles);
        assert!(!text.contains("problems ("), "{set}: {text}");
        assert!(
            !text.lines().any(|l| l.ends_with("  !")),
            "{set}: no category is off target\n{text}"
        );
    }
}

/// Lines of a shipped file.
fn shipped_lines(rel: &str) -> Vec<String> {
    std::fs::read_to_string(repo_file(rel))
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn check_names_every_problem_of_a_broken_roleplay_copy_with_its_line() {
    let good = shipped_lines("evalsets/roleplay.jsonl");
    let conversation = |line: &str| serde_json::from_str::<Vec<Value>>(line).unwrap();
    let mut lines: Vec<String> = good[..8].to_vec();
    // Line 3: turn 2 of 4 has an empty prompt.
    let mut empty = conversation(&good[2]);
    empty[1]["prompt"] = json!("  ");
    lines[2] = serde_json::to_string(&empty).unwrap();
    // Line 4: the middle turn of three has lost its response (seed 002: 数据缺失).
    let mut gap = conversation(&good[3]);
    gap[1]["response"] = json!([[""]]);
    lines[3] = serde_json::to_string(&gap).unwrap();
    // Line 6: not JSON (a missing comma between two turns).
    lines[5] = good[5].replacen("]]}, {", "]]} {", 1);
    // Line 9: the conversation of line 1 again; line 10: that of line 2 with different whitespace.
    lines.push(good[0].clone());
    lines.push(good[1].replace("\", \"response\"", "\",  \"response\""));
    let dir = TestDir::new();
    let path = dir.write("broken.jsonl", &(lines.join("\n") + "\n"));

    let out = check(&dir, &path, "rubrics/roleplay.toml");
    let text = out.stdout();
    assert_eq!(out.code(), Some(2), "{text}{}", out.stderr());
    assert_lines(
        &text,
        &[
            "items            7",
            "rejected lines   3",
            "duplicate prompts      2",
            "empty/missing turns    2",
            "problems (5)",
            "  line 3: turn 2 of 4: empty prompt",
            "  line 4: turn 2 of 3 has no response (only the last turn, the one answered, may leave it empty)",
            "  line 6: invalid JSON at column ",
            "  line 9: duplicate prompt: same as line 1",
            "  line 10: duplicate prompt: same as line 2",
        ],
    );
    assert!(
        out.stderr()
            .contains("broken.jsonl: 5 problems (listed above with their lines)"),
        "{}",
        out.stderr()
    );
}

#[test]
fn check_names_what_the_length_rubric_cannot_use() {
    let mut lines = shipped_lines("evalsets/length_control.jsonl")[..4].to_vec();
    // Line 2: a meta.length the length rule cannot read (it would fail every answer).
    lines[1] = lines[1].replace(
        r#""meta": {"length": {"max": 30}}"#,
        r#""meta": {"length": {"target": 30, "tolerance": 0.1}}"#,
    );
    // Line 5: line 1's request under a new id; line 6: a prompt that is only whitespace.
    let mut again: Value = serde_json::from_str(&lines[0]).unwrap();
    again["id"] = json!("lc-901");
    lines.push(serde_json::to_string(&again).unwrap());
    lines.push(r#"{"id": "lc-902", "prompt": " ", "category": "max"}"#.into());
    let dir = TestDir::new();
    let path = dir.write("broken.jsonl", &(lines.join("\n") + "\n"));

    let out = check(&dir, &path, "rubrics/length_control.toml");
    let text = out.stdout();
    assert_eq!(out.code(), Some(2), "{text}{}", out.stderr());
    assert_lines(
        &text,
        &[
            "problems (3)",
            "  line 2: rule `length_ok`: meta.length {\"target\":30,\"tolerance\":0.1} is not a length",
            "  line 5: duplicate prompt: same as line 1",
            "  line 6: empty prompt",
        ],
    );
}

/// `[models.NAME]` blocks for OpenAI-compatible models at `base_url`, served as `model`.
fn config(base_url: &str, models: &[(&str, &str)]) -> String {
    models
        .iter()
        .map(|(name, model)| {
            format!(
                "[models.{name}]\nprovider = \"openai\"\nbase_url = \"{base_url}\"\nmodel = \"{model}\"\nretries = 2\ntimeout_s = 20\n\n"
            )
        })
        .collect()
}

fn run(dir: &TestDir, models: &str, evalset: &std::path::Path, rubric: &str, out: &str) -> Out {
    dir.cmd(&["run", "--models", models, "--judge", "none", "--quiet"])
        .arg("--evalset")
        .arg(evalset)
        .arg("--rubric")
        .arg(repo_file(rubric))
        .args(["--out", out])
        .output()
}

/// A rule of a rubric file: its id and the categories and templates it is limited to (empty: all).
struct RuleScope {
    id: String,
    categories: Vec<String>,
    templates: Vec<String>,
}

fn rubric_rules(rubric: &str) -> Vec<RuleScope> {
    let text = std::fs::read_to_string(repo_file(rubric)).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    doc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let list = |key: &str| -> Vec<String> {
                r.get(key)
                    .and_then(|c| c.as_array())
                    .map(|c| c.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default()
            };
            RuleScope {
                id: r["id"].as_str().unwrap().to_string(),
                categories: list("categories"),
                templates: list("templates"),
            }
        })
        .collect()
}

#[test]
fn each_shipped_set_runs_end_to_end_against_the_simulator() {
    let sim = Sim::start("");
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &config(
            &sim.openai_base_url(),
            &[
                ("ernie-speed", "ernie-speed"),
                ("sft", "sft-full-e6-lr3e-5"),
            ],
        ),
    );
    for (set, rubric, n) in SHIPPED {
        let name = set
            .trim_start_matches("evalsets/")
            .trim_end_matches(".jsonl");
        let out_dir = format!("out-{name}");
        let out = run(&dir, "ernie-speed,sft", &repo_file(set), rubric, &out_dir);
        assert_eq!(out.code(), Some(0), "{set}: {}", out.stderr());
        let run_dir = dir.path().join(&out_dir);
        assert!(run_dir.join("summary.json").exists(), "{set}");

        // id → (category, template of a vars item).
        let items: BTreeMap<String, (Option<String>, Option<String>)> =
            jsonl(&run_dir.join("items.jsonl"))
                .iter()
                .map(|i| {
                    let template = i["vars"].as_object().map(|v| {
                        v.get("template")
                            .and_then(Value::as_str)
                            .unwrap_or("default")
                            .to_string()
                    });
                    (
                        i["id"].as_str().unwrap().to_string(),
                        (i["category"].as_str().map(String::from), template),
                    )
                })
                .collect();
        assert_eq!(items.len(), n, "{set}");
        let responses = jsonl(&run_dir.join("responses.jsonl"));
        assert_eq!(responses.len(), 2 * n, "{set}");
        assert!(
            responses.iter().all(|r| r["error"].is_null()),
            "{set}: every request answered"
        );

        let rules = rubric_rules(rubric);
        let scores = jsonl(&run_dir.join("scores.jsonl"));
        assert_eq!(scores.len(), 2 * n, "{set}");
        for s in &scores {
            let item = s["item_id"].as_str().unwrap();
            let (category, template) = &items[item];
            let category = category.as_deref();
            // Every rule that applies to the item was checked, and no other: category filters hold.
            let checked: BTreeSet<&str> = s["rules"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            for rule in &rules {
                let in_scope = |scope: &[String], of: Option<&str>| {
                    scope.is_empty() || of.is_some_and(|x| scope.iter().any(|s| s == x))
                };
                let applies = in_scope(&rule.categories, category)
                    && in_scope(&rule.templates, template.as_deref());
                // A length_range rule is left out where no length is named (the sentence items).
                let unbounded = rule.id == "length_ok" && category == Some("sentences");
                assert_eq!(
                    checked.contains(rule.id.as_str()),
                    applies && !unbounded,
                    "{set} {item} ({category:?}, {template:?}): rule {}",
                    rule.id
                );
            }
            for (id, outcome) in s["rules"].as_object().unwrap() {
                assert!(outcome["pass"].is_boolean(), "{set} {item} {id}");
                assert!(
                    !outcome["detail"].as_str().unwrap().is_empty(),
                    "{set} {item} {id}"
                );
            }
        }
        let dimension = |s: &Value, d: &str| s["dimensions"][d].clone();
        match name {
            "roleplay" => {
                for s in &scores {
                    // Judged, and no judge: unscored, whatever the rules say.
                    assert_eq!(dimension(s, "immersion")["score"], Value::Null);
                    assert!(s["rules"]["answer_not_empty"]["pass"].as_bool().unwrap());
                }
            }
            "length_control" => {
                let mut passed = 0;
                for s in &scores {
                    // Decided by rules alone: 1 if every length rule passed, else 0.
                    let compliance = dimension(s, "length_compliance");
                    assert_eq!(compliance["source"], "rules");
                    let length_rules_pass = ["length_ok", "three_sentences"]
                        .iter()
                        .filter_map(|r| s["rules"][r]["pass"].as_bool())
                        .all(|p| p);
                    let expected = if length_rules_pass { 1.0 } else { 0.0 };
                    assert_eq!(compliance["score"].as_f64(), Some(expected), "{s}");
                    passed += usize::from(length_rules_pass);
                    assert_eq!(dimension(s, "quality")["score"], Value::Null);
                }
                // The simulated models miss some lengths and keep others.
                assert!(0 < passed && passed < scores.len(), "{passed}");
            }
            _ => {
                for s in &scores {
                    assert!(s["rules"]["json_extractable"]["pass"].is_boolean());
                }
            }
        }
    }
}

/// Role-play answers scripted per last user turn: each wrong voice is caught by its rule and pins the
/// seed's level.
#[test]
fn roleplay_rules_catch_wrong_voices_and_assistant_talk() {
    let good = shipped_lines("evalsets/roleplay.jsonl");
    let profile = |line: &str| {
        serde_json::from_str::<Vec<Value>>(line).unwrap()[0]["prompt"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let sun = profile(&good[0]);
    let chat = |id: &str, category: &str, last: &str| {
        json!({
            "id": id,
            "category": category,
            "messages": [
                {"role": "user", "content": sun},
                {"role": "assistant", "content": "好的！现在我来扮演孙悟空。"},
                {"role": "user", "content": last},
            ],
        })
        .to_string()
    };
    let set = [
        // Line 1: 孙悟空, asked by 唐三藏; line 2: 猪八戒, asked by 高翠兰 (both as shipped).
        good[0].clone(),
        good[1].clone(),
        // 孙悟空 again, as an object item whose category names the persona.
        chat("swap", "孙悟空", "猪八戒:(揉着眼睛)猴哥，师父叫你去化斋。"),
        chat("ai", "孙悟空", "大圣，你平时都喜欢做什么？"),
        chat("fine", "孙悟空", "大圣，你最喜欢吃什么？"),
        // Line 6: the shipped 孙悟空 conversation, its last prompt answered by 猪八戒.
        {
            let mut turns: Vec<Value> = serde_json::from_str(&good[0]).unwrap();
            let last = turns.last_mut().unwrap();
            last["prompt"] = "唐三藏:(着急)悟空，快看是谁来了？".into();
            last["response"] = serde_json::json!([[""]]);
            Value::Array(turns).to_string()
        },
    ]
    .join("\n");
    let server = Sim::scripted("", vec![
        reply("唐三藏:(合掌)悟空", "唐三藏:(合掌)阿弥陀佛，悟空，为师全仗你了。"),
        reply("高翠兰:(装作害怕)", "猪八戒:(慌忙系衣服)若是那弼马温来，老猪可就走不成了！\n高翠兰:(一把拉住他)哥哥莫走！"),
        reply("猪八戒:(揉着眼睛)", "猪八戒:(打个哈欠)猴哥，老猪这就去。"),
        reply("喜欢做什么", "作为一个AI助手，我很乐意扮演孙悟空和你聊天！"),
        reply("快看是谁来了", "猪八戒:(探头探脑)师父，是俺老猪来了！"),
        reply("最喜欢吃什么", "孙悟空:(眼睛一亮)那还用说！蟠桃园里的仙桃，咬一口满嘴香甜！"),
    ]);
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &config(&server.openai_base_url(), &[("m", "ernie-speed")]),
    );
    let path = dir.write("set.jsonl", &(set + "\n"));
    let out = run(&dir, "m", &path, "rubrics/roleplay.toml", "out");
    assert_eq!(out.code(), Some(0), "{}", out.stderr());

    let scores = jsonl(&dir.path().join("out/scores.jsonl"));
    let record = |item: &str| -> Value {
        scores
            .iter()
            .find(|s| s["item_id"] == item)
            .unwrap_or_else(|| panic!("no score for {item}"))
            .clone()
    };
    let failed = |item: &str| -> Vec<String> {
        let r = record(item);
        r["rules"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, o)| o["pass"] == false)
            .map(|(id, _)| id.clone())
            .collect()
    };
    let cap = |item: &str| record(item)["dimensions"]["immersion"]["rule_cap"].as_f64();

    // The user's character answering: level 0.
    assert_eq!(failed("line-1"), ["not_voiced_as_interlocutor"]);
    assert_eq!(cap("line-1"), Some(0.0));
    assert!(
        record("line-1")["rules"]["not_voiced_as_interlocutor"]["detail"]
            .as_str()
            .unwrap()
            .contains("唐三藏:")
    );
    // The persona, then the other side's line too: level 1 at most.
    assert_eq!(failed("line-2"), ["speaks_only_for_itself"]);
    assert_eq!(cap("line-2"), Some(1.0));
    // 猪八戒 where 孙悟空 was asked (seed 002 问题3): caught through the category.
    assert_eq!(failed("swap"), ["no_swap_sun_wukong"]);
    assert_eq!(cap("swap"), Some(0.0));
    assert!(record("swap")["rules"].get("no_swap_zhu_bajie").is_none());
    // AI-assistant talk (问题1).
    assert_eq!(failed("ai"), ["no_assistant_speak"]);
    assert_eq!(cap("ai"), Some(1.0));
    // In character: nothing fails and nothing bounds the judge.
    assert!(failed("fine").is_empty());
    assert_eq!(cap("fine"), None);
    // Qianfan lines are tagged with the persona they ask for, so the swap rules apply to the shipped
    // form too: the persona's own rule, and only it.
    assert_eq!(
        record("line-1")["rules"]["no_swap_sun_wukong"]["pass"],
        true
    );
    assert_eq!(record("line-2")["rules"]["no_swap_zhu_bajie"]["pass"], true);
    assert_eq!(failed("line-6"), ["no_swap_sun_wukong"]);
    assert_eq!(cap("line-6"), Some(0.0));
}

/// Length answers scripted per request: the bound comes from meta.length, sentence counts from the
/// three-sentence rule, and chatter around the copy is flagged.
#[test]
fn length_rules_count_characters_and_sentences() {
    let items = [
        r#"{"id": "max", "prompt": "给快递小哥写一句新年感谢的话，最多25个字。", "category": "max", "meta": {"length": {"max": 25}}}"#,
        r#"{"id": "over", "prompt": "给班主任老师发一条新年祝福短信，别超过20个字。", "category": "max", "meta": {"length": {"max": 20}}}"#,
        r#"{"id": "about", "prompt": "写一段40字左右的主持串词，引出舞狮表演。", "category": "approx", "meta": {"length": 40}}"#,
        r#"{"id": "prompt-only", "prompt": "帮我写一段新年祝福，不少于30字。", "category": "min"}"#,
        r#"{"id": "three", "prompt": "用三句话给全家写一段新年祝福。", "category": "sentences", "meta": {"sentences": 3}}"#,
        r#"{"id": "four", "prompt": "用三个句子向小朋友讲讲春节的由来。", "category": "sentences", "meta": {"sentences": 3}}"#,
    ];
    let server = Sim::scripted("", vec![
        // 16 characters.
        reply("快递小哥", "一年辛苦送万家，新年快乐平安行！"),
        // A 13-character greeting wrapped in chatter, 27 characters in all.
        reply("班主任", "好的，祝福如下：老师新年快乐，桃李满天下！（共12字）"),
        // 38 characters, within 32–48.
        reply("舞狮", "锣鼓声声辞旧岁，瑞狮腾跃迎新春。下面请欣赏舞狮表演，让我们用热烈的掌声有请！"),
        // 15 characters: under the prompt's 不少于30字.
        reply("不少于30字", "新年快乐，万事如意，阖家幸福！"),
        reply("全家", "新的一年，祝爸爸妈妈身体健康。祝爷爷奶奶福寿安康！\n愿我们全家平平安安，日子越过越红火"),
        reply("由来", "很久以前有一只怪兽叫“年”。它每到除夕就出来伤人。后来人们发现它怕红色和响声。于是家家贴春联、放鞭炮，这就是过年。"),
    ]);
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &config(&server.openai_base_url(), &[("m", "ernie-speed")]),
    );
    let path = dir.write("set.jsonl", &(items.join("\n") + "\n"));
    let out = run(&dir, "m", &path, "rubrics/length_control.toml", "out");
    assert_eq!(out.code(), Some(0), "{}", out.stderr());

    let scores = jsonl(&dir.path().join("out/scores.jsonl"));
    let record = |item: &str| -> Value {
        scores
            .iter()
            .find(|s| s["item_id"] == item)
            .unwrap_or_else(|| panic!("no score for {item}"))
            .clone()
    };
    let rule = |item: &str, id: &str| record(item)["rules"][id].clone();
    let compliance = |item: &str| record(item)["dimensions"]["length_compliance"]["score"].as_f64();
    let quality_cap = |item: &str| record(item)["dimensions"]["quality"]["rule_cap"].as_f64();

    assert_eq!(rule("max", "length_ok")["pass"], true);
    assert_eq!(
        rule("max", "length_ok")["detail"],
        "output has 16 characters (expected at most 25, from meta.length)"
    );
    assert_eq!(compliance("max"), Some(1.0));
    assert_eq!(quality_cap("max"), None);

    // The chatter is counted (27 > 20) and flagged; both bound the quality.
    assert_eq!(rule("over", "length_ok")["pass"], false);
    assert_eq!(rule("over", "copy_only")["pass"], false);
    assert_eq!(compliance("over"), Some(0.0));
    assert_eq!(quality_cap("over"), Some(3.0));

    assert_eq!(rule("about", "length_ok")["pass"], true);
    assert!(rule("about", "length_ok")["detail"]
        .as_str()
        .unwrap()
        .ends_with("(expected 32–48, from meta.length 40 ±20%)"));

    // Without meta, the bound is the prompt's.
    assert_eq!(rule("prompt-only", "length_ok")["pass"], false);
    assert!(rule("prompt-only", "length_ok")["detail"]
        .as_str()
        .unwrap()
        .contains("expected at least 30, from \"不少于30字\""));
    assert_eq!(compliance("prompt-only"), Some(0.0));

    // Three sentences (the last without a full stop, one after a line break) pass; four do not. The
    // character-length rule has nothing to check on them.
    assert_eq!(rule("three", "three_sentences")["pass"], true);
    assert_eq!(rule("three", "length_ok"), Value::Null);
    assert_eq!(compliance("three"), Some(1.0));
    assert_eq!(rule("four", "three_sentences")["pass"], false);
    assert_eq!(compliance("four"), Some(0.0));
    assert_eq!(rule("max", "three_sentences"), Value::Null);
}

/// The shipped reference answers are what the rubrics ask for: every rule that applies passes.
#[test]
fn shipped_references_pass_every_rule_of_their_rubric() {
    use evalrun::inputs::{evalset, rubric};
    let mut checked = 0;
    for (set, rubric_file, _) in SHIPPED {
        let rubric = rubric::load(&repo_file(rubric_file)).unwrap();
        for mut item in evalset::load(&repo_file(set)).unwrap() {
            rubric.render(&mut item).unwrap();
            let Some(reference) = item.reference.clone() else {
                continue;
            };
            let (rules, _) = evalrun::score::score_answer(&rubric, &item, Some(&reference));
            assert!(!rules.is_empty(), "{set} {}", item.id);
            for (id, outcome) in rules {
                assert!(outcome.pass, "{set} {}: {id}: {}", item.id, outcome.detail);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 30 + 12);
}
