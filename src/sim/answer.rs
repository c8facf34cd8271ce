//! What a simulated model says and how long it takes: the text (the judge's grades and verdicts, tutor
//! answers, length-bounded Chinese, stories for `->` completion prompts, or generic text), cut by `stop` and `max_tokens`,
//! split into streamed pieces with a deterministic time to first token and per-token gaps.

use std::time::Duration;

use super::faults::FaultSet;
use super::judge::degrade::Degraded;
use super::judge_lean::{Families, Lean, DEFAULT_FAMILY};
use super::profiles::Profile;
use super::rng::Rng;
use super::script::Script;
use super::serve::SampleSlot;
use super::text::{count_tokens, has_cjk, length_ask, pieces};
use super::{judge, tutor};

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finish {
    /// The answer ended by itself.
    Normal,
    /// A `stop` sequence was met (it is not part of the output).
    Stop,
    /// `max_tokens` / `max_output_tokens` was reached.
    Length,
}

/// One request, as the generator sees it.
pub(crate) struct Ask<'a> {
    pub profile: &'static Profile,
    pub system: Option<&'a str>,
    /// The text answered: the last user message, or a legacy completion prompt.
    pub prompt: &'a str,
    /// All input text (system + every message), for `prompt_tokens`.
    pub input_text: &'a str,
    pub legacy: bool,
    pub stop: &'a [String],
    pub max_tokens: Option<usize>,
    /// The request constrained the reply to JSON (`response_format`): a judge reply is then always
    /// well-formed (no garbage, no prose or fence around it).
    pub json_reply: bool,
    /// Hash of the request attempt (configured seed, profile, request, how often it arrived
    /// before): latency and faults.
    pub key: u64,
    /// Hash of the request sample (configured seed, profile, request, sample index): the text.
    pub content_key: u64,
    /// The sample index this request holds on the server, if any.
    pub slot: Option<SampleSlot>,
    /// The simulator's configured seed.
    pub seed: u64,
    /// The scripted fault for this prompt (`@MARKER:…`): a fixed reply, real-time pacing, a tear.
    pub script: Option<&'a Script>,
    /// How many times this same request arrived before.
    pub arrival: u64,
}

/// One planned answer.
#[derive(Debug, Clone)]
pub(crate) struct Generation {
    pub pieces: Vec<String>,
    pub finish: Finish,
    pub prompt_tokens: u64,
    /// Unscaled time to the first piece.
    pub ttft: Duration,
    /// Unscaled gap before each piece after the first (`pieces.len() - 1` entries, or 0).
    pub gaps: Vec<Duration>,
}

impl Generation {
    pub(crate) fn text(&self) -> String {
        self.pieces.concat()
    }

    pub(crate) fn completion_tokens(&self) -> u64 {
        self.pieces.len() as u64
    }

    /// Unscaled time until the last piece.
    pub(crate) fn total(&self) -> Duration {
        self.ttft + self.gaps.iter().sum::<Duration>()
    }
}

/// What the server remembers of the answers its models gave, for its judges: who gave which answer
/// (while some judge has a `bias`) and which were given under a `degrade` fault.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Memory<'a> {
    /// Which family gave which answer.
    pub families: Option<&'a Families>,
    /// The answers given under a `degrade` fault.
    pub degraded: Option<&'a Degraded>,
}

#[cfg(test)]
pub(crate) fn generate(ask: &Ask) -> Generation {
    generate_with(ask, &FaultSet::default(), Memory::default())
}

/// [`generate`], with a judge profile's faults in `set`: `garbage` (the share of answers it cannot
/// grade), `drift` (its grades shifted down), `bias` toward its own `family` (who gave which answer:
/// `memory.families`) and `noise`; a model's `degrade` is graded from `memory.degraded`.
pub(crate) fn generate_with(ask: &Ask, set: &FaultSet, memory: Memory) -> Generation {
    let full = match ask.script.and_then(|s| s.reply.as_deref()) {
        Some(reply) => reply.to_string(),
        None => full_text(ask, set, memory),
    };
    let (text, mut finish) = apply_stop(&full, ask.stop);
    let mut ps = pieces(&text);
    if let Some(max) = ask.max_tokens {
        if ps.len() > max {
            ps.truncate(max);
            finish = Finish::Length;
        }
    }
    let lat = ask.profile.latency;
    let ttft_ms = lat.ttft_ms * Rng::for_key(ask.key, "ttft").lognormal_factor(lat.ttft_sigma);
    let mut gap_rng = Rng::for_key(ask.key, "gaps");
    let gaps = (1..ps.len())
        .map(|_| {
            let ms = lat.per_token_ms * gap_rng.lognormal_factor(lat.token_sigma);
            Duration::from_secs_f64(ms / 1000.0)
        })
        .collect();
    let mut ttft = Duration::from_secs_f64(ttft_ms / 1000.0);
    let mut gaps: Vec<Duration> = gaps;
    if let Some((first, gap)) = ask.script.and_then(Script::timing) {
        ttft = first;
        gaps = vec![gap; gaps.len()];
    }
    Generation {
        pieces: ps,
        finish,
        prompt_tokens: count_tokens(ask.input_text),
        ttft,
        gaps,
    }
}

fn apply_stop(text: &str, stop: &[String]) -> (String, Finish) {
    let cut = stop
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()))
        .min();
    match cut {
        Some(i) => (text[..i].to_string(), Finish::Stop),
        None => (text.to_string(), Finish::Normal),
    }
}

fn full_text(ask: &Ask, set: &FaultSet, memory: Memory) -> String {
    if judge::NAMES.contains(&ask.profile.name) {
        let garbage = set.garbage.unwrap_or(0.0);
        let lean = Lean {
            profile: ask.profile.name,
            family: set.family.as_deref().unwrap_or(DEFAULT_FAMILY),
            drift: set.drift.as_ref(),
            bias: set.bias,
            noise: set.noise,
            families: memory.families,
            degraded: memory.degraded,
        };
        return judge::answer_with(ask.prompt, ask.content_key, garbage, ask.json_reply, &lean);
    }
    let tutor_prompt = tutor::parse(ask.prompt).or_else(|| ask.system.and_then(tutor::parse));
    if let Some(tp) = tutor_prompt {
        let sample = ask.slot.map_or(0, |s| s.index());
        let key = tutor::key(ask.seed, ask.profile.name, &tp, sample);
        return tutor::answer(&tp, &ask.profile.behaviour_at(ask.seed), key);
    }
    let mut rng = Rng::for_key(ask.content_key, "free");
    let trimmed = ask.prompt.trim_end();
    if ask.legacy && trimmed.ends_with("->") {
        let setting = trimmed
            .trim_end_matches("->")
            .split([',', '，'])
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        return story(&mut rng, &setting);
    }
    if let Some(ask_len) = length_ask(ask.prompt) {
        let jitter = rng.lognormal_factor(0.12);
        let target = (ask_len.target() as f64 * ask.profile.length_bias * jitter).round() as usize;
        let bank = if ["拜年", "新年", "春节", "祝福"]
            .iter()
            .any(|w| ask.prompt.contains(w))
        {
            GREETINGS
        } else if ask.prompt.contains("作文") {
            ESSAY
        } else {
            GENERIC_ZH
        };
        return chinese_of_length(&mut rng, bank, target.max(4));
    }
    if has_cjk(ask.prompt) || ask.system.is_some_and(has_cjk) {
        let target = 80 + rng.below(120);
        return chinese_of_length(&mut rng, GENERIC_ZH, target);
    }
    let n = 3 + rng.below(4);
    let start = rng.below(GENERIC_EN.len());
    let body: Vec<&str> = (0..n)
        .map(|i| GENERIC_EN[(start + i) % GENERIC_EN.len()])
        .collect();
    body.join(" ")
}

/// Sentences from `bank`, starting at a hashed offset, until about `target` characters; the last
/// sentence is shortened at a comma or cut when it would overshoot by more than a few characters.
fn chinese_of_length(rng: &mut Rng, bank: &[&str], target: usize) -> String {
    let mut out = String::new();
    let mut len = 0;
    let mut i = rng.below(bank.len());
    while len < target {
        let s = bank[i % bank.len()];
        let n = s.chars().count();
        if len + n > target + 3 {
            let room = target - len;
            let clause: String = s.chars().take(room.saturating_sub(1)).collect();
            if !clause.is_empty() {
                out.push_str(clause.trim_end_matches(['，', '。']));
                out.push('。');
            }
            break;
        }
        out.push_str(s);
        len += n;
        i += 1;
    }
    out
}

fn story(rng: &mut Rng, setting: &str) -> String {
    let era = if setting.is_empty() || setting.chars().count() > 6 {
        "古代".to_string()
    } else {
        setting.to_string()
    };
    let n = 5 + rng.below(3);
    let mut out = String::from(" \n\n");
    for s in STORY.iter().take(n) {
        out.push_str(&s.replace("{era}", &era));
    }
    out
}

static GREETINGS: &[&str] = &[
    "新春佳节到来之际，祝您身体健康，万事如意。",
    "愿新的一年里，家人平安喜乐，福气满满。",
    "感谢您一直以来的关心和照顾，祝您新年快乐。",
    "祝您新年行大运，事业蒸蒸日上，阖家幸福美满。",
    "新年的钟声已经敲响，愿您心想事成，笑口常开。",
    "晚辈在这里给您拜年了，祝您福如东海，寿比南山。",
];

static ESSAY: &[&str] = &[
    "过年是我最喜欢的节日。",
    "除夕夜，全家人围坐在一起包饺子，屋子里充满了欢声笑语。",
    "窗外烟花绽放，把夜空装点得五彩缤纷。",
    "奶奶给我讲起了她小时候过年的故事，我听得津津有味。",
    "大年初一，我穿上新衣服，跟着爸爸妈妈去给亲戚拜年。",
    "长辈们给了我红包，还叮嘱我新的一年要好好学习。",
    "这个春节让我明白了团圆的意义，也让我更加珍惜和家人在一起的时光。",
];

static GENERIC_ZH: &[&str] = &[
    "这是一个很好的问题。",
    "首先，我们需要明确问题的核心，弄清楚真正想要解决的是什么。",
    "其次，可以从实际情况出发，逐步分析各种可能的原因。",
    "在这个过程中，保持耐心和细心非常重要。",
    "同时，也可以参考别人的经验，少走一些弯路。",
    "总的来说，只要方法得当，就一定能取得不错的效果。",
    "希望以上的回答能对你有所帮助。",
];

static GENERIC_EN: &[&str] = &[
    "That is a good question.",
    "The short answer is that it depends on the context.",
    "First, it helps to be clear about what you want to achieve.",
    "Second, try a small example before scaling up.",
    "Then compare the result with what you expected and adjust.",
    "Finally, write down what you learned so that you can repeat it.",
    "I hope this helps.",
];

static STORY: &[&str] = &[
    "一位叫做李明的英雄人物，出生在{era}时期。",
    "他从小就拥有一种神奇的能力，却一直不敢告诉别人。",
    "有一天，村子里来了一群强盗，乡亲们惊慌失措。",
    "李明挺身而出，用自己的能力保护了大家。",
    "经历了重重困难，他终于打败了敌人。",
    "乡亲们为他摆下宴席，感谢他的勇敢。",
    "从此，他的故事在民间流传开来。",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::profiles::by_model_name;

    fn ask<'a>(prompt: &'a str, stop: &'a [String], max: Option<usize>, legacy: bool) -> Ask<'a> {
        Ask {
            profile: by_model_name("sft-full-e6-lr3e-5").unwrap(),
            system: None,
            prompt,
            input_text: prompt,
            legacy,
            stop,
            max_tokens: max,
            json_reply: false,
            key: 11,
            content_key: 11,
            slot: None,
            seed: 0,
            script: None,
            arrival: 0,
        }
    }

    #[test]
    fn stop_cuts_before_the_sequence() {
        let stop = vec!["。".to_string()];
        let g = generate(&ask("宋,发射激光,艰难 ->\n", &stop, None, true));
        assert_eq!(g.finish, Finish::Stop);
        let t = g.text();
        assert!(
            t.starts_with(" \n\n一位叫做李明的英雄人物，出生在宋时期"),
            "{t:?}"
        );
        assert!(!t.contains('。'));
    }

    #[test]
    fn max_tokens_truncates_with_length() {
        let g = generate(&ask("Tell me something.", &[], Some(3), false));
        assert_eq!(g.pieces.len(), 3);
        assert_eq!(g.finish, Finish::Length);
        assert_eq!(g.gaps.len(), 2);
    }

    #[test]
    fn length_asks_are_roughly_honoured() {
        let g = generate(&ask("写一段50字以内的拜年语", &[], None, false));
        let n = g.text().chars().count();
        assert!((20..=60).contains(&n), "{n}: {}", g.text());
        let g = generate(&ask("完成300字过年作文", &[], None, false));
        let n = g.text().chars().count();
        assert!((200..=400).contains(&n), "{n}");
    }

    #[test]
    fn latency_is_near_the_profile_mean() {
        let p = by_model_name("ernie-4.0").unwrap();
        let n = 400;
        let mean_ttft: f64 = (0..n)
            .map(|k| {
                let a = Ask {
                    key: k,
                    ..ask("hi", &[], None, false)
                };
                let a = Ask { profile: p, ..a };
                generate(&a).ttft.as_secs_f64()
            })
            .sum::<f64>()
            / n as f64;
        assert!((mean_ttft - 1.166).abs() < 0.06, "{mean_ttft}");
    }
}

#[cfg(test)]
mod calibration {
    use super::*;
    use crate::sim::profiles::by_model_name;

    /// Mean (ttft, total) in seconds over seed-000-like tutor turns.
    fn mean_latency(profile: &str) -> (f64, f64) {
        let lines = [
            "Yes, very fun!",
            "I prioritize tasks and maintain a strict schedule, teacher.",
            "当然，这非常令人兴奋，而结果完全出乎意料！",
            "I not know \"adventure\". High school okay.",
            "Yes, my brthday is on August 15th. I never 4get it.",
            "Sounds intriguing. How does it enhance task management?",
        ];
        let p = by_model_name(profile).unwrap();
        let (mut ttft, mut total, mut n) = (0.0, 0.0, 0.0);
        for (i, line) in lines.iter().enumerate() {
            let prompt = format!(
                "你是一位英文口语老师，要和【中国高中水平】的英语学生进行口语练习。\n[主题介绍]\n两位同学对一场激动人心的篮球比赛进行回顾和分析。\n\n[对话历史]\nteacher: That was an amazing basketball game, wasn't it?\nstudent: {line}\n"
            );
            for k in 0..100u64 {
                let g = generate(&Ask {
                    profile: p,
                    system: None,
                    prompt: &prompt,
                    input_text: &prompt,
                    legacy: false,
                    stop: &[],
                    max_tokens: None,
                    json_reply: false,
                    key: k * 31 + i as u64,
                    content_key: k * 31 + i as u64,
                    slot: None,
                    seed: k * 31 + i as u64,
                    script: None,
                    arrival: 0,
                });
                ttft += g.ttft.as_secs_f64();
                total += g.total().as_secs_f64();
                n += 1.0;
            }
        }
        (ttft / n, total / n)
    }

    /// Seed 000 §4.3: ERNIE-4.0 1.17 s / 12.8 s; the E6 full-update fine-tune 0.68 s / 4.16 s.
    #[test]
    fn tutor_latency_matches_the_seed_table() {
        let (ttft, total) = mean_latency("ernie-4.0");
        assert!((ttft - 1.166).abs() < 0.1, "ernie-4.0 ttft {ttft}");
        assert!((total / 12.80 - 1.0).abs() < 0.1, "ernie-4.0 total {total}");
        let (ttft, total) = mean_latency("sft-full-e6-lr3e-5");
        assert!((ttft - 0.683).abs() < 0.06, "sft ttft {ttft}");
        assert!((total / 4.163 - 1.0).abs() < 0.1, "sft total {total}");
    }
}
