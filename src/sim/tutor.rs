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

use super::profiles::Behaviour;
use super::rng::{chance, hash64, Rng};
use super::text::{has_cjk, words};

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

struct Theme {
    en: &'static str,
    keywords: &'static [&'static str],
}

/// Chinese topic words → an English theme for templates and the words that keep a line on topic.
/// More specific entries come first; the first group covers the shipped eval set's topics.
static THEMES: &[(&str, Theme)] = &[
    (
        "演讲",
        Theme {
            en: "the speech contest",
            keywords: &[
                "speech", "contest", "nervous", "practice", "stage", "audience",
            ],
        },
    ),
    (
        "跳蚤市场",
        Theme {
            en: "the flea market",
            keywords: &[
                "market",
                "bargain",
                "price",
                "cheap",
                "seller",
                "secondhand",
                "buy",
            ],
        },
    ),
    (
        "乡下",
        Theme {
            en: "visiting your grandparents in the countryside",
            keywords: &[
                "grandparents",
                "village",
                "countryside",
                "farm",
                "fishing",
                "summer",
            ],
        },
    ),
    (
        "恐龙",
        Theme {
            en: "the dinosaur exhibition",
            keywords: &[
                "dinosaur",
                "dinosaurs",
                "museum",
                "skeleton",
                "fossil",
                "exhibition",
            ],
        },
    ),
    (
        "沉迷",
        Theme {
            en: "time on the phone",
            keywords: &["phone", "hours", "screen", "apps", "games", "time"],
        },
    ),
    (
        "照片",
        Theme {
            en: "taking photos",
            keywords: &[
                "photo", "photos", "picture", "pictures", "camera", "phone", "light",
            ],
        },
    ),
    (
        "乐器",
        Theme {
            en: "learning a musical instrument",
            keywords: &[
                "instrument",
                "practice",
                "practise",
                "play",
                "songs",
                "guzheng",
                "music",
                "lessons",
            ],
        },
    ),
    (
        "夏令营",
        Theme {
            en: "the summer camp",
            keywords: &[
                "camp",
                "summer",
                "kayaking",
                "swimming",
                "swimmer",
                "activities",
            ],
        },
    ),
    (
        "地铁",
        Theme {
            en: "taking the subway",
            keywords: &[
                "subway", "line", "station", "change", "zoo", "map", "ticket",
            ],
        },
    ),
    (
        "新家",
        Theme {
            en: "your new home",
            keywords: &[
                "home",
                "room",
                "house",
                "neighbors",
                "neighbours",
                "neighbor",
                "moved",
                "lady",
            ],
        },
    ),
    (
        "月饼",
        Theme {
            en: "the Mid-Autumn Festival",
            keywords: &[
                "mooncake",
                "mooncakes",
                "festival",
                "moon",
                "family",
                "sweet",
                "salty",
            ],
        },
    ),
    (
        "科技节",
        Theme {
            en: "the science fair project",
            keywords: &[
                "invention",
                "circuit",
                "model",
                "design",
                "report",
                "science",
                "project",
                "work",
            ],
        },
    ),
    (
        "钱包",
        Theme {
            en: "the lost wallet",
            keywords: &["wallet", "driver", "police", "owner", "money", "bus"],
        },
    ),
    (
        "露营",
        Theme {
            en: "the camping trip",
            keywords: &[
                "camping",
                "camp",
                "tent",
                "flashlight",
                "clothes",
                "mosquitoes",
                "bring",
            ],
        },
    ),
    (
        "龙舟",
        Theme {
            en: "the Dragon Boat Festival",
            keywords: &[
                "dragon", "boat", "boats", "race", "festival", "zongzi", "river",
            ],
        },
    ),
    (
        "植树",
        Theme {
            en: "planting trees",
            keywords: &[
                "trees",
                "tree",
                "plant",
                "planted",
                "environment",
                "shade",
                "air",
            ],
        },
    ),
    (
        "看病",
        Theme {
            en: "seeing the doctor",
            keywords: &[
                "doctor", "cold", "medicine", "water", "rest", "hospital", "sick",
            ],
        },
    ),
    (
        "交换生",
        Theme {
            en: "showing the exchange student around",
            keywords: &[
                "class", "classes", "school", "students", "campus", "reading", "morning",
            ],
        },
    ),
    (
        "航天",
        Theme {
            en: "space exploration",
            keywords: &[
                "space",
                "astronauts",
                "station",
                "rocket",
                "news",
                "cool",
                "future",
            ],
        },
    ),
    (
        "国际象棋",
        Theme {
            en: "the chess club",
            keywords: &["chess", "club", "play", "played", "players", "members"],
        },
    ),
    (
        "流浪",
        Theme {
            en: "helping stray animals",
            keywords: &[
                "cats", "cat", "stray", "animals", "adopt", "food", "parents",
            ],
        },
    ),
    (
        "大雪",
        Theme {
            en: "the snow day",
            keywords: &["snow", "snowman", "snowball", "play", "playground", "cold"],
        },
    ),
    (
        "青海湖",
        Theme {
            en: "the road trip to Qinghai Lake",
            keywords: &["lake", "trip", "drive", "sunrise", "road", "car", "cousin"],
        },
    ),
    (
        "停电",
        Theme {
            en: "the power cut",
            keywords: &[
                "power",
                "dark",
                "candles",
                "cards",
                "played",
                "family",
                "electricity",
            ],
        },
    ),
    (
        "菜园",
        Theme {
            en: "your little vegetable garden",
            keywords: &[
                "garden",
                "tomatoes",
                "vegetables",
                "peppers",
                "grow",
                "growing",
                "plants",
                "mint",
            ],
        },
    ),
    (
        "选修课",
        Theme {
            en: "choosing an elective course",
            keywords: &["course", "class", "elective", "cooking", "choose", "term"],
        },
    ),
    (
        "夜市",
        Theme {
            en: "the night market",
            keywords: &["market", "food", "snacks", "night", "cheap", "delicious"],
        },
    ),
    (
        "熊猫",
        Theme {
            en: "the giant pandas",
            keywords: &["panda", "pandas", "cute", "lazy", "bamboo", "zoo"],
        },
    ),
    (
        "垃圾分类",
        Theme {
            en: "sorting rubbish",
            keywords: &[
                "rubbish",
                "garbage",
                "recycle",
                "sort",
                "bins",
                "environment",
                "waste",
            ],
        },
    ),
    (
        "游泳",
        Theme {
            en: "learning to swim",
            keywords: &["swim", "swimming", "water", "pool", "afraid", "lessons"],
        },
    ),
    (
        "大学生活",
        Theme {
            en: "college life",
            keywords: &["college", "university", "major", "future", "plan", "plans"],
        },
    ),
    (
        "篮球",
        Theme {
            en: "the basketball game",
            keywords: &[
                "basketball",
                "game",
                "team",
                "score",
                "player",
                "match",
                "win",
            ],
        },
    ),
    (
        "幻灯片",
        Theme {
            en: "making slides for the class presentation",
            keywords: &[
                "slides",
                "slide",
                "presentation",
                "computer",
                "software",
                "powerpoint",
                "pictures",
            ],
        },
    ),
    (
        "义卖",
        Theme {
            en: "the charity sale",
            keywords: &["sale", "sell", "money", "charity", "donate", "price", "buy"],
        },
    ),
    (
        "足球",
        Theme {
            en: "the football match",
            keywords: &["football", "soccer", "match", "team", "goal"],
        },
    ),
    (
        "备考",
        Theme {
            en: "preparing for exams",
            keywords: &[
                "exam", "exams", "study", "studying", "test", "review", "time", "stress",
            ],
        },
    ),
    (
        "考试",
        Theme {
            en: "exams",
            keywords: &["exam", "exams", "study", "studying", "test", "review"],
        },
    ),
    (
        "艺术节",
        Theme {
            en: "the school art festival",
            keywords: &[
                "art",
                "festival",
                "performance",
                "perform",
                "show",
                "painting",
                "dance",
                "music",
                "stage",
                "fun",
            ],
        },
    ),
    (
        "生日",
        Theme {
            en: "birthdays",
            keywords: &["birthday", "party", "cake", "gift", "celebrate"],
        },
    ),
    (
        "手机应用",
        Theme {
            en: "the new phone app",
            keywords: &["app", "phone", "feature", "task", "tasks", "download"],
        },
    ),
    (
        "应用",
        Theme {
            en: "the new phone app",
            keywords: &["app", "phone", "feature", "task", "tasks", "download"],
        },
    ),
    (
        "快餐",
        Theme {
            en: "working part-time",
            keywords: &[
                "work",
                "job",
                "shift",
                "school",
                "balance",
                "time",
                "customers",
                "schedule",
            ],
        },
    ),
    (
        "打工",
        Theme {
            en: "working part-time",
            keywords: &[
                "work", "job", "shift", "school", "balance", "time", "schedule",
            ],
        },
    ),
    (
        "文化",
        Theme {
            en: "life in different cultures",
            keywords: &[
                "culture",
                "cultures",
                "country",
                "different",
                "tradition",
                "school",
            ],
        },
    ),
    (
        "高中",
        Theme {
            en: "high school life",
            keywords: &["school", "high", "class", "classes", "friends", "teacher"],
        },
    ),
    (
        "电影",
        Theme {
            en: "movies",
            keywords: &["movie", "movies", "film", "actor", "cinema"],
        },
    ),
    (
        "旅行",
        Theme {
            en: "travel",
            keywords: &["trip", "travel", "visit", "place", "city"],
        },
    ),
    (
        "环保",
        Theme {
            en: "protecting the environment",
            keywords: &[
                "environment",
                "recycle",
                "plastic",
                "pollution",
                "green",
                "trees",
            ],
        },
    ),
    (
        "志愿",
        Theme {
            en: "volunteering",
            keywords: &["volunteer", "volunteering", "help", "community"],
        },
    ),
    (
        "图书馆",
        Theme {
            en: "the library",
            keywords: &["library", "book", "books", "read", "reading"],
        },
    ),
    (
        "书",
        Theme {
            en: "books",
            keywords: &["book", "books", "read", "reading", "story", "author"],
        },
    ),
    (
        "面试",
        Theme {
            en: "the interview",
            keywords: &["interview", "nervous", "job", "question", "questions"],
        },
    ),
    (
        "饮食",
        Theme {
            en: "healthy eating",
            keywords: &["food", "eat", "eating", "healthy", "diet", "vegetables"],
        },
    ),
    (
        "体育",
        Theme {
            en: "sports",
            keywords: &["sport", "sports", "exercise", "run", "running", "team"],
        },
    ),
    (
        "锻炼",
        Theme {
            en: "exercise",
            keywords: &["exercise", "sport", "sports", "run", "running", "gym"],
        },
    ),
    (
        "大学",
        Theme {
            en: "college life",
            keywords: &["college", "university", "major", "future", "plan", "plans"],
        },
    ),
    (
        "毕业",
        Theme {
            en: "graduation",
            keywords: &["graduation", "graduate", "future", "college"],
        },
    ),
    (
        "徒步",
        Theme {
            en: "hiking",
            keywords: &["hiking", "hike", "mountain", "walk", "trail"],
        },
    ),
    (
        "咖啡",
        Theme {
            en: "the coffee shop",
            keywords: &["coffee", "cafe", "drink", "shop"],
        },
    ),
    (
        "音乐",
        Theme {
            en: "music",
            keywords: &["music", "song", "songs", "sing", "band", "concert"],
        },
    ),
    (
        "宠物",
        Theme {
            en: "pets",
            keywords: &["pet", "pets", "dog", "cat"],
        },
    ),
    (
        "软件",
        Theme {
            en: "the software",
            keywords: &["software", "computer", "program", "app"],
        },
    ),
    (
        "电脑",
        Theme {
            en: "computers",
            keywords: &["computer", "software", "program"],
        },
    ),
    (
        "假期",
        Theme {
            en: "the holidays",
            keywords: &["holiday", "holidays", "vacation", "trip"],
        },
    ),
    (
        "春节",
        Theme {
            en: "the Spring Festival",
            keywords: &["festival", "family", "year", "dumplings"],
        },
    ),
];

static DEFAULT_THEME: Theme = Theme {
    en: "today's topic",
    keywords: &[],
};

fn theme(topic: &str) -> &'static Theme {
    THEMES
        .iter()
        .find(|(zh, _)| topic.contains(zh))
        .map(|(_, t)| t)
        .unwrap_or(&DEFAULT_THEME)
}

static STOPWORDS: &[&str] = &[
    "the", "and", "that", "this", "with", "have", "what", "about", "your", "you", "for", "are",
    "was", "were", "it's", "i'm", "very", "really", "just", "they", "them", "there", "their",
    "from", "will", "would", "could", "should", "been", "when", "which", "does", "did", "not",
    "yes", "yeah", "like", "think", "teacher", "because", "also", "some", "much", "more",
];

/// Words that keep a line on the topic: the English theme's words and its keywords (for the judge).
pub(crate) fn topic_words(topic: &str) -> Vec<String> {
    let th = theme(topic);
    let mut v = content_words(th.en);
    v.extend(th.keywords.iter().map(|k| k.to_string()));
    v
}

/// Lower-cased English words of four letters or more that are not stopwords.
pub(crate) fn content_words(s: &str) -> Vec<String> {
    words(s)
        .into_iter()
        .filter(|w| w.len() >= 4 && !STOPWORDS.contains(&w.as_str()))
        .collect()
}

static MISSPELLINGS: &[(&str, &str)] = &[
    ("brthday", "birthday"),
    ("4get", "forget"),
    ("recieve", "receive"),
    ("becuase", "because"),
    ("beacuse", "because"),
    ("freind", "friend"),
    ("freinds", "friends"),
    ("tommorow", "tomorrow"),
    ("definately", "definitely"),
    ("realy", "really"),
    ("studing", "studying"),
    ("beautifull", "beautiful"),
    ("intresting", "interesting"),
    ("wich", "which"),
    ("thier", "their"),
    ("excitting", "exciting"),
    ("wether", "whether"),
    ("alot", "a lot"),
    ("untill", "until"),
    ("begining", "beginning"),
    ("writting", "writing"),
    ("hapy", "happy"),
    ("favorit", "favorite"),
    ("enjoied", "enjoyed"),
    ("basketbal", "basketball"),
    ("teh", "the"),
    ("adn", "and"),
    ("preformance", "performance"),
    ("2day", "today"),
    ("b4", "before"),
    ("gud", "good"),
    ("plz", "please"),
    ("u", "you"),
    ("ur", "your"),
    ("wanna", "want to"),
    ("exprience", "experience"),
    ("scedule", "schedule"),
    ("studyed", "studied"),
    ("excercise", "exercise"),
    ("libary", "library"),
    ("mathmatics", "mathematics"),
    ("grammer", "grammar"),
    ("tecaher", "teacher"),
    ("knowlege", "knowledge"),
];

fn misspelling(line: &str) -> Option<(String, Option<String>)> {
    for raw in line.split_whitespace() {
        let w: String = raw
            .trim_matches(|c: char| !c.is_ascii_alphanumeric())
            .to_string();
        if w.is_empty() {
            continue;
        }
        let lower = w.to_ascii_lowercase();
        if let Some((_, good)) = MISSPELLINGS.iter().find(|(bad, _)| *bad == lower) {
            return Some((w, Some(good.to_string())));
        }
        let has_digit = lower.chars().any(|c| c.is_ascii_digit());
        let has_alpha = lower.chars().any(|c| c.is_ascii_alphabetic());
        let numeric_suffix = ["st", "nd", "rd", "th", "s", "am", "pm", "k", "d"]
            .iter()
            .any(|s| {
                lower
                    .strip_suffix(s)
                    .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            });
        if has_digit && has_alpha && !numeric_suffix {
            return Some((w, None));
        }
        if has_alpha
            && max_consonant_run(&lower) >= 5
            && !["strengths", "lengths"].contains(&lower.as_str())
        {
            return Some((w, None));
        }
    }
    None
}

fn max_consonant_run(w: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    for c in w.chars() {
        if c.is_ascii_alphabetic() && !"aeiouy".contains(c) {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// A few common learner errors: (words matched, lower-case; their correction).
fn ungrammatical(line: &str) -> Option<(String, String)> {
    let orig: Vec<&str> = line.split_whitespace().collect();
    let norm: Vec<String> = orig
        .iter()
        .map(|w| {
            w.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '\''))
                .to_ascii_lowercase()
        })
        .collect();
    let clean = |w: &str| {
        w.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '\''))
            .to_string()
    };
    let third_person = [
        ("go", "goes"),
        ("like", "likes"),
        ("want", "wants"),
        ("have", "has"),
        ("do", "does"),
        ("don't", "doesn't"),
        ("need", "needs"),
        ("think", "thinks"),
    ];
    // A plural subject with a third-person verb ("we goes", "my grandparents lives").
    let plural_subject = |w: &str| {
        ["we", "they", "i", "you"].contains(&w)
            || (w.len() > 4
                && w.ends_with('s')
                && !w.ends_with("ss")
                && !["this", "always", "perhaps", "sometimes", "yes"].contains(&w))
    };
    let base_form = [
        ("goes", "go"),
        ("lives", "live"),
        ("likes", "like"),
        ("wants", "want"),
        ("has", "have"),
        ("needs", "need"),
        ("thinks", "think"),
        ("plays", "play"),
        ("makes", "make"),
        ("gets", "get"),
        ("comes", "come"),
    ];
    // A subject and an adjective with no verb between them ("I still afraid").
    let adjectives = [
        "afraid",
        "scared",
        "happy",
        "sad",
        "tired",
        "busy",
        "nervous",
        "ready",
        "sure",
        "excited",
        "interested",
        "angry",
        "hungry",
        "okay",
        "good",
        "bad",
    ];
    let copula = |subject: &str| match subject {
        "i" => "am",
        "he" | "she" | "it" => "is",
        _ => "are",
    };
    let auxiliaries = [
        "did", "does", "do", "will", "can", "could", "would", "should", "let", "make", "made",
        "help", "to", "may", "might", "must",
    ];
    for i in 0..norm.len() {
        let w = norm[i].as_str();
        let next = norm.get(i + 1).map(String::as_str).unwrap_or("");
        let prev = if i > 0 { norm[i - 1].as_str() } else { "" };
        let after = orig.get(i + 2).map(|s| clean(s)).unwrap_or_default();
        let with_after = |a: String, b: String| {
            if after.is_empty() {
                (a, b)
            } else {
                (format!("{a} {after}"), format!("{b} {after}"))
            }
        };
        let first = clean(orig[i]);
        match (w, next) {
            ("i", "not") => {
                return Some(with_after(
                    format!("{first} not"),
                    format!("{first} do not"),
                ))
            }
            ("it", "a") => return Some(with_after(format!("{first} a"), format!("{first} is a"))),
            ("i", "is") | ("i", "are") => {
                return Some((format!("{first} {next}"), format!("{first} am")))
            }
            ("i", "has") => return Some((format!("{first} has"), format!("{first} have"))),
            ("they" | "we" | "you", "was") => {
                return Some((format!("{first} was"), format!("{first} were")))
            }
            ("he" | "she", "were") => {
                return Some((format!("{first} were"), format!("{first} was")))
            }
            ("more", "better") => return Some(("more better".into(), "better".into())),
            ("learned" | "learn" | "learning", "swim" | "play" | "ride" | "cook" | "drive") => {
                return Some((format!("{first} {next}"), format!("{first} to {next}")))
            }
            ("i" | "we" | "they" | "you" | "he" | "she", a)
                if adjectives.contains(&a)
                    || (a == "still"
                        && adjectives.contains(&norm.get(i + 2).map_or("", String::as_str))) =>
            {
                let rest = if a == "still" {
                    format!("still {}", norm[i + 2])
                } else {
                    a.to_string()
                };
                return Some((
                    format!("{first} {rest}"),
                    format!("{first} {} {rest}", copula(w)),
                ));
            }
            (subject, v) if plural_subject(subject) && !auxiliaries.contains(&prev) => {
                if let Some((_, base)) = base_form.iter().find(|(third, _)| *third == v) {
                    return Some((format!("{first} {v}"), format!("{first} {base}")));
                }
            }
            ("didn't" | "did", "went") => {
                return Some((format!("{first} went"), format!("{first} go")))
            }
            ("he" | "she" | "it", v) if !auxiliaries.contains(&prev) => {
                if let Some((_, fixed)) = third_person.iter().find(|(base, _)| *base == v) {
                    return Some(with_after(
                        format!("{first} {v}"),
                        format!("{first} {fixed}"),
                    ));
                }
            }
            _ => {}
        }
        if !w.is_empty()
            && w == next
            && !["that", "had", "very", "so", "ha", "bye", "no"].contains(&w)
        {
            return Some((format!("{first} {first}"), first));
        }
    }
    None
}

static OFF_TOPIC_CUES: &[&str] = &[
    "by the way",
    "let's talk about",
    "did you watch",
    "did you see the",
    "what's for lunch",
    "what's for dinner",
    "weather",
    "video game",
    "my cat",
    "my dog",
    "pizza",
    "hamburger",
    "cartoon",
    "tiktok",
    "lottery",
    "stock market",
    "celebrity",
    "anime",
    "shopping mall",
    "new shoes",
    "play games",
    "online game",
];

pub(crate) fn classify(tp: &TutorPrompt, line: &str) -> StudentLine {
    if has_cjk(line) {
        return StudentLine::Chinese;
    }
    let lower = line.to_ascii_lowercase();
    let th = theme(&tp.topic);
    let line_words = words(line);
    let on_theme = line_words.iter().any(|w| th.keywords.contains(&w.as_str()));
    let teacher_words = tp.last_teacher().map(content_words).unwrap_or_default();
    let overlaps_teacher = content_words(line)
        .iter()
        .any(|w| teacher_words.contains(w));
    let cue = OFF_TOPIC_CUES.iter().any(|c| lower.contains(c));
    // A question of the student's own that shares no word with the topic or the teacher's line
    // changes the subject (only when the topic is one the simulator knows words for).
    let own_question = line.contains('?') && !th.keywords.is_empty();
    if (cue || own_question) && !on_theme && !overlaps_teacher {
        return StudentLine::OffTopic;
    }
    if let Some((bad, good)) = misspelling(line) {
        return StudentLine::Misspelled { bad, good };
    }
    if let Some((wrong, right)) = ungrammatical(line) {
        return StudentLine::Ungrammatical { wrong, right };
    }
    // Four words or fewer, or a fragment of up to six without a subject ("Gave it to the
    // driver.", "Only one, an old lady.").
    let fragment = line_words.len() <= 6
        && line_words
            .first()
            .is_some_and(|w| !SUBJECTS.contains(&w.as_str()));
    if line_words.len() <= 4 || fragment {
        return StudentLine::Terse;
    }
    StudentLine::Normal
}

/// Words a complete sentence of a student's usually starts with.
static SUBJECTS: &[&str] = &[
    "i", "i'm", "i've", "i'd", "i'll", "you", "he", "she", "it", "it's", "we", "they", "my", "our",
    "your", "his", "her", "their", "the", "this", "that", "these", "those", "there", "there's",
    "what", "how", "why", "when", "where", "who", "which", "do", "does", "did", "can", "could",
    "let's", "please",
];

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
    let t = theme(&tp.topic).en;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::profiles::by_model_name;

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
