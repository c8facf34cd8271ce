//! How text is measured: English words, CJK character classes, and length in characters.
//!
//! Each measure is defined once here, so every rule check and report counts the same way.

use unicode_segmentation::UnicodeSegmentation;

/// Number of English words: UAX #29 word segments that contain a letter or digit
/// (`unicode_words`). So "don't" is 1 word, "e-mail" and "to-do" are 2, "3.5" is 1, and punctuation or
/// emoji alone are 0. A Han character counts as one word each (UAX #29 splits ideographs singly).
pub fn word_count(text: &str) -> usize {
    text.unicode_words().count()
}

/// The script families that make text "not English" (SPEC §4), and everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharClass {
    /// Chinese characters.
    Han,
    /// Japanese kana.
    Kana,
    /// Korean hangul.
    Hangul,
    /// Full-width and CJK punctuation and forms (U+3000–303F, U+FF00–FFEF), e.g. `，` `。` `！` `Ａ`.
    FullWidth,
    /// Any other script.
    Other,
}

impl CharClass {
    /// The script's name, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            CharClass::Han => "Han character",
            CharClass::Kana => "kana",
            CharClass::Hangul => "hangul",
            CharClass::FullWidth => "full-width character",
            CharClass::Other => "character",
        }
    }
}

/// Classify one character. Ranges are written by hand because the full-width punctuation SPEC §4
/// counts as non-English is Script=Common, which a script table would not single out. Emoji are
/// `Other`: they are not CJK, so they do not make a field non-English.
pub fn classify(c: char) -> CharClass {
    match c as u32 {
        // CJK Unified Ideographs and Extension A, Compatibility Ideographs, radicals, Kangxi radicals,
        // Extensions B–I and the compatibility supplement (planes 2 and 3).
        0x4E00..=0x9FFF
        | 0x3400..=0x4DBF
        | 0xF900..=0xFAFF
        | 0x2E80..=0x2EFF
        | 0x2F00..=0x2FDF
        | 0x20000..=0x2FA1F
        | 0x30000..=0x323AF => CharClass::Han,
        // Hiragana, Katakana, Katakana phonetic extensions, kana supplements.
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0x1B000..=0x1B16F => CharClass::Kana,
        // Hangul Jamo, compatibility Jamo, Jamo extensions, syllables.
        0x1100..=0x11FF | 0x3130..=0x318F | 0xA960..=0xA97F | 0xAC00..=0xD7FF => CharClass::Hangul,
        // CJK symbols and punctuation; half-width and full-width forms (this includes half-width kana
        // and hangul, which are non-English either way).
        0x3000..=0x303F | 0xFF00..=0xFFEF => CharClass::FullWidth,
        _ => CharClass::Other,
    }
}

/// True when `c` would make a field non-English (Han, kana, hangul or full-width).
pub fn is_non_english(c: char) -> bool {
    classify(c) != CharClass::Other
}

/// True for a Han ideograph.
pub fn is_han(c: char) -> bool {
    classify(c) == CharClass::Han
}

/// Length "in characters" as a Chinese length instruction (`300字`) means it: every user-perceived
/// character (extended grapheme cluster) that is not whitespace counts 1 — Han, kana, punctuation
/// (as on 方格纸 grid paper), each Latin letter and digit, and an emoji (even a multi-code-point one).
pub fn char_count(text: &str) -> usize {
    text.graphemes(true)
        .filter(|g| !g.chars().all(char::is_whitespace))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contractions_are_one_word_and_hyphens_split() {
        assert_eq!(word_count("don't"), 1);
        assert_eq!(word_count("I don't know, it's fine."), 5);
        assert_eq!(word_count("e-mail"), 2);
        assert_eq!(word_count("a to-do list"), 4);
        assert_eq!(word_count("version 3.5 works"), 3);
        assert_eq!(word_count(" — ! 😀 "), 0);
        assert_eq!(word_count(""), 0);
    }

    #[test]
    fn han_characters_are_one_word_each() {
        assert_eq!(word_count("我很好"), 3);
        assert_eq!(word_count("OK 好的"), 3);
    }

    #[test]
    fn classifies_cjk_families() {
        assert_eq!(classify('当'), CharClass::Han);
        assert_eq!(classify('𠀀'), CharClass::Han);
        assert_eq!(classify('ひ'), CharClass::Kana);
        assert_eq!(classify('カ'), CharClass::Kana);
        assert_eq!(classify('한'), CharClass::Hangul);
        assert_eq!(classify('，'), CharClass::FullWidth);
        assert_eq!(classify('。'), CharClass::FullWidth);
        assert_eq!(classify('！'), CharClass::FullWidth);
        assert_eq!(classify('Ａ'), CharClass::FullWidth);
        assert_eq!(classify('\u{3000}'), CharClass::FullWidth);
    }

    #[test]
    fn english_punctuation_and_emoji_are_other() {
        for c in [
            'a', 'Z', '9', ',', '.', '!', '"', '\'', '“', '”', '’', '—', '😀', '🎉', 'é',
        ] {
            assert_eq!(classify(c), CharClass::Other, "{c:?}");
            assert!(!is_non_english(c), "{c:?}");
        }
        assert!(is_han('字'));
        assert!(!is_han('，'));
    }

    #[test]
    fn char_count_skips_whitespace_and_counts_graphemes() {
        assert_eq!(char_count("你好，世界。"), 6);
        assert_eq!(char_count("你好 世界\n"), 4);
        assert_eq!(char_count("ab c"), 3);
        // A family emoji is several code points joined by ZWJ: one character.
        assert_eq!(char_count("👨‍👩‍👧"), 1);
        assert_eq!(char_count("   "), 0);
    }
}
