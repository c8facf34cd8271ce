//! The rule checks of SPEC §4, one pure function each. Every check returns a `RuleOutcome` whose
//! `detail` tells a user exactly why it passed or failed.
//!
//! Text checks take labelled parts (`("Reply", text)`, or `("Suggestion[0]", …)` per list element, see
//! `json::field_parts`). Counting checks (`max_words`, `length_range`) and matching checks (`regex`,
//! `not_contains`) see the parts joined by newlines — a list `Reply` is one reply; character-class checks
//! (`english_only`, `requires_han`) look at each part, so the detail names the element at fault.

use regex::Regex;
use serde_json::{Map, Value};

use super::json::{self, Found};
use super::length::LengthBound;
use super::text;
use crate::records::RuleOutcome;

fn outcome(pass: bool, detail: impl Into<String>) -> RuleOutcome {
    RuleOutcome {
        pass,
        detail: detail.into(),
    }
}

/// What a text check looks at: a label (`output`, `Reply`) and the labelled parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Short label of the outcome.
    pub label: String,
    /// Named parts of the detail.
    pub parts: Vec<(String, String)>,
}

impl Target {
    /// The whole answer.
    pub fn output(output: &str) -> Target {
        Target {
            label: "output".into(),
            parts: vec![("output".into(), output.to_string())],
        }
    }

    fn joined(&self) -> String {
        self.parts
            .iter()
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// "Reply", or "Reply (2 items)" when a list was joined.
    fn counted_label(&self) -> String {
        match self.parts.as_slice() {
            [(l, _)] if *l == self.label => self.label.clone(),
            parts => format!("{} ({} items)", self.label, parts.len()),
        }
    }
}

/// The whole output, trimmed, is exactly one JSON object: no fence, no prose, no second object.
pub fn json_strict(output: &str) -> RuleOutcome {
    match json::strict_object(output) {
        Ok(_) => outcome(true, Found::Strict.describe()),
        Err(why) => outcome(false, why),
    }
}

/// A JSON object can be recovered: strictly, from a ``` fence, or as the first object amid prose.
pub fn json_extractable(output: &str) -> RuleOutcome {
    match json::extract_object(output) {
        Some(x) => outcome(true, x.how.describe()),
        None => outcome(false, "no JSON object"),
    }
}

/// Every key is present with a non-empty value (null, `""` and `[]` count as missing content).
pub fn has_keys(object: &Map<String, Value>, keys: &[String]) -> RuleOutcome {
    let missing: Vec<&str> = keys
        .iter()
        .filter(|k| !object.contains_key(*k))
        .map(String::as_str)
        .collect();
    let empty: Vec<&str> = keys
        .iter()
        .filter(|k| match object.get(*k) {
            Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        })
        .map(String::as_str)
        .collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("missing {}", missing.join(", ")));
    }
    if !empty.is_empty() {
        problems.push(format!("empty {}", empty.join(", ")));
    }
    if problems.is_empty() {
        outcome(true, format!("has {}", keys.join(", ")))
    } else {
        outcome(false, problems.join("; "))
    }
}

/// The field is a list with between `min` and `max` elements.
pub fn array_len(
    object: &Map<String, Value>,
    field: &str,
    min: Option<usize>,
    max: Option<usize>,
) -> RuleOutcome {
    let expected = match (min, max) {
        (Some(a), Some(b)) if a == b => format!("{a}"),
        (Some(a), Some(b)) => format!("{a}–{b}"),
        (Some(a), None) => format!("at least {a}"),
        (None, Some(b)) => format!("at most {b}"),
        (None, None) => "any number of".into(),
    };
    match object.get(field) {
        None => outcome(false, format!("no field `{field}` in the JSON object")),
        Some(Value::Array(items)) => {
            let n = items.len();
            let ok = min.is_none_or(|a| n >= a) && max.is_none_or(|b| n <= b);
            let detail = if ok {
                format!("{field} has {n} items")
            } else {
                format!("{field} has {n} items (expected {expected})")
            };
            outcome(ok, detail)
        }
        Some(other) => outcome(
            false,
            format!(
                "{field} is a {}, not a list (expected {expected} items)",
                json::kind(other)
            ),
        ),
    }
}

/// At most `max` English words (`text::word_count`: UAX #29, "don't" = 1, "e-mail" = 2).
pub fn max_words(target: &Target, max: usize) -> RuleOutcome {
    let n = text::word_count(&target.joined());
    let unit = if n == 1 { "word" } else { "words" };
    outcome(
        n <= max,
        format!("{} has {n} {unit} (max {max})", target.counted_label()),
    )
}

/// No Han, kana, hangul or full-width character (`text::classify`). Emoji and Latin punctuation pass.
pub fn english_only(target: &Target) -> RuleOutcome {
    for (label, t) in &target.parts {
        let bad: Vec<char> = t.chars().filter(|c| text::is_non_english(*c)).collect();
        if let Some(&first) = bad.first() {
            let n = bad.len();
            let what = if n == 1 { "character" } else { "characters" };
            let class = text::classify(first).describe();
            return outcome(
                false,
                format!("{label} has {n} non-English {what}, first '{first}' ({class})"),
            );
        }
    }
    outcome(true, format!("{} is English-only", target.label))
}

/// Each part contains at least one Han character (e.g. an `Analysis` that must be in Chinese).
pub fn requires_han(target: &Target) -> RuleOutcome {
    if target.parts.is_empty() {
        return outcome(false, format!("{} is an empty list", target.label));
    }
    for (label, t) in &target.parts {
        if !t.chars().any(text::is_han) {
            return outcome(false, format!("{label} has no Han character"));
        }
    }
    let n: usize = target
        .parts
        .iter()
        .map(|(_, t)| t.chars().filter(|c| text::is_han(*c)).count())
        .sum();
    outcome(true, format!("{} has {n} Han characters", target.label))
}

/// Length in characters (`text::char_count`: non-whitespace graphemes) within the bound.
pub fn length_range(target: &Target, bound: &LengthBound) -> RuleOutcome {
    let n = text::char_count(&target.joined());
    outcome(
        bound.contains(n),
        format!(
            "{} has {n} characters (expected {}, from {})",
            target.counted_label(),
            bound.describe_range(),
            bound.source
        ),
    )
}

/// The text matches `re` (or, with `must_match = false`, does not).
pub fn regex(target: &Target, re: &Regex, must_match: bool) -> RuleOutcome {
    let joined = target.joined();
    let found = re.find(&joined);
    let label = &target.label;
    match (found, must_match) {
        (Some(m), true) => outcome(
            true,
            format!("{label} matches /{re}/ at \"{}\"", m.as_str()),
        ),
        (None, true) => outcome(false, format!("{label} does not match /{re}/")),
        (Some(m), false) => outcome(
            false,
            format!("{label} matches /{re}/ at \"{}\" (must not)", m.as_str()),
        ),
        (None, false) => outcome(true, format!("{label} does not match /{re}/")),
    }
}

/// The text does not contain `needle` (case-sensitive, literal).
pub fn not_contains(target: &Target, needle: &str) -> RuleOutcome {
    let n = target.joined().matches(needle).count();
    let label = &target.label;
    match n {
        0 => outcome(true, format!("{label} does not contain \"{needle}\"")),
        1 => outcome(false, format!("{label} contains \"{needle}\"")),
        n => outcome(false, format!("{label} contains \"{needle}\" {n} times")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::length::parse_bound;

    fn field(label: &str, t: &str) -> Target {
        Target {
            label: label.into(),
            parts: vec![(label.into(), t.into())],
        }
    }

    fn list(label: &str, items: &[&str]) -> Target {
        let parts = items
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("{label}[{i}]"), t.to_string()))
            .collect();
        Target {
            label: label.into(),
            parts,
        }
    }

    fn obj(s: &str) -> Map<String, Value> {
        json::strict_object(s).unwrap()
    }

    const GOOD: &str = r#"{"Reply": "Hi!", "Suggestion": ["a", "b", "c"]}"#;

    #[test]
    fn strict_vs_fenced_vs_prose() {
        assert!(json_strict(GOOD).pass);
        let fenced = format!("```json\n{GOOD}\n```");
        let r = json_strict(&fenced);
        assert!(!r.pass);
        assert_eq!(r.detail, "the JSON object is inside a ``` fence");
        assert!(json_extractable(&fenced).pass);
        let prose = format!("Here you go:\n{GOOD}\nAnything else?");
        assert!(!json_strict(&prose).pass);
        let r = json_extractable(&prose);
        assert!(r.pass);
        assert_eq!(r.detail, "the JSON object has other text around it");
        let r = json_extractable("I cannot answer that.");
        assert!(!r.pass);
        assert_eq!(r.detail, "no JSON object");
    }

    #[test]
    fn has_keys_reports_missing_and_empty() {
        let keys = vec![
            "Reply".to_string(),
            "Suggestion".to_string(),
            "Analysis".to_string(),
        ];
        let r = has_keys(&obj(GOOD), &keys);
        assert!(!r.pass);
        assert_eq!(r.detail, "missing Analysis");
        let r = has_keys(
            &obj(r#"{"Reply": "", "Suggestion": [], "Analysis": "好"}"#),
            &keys,
        );
        assert_eq!(r.detail, "empty Reply, Suggestion");
        assert!(
            has_keys(
                &obj(r#"{"Reply": "x", "Suggestion": ["a"], "Analysis": "好"}"#),
                &keys
            )
            .pass
        );
    }

    #[test]
    fn array_len_exact_and_string_instead_of_list() {
        assert!(array_len(&obj(GOOD), "Suggestion", Some(3), Some(3)).pass);
        let r = array_len(
            &obj(r#"{"Suggestion": ["a", "b"]}"#),
            "Suggestion",
            Some(3),
            Some(3),
        );
        assert!(!r.pass);
        assert_eq!(r.detail, "Suggestion has 2 items (expected 3)");
        let r = array_len(
            &obj(r#"{"Suggestion": "a. b. c."}"#),
            "Suggestion",
            Some(3),
            Some(3),
        );
        assert!(!r.pass);
        assert_eq!(
            r.detail,
            "Suggestion is a string, not a list (expected 3 items)"
        );
        let r = array_len(&obj("{}"), "Suggestion", Some(3), Some(3));
        assert_eq!(r.detail, "no field `Suggestion` in the JSON object");
    }

    #[test]
    fn max_words_counts_contractions_once_and_hyphenated_words_twice() {
        // 30 words with contractions: passes at the limit.
        let reply = "I don't think it's a problem, isn't it? ".repeat(3) + &"word ".repeat(6);
        assert_eq!(text::word_count(&reply), 30);
        let r = max_words(&field("Reply", &reply), 30);
        assert!(r.pass, "{}", r.detail);
        // The hyphenated "to-do" is two words, tipping it over.
        let r = max_words(&field("Reply", &format!("{reply} to-do")), 30);
        assert!(!r.pass);
        assert_eq!(r.detail, "Reply has 32 words (max 30)");
    }

    #[test]
    fn max_words_joins_a_list_field() {
        let r = max_words(&list("Reply", &["one two three", "four five"]), 4);
        assert!(!r.pass);
        assert_eq!(r.detail, "Reply (2 items) has 5 words (max 4)");
    }

    #[test]
    fn english_only_rejects_chinese_and_full_width_but_not_emoji() {
        assert!(english_only(&field("Reply", "Great job! 😀🎉 Let's go—“now”.")).pass);
        let r = english_only(&field("Reply", "请尝试使用英语回答"));
        assert!(!r.pass);
        assert_eq!(
            r.detail,
            "Reply has 9 non-English characters, first '请' (Han character)"
        );
        let r = english_only(&field("Reply", "Yes，I agree。"));
        assert!(!r.pass);
        assert_eq!(
            r.detail,
            "Reply has 2 non-English characters, first '，' (full-width character)"
        );
        let r = english_only(&list("Suggestion", &["Fine.", "Sure.", "はい"]));
        assert_eq!(
            r.detail,
            "Suggestion[2] has 2 non-English characters, first 'は' (kana)"
        );
        assert!(!english_only(&field("Reply", "안녕")).pass);
    }

    #[test]
    fn requires_han_per_part() {
        assert!(requires_han(&field("Analysis", "学生的回复很好。")).pass);
        let r = requires_han(&field("Analysis", "The student did well."));
        assert!(!r.pass);
        assert_eq!(r.detail, "Analysis has no Han character");
        let r = requires_han(&list("Analysis", &["语法正确。", "Good!"]));
        assert_eq!(r.detail, "Analysis[1] has no Han character");
        assert!(!requires_han(&field("Analysis", "😀，")).pass);
        assert!(!requires_han(&list("Analysis", &[])).pass);
    }

    #[test]
    fn length_range_with_prompt_bounds() {
        let within50 = parse_bound("请用50字以内概括", 0.2).unwrap();
        assert!(length_range(&Target::output(&"好".repeat(50)), &within50).pass);
        let r = length_range(&Target::output(&"好".repeat(51)), &within50);
        assert!(!r.pass);
        assert_eq!(
            r.detail,
            "output has 51 characters (expected at most 50, from \"50字以内\")"
        );

        let atleast = parse_bound("写一篇不少于200字的作文", 0.2).unwrap();
        assert!(!length_range(&Target::output(&"字".repeat(199)), &atleast).pass);
        assert!(length_range(&Target::output(&"字".repeat(200)), &atleast).pass);

        let about = parse_bound("300字左右", 0.2).unwrap();
        assert!(!length_range(&Target::output(&"字".repeat(239)), &about).pass);
        assert!(length_range(&Target::output(&"字，".repeat(120)), &about).pass);
        let r = length_range(&Target::output(&"字".repeat(361)), &about);
        assert!(!r.pass);
        assert_eq!(
            r.detail,
            "output has 361 characters (expected 240–360, from \"300字左右\" ±20%)"
        );
    }

    #[test]
    fn regex_both_directions() {
        let re = Regex::new("(?i)english").unwrap();
        let r = regex(&field("Reply", "Please try to use English."), &re, true);
        assert!(r.pass);
        assert_eq!(r.detail, "Reply matches /(?i)english/ at \"English\"");
        assert!(!regex(&field("Reply", "Great game!"), &re, true).pass);
        let r = regex(&field("Reply", "In English please"), &re, false);
        assert!(!r.pass);
        assert!(r.detail.ends_with("(must not)"), "{}", r.detail);
        assert!(regex(&field("Reply", "Great game!"), &re, false).pass);
    }

    #[test]
    fn not_contains_counts() {
        let s = "{\"Reply\": \"a\"}\n[学生回复]\nhi\n{\"Reply\": \"b\"}\n[学生回复]\n";
        let r = not_contains(&Target::output(s), "[学生回复]");
        assert!(!r.pass);
        assert_eq!(r.detail, "output contains \"[学生回复]\" 2 times");
        assert!(not_contains(&Target::output(GOOD), "[学生回复]").pass);
    }
}
