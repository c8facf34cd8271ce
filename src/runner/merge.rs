//! Shard run directories (`--shard K/N`) → one run directory with the content of an unsharded run
//! (`evalrun merge`).
//!
//! The shards must agree on everything but the shard (eval set, rubric, models by content, judge,
//! samples, `--limit`, baseline, margin) and together cover 1/N … N/N; a shard given twice (a retried
//! CI job) is fine. `items.jsonl` is rebuilt in eval-set order (the j-th item of shard K is the
//! eval set's item j·N + K − 1). Record lines are copied byte for byte, one per key (the last line of a
//! key wins, in argument order, as every reader does), in a stable order: model, then eval-set order,
//! then sample.
//! The merged manifest is the first shard's, without the shard, spanning the shards' start and end;
//! limits in it are the first shard's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::error::{BadInput, UsageError};
use crate::manifest::Manifest;
use crate::plan::parse_shard;
use crate::records::{files, stream_jsonl, JudgementKey, LineAt, LineSpan, PairKey, UnitKey};

/// One input directory.
struct Shard {
    dir: PathBuf,
    manifest: Manifest,
    k: usize,
    n: usize,
}

/// What a merge wrote: the merged manifest, and how many shard directories and items went into it.
pub struct Merged {
    /// The merged run's manifest.
    pub manifest: Manifest,
    /// How many shards were merged.
    pub shards: usize,
    /// How many items the merged run holds.
    pub items: usize,
}

/// Merge the shard directories `dirs` into `out` (records and manifest; the reports are the caller's).
pub fn merge(dirs: &[PathBuf], out: &Path, command_line: String) -> Result<Merged> {
    if out
        .join(files::RESPONSES)
        .metadata()
        .is_ok_and(|m| m.len() > 0)
    {
        return Err(UsageError::new(format!(
            "{} already holds a run; merge into a new --out",
            out.display()
        ))
        .into());
    }
    let shards = read_shards(dirs)?;
    check_agreement(&shards)?;
    let n = shards[0].n;

    // Items in eval-set order: (id, shard, line).
    let mut items: BTreeMap<usize, (String, usize, LineSpan)> = BTreeMap::new();
    for (shard, s) in shards.iter().enumerate() {
        let path = s.dir.join(files::ITEMS);
        for (j, line) in stream_jsonl::<serde_json::Value>(&path)?.enumerate() {
            let line = line?;
            let id = line
                .record
                .get("id")
                .and_then(|v| v.as_str())
                .with_context(|| format!("{}:{}: item without an id", path.display(), j + 1))?
                .to_string();
            let index = j * n + (s.k - 1);
            if let Some((other, ..)) = items.get(&index) {
                if *other != id {
                    return Err(UsageError::new(format!(
                        "{}: item {} is `{id}` here but `{other}` in another copy of shard {}/{n}",
                        path.display(),
                        j + 1,
                        s.k
                    ))
                    .into());
                }
            }
            items.insert(index, (id, shard, line.at));
        }
    }
    let item_pos: BTreeMap<String, usize> = items
        .values()
        .enumerate()
        .map(|(i, (id, ..))| (id.clone(), i))
        .collect();
    let model_pos: BTreeMap<String, usize> = shards[0]
        .manifest
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.clone(), i))
        .collect();
    let item = |id: &str| item_pos.get(id).copied().unwrap_or(usize::MAX);
    let model = |name: &str| model_pos.get(name).copied().unwrap_or(usize::MAX);

    std::fs::create_dir_all(out).with_context(|| format!("could not create {}", out.display()))?;
    let dirs: Vec<&Path> = shards.iter().map(|s| s.dir.as_path()).collect();
    write(
        &dirs,
        files::ITEMS,
        items.values().map(|(_, shard, at)| (*shard, *at)),
        &out.join(files::ITEMS),
    )?;

    merge_file::<UnitKey, _>(&dirs, out, files::RESPONSES, |k| {
        (model(&k.model), item(&k.item_id), k.sample as usize)
    })?;
    merge_file::<UnitKey, _>(&dirs, out, files::SCORES, |k| {
        (model(&k.model), item(&k.item_id), k.sample as usize)
    })?;
    merge_file::<PairKey, _>(&dirs, out, files::PAIRWISE, |k| {
        (model(&k.candidate), item(&k.item_id), model(&k.baseline))
    })?;
    merge_file::<JudgementKey, _>(&dirs, out, files::JUDGEMENTS, |k| {
        (item(&k.item_id), model(&k.model), k.sample as usize)
    })?;

    let mut manifest = shards[0].manifest.clone();
    manifest.shard = None;
    manifest.items = items.len();
    manifest.command_line = command_line;
    manifest.run_id = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| manifest.run_id.clone());
    manifest.started_utc = shards
        .iter()
        .map(|s| s.manifest.started_utc.clone())
        .min()
        .unwrap_or_default();
    // RFC 3339 UTC strings of one format order as the instants do.
    manifest.finished_utc = shards
        .iter()
        .map(|s| s.manifest.finished_utc.clone())
        .collect::<Option<Vec<_>>>()
        .and_then(|v| v.into_iter().max());
    manifest.interrupted_utc = shards
        .iter()
        .filter_map(|s| s.manifest.interrupted_utc.clone())
        .max();
    manifest.resumed_utc = Vec::new();
    manifest.write(out)?;
    let unfinished: Vec<String> = shards
        .iter()
        .filter(|s| s.manifest.finished_utc.is_none())
        .map(|s| s.dir.display().to_string())
        .collect();
    if !unfinished.is_empty() {
        eprintln!(
            "evalrun merge: not finished (interrupted or still running): {}; the merged run has only \
             what they recorded",
            unfinished.join(", ")
        );
    }
    Ok(Merged {
        manifest,
        shards: shards.len(),
        items: items.len(),
    })
}

fn read_shards(dirs: &[PathBuf]) -> Result<Vec<Shard>> {
    let mut shards = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let manifest = Manifest::read(dir).map_err(BadInput)?;
        let (k, n) = match &manifest.shard {
            Some(s) => parse_shard(s)
                .map_err(|e| UsageError::new(format!("{}: manifest shard: {e}", dir.display())))?,
            None => (1, 1),
        };
        shards.push(Shard {
            dir: dir.clone(),
            manifest,
            k,
            n,
        });
    }
    let ns: BTreeSet<usize> = shards.iter().map(|s| s.n).collect();
    if ns.len() > 1 {
        let list: Vec<String> = shards
            .iter()
            .map(|s| format!("{} is {}/{}", s.dir.display(), s.k, s.n))
            .collect();
        return Err(UsageError::new(format!(
            "the directories split the eval set differently: {}",
            list.join(", ")
        ))
        .into());
    }
    let n = shards[0].n;
    let have: BTreeSet<usize> = shards.iter().map(|s| s.k).collect();
    let missing: Vec<String> = (1..=n)
        .filter(|k| !have.contains(k))
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(UsageError::new(format!(
            "shard(s) {} missing: merge needs every shard of the run",
            missing.join(", ")
        ))
        .into());
    }
    Ok(shards)
}

/// The shards must be parts of one run: refuse (exit 2) naming each difference.
fn check_agreement(shards: &[Shard]) -> Result<()> {
    let first = &shards[0].manifest;
    let mut problems = Vec::new();
    for s in &shards[1..] {
        let m = &s.manifest;
        let mut changes = first.input_changes(m);
        changes.extend(first.model_changes(m));
        changes.extend(first.judge_changes(m, true));
        changes.extend(first.unit_changes(m, false));
        if first.baseline != m.baseline {
            changes.push(format!(
                "baseline: {} → {}",
                first.baseline.as_deref().unwrap_or("none"),
                m.baseline.as_deref().unwrap_or("none")
            ));
        }
        if first.margin != m.margin {
            changes.push(format!("--margin: {:?} → {:?}", first.margin, m.margin));
        }
        if first.dimensions != m.dimensions {
            changes.push("rubric dimensions differ".into());
        }
        for c in changes {
            problems.push(format!(
                "{} vs {}: {c}",
                shards[0].dir.display(),
                s.dir.display()
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(UsageError::new(format!(
        "the directories are not shards of one run:\n  {}",
        problems.join("\n  ")
    ))
    .into())
}

/// Merge one record file: one line per key (the last wins), ordered by `order` then key. Memory holds
/// the keys and where their lines are; the lines are copied from the shards' files.
fn merge_file<K, O>(dirs: &[&Path], out: &Path, name: &str, order: impl Fn(&K) -> O) -> Result<()>
where
    K: for<'de> Deserialize<'de> + Ord,
    O: Ord,
{
    let mut lines: BTreeMap<K, (usize, LineSpan)> = BTreeMap::new();
    for (shard, dir) in dirs.iter().enumerate() {
        let path = dir.join(name);
        for (i, line) in stream_jsonl::<serde_json::Value>(&path)?.enumerate() {
            let line = line?;
            let key = K::deserialize(&line.record).with_context(|| {
                format!("{}: record {} has no complete key", path.display(), i + 1)
            })?;
            lines.insert(key, (shard, line.at));
        }
    }
    let mut sorted: Vec<(O, K, (usize, LineSpan))> = lines
        .into_iter()
        .map(|(k, at)| (order(&k), k, at))
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    write(
        dirs,
        name,
        sorted.into_iter().map(|(.., at)| at),
        &out.join(name),
    )
}

/// Write the lines `(shard, position)` of the shards' file `name`, in that order, to `path`.
fn write(
    dirs: &[&Path],
    name: &str,
    lines: impl Iterator<Item = (usize, LineSpan)>,
    path: &Path,
) -> Result<()> {
    use std::io::Write;
    let file = std::fs::File::create(path)
        .with_context(|| format!("could not write {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let mut readers: Vec<Option<LineAt>> = dirs.iter().map(|_| None).collect();
    for (shard, at) in lines {
        let reader = match &mut readers[shard] {
            Some(r) => r,
            slot => slot.insert(LineAt::open(&dirs[shard].join(name))?),
        };
        out.write_all(reader.bytes(at)?)
            .and_then(|()| out.write_all(b"\n"))
            .with_context(|| format!("could not write {}", path.display()))?;
    }
    out.flush()
        .with_context(|| format!("could not write {}", path.display()))
}
