//! `diff --format md`: a headline, what was compared, the flips per model (dimensions, rules, GSB,
//! errors), and one table row per changed (model, item), worst first. Item ids, categories and names
//! come from input files: escaped like every untrusted text of the report.

use std::fmt::Write as _;

use crate::report::text::{esc, Align, Table};

use super::{Diff, Direction, Flips};

/// The markdown diff; `top` caps the listed items (None: all).
pub fn render(d: &Diff, top: Option<usize>) -> String {
    let mut s = String::new();
    let worse = d
        .changes
        .iter()
        .filter(|c| c.direction == Direction::Worse)
        .count();
    let better = d
        .changes
        .iter()
        .filter(|c| c.direction == Direction::Better)
        .count();
    let _ = writeln!(
        s,
        "## evalrun diff: {worse} (model, item) got worse, {better} better, {} mixed\n",
        d.changes.len() - worse - better
    );
    for (which, r) in [("A", &d.a), ("B", &d.b)] {
        let _ = writeln!(
            s,
            "- {which}: `{}` (run {}, started {})",
            esc(&r.dir),
            esc(&r.run_id),
            esc(&r.started_utc)
        );
    }
    for n in &d.notes {
        let _ = writeln!(s, "- {}", esc(n));
    }
    let _ = writeln!(
        s,
        "- compared: {} items × {} models ({}); scores and rule outcomes are means over an item's \
         samples; worse = lower score, pass → fail, a worse GSB verdict, ok → error",
        d.n_items,
        d.models.len(),
        esc(&d.models.join(", "))
    );
    s.push_str("\n### Flips per dimension\n\n");
    s.push_str(&flips_table(d));
    if let Some(t) = other_flips(d) {
        s.push_str("\n### Rules, GSB and errors that flipped\n\n");
        s.push_str(&t);
    }
    s.push_str("\n### Items that changed (worst first)\n\n");
    if d.changes.is_empty() {
        s.push_str(
            "Nothing changed: every compared score, rule outcome, verdict and error is the same.\n",
        );
        return s;
    }
    let mut t = Table::new([
        ("#", Align::Right),
        ("model", Align::Left),
        ("item", Align::Left),
        ("category", Align::Left),
        ("size", Align::Right),
        ("what changed (A → B)", Align::Left),
    ]);
    let shown = top.unwrap_or(usize::MAX).min(d.changes.len());
    for (i, c) in d.changes.iter().take(shown).enumerate() {
        let what: Vec<String> = c.changes.iter().map(|x| esc(&x.describe())).collect();
        t.row(vec![
            (i + 1).to_string(),
            esc(&c.model),
            esc(&c.item_id),
            esc(c.category.as_deref().unwrap_or("–")),
            format!("{:+.2}", c.size),
            what.join("; "),
        ]);
    }
    s.push_str(&t.render());
    if shown < d.changes.len() {
        let _ = writeln!(
            s,
            "\n… and {} more (without `--top`, every change is listed).",
            d.changes.len() - shown
        );
    }
    s
}

fn cell(f: &Flips) -> String {
    format!("{} / {} / {}", f.worse, f.better, f.n)
}

fn mean(f: &Flips) -> String {
    f.mean_change.map_or("–".into(), |m| format!("{m:+.3}"))
}

fn flips_table(d: &Diff) -> String {
    let mut t = Table::new([
        ("model", Align::Left),
        ("dimension", Align::Left),
        ("worse / better / compared", Align::Right),
        ("mean change", Align::Right),
    ]);
    for (m, f) in &d.summary {
        for (dim, fl) in &f.dimensions {
            t.row(vec![esc(m), esc(dim), cell(fl), mean(fl)]);
        }
    }
    if t.is_empty() {
        return "No dimension was scored in both runs.\n".into();
    }
    t.render()
}

fn other_flips(d: &Diff) -> Option<String> {
    let mut t = Table::new([
        ("model", Align::Left),
        ("what", Align::Left),
        ("worse / better / compared", Align::Right),
    ]);
    for (m, f) in &d.summary {
        let rows = f.others();
        for (what, fl) in rows {
            if fl.worse + fl.better > 0 {
                t.row(vec![esc(m), esc(&what), cell(fl)]);
            }
        }
    }
    (!t.is_empty()).then(|| t.render())
}
