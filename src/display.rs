//! How many columns text takes in a monospace font (terminal tables, aligned markdown): wide East
//! Asian characters (Han, kana, hangul, full-width forms, CJK punctuation) and emoji count two.
//! Used by the report tables and `evalrun check`'s plain-text output.

use unicode_segmentation::UnicodeSegmentation;

/// Columns a string takes in a monospace font: wide East Asian characters count two.
pub fn display_width(s: &str) -> usize {
    s.graphemes(true)
        .map(|g| {
            let c = g.chars().next().unwrap_or(' ');
            if is_wide(c) {
                2
            } else {
                1
            }
        })
        .sum()
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x1F300..=0x1F64F | 0x1F900..=0x1F9FF | 0x20000..=0x3FFFD)
}
