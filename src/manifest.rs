//! `manifest.json` (SPEC §5): what a run was — tool version, command line, times, hashes of its inputs,
//! the models with their limits and prices (never a secret), and whether the endpoints were simulated.
//! `report`, `gate` and `--resume` read it; it is written before the first request and completed at
//! the end.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::inputs::config::{Api, ProviderKind, ResolvedModel};
use crate::records::files;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    pub run_id: String,
    pub command_line: String,
    pub started_utc: String,
    pub finished_utc: Option<String>,
    pub config: FileRef,
    pub evalset: FileRef,
    pub rubric: FileRef,
    pub items: usize,
    pub models: Vec<ModelEntry>,
    pub baseline: Option<String>,
    pub judge: Option<String>,
    /// The judge model's entry (provider, endpoint, limits, prices), so its cost can be reported apart
    /// from the answers'. Extension of SPEC §5; absent without a judge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_model: Option<ModelEntry>,
    pub samples: u32,
    pub judge_samples: u32,
    pub limit: Option<usize>,
    pub shard: Option<String>,
    pub margin: f64,
    /// The rubric's dimensions, so reports can be rendered without the rubric file.
    pub dimensions: Vec<DimensionEntry>,
    /// Set when the endpoints were the built-in simulator.
    pub simulated: Option<Simulated>,
    /// Set by `evalrun rescore`: the answers are this run's, the scores, pairs and judgements are from
    /// the rescore. Extension of SPEC §5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescored: Option<Rescored>,
}

/// When and how a run directory was rescored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rescored {
    pub command_line: String,
    pub utc: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub path: String,
    pub sha256: String,
}

impl FileRef {
    pub fn of(path: &Path) -> Result<FileRef> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(FileRef::of_bytes(&path.display().to_string(), &bytes))
    }

    pub fn of_bytes(label: &str, bytes: &[u8]) -> FileRef {
        FileRef {
            path: label.to_string(),
            sha256: hex(&Sha256::digest(bytes)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    pub name: String,
    pub provider: ProviderKind,
    pub api: Api,
    /// Where requests go (no query string, no secret).
    pub endpoint: String,
    pub rps: Option<f64>,
    pub tpm: Option<u64>,
    pub concurrency: usize,
    pub timeout_s: f64,
    pub retries: u32,
    pub price_input_per_1k: Option<f64>,
    pub price_output_per_1k: Option<f64>,
    pub currency: Option<String>,
    pub params: serde_json::Map<String, serde_json::Value>,
    /// Names only: header values may be credentials.
    pub extra_header_names: Vec<String>,
}

impl ModelEntry {
    pub fn of(m: &ResolvedModel) -> ModelEntry {
        let c = &m.config;
        ModelEntry {
            name: m.name.clone(),
            provider: c.provider,
            api: c.api,
            endpoint: m.endpoint_display(),
            rps: c.rps,
            tpm: c.tpm,
            concurrency: c.concurrency,
            timeout_s: c.timeout_s,
            retries: c.retries,
            price_input_per_1k: c.price_input_per_1k,
            price_output_per_1k: c.price_output_per_1k,
            currency: c.currency.clone(),
            params: c.params.clone(),
            extra_header_names: c.extra_headers.keys().cloned().collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionEntry {
    pub id: String,
    pub name: String,
    pub scale: (i64, i64),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Simulated {
    pub time_scale: f64,
    pub note: String,
}

impl Manifest {
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(files::MANIFEST);
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        // Write-then-rename, so a kill never leaves a half manifest.
        let tmp = dir.join(format!("{}.tmp", files::MANIFEST));
        std::fs::write(&tmp, text).with_context(|| format!("could not write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("could not write {}", path.display()))
    }

    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(files::MANIFEST);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "{} is not a run directory (no {})",
                dir.display(),
                files::MANIFEST
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("{}: invalid manifest", path.display()))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Now, as RFC 3339 UTC to the second (e.g. `2026-11-22T10:04:05Z`).
pub fn utc_now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
