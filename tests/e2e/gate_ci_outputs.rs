//! `gate --junit` and `GITHUB_STEP_SUMMARY`: the committed demo run (`reports/baseline`) against a copy
//! in which one model's `reply` scores all fell to the scale's bottom. The JUnit file is parsed back and
//! checked for the shape GitHub's and GitLab's test reporters read; the step summary gets the gate's
//! markdown appended after what an earlier step wrote.

use crate::common;

use std::collections::BTreeSet;

use common::{copy_dir, TestDir};
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use serde_json::Value;

const MODEL: &str = "sft-full-e3-lr3e-5";

/// One parsed `<testcase>`: classname, name, and the child element (`failure`, `skipped`, …) if any,
/// with its `message` attribute and its text.
#[derive(Debug, Default)]
struct Case {
    classname: String,
    name: String,
    child: Option<(String, String, String)>,
}

fn attrs(e: &quick_xml::events::BytesStart) -> Vec<(String, String)> {
    e.attributes()
        .map(|a| {
            let a = a.expect("well-formed attribute");
            (
                a.key.as_ref().to_string(),
                a.normalized_value(XmlVersion::Explicit1_0)
                    .unwrap()
                    .into_owned(),
            )
        })
        .collect()
}

fn get(a: &[(String, String)], k: &str) -> Option<String> {
    a.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

fn body(cases: &mut [Case]) -> &mut String {
    &mut cases.last_mut().unwrap().child.as_mut().unwrap().2
}

#[test]
fn junit_has_one_case_per_check_and_the_step_summary_is_appended() {
    let dir = TestDir::new();
    let base = common::repo_file("reports/baseline");
    let cand = dir.path().join("cand");
    copy_dir(&base, &cand);
    let scores = cand.join("scores.jsonl");
    let text: String = std::fs::read_to_string(&scores)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            if v["model"] == MODEL && v["dimensions"]["reply"]["score"].is_number() {
                v["dimensions"]["reply"]["score"] = Value::from(1.0);
            }
            format!("{v}\n")
        })
        .collect();
    std::fs::write(&scores, text).unwrap();
    let summary = dir.write("step_summary.md", "## earlier step\n");

    let out = dir
        .cmd(&["gate", "--baseline"])
        .arg(&base)
        .arg("--candidate")
        .arg(&cand)
        .args(["--models", MODEL, "--junit", "gate.xml"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .code(1);
    let markdown = out.stdout();

    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(
        written.starts_with("## earlier step\n"),
        "appended, not replaced"
    );
    assert!(
        written.contains(markdown.trim_end()),
        "the gate's markdown is in the summary"
    );

    let xml = std::fs::read_to_string(dir.path().join("gate.xml")).unwrap();
    let mut reader = Reader::from_str(&xml);
    let mut path: Vec<String> = Vec::new();
    let mut suites_attrs = Vec::new();
    let mut suite_attrs = Vec::new();
    let mut cases: Vec<Case> = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            ev @ (Event::Start(_) | Event::Empty(_)) => {
                let empty = matches!(ev, Event::Empty(_));
                let (Event::Start(e) | Event::Empty(e)) = ev else {
                    unreachable!()
                };
                let name = e.name().as_ref().to_string();
                let a = attrs(&e);
                match (path.as_slice(), name.as_str()) {
                    ([], "testsuites") => suites_attrs = a,
                    ([p], "testsuite") if p == "testsuites" => suite_attrs = a,
                    ([_, p], "testcase") if p == "testsuite" => cases.push(Case {
                        classname: get(&a, "classname").expect("classname"),
                        name: get(&a, "name").expect("name"),
                        child: None,
                    }),
                    ([_, _, p], child) if p == "testcase" => {
                        let c = cases.last_mut().unwrap();
                        assert!(c.child.is_none(), "one result element per case");
                        c.child = Some((
                            child.to_string(),
                            get(&a, "message").unwrap_or_default(),
                            String::new(),
                        ));
                    }
                    (p, n) => panic!("unexpected element {n} under {p:?}"),
                }
                if !empty {
                    path.push(name);
                }
            }
            // Text arrives in pieces: plain runs and entity references (`&lt;`) as their own events.
            Event::Text(t) if path.len() == 4 => body(&mut cases).push_str(&t.xml10_content()),
            Event::GeneralRef(r) if path.len() == 4 => {
                let c = match r.xml10_content().as_ref() {
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    "quot" => '"',
                    "apos" => '\'',
                    _ => r.resolve_char_ref().unwrap().expect("a known reference"),
                };
                body(&mut cases).push(c);
            }
            Event::End(_) => {
                path.pop();
            }
            _ => {}
        }
    }
    let n = |a: &[(String, String)], k: &str| get(a, k).expect(k).parse::<usize>().unwrap();
    let failures: Vec<&Case> = cases
        .iter()
        .filter(|c| c.child.as_ref().is_some_and(|x| x.0 == "failure"))
        .collect();
    let skipped = cases
        .iter()
        .filter(|c| c.child.as_ref().is_some_and(|x| x.0 == "skipped"))
        .count();
    for a in [&suites_attrs, &suite_attrs] {
        assert_eq!(n(a, "tests"), cases.len());
        assert_eq!(n(a, "failures"), failures.len());
        assert_eq!(n(a, "skipped"), skipped);
        assert_eq!(n(a, "errors"), 0);
    }
    let keys: BTreeSet<(&str, &str)> = cases
        .iter()
        .map(|c| (c.classname.as_str(), c.name.as_str()))
        .collect();
    assert_eq!(keys.len(), cases.len(), "classname + name is unique");
    assert!(cases
        .iter()
        .all(|c| c.classname == format!("evalrun.gate.{MODEL}")));
    for check in [
        "dimension reply",
        "dimension adherence",
        "latency",
        "errors",
        "cached",
    ] {
        assert!(cases.iter().any(|c| c.name == check), "a case for {check}");
    }
    let reply = failures
        .iter()
        .find(|c| c.name == "dimension reply")
        .expect("the degraded dimension fails");
    let (_, message, body) = reply.child.as_ref().unwrap();
    assert!(!message.is_empty() && !message.contains('\n'));
    assert!(body.contains(message.as_str()), "the reason is in the body");
}
