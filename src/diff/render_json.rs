//! `diff --format json` (schema `evalrun-diff/1`): the [`Diff`] as it is — runs, notes, flips per
//! model, and every change worst first, each with its kind, old and new value and signed size.

use super::Diff;

/// The JSON text, pretty-printed, ending in a newline; `top` caps the listed items (None: all).
pub fn render(d: &Diff, top: Option<usize>) -> anyhow::Result<String> {
    let mut d = d.clone();
    if let Some(n) = top {
        d.changes.truncate(n);
    }
    Ok(format!("{}\n", serde_json::to_string_pretty(&d)?))
}
