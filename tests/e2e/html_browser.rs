//! `report.html` in a real browser: the demo's report opened from disk in headless Chromium
//! (`--dump-dom` returns the DOM after the page's script ran). Checks that the item browser rendered
//! its rows, that a filter given in the URL fragment is applied through the page's own controls and
//! shows exactly the items the records say it should, and that a `<script>` planted in an answer shows
//! as text and never runs.
//!
//! Without Chromium the test skips with a message, unless `EVALRUN_REQUIRE_BROWSER` is set (CI sets it
//! after installing Debian's `chromium`), where a missing browser fails.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use common::browser::{attr, chromium, dump_dom, values_of};
use common::TestDir;
use serde_json::Value;

const INJECTED: &str =
    "<script>document.documentElement.setAttribute('data-pwned','script')</script>\
<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">";

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn demo_report_html_renders_filters_and_never_runs_an_answer() {
    let Some(browser) = chromium() else { return };
    let dir = TestDir::new();
    let out = dir
        .evalrun()
        .args(["demo", "--out", "run", "--quiet"])
        .output()
        .expect("evalrun runs");
    assert_eq!(out.status.code(), Some(0), "demo failed: {out:?}");
    let run = dir.path().join("run");
    assert!(run.join("report.html").is_file(), "demo writes report.html");

    // Plant a script in the first answer, then re-render the HTML from the records.
    let responses = run.join("responses.jsonl");
    let mut lines = jsonl(&responses);
    let victim = lines
        .iter()
        .position(|r| r["output"].is_string())
        .expect("an answer");
    lines[victim]["output"] = Value::String(format!("before {INJECTED} after"));
    let text: String = lines.iter().map(|v| format!("{v}\n")).collect();
    std::fs::write(&responses, text).unwrap();
    let out = dir
        .evalrun()
        .args(["report", "run", "--format", "html"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "report failed: {out:?}");
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "report.html loads nothing from the network"
    );

    let items = jsonl(&run.join("items.jsonl"));
    let url = format!("file://{}", run.join("report.html").display());
    let profile = tempfile::tempdir().unwrap();

    // Unfiltered: the first page of items, every model's answer side by side.
    let dom = dump_dom(&browser, profile.path(), &url);
    assert_eq!(attr(&dom, "id=\"status\"", "data-ready"), "true");
    assert_eq!(
        attr(&dom, "id=\"status\"", "data-total"),
        items.len().to_string()
    );
    let shown = items.len().min(50);
    assert_eq!(dom.matches("<article class=\"item\"").count(), shown);
    let models: BTreeSet<&str> = values_of(&dom, "data-model").into_iter().collect();
    assert_eq!(models.len(), 8, "all eight demo models side by side");
    assert!(
        dom.contains("&lt;script&gt;document.documentElement.setAttribute"),
        "the planted script shows as text"
    );
    let html_tag = &dom[dom.find("<html").unwrap()..];
    let html_tag = &html_tag[..html_tag.find('>').unwrap()];
    assert!(
        !html_tag.contains("data-pwned"),
        "the planted script never ran: {html_tag}"
    );

    // A filter from the fragment: one model, one failed rule; the rows must be exactly the items whose
    // answer by that model fails the rule in scores.jsonl.
    let scores = jsonl(&run.join("scores.jsonl"));
    let (model, rule) = scores
        .iter()
        .find_map(|s| {
            let (rule, _) = s["rules"]
                .as_object()?
                .iter()
                .find(|(_, o)| o["pass"] == false)?;
            Some((s["model"].as_str()?.to_string(), rule.clone()))
        })
        .expect("the demo fails some rule");
    let expected: BTreeSet<&str> = scores
        .iter()
        .filter(|s| s["model"] == model.as_str() && s["rules"][&rule]["pass"] == false)
        .map(|s| s["item_id"].as_str().unwrap())
        .collect();
    let dom = dump_dom(
        &browser,
        profile.path(),
        &format!("{url}#model={model}&rule={rule}"),
    );
    assert_eq!(
        attr(&dom, "id=\"status\"", "data-matched"),
        expected.len().to_string()
    );
    let rows: BTreeSet<&str> = values_of(&dom, "data-item").into_iter().collect();
    assert!(expected.len() <= 50, "one page holds them all");
    assert_eq!(
        rows, expected,
        "the filtered rows are the items failing {rule}"
    );
    let shown_models: BTreeSet<&str> = values_of(&dom, "data-model").into_iter().collect();
    assert_eq!(shown_models, BTreeSet::from([model.as_str()]));
}
