//! A history line from a run directory: its manifest and `summary.json` (written by `run`, `demo`,
//! `rescore` and `report`).

use std::path::Path;

use anyhow::Result;

use crate::error::UsageError;
use crate::manifest::{utc_now, Manifest};
use crate::records::files;
use crate::stats::summary::Summary;

use super::{DimLine, Entry, ModelLine, SCHEMA};

/// The line for run directory `dir`; `commit` overrides the manifest's.
pub fn of_run(dir: &Path, commit: Option<&str>) -> Result<Entry> {
    let manifest = Manifest::read(dir).map_err(|e| UsageError::new(format!("{e:#}")))?;
    let path = dir.join(files::SUMMARY);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        UsageError::in_file(
            &path,
            format!("{e}; write it with `evalrun report {}`", dir.display()),
        )
    })?;
    let summary: Summary = serde_json::from_str(&text)
        .map_err(|e| UsageError::in_file(&path, format!("not a summary: {e}")))?;
    let manifest_commit = std::fs::read_to_string(dir.join(files::MANIFEST))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|m| m.get("commit").and_then(|c| c.as_str()).map(str::to_string));
    Ok(entry(
        &manifest,
        &summary,
        commit.map(str::to_string).or(manifest_commit),
    ))
}

/// The line from a manifest and its summary (pure).
pub fn entry(manifest: &Manifest, summary: &Summary, commit: Option<String>) -> Entry {
    let scale = |d: &str| {
        manifest
            .dimensions
            .iter()
            .find(|e| e.id == d)
            .map(|e| e.scale)
    };
    let models = summary
        .models
        .iter()
        .map(|(name, m)| {
            let line = ModelLine {
                dimensions: m
                    .dimensions
                    .iter()
                    .map(|(d, s)| {
                        let line = DimLine {
                            mean: s.mean,
                            ci95_low: s.ci95_low,
                            ci95_high: s.ci95_high,
                            se: s.se,
                            n: s.n_items,
                            scale: scale(d),
                        };
                        (d.clone(), line)
                    })
                    .collect(),
                rules: m
                    .rules
                    .iter()
                    .filter_map(|(r, s)| s.pass_rate.map(|p| (r.clone(), p)))
                    .collect(),
                latency_p50_ms: m.latency.total_ms.p50,
                latency_p90_ms: m.latency.total_ms.p90,
                cost_per_item: m.cost.per_item,
                currency: m.cost.currency.clone(),
                error_rate: m.errors.error_rate,
            };
            (name.clone(), line)
        })
        .collect();
    Entry {
        schema: SCHEMA.to_string(),
        run_id: manifest.run_id.clone(),
        started_utc: manifest.started_utc.clone(),
        added_utc: utc_now(),
        commit,
        judge: manifest.judge.clone(),
        evalset_sha256: manifest.evalset.sha256.clone(),
        rubric_sha256: manifest.rubric.sha256.clone(),
        n_items: manifest.items,
        models,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_baseline_makes_a_line_with_every_headline_figure() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/baseline");
        let e = of_run(&dir, Some("abc123")).unwrap();
        assert_eq!(e.run_id, "baseline");
        assert_eq!(e.commit.as_deref(), Some("abc123"));
        assert_eq!(e.judge.as_deref(), Some("judge"));
        let m = &e.models["ernie-4.0"];
        let reply = &m.dimensions["reply"];
        assert!((reply.mean.unwrap() - 2.7346938775510203).abs() < 1e-12);
        assert_eq!((reply.n, reply.scale), (49, Some((1, 3))));
        assert!(reply.se.is_some() && reply.ci95_low.is_some());
        assert_eq!(m.rules["json_strict"], 0.98);
        assert_eq!(m.latency_p90_ms, Some(313.849));
        assert_eq!(m.cost_per_item, Some(0.0860808));
        assert_eq!(m.error_rate, Some(0.0));
        let err = of_run(&dir.join("inputs"), None).unwrap_err();
        assert!(
            format!("{err:#}").contains("not a run directory"),
            "{err:#}"
        );
    }
}
