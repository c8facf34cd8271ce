//! `diff --format html`: one self-contained page (no script, no network: its Content-Security-Policy
//! allows inline style only) with the flips and the changed items worst first, each with both runs'
//! answers and judge justifications. The page is a minijinja template autoescaped as HTML by its name,
//! as `report.html` is: every answer, prompt-derived id and justification is text, never markup.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};
use minijinja::value::Serde;
use minijinja::{context, Environment, UndefinedBehavior};
use serde::Serialize;

use super::read::{self, Key, Shown};
use super::{Diff, Direction, Flips};

const TEMPLATE: &str = include_str!("templates/diff.html");

/// Items listed on the page when `--top` is not given; JSON has them all.
pub const DEFAULT_TOP: usize = 1000;

#[derive(Serialize)]
struct FlipRow {
    model: String,
    what: String,
    worse: usize,
    better: usize,
    n: usize,
    mean: String,
}

#[derive(Serialize)]
struct Row {
    model: String,
    item_id: String,
    category: String,
    direction: &'static str,
    size: String,
    what: Vec<String>,
    shown: bool,
    a_answer: String,
    b_answer: String,
    a_why: Vec<String>,
    b_why: Vec<String>,
}

fn flip_row(model: &str, what: String, f: &Flips) -> FlipRow {
    FlipRow {
        model: model.to_string(),
        what,
        worse: f.worse,
        better: f.better,
        n: f.n,
        mean: f.mean_change.map_or("–".into(), |m| format!("{m:+.3}")),
    }
}

/// The page; the answers of the listed items are read again from the two run directories.
pub fn render(d: &Diff, a_dir: &Path, b_dir: &Path, top: Option<usize>) -> Result<String> {
    let listed = &d.changes[..top.unwrap_or(DEFAULT_TOP).min(d.changes.len())];
    let keys: BTreeSet<Key> = listed
        .iter()
        .map(|c| (c.model.clone(), c.item_id.clone()))
        .collect();
    let (sa, sb) = (read::answers(a_dir, &keys)?, read::answers(b_dir, &keys)?);
    let why = |s: Option<&Shown>| -> Vec<String> {
        s.map(|s| s.why.iter().map(|(d, j)| format!("{d}: {j}")).collect())
            .unwrap_or_default()
    };
    let rows: Vec<Row> = listed
        .iter()
        .map(|c| {
            let key = (c.model.clone(), c.item_id.clone());
            let (a, b) = (sa.get(&key), sb.get(&key));
            Row {
                model: c.model.clone(),
                item_id: c.item_id.clone(),
                category: c.category.clone().unwrap_or_else(|| "–".into()),
                direction: match c.direction {
                    Direction::Worse => "worse",
                    Direction::Better => "better",
                    Direction::Mixed => "mixed",
                },
                size: format!("{:+.2}", c.size),
                what: c.changes.iter().map(|x| x.describe()).collect(),
                shown: a.is_some() || b.is_some(),
                a_answer: a.and_then(|s| s.answer.clone()).unwrap_or_default(),
                b_answer: b.and_then(|s| s.answer.clone()).unwrap_or_default(),
                a_why: why(a),
                b_why: why(b),
            }
        })
        .collect();
    let mut flips = Vec::new();
    let mut other = Vec::new();
    for (m, f) in &d.summary {
        for (dim, fl) in &f.dimensions {
            flips.push(flip_row(m, dim.clone(), fl));
        }
        let rest = f.others();
        for (what, fl) in rest.filter(|(_, fl)| fl.worse + fl.better > 0) {
            other.push(flip_row(m, what, fl));
        }
    }
    let count = |dir: Direction| d.changes.iter().filter(|c| c.direction == dir).count();
    let page = context! {
        a => Serde(&d.a),
        b => Serde(&d.b),
        notes => &d.notes,
        models => &d.models,
        n_items => d.n_items,
        n_worse => count(Direction::Worse),
        n_better => count(Direction::Better),
        n_mixed => count(Direction::Mixed),
        flips => Serde(&flips),
        other => Serde(&other),
        changes => Serde(&rows),
        n_hidden => d.changes.len() - rows.len(),
    };
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template("diff.html", TEMPLATE)
        .context("diff.html template")?;
    let tmpl = env.get_template("diff.html")?;
    tmpl.render(page).context("could not render diff.html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_renders_and_escapes_what_it_shows() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/baseline");
        let a = read::run(&dir).unwrap();
        let mut b = a.clone();
        let key = ("ernie-speed".to_string(), "oe-001".to_string());
        let u = b.units.get_mut(&key).unwrap().get_mut(&0).unwrap();
        u.error = Some("timeout".into());
        let mut d = super::super::compare(&a, &b, vec!["<b>note</b>".into()]);
        d.changes[0].item_id = "<script>alert(1)</script>".into();
        let html = render(&d, &dir, &dir, None).unwrap();
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;note&lt;&#x2f;b&gt;"));
        assert!(!html.contains("<script"));
    }
}
