//! `evalrun review export` / `review import` on a demo run, through the real binary: the sheet is blind
//! (no model name in it, labels shuffled per item, the key only in the run directory), the HTML sheet
//! renders its rows in headless Chromium with answers as text, a filled sheet imports into human.jsonl
//! idempotently, and a sheet with an off-scale score, a missing row or an edited label is rejected with
//! the row named and human.jsonl unchanged.

use crate::common;

use std::path::Path;

use common::browser::{chromium, dump_dom};
use common::{copy_dir, TestDir};
use serde_json::Value;

const INJECTED: &str = "<script>document.documentElement.setAttribute('data-pwned','1')</script>";

/// One demo run, shared by the tests of this file; each test copies it into its own folder.
fn demo() -> &'static TestDir {
    static RUN: std::sync::OnceLock<TestDir> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let dir = TestDir::new();
        dir.cmd(&["demo", "--out", "run", "--quiet"]).code(0);
        dir
    })
}

/// A test's own copy of the demo run, at `run` in a fresh folder.
fn fresh() -> TestDir {
    let dir = TestDir::new();
    copy_dir(&demo().path().join("run"), &dir.path().join("run"));
    dir
}

fn models(dir: &TestDir) -> Vec<String> {
    let m: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("run/manifest.json")).unwrap(),
    )
    .unwrap();
    m["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

/// `review export run ARGS --out sheet.csv`; returns the CSV's header and rows and the sheet's key.
fn export(dir: &TestDir, args: &[&str]) -> (Vec<String>, Vec<Vec<String>>, Value) {
    let mut all = vec!["review", "export", "run", "--out", "sheet.csv"];
    all.extend_from_slice(args);
    let out = dir.cmd(&all).code(0);
    let (head, rows) = read_csv(&dir.path().join("sheet.csv"));
    let sheet = &rows[0][0];
    let rel = format!("run/review/key-{sheet}.json");
    assert!(out.stdout().contains(&rel), "{}", out.stdout());
    let key_path = dir.path().join(rel);
    let key = serde_json::from_str(&std::fs::read_to_string(key_path).unwrap()).unwrap();
    (head, rows, key)
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 BOM for spreadsheets"
    );
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let head = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (head, rows)
}

fn write_csv(path: &Path, head: &[String], rows: &[Vec<String>]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(head).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
}

fn col(head: &[String], name: &str) -> usize {
    head.iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {head:?}"))
}

/// Every score cell filled with (row + dimension index) mod 3 + 1: valid on the 1–3 scale.
fn fill_all(head: &[String], rows: &mut [Vec<String>]) {
    for (i, r) in rows.iter_mut().enumerate() {
        for (j, h) in head.iter().enumerate() {
            if h.starts_with("score:") {
                r[j] = ((i + j) % 3 + 1).to_string();
            }
        }
    }
}

fn answer_of(dir: &TestDir, model: &str, item: &str) -> String {
    dir.jsonl("run/responses.jsonl")
        .into_iter()
        .rev()
        .find(|r| r["model"] == model && r["item_id"] == item && r["sample"] == 0)
        .and_then(|r| r["output"].as_str().map(String::from))
        .unwrap()
}

#[test]
fn export_writes_a_blind_stratified_sheet_and_keeps_the_key_in_the_run() {
    let dir = fresh();
    let (head, rows, key) = export(&dir, &["--sample", "24", "--seed", "5"]);
    assert_eq!(
        &head[..7],
        ["sheet", "row", "item_id", "label", "category", "prompt", "answer"]
    );
    assert!(
        head.contains(&"score:reply".to_string()) && head.contains(&"levels:analysis".to_string())
    );
    assert_eq!(rows.len(), 24);
    let keyed = key["rows"].as_array().unwrap();
    assert_eq!(keyed.len(), 24);
    // Every row is the answer the key says, and the score cells are empty.
    let (item, label, answer, reply) = (
        col(&head, "item_id"),
        col(&head, "label"),
        col(&head, "answer"),
        col(&head, "score:reply"),
    );
    for (r, k) in rows.iter().zip(keyed) {
        assert_eq!(r[item], k["item_id"].as_str().unwrap());
        assert_eq!(r[label], k["label"].as_str().unwrap());
        let model = k["model"].as_str().unwrap();
        assert_eq!(r[answer], answer_of(&dir, model, &r[item]));
        assert_eq!(r[reply], "");
    }
    assert!(rows[0][col(&head, "levels:reply")].starts_with("1 = "));
    // Stratified by model: every model of the line-up is in a 24-row subset.
    let mut seen: Vec<&str> = keyed.iter().map(|k| k["model"].as_str().unwrap()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), models(&dir).len(), "{seen:?}");
    // Blind: no model name anywhere in either sheet.
    let csv = std::fs::read_to_string(dir.path().join("sheet.csv")).unwrap();
    let html = std::fs::read_to_string(dir.path().join("sheet.html")).unwrap();
    for m in models(&dir) {
        assert!(
            !csv.contains(&m) && !html.contains(&m),
            "{m} leaks into the sheet"
        );
    }
    // Labels are shuffled per item: the same model carries different labels on different items.
    let full = export(&dir, &["--seed", "5"]).2;
    let labels_of_first: std::collections::BTreeSet<&str> = full["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["model"] == "ernie-4.0")
        .map(|k| k["label"].as_str().unwrap())
        .collect();
    assert!(labels_of_first.len() >= 4, "{labels_of_first:?}");
    // Seeded: the same options give the same bytes.
    export(&dir, &["--sample", "24", "--seed", "5"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sheet.csv")).unwrap(),
        csv
    );
}

#[test]
fn pairwise_sheet_hides_which_side_is_the_candidate() {
    let dir = fresh();
    let (head, rows, key) = export(&dir, &["--pairwise", "--sample", "30"]);
    assert_eq!(
        head,
        ["sheet", "row", "item_id", "category", "prompt", "answer_A", "answer_B", "verdict"]
    );
    assert_eq!(rows.len(), 30);
    let keyed = key["rows"].as_array().unwrap();
    let a_first = keyed.iter().filter(|k| k["candidate_is_a"] == true).count();
    assert!(
        (5..=25).contains(&a_first),
        "{a_first} of 30 with the candidate as A"
    );
    for (r, k) in rows.iter().zip(keyed) {
        let (cand, base) = (
            k["model"].as_str().unwrap(),
            k["baseline"].as_str().unwrap(),
        );
        let (a, b) = if k["candidate_is_a"] == true {
            (cand, base)
        } else {
            (base, cand)
        };
        assert_eq!(r[5], answer_of(&dir, a, &r[2]));
        assert_eq!(r[6], answer_of(&dir, b, &r[2]));
    }
}

#[test]
fn bad_export_options_are_usage_errors() {
    let dir = fresh();
    let out = dir
        .cmd(&["review", "export", "run", "--dimensions", "reply,tone"])
        .code(2);
    assert!(
        out.stderr().contains("`tone` is not a dimension"),
        "{}",
        out.stderr()
    );
    dir.cmd(&["review", "export", "run", "--sample", "0"])
        .code(2);
}

#[test]
fn html_sheet_renders_every_row_with_answers_as_text() {
    let Some(browser) = chromium() else { return };
    let dir = fresh();
    // Plant markup in one answer the sheet will show.
    let path = dir.path().join("run/responses.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut first: Value = serde_json::from_str(&lines[0]).unwrap();
    first["output"] = Value::from(format!("{INJECTED} hello"));
    lines[0] = first.to_string();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let (_, rows, _) = export(&dir, &["--dimensions", "reply,analysis"]);
    let profile = TestDir::new();
    let url = format!("file://{}", dir.path().join("sheet.html").display());
    let dom = dump_dom(&browser, profile.path(), &url);
    assert!(dom.contains("data-ready=\"true\""), "the page's script ran");
    assert_eq!(dom.matches("<section class=\"row\"").count(), rows.len());
    assert_eq!(dom.matches("data-col=\"score:reply\"").count(), rows.len());
    assert!(!dom.contains("data-pwned=\""), "an answer's script ran");
    assert!(
        dom.contains("&lt;script&gt;document.documentElement"),
        "the answer shows as text"
    );
    assert!(dom.contains("Content-Security-Policy"));
}

/// `review import run FILE…` with extra arguments.
fn import(dir: &TestDir, files: &[&str], extra: &[&str]) -> common::Out {
    let mut args = vec!["review", "import", "run"];
    args.extend_from_slice(files);
    args.extend_from_slice(extra);
    dir.cmd(&args).output()
}

fn human(dir: &TestDir) -> Option<Vec<u8>> {
    std::fs::read(dir.path().join("run/human.jsonl")).ok()
}

#[test]
fn a_filled_sheet_imports_once_and_again_changes_nothing() {
    let dir = fresh();
    let (head, mut rows, key) = export(&dir, &["--sample", "16", "--dimensions", "reply,analysis"]);
    fill_all(&head, &mut rows);
    rows[3][col(&head, "score:analysis")] = String::new(); // could not tell
    write_csv(&dir.path().join("alice.csv"), &head, &rows);
    let out = import(&dir, &["alice.csv"], &[]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    let lines = dir.jsonl("run/human.jsonl");
    assert_eq!(lines.len(), 16 * 2 - 1);
    // Unblinded by the key: row 1's model and the score written.
    let k1 = &key["rows"][0];
    let l = lines
        .iter()
        .find(|l| l["row"] == 1 && l["dimension"] == "reply")
        .unwrap();
    assert_eq!(l["rater"], "alice");
    assert_eq!(l["model"], k1["model"]);
    assert_eq!(l["item_id"], k1["item_id"]);
    assert_eq!(
        l["score"].as_f64().unwrap().to_string(),
        rows[0][col(&head, "score:reply")]
    );
    let before = human(&dir);
    let again = import(&dir, &["alice.csv"], &[]);
    assert_eq!(again.code(), Some(0), "{}", again.stderr());
    assert!(
        again.stdout().contains("0 new, 0 changed, 31 unchanged"),
        "{}",
        again.stdout()
    );
    assert_eq!(human(&dir), before);
    // The same sheet under another rater's name adds that rater's lines.
    import(&dir, &["alice.csv"], &["--rater", "bob"]);
    assert_eq!(dir.jsonl("run/human.jsonl").len(), 62);
}

/// Export and fill a 12-row sheet, import it as `good.csv`, then apply `edit` to a copy and import that:
/// it must fail with messages matching the regexes `want`, with human.jsonl byte for byte as before.
fn rejected(edit: impl Fn(&[String], &mut Vec<Vec<String>>), want: &[&str]) {
    let dir = fresh();
    let (head, mut rows, _) = export(&dir, &["--sample", "12", "--seed", "2"]);
    fill_all(&head, &mut rows);
    write_csv(&dir.path().join("good.csv"), &head, &rows);
    assert_eq!(import(&dir, &["good.csv"], &[]).code(), Some(0));
    let before = human(&dir).unwrap();
    edit(&head, &mut rows);
    write_csv(&dir.path().join("bad.csv"), &head, &rows);
    let out = import(&dir, &["bad.csv"], &["--rater", "good"]);
    assert_eq!(out.code(), Some(2), "{}", out.stderr());
    for w in want {
        let re = regex::Regex::new(w).unwrap();
        assert!(
            re.is_match(&out.stderr()),
            "want /{w}/ in:\n{}",
            out.stderr()
        );
    }
    assert!(
        out.stderr().contains("nothing imported"),
        "{}",
        out.stderr()
    );
    assert_eq!(human(&dir).unwrap(), before, "human.jsonl changed");
}

#[test]
fn an_off_scale_score_is_rejected_with_its_row() {
    rejected(
        |head, rows| rows[4][col(head, "score:reply")] = "4".into(),
        &[r"bad\.csv:\d+: row 5, score:reply: `4` is off the scale"],
    );
    rejected(
        |head, rows| rows[0][col(head, "score:adherence")] = "2.5".into(),
        &[r"row 1, score:adherence: `2\.5` is off the scale"],
    );
}

#[test]
fn a_missing_row_is_rejected_with_its_row() {
    rejected(
        |_, rows| {
            rows.remove(6);
        },
        &[r"bad\.csv: row 7 \(item oe-\d+, label [A-H]\) is missing"],
    );
}

#[test]
fn an_edited_label_is_rejected_with_its_row() {
    rejected(
        |head, rows| {
            let l = col(head, "label");
            rows[2][l] = if rows[2][l] == "A" {
                "B".into()
            } else {
                "A".into()
            };
        },
        &[
            r"bad\.csv:\d+: row 3: label is `[A-H]`, the sheet was exported with `[A-H]`: labels must stay as exported",
        ],
    );
}

#[test]
fn a_sheet_from_another_run_or_without_rows_is_rejected() {
    let dir = fresh();
    let (head, mut rows, _) = export(&dir, &["--sample", "4"]);
    for r in rows.iter_mut() {
        r[0] = "0123456789".into();
    }
    write_csv(&dir.path().join("other.csv"), &head, &rows);
    let out = import(&dir, &["other.csv"], &[]);
    assert_eq!(out.code(), Some(2));
    assert!(
        out.stderr().contains("sheet `0123456789` has no key"),
        "{}",
        out.stderr()
    );
    assert!(human(&dir).is_none());
}

/// Quadratic-weighted Cohen's κ by the categorical formula (confusion matrix over the levels 1–3, its
/// expected matrix from the margins, weights (a − b)²): an implementation apart from evalrun's.
fn kappa_by_hand(pairs: &[(f64, f64)]) -> Option<f64> {
    let n = pairs.len() as f64;
    let mut o = [[0.0f64; 3]; 3];
    for (j, h) in pairs {
        o[*j as usize - 1][*h as usize - 1] += 1.0;
    }
    let rows: Vec<f64> = (0..3).map(|a| o[a].iter().sum()).collect();
    let cols: Vec<f64> = (0..3).map(|b| (0..3).map(|a| o[a][b]).sum()).collect();
    let (mut wo, mut we) = (0.0, 0.0);
    for a in 0..3 {
        for b in 0..3 {
            let w = ((a as f64) - (b as f64)).powi(2);
            wo += w * o[a][b];
            we += w * rows[a] * cols[b] / n;
        }
    }
    (we > 0.0).then(|| 1.0 - wo / we)
}

#[test]
fn round_trip_shows_the_agreement_a_hand_calculation_predicts() {
    let dir = fresh();
    let (head, mut rows, key) = export(
        &dir,
        &[
            "--sample",
            "40",
            "--seed",
            "9",
            "--dimensions",
            "reply,analysis",
        ],
    );
    let mut run: std::collections::BTreeMap<(String, String), Value> = Default::default();
    for s in dir.jsonl("run/scores.jsonl") {
        if s["sample"] == 0 {
            let k = (
                s["model"].as_str().unwrap().into(),
                s["item_id"].as_str().unwrap().into(),
            );
            run.insert(k, s["dimensions"].clone());
        }
    }
    // The script's people agree with the judge on Reply and score Analysis one level lower (floor 1).
    let (reply, analysis) = (col(&head, "score:reply"), col(&head, "score:analysis"));
    let (mut on_reply, mut on_analysis) = (Vec::new(), Vec::new());
    for (r, k) in rows.iter_mut().zip(key["rows"].as_array().unwrap()) {
        let dims = &run[&(
            k["model"].as_str().unwrap().into(),
            k["item_id"].as_str().unwrap().into(),
        )];
        if let Some(j) = dims["reply"]["score"].as_f64() {
            r[reply] = j.to_string();
            on_reply.push((j, j));
        }
        if let Some(j) = dims["analysis"]["score"].as_f64() {
            let h = (j - 1.0).max(1.0);
            r[analysis] = h.to_string();
            on_analysis.push((j, h));
        }
    }
    assert!(
        on_reply.len() >= 30 && on_analysis.len() >= 20,
        "{} {}",
        on_reply.len(),
        on_analysis.len()
    );
    write_csv(&dir.path().join("alice.csv"), &head, &rows);
    let out = import(&dir, &["alice.csv"], &[]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());

    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("run/summary.json")).unwrap(),
    )
    .unwrap();
    let h = &summary["human"];
    assert_eq!(h["raters"], serde_json::json!(["alice"]));
    let mean = |v: &[(f64, f64)], k: usize| {
        v.iter()
            .map(|p| if k == 0 { p.0 } else { p.1 })
            .sum::<f64>()
            / v.len() as f64
    };
    let close = |got: &Value, want: f64, what: &str| {
        let g = got.as_f64().unwrap_or_else(|| panic!("{what}: {got}"));
        assert!(
            (g - want).abs() < 1e-9,
            "{what}: summary {g}, by hand {want}"
        );
    };
    for (dim, pairs) in [("reply", &on_reply), ("analysis", &on_analysis)] {
        let d = &h["dimensions"][dim];
        assert_eq!(d["n_units"], pairs.len(), "{dim}");
        close(&d["judge_mean"], mean(pairs, 0), dim);
        close(&d["human_mean"], mean(pairs, 1), dim);
        close(
            &d["mean_diff"]["value"],
            mean(pairs, 0) - mean(pairs, 1),
            dim,
        );
        let exact = pairs.iter().filter(|p| p.0 == p.1).count() as f64 / pairs.len() as f64;
        close(&d["exact_agreement"]["value"], exact, dim);
        match kappa_by_hand(pairs) {
            Some(k) => close(&d["kappa_quadratic"]["value"], k, dim),
            None => assert!(d["kappa_quadratic"]["value"].is_null()),
        }
        let (lo, hi) = (
            &d["kappa_quadratic"]["ci95_low"],
            &d["kappa_quadratic"]["ci95_high"],
        );
        assert!(lo.as_f64() <= hi.as_f64(), "{dim}: {lo} {hi}");
    }
    assert_eq!(h["dimensions"]["reply"]["exact_agreement"]["value"], 1.0);
    let kappa_analysis = kappa_by_hand(&on_analysis).unwrap();
    assert!(
        kappa_analysis < 0.6,
        "the script made Analysis disagree: κ {kappa_analysis}"
    );

    // The report shows the people beside the judge, with the figures above.
    let md = std::fs::read_to_string(dir.path().join("run/report.md")).unwrap();
    let section = &md[md.find("## Judge vs people").expect("section in report.md")..];
    let row = section
        .lines()
        .find(|l| l.starts_with("| Analysis quality"))
        .expect("Analysis row");
    for want in [
        format!("{:.2}", mean(&on_analysis, 1)),
        format!("{:.2}", mean(&on_analysis, 0)),
        format!("{kappa_analysis:.2} ["),
    ] {
        assert!(row.contains(&want), "{want} not in {row}");
    }

    // report.html shows the same table, in a browser.
    if let Some(browser) = chromium() {
        let profile = TestDir::new();
        let url = format!("file://{}", dir.path().join("run/report.html").display());
        let dom = dump_dom(&browser, profile.path(), &url);
        let at = dom
            .find("<h2>Judge vs people</h2>")
            .expect("Judge vs people in report.html");
        let table = &dom[at..at + dom[at..].find("</table>").unwrap()];
        let row = &table[table.find("<td>Analysis quality").expect("Analysis row")..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains(&format!("{kappa_analysis:.2} [")), "{row}");
    }

    // calibrate names the dimension the script made disagree, and trusts the other.
    let out = dir.cmd(&["calibrate", "run"]).code(0);
    let text = out.stdout();
    assert!(
        text.contains(&format!(
            "DO NOT TRUST  analysis: over-scores Analysis quality (Analysis质量) by {:.2}",
            mean(&on_analysis, 0) - mean(&on_analysis, 1)
        )),
        "{text}"
    );
    assert!(
        text.contains("TRUST         reply: agrees with people on Reply"),
        "{text}"
    );
    assert!(
        text.contains("The judge cannot be trusted for this rubric: check analysis"),
        "{text}"
    );
}

#[test]
fn calibrate_without_people_scores_says_what_to_do() {
    let dir = fresh();
    let out = dir.cmd(&["calibrate", "run"]).code(2);
    assert!(out.stderr().contains("no human.jsonl"), "{}", out.stderr());
}

#[test]
fn the_html_sheet_downloads_a_csv_that_imports() {
    let Some(browser) = chromium() else { return };
    let dir = fresh();
    let (_, rows, _) = export(&dir, &["--sample", "6", "--dimensions", "reply,analysis"]);
    // A copy of the page with a script that picks the second level in every select and writes what the
    // download button would save into the page.
    let page = std::fs::read_to_string(dir.path().join("sheet.html")).unwrap();
    let fill = "<script>document.querySelectorAll('select').forEach(function (s) { s.selectedIndex = 2; });\
        var o = document.createElement('pre'); o.id = 'filled'; o.textContent = window.evalrunSheetCsv();\
        document.body.appendChild(o);</script></body>";
    std::fs::write(
        dir.path().join("filled.html"),
        page.replace("</body>", fill),
    )
    .unwrap();
    let profile = TestDir::new();
    let url = format!("file://{}", dir.path().join("filled.html").display());
    let dom = dump_dom(&browser, profile.path(), &url);
    let at = dom
        .find("<pre id=\"filled\">")
        .expect("the fill script ran")
        + "<pre id=\"filled\">".len();
    let csv = dom[at..at + dom[at..].find("</pre>").unwrap()]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    std::fs::write(dir.path().join("carol.csv"), &csv).unwrap();
    let out = import(&dir, &["carol.csv"], &[]);
    assert_eq!(out.code(), Some(0), "{}\n{csv}", out.stderr());
    let lines = dir.jsonl("run/human.jsonl");
    assert_eq!(lines.len(), rows.len() * 2);
    assert!(lines
        .iter()
        .all(|l| l["score"] == 2.0 && l["rater"] == "carol"));
}
