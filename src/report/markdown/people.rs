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

#[cfg(test)]
mod tests {
    use crate::report::markdown::render;
    use crate::report::tests::{context, summary};
    use crate::stats::human::{DimensionAgreement, HumanSummary, WithCi};

    fn ci(v: f64, lo: f64, hi: f64) -> WithCi {
        WithCi {
            value: Some(v),
            ci95_low: Some(lo),
            ci95_high: Some(hi),
        }
    }

    #[test]
    fn section_only_with_people_scores() {
        let (mut s, ctx) = (summary(), context());
        assert!(!render(&s, &ctx).contains("Judge vs people"));
        let d = DimensionAgreement {
            n_units: 30,
            n_items: 22,
            n_human_only: 0,
            human_mean: Some(1.66),
            judge_mean: Some(2.4),
            mean_diff: ci(0.74, 0.61, 0.88),
            exact_agreement: ci(0.2, 0.071, 0.323),
            kappa_quadratic: ci(0.47, 0.35, 0.55),
            spearman: ci(0.97, 0.92, 0.99),
            n_multi_rated: 30,
            alpha_ordinal: Some(0.56),
            judge_majority_agreement: Some(0.2),
            n_majority_units: 30,
            per_model: Default::default(),
        };
        s.human = Some(HumanSummary {
            raters: vec!["alice".into(), "bob".into()],
            n_scores: 60,
            n_verdicts: 0,
            dimensions: [("analysis".to_string(), d)].into(),
            gsb: Default::default(),
            methods: Default::default(),
        });
        let md = render(&s, &ctx);
        let at = md.find("## Judge vs people").expect("section");
        let row = md[at..]
            .lines()
            .find(|l| l.contains(" 30 (22) |"))
            .expect("analysis row");
        for want in [
            "1.66",
            "2.40",
            "+0.74 [+0.61, +0.88]",
            "20.0 % [7.1 %, 32.3 %]",
            "0.47 [0.35, 0.55]",
            "0.56 (30)",
        ] {
            assert!(row.contains(want), "{want} not in {row}");
        }
        assert!(md[at..].contains("People (`alice` and `bob`)"));
    }
}
