//! Answers to seed 000's spoken-English tutor prompts, carrying the seed's failure modes at each
//! profile's rates (see [`super::profiles::Behaviour`]).
//!
//! The prompt is recognised by its template text ("你是一位英文口语老师"); "[开场白]" marks the
//! opening turn (Reply + Suggestion), "[对话历史]" a later turn (Reply + Suggestion + Analysis)
//! whose last `student:` line is the one answered. That line is classified by simple, documented
//! heuristics (Chinese characters; off-topic cue words with no overlap with the topic; a
//! misspelling list and letter/digit mixes; a few ungrammatical patterns; four words or fewer =
//! terse) and answered the way seed 000's fine-tuned model does — or, when a behaviour fires, the
//! way its base model does.

mod classify;
mod compose;
mod themes;

pub(crate) use classify::classify;
pub(crate) use compose::answer;
pub(crate) use themes::{content_words, topic_words};

use super::rng::hash64;
/// The phrase that identifies the tutor template.
pub(crate) const MARKER: &str = "你是一位英文口语老师";

/// A parsed tutor prompt.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TutorPrompt {
    /// `[开场白]`: the teacher opens the conversation; no Analysis.
    pub opening: bool,
    /// The `[主题介绍]` text (Chinese).
    pub topic: String,
    /// `(is_teacher, line)` from `[对话历史]`.
    pub history: Vec<(bool, String)>,
}

impl TutorPrompt {
    pub(crate) fn last_student(&self) -> Option<&str> {
        self.history
            .iter()
            .rev()
            .find(|(t, _)| !t)
            .map(|(_, s)| s.as_str())
    }

    fn last_teacher(&self) -> Option<&str> {
        self.history
            .iter()
            .rev()
            .find(|(t, _)| *t)
            .map(|(_, s)| s.as_str())
    }
}

/// The hash an answer is generated from: the simulator's seed, the profile, what the prompt asks
/// (opening or turn, topic, conversation) and the sample index — not the wire format, so every
/// protocol (and a retry after a fault) gets the same answer.
pub(crate) fn key(seed: u64, profile: &str, tp: &TutorPrompt, sample: u64) -> u64 {
    let mut parts: Vec<Vec<u8>> = vec![
        seed.to_le_bytes().to_vec(),
        profile.as_bytes().to_vec(),
        vec![u8::from(tp.opening)],
        tp.topic.as_bytes().to_vec(),
    ];
    for (teacher, line) in &tp.history {
        parts.push(vec![u8::from(*teacher)]);
        parts.push(line.as_bytes().to_vec());
    }
    parts.push(sample.to_le_bytes().to_vec());
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    hash64(&refs)
}

pub(crate) fn parse(prompt: &str) -> Option<TutorPrompt> {
    if !prompt.contains(MARKER) {
        return None;
    }
    let has_history = prompt.contains("[对话历史]");
    let opening = prompt.contains("[开场白]") && !has_history;
    let mut topic = String::new();
    let mut history = Vec::new();
    let mut section = "";
    for raw in prompt.lines() {
        let line = raw.trim();
        if line.starts_with('[') && line.ends_with(']') {
            section = match line {
                "[主题介绍]" => "topic",
                "[对话历史]" => "history",
                _ => "",
            };
            continue;
        }
        if line.is_empty() {
            continue;
        }
        match section {
            "topic" => {
                if !topic.is_empty() {
                    topic.push(' ');
                }
                topic.push_str(line);
            }
            "history" => {
                if let Some(rest) = strip_speaker(line, "teacher") {
                    history.push((true, rest));
                } else if let Some(rest) = strip_speaker(line, "student") {
                    history.push((false, rest));
                } else if let Some((_, last)) = history.last_mut() {
                    last.push(' ');
                    last.push_str(line);
                }
            }
            _ => {}
        }
    }
    Some(TutorPrompt {
        opening,
        topic,
        history,
    })
}

fn strip_speaker(line: &str, who: &str) -> Option<String> {
    let lower = line.get(..who.len())?.to_ascii_lowercase();
    if lower != who {
        return None;
    }
    let rest = line[who.len()..].trim_start();
    let rest = rest.strip_prefix(':').or_else(|| rest.strip_prefix('：'))?;
    Some(rest.trim().to_string())
}

/// What kind of student line is being answered (seed 000 §3.1.2's categories).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StudentLine {
    Normal,
    Terse,
    OffTopic,
    Chinese,
    Misspelled { bad: String, good: Option<String> },
    Ungrammatical { wrong: String, right: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::profiles::{by_model_name, Behaviour};
    use crate::sim::text::{has_cjk, words};

    pub(crate) fn turn_prompt(topic: &str, history: &[(&str, &str)]) -> String {
        let hist: Vec<String> = history.iter().map(|(w, l)| format!("{w}: {l}")).collect();
        format!(
            "你是一位英文口语老师，要和【中国高中水平】的英语学生进行口语练习。\n\n## 输出格式\n{{\n\"Reply\": [xxx]\n}}\n\n## 下面是本次交流的内容\n[主题介绍]\n{topic}\n\n[对话历史]\n{}\n",
            hist.join("\n")
        )
    }

    fn opening_prompt(topic: &str) -> String {
        format!("你是一位英文口语老师，要和【中国高中水平】的英语学生进行口语练习。\n\n## 下面是本次交流的内容\n[主题介绍]\n{topic}\n\n[开场白]\n")
    }

    const CLEAN: Behaviour = Behaviour {
        prose_before: 0.0,
        fence: 0.0,
        continuation: 0.0,
        long_reply: 0.0,
        flat_reply: 0.0,
        chinese_in_english: 0.0,
        teacher_suggestions: 0.0,
        loose_suggestions: 0.0,
        analysis_explains_reply: 0.0,
        grammar_uncorrected: 0.0,
        no_reminder: 0.0,
        pretty_json: 0.0,
    };

    fn json(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
    }

    #[test]
    fn parses_the_seed_prompts() {
        let p = turn_prompt(
            "两位同学对一场激动人心的篮球比赛进行回顾和分析。",
            &[
                ("teacher", "That was an amazing basketball game, wasn't it?"),
                ("student", "当然，这非常令人兴奋，而结果完全出乎意料！"),
            ],
        );
        let tp = parse(&p).unwrap();
        assert!(!tp.opening);
        assert_eq!(tp.topic, "两位同学对一场激动人心的篮球比赛进行回顾和分析。");
        assert_eq!(tp.history.len(), 2);
        assert_eq!(
            tp.last_student(),
            Some("当然，这非常令人兴奋，而结果完全出乎意料！")
        );
        let o = parse(&opening_prompt("学生们备考期间互相分享学习技巧")).unwrap();
        assert!(o.opening);
        assert!(parse("hello").is_none());
        // `teacher:The …` without a space, as in the seed.
        let q = parse(
            &turn_prompt("艺术节", &[("teacher", "x")])
                .replace("teacher: x", "teacher:The festival"),
        )
        .unwrap();
        assert_eq!(q.history[0], (true, "The festival".to_string()));
    }

    #[test]
    fn classifies_the_seed_categories() {
        let tp = parse(&turn_prompt(
            "一名学生在和外国朋友讨论他们对高中生活在不同文化背景下的体验。",
            &[("teacher", "High school is quite an adventure, isn't it?")],
        ))
        .unwrap();
        assert_eq!(classify(&tp, "我不知道“冒险”。"), StudentLine::Chinese);
        assert_eq!(
            classify(&tp, "I not know \"adventure\". High school okay."),
            StudentLine::Ungrammatical {
                wrong: "I not know".into(),
                right: "I do not know".into()
            }
        );
        assert_eq!(
            classify(&tp, "Yes, my brthday is on August 15th. I never 4get it."),
            StudentLine::Misspelled {
                bad: "brthday".into(),
                good: Some("birthday".into())
            }
        );
        assert_eq!(classify(&tp, "Yes, very fun!"), StudentLine::Terse);
        assert_eq!(
            classify(&tp, "By the way, what's for lunch today? I want pizza."),
            StudentLine::OffTopic
        );
        assert_eq!(
            classify(
                &tp,
                "I think high school here is different from my country."
            ),
            StudentLine::Normal
        );
        assert!(matches!(
            classify(&tp, "I never forget it it."),
            StudentLine::Ungrammatical { .. }
        ));
    }

    #[test]
    fn clean_answers_follow_the_template() {
        let p = turn_prompt(
            "两位同学对一场激动人心的篮球比赛进行回顾和分析。",
            &[
                ("teacher", "That was an amazing basketball game, wasn't it?"),
                ("student", "当然，这非常令人兴奋，而结果完全出乎意料！"),
            ],
        );
        let tp = parse(&p).unwrap();
        for key in 0..50 {
            let a = answer(&tp, &CLEAN, key);
            let v = json(&a);
            assert_eq!(v["Reply"], "Please try to use English in your response.");
            assert_eq!(v["Suggestion"].as_array().unwrap().len(), 3);
            assert!(has_cjk(v["Analysis"].as_str().unwrap()));
            for s in v["Suggestion"].as_array().unwrap() {
                assert!(!has_cjk(s.as_str().unwrap()));
            }
        }
        let o = parse(&opening_prompt(
            "学生们备考期间互相分享学习技巧和时间管理方法",
        ))
        .unwrap();
        for key in 0..50 {
            let v = json(&answer(&o, &CLEAN, key));
            assert!(v.get("Analysis").is_none());
            assert!(words(v["Reply"].as_str().unwrap()).len() <= 30);
        }
    }

    #[test]
    fn corrections_quote_the_error() {
        let p = turn_prompt(
            "高中生活",
            &[
                ("teacher", "Please try to use English in your response."),
                ("student", "I not know \"adventure\". High school okay."),
            ],
        );
        let v = json(&answer(&parse(&p).unwrap(), &CLEAN, 1));
        let a = v["Analysis"].as_str().unwrap();
        assert!(a.contains("I do not know"), "{a}");
    }

    #[test]
    fn every_behaviour_shows_when_forced() {
        let p = turn_prompt(
            "两位同学对一场激动人心的篮球比赛进行回顾和分析。",
            &[
                ("teacher", "That was an amazing basketball game, wasn't it?"),
                ("student", "当然，这非常令人兴奋！"),
            ],
        );
        let tp = parse(&p).unwrap();
        let all = Behaviour {
            prose_before: 1.0,
            fence: 1.0,
            continuation: 1.0,
            long_reply: 1.0,
            flat_reply: 0.0,
            chinese_in_english: 0.0,
            teacher_suggestions: 1.0,
            loose_suggestions: 0.0,
            analysis_explains_reply: 1.0,
            grammar_uncorrected: 1.0,
            no_reminder: 1.0,
            pretty_json: 1.0,
        };
        let a = answer(&tp, &all, 3);
        assert!(a.contains("```json\n{\n\"Reply\""), "{a}");
        assert!(a.contains("[学生回复]"));
        assert!(!a.starts_with('{') && !a.starts_with('`'));
        assert!(!a.contains("Please try to use English"));
        assert!(a.contains("我给出了") || a.contains("建议中的三个句子"));
        let fenced = a
            .split("```json\n")
            .nth(1)
            .unwrap()
            .split("\n```")
            .next()
            .unwrap();
        let v = json(fenced);
        assert!(
            words(v["Reply"].as_str().unwrap()).len() > 30,
            "{}",
            v["Reply"]
        );
        assert!(v["Suggestion"][0].as_str().unwrap().ends_with('?'));
    }

    #[test]
    fn profiles_differ_in_the_direction_of_the_seed_table() {
        let p = turn_prompt(
            "两位同学对一场激动人心的篮球比赛进行回顾和分析。",
            &[
                ("teacher", "That was an amazing basketball game, wasn't it?"),
                ("student", "当然，这非常令人兴奋！"),
            ],
        );
        let tp = parse(&p).unwrap();
        let strict = |name: &str| {
            let b = by_model_name(name).unwrap().behaviour;
            (0..400u64)
                .filter(|k| {
                    serde_json::from_str::<serde_json::Value>(&answer(&tp, &b, *k))
                        .is_ok_and(|v| v["Reply"] == "Please try to use English in your response.")
                })
                .count()
        };
        let speed = strict("ernie-speed");
        let sft = strict("sft-full-e6-lr3e-5");
        assert!(sft > speed * 3, "sft {sft} vs speed {speed}");
    }

    #[test]
    fn answers_are_deterministic() {
        let tp = parse(&opening_prompt("生日")).unwrap();
        let b = by_model_name("ernie-speed").unwrap().behaviour;
        assert_eq!(answer(&tp, &b, 9), answer(&tp, &b, 9));
    }
}
