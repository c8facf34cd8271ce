//! Classifying the student's last line: Chinese, off topic, misspelled, ungrammatical, terse or normal.

use super::themes::{content_words, theme};
use super::{StudentLine, TutorPrompt};
use crate::sim::text::{has_cjk, words};

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

pub(super) fn misspelling(line: &str) -> Option<(String, Option<String>)> {
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
    let on_theme = line_words
        .iter()
        .any(|w| th.keywords.iter().any(|k| k == w));
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
