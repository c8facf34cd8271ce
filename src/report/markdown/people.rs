//! The "Judge vs people" section of `report.md`: present only when the run has `human.jsonl`.

use std::fmt::Write as _;

use crate::report::people;
use crate::report::text::{and_list, code, code_cell, esc, Align, Table};
use crate::report::view::View;

fn table(head: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new(head.iter().enumerate().map(|(i, h)| {
        (
            h.to_string(),
            if i == 0 { Align::Left } else { Align::Right },
        )
    }));
    for r in rows {
        t.row(r);
    }
    t.render()
}

pub(super) fn people(out: &mut String, v: &View) {
    let Some(h) = &v.summary.human else { return };
    let _ = writeln!(out, "## Judge vs people\n");
    let raters: Vec<String> = h.raters.iter().map(|r| code(r)).collect();
    let _ = writeln!(
        out,
        "People ({}) scored answers on blind review sheets (`evalrun review`): {} scores{}. Each row compares \
         them with the run's scores of the same answers. Intervals: 95 % percentile bootstrap over items \
         (2,000 resamples). κ is Cohen's κ with quadratic weights against the people's consensus; α is \
         Krippendorff's α (ordinal) among the people, over answers two or more of them scored. \
         `evalrun calibrate` words this as a verdict per dimension.\n",
        and_list(&raters),
        h.n_scores,
        match h.n_verdicts {
            0 => String::new(),
            n => format!(" and {n} side-by-side verdicts"),
        }
    );
    if !h.dimensions.is_empty() {
        let (head, rows) = people::agreement(v, h, &|s| esc(s));
        let _ = writeln!(out, "{}", table(&head, rows));
        let (head, rows) = people::per_model(v, h, &|s| code_cell(s), &|s| esc(s));
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        let _ = writeln!(out, "People / judge mean per model (answers):\n");
        let _ = writeln!(out, "{}", table(&head, rows));
    }
    if !h.gsb.is_empty() {
        let (head, rows) = people::gsb(h, &|s| code_cell(s));
        let _ = writeln!(
            out,
            "Side by side, people beside the judge on the same pairs:\n"
        );
        let _ = writeln!(out, "{}", table(&head, rows));
    }
}
