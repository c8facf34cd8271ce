//! The topic data: Chinese topic words → an English theme for the templates, and the words that keep
//! a student's line on that topic. The table lives in `data/themes.json` (more specific entries
//! first; the first group covers the shipped eval set's topics) and is parsed once.

use std::sync::LazyLock;

use serde::Deserialize;

use crate::sim::text::words;

#[derive(Debug, Deserialize)]
pub(super) struct Theme {
    /// A Chinese word that, found in the `[主题介绍]` text, selects this theme.
    zh: String,
    pub en: String,
    pub keywords: Vec<String>,
}

static THEMES: LazyLock<Vec<Theme>> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../data/themes.json")).expect("sim/data/themes.json parses")
});

static DEFAULT_THEME: LazyLock<Theme> = LazyLock::new(|| Theme {
    zh: String::new(),
    en: "today's topic".to_string(),
    keywords: Vec::new(),
});

pub(super) fn theme(topic: &str) -> &'static Theme {
    THEMES
        .iter()
        .find(|t| topic.contains(t.zh.as_str()))
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
    let mut v = content_words(&th.en);
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
