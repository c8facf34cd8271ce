//! What the gate reads of one run directory, read as a stream: per (model, item, sample) unit only the
//! facts the checks use (error, cached, total latency, dimension scores, rule outcomes), the last
//! line of a key winning (STATS §1), plus the manifest and, for `--cluster`, each item's cluster value.

use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::Value;

use crate::error::UsageError;
use crate::manifest::Manifest;
use crate::records::{files, UnitKey};

/// What one line of `responses.jsonl` tells the gate.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Whether the response carries an error.
    pub error: bool,
    /// Whether the answer came from the cache.
    pub cached: bool,
    /// Total request time in milliseconds, if measured.
    pub total_ms: Option<f64>,
}

/// What one line of `scores.jsonl` tells the gate. Dimension and rule names are shared by every unit
/// of a run (one copy each), as a run holds one of these per unit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scored {
    /// Dimension → score (null: not decided).
    pub dimensions: BTreeMap<Arc<str>, Option<f64>>,
    /// Rule → passed.
    pub rules: BTreeMap<Arc<str>, bool>,
}

/// One run, as the gate compares it.
#[derive(Debug, Clone)]
pub struct Run {
    /// The run directory.
    pub dir: PathBuf,
    /// The run's manifest.
    pub manifest: Manifest,
    /// Responses by unit.
    pub answers: BTreeMap<UnitKey, Answer>,
    /// Scores by unit.
    pub scores: BTreeMap<UnitKey, Scored>,
    /// Item → its cluster value (compact JSON, keys sorted) under `--cluster`; absent or null: none.
    pub clusters: BTreeMap<String, String>,
    /// Dimensions the run's rubric (or manifest) marks `primary = true`.
    pub primary: Vec<String>,
}

#[derive(Deserialize)]
struct AnswerLine {
    model: String,
    item_id: String,
    sample: u32,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    cached: bool,
    #[serde(default)]
    total_ms: Option<f64>,
}

#[derive(Deserialize)]
struct ScoreLine {
    model: String,
    item_id: String,
    sample: u32,
    #[serde(default)]
    rules: BTreeMap<String, RuleLine>,
    #[serde(default)]
    dimensions: BTreeMap<String, DimLine>,
}

#[derive(Deserialize)]
struct RuleLine {
    pass: bool,
}

#[derive(Deserialize)]
struct DimLine {
    score: Option<f64>,
}

impl Run {
    /// Read `dir`; `cluster` is the `--cluster` key (a dotted path into `items.jsonl` objects).
    pub fn read(dir: &Path, cluster: Option<&str>) -> Result<Run> {
        let manifest = Manifest::read(dir).map_err(|e| UsageError::new(format!("{e:#}")))?;
        let mut answers = BTreeMap::new();
        stream(&dir.join(files::RESPONSES), |l: AnswerLine| {
            let key = UnitKey {
                model: l.model,
                item_id: l.item_id,
                sample: l.sample,
            };
            let error = l.error.is_some_and(|e| !e.is_null());
            let total_ms = l.total_ms.filter(|x| x.is_finite());
            answers.insert(
                key,
                Answer {
                    error,
                    cached: l.cached,
                    total_ms,
                },
            );
        })?;
        let mut scores = BTreeMap::new();
        let mut names: HashSet<Arc<str>> = HashSet::new();
        let mut name = |n: String| -> Arc<str> {
            if let Some(n) = names.get(n.as_str()) {
                return n.clone();
            }
            let n: Arc<str> = n.into();
            names.insert(n.clone());
            n
        };
        stream(&dir.join(files::SCORES), |l: ScoreLine| {
            let key = UnitKey {
                model: l.model,
                item_id: l.item_id,
                sample: l.sample,
            };
            let s = Scored {
                dimensions: l
                    .dimensions
                    .into_iter()
                    .map(|(d, v)| (name(d), v.score))
                    .collect(),
                rules: l
                    .rules
                    .into_iter()
                    .map(|(r, v)| (name(r), v.pass))
                    .collect(),
            };
            scores.insert(key, s);
        })?;
        let mut clusters = BTreeMap::new();
        if let Some(path) = cluster {
            stream(&dir.join("items.jsonl"), |item: Value| {
                let id = item.get("id").and_then(Value::as_str).map(str::to_string);
                let value = path.split('.').try_fold(&item, |v, k| v.get(k));
                if let (Some(id), Some(v)) = (id, value.filter(|v| !v.is_null())) {
                    clusters.insert(id, canonical(v));
                }
            })?;
        }
        let primary = primary_dimensions(dir, &manifest);
        Ok(Run {
            dir: dir.to_path_buf(),
            manifest,
            answers,
            scores,
            clusters,
            primary,
        })
    }
}

/// Compact JSON with object keys sorted, so equal values give equal text whatever their key order.
fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, String> =
                m.iter().map(|(k, v)| (k, canonical(v))).collect();
            let inner: Vec<String> = sorted
                .iter()
                .map(|(k, v)| format!("{}:{v}", Value::String((*k).clone())))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// `primary = true` dimensions: from the manifest's `dimensions[]` if it records them, else from the
/// rubric copied into the run's `inputs/`.
fn primary_dimensions(dir: &Path, manifest: &Manifest) -> Vec<String> {
    let marked = |dims: Option<&Vec<Value>>, flag: &dyn Fn(&Value) -> bool| -> Vec<String> {
        dims.into_iter()
            .flatten()
            .filter(|d| flag(d))
            .filter_map(|d| d.get("id").and_then(Value::as_str).map(str::to_string))
            .collect()
    };
    let raw: Option<Value> = std::fs::read_to_string(dir.join(files::MANIFEST))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let from_manifest = marked(
        raw.as_ref()
            .and_then(|m| m.get("dimensions"))
            .and_then(Value::as_array),
        &|d| d.get("primary").and_then(Value::as_bool) == Some(true),
    );
    if !from_manifest.is_empty() {
        return from_manifest;
    }
    let Some(name) = Path::new(&manifest.rubric.path).file_name() else {
        return Vec::new();
    };
    let Ok(text) = std::fs::read_to_string(dir.join("inputs").join(name)) else {
        return Vec::new();
    };
    let Ok(rubric) = toml::from_str::<toml::Value>(&text) else {
        return Vec::new();
    };
    rubric
        .get("dimensions")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter(|d| d.get("primary").and_then(toml::Value::as_bool) == Some(true))
        .filter_map(|d| {
            d.get("id")
                .and_then(toml::Value::as_str)
                .map(str::to_string)
        })
        .collect()
}

/// Read a JSONL file line by line, handing each parsed record to `each`. A torn (unparseable) last
/// line is ignored; an unparseable line elsewhere is an error naming the file and line; a missing
/// file is empty.
fn stream<T: serde::de::DeserializeOwned>(path: &Path, mut each: impl FnMut(T)) -> Result<()> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut lines = std::io::BufReader::new(file).lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(v) => each(v),
            Err(_) if lines.peek().is_none() => break,
            Err(e) => {
                return Err(UsageError::at(path, i + 1, format!("invalid record: {e}")).into())
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sorts_keys_at_every_depth() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"y":[1,{"d":2,"c":3}],"x":"s"}}"#).unwrap();
        assert_eq!(
            canonical(&a),
            r#"{"a":{"x":"s","y":[1,{"c":3,"d":2}]},"b":1}"#
        );
    }

    #[test]
    fn a_torn_last_line_is_ignored_a_bad_middle_line_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl");
        std::fs::write(&p, "{\"id\":\"a\"}\n{\"id\":").unwrap();
        let mut seen = Vec::new();
        stream(&p, |v: Value| seen.push(v)).unwrap();
        assert_eq!(seen.len(), 1);
        std::fs::write(&p, "{\"id\":\n{\"id\":\"a\"}\n").unwrap();
        let err = stream(&p, |_: Value| {}).unwrap_err().to_string();
        assert!(err.contains("x.jsonl:1: invalid record"), "{err}");
    }
}
