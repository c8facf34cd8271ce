//! `--resume`: what a run directory already holds, so a run continues with only what is missing.
//!
//! [`prepare`] makes the directory safe to append to and returns [`Done`], the keys already recorded
//! per file. Every phase consults it before asking an endpoint:
//!
//! - answers: a unit (model, item, sample) in [`Done::answers`] is never sent again. A unit whose
//!   last `responses.jsonl` line is an *error* is not done: `prepare` removes that line (and the unit's
//!   score line) and the unit is asked again, so a run stopped by a quota wall, an outage or a bad key
//!   finishes once the cause is fixed, and the file still ends with exactly one line per unit. Error
//!   records are not answers: nothing usable was received (a `truncated` one kept only a fragment).
//! - scores: a recorded answer without a line in [`Done::scores`] is scored from the record, with no
//!   request. Score, judgement and pairwise lines whose answer is gone (an error asked again, a line
//!   a torn `responses.jsonl` lost) are removed, so no stale line outlives its answer.
//! - judgements (for the judge phase): [`Done::judgements`] maps each judge call's key to whether its
//!   last line succeeded (`error` and `parse_error` both null). A judge phase asks only for keys that
//!   are absent, and decides itself whether to ask again for failed ones; if it does, the new line
//!   supersedes the old one for every reader (the last line of a key wins, STATS.md §4).
//!   [`Done::pairs`] holds the (candidate, baseline, item) keys of `pairwise.jsonl`.
//!
//! [`check_manifest`] refuses (exit 2) when the new command would run different work than the
//! stored run: eval set, rubric, models (by content), judge, samples, `--limit` or `--shard`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::error::UsageError;
use crate::manifest::Manifest;
use crate::records::{copy_lines, files, stream_jsonl, JudgementKey, LineSpan, PairKey, UnitKey};

/// The keys a run directory already holds, per record file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Done {
    /// Answers recorded without an error: never asked for again.
    pub answers: BTreeSet<UnitKey>,
    /// Units that have a line in `scores.jsonl`.
    pub scores: BTreeSet<UnitKey>,
    /// Judge calls recorded; `true` when the key's last line has no `error` and no `parse_error`.
    pub judgements: BTreeMap<JudgementKey, bool>,
    /// Lines of `pairwise.jsonl`.
    pub pairs: BTreeSet<PairKey>,
}

/// What [`prepare`] changed on disk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Repairs {
    /// Record files whose torn last line was cut off, with the bytes removed.
    pub torn: Vec<(&'static str, u64)>,
    /// Units whose error record was removed so that they are asked again.
    pub retried_errors: usize,
    /// Lines removed because a later line has the same key.
    pub superseded: usize,
    /// Score, judgement and pairwise lines removed because their answer is gone.
    pub orphaned: usize,
}

impl Repairs {
    /// One line for stderr, or `None` when nothing was changed.
    pub fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        for (file, bytes) in &self.torn {
            parts.push(format!("cut a torn last line ({bytes} bytes) off {file}"));
        }
        if self.retried_errors > 0 {
            parts.push(format!(
                "{} failed unit(s) will be asked again",
                self.retried_errors
            ));
        }
        if self.orphaned > 0 {
            parts.push(format!(
                "dropped {} score/judge line(s) whose answer is gone (they are redone with it)",
                self.orphaned
            ));
        }
        if self.superseded > 0 {
            parts.push(format!(
                "dropped {} line(s) superseded by a later line of the same key",
                self.superseded
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// Make `dir`'s record files safe to append to and report what they hold (see the module docs).
/// Files are rewritten only when a line must go, through a temporary file and a rename, so a kill
/// during `prepare` leaves either the old or the new file.
pub fn prepare(dir: &Path) -> Result<(Done, Repairs)> {
    let mut repairs = Repairs::default();
    for name in [
        files::RESPONSES,
        files::SCORES,
        files::JUDGEMENTS,
        files::PAIRWISE,
    ] {
        if let Some(bytes) = repair_tail(&dir.join(name))? {
            repairs.torn.push((name, bytes));
        }
    }

    // responses.jsonl: the last line of each unit; error units are dropped and asked again.
    let responses = scan::<UnitKey>(dir, files::RESPONSES, |v| null(v, "error"))?;
    let mut last_response: BTreeMap<&UnitKey, usize> = BTreeMap::new();
    for (i, line) in responses.iter().enumerate() {
        last_response.insert(&line.key, i);
    }
    let mut answers = BTreeSet::new();
    let mut keep = vec![false; responses.len()];
    for (&key, &i) in &last_response {
        if responses[i].ok {
            answers.insert(key.clone());
            keep[i] = true;
        } else {
            repairs.retried_errors += 1;
        }
    }
    repairs.superseded += responses.len() - last_response.len();
    drop(last_response);
    rewrite_if_needed(&dir.join(files::RESPONSES), &responses, &keep)?;
    drop(responses);

    // scores.jsonl: the last line of each unit whose answer stays.
    let scores = scan::<UnitKey>(dir, files::SCORES, |_| true)?;
    let mut last: BTreeMap<&UnitKey, usize> = BTreeMap::new();
    for (i, line) in scores.iter().enumerate() {
        last.insert(&line.key, i);
    }
    let mut keep = vec![false; scores.len()];
    let mut scored = BTreeSet::new();
    for (&key, &i) in &last {
        // A score whose answer is gone (an error asked again, a line a torn file lost) is stale.
        if answers.contains(key) {
            keep[i] = true;
            scored.insert(key.clone());
        } else {
            repairs.orphaned += 1;
        }
    }
    repairs.superseded += scores.len() - last.len();
    drop(last);
    rewrite_if_needed(&dir.join(files::SCORES), &scores, &keep)?;
    drop(scores);

    // Judge lines over an answer that is gone are stale too: the answer will be asked (and judged)
    // again. A pair compares sample 0 of both models.
    let answered = |model: &str, item: &str, sample: u32| {
        answers.contains(&UnitKey {
            model: model.to_string(),
            item_id: item.to_string(),
            sample,
        })
    };
    let lines = scan::<JudgementKey>(dir, files::JUDGEMENTS, |v| {
        null(v, "error") && null(v, "parse_error")
    })?;
    let mut keep = vec![false; lines.len()];
    let mut judgements = BTreeMap::new();
    for (i, line) in lines.iter().enumerate() {
        let key = &line.key;
        let live = match &key.baseline {
            Some(b) if key.task == "pair" => {
                answered(&key.model, &key.item_id, 0) && answered(b, &key.item_id, 0)
            }
            _ => answered(&key.model, &key.item_id, key.sample),
        };
        if !live {
            repairs.orphaned += 1;
            continue;
        }
        keep[i] = true;
        judgements.insert(key.clone(), line.ok);
    }
    rewrite_if_needed(&dir.join(files::JUDGEMENTS), &lines, &keep)?;
    let lines = scan::<PairKey>(dir, files::PAIRWISE, |_| true)?;
    let mut keep = vec![false; lines.len()];
    let mut pairs = BTreeSet::new();
    for (i, line) in lines.iter().enumerate() {
        let key = &line.key;
        if answered(&key.candidate, &key.item_id, 0) && answered(&key.baseline, &key.item_id, 0) {
            keep[i] = true;
            pairs.insert(key.clone());
        } else {
            repairs.orphaned += 1;
        }
    }
    rewrite_if_needed(&dir.join(files::PAIRWISE), &lines, &keep)?;
    Ok((
        Done {
            answers,
            scores: scored,
            judgements,
            pairs,
        },
        repairs,
    ))
}

/// Refuse to resume when the new command would do different work than the stored run did. The error
/// lists every difference, one per line.
pub fn check_manifest(stored: &Manifest, new: &Manifest, dir: &Path) -> Result<(), UsageError> {
    let mut changes = stored.input_changes(new);
    changes.extend(stored.model_changes(new));
    changes.extend(stored.judge_changes(new, true));
    changes.extend(stored.unit_changes(new, true));
    if changes.is_empty() {
        return Ok(());
    }
    Err(UsageError::new(format!(
        "--resume: {} was run with different inputs; changed since:\n  {}\n\
         resume with the original inputs, or start a new run with another --out",
        dir.join(files::MANIFEST).display(),
        changes.join("\n  ")
    )))
}

/// The manifest a resumed session writes: the new command's (its limits and prices apply from now
/// on), keeping the run's identity and start, and noting the resume.
pub fn continued(stored: &Manifest, mut new: Manifest) -> Manifest {
    new.run_id = stored.run_id.clone();
    new.command_line = stored.command_line.clone();
    let now = new.started_utc.clone();
    new.started_utc = stored.started_utc.clone();
    new.resumed_utc = stored.resumed_utc.clone();
    new.resumed_utc.push(now);
    new.finished_utc = None;
    new.interrupted_utc = None;
    new
}

/// A line of a record file as `prepare` needs it: its key, a yes/no fact about the record, and where
/// it is (the line itself stays on disk).
struct Scanned<K> {
    key: K,
    ok: bool,
    at: LineSpan,
}

/// Stream the record file `name` of `dir`, keeping each line's key, `ok(record)` and position.
fn scan<K: for<'de> Deserialize<'de>>(
    dir: &Path,
    name: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> Result<Vec<Scanned<K>>> {
    stream_jsonl::<serde_json::Value>(&dir.join(name))?
        .enumerate()
        .map(|(i, line)| {
            let line = line?;
            Ok(Scanned {
                key: key_of(&line.record, name, i, &line.raw)?,
                ok: ok(&line.record),
                at: line.at,
            })
        })
        .collect()
}

/// Whether `field` of a record is missing or null.
fn null(v: &serde_json::Value, field: &str) -> bool {
    v.get(field).is_none_or(|x| x.is_null())
}

fn key_of<K: for<'de> Deserialize<'de>>(
    value: &serde_json::Value,
    file: &str,
    index: usize,
    line: &str,
) -> Result<K> {
    K::deserialize(value).with_context(|| {
        let head: String = line.chars().take(80).collect();
        format!("{file}: record {} has no complete key: {head}", index + 1)
    })
}

/// Cut a torn last line off `path` (bytes after the last newline that do not parse as JSON), or end
/// a complete but unterminated last line with its newline. Returns the bytes removed, if any.
fn repair_tail(path: &Path) -> Result<Option<u64>> {
    let Some((start, tail)) = last_line(path)? else {
        return Ok(None);
    };
    let tail = &tail[..];
    let mut file = OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    if serde_json::from_slice::<serde_json::Value>(tail).is_ok() {
        // The kill fell between the record and its newline: the record is whole, keep it.
        use std::io::Seek;
        file.seek(std::io::SeekFrom::End(0))?;
        file.write_all(b"\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        return Ok(None);
    }
    file.set_len(start as u64)
        .with_context(|| format!("cannot truncate {}", path.display()))?;
    file.sync_all()?;
    Ok(Some(tail.len() as u64))
}

/// The unterminated last line of `path` and where it starts, read from the end of the file (`None`
/// when the file is missing, empty or ends in a newline).
fn last_line(path: &Path) -> Result<Option<(usize, Vec<u8>)>> {
    use std::io::{Read, Seek, SeekFrom};
    let read = |e: std::io::Error| {
        anyhow::Error::from(e).context(format!("cannot read {}", path.display()))
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read(e)),
    };
    let len = file.metadata().map_err(read)?.len();
    let mut tail: Vec<u8> = Vec::new();
    let mut end = len;
    while end > 0 {
        let start = end.saturating_sub(64 * 1024);
        let mut chunk = vec![0u8; (end - start) as usize];
        file.seek(SeekFrom::Start(start))
            .and_then(|_| file.read_exact(&mut chunk))
            .map_err(read)?;
        if end == len && chunk.last() == Some(&b'\n') {
            return Ok(None);
        }
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            chunk.drain(..=i);
            chunk.extend_from_slice(&tail);
            return Ok(Some(((start as usize) + i + 1, chunk)));
        }
        chunk.extend_from_slice(&tail);
        tail = chunk;
        end = start;
    }
    Ok((!tail.is_empty()).then_some((0, tail)))
}

/// Rewrite `path` with the kept lines, in their order, when any line is dropped.
fn rewrite_if_needed<K>(path: &Path, lines: &[Scanned<K>], keep: &[bool]) -> Result<()> {
    if keep.iter().all(|k| *k) {
        return Ok(());
    }
    let kept = lines
        .iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(l, _)| l.at);
    let tmp = path.with_extension("jsonl.tmp");
    copy_lines(path, kept, &tmp)?;
    std::fs::rename(&tmp, path).with_context(|| format!("could not replace {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(model: &str, item: &str, error: bool) -> String {
        let error = if error {
            r#"{"kind":"rate_limited","message":"slow down","status":429,"code":null}"#
        } else {
            "null"
        };
        format!(
            r#"{{"model":"{model}","item_id":"{item}","sample":0,"output":"x","ttft_ms":1.0,"total_ms":2.0,"queue_ms":0.0,"prompt_tokens":1,"completion_tokens":1,"finish_reason":"stop","attempts":1,"error":{error},"cached":false}}"#
        )
    }

    fn score(model: &str, item: &str) -> String {
        format!(
            r#"{{"model":"{model}","item_id":"{item}","sample":0,"rules":{{}},"dimensions":{{}},"judge_error":null}}"#
        )
    }

    #[test]
    fn torn_tails_are_cut_errors_dropped_and_the_rest_kept_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let responses = format!(
            "{}\n{}\n{}\n{}\n{{\"model\":\"a\",\"item_",
            resp("a", "1", false),
            resp("a", "2", true),
            resp("b", "1", false),
            resp("a", "3", false),
        );
        std::fs::write(d.join(files::RESPONSES), &responses).unwrap();
        // Score of a/2 (an error) goes with it; a/3 has no score yet; the last line is whole but
        // lacks its newline (killed between the two).
        let scores = format!(
            "{}\n{}\n{}",
            score("a", "1"),
            score("a", "2"),
            score("b", "1")
        );
        std::fs::write(d.join(files::SCORES), &scores).unwrap();
        std::fs::write(d.join(files::PAIRWISE), "{\"item_id\":\"1\",\"cand").unwrap();

        let (done, repairs) = prepare(d).unwrap();
        let key = |m: &str, i: &str| UnitKey {
            model: m.into(),
            item_id: i.into(),
            sample: 0,
        };
        assert_eq!(
            done.answers,
            [key("a", "1"), key("a", "3"), key("b", "1")].into()
        );
        assert_eq!(done.scores, [key("a", "1"), key("b", "1")].into());
        assert!(done.pairs.is_empty());
        assert_eq!(repairs.retried_errors, 1);
        assert_eq!(
            repairs.torn,
            vec![(files::RESPONSES, 19), (files::PAIRWISE, 20)]
        );
        let text = std::fs::read_to_string(d.join(files::RESPONSES)).unwrap();
        assert_eq!(
            text,
            format!(
                "{}\n{}\n{}\n",
                resp("a", "1", false),
                resp("b", "1", false),
                resp("a", "3", false)
            )
        );
        let text = std::fs::read_to_string(d.join(files::SCORES)).unwrap();
        assert_eq!(text, format!("{}\n{}\n", score("a", "1"), score("b", "1")));
        assert_eq!(std::fs::read(d.join(files::PAIRWISE)).unwrap(), b"");

        // A second prepare changes nothing.
        let (again, repairs) = prepare(d).unwrap();
        assert_eq!(again, done);
        assert_eq!(repairs, Repairs::default());
        assert_eq!(repairs.describe(), None);
    }

    #[test]
    fn a_later_line_supersedes_and_judgement_outcomes_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join(files::RESPONSES),
            format!(
                "{}\n{}\n{}\n",
                resp("a", "1", true),
                resp("a", "1", false),
                resp("b", "1", false)
            ),
        )
        .unwrap();
        let judgement = |order: u32, error: &str| {
            format!(
                r#"{{"judge":"j","task":"pair","item_id":"1","model":"a","baseline":"b","sample":0,"order":{order},"raw":null,"parsed":null,"parse_error":null,"prompt_tokens":null,"completion_tokens":null,"total_ms":null,"error":{error}}}"#
            )
        };
        std::fs::write(
            d.join(files::JUDGEMENTS),
            format!(
                "{}\n{}\n",
                judgement(1, "null"),
                judgement(
                    2,
                    r#"{"kind":"server","message":"x","status":500,"code":null}"#
                )
            ),
        )
        .unwrap();
        let (done, repairs) = prepare(d).unwrap();
        assert_eq!(done.answers.len(), 2);
        assert_eq!(repairs.superseded, 1);
        assert_eq!(repairs.retried_errors, 0);
        let outcomes: Vec<(u32, bool)> = done
            .judgements
            .iter()
            .map(|(k, ok)| (k.order, *ok))
            .collect();
        assert_eq!(outcomes, [(1, true), (2, false)]);
        assert_eq!(
            std::fs::read_to_string(d.join(files::RESPONSES)).unwrap(),
            format!("{}\n{}\n", resp("a", "1", false), resp("b", "1", false))
        );
    }

    #[test]
    fn judge_lines_over_a_lost_answer_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // b/1 was lost (never recorded); a/1 stays.
        std::fs::write(
            d.join(files::RESPONSES),
            format!("{}\n", resp("a", "1", false)),
        )
        .unwrap();
        let judgement = |task: &str, model: &str, baseline: &str| {
            format!(
                r#"{{"judge":"j","task":"{task}","item_id":"1","model":"{model}","baseline":{baseline},"sample":0,"order":1,"raw":null,"parsed":null,"parse_error":null,"prompt_tokens":null,"completion_tokens":null,"total_ms":null,"error":null}}"#
            )
        };
        let kept = judgement("grade", "a", "null");
        std::fs::write(
            d.join(files::JUDGEMENTS),
            format!(
                "{kept}\n{}\n{}\n",
                judgement("grade", "b", "null"),
                judgement("pair", "a", "\"b\"")
            ),
        )
        .unwrap();
        std::fs::write(
            d.join(files::PAIRWISE),
            "{\"item_id\":\"1\",\"candidate\":\"a\",\"baseline\":\"b\"}\n",
        )
        .unwrap();
        let (done, repairs) = prepare(d).unwrap();
        assert_eq!(repairs.orphaned, 3);
        assert_eq!(done.judgements.len(), 1);
        assert!(done.pairs.is_empty());
        assert_eq!(
            std::fs::read_to_string(d.join(files::JUDGEMENTS)).unwrap(),
            format!("{kept}\n")
        );
        assert_eq!(std::fs::read(d.join(files::PAIRWISE)).unwrap(), b"");
    }

    #[test]
    fn a_corrupt_middle_line_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(files::RESPONSES),
            format!("{{oops\n{}\n", resp("a", "1", false)),
        )
        .unwrap();
        let err = format!("{:#}", prepare(dir.path()).unwrap_err());
        assert!(err.contains("responses.jsonl:1"), "{err}");
    }
}
