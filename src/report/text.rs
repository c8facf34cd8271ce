//! Text helpers shared by the formats: markdown escaping, aligned tables, number formatting.

use unicode_segmentation::UnicodeSegmentation;

use crate::display::display_width;

/// Null in a table cell.
pub(crate) const NULL: &str = "–";

/// Escape untrusted text (model output, judge text, prompts) for a markdown table cell or a line of
/// prose: nothing in it can end the cell, open a code span, emphasis, link or HTML tag, or mention a
/// user. Line breaks become a visible `↵`.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '~' | '|' => {
                out.push('\\');
                out.push(c);
            }
            // Only what could open a tag, comment, autolink or entity: `n < 100` stays as written.
            '<' if chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')) =>
            {
                out.push_str("&lt;")
            }
            '&' if chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '#') =>
            {
                out.push_str("&amp;")
            }
            '>' => out.push_str("\\>"),
            '@' => out.push_str("&#64;"),
            '\r' => {}
            '\n' => {
                while out.ends_with(' ') {
                    out.pop();
                }
                out.push_str(" ↵ ");
                while chars
                    .peek()
                    .is_some_and(|c| *c == ' ' || *c == '\n' || *c == '\r')
                {
                    chars.next();
                }
            }
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Shorten to at most `max` graphemes, ending with `…` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    let mut g = s.graphemes(true);
    let head: String = g.by_ref().take(max).collect();
    if g.next().is_some() {
        format!("{}…", head.trim_end())
    } else {
        head
    }
}

/// A code span holding `s` verbatim (CommonMark: a fence longer than any backtick run inside).
pub(crate) fn code(s: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A code span for a table cell: GFM splits cells on `|` even inside code spans unless escaped.
pub(crate) fn code_cell(s: &str) -> String {
    code(&s.replace(['\n', '\r'], " ")).replace('|', "\\|")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// A GitHub markdown table whose columns are padded so that it also reads well as plain text. Cells are
/// markdown already: escape untrusted text with [`esc`] before adding it.
pub(crate) struct Table {
    header: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new<S: Into<String>>(columns: impl IntoIterator<Item = (S, Align)>) -> Table {
        let (header, align) = columns.into_iter().map(|(h, a)| (h.into(), a)).unzip();
        Table {
            header,
            align,
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.header.len(), "table row width");
        self.rows.push(cells);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub(crate) fn render(&self) -> String {
        let n = self.header.len();
        let mut width = vec![3usize; n];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(display_width(c));
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::from("|");
            for ((c, w), a) in cells.iter().zip(&width).zip(&self.align) {
                let pad = " ".repeat(w - display_width(c));
                match a {
                    Align::Left => s.push_str(&format!(" {c}{pad} |")),
                    Align::Right => s.push_str(&format!(" {pad}{c} |")),
                }
            }
            s.push('\n');
            s
        };
        let mut out = line(&self.header);
        out.push('|');
        for (w, a) in width.iter().zip(&self.align) {
            match a {
                Align::Left => out.push_str(&format!(" {} |", "-".repeat(*w))),
                Align::Right => out.push_str(&format!(" {}: |", "-".repeat(w - 1))),
            }
        }
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }
}

/// `x` with `decimals` places, or `–`.
pub(crate) fn num(x: Option<f64>, decimals: usize) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{:.*}", decimals, v).replace('-', "−"),
        _ => NULL.to_string(),
    }
}

/// A signed difference: `+0.32`, `−0.04`, `0.00`.
pub(crate) fn signed(x: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, x.abs());
    let zero = s.chars().all(|c| c == '0' || c == '.');
    if zero {
        s
    } else if x > 0.0 {
        format!("+{s}")
    } else {
        format!("−{s}")
    }
}

/// A p-value: three decimals, `< 0.001` below that.
pub(crate) fn pval(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "< 0.001".to_string(),
        Some(p) => format!("{p:.3}"),
        None => NULL.to_string(),
    }
}

/// A p-value after `p`, as in "Holm p = 0.003" or "Holm p < 0.001".
pub(crate) fn p_eq(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".to_string()
    } else {
        format!("= {p:.3}")
    }
}

/// A rate in percent with one decimal: `96.0 %`.
pub(crate) fn pct(x: Option<f64>) -> String {
    match x {
        Some(v) => format!("{:.1} %", v * 100.0),
        None => NULL.to_string(),
    }
}

/// A ratio as a rounded percentage for prose: `58 %`, `0.4 %`, `< 0.1 %`.
pub(crate) fn pct_rounded(ratio: f64) -> String {
    let p = ratio * 100.0;
    if p < 0.1 {
        "< 0.1 %".to_string()
    } else if p < 1.0 {
        format!("{p:.1} %")
    } else {
        format!("{p:.0} %")
    }
}

/// Milliseconds shown in seconds with three significant digits: `0.683 s`, `4.16 s`, `12.8 s`.
pub(crate) fn secs(ms: Option<f64>) -> String {
    match ms {
        Some(ms) if ms.is_finite() => {
            let s = ms / 1000.0;
            let decimals = if s < 1.0 {
                3
            } else if s < 10.0 {
                2
            } else if s < 100.0 {
                1
            } else {
                0
            };
            format!("{s:.decimals$} s")
        }
        _ => NULL.to_string(),
    }
}

/// Money with three significant digits but at least two decimals: `12.34`, `0.00425`, `5.10`.
pub(crate) fn money(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => {
            let decimals = if v == 0.0 {
                2
            } else {
                let mag = v.abs().log10().floor() as i32;
                (2 - mag).max(2) as usize
            };
            format!("{v:.decimals$}")
        }
        _ => NULL.to_string(),
    }
}

/// An integer with thin thousands separators for tables: `42 500`.
pub(crate) fn int(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{202F}');
        }
        out.push(c);
    }
    out
}

/// Join with commas and a final "and": `a`, `a and b`, `a, b and c`.
pub(crate) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_untrusted_text_inside_its_cell() {
        let s = esc("a | b `code` <script>x</script> **bold** [l](u) @me\nnext");
        assert!(!s.contains("<script>"));
        assert_eq!(s.matches('|').count(), s.matches("\\|").count());
        assert_eq!(s.matches('`').count(), s.matches("\\`").count());
        assert!(s.contains("&#64;me"));
        assert_eq!(esc("p99 with n < 100 & more"), "p99 with n < 100 & more");
        assert_eq!(esc("&amp; <!-- x -->"), "&amp;amp; &lt;!-- x --\\>");
        assert!(!s.contains('\n'));
        assert_eq!(
            s,
            "a \\| b \\`code\\` &lt;script\\>x&lt;/script\\> \\*\\*bold\\*\\* \\[l\\](u) &#64;me ↵ next"
        );
    }

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("run"), "`run`");
        assert_eq!(code("a `b` c"), "``a `b` c``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code_cell("a|b"), "`a\\|b`");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(secs(Some(682.5)), "0.682 s");
        assert_eq!(secs(Some(4163.3)), "4.16 s");
        assert_eq!(secs(Some(12801.6)), "12.8 s");
        assert_eq!(money(Some(0.00425)), "0.00425");
        assert_eq!(money(Some(5.1)), "5.10");
        assert_eq!(money(Some(123.456)), "123.46");
        assert_eq!(signed(0.32, 2), "+0.32");
        assert_eq!(signed(-0.04, 2), "−0.04");
        assert_eq!(signed(-0.001, 2), "0.00");
        assert_eq!(pct_rounded(0.0417), "4 %");
        assert_eq!(pct_rounded(0.004), "0.4 %");
        assert_eq!(pval(Some(0.0004)), "< 0.001");
        assert_eq!(int(42500), "42\u{202F}500");
        assert_eq!(truncate("abcdef", 3), "abc…");
        assert_eq!(truncate("abc", 3), "abc");
    }

    #[test]
    fn tables_pad_wide_characters() {
        let mut t = Table::new([("model", Align::Left), ("n", Align::Right)]);
        t.row(vec!["文心".into(), "5".into()]);
        t.row(vec!["ernie".into(), "50".into()]);
        assert_eq!(
            t.render(),
            "| model |   n |\n| ----- | --: |\n| 文心  |   5 |\n| ernie |  50 |\n"
        );
    }
}
