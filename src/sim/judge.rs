//! The simulated judge model (`judge`): it answers evalrun's judge prompts the way a decent LLM judge
//! does, and fails the way real ones do.
//!
//! It reads only the prompt, never told which model wrote an answer: the conversation between the
//! `<<<CONVERSATION n>>>` lines, the dimensions as `【id】name：整数 lo–hi 分` blocks, and the answer(s)
//! between the `<<<ANSWER n>>>` (or `<<<ANSWER A n>>>` / `<<<ANSWER B n>>>`) lines. For the spoken-English
//! tutor (seed 000) it applies the rubric's level texts to what it finds: strict JSON or not, Chinese in
//! the English fields, a Reply of at most 30 words that moves the talk on, a reminder when the student
//! went off topic or answered in Chinese, three student-voiced Suggestions that follow the Reply, an
//! Analysis of the student's line that corrects its errors (not an explanation of the Reply; not
//! applicable to the opening turn). For other tasks it gives a plausible score per dimension from a
//! hash of the answer. Pairwise prompts get the better total, with a first-position bias when the two
//! are close, so some items get different verdicts in the two orders.
//!
//! Its replies are sometimes fenced or wrapped in prose, with scores as strings or full-width digits;
//! it misreads about one answer in 25 on a dimension by one level (Reply, Suggestion and Analysis, not
//! the mechanical prompt adherence), the same way on every call, as a judge at a low temperature errs
//! systematically rather than at random; and about one call in 25 is malformed (no JSON, cut off,
//! off the scale). The `garbage` fault makes the judge unusable for that share of answers on every
//! call (chosen by a hash of the answer), so a caller's retries cannot help. Grades and misreadings
//! are deterministic in the answer; the reply's wording, malformed replies and pairwise position
//! bias in the request.

use serde_json::{json, Map, Value};

use super::judge_lean::Lean;
use super::rng::{chance, hash64, Rng};
use super::text::{has_cjk, words};
use super::tutor::{self, StudentLine};

/// The judge profiles' names: `judge`, and two more for judge panels that grade alike but err
/// independently (`judge_lean.rs`).
pub(crate) const NAMES: [&str; 3] = ["judge", "judge-b", "judge-c"];

/// Probability of a malformed reply to any one call.
const MALFORMED: f64 = 0.04;
/// Probability that the judge misreads one dimension of an answer by one level: one level lower,
/// or higher from the bottom of the scale. It depends on the answer alone (every call, every
/// judge sample agrees), so `evalrun demo` reproduces seed 000's table exactly. Prompt adherence
/// is never misread: whether an answer is one strict JSON object with a Reply of at most 30 words
/// is a check, not a judgement.
const MISREAD: f64 = 0.04;

/// A dimension as the prompt lists it.
#[derive(Debug, Clone, PartialEq)]
struct Dim {
    id: String,
    lo: i64,
    hi: i64,
}

/// One grade: a score (or `None`: not applicable) and a reason.
#[derive(Debug, Clone, PartialEq)]
struct Grade {
    score: Option<i64>,
    why: String,
}

/// The reply to a judge prompt. `garbage` is the fault's share of answers the judge cannot grade.
/// `constrained`: the request asked for a JSON reply (`response_format`), which a constrained decoder
/// always produces — the same grades, but never malformed, never dressed in prose or a fence, and
/// scores as numbers.
#[cfg(test)]
pub(crate) fn answer(prompt: &str, key: u64, garbage: f64, constrained: bool) -> String {
    answer_with(prompt, key, garbage, constrained, &Lean::none())
}

/// [`answer`], as one judge profile leans: the `drift` fault (every grade shifted down, see
/// [`degrade`]), a bias toward its own family and noise ([`Lean`]).
pub(crate) fn answer_with(
    prompt: &str,
    key: u64,
    garbage: f64,
    constrained: bool,
    lean: &Lean,
) -> String {
    let dims = dimensions(prompt);
    let conversation = nonce_of(prompt, "CONVERSATION")
        .and_then(|n| block(prompt, &format!("CONVERSATION {n}")))
        .unwrap_or("");
    let mut rng = Rng::for_key(key, "judge:format");
    if let Some((a, b)) = pair_answers(prompt) {
        let answers_hash = hash64(&[b"pair", a.as_bytes(), b"\0", b.as_bytes()]);
        if !constrained
            && (chance(answers_hash, "judge:garbage", garbage)
                || chance(key, "judge:malformed", MALFORMED))
        {
            return malformed_pair(&mut rng);
        }
        return pair_reply(
            conversation,
            &dims,
            (a, b),
            key,
            &mut rng,
            constrained,
            lean,
        );
    }
    let Some(ans) = nonce_of(prompt, "ANSWER").and_then(|n| block(prompt, &format!("ANSWER {n}")))
    else {
        return "抱歉，我没有在输入中找到需要评估的回答。".to_string();
    };
    let answer_hash = hash64(&[b"grade", ans.as_bytes()]);
    if !constrained
        && (chance(answer_hash, "judge:garbage", garbage)
            || chance(key, "judge:malformed", MALFORMED))
    {
        return malformed_grade(&dims, &mut rng);
    }
    let mut obj = Map::new();
    for d in &dims {
        let mut g = grade(conversation, d, ans, answer_hash);
        g.score = g.score.map(|s| misread(answer_hash, d, s, lean));
        let drift = lean
            .drift
            .filter(|f| f.applies_to(&d.id))
            .map_or(0.0, |f| f.amount);
        g.score = g.score.map(|s| {
            let s = degrade::apply(lean.degraded, ans, answer_hash, d, s, drift);
            lean.lean(ans, answer_hash, key, &d.id, (d.lo, d.hi), s)
        });
        let score = match g.score {
            None => Value::Null,
            Some(s) if constrained => json!(s),
            Some(s) => match rng.below(20) {
                0 | 1 => Value::String(s.to_string()),
                2 => Value::String(full_width(s)),
                _ => json!(s),
            },
        };
        obj.insert(
            d.id.clone(),
            json!({"score": score, "justification": g.why}),
        );
    }
    let json = Value::Object(obj).to_string();
    if constrained {
        return json;
    }
    dress(json, &mut rng)
}

/// The judge's systematic error on one dimension of one answer ([`MISREAD`]); each judge profile
/// misreads its own answers.
fn misread(answer_hash: u64, d: &Dim, score: i64, lean: &Lean) -> i64 {
    let name = lean.salt(&format!("judge:misread:{}", d.id));
    if d.id == "adherence" || !chance(answer_hash, &name, MISREAD) {
        return score;
    }
    if score > d.lo {
        score - 1
    } else {
        (score + 1).min(d.hi)
    }
}

/// Fences or prose around the JSON now and then, as real judges write it.
fn dress(json: String, rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => format!("以下是我的评分结果：\n```json\n{json}\n```"),
        1 => format!("```json\n{json}\n```"),
        2 => format!("{json}\n\n以上评分仅供参考。"),
        _ => json,
    }
}

fn full_width(n: i64) -> String {
    n.to_string()
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap_or(c))
        .collect()
}

fn malformed_grade(dims: &[Dim], rng: &mut Rng) -> String {
    let first = dims.first().map(|d| d.id.as_str()).unwrap_or("score");
    match rng.below(4) {
        0 => "我认为这个回答整体还不错，格式基本符合要求，可以给3分。".to_string(),
        1 => format!("{{\"{first}\": {{\"score\": 3, \"justification\": \"回答基本符合"),
        2 => {
            let obj: Map<String, Value> = dims
                .iter()
                .map(|d| {
                    (
                        d.id.clone(),
                        json!({"score": d.hi + 1, "justification": "非常好"}),
                    )
                })
                .collect();
            Value::Object(obj).to_string()
        }
        _ => {
            let obj: Map<String, Value> = dims
                .iter()
                .map(|d| {
                    let mid = (d.lo + d.hi) as f64 / 2.0 + 0.5;
                    (
                        d.id.clone(),
                        json!({"score": mid, "justification": "介于两档之间"}),
                    )
                })
                .collect();
            Value::Object(obj).to_string()
        }
    }
}

fn malformed_pair(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => "两个回答各有优劣，很难说哪一个更好。".to_string(),
        1 => "{\"winner\": \"both\", \"justification\": \"两个都不错\"}".to_string(),
        _ => "{\"winner\": \"A\", \"justifica".to_string(),
    }
}

/// The nonce of the first `<<<TAG nonce>>>` (or `<<<TAG X nonce>>>`) line.
fn nonce_of(prompt: &str, tag: &str) -> Option<String> {
    let open = format!("\n<<<{tag} ");
    let at = prompt.find(&open)? + open.len();
    let line = prompt[at..].lines().next()?.strip_suffix(">>>")?;
    line.split_whitespace().last().map(str::to_string)
}

/// The text between the `<<<tag>>>` and `<<<END tag>>>` lines.
fn block<'a>(prompt: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("\n<<<{tag}>>>\n");
    let close = format!("\n<<<END {tag}>>>");
    let start = prompt.find(&open)? + open.len();
    let end = start + prompt[start..].find(&close)?;
    Some(&prompt[start..end])
}

fn pair_answers(prompt: &str) -> Option<(&str, &str)> {
    let n = nonce_of(prompt, "ANSWER A")?;
    Some((
        block(prompt, &format!("ANSWER A {n}"))?,
        block(prompt, &format!("ANSWER B {n}"))?,
    ))
}

/// The `【id】name：整数 lo–hi 分` headings of the prompt.
fn dimensions(prompt: &str) -> Vec<Dim> {
    let mut out: Vec<Dim> = Vec::new();
    for line in prompt.lines() {
        let Some(rest) = line.strip_prefix('【') else {
            continue;
        };
        let Some((id, rest)) = rest.split_once('】') else {
            continue;
        };
        let Some((_, scale)) = rest.rsplit_once("整数 ") else {
            continue;
        };
        let scale = scale.trim_end_matches(" 分").trim_end_matches('分').trim();
        let Some((lo, hi)) = scale.split_once('–') else {
            continue;
        };
        let (Ok(lo), Ok(hi)) = (lo.trim().parse(), hi.trim().parse()) else {
            continue;
        };
        if !out.iter().any(|d| d.id == id) {
            out.push(Dim {
                id: id.to_string(),
                lo,
                hi,
            });
        }
    }
    out
}

/// What the judge finds in a tutor answer.
struct Reading {
    strict: bool,
    object: Option<Map<String, Value>>,
    continuation: bool,
}

fn read_answer(ans: &str) -> Reading {
    let strict = matches!(
        serde_json::from_str::<Value>(ans.trim()),
        Ok(Value::Object(_))
    );
    let object = ans.match_indices('{').find_map(|(i, _)| {
        let mut s = serde_json::Deserializer::from_str(&ans[i..]).into_iter::<Value>();
        match s.next() {
            Some(Ok(Value::Object(m))) => Some(m),
            _ => None,
        }
    });
    Reading {
        strict,
        object,
        continuation: ans.contains("[学生回复]"),
    }
}

/// A field as text (lists joined by spaces) and as a list.
fn field(obj: &Map<String, Value>, key: &str) -> Option<(String, Vec<String>)> {
    let v = obj.get(key)?;
    let list: Vec<String> = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map_or(x.to_string(), str::to_string))
            .collect(),
        other => vec![other.to_string()],
    };
    Some((list.join(" "), list))
}

/// The score the judge gives a tutor answer on one of the rubric's 1–3 dimensions, misreading
/// included (`None`: not applicable, or not a tutor prompt), and whether the `garbage` fault
/// spoils every call for this answer.
#[cfg(test)]
pub(crate) fn tutor_score(tutor_prompt: &str, dim: &str, ans: &str) -> Option<i64> {
    let tp = tutor::parse(tutor_prompt)?;
    let d = Dim {
        id: dim.to_string(),
        lo: 1,
        hi: 3,
    };
    let answer_hash = hash64(&[b"grade", ans.as_bytes()]);
    let s = tutor_grade(&tp, dim, &read_answer(ans)).score?;
    Some(misread(answer_hash, &d, s, &Lean::none()))
}

/// Whether the `garbage` fault at this share makes every call about this answer unusable.
#[cfg(test)]
pub(crate) fn spoiled(ans: &str, garbage: f64) -> bool {
    chance(
        hash64(&[b"grade", ans.as_bytes()]),
        "judge:garbage",
        garbage,
    )
}

fn grade(conversation: &str, d: &Dim, ans: &str, answer_hash: u64) -> Grade {
    match tutor::parse(conversation) {
        Some(tp) if ["adherence", "reply", "suggestion", "analysis"].contains(&d.id.as_str()) => {
            tutor_grade(&tp, &d.id, &read_answer(ans))
        }
        _ => generic_grade(d, ans, answer_hash),
    }
}

/// Any other task: most answers in the upper part of the scale, longer ones a little higher (a
/// verbosity bias real judges have), varying by answer.
fn generic_grade(d: &Dim, ans: &str, answer_hash: u64) -> Grade {
    let mut rng = Rng::for_key(answer_hash, &format!("judge:generic:{}", d.id));
    let span = (d.hi - d.lo) as f64;
    let length_bonus = (ans.chars().count() as f64 / 400.0).min(0.15);
    let q = (0.55 + 0.3 * rng.unit() + length_bonus).min(1.0);
    let score = d.lo + (q * span).round() as i64;
    Grade {
        score: Some(score.clamp(d.lo, d.hi)),
        why: format!("整体符合要求，对照评分标准属于第{score}档。"),
    }
}

fn g(score: i64, why: impl Into<String>) -> Grade {
    Grade {
        score: Some(score),
        why: why.into(),
    }
}

fn tutor_grade(tp: &tutor::TutorPrompt, dim: &str, r: &Reading) -> Grade {
    let empty = Map::new();
    let obj = r.object.as_ref().unwrap_or(&empty);
    let reply = field(obj, "Reply");
    let sugg = field(obj, "Suggestion");
    let analysis = field(obj, "Analysis");
    let student = tp.last_student().unwrap_or("");
    let class = if tp.opening {
        StudentLine::Normal
    } else {
        tutor::classify(tp, student)
    };
    let topic = tutor::topic_words(&tp.topic);
    match dim {
        "adherence" => {
            if r.object.is_none() {
                return g(1, "回答不是JSON格式，无法解析。");
            }
            if !r.strict || r.continuation {
                return g(1, "没有严格按照要求只输出一个JSON对象（有多余的文字、代码块标记或自行续写的对话）。");
            }
            let english = [&reply, &sugg]
                .iter()
                .all(|f| f.as_ref().is_none_or(|(t, _)| !has_cjk(t)));
            if !english {
                return g(1, "Reply或Suggestion中出现了中文。");
            }
            if reply.is_none() || sugg.is_none() || (!tp.opening && analysis.is_none()) {
                return g(1, "缺少要求的字段。");
            }
            let n = reply.as_ref().map_or(0, |(t, _)| words(t).len());
            if n > 30 {
                return g(
                    2,
                    format!("格式正确，但Reply有{n}个单词，超过30个，不够简短。"),
                );
            }
            g(3, "严格按照JSON格式输出，内容简短，符合高中难度。")
        }
        "reply" => {
            let Some((text, _)) = reply else {
                return g(1, "没有Reply。");
            };
            let lower = text.to_lowercase();
            // The prompt's rule 5: an off-topic or non-English student line gets a reminder, and
            // that reminder is the whole job of the Reply (it need not ask anything).
            let reminder = match class {
                StudentLine::OffTopic => Some(
                    ["topic", "back to", "跑题", "主题", "话题"]
                        .iter()
                        .any(|w| lower.contains(w)),
                ),
                StudentLine::Chinese => Some(
                    ["english", "英语", "英文"]
                        .iter()
                        .any(|w| lower.contains(w)),
                ),
                _ => None,
            };
            match (&class, reminder) {
                (StudentLine::OffTopic, Some(false)) => {
                    return g(1, "学生的回复与主题无关，但Reply没有提醒。");
                }
                (StudentLine::Chinese, Some(false)) => {
                    return g(
                        1,
                        "学生用中文回答，Reply没有提醒学生使用英语，而是顺着话题聊了下去（提示词要求直接提醒）。",
                    );
                }
                _ => {}
            }
            if has_cjk(&text) {
                return g(2, "Reply中夹杂中文，表达不够自然。");
            }
            if words(&text).len() > 30 {
                return g(2, "Reply在主题范围内，但过长，不够自然流畅。");
            }
            if reminder.is_none() && !text.contains('?') {
                return g(2, "Reply在主题范围内，但没有继续推进话题，表达平淡。");
            }
            if reminder == Some(true) {
                return g(3, "学生偏离了要求，Reply准确地做了提醒。");
            }
            g(3, "Reply与主题相关，以教师的角度自然地推进了话题。")
        }
        "suggestion" => {
            let Some((_, list)) = sugg else {
                return g(1, "没有Suggestion。");
            };
            if list.len() != 3 {
                return g(1, format!("Suggestion是{}个句子，不是三个。", list.len()));
            }
            let teacher = list.iter().any(|s| {
                let l = s.trim().to_lowercase();
                l.ends_with('?')
                    && (l.contains("you")
                        || ["what", "why", "how", "could", "can"]
                            .iter()
                            .any(|w| l.starts_with(w)))
            });
            if teacher {
                return g(1, "Suggestion站在教师的角度向学生提问，而不是学生的回答。");
            }
            if list.iter().any(|s| has_cjk(s)) {
                return g(2, "Suggestion中有中文句子，不适合作为学生的英文回复。");
            }
            let reply_words = reply
                .map(|(t, _)| tutor::content_words(&t))
                .unwrap_or_default();
            let linked = list.iter().any(|s| {
                tutor::content_words(s)
                    .iter()
                    .any(|w| reply_words.contains(w) || topic.contains(w))
            });
            if !linked {
                return g(
                    2,
                    "Suggestion是学生角度的三个句子，但与上文话题承接得不好。",
                );
            }
            g(3, "Suggestion是站在学生角度的三个句子，内容衔接得当。")
        }
        "analysis" => {
            if tp.opening {
                return Grade {
                    score: None,
                    why: "开场白只要求Reply和Suggestion，不要求Analysis，此维度不适用。".into(),
                };
            }
            let Some((text, _)) = analysis else {
                return g(1, "缺少Analysis。");
            };
            if ["我询问", "老师的回复", "建议中", "三个建议", "我给出了"]
                .iter()
                .any(|w| text.contains(w))
            {
                return g(1, "Analysis解释的是Reply和Suggestion，而不是学生的回复。");
            }
            let corrects = points_out_errors(&text);
            match class {
                StudentLine::Misspelled { .. }
                | StudentLine::Ungrammatical { .. }
                | StudentLine::Terse
                    if !corrects =>
                {
                    g(2, "分析的是学生的回复，但没有指出其中明显的错误。")
                }
                StudentLine::Chinese if !(text.contains("中文") || text.contains("英文")) => {
                    g(2, "分析的是学生的回复，但没有指出学生用了中文。")
                }
                StudentLine::OffTopic
                    if !["主题", "跑题", "无关"].iter().any(|w| text.contains(w)) =>
                {
                    g(2, "分析的是学生的回复，但没有指出内容偏离了主题。")
                }
                _ => g(3, "分析的是学生的回复内容，点评得当。"),
            }
        }
        _ => g(2, "整体尚可。"),
    }
}

/// Whether an Analysis names an error: a clause with a correction in it ("应为", "改为", "语法错误",
/// "不完整", …) that is not a denial ("没有语法错误").
fn points_out_errors(analysis: &str) -> bool {
    const MARKERS: &[&str] = &[
        "应为",
        "改为",
        "改成",
        "应该",
        "应使用",
        "错误",
        "拼写有误",
        "不完整",
        "过于简短",
    ];
    analysis
        .split(['，', '。', '；', '：', ',', ';', '!', '！'])
        .any(|clause| {
            MARKERS.iter().any(|m| clause.contains(m))
                && !["没有", "无", "不存在"].iter().any(|n| clause.contains(n))
        })
}

/// The sum of an answer's grades over the dimensions that apply.
/// An answer's total over the dimensions, its own family's answers raised by the judge's bias.
fn total(conversation: &str, dims: &[Dim], ans: &str, lean: &Lean) -> i64 {
    let h = hash64(&[b"grade", ans.as_bytes()]);
    dims.iter()
        .filter_map(|d| {
            let s = grade(conversation, d, ans, h).score?;
            Some((s + lean.bias_levels(ans, h, &d.id)).min(d.hi) - d.lo)
        })
        .sum()
}

fn pair_reply(
    conversation: &str,
    dims: &[Dim],
    (a, b): (&str, &str),
    key: u64,
    rng: &mut Rng,
    constrained: bool,
    lean: &Lean,
) -> String {
    let (ta, tb) = (
        total(conversation, dims, a, lean),
        total(conversation, dims, b, lean),
    );
    let diff = ta - tb;
    let u = Rng::for_key(key, "judge:position").unit();
    // A first-position bias that grows as the answers get closer.
    let winner = match diff.abs() {
        0 if u < 0.35 => "A",
        0 if u < 0.45 => "B",
        0 => "tie",
        1 if u < 0.2 => "A",
        1 if u < 0.3 => "tie",
        _ if diff.abs() >= 2 && u < 0.05 => "A",
        _ if diff > 0 => "A",
        _ => "B",
    };
    let why = match winner {
        "tie" => "两个回答质量相当，各有优缺点。".to_string(),
        w => format!("对照评判标准，回答{w}在格式、回复质量和建议等方面整体更好。"),
    };
    let json = json!({"winner": winner, "justification": why}).to_string();
    if constrained {
        return json;
    }
    dress(json, rng)
}

// ---- degrade fault (gate power) ----------------------------------------------------------------

/// The `degrade` fault: a simulator server remembers the answers a degraded model gave (by a hash of
/// the text, the same text the judge later sees in its ANSWER block) and its judge lowers their score
/// on the named dimension. Kept by the server ([`Degraded`]) because a judge prompt does not say which
/// model answered; an identical text given by another model of the same server is degraded too. Two
/// servers in one process (tests) never see each other's. The `drift` fault (the judge itself
/// changed) adds its amount to the same shift, for every answer.
pub(crate) mod degrade {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::super::faults::Degrade;
    use super::super::rng::{chance, hash64};
    use super::Dim;

    /// The answers given under a `degrade` fault, by a hash of their text, with the faults.
    #[derive(Debug, Default)]
    pub(crate) struct Degraded(Mutex<HashMap<u64, Vec<Degrade>>>);

    impl Degraded {
        fn key(answer: &str) -> u64 {
            hash64(&[b"degrade", answer.as_bytes()])
        }

        /// Remember that a model under `degrade` gave this answer.
        pub(crate) fn register(&self, answer: &str, d: &Degrade) {
            let mut r = self.0.lock().unwrap_or_else(|e| e.into_inner());
            let v = r.entry(Self::key(answer)).or_default();
            if !v.contains(d) {
                v.push(d.clone());
            }
        }

        /// The degrade amounts registered for this answer on dimension `dim`, summed.
        fn amount(&self, answer: &str, dim: &str) -> f64 {
            let r = self.0.lock().unwrap_or_else(|e| e.into_inner());
            r.get(&Self::key(answer)).map_or(0.0, |v| {
                v.iter().filter(|g| g.dim == dim).map(|g| g.amount).sum()
            })
        }
    }

    /// `score` lowered by ⌊A⌋ levels, plus one with probability frac(A) (a hash of the answer), not
    /// below the scale's bottom; A is the amounts `degraded` holds for the answer plus `drift`.
    pub(super) fn apply(
        degraded: Option<&Degraded>,
        answer: &str,
        answer_hash: u64,
        d: &Dim,
        score: i64,
        drift: f64,
    ) -> i64 {
        let amount = degraded.map_or(0.0, |r| r.amount(answer, &d.id)) + drift;
        levels(answer_hash, &d.id, amount).map_or(score, |k| (score - k).max(d.lo))
    }

    fn levels(answer_hash: u64, dim: &str, amount: f64) -> Option<i64> {
        (amount > 0.0).then(|| {
            let whole = amount.floor();
            whole as i64
                + i64::from(chance(
                    answer_hash,
                    &format!("judge:degrade:{dim}"),
                    amount - whole,
                ))
        })
    }

    #[cfg(test)]
    mod tests {
        use super::super::super::calibration::prompts;
        use super::super::super::profiles::by_model_name;
        use super::super::super::tutor;
        use super::*;

        /// 1,000 answers of a fine-tune (50 items × 20 seeds) graded on Reply, with and without the
        /// fault: the mean falls by the amount asked, ±0.03.
        #[test]
        fn degrade_lowers_the_mean_judged_score_by_the_amount() {
            let p = by_model_name("sft-full-e3-lr3e-5").unwrap();
            let dim = Dim {
                id: "reply-degrade-test".into(),
                lo: 1,
                hi: 3,
            };
            for amount in [0.2, 0.5] {
                let fault = Degrade {
                    dim: dim.id.clone(),
                    amount,
                };
                let (mut before, mut after, mut n) = (0i64, 0i64, 0);
                for seed in 0..20 {
                    for (_, _, prompt) in prompts() {
                        let tp = tutor::parse(&prompt).unwrap();
                        let ans =
                            tutor::answer(&tp, &p.behaviour, tutor::key(seed, p.name, &tp, 0));
                        let Some(s) = super::super::tutor_score(&prompt, "reply", &ans) else {
                            continue;
                        };
                        let h = hash64(&[b"grade", ans.as_bytes()]);
                        // A server of its own per answer: one that repeats is counted afresh.
                        let degraded = Degraded::default();
                        let reg = Some(&degraded);
                        assert_eq!(apply(reg, &ans, h, &dim, s, 0.0), s, "not yet registered");
                        degraded.register(&ans, &fault);
                        before += s;
                        after += apply(reg, &ans, h, &dim, s, 0.0);
                        n += 1;
                    }
                }
                assert!(n >= 990, "{n} graded answers");
                let drop = (before - after) as f64 / n as f64;
                assert!(
                    (drop - amount).abs() <= 0.03,
                    "amount {amount}: mean fell by {drop}"
                );
            }
        }

        /// The drift fault on the same 1,000 answers, registered for nothing: the mean falls by the
        /// amount, ±0.03, on every dimension it names and on no other.
        #[test]
        fn drift_lowers_every_judged_score_by_the_amount() {
            let p = by_model_name("sft-full-e3-lr3e-5").unwrap();
            let dim = Dim {
                id: "reply-drift-test".into(),
                lo: 1,
                hi: 3,
            };
            for spec in ["0.3", "reply-drift-test:0.3", "other:0.3"] {
                let f: crate::sim::Faults = format!("judge:drift={spec}").parse().unwrap();
                let drift = f.for_model("judge").drift.unwrap();
                let amount = if drift.applies_to(&dim.id) { 0.3 } else { 0.0 };
                let (mut before, mut after, mut n) = (0i64, 0i64, 0);
                for seed in 0..20 {
                    for (_, _, prompt) in prompts() {
                        let tp = tutor::parse(&prompt).unwrap();
                        let ans =
                            tutor::answer(&tp, &p.behaviour, tutor::key(seed, p.name, &tp, 0));
                        let Some(s) = super::super::tutor_score(&prompt, "reply", &ans) else {
                            continue;
                        };
                        let h = hash64(&[b"grade", ans.as_bytes()]);
                        before += s;
                        after += apply(None, &ans, h, &dim, s, amount);
                        n += 1;
                    }
                }
                assert!(n >= 990, "{n} graded answers");
                let drop = (before - after) as f64 / n as f64;
                assert!((drop - amount).abs() <= 0.03, "{spec}: mean fell by {drop}");
            }
        }

        #[test]
        fn parses_and_prints_the_drift_fault() {
            for spec in ["judge:drift=0.3", "judge:drift=reply:0.25"] {
                let f: crate::sim::Faults = spec.parse().unwrap();
                assert_eq!(f.to_string(), spec);
            }
            let f: crate::sim::Faults = "judge:drift=0.3".parse().unwrap();
            let d = f.for_model("judge").drift.unwrap();
            assert!(d.applies_to("reply") && d.applies_to("analysis"));
            let f: crate::sim::Faults = "judge:drift=reply:0.3".parse().unwrap();
            let d = f.for_model("judge").drift.unwrap();
            assert!(d.applies_to("reply") && !d.applies_to("analysis"));
            for bad in ["judge:drift=-0.1", "judge:drift=x", "judge:drift=reply:"] {
                let e = bad.parse::<crate::sim::Faults>().unwrap_err().to_string();
                assert!(e.contains(bad.trim_start_matches("judge:")), "{bad}: {e}");
            }
        }

        #[test]
        fn parses_and_prints_the_fault() {
            let f: crate::sim::Faults = "sft-full-e3-lr3e-5:degrade=reply:0.2".parse().unwrap();
            assert_eq!(f.to_string(), "sft-full-e3-lr3e-5:degrade=reply:0.2");
            assert!("sft-full-e3-lr3e-5:degrade=reply"
                .parse::<crate::sim::Faults>()
                .is_err());
            assert!("sft-full-e3-lr3e-5:degrade=reply:-1"
                .parse::<crate::sim::Faults>()
                .is_err());
        }
    }
}

// ---- end of the degrade fault ------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    const DIMS: &str = "【adherence】Prompt adherence：整数 1–3 分\n- 1分：…\n\n【reply】Reply：整数 1–3 分\n\n【suggestion】Suggestion：整数 1–3 分\n\n【analysis】Analysis：整数 1–3 分\n";

    fn prompt(history: &str, answer: &str) -> String {
        format!(
            "评审。\n以下 <<<CONVERSATION ab12cd34>>> 与 …\n<<<CONVERSATION ab12cd34>>>\n【用户】\n你是一位英文口语老师，要和学生练习。\n[主题介绍]\n两位同学对一场激动人心的篮球比赛进行回顾和分析。\n\n[对话历史]\n{history}\n<<<END CONVERSATION ab12cd34>>>\n\n{DIMS}\n以下 <<<ANSWER ab12cd34>>> 与 …\n<<<ANSWER ab12cd34>>>\n{answer}\n<<<END ANSWER ab12cd34>>>\n"
        )
    }

    fn scores(reply: &str) -> Value {
        let start = reply.find('{').unwrap();
        let end = reply.rfind('}').unwrap();
        serde_json::from_str(&reply[start..=end]).unwrap()
    }

    fn score_of(v: &Value, dim: &str) -> Option<i64> {
        match &v[dim]["score"] {
            Value::Null => None,
            Value::String(s) => Some(
                s.chars()
                    .map(|c| {
                        if c as u32 >= 0xFF10 {
                            char::from_u32(c as u32 - 0xFEE0).unwrap()
                        } else {
                            c
                        }
                    })
                    .collect::<String>()
                    .parse()
                    .unwrap(),
            ),
            n => n.as_i64(),
        }
    }

    /// A key whose call is not malformed.
    fn clean_key(p: &str) -> u64 {
        (0..200u64)
            .find(|k| {
                !chance(*k, "judge:malformed", MALFORMED) && !answer(p, *k, 0.0, false).is_empty()
            })
            .unwrap()
    }

    #[test]
    fn grades_a_good_answer_high_and_a_sloppy_one_low() {
        let hist = "teacher: That was an amazing basketball game, wasn't it?\nstudent: Yes, the team played really well in the second half.";
        let good = "{\"Reply\": \"Great point! Which player did you like most in the game?\", \"Suggestion\": [\"I liked the captain, he scored a lot.\", \"The team worked together very well.\", \"I think the game was exciting.\"], \"Analysis\": \"学生的回答完整，语法正确，使用了“played really well”这样的表达。\"}";
        let p = prompt(hist, good);
        let v = scores(&answer(&p, clean_key(&p), 0.0, false));
        for d in ["adherence", "reply", "suggestion", "analysis"] {
            assert_eq!(score_of(&v, d), Some(3), "{d}: {v}");
        }
        let sloppy = "Sure! Here is my response.\n\n```json\n{\"Reply\": \"Nice!\", \"Suggestion\": [\"Can you tell me more about the game?\", \"Why do you like it?\"], \"Analysis\": \"我询问了学生更多的细节。\"}\n```";
        let p = prompt(hist, sloppy);
        let v = scores(&answer(&p, clean_key(&p), 0.0, false));
        assert_eq!(score_of(&v, "adherence"), Some(1), "{v}");
        assert_eq!(score_of(&v, "reply"), Some(2), "{v}");
        assert_eq!(score_of(&v, "suggestion"), Some(1), "{v}");
        assert_eq!(score_of(&v, "analysis"), Some(1), "{v}");
    }

    #[test]
    fn opening_turn_has_no_analysis_and_chinese_needs_a_reminder() {
        let p = prompt("", "{\"Reply\": \"Hi! Let's talk about the game. Did you watch it?\", \"Suggestion\": [\"Yes, I watched the game.\", \"The team was great.\", \"I love basketball.\"]}")
            .replace("[对话历史]\n", "[开场白]\n");
        let v = scores(&answer(&p, clean_key(&p), 0.0, false));
        assert_eq!(score_of(&v, "analysis"), None, "{v}");
        assert_eq!(score_of(&v, "adherence"), Some(3), "{v}");
        let hist = "teacher: That was an amazing basketball game, wasn't it?\nstudent: 当然，这非常令人兴奋！";
        let p = prompt(hist, "{\"Reply\": \"Absolutely! Who was your favorite player?\", \"Suggestion\": [\"Yes, it was really exciting!\", \"I loved the basketball game.\", \"The team was great.\"], \"Analysis\": \"学生的回答简洁明了。\"}");
        let v = scores(&answer(&p, clean_key(&p), 0.0, false));
        assert_eq!(score_of(&v, "reply"), Some(1), "{v}");
        assert_eq!(score_of(&v, "analysis"), Some(2), "{v}");
        // The reminder itself is the best Reply, though it asks nothing.
        let p = prompt(hist, "{\"Reply\": \"Please try to use English in your response.\", \"Suggestion\": [\"Yes, it was really exciting!\", \"I loved the basketball game.\", \"The team was great.\"], \"Analysis\": \"学生使用了中文进行回复，需要提醒学生使用英文进行交流。\"}");
        let v = scores(&answer(&p, clean_key(&p), 0.0, false));
        assert_eq!(score_of(&v, "reply"), Some(3), "{v}");
        assert_eq!(score_of(&v, "analysis"), Some(3), "{v}");
    }

    #[test]
    fn a_constrained_reply_is_plain_json_with_the_same_grades() {
        let p = prompt(
            "teacher: Hi\nstudent: Hello there, I like the game.",
            "{\"Reply\": \"Hi? Which team do you like?\", \"Suggestion\": [\"I like the home team.\"], \"Analysis\": \"学生回答正确。\"}",
        );
        for k in 0..100 {
            // Even under the garbage fault, which spoils every free-text reply for this answer.
            let r = answer(&p, k, 1.0, true);
            let v: Value = serde_json::from_str(&r).unwrap_or_else(|e| panic!("{e}: {r}"));
            for d in ["adherence", "reply", "suggestion", "analysis"] {
                let s = &v[d]["score"];
                assert!(
                    s.is_null() || s.as_i64().is_some_and(|x| (1..=3).contains(&x)),
                    "{r}"
                );
            }
            // The grades are the judge's own, not the format's: the free-text reply of a call that
            // is not malformed carries the same scores.
            if !chance(k, "judge:malformed", MALFORMED) {
                let f = scores(&answer(&p, k, 0.0, false));
                for d in ["adherence", "reply", "suggestion", "analysis"] {
                    assert_eq!(score_of(&f, d), score_of(&v, d), "{d}: {f}\n{r}");
                }
            }
        }
    }

    #[test]
    fn garbage_fault_spoils_every_call_for_its_answers() {
        let p = prompt(
            "teacher: Hi\nstudent: Hello there, I like the game.",
            "{\"Reply\": \"Hi?\"}",
        );
        for k in 0..20 {
            let r = answer(&p, k, 1.0, false);
            let parsed = r
                .find('{')
                .and_then(|i| serde_json::from_str::<Value>(&r[i..]).ok());
            let usable = parsed.is_some_and(|v| {
                ["adherence", "reply", "suggestion", "analysis"]
                    .iter()
                    .all(|d| {
                        v[*d]["score"]
                            .as_i64()
                            .is_some_and(|s| (1..=3).contains(&s))
                    })
            });
            assert!(!usable, "{r}");
        }
        // Without the fault, a few calls in a hundred are malformed, and not always the same ones.
        let bad = (0..400)
            .filter(|k| answer(&p, *k, 0.0, false).contains("可以给3分"))
            .count();
        assert!(bad > 0 && bad < 20, "{bad}");
    }

    #[test]
    fn pairwise_prefers_the_better_answer_with_some_position_bias() {
        let hist = "teacher: That was an amazing basketball game, wasn't it?\nstudent: Yes, the team played really well.";
        let good = "{\"Reply\": \"Great point! Which player did you like most?\", \"Suggestion\": [\"I liked the captain in the game.\", \"The team worked well.\", \"The game was exciting.\"], \"Analysis\": \"学生的回答完整，语法正确。\"}";
        let bad = "```json\n{\"Reply\": \"Nice\", \"Suggestion\": [\"Why?\"]}\n```";
        let pair = |a: &str, b: &str| {
            format!(
                "{}\n以下 …\n<<<ANSWER A 0f0f0f0f>>>\n{a}\n<<<END ANSWER A 0f0f0f0f>>>\n\n<<<ANSWER B 0f0f0f0f>>>\n{b}\n<<<END ANSWER B 0f0f0f0f>>>\n",
                prompt(hist, "x").split("\n以下 <<<ANSWER").next().unwrap()
            )
        };
        let winner = |p: &str, k: u64| -> Option<String> {
            let r = answer(p, k, 0.0, false);
            let i = r.find('{')?;
            let v: Value = serde_json::from_str(r[i..].trim_end_matches(|c| c != '}')).ok()?;
            v["winner"].as_str().map(str::to_string)
        };
        let (ab, ba) = (pair(good, bad), pair(bad, good));
        let a_wins = (0..200)
            .filter(|k| winner(&ab, *k).as_deref() == Some("A"))
            .count();
        let b_wins = (0..200)
            .filter(|k| winner(&ba, *k).as_deref() == Some("B"))
            .count();
        assert!(a_wins > 170 && b_wins > 170, "{a_wins} {b_wins}");
        // Two equal answers: mostly ties, but the first position wins more often than the second.
        let same = pair(good, good);
        let first = (0..400)
            .filter(|k| winner(&same, *k).as_deref() == Some("A"))
            .count();
        let second = (0..400)
            .filter(|k| winner(&same, *k).as_deref() == Some("B"))
            .count();
        assert!(first > second * 2, "{first} {second}");
    }

    #[test]
    fn prompts_without_an_answer_block_get_an_unusable_reply() {
        assert!(!answer("请给这个回答打分：很好", 1, 0.0, false).contains('{'));
    }
}
