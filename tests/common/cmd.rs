//! Fixtures and the binary: [`TestDir`] holds a test's files, [`TestCommand`] runs `evalrun` there
//! with an empty environment, and [`Out`] reads what it printed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

use serde_json::Value;

/// A temporary folder with the files of a test.
pub struct TestDir {
    pub dir: tempfile::TempDir,
}

impl Default for TestDir {
    fn default() -> Self {
        TestDir::new()
    }
}

impl TestDir {
    pub fn new() -> TestDir {
        TestDir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` to `name` (folders created as needed); returns the file's path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }

    /// The records of a JSONL file under this folder.
    pub fn jsonl(&self, rel: &str) -> Vec<Value> {
        jsonl(&self.path().join(rel))
    }

    /// The real binary, run in this folder with an empty environment.
    pub fn evalrun(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_evalrun"));
        c.env_clear().current_dir(self.path());
        c
    }

    /// [`rules_only_run`] as a [`TestCommand`].
    pub fn rules_only(&self, models: &str) -> TestCommand {
        TestCommand {
            cmd: rules_only_run(self, models),
        }
    }

    /// The real binary with `args`, run in this folder with an empty environment.
    pub fn cmd(&self, args: &[&str]) -> TestCommand {
        let mut cmd = self.evalrun();
        cmd.args(args);
        TestCommand { cmd }
    }
}

/// `evalrun` about to run (ripgrep's `TestCommand`): add arguments and variables, then run it and
/// assert its exit code; a failed assertion prints what the binary printed.
pub struct TestCommand {
    pub cmd: Command,
}

impl TestCommand {
    pub fn arg(&mut self, a: impl AsRef<std::ffi::OsStr>) -> &mut Self {
        self.cmd.arg(a);
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(&mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> &mut Self {
        self.cmd.env(k, v);
        self
    }

    /// Runs to the end, whatever the exit code.
    pub fn output(&mut self) -> Out {
        Out(self.cmd.output().expect("evalrun runs"))
    }

    /// Runs to the end and asserts the exit code.
    pub fn code(&mut self, want: i32) -> Out {
        let out = self.output();
        assert_eq!(
            out.0.status.code(),
            Some(want),
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            out.stdout(),
            out.stderr()
        );
        out
    }

    pub fn spawn(&mut self) -> Child {
        self.cmd.spawn().expect("evalrun starts")
    }
}

/// What a finished `evalrun` printed.
pub struct Out(pub Output);

impl Out {
    pub fn code(&self) -> Option<i32> {
        self.0.status.code()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
}

/// insta settings whose filters replace what changes from run to run: the test's folder, loopback
/// ports, durations and timestamps.
pub fn insta_settings(dir: &TestDir) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    let path = regex::escape(&dir.path().display().to_string());
    s.add_filter(&path, "[DIR]");
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    s.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIMESTAMP]");
    s.add_filter(r"\b\d+(\.\d+)? ?(ms|s)\b", "[DURATION]");
    s
}

/// `evalrun --models M --judge none --evalset set.jsonl --out out --quiet --rubric <oral_english>` in
/// `dir`: the rules-only run most end-to-end tests start from (add flags and variables to it).
pub fn rules_only_run(dir: &TestDir, models: &str) -> Command {
    let mut cmd = dir.evalrun();
    cmd.args([
        "--models",
        models,
        "--judge",
        "none",
        "--evalset",
        "set.jsonl",
        "--out",
        "out",
        "--quiet",
    ])
    .arg("--rubric")
    .arg(repo_file("rubrics/oral_english.toml"));
    cmd
}

/// Path of a file shipped in the repository.
pub fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The first `n` items of the shipped spoken-English tutor eval set, as JSONL.
pub fn shipped_items(n: usize) -> String {
    let text = std::fs::read_to_string(repo_file("evalsets/oral_english.jsonl")).unwrap();
    text.lines().take(n).map(|l| format!("{l}\n")).collect()
}

/// Read a JSONL file into JSON values.
pub fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{}: bad line {l}: {e}", path.display()))
        })
        .collect()
}

/// Every file under `dir`, recursively (to search all outputs of a run for a secret).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Copy the folder `from` (recursively) to `to`, e.g. a shared run directory into a test's own folder.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}
