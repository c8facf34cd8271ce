//! Text helpers: the simulator's "tokenizer" (the pieces an answer is streamed in, which are also
//! what `usage` counts), script detection, and the requested length parsed from a prompt.

/// Han, kana, hangul and full-width punctuation: everything the rubric's `english_only` rejects.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3000}'..='\u{303F}'   // CJK symbols and punctuation
        | '\u{3040}'..='\u{30FF}' // kana
        | '\u{3400}'..='\u{4DBF}' // Han extension A
        | '\u{4E00}'..='\u{9FFF}' // Han
        | '\u{AC00}'..='\u{D7AF}' // hangul
        | '\u{F900}'..='\u{FAFF}' // Han compatibility
        | '\u{FF00}'..='\u{FFEF}' // full-width forms
        | '\u{20000}'..='\u{2FA1F}')
}

pub(crate) fn has_cjk(s: &str) -> bool {
    s.chars().any(is_cjk)
}

/// Splits text into the pieces the simulator streams, one per "token": a CJK character, a run of
/// ASCII letters/digits (with apostrophes inside words), or a single other character. Whitespace
/// is glued to the front of the following piece, so concatenating the pieces gives back the text.
pub(crate) fn pieces(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending_ws = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            pending_ws.push(c);
            continue;
        }
        let mut piece = std::mem::take(&mut pending_ws);
        piece.push(c);
        if c.is_ascii_alphanumeric() {
            while let Some(&n) = chars.peek() {
                let inner_apostrophe = n == '\'' && piece.len() > 1;
                if n.is_ascii_alphanumeric() || inner_apostrophe {
                    piece.push(n);
                    chars.next();
                } else {
                    break;
                }
            }
        }
        out.push(piece);
    }
    if !pending_ws.is_empty() {
        match out.last_mut() {
            Some(last) => last.push_str(&pending_ws),
            None => out.push(pending_ws),
        }
    }
    out
}

/// Token estimate used for `prompt_tokens`: the same counting as [`pieces`].
pub(crate) fn count_tokens(text: &str) -> u64 {
    pieces(text).len() as u64
}

/// English words, lower-cased, letters/digits/apostrophes only.
pub(crate) fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .collect()
}

/// How a prompt bounds the answer's length in characters, e.g. "50字以内", "300字", "不少于200字".
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum LengthAsk {
    AtMost(usize),
    About(usize),
    AtLeast(usize),
}

impl LengthAsk {
    /// The length a compliant answer aims at.
    pub(crate) fn target(self) -> usize {
        match self {
            LengthAsk::AtMost(n) => n * 4 / 5,
            LengthAsk::About(n) => n,
            LengthAsk::AtLeast(n) => n * 6 / 5,
        }
    }
}

/// The first "N字" in the prompt and the words around it.
pub(crate) fn length_ask(prompt: &str) -> Option<LengthAsk> {
    let chars: Vec<char> = prompt.chars().collect();
    for i in 0..chars.len() {
        if chars[i] != '字' || i == 0 || !chars[i - 1].is_ascii_digit() {
            continue;
        }
        let mut start = i;
        while start > 0 && chars[start - 1].is_ascii_digit() {
            start -= 1;
        }
        let n: usize = chars[start..i].iter().collect::<String>().parse().ok()?;
        if n == 0 {
            continue;
        }
        let before: String = chars[start.saturating_sub(4)..start].iter().collect();
        let after: String = chars[i + 1..(i + 4).min(chars.len())].iter().collect();
        let at_most = after.starts_with("以内")
            || after.starts_with("以下")
            || after.starts_with("之内")
            || before.contains("不超过")
            || before.contains("不多于")
            || before.contains("最多");
        let at_least = after.starts_with("以上")
            || before.contains("不少于")
            || before.contains("至少")
            || before.contains("不低于");
        return Some(if at_most {
            LengthAsk::AtMost(n)
        } else if at_least {
            LengthAsk::AtLeast(n)
        } else {
            LengthAsk::About(n)
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_round_trip_and_split_by_script() {
        let t = "Hello, world! 你好。 It's \"fine\"\n";
        let p = pieces(t);
        assert_eq!(p.concat(), t);
        assert_eq!(p[0], "Hello");
        assert_eq!(p[1], ",");
        assert_eq!(p[2], " world");
        assert!(p.contains(&" It's".to_string()));
        assert!(p.contains(&" 你".to_string()));
        assert!(p.contains(&"好".to_string()));
    }

    #[test]
    fn pieces_of_whitespace_only() {
        assert_eq!(pieces("  ").concat(), "  ");
        assert!(pieces("").is_empty());
    }

    #[test]
    fn length_asks() {
        assert_eq!(
            length_ask("发送讨长辈欢心的50字以内拜年语"),
            Some(LengthAsk::AtMost(50))
        );
        assert_eq!(
            length_ask("完成“300字过年作文”的作业"),
            Some(LengthAsk::About(300))
        );
        assert_eq!(
            length_ask("写一篇不少于200字的文章"),
            Some(LengthAsk::AtLeast(200))
        );
        assert_eq!(length_ask("不超过80字"), Some(LengthAsk::AtMost(80)));
        assert_eq!(length_ask("no length here"), None);
    }

    #[test]
    fn cjk_detection_includes_fullwidth_punctuation() {
        assert!(has_cjk("ok，"));
        assert!(has_cjk("中"));
        assert!(!has_cjk("plain English, 'quoted'."));
    }
}
