//! `evalrun gate --junit F`: the verdict as JUnit XML, the shape GitHub and GitLab test reporters read
//! (`testsuites` > `testsuite` > `testcase`, a `failure` child per failed check, `skipped` for a check
//! that could not be tested).
//!
//! One test case per check of a gated model: `classname` is `evalrun.gate.<model>` and `name` the check
//! (`dimension <id>`, `rule <id>`, `latency`, `errors`, `cached`), unique because GitLab keys a case by
//! the pair and keeps only the first duplicate. The reason goes in the failure's body (multi-line text
//! is not kept in `message`). Control characters XML 1.0 forbids are replaced, since a model's rule
//! detail or name could carry one and would make the file unparsable.

use std::io::Cursor;

use anyhow::Result;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::{Gate, Status};

/// One check as a test case.
struct Case {
    classname: String,
    name: String,
    status: Status,
    why: String,
}

fn cases(g: &Gate) -> Vec<Case> {
    let mut out = Vec::new();
    for (model, m) in &g.models {
        let classname = clean(&format!("evalrun.gate.{model}"));
        let mut push = |name: String, status: Status, why: &str| {
            out.push(Case {
                classname: classname.clone(),
                name: clean(&name),
                status,
                why: clean(why),
            })
        };
        for (d, r) in &m.dimensions {
            push(format!("dimension {d}"), r.status, &r.why);
        }
        for (rule, r) in &m.rules {
            push(format!("rule {rule}"), r.status, &r.why);
        }
        push("latency".to_string(), m.latency.status, &m.latency.why);
        push("errors".to_string(), m.errors.status, &m.errors.why);
        push("cached".to_string(), m.cached.status, &m.cached.why);
    }
    out
}

/// XML 1.0 allows tab, newline and carriage return among the C0 controls, nothing else (nor U+FFFE/FFFF).
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// The first line of a reason, for the `message` attribute.
fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// The JUnit document of a comparison, named after the candidate run.
pub fn render(g: &Gate, suite: &str) -> Result<String> {
    let cases = cases(g);
    let count = |s: Status| cases.iter().filter(|c| c.status == s).count().to_string();
    let tests = cases.len().to_string();
    let (failures, skipped) = (count(Status::Fail), count(Status::NotTested));
    let suite = clean(suite);
    let mut w = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let totals = [
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", "0"),
        ("skipped", skipped.as_str()),
    ];
    w.create_element("testsuites")
        .with_attribute(("name", "evalrun gate"))
        .with_attributes(totals)
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attribute(("name", suite.as_str()))
                .with_attributes(totals)
                .write_inner_content(|w| {
                    for c in &cases {
                        let el = w.create_element("testcase").with_attributes([
                            ("classname", c.classname.as_str()),
                            ("name", c.name.as_str()),
                            ("time", "0"),
                        ]);
                        match c.status {
                            Status::Pass => {
                                el.write_empty()?;
                            }
                            Status::Warn => {
                                el.write_inner_content(|w| {
                                    w.create_element("system-out").write_text_content(
                                        BytesText::new(&format!("WARN: {}", c.why)),
                                    )?;
                                    Ok(())
                                })?;
                            }
                            Status::NotTested => {
                                el.write_inner_content(|w| {
                                    w.create_element("skipped")
                                        .with_attribute(("message", first_line(&c.why)))
                                        .write_empty()?;
                                    Ok(())
                                })?;
                            }
                            Status::Fail => {
                                el.write_inner_content(|w| {
                                    w.create_element("failure")
                                        .with_attributes([
                                            ("message", first_line(&c.why)),
                                            ("type", "evalrun.gate"),
                                        ])
                                        .write_text_content(BytesText::new(&c.why))?;
                                    Ok(())
                                })?;
                            }
                        }
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    let mut xml = String::from_utf8(w.into_inner().into_inner())?;
    xml.push('\n');
    Ok(xml)
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn forbidden_controls_are_replaced_and_allowed_whitespace_kept() {
        assert_eq!(clean("a\u{1b}[31mb\tc\nd"), "a\u{FFFD}[31mb\tc\nd");
    }
}
