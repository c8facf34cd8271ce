//! Composing the tutor's answer (Reply, Suggestions, Analysis) for a classified line and a
//! profile's behaviour table.

use super::classify::{classify, misspelling};
use super::themes::{content_words, theme};
use super::{StudentLine, TutorPrompt};
use crate::sim::profiles::Behaviour;
use crate::sim::rng::{chance, Rng};

struct Parts {
    reply: String,
    suggestions: Vec<String>,
    analysis: Option<String>,
}

static OPENINGS: &[&str] = &[
    "Hi there! Let's talk about {t}. What do you think about it?",
    "Hey, I've been thinking about {t} lately. How about you?",
    "Good to see you! Today let's chat about {t}. Do you have any stories to share?",
    "So, {t} is our topic today. What comes to your mind first?",
    "Hello! I heard you have some thoughts on {t}. Can you tell me about them?",
];

/// Openings that set the scene but ask the student nothing.
static FLAT_OPENINGS: &[&str] = &[
    "Hello! Today our topic is {t}.",
    "Hi there. We are going to talk about {t} today.",
    "Good morning. Let's practise speaking about {t}.",
];

static PRAISE: &[&str] = &[
    "That's great!",
    "Nice!",
    "Good point!",
    "I see.",
    "Interesting!",
    "Sounds good!",
];

static FOLLOW_UPS: &[&str] = &[
    "Why do you think so?",
    "Can you tell me more about {k}?",
    "How did that make you feel?",
    "What else do you like about {t}?",
    "What would you do differently next time?",
    "Who do you usually talk to about {k}?",
];

/// On the topic, but nothing that moves the talk on.
static FLAT_FOLLOW_UPS: &[&str] = &[
    "Many students like {t}.",
    "I also think {t} is important.",
    "We are talking about {t} today.",
    "That is a common answer.",
];

static LONG_TAILS: &[&str] = &[
    "Plus, {t} gives us so many chances to learn new things, meet new people and practise our English every single day, both inside and outside the classroom.",
    "I remember that when I was in high school I also spent a lot of time thinking about {t}, and talking with my friends about it always helped me understand it much better.",
    "You can even share your own experiences with your classmates and teachers after class, and I am sure that everyone will be very happy to listen to your ideas and stories.",
];

static STUDENT_SUGGESTIONS: &[&str] = &[
    "I really enjoy {t}, it's a lot of fun.",
    "I think {t} is important for students like me.",
    "To be honest, I'm still a little nervous about it.",
    "My favorite part is sharing it with my friends.",
    "I learned a lot from it last year.",
    "I'd like to try something new next time.",
    "It helps me relax after a long day at school.",
    "Yes, and I want to know more about it.",
];

static BACK_ON_TOPIC: &[&str] = &[
    "Sorry, let's get back to {t}.",
    "You're right, I'll talk about {t}.",
    "OK. I think {t} is really interesting.",
    "Sorry, I mean I enjoy talking about {t}.",
];

static ENGLISH_AGAIN: &[&str] = &[
    "Sorry, I mean I really like {t}.",
    "In English, I'd say {t} was great.",
    "Yes, it was really exciting!",
    "I agree, it was a big surprise.",
    "I think so too, I enjoyed it a lot.",
    "It was great, and I want to try it again.",
];

/// Student-voiced, but nothing that follows from the Reply.
static LOOSE_SUGGESTIONS: &[&str] = &[
    "OK, I see.",
    "Yes, I will try.",
    "Sure, no problem.",
    "Maybe another day.",
    "Hmm, I am not sure.",
    "Oh, I forgot.",
];

static TEACHER_SUGGESTIONS: &[&str] = &[
    "Can you tell me more about {t}?",
    "How do you usually prepare for it?",
    "What is the most important thing you learned?",
    "Why do you think {t} matters to students?",
    "Could you give me an example?",
];

static TERSE_EXPANSIONS: &[&str] = &[
    "Yes, I think it was a lot of fun.",
    "Yes, I really enjoyed it.",
    "I'm not sure, but I would like to try.",
];

static ANALYSIS_NORMAL: &[&str] = &[
    "学生的回答完整，语法正确，使用了“{p}”这样的表达，句式自然流畅。",
    "学生正确地使用了“{p}”，句子结构完整，没有发现词汇或语法错误。",
    "学生的回复表达清晰，“{p}”用得恰当，符合高中生的英语水平。",
];

static ANALYSIS_PRAISE: &[&str] = &[
    "学生的回复非常流畅自然，能够准确表达情感并且符合语法规则。",
    "学生的回答简洁明了，用词准确，没有语法错误。",
    "学生的回复表达清晰，句子完整，符合高中生的英语水平。",
];

static ANALYSIS_EXPLAINS: &[&str] = &[
    "我询问了学生更多的细节，以便进一步讨论这个话题。同时，我给出了三个建议性回复，供学生参考。",
    "老师的回复肯定了学生的观点，并通过提问引导学生继续讨论。建议中的三个句子可以帮助学生更好地回答。",
];

static PROSE: &[&str] = &[
    "Hello everyone! Today we're going to talk about {t}. It's a great chance to practise speaking, so let's share our experiences together.",
    "Sure! Here is my response as your English teacher. Let's keep the conversation about {t} going.",
];

static INVENTED_STUDENT: &[&str] = &[
    "I really need to work on it. Sometimes I feel a bit lazy.",
    "That's helpful. How do you deal with stress?",
    "I agree with you. It is very interesting.",
];

fn fill(template: &str, t: &str, k: &str) -> String {
    template.replace("{t}", t).replace("{k}", k)
}

/// The first few words of the student's line, for quoting in the Analysis.
fn quote_phrase(line: &str) -> String {
    let first = line
        .split_inclusive(['.', '!', '?', ','])
        .find(|s| s.split_whitespace().count() >= 2)
        .unwrap_or(line);
    let ws: Vec<&str> = first.split_whitespace().take(4).collect();
    ws.join(" ")
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric() && c != '\'')
        .to_string()
}

/// The answer to a tutor prompt for a profile's behaviour table and a request key ([`key`]).
pub(crate) fn answer(tp: &TutorPrompt, b: &Behaviour, key: u64) -> String {
    let mut rng = Rng::for_key(key, "tutor");
    let t = theme(&tp.topic).en.as_str();
    let student = tp.last_student().unwrap_or("");
    let class = if tp.opening {
        StudentLine::Normal
    } else {
        classify(tp, student)
    };
    // The student's longest word, for follow-up questions; never a misspelled one.
    let misspelled = match &class {
        StudentLine::Misspelled { bad, .. } => bad.to_ascii_lowercase(),
        _ => String::new(),
    };
    let k = content_words(student)
        .into_iter()
        .filter(|w| *w != misspelled && misspelling(w).is_none())
        .max_by_key(|w| w.len())
        .unwrap_or_else(|| t.to_string());
    let flat = chance(key, "flat_reply", b.flat_reply);
    let (mut parts, bank) = if tp.opening {
        let openings = if flat { FLAT_OPENINGS } else { OPENINGS };
        let p = Parts {
            reply: fill(rng.pick(openings), t, &k),
            suggestions: Vec::new(),
            analysis: None,
        };
        (p, STUDENT_SUGGESTIONS)
    } else {
        turn_parts(tp, &class, b, key, &mut rng, t, &k, flat)
    };
    parts.suggestions = if chance(key, "teacher_suggestions", b.teacher_suggestions) {
        pick(&mut rng, TEACHER_SUGGESTIONS, 3, t, &k)
    } else if chance(key, "loose_suggestions", b.loose_suggestions) {
        pick(&mut rng, LOOSE_SUGGESTIONS, 3, t, &k)
    } else {
        linked_suggestions(&mut rng, bank, t, &k)
    };
    if chance(key, "long_reply", b.long_reply) {
        parts.reply.push(' ');
        parts.reply.push_str(&fill(rng.pick(LONG_TAILS), t, &k));
    }
    if chance(key, "chinese_in_english", b.chinese_in_english) {
        if chance(key, "chinese_in_reply", 0.5) {
            parts.reply.push_str(" 你觉得呢？");
        } else {
            let i = rng.below(parts.suggestions.len());
            parts.suggestions[i] = "我觉得这个话题很有意思。".to_string();
        }
    }
    let pretty = chance(key, "pretty_json", b.pretty_json);
    let mut out = render(&parts, pretty);
    if chance(key, "fence", b.fence) {
        out = format!("```json\n{out}\n```");
    }
    if chance(key, "prose_before", b.prose_before) {
        out = format!("{}\n\n{out}", fill(rng.pick(PROSE), t, &k));
    }
    if chance(key, "continuation", b.continuation) {
        for _ in 0..1 + rng.below(2) {
            let invented = rng.pick(INVENTED_STUDENT);
            let more = Parts {
                reply: format!("{} {}", rng.pick(PRAISE), fill(rng.pick(FOLLOW_UPS), t, &k)),
                suggestions: linked_suggestions(&mut rng, STUDENT_SUGGESTIONS, t, &k),
                analysis: None,
            };
            out = format!(
                "{out}\n\n[学生回复]\n{invented}\n\n{}",
                render(&more, false)
            );
        }
    }
    out
}

/// `n` distinct sentences of `bank`, filled in.
fn pick(rng: &mut Rng, bank: &[&str], n: usize, t: &str, k: &str) -> Vec<String> {
    rng.pick_distinct(bank, n)
        .into_iter()
        .map(|s| fill(s, t, k))
        .collect()
}

/// Three student-voiced sentences of `bank`, at least one of them about the topic (`{t}`), in a
/// hashed order.
fn linked_suggestions(rng: &mut Rng, bank: &[&str], t: &str, k: &str) -> Vec<String> {
    let (about, other): (Vec<&str>, Vec<&str>) = bank.iter().partition(|s| s.contains("{t}"));
    if about.is_empty() {
        return pick(rng, bank, 3, t, k);
    }
    let first = rng.pick(&about);
    let rest: Vec<&str> = about
        .iter()
        .chain(&other)
        .copied()
        .filter(|s| *s != first)
        .collect();
    let mut chosen = vec![first];
    chosen.extend(rng.pick_distinct(&rest, 2));
    let at = rng.below(3);
    chosen.swap(0, at);
    chosen.into_iter().map(|s| fill(s, t, k)).collect()
}

/// Reply and Analysis of a later turn, and the bank its Suggestions come from.
#[allow(clippy::too_many_arguments)]
fn turn_parts(
    tp: &TutorPrompt,
    class: &StudentLine,
    b: &Behaviour,
    key: u64,
    rng: &mut Rng,
    t: &str,
    k: &str,
    flat: bool,
) -> (Parts, &'static [&'static str]) {
    let student = tp.last_student().unwrap_or("");
    // A flat Reply stays on the topic but moves nothing on: no question back.
    let follow_up = |rng: &mut Rng| {
        if flat {
            fill(rng.pick(FLAT_FOLLOW_UPS), t, k)
        } else {
            fill(rng.pick(FOLLOW_UPS), t, k)
        }
    };
    let uncorrected = chance(key, "grammar_uncorrected", b.grammar_uncorrected);
    let no_reminder = chance(key, "no_reminder", b.no_reminder);
    let mut bank = STUDENT_SUGGESTIONS;
    let (reply, analysis) = match class {
        StudentLine::Normal => (
            format!("{} {}", rng.pick(PRAISE), follow_up(rng)),
            fill(rng.pick(ANALYSIS_NORMAL), t, k).replace("{p}", &quote_phrase(student)),
        ),
        StudentLine::Terse => {
            let analysis = if uncorrected {
                rng.pick(ANALYSIS_PRAISE).to_string()
            } else {
                format!(
                    "学生的回复“{}”过于简短，句子不完整，建议使用完整的句子表达，例如：“{}”",
                    student.trim(),
                    rng.pick(TERSE_EXPANSIONS)
                )
            };
            let reply = if flat {
                format!("I see. {}", fill(rng.pick(FLAT_FOLLOW_UPS), t, k))
            } else {
                format!("I see! Can you say a bit more? What did you like most about {t}?")
            };
            (reply, analysis)
        }
        StudentLine::Misspelled { bad, good } => {
            let analysis = if uncorrected {
                rng.pick(ANALYSIS_PRAISE).to_string()
            } else {
                match good {
                    Some(g) => {
                        format!("学生回复中的“{bad}”拼写错误，应为“{g}”，请注意单词的正确拼写。")
                    }
                    None => format!(
                        "学生回复中的“{bad}”拼写有误，请注意单词的正确拼写，避免使用不规范的缩写。"
                    ),
                }
            };
            (format!("Good try! {}", follow_up(rng)), analysis)
        }
        StudentLine::Ungrammatical { wrong, right } => {
            let analysis = if uncorrected {
                rng.pick(ANALYSIS_PRAISE).to_string()
            } else {
                format!("学生回复中存在语法错误：“{wrong}”应改为“{right}”，注意句子结构的完整性。")
            };
            (format!("Good try! {}", follow_up(rng)), analysis)
        }
        StudentLine::Chinese => {
            bank = ENGLISH_AGAIN;
            if no_reminder {
                (
                    format!("Absolutely, it was exciting! {}", follow_up(rng)),
                    rng.pick(ANALYSIS_PRAISE).to_string(),
                )
            } else {
                (
                    "Please try to use English in your response.".to_string(),
                    "学生使用了中文进行回复，需要提醒学生使用英文进行交流。".to_string(),
                )
            }
        }
        StudentLine::OffTopic => {
            if no_reminder {
                (
                    format!("That sounds fun! Tell me more about {k}."),
                    rng.pick(ANALYSIS_PRAISE).to_string(),
                )
            } else {
                bank = BACK_ON_TOPIC;
                (
                    format!("You're off topic. We are talking about {t} now. What do you think about it?"),
                    "学生的回复与本次主题无关，需要提醒学生回到本次主题的讨论。".to_string(),
                )
            }
        }
    };
    let analysis = if chance(key, "analysis_explains_reply", b.analysis_explains_reply) {
        rng.pick(ANALYSIS_EXPLAINS).to_string()
    } else {
        analysis
    };
    let parts = Parts {
        reply,
        suggestions: Vec::new(),
        analysis: Some(analysis),
    };
    (parts, bank)
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// One key per line (ERNIE's layout) or one line (the fine-tunes' layout); keys in template order.
fn render(p: &Parts, pretty: bool) -> String {
    let sugg: Vec<String> = p.suggestions.iter().map(|s| json_str(s)).collect();
    if pretty {
        let mut out = format!(
            "{{\n\"Reply\": {},\n\"Suggestion\": [\n{}\n]",
            json_str(&p.reply),
            sugg.join(",\n")
        );
        if let Some(a) = &p.analysis {
            out.push_str(&format!(",\n\"Analysis\": {}", json_str(a)));
        }
        out.push_str("\n}");
        out
    } else {
        let mut out = format!(
            "{{\"Reply\": {}, \"Suggestion\": [{}]",
            json_str(&p.reply),
            sugg.join(", ")
        );
        if let Some(a) = &p.analysis {
            out.push_str(&format!(", \"Analysis\": {}", json_str(a)));
        }
        out.push('}');
        out
    }
}
