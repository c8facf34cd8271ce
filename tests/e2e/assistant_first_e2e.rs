//! A chat item whose conversation opens with the assistant's turn (seed 000's teacher speaks first) is an
//! item like any other for the eval-set loader: `evalrun check` counts it and reports no missing turn,
//! while a conversation whose roles do not alternate is still named by its line.

use std::path::Path;
use std::process::Output;

const RUBRIC: &str = r#"
id = "tutor"
name = "Tutor"

[[dimensions]]
id = "reply"
name = "Reply"
scale = [1, 3]
levels = { "1" = "bad", "2" = "ok", "3" = "good" }
"#;

const TEACHER_FIRST: &str = r#"{"id": "t1", "system": "You are an English tutor.", "messages": [{"role": "assistant", "content": "Hi! What did you do last weekend?"}, {"role": "user", "content": "I go to the park with my dog."}]}"#;

fn check(dir: &Path, lines: &[&str]) -> Output {
    let evalset = dir.join("set.jsonl");
    std::fs::write(&evalset, lines.join("\n") + "\n").unwrap();
    let rubric = dir.join("rubric.toml");
    std::fs::write(&rubric, RUBRIC).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_evalrun"))
        .current_dir(dir)
        .env_clear()
        .arg("check")
        .arg("--evalset")
        .arg(&evalset)
        .arg("--rubric")
        .arg(&rubric)
        .output()
        .unwrap()
}

#[test]
fn check_accepts_a_chat_that_opens_with_the_assistant() {
    let dir = tempfile::tempdir().unwrap();
    let out = check(
        dir.path(),
        &[r#"{"id": "p1", "prompt": "Hello"}"#, TEACHER_FIRST],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("set.jsonl: 2 items"), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("empty/missing turns") && l.ends_with("none")),
        "{stdout}"
    );
}

#[test]
fn check_still_names_the_line_of_roles_out_of_order() {
    let dir = tempfile::tempdir().unwrap();
    let out = check(
        dir.path(),
        &[
            TEACHER_FIRST,
            r#"{"id": "t2", "messages": [{"role": "assistant", "content": "Hi!"}, {"role": "assistant", "content": "Anyone?"}, {"role": "user", "content": "yes"}]}"#,
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stdout}{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains(
            "line 2: messages[1]: roles out of order: expected user here, found assistant"
        ),
        "{all}"
    );
}
