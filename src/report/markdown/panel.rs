//! The "Judge panel" section of `report.md`: present only when two or more judges graded the run.

use std::fmt::Write as _;

use crate::report::panel;
use crate::report::text::{and_list, code, code_cell, esc, Align, Table};
use crate::report::view::View;

fn table((head, rows): panel::Rows) -> String {
    let mut t = Table::new(
        head.into_iter()
            .enumerate()
            .map(|(i, h)| (h, if i < 2 { Align::Left } else { Align::Right })),
    );
    for r in rows {
        t.row(r);
    }
    t.render()
}

pub(super) fn panel(out: &mut String, v: &View) {
    let Some(p) = &v.summary.panel else { return };
    let names: Vec<String> = p.judges.iter().map(|j| code(j)).collect();
    let _ = writeln!(out, "## Judge panel\n");
    let _ = writeln!(
        out,
        "{} judges ({}) graded every answer; a dimension's score is the median of their scores and a side-by-side \
         verdict the one most of them gave (S when the most frequent verdict is shared). Agreement between the \
         judges: Krippendorff's α (ordinal) over the answers two or more of them scored, and Cohen's κ with \
         quadratic weights for each pair (answers in brackets), on their scores before rule caps.\n",
        p.judges.len(),
        and_list(&names)
    );
    let cell = |s: &str| code_cell(s);
    let _ = writeln!(out, "{}", table(panel::judges(p, &cell)));
    let agreement = panel::agreement(v, p, &|s| code(s));
    if !agreement.1.is_empty() {
        let _ = writeln!(out, "{}", table(agreement));
    }
    let _ = writeln!(out, "Each judge's own mean beside the panel's:\n");
    let _ = writeln!(out, "{}", table(panel::means(v, p, &cell, &|s| code(s))));
    for s in &p.same_family {
        let models: Vec<String> = s.models.iter().map(|m| code(m)).collect();
        let _ = writeln!(
            out,
            "**Same-family judge:** {} is a {} model, like {}; a judge tends to favour answers of its own family \
             (MT-Bench). The panel without it, beside the full panel (the difference's 95 % t-interval counts \
             every item as its own cluster):\n",
            code(&s.judge),
            esc(&s.family),
            and_list(&models)
        );
        let _ = writeln!(
            out,
            "{}",
            table(panel::leave_one_out(v, p, &s.judge, &cell))
        );
    }
}
