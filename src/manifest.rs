//! `manifest.json` (SPEC §5): what a run was — tool version, command line, times, hashes of its inputs,
//! the models with their limits and prices (never a secret), and whether the endpoints were simulated.
//! `report`, `gate` and `--resume` read it; it is written before the first request and completed at
//! the end.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::inputs::config::{Api, ProviderKind, ResolvedModel};
use crate::inputs::rubric::Rubric;
use crate::records::files;

/// The contents of `manifest.json` (SPEC §5): what a run was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Name of the tool that wrote the manifest (`evalrun`).
    pub tool: String,
    /// Version of the tool that wrote the manifest.
    pub version: String,
    /// Identifier of this run.
    pub run_id: String,
    /// The command line that started the run (secrets never appear in it).
    pub command_line: String,
    /// UTC time the run started.
    pub started_utc: String,
    /// UTC time the run finished; `None` while it is running or if it was cut off.
    pub finished_utc: Option<String>,
    /// Path and SHA-256 of the config file.
    pub config: FileRef,
    /// Path and SHA-256 of the evalset file.
    pub evalset: FileRef,
    /// Path and SHA-256 of the rubric file.
    pub rubric: FileRef,
    /// Number of evalset items the run covers.
    pub items: usize,
    /// The answering models, with their limits and prices.
    pub models: Vec<ModelEntry>,
    /// Name of the baseline model, when one was chosen.
    pub baseline: Option<String>,
    /// Name of the judge model, when the run is judged.
    pub judge: Option<String>,
    /// The judge model's entry (provider, endpoint, limits, prices), so its cost can be reported apart
    /// from the answers'. Extension of SPEC §5; absent without a judge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_model: Option<ModelEntry>,
    /// Extension (judge panels, `--judge a,b,c`): the entries of the panel's other judges (b and
    /// c; `judge_model` is a's). `judge` then names them all, comma-separated. Absent for one judge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judge_panel: Vec<ModelEntry>,
    /// Answer samples requested per item and model.
    pub samples: u32,
    /// Judge samples requested per answer.
    pub judge_samples: u32,
    /// `--limit`: the cap on the number of items, when given.
    pub limit: Option<usize>,
    /// `--shard`: the shard this run covers (`k/n`), when given.
    pub shard: Option<String>,
    /// `--margin` when given: overrides every dimension's non-inferiority margin; `None` (or absent) =
    /// each dimension's own (`dimensions[].margin`, else 0.05 × its range). Runs before v2 recorded the
    /// old default 0.1 here, which re-derives as the override it was.
    #[serde(default)]
    pub margin: Option<f64>,
    /// `--flagship` / `[run].flagship`; absent: the strictly most expensive model (STATS §4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flagship: Option<String>,
    /// `--cluster` / `[run].cluster`: the dotted path into `items.jsonl` that groups items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// `--max-error-rate`: a model whose share of failed requests is above it cannot be recommended.
    #[serde(default = "default_max_error_rate")]
    pub max_error_rate: f64,
    /// `--max-cost` when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost: Option<f64>,
    /// When `--max-cost` stopped the run before every request was sent (the run is incomplete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost_reached_utc: Option<String>,
    /// `--cache` / `[run].cache`: answers could come from the response cache.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cache: bool,
    /// The rubric's dimensions, so reports can be rendered without the rubric file.
    pub dimensions: Vec<DimensionEntry>,
    /// Set when the endpoints were the built-in simulator.
    pub simulated: Option<Simulated>,
    /// When `--resume` continued this run (UTC, one entry per resume).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumed_utc: Vec<String>,
    /// Set when the last session of this run was interrupted (Ctrl-C) before every unit was done;
    /// cleared when a resume completes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted_utc: Option<String>,
    /// Set by `evalrun rescore`: the answers are this run's, the scores, pairs and judgements are from
    /// the rescore. Extension of SPEC §5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescored: Option<Rescored>,
}

/// When and how a run directory was rescored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rescored {
    /// The command line of the rescore.
    pub command_line: String,
    /// UTC time of the rescore.
    pub utc: String,
}

/// A file the run read, named by its path and content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// The file's path as given.
    pub path: String,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
}

impl FileRef {
    /// Reads the file at `path` and records its path and hash.
    pub fn of(path: &Path) -> Result<FileRef> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(FileRef::of_bytes(&path.display().to_string(), &bytes))
    }

    /// Records `bytes` under the name `label`, with their hash.
    pub fn of_bytes(label: &str, bytes: &[u8]) -> FileRef {
        FileRef {
            path: label.to_string(),
            sha256: hex(&Sha256::digest(bytes)),
        }
    }
}

/// One model's entry in the manifest: provider, endpoint, limits and prices (never a secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    /// The model's name from the config.
    pub name: String,
    /// Which provider serves the model.
    pub provider: ProviderKind,
    /// Which wire API the model is called with.
    pub api: Api,
    /// Where requests go (no query string, no secret).
    pub endpoint: String,
    /// Requests-per-second limit, when set.
    pub rps: Option<f64>,
    /// Tokens-per-minute limit, when set.
    pub tpm: Option<u64>,
    /// Maximum requests in flight at once.
    pub concurrency: usize,
    /// Per-request timeout in seconds.
    pub timeout_s: f64,
    /// Retries allowed per request.
    pub retries: u32,
    /// Price per 1000 input tokens, when configured.
    pub price_input_per_1k: Option<f64>,
    /// Price per 1000 output tokens, when configured.
    pub price_output_per_1k: Option<f64>,
    /// Currency of the prices, when configured.
    pub currency: Option<String>,
    /// Extra request parameters passed to the model.
    pub params: serde_json::Map<String, serde_json::Value>,
    /// Names only: header values may be credentials.
    pub extra_header_names: Vec<String>,
    /// As a judge, asked for replies constrained to a JSON schema (`structured_replies`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub structured_replies: bool,
    /// The configured model family (`family`), when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
}

impl ModelEntry {
    /// Builds the entry from a resolved config model, keeping only header names.
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
            structured_replies: c.structured_replies,
            family: c.family.clone(),
        }
    }

    /// The model's family: the configured `family`, else what its name, model id or endpoint says
    /// (ERNIE, GPT, Qwen, Llama, GLM, DeepSeek, Mistral, Gemini/Gemma, Claude, Baichuan); `None` when
    /// nothing does (a fine-tune's name rarely says what it was tuned from).
    pub fn family(&self) -> Option<String> {
        if let Some(f) = &self.family {
            return Some(f.clone());
        }
        const KNOWN: [(&[&str], &str); 10] = [
            (
                &["ernie", "completions_pro", "eb-instant", "eb_instant"],
                "ERNIE",
            ),
            (&["gpt-", "chatgpt"], "GPT"),
            (&["qwen"], "Qwen"),
            (&["llama"], "Llama"),
            (&["glm"], "GLM"),
            (&["deepseek"], "DeepSeek"),
            (&["mistral", "mixtral"], "Mistral"),
            (&["gemini", "gemma"], "Gemini/Gemma"),
            (&["claude"], "Claude"),
            (&["baichuan"], "Baichuan"),
        ];
        let text = format!("{} {}", self.name, self.endpoint).to_lowercase();
        KNOWN
            .iter()
            .find(|(marks, _)| marks.iter().any(|m| text.contains(m)))
            .map(|(_, family)| family.to_string())
    }
}

/// One rubric dimension as recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionEntry {
    /// The dimension's id.
    pub id: String,
    /// The dimension's display name.
    pub name: String,
    /// The dimension's score range `(min, max)`.
    pub scale: (i64, i64),
    /// The rubric's non-inferiority `margin` for this dimension, when it sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
}

/// `max_error_rate` of manifests written before it was recorded: SPEC §1's default.
pub fn default_max_error_rate() -> f64 {
    DEFAULT_MAX_ERROR_RATE
}

/// SPEC §1: `--max-error-rate` default.
pub const DEFAULT_MAX_ERROR_RATE: f64 = 0.02;

/// The rubric's dimensions as the manifest keeps them.
pub fn dimensions_of(rubric: &Rubric) -> Vec<DimensionEntry> {
    rubric
        .dimensions
        .iter()
        .map(|d| DimensionEntry {
            id: d.id.clone(),
            name: d.name.clone(),
            scale: d.scale,
            margin: d.margin,
        })
        .collect()
}

/// Present when the endpoints were simulated (`evalrun sim`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Simulated {
    /// The simulator's time scale factor.
    pub time_scale: f64,
    /// Human-readable note saying the run was simulated.
    pub note: String,
}

impl Manifest {
    /// Every judge's entry, in panel order: `judge_model`, then `judge_panel` (empty without a judge).
    pub fn judges(&self) -> Vec<&ModelEntry> {
        self.judge_model.iter().chain(&self.judge_panel).collect()
    }

    /// Writes `manifest.json` into `dir` atomically (write to a temp file, then rename).
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(files::MANIFEST);
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        // Write-then-rename, so a kill never leaves a half manifest.
        files::replace(&path, |out| Ok(out.write_all(text.as_bytes())?))
    }

    /// Reads and parses `manifest.json` from `dir`.
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

/// How two runs' manifests differ, in words a user can act on ("rubric: sha256 1a2b3c4d… → …").
/// `--resume` compares the stored manifest with the one the new command would write; `merge` compares
/// shards; `gate` compares baseline and candidate. Each check returns one line per difference.
impl Manifest {
    /// Eval set and rubric, by content.
    pub fn input_changes(&self, new: &Manifest) -> Vec<String> {
        let mut out = Vec::new();
        for (what, a, b) in [
            ("eval set", &self.evalset, &new.evalset),
            ("rubric", &self.rubric, &new.rubric),
        ] {
            if a.sha256 != b.sha256 {
                out.push(format!(
                    "{what}: sha256 {} ({}) → {} ({})",
                    short(&a.sha256),
                    a.path,
                    short(&b.sha256),
                    b.path
                ));
            }
        }
        out
    }

    /// The judge: its name and, when it is one of the run's models in both, its identity (provider,
    /// API, model or endpoint path, parameters). With `with_host` false the endpoint's scheme, host
    /// and port are left out, so the same judge served from another address is the same judge.
    pub fn judge_changes(&self, new: &Manifest, with_host: bool) -> Vec<String> {
        let name = |j: &Option<String>| j.clone().unwrap_or_else(|| "none".into());
        if self.judge != new.judge {
            return vec![format!(
                "judge: {} → {}",
                name(&self.judge),
                name(&new.judge)
            )];
        }
        let Some(judge) = &self.judge else {
            return Vec::new();
        };
        match (self.model(judge), new.model(judge)) {
            (Some(a), Some(b)) => a.identity_changes(b, with_host, &format!("judge {judge}")),
            _ => Vec::new(),
        }
    }

    /// The models: which are configured, and each one's identity (provider, API, endpoint, params).
    /// Limits and prices may differ (they change how fast and at what cost, not what is asked).
    pub fn model_changes(&self, new: &Manifest) -> Vec<String> {
        let mut out = Vec::new();
        let names =
            |m: &Manifest| -> Vec<String> { m.models.iter().map(|e| e.name.clone()).collect() };
        let (old_names, new_names) = (names(self), names(new));
        let added: Vec<&String> = new_names
            .iter()
            .filter(|n| !old_names.contains(n))
            .collect();
        let removed: Vec<&String> = old_names
            .iter()
            .filter(|n| !new_names.contains(n))
            .collect();
        if !added.is_empty() || !removed.is_empty() {
            let list = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
            let mut parts = Vec::new();
            if !added.is_empty() {
                parts.push(format!("added {}", list(&added)));
            }
            if !removed.is_empty() {
                parts.push(format!("removed {}", list(&removed)));
            }
            out.push(format!("models: {}", parts.join("; ")));
        }
        for a in &self.models {
            if let Some(b) = new.model(&a.name) {
                out.extend(a.identity_changes(b, true, &format!("model {}", a.name)));
            }
        }
        out
    }

    /// What decides the set of units: samples per item, judge samples, `--limit`, and (with
    /// `with_shard`) `--shard`.
    pub fn unit_changes(&self, new: &Manifest, with_shard: bool) -> Vec<String> {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "none".into());
        let mut out = Vec::new();
        if self.samples != new.samples {
            out.push(format!("--samples: {} → {}", self.samples, new.samples));
        }
        if self.judge_samples != new.judge_samples {
            out.push(format!(
                "--judge-samples: {} → {}",
                self.judge_samples, new.judge_samples
            ));
        }
        if self.limit != new.limit {
            out.push(format!(
                "--limit: {} → {}",
                opt(self.limit.map(|n| n.to_string())),
                opt(new.limit.map(|n| n.to_string()))
            ));
        }
        if with_shard && self.shard != new.shard {
            out.push(format!(
                "--shard: {} → {}",
                opt(self.shard.clone()),
                opt(new.shard.clone())
            ));
        }
        out
    }

    /// The entry of model `name`, if the run has it.
    pub fn model(&self, name: &str) -> Option<&ModelEntry> {
        self.models.iter().find(|e| e.name == name)
    }
}

impl ModelEntry {
    /// Differences in what is asked of the endpoint: provider, API, endpoint and request parameters,
    /// one line each, prefixed with `label`.
    pub fn identity_changes(&self, new: &ModelEntry, with_host: bool, label: &str) -> Vec<String> {
        let mut out = Vec::new();
        if self.provider != new.provider {
            out.push(format!(
                "{label}: provider {} → {}",
                word(self.provider),
                word(new.provider)
            ));
        }
        if self.api != new.api {
            out.push(format!(
                "{label}: api {} → {}",
                word(self.api),
                word(new.api)
            ));
        }
        let endpoint = |e: &str| {
            if with_host {
                e.to_string()
            } else {
                without_origin(e).to_string()
            }
        };
        if endpoint(&self.endpoint) != endpoint(&new.endpoint) {
            out.push(format!(
                "{label}: endpoint {} → {}",
                self.endpoint, new.endpoint
            ));
        }
        let keys: std::collections::BTreeSet<&String> =
            self.params.keys().chain(new.params.keys()).collect();
        for k in keys {
            let (a, b) = (self.params.get(k), new.params.get(k));
            if a != b {
                let show = |v: Option<&serde_json::Value>| {
                    v.map(|v| v.to_string()).unwrap_or_else(|| "(unset)".into())
                };
                out.push(format!("{label}: params.{k} {} → {}", show(a), show(b)));
            }
        }
        out
    }
}

/// `http://127.0.0.1:8000/v1/chat/completions (model x)` → `/v1/chat/completions (model x)`.
fn without_origin(endpoint: &str) -> &str {
    match endpoint.split_once("://") {
        Some((_, rest)) => rest.find('/').map(|i| &rest[i..]).unwrap_or(""),
        None => endpoint,
    }
}

/// A unit enum as its configuration word (`openai`, `chat`).
fn word<T: Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The first 12 hex digits of a hash: enough to tell files apart in a message.
fn short(sha: &str) -> String {
    let n = sha.len().min(12);
    format!("{}…", &sha[..n])
}

/// Formats bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Now, as RFC 3339 UTC to the second (e.g. `2026-11-22T10:04:05Z`).
pub fn utc_now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, endpoint: &str, family: Option<&str>) -> ModelEntry {
        ModelEntry {
            name: name.into(),
            provider: ProviderKind::Openai,
            api: Api::Chat,
            endpoint: endpoint.into(),
            rps: None,
            tpm: None,
            concurrency: 1,
            timeout_s: 1.0,
            retries: 0,
            price_input_per_1k: None,
            price_output_per_1k: None,
            currency: None,
            params: Default::default(),
            extra_header_names: Vec::new(),
            structured_replies: false,
            family: family.map(str::to_string),
        }
    }

    #[test]
    fn family_is_configured_or_read_off_the_name_and_endpoint() {
        let qianfan =
            "https://aip.baidubce.com/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions_pro";
        assert_eq!(
            entry("flagship", qianfan, None).family().as_deref(),
            Some("ERNIE")
        );
        assert_eq!(
            entry("ernie-speed", "http://h/x", None).family().as_deref(),
            Some("ERNIE")
        );
        let vllm = "http://h/v1/chat/completions (model Qwen2.5-7B-Instruct)";
        assert_eq!(entry("local", vllm, None).family().as_deref(), Some("Qwen"));
        // A fine-tune's name says nothing; its configured family does.
        assert_eq!(
            entry("sft-e6", "http://h/v1 (model sft-e6)", None).family(),
            None
        );
        assert_eq!(
            entry("sft-e6", "http://h/v1", Some("ERNIE"))
                .family()
                .as_deref(),
            Some("ERNIE")
        );
    }
}
