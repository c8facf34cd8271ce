//! What the rubric makes of the items, as a run would use them: a `vars` item must render through the
//! rubric's template, and a `length_range` rule must be able to read its `meta.length`.

use super::{Finding, FindingKind, Makeup};
use crate::inputs::evalset::Item;
use crate::inputs::rubric::{Check, Rubric};
use crate::score::length;

/// What the rubric makes of the items, as a run would use them: a template that does not render and a
/// `meta.length` a `length_range` rule cannot read are problems (the run would stop, or the rule would
/// fail every answer); a `length_range` rule that finds no length on some items is a warning (it is
/// left out there, so those answers go unchecked).
pub fn rubric_findings(rubric: &Rubric, items: &[Item], m: &mut Makeup) {
    let mut rendered = Vec::with_capacity(items.len());
    for item in items {
        let mut item = item.clone();
        match rubric.render(&mut item) {
            Ok(()) => rendered.push(item),
            Err(e) => m.add(Finding {
                kind: FindingKind::RubricMismatch,
                line: Some(item.line),
                message: e.to_string(),
            }),
        }
    }
    for rule in &rubric.rules {
        let Check::LengthRange {
            min: None,
            max: None,
            tolerance,
            ..
        } = &rule.check
        else {
            continue;
        };
        let mut unbounded = Vec::new();
        for item in rendered.iter().filter(|i| rule.applies_to(i)) {
            match length::bound_from_meta(item.meta.as_ref(), *tolerance) {
                Some(Err(e)) => m.add(Finding {
                    kind: FindingKind::RubricMismatch,
                    line: Some(item.line),
                    message: format!("rule `{}`: {e}", rule.id),
                }),
                Some(Ok(_)) => {}
                None => {
                    let from_text = length::parse_bound(item.last_prompt(), *tolerance)
                        .or_else(|| length::parse_bound(item.system.as_deref()?, *tolerance));
                    if from_text.is_none() {
                        unbounded.push(item.line);
                    }
                }
            }
        }
        if let Some(&first) = unbounded.first() {
            let lines: Vec<String> = unbounded.iter().map(ToString::to_string).collect();
            let on = match lines.as_slice() {
                [one] => format!("1 item (line {one})"),
                all => format!("{} items (lines {})", all.len(), all.join(", ")),
            };
            m.add(Finding {
                kind: FindingKind::RuleSkipped,
                line: Some(first),
                message: format!(
                    "rule `{}` finds no length in the rule, meta.length or the prompt of {on}: the rule is left out there",
                    rule.id
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::analyze_parsed;
    use crate::inputs::{evalset, rubric};
    use std::path::Path;

    const RUBRIC: &str = r#"
id = "t"
name = "T"

[[dimensions]]
id = "q"
name = "Q"
scale = [1, 3]
levels = { "1" = "a", "2" = "b", "3" = "c" }

[[rules]]
id = "length_ok"
check = "length_range"

[[rules]]
id = "fixed"
check = "length_range"
max = 10

[templates]
default = "写一段{n}字以内的祝福"
"#;

    fn findings(evalset: &str) -> Makeup {
        let rubric = rubric::parse(Path::new("r.toml"), RUBRIC).unwrap();
        let parsed = evalset::parse_lenient(evalset);
        let mut m = analyze_parsed(&parsed, None);
        rubric_findings(&rubric, &parsed.items, &mut m);
        m
    }

    #[test]
    fn unreadable_meta_length_and_unrenderable_vars_are_problems() {
        let m = findings(concat!(
            r#"{"id": "a", "prompt": "写一段祝福", "meta": {"length": {"target": 100}}}"#,
            "\n",
            r#"{"id": "b", "vars": {"x": "1"}}"#,
            "\n",
            r#"{"id": "c", "vars": {"n": "50"}}"#,
            "\n",
            r#"{"id": "d", "prompt": "写一段100字左右的祝福", "meta": {"length": {"min": 80, "max": 120}}}"#,
        ));
        let problems: Vec<String> = m.problems().iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with(
                "line 1: rule `length_ok`: meta.length {\"target\":100} is not a length"
            ),
            "{}",
            problems[0]
        );
        assert_eq!(
            problems[1],
            "line 2: template `default` needs vars `n` (missing)"
        );
        assert!(m.warnings().is_empty(), "{:?}", m.warnings());
    }

    #[test]
    fn a_length_rule_without_a_bound_is_a_warning_naming_the_lines() {
        let m = findings(concat!(
            r#"{"id": "a", "prompt": "用三句话写祝福"}"#,
            "\n",
            r#"{"id": "b", "prompt": "写30字以内的祝福"}"#,
            "\n",
            r#"{"id": "c", "prompt": "用两句话写祝福"}"#,
        ));
        assert!(m.problems().is_empty(), "{:?}", m.problems());
        let warnings: Vec<String> = m.warnings().iter().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            ["line 1: rule `length_ok` finds no length in the rule, meta.length or the prompt of 2 items (lines 1, 3): the rule is left out there"]
        );
    }
}
