//! `evalrun check`: validate configuration, eval set and rubric without sending a request, and print
//! the eval set's make-up (seed 002's data-quality advice). Exit 2 on errors, 0 with warnings.
//!
//! The eval set is read leniently, so one `check` names every bad line, not just the first. With a
//! rubric, every item is also checked the way a run would use it: its `vars` must render through the
//! rubric's template, and a `length_range` rule must be able to read its `meta.length`.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cli::CheckArgs;
use crate::commands::run::input_path;
use crate::error::{exit, UsageError};
use crate::inputs::config::Config;
use crate::inputs::evalset::{self, Item};
use crate::inputs::makeup::{self, Finding, FindingKind, Makeup};
use crate::inputs::rubric::{self, Check, Rubric};
use crate::score::length;

pub fn run(args: &CheckArgs) -> Result<u8> {
    // The configuration is checked when given or present; it also supplies default paths.
    let config = if args.config.exists() {
        let c = Config::load(&args.config)?;
        println!(
            "config   {}: ok ({} models)",
            args.config.display(),
            c.models.len()
        );
        Some(c)
    } else {
        None
    };
    let from_config = |flag: Option<&PathBuf>,
                       pick: fn(&Config) -> Option<&PathBuf>,
                       what: &str| match (&config, flag) {
        (_, Some(p)) => Ok(Some(p.clone())),
        (Some(c), None) => input_path(None, pick(c), c, what).map(Some),
        (None, None) => Ok(None),
    };
    let evalset_path = from_config(args.evalset.as_ref(), |c| c.run.evalset.as_ref(), "evalset")?
        .ok_or_else(|| {
        UsageError::new("no eval set: pass --evalset FILE (or --config with [run].evalset)")
    })?;
    let rubric_path = from_config(args.rubric.as_ref(), |c| c.run.rubric.as_ref(), "rubric")?;

    let rubric = match &rubric_path {
        Some(r) => {
            let rubric = rubric::load(r)?;
            println!(
                "rubric   {}: ok ({}, {})",
                r.display(),
                count(rubric.dimensions.len(), "dimension"),
                count(rubric.rules.len(), "rule")
            );
            Some(rubric)
        }
        None => None,
    };
    let text = std::fs::read_to_string(&evalset_path)
        .map_err(|e| UsageError::in_file(&evalset_path, format!("cannot read eval set: {e}")))?;
    let parsed = evalset::parse_lenient(&text);
    if rubric.is_none() && parsed.items.iter().any(|i| i.vars.is_some()) {
        return Err(UsageError::new(format!(
            "{}: items use `vars`, which render through a rubric's template: pass --rubric FILE",
            evalset_path.display()
        ))
        .into());
    }
    let target = rubric.as_ref().and_then(|r| r.target_categories.as_ref());
    let mut m = makeup::analyze_parsed(&parsed, target);
    if let Some(rubric) = &rubric {
        rubric_findings(rubric, &parsed.items, &mut m);
    }
    println!("evalset  {}: {} items\n", evalset_path.display(), m.items);
    print!("{m}");
    Ok(if m.problems().is_empty() {
        exit::SUCCESS
    } else {
        eprintln!("{}", problems_summary(&evalset_path, m.problems().len()));
        exit::USAGE
    })
}

/// `1 rule`, `13 rules`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn problems_summary(path: &Path, n: usize) -> String {
    format!(
        "evalrun: {}: {} (listed above with their lines); fix them before a run",
        path.display(),
        count(n, "problem")
    )
}

/// What the rubric makes of the items, as a run would use them: a template that does not render and a
/// `meta.length` a `length_range` rule cannot read are problems (the run would stop, or the rule would
/// fail every answer); a `length_range` rule that finds no length on some items is a warning (it is
/// left out there, so those answers go unchecked).
fn rubric_findings(rubric: &Rubric, items: &[Item], m: &mut Makeup) {
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
        let mut m = makeup::analyze_parsed(&parsed, None);
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

    #[test]
    fn the_summary_counts_problems() {
        assert_eq!(
            problems_summary(Path::new("set.jsonl"), 1),
            "evalrun: set.jsonl: 1 problem (listed above with their lines); fix them before a run"
        );
        assert!(problems_summary(Path::new("s"), 4).contains("4 problems"));
    }
}
