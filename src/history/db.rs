//! The history file: JSON lines, one per run, appended under an exclusive file lock (fs4: `flock` /
//! `LockFileEx`), one `write_all` per line, so concurrent `history add` calls never interleave. Read
//! back strictly: a line that is not a history entry is an error naming the file and line; only a torn
//! last line (no newline: a writer killed mid-line) is skipped, with a warning, and cut off by the next
//! `add`.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::{Context, Result};
use fs4::FileExt;

use crate::error::UsageError;

use super::{Entry, SCHEMA};

/// Append `entry` to the history file at `path` (created with its folders when missing). The same run
/// (run id and start time) already in the file is refused.
pub fn append(path: &Path, entry: &Entry) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("could not create {}", parent.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
        .with_context(|| format!("could not open {}", path.display()))?;
    FileExt::lock(&file).with_context(|| format!("could not lock {}", path.display()))?;
    let result = (|| -> Result<()> {
        let mut text = String::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_string(&mut text)
            .with_context(|| format!("could not read {}", path.display()))?;
        let (entries, torn) = parse(path, &text)?;
        if let Some(e) = entries
            .iter()
            .find(|e| e.run_id == entry.run_id && e.started_utc == entry.started_utc)
        {
            return Err(UsageError::in_file(
                path,
                format!(
                    "run {} is already in the history (started {})",
                    e.run_id, e.started_utc
                ),
            )
            .into());
        }
        if torn {
            let keep = text.rfind('\n').map_or(0, |i| i + 1);
            file.set_len(keep as u64)?;
        }
        let line = format!("{}\n", serde_json::to_string(entry)?);
        file.write_all(line.as_bytes())
            .with_context(|| format!("could not append to {}", path.display()))?;
        file.flush()?;
        Ok(())
    })();
    let _ = FileExt::unlock(&file);
    result
}

/// Every entry of the history file at `path`, in file order.
pub fn read(path: &Path) -> Result<Vec<Entry>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError::in_file(path, format!("cannot read the history: {e}")))?;
    let (entries, torn) = parse(path, &text)?;
    if torn {
        eprintln!(
            "warning: {}:{}: torn last line skipped (a writer was cut off)",
            path.display(),
            text.lines().count()
        );
    }
    Ok(entries)
}

/// Parse the lines; returns the entries and whether a torn last line was skipped.
fn parse(path: &Path, text: &str) -> Result<(Vec<Entry>, bool)> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim_end_matches('\n').trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let last_without_newline = i + 1 == lines.len() && !raw.ends_with('\n');
        match serde_json::from_str::<Entry>(line) {
            Ok(e) if e.schema == SCHEMA => out.push(e),
            Ok(e) => {
                return Err(UsageError::at(
                    path,
                    i + 1,
                    format!("schema `{}`, expected `{SCHEMA}`", e.schema),
                )
                .into())
            }
            Err(_) if last_without_newline => return Ok((out, true)),
            Err(e) => {
                return Err(UsageError::at(path, i + 1, format!("not a history line: {e}")).into())
            }
        }
    }
    Ok((out, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn entry(id: &str) -> Entry {
        Entry {
            schema: SCHEMA.into(),
            run_id: id.into(),
            started_utc: "2026-12-01T00:00:00Z".into(),
            added_utc: "2026-12-01T01:00:00Z".into(),
            commit: None,
            judge: None,
            evalset_sha256: "e".into(),
            rubric_sha256: "r".into(),
            n_items: 3,
            models: BTreeMap::new(),
        }
    }

    #[test]
    fn appends_refuses_a_repeated_run_and_names_a_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ci/history.jsonl");
        append(&p, &entry("n1")).unwrap();
        append(&p, &entry("n2")).unwrap();
        assert_eq!(read(&p).unwrap().len(), 2);
        let err = append(&p, &entry("n1")).unwrap_err().to_string();
        assert!(err.contains("run n1 is already in the history"), "{err}");

        // A torn last line is skipped on read and cut off by the next append.
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"schema\":\"evalrun-hist").unwrap();
        assert_eq!(read(&p).unwrap().len(), 2);
        append(&p, &entry("n3")).unwrap();
        let ids: Vec<String> = read(&p).unwrap().into_iter().map(|e| e.run_id).collect();
        assert_eq!(ids, ["n1", "n2", "n3"]);

        // A bad line in the middle: FILE:LINE and what is wrong.
        let text = std::fs::read_to_string(&p).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines[1] = "{\"schema\":\"evalrun-history/1\",\"run_id\":7}";
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        let err = read(&p).unwrap_err().to_string();
        assert!(
            err.contains("history.jsonl:2: not a history line: invalid type"),
            "{err}"
        );
        lines[1] = "{\"schema\":\"evalrun-history/9\"}";
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        let err = read(&p).unwrap_err().to_string();
        assert!(err.contains("history.jsonl:2: not a history line"), "{err}");
    }
}
