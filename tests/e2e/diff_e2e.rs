//! `evalrun diff` end to end: two runs of the same items against the in-process simulator, the second
//! with the candidate model degraded by the judge (`CAND:degrade=reply:2`) and the baseline model
//! slightly (`BASE:degrade=suggestion:0.5`). The diff must list the candidate's items whose Reply fell
//! by two levels first, before any of the baseline's smaller drops, in markdown and JSON; the HTML page must show them in
//! headless Chromium with a planted `<script>` as text; runs of other inputs are refused naming the
//! files, and a clear subset is accepted.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use common::browser::{attr, chromium, dump_dom, values_of};
use common::{copy_dir, jsonl, openai_config, repo_file, shipped_items, Sim, TestDir};
use serde_json::Value;

const BASE: &str = "ernie-speed";
const CAND: &str = "sft-full-e6-lr3e-5";
const ITEMS: usize = 12;
const INJECTED: &str =
    "<script>document.documentElement.setAttribute('data-pwned','script')</script>";

/// The folder with run `a` (clean) and run `b` (CAND degraded on reply), recorded once.
fn runs() -> &'static TestDir {
    static RUNS: OnceLock<TestDir> = OnceLock::new();
    RUNS.get_or_init(|| {
        let dir = TestDir::new();
        dir.write("set.jsonl", &shipped_items(ITEMS));
        // The degrade fault is remembered per answer text in the process: record the clean run first.
        record(&dir, "a", "");
        record(
            &dir,
            "b",
            &format!("{CAND}:degrade=reply:2,{BASE}:degrade=suggestion:0.5"),
        );
        dir
    })
}

fn record(dir: &TestDir, out: &str, faults: &str) {
    let sim = Sim::start(faults);
    let config = format!("{out}.toml");
    dir.write(
        &config,
        &openai_config(
            &sim.openai_base_url(),
            &[BASE, CAND, "judge"],
            "concurrency = 4",
        ),
    );
    let o = dir
        .evalrun()
        .args([
            "run",
            "--models",
            &format!("{BASE},{CAND}"),
            "--baseline",
            BASE,
        ])
        .args([
            "--judge",
            "judge",
            "--evalset",
            "set.jsonl",
            "--quiet",
            "--out",
            out,
        ])
        .args(["--config", &config])
        .arg("--rubric")
        .arg(repo_file("rubrics/oral_english.toml"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
}

fn diff(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_evalrun"));
    c.env_clear().current_dir(dir).arg("diff").args(args);
    c.output().unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// `model`'s items whose `dim` score fell from run a to run b by the records, with the fall.
fn fell(dir: &Path, model: &str, dim: &str) -> BTreeMap<String, f64> {
    let scores = |run: &str| -> BTreeMap<String, Option<f64>> {
        jsonl(&dir.join(run).join("scores.jsonl"))
            .into_iter()
            .filter(|s| s["model"] == model)
            .map(|s| {
                let id = s["item_id"].as_str().unwrap().to_string();
                (id, s["dimensions"][dim]["score"].as_f64())
            })
            .collect()
    };
    let b = scores("b");
    scores("a")
        .into_iter()
        .filter_map(|(id, old)| match (old, b[&id]) {
            (Some(o), Some(n)) if n < o => Some((id, o - n)),
            _ => None,
        })
        .collect()
}

/// CAND's items whose reply fell by two levels (the largest changes of the diff).
fn degraded(dir: &Path) -> BTreeSet<String> {
    fell(dir, CAND, "reply")
        .into_iter()
        .filter(|(_, f)| *f == 2.0)
        .map(|(id, _)| id)
        .collect()
}

#[test]
fn the_degraded_models_items_come_first() {
    let dir = runs().path();
    let reply = fell(dir, CAND, "reply");
    let big: BTreeSet<&String> = reply
        .iter()
        .filter(|(_, f)| **f == 2.0)
        .map(|(i, _)| i)
        .collect();
    let suggestion = fell(dir, BASE, "suggestion");
    assert!(
        big.len() >= 3,
        "the fault lowered several replies by two levels: {reply:?}"
    );
    assert!(
        !suggestion.is_empty(),
        "the baseline model moved a little too"
    );

    let json: Value =
        serde_json::from_str(&stdout(&diff(dir, &["a", "b", "--format", "json"]))).unwrap();
    assert_eq!(json["schema"], "evalrun-diff/1");
    let changes = json["changes"].as_array().unwrap();
    let head = &changes[..big.len()];
    let got: BTreeSet<&String> = big
        .iter()
        .copied()
        .filter(|id| head.iter().any(|c| c["item_id"] == id.as_str()))
        .collect();
    assert_eq!(
        got, big,
        "the items that fell most come first: {changes:#?}"
    );
    for c in head {
        assert_eq!(c["model"], CAND);
        assert_eq!(c["direction"], "worse");
        assert_eq!(c["size"], -1.0);
        assert_eq!(c["changes"][0]["kind"], "score");
        assert_eq!(c["changes"][0]["dimension"], "reply");
    }
    let first_base = changes
        .iter()
        .position(|c| c["model"] == BASE)
        .expect("BASE changed");
    assert!(first_base >= big.len());
    // Sizes never rise in magnitude down the worse part of the list.
    let sizes: Vec<f64> = changes
        .iter()
        .filter(|c| c["direction"] == "worse")
        .map(|c| c["size"].as_f64().unwrap())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "{sizes:?}");
    let flips = &json["summary"][CAND]["dimensions"]["reply"];
    assert_eq!(flips["worse"].as_u64().unwrap() as usize, reply.len());
    assert_eq!(flips["better"], 0);
    assert_eq!(json["summary"][BASE]["dimensions"]["reply"]["worse"], 0);
    let s = &json["summary"][BASE]["dimensions"]["suggestion"];
    assert_eq!(s["worse"].as_u64().unwrap() as usize, suggestion.len());

    let md = stdout(&diff(dir, &["a", "b"]));
    assert!(md.starts_with("## evalrun diff: "), "{md}");
    let first = md
        .lines()
        .find(|l| l.split('|').nth(1).map(str::trim) == Some("1"))
        .unwrap_or_else(|| panic!("no first row:\n{md}"));
    assert!(
        first.contains(CAND) && first.contains("reply 3 → 1"),
        "{first}"
    );
    assert!(big.iter().any(|id| first.contains(id.as_str())), "{first}");
}

#[test]
fn the_gate_names_the_worst_flips_and_links_the_diff() {
    let src = runs().path();
    let dir = TestDir::new();
    for run in ["a", "b"] {
        copy_dir(&src.join(run), &dir.path().join(run));
    }
    let big = degraded(dir.path());
    let o = dir
        .evalrun()
        .args([
            "gate",
            "--baseline",
            "a",
            "--candidate",
            "b",
            "--models",
            CAND,
        ])
        .args([
            "--primary",
            "reply",
            "--out",
            "ci/gate.md",
            "--diff",
            "ci/diff.html",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let md = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ci/gate.md")).unwrap(),
        md
    );
    let at = md
        .find("### Worst flips: items that got worse (baseline → candidate)")
        .unwrap_or_else(|| panic!("no flips section:\n{md}"));
    let section = &md[at..];
    let rows: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
        .collect();
    assert_eq!(
        rows.len(),
        10.min(fell(dir.path(), CAND, "reply").len()),
        "{section}"
    );
    for (row, id) in rows.iter().zip(&big) {
        assert!(row.contains(CAND) && row.contains("reply 3 → 1"), "{row}");
        assert!(
            rows.iter().any(|r| r.contains(&format!("| {id} |"))),
            "{id} named:\n{section}"
        );
    }
    assert!(!section.contains(BASE), "only the gated model: {section}");
    assert!(section.contains("[diff.html](diff.html)"), "{section}");
    let page = std::fs::read_to_string(dir.path().join("ci/diff.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    // Without --diff the verdict says how to write it.
    let o = dir
        .evalrun()
        .args([
            "gate",
            "--baseline",
            "a",
            "--candidate",
            "a",
            "--models",
            CAND,
        ])
        .output()
        .unwrap();
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(
        md.contains("No item got worse for the gated models."),
        "{md}"
    );
    assert!(
        md.contains("`evalrun diff a a --format html --out diff.html`"),
        "{md}"
    );
}

#[test]
fn the_html_page_shows_the_changes_and_never_runs_an_answer() {
    let Some(browser) = chromium() else { return };
    let src = runs().path();
    let dir = TestDir::new();
    for run in ["a", "b"] {
        copy_dir(&src.join(run), &dir.path().join(run));
    }
    let want = degraded(dir.path());
    // Plant a script in B's answer to one degraded item.
    let victim = want.iter().next().unwrap().clone();
    let responses = dir.path().join("b/responses.jsonl");
    let text: String = jsonl(&responses)
        .into_iter()
        .map(|mut r| {
            if r["model"] == CAND && r["item_id"] == victim.as_str() {
                r["output"] = Value::String(format!("before {INJECTED} after"));
            }
            format!("{r}\n")
        })
        .collect();
    std::fs::write(&responses, text).unwrap();
    let o = diff(
        dir.path(),
        &["a", "b", "--format", "html", "--out", "diff.html"],
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let page = dir.path().join("diff.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));

    let profile = tempfile::tempdir().unwrap();
    let dom = dump_dom(
        &browser,
        profile.path(),
        &format!("file://{}", page.display()),
    );
    let items = values_of(&dom, "data-item");
    let models = values_of(&dom, "data-model");
    let head: BTreeSet<String> = items[..want.len()].iter().map(|s| s.to_string()).collect();
    assert_eq!(head, want, "{dom}");
    assert!(models[..want.len()].iter().all(|m| *m == CAND));
    assert_eq!(attr(&dom, "class=\"change worse\"", "data-model"), CAND);
    assert!(
        dom.contains("&lt;script&gt;document.documentElement.setAttribute"),
        "shown as text"
    );
    let html_tag = &dom[dom.find("<html").unwrap()..];
    let html_tag = &html_tag[..html_tag.find('>').unwrap()];
    assert!(
        !html_tag.contains("data-pwned"),
        "the planted script never ran: {html_tag}"
    );
}

#[test]
fn runs_of_other_items_are_refused_naming_the_files_and_a_subset_is_accepted() {
    let src = runs().path();
    let dir = TestDir::new();
    copy_dir(&src.join("a"), &dir.path().join("a"));
    // A shorter copy of the eval set (another file, another hash): a clear subset.
    let sub = dir.path().join("sub");
    copy_dir(&src.join("b"), &sub);
    keep_items(&sub, 5);
    let manifest = sub.join("manifest.json");
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    m["evalset"]["sha256"] = Value::String("0".repeat(64));
    m["evalset"]["path"] = Value::String("short.jsonl".into());
    std::fs::write(&manifest, m.to_string()).unwrap();
    let md = stdout(&diff(dir.path(), &["a", "sub"]));
    assert!(md.contains("every shared item is identical"), "{md}");
    assert!(
        md.contains("compared on the 5 items both runs have (7 only in A, 0 only in B)"),
        "{md}"
    );

    // One item's prompt changed: refused, naming both items files and the item.
    let items = sub.join("items.jsonl");
    let text = std::fs::read_to_string(&items).unwrap().replacen(
        "\"topic\":\"",
        "\"topic\":\"CHANGED ",
        1,
    );
    std::fs::write(&items, text).unwrap();
    let o = diff(dir.path(), &["a", "sub"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("1 item differ between a/items.jsonl and sub/items.jsonl: oe-001"),
        "{err}"
    );
    assert!(err.contains("--allow-changed"), "{err}");
    let o = diff(dir.path(), &["a", "sub", "--allow-changed"]);
    assert!(stdout(&o).contains("compared despite changed inputs"));
}

fn keep_items(run: &Path, n: usize) {
    let ids: BTreeSet<String> = jsonl(&run.join("items.jsonl"))
        .iter()
        .take(n)
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    for f in [
        "items.jsonl",
        "responses.jsonl",
        "scores.jsonl",
        "pairwise.jsonl",
    ] {
        let p = run.join(f);
        let text: String = jsonl(&p)
            .into_iter()
            .filter(|r| {
                let id = r.get("id").or_else(|| r.get("item_id")).unwrap();
                ids.contains(id.as_str().unwrap())
            })
            .map(|r| format!("{r}\n"))
            .collect();
        std::fs::write(p, text).unwrap();
    }
}
