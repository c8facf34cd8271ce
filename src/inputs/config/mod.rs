//! `evalrun.toml` (SPEC §2): the run defaults and the model table. Unknown keys are rejected with their
//! line; environment variables are resolved — and a missing one reported — before any request is sent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::UsageError;
use crate::inputs::secret::{Redactor, Secret};

mod qianfan;

pub use qianfan::{
    qianfan_endpoint, qianfan_params_problem, QianfanEndpoint, QianfanModel, QIANFAN_MODELS,
};

/// Qianfan v1's public base URL (PROTOCOLS.md §1.1); `QIANFAN_BASE_URL` overrides it, as in Baidu's SDK.
pub const QIANFAN_DEFAULT_BASE_URL: &str = "https://aip.baidubce.com";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
/// The parsed configuration file.
pub struct Config {
    #[serde(default)]
    /// Defaults for `evalrun run`.
    pub run: RunDefaults,
    #[serde(default)]
    /// Configured models, by name.
    pub models: BTreeMap<String, ModelConfig>,
    /// Where the file was read from (relative paths in `[run]` are resolved against its folder).
    #[serde(skip)]
    pub path: PathBuf,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
/// The `[run]` table: defaults for `evalrun run`.
pub struct RunDefaults {
    /// Default eval-set path.
    pub evalset: Option<PathBuf>,
    /// Default rubric path.
    pub rubric: Option<PathBuf>,
    /// Default judge model name.
    pub judge: Option<String>,
    /// Default baseline model name.
    pub baseline: Option<String>,
    /// The flagship model every candidate is also compared with (STATS v2); must name a configured model.
    pub flagship: Option<String>,
    /// Dotted path into an item (e.g. `meta.dialogue`) whose value groups items into clusters for
    /// cluster-robust standard errors.
    pub cluster: Option<String>,
    /// Read and write the response cache (model answers and judge calls); off unless set.
    pub cache: Option<bool>,
    /// A model whose share of failed items is above this (0..1) blocks a release decision.
    pub max_error_rate: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
/// Which provider serves a model.
pub enum ProviderKind {
    /// Qianfan v1: API key + secret key → access token (PROTOCOLS.md §1).
    Qianfan,
    /// Any OpenAI-compatible server, Qianfan v2 included.
    Openai,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
/// Which API of the provider is called.
pub enum Api {
    /// `/chat/completions` with messages.
    #[default]
    Chat,
    /// Legacy `/completions`: prompt → completion, with `stop` (fine-tuned completion models).
    Completions,
}

/// One `[models.NAME]` table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Which provider serves this model.
    pub provider: ProviderKind,
    #[serde(default)]
    /// Which API of the provider is called.
    pub api: Api,
    /// Qianfan v1: the path segment after `…/wenxinworkshop/chat/` (known model names map to it).
    pub endpoint: Option<String>,
    /// Provider base URL, if configured.
    pub base_url: Option<String>,
    /// OpenAI-compatible: the `model` field of the request.
    pub model: Option<String>,
    /// Name of the environment variable holding the API key (never the key itself).
    pub api_key_env: Option<String>,
    /// Qianfan v1: name of the environment variable holding the secret key.
    pub secret_key_env: Option<String>,
    /// Requests per second (token bucket).
    pub rps: Option<f64>,
    /// Tokens per minute (prompt estimate + max output, corrected by usage).
    pub tpm: Option<u64>,
    /// Requests in flight for this model.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Whole request, from hand-off to the end of the answer.
    #[serde(default = "default_timeout_s")]
    pub timeout_s: f64,
    /// Establishing the connection (default: 10 s, at most `timeout_s`).
    pub connect_timeout_s: Option<f64>,
    /// Hand-off to the first content (default: `timeout_s`).
    pub first_token_timeout_s: Option<f64>,
    /// Longest silence between two reads of a started answer (default: 60 s, at most `timeout_s`).
    pub idle_timeout_s: Option<f64>,
    /// Retries after the first attempt (so at most `retries + 1` attempts).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Price per 1k prompt tokens.
    pub price_input_per_1k: Option<f64>,
    /// Price per 1k completion tokens.
    pub price_output_per_1k: Option<f64>,
    /// Currency of the prices.
    pub currency: Option<String>,
    /// Extra request-body parameters (`temperature`, `top_p`, `max_tokens`, `stop`, …), sent as given.
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
    /// Extra HTTP headers (e.g. Qianfan v2's `appid`).
    #[serde(default)]
    pub extra_headers: BTreeMap<String, String>,
    /// Largest answer kept, in bytes: reading stops there (default 1 MiB).
    #[serde(default = "default_max_answer_bytes")]
    pub max_answer_bytes: u64,
    /// As a judge: ask for replies constrained to the reply's JSON schema (OpenAI-compatible:
    /// `response_format` `json_schema`, strict; Qianfan v1: `response_format: "json_object"`, ERNIE
    /// 3.5/4.0 only). Off by default: not every server accepts it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub structured_replies: bool,
    /// The model family (e.g. "ERNIE" for an ERNIE-Speed fine-tune), for the same-family judge
    /// warning; unset, it is read off the model's name, model id and endpoint where they say it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
}

fn default_concurrency() -> usize {
    4
}
fn default_timeout_s() -> f64 {
    120.0
}
fn default_retries() -> u32 {
    5
}

/// 1 MiB: far above any answer a rubric scores, small enough that a runaway stream cannot exhaust memory.
pub const DEFAULT_MAX_ANSWER_BYTES: u64 = 1 << 20;

fn default_max_answer_bytes() -> u64 {
    DEFAULT_MAX_ANSWER_BYTES
}

/// A model ready to be called: its configuration plus resolved secrets and base URL.
#[derive(Debug, Clone)]
pub struct ResolvedModel {
    /// Model name.
    pub name: String,
    /// The model's configuration.
    pub config: ModelConfig,
    /// Resolved base URL.
    pub base_url: String,
    /// API key, if required.
    pub api_key: Option<Secret>,
    /// Secret key, if required.
    pub secret_key: Option<Secret>,
}

impl ResolvedModel {
    /// Largest answer kept for this model, in bytes (`max_answer_bytes`, default 1 MiB).
    pub fn max_answer_bytes(&self) -> u64 {
        self.config.max_answer_bytes
    }

    /// Where requests go, for display (`models`, manifest, report): never carries a secret.
    pub fn endpoint_display(&self) -> String {
        crate::inputs::secret::redact_url(&self.endpoint_display_raw())
    }

    fn endpoint_display_raw(&self) -> String {
        match self.config.provider {
            ProviderKind::Qianfan => format!(
                "{}/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{}",
                self.base_url.trim_end_matches('/'),
                self.config
                    .endpoint
                    .as_deref()
                    .map(|e| qianfan_endpoint(e).segment)
                    .unwrap_or_else(|| "?".into())
            ),
            ProviderKind::Openai => {
                let path = match self.config.api {
                    Api::Chat => "chat/completions",
                    Api::Completions => "completions",
                };
                format!(
                    "{}/{} (model {})",
                    self.base_url.trim_end_matches('/'),
                    path,
                    self.config.model.as_deref().unwrap_or("?")
                )
            }
        }
    }
}

impl Config {
    /// Read and validate `evalrun.toml`. Errors name the file, line and key.
    pub fn load(path: &Path) -> Result<Config, UsageError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            UsageError::in_file(
                path,
                format!(
                    "cannot read configuration: {e} (pass --config FILE, or create ./evalrun.toml)"
                ),
            )
        })?;
        Config::parse(path, &text)
    }

    /// Parse a configuration file's text; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, UsageError> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let mut msg = e.message().trim().to_string();
            if let Some(hint) = line.and_then(|l| dotted_name_hint(text, l)) {
                msg.push_str(&hint);
            }
            match line {
                Some(l) => UsageError::at(path, l, msg),
                None => UsageError::in_file(path, msg),
            }
        })?;
        cfg.path = path.to_path_buf();
        for (name, m) in &cfg.models {
            m.validate()
                .map_err(|msg| UsageError::in_file(path, format!("[models.{name}]: {msg}")))?;
        }
        cfg.validate_run(text)?;
        Ok(cfg)
    }

    /// `[run]` keys that refer to something else (a model) or have a range; errors name the key's line.
    fn validate_run(&self, text: &str) -> Result<(), UsageError> {
        let lines = RunLines::find(text);
        let at = |line: Option<usize>, msg: String| match line {
            Some(l) => UsageError::at(&self.path, l, msg),
            None => UsageError::in_file(&self.path, msg),
        };
        if let Some(name) = &self.run.flagship {
            if !self.models.contains_key(name) {
                let known: Vec<&str> = self.models.keys().map(String::as_str).collect();
                let known = if known.is_empty() {
                    "(none)".to_string()
                } else {
                    known.join(", ")
                };
                return Err(at(
                    lines.flagship,
                    format!("[run].flagship: unknown model `{name}`; configured models: {known}"),
                ));
            }
        }
        if let Some(path) = &self.run.cluster {
            if path.is_empty() || path.split('.').any(|part| part.trim().is_empty()) {
                return Err(at(
                    lines.cluster,
                    format!("[run].cluster = {path:?}: give a dotted path into an item, e.g. \"meta.dialogue\""),
                ));
            }
        }
        if let Some(rate) = self.run.max_error_rate {
            if !(0.0..=1.0).contains(&rate) {
                return Err(at(
                    lines.max_error_rate,
                    format!("[run].max_error_rate must be between 0 and 1, got {rate}"),
                ));
            }
        }
        Ok(())
    }

    /// The folder relative paths in `[run]` are resolved against.
    pub fn base_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// Look up a model by name, with an error listing the configured ones.
    pub fn model(&self, name: &str) -> Result<&ModelConfig, UsageError> {
        self.models.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.models.keys().map(String::as_str).collect();
            UsageError::in_file(
                &self.path,
                format!(
                    "unknown model `{name}`; configured models: {}",
                    if known.is_empty() {
                        "(none)".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            )
        })
    }

    /// Resolve the named models: environment variables read now, so a missing one is reported before
    /// any request is sent. Every secret read is added to `redactor`.
    pub fn resolve(
        &self,
        names: &[String],
        env: &dyn Fn(&str) -> Option<String>,
        redactor: &mut Redactor,
    ) -> Result<Vec<ResolvedModel>, UsageError> {
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let m = self.model(name)?;
            let read = |var: &Option<String>, what: &str| -> Result<Option<Secret>, UsageError> {
                let Some(var) = var else { return Ok(None) };
                match env(var) {
                    Some(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
                    _ => Err(UsageError::in_file(
                        &self.path,
                        format!(
                            "environment variable {var} is not set ({what} of model `{name}`); export it or change [models.{name}].{what}"
                        ),
                    )),
                }
            };
            let api_key = read(&m.api_key_env, "api_key_env")?;
            let secret_key = read(&m.secret_key_env, "secret_key_env")?;
            for s in api_key.iter().chain(secret_key.iter()) {
                redactor.add(s.expose());
            }
            let base_url = match (&m.base_url, m.provider) {
                (Some(u), _) => u.clone(),
                (None, ProviderKind::Qianfan) => env("QIANFAN_BASE_URL")
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| QIANFAN_DEFAULT_BASE_URL.to_string()),
                (None, ProviderKind::Openai) => {
                    unreachable!("validated: openai models have base_url")
                }
            };
            out.push(ResolvedModel {
                name: name.clone(),
                config: m.clone(),
                base_url,
                api_key,
                secret_key,
            });
        }
        Ok(out)
    }
}

/// Where some `[run]` keys sit in the file, for messages about their values (toml only gives spans
/// for its own errors).
#[derive(Default)]
struct RunLines {
    flagship: Option<usize>,
    cluster: Option<usize>,
    max_error_rate: Option<usize>,
}

impl RunLines {
    fn find(text: &str) -> RunLines {
        #[derive(Deserialize, Default)]
        struct File {
            #[serde(default)]
            run: Run,
        }
        #[derive(Deserialize, Default)]
        struct Run {
            flagship: Option<toml::Spanned<toml::Value>>,
            cluster: Option<toml::Spanned<toml::Value>>,
            max_error_rate: Option<toml::Spanned<toml::Value>>,
        }
        let Ok(file) = toml::from_str::<File>(text) else {
            return RunLines::default();
        };
        let line = |v: Option<toml::Spanned<toml::Value>>| {
            v.map(|v| text[..v.span().start.min(text.len())].matches('\n').count() + 1)
        };
        RunLines {
            flagship: line(file.run.flagship),
            cluster: line(file.run.cluster),
            max_error_rate: line(file.run.max_error_rate),
        }
    }
}

/// TOML splits bare keys on dots, so `[models.ernie-4.0]` means model `ernie-4` with a sub-table `0`.
/// Spot that on the failing line (or the table header above it) and say how to write it.
fn dotted_name_hint(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let upto = line.min(lines.len());
    let header = lines[..upto]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('['))?;
    let name = header.strip_prefix("[models.")?.strip_suffix(']')?;
    if name.starts_with('"') || !name.contains('.') {
        return None;
    }
    Some(format!(
        " (TOML splits `{header}` at the dots: quote a model name that contains a dot, as [models.\"{name}\"])"
    ))
}

/// What makes a `[models.NAME]` table unusable (the caller prefixes `FILE: [models.NAME]: `).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelConfigError {
    /// An `openai` model without `base_url`.
    #[error("provider \"openai\" needs base_url (e.g. \"http://127.0.0.1:8000/v1\")")]
    OpenaiNeedsBaseUrl,
    /// An `openai` model without `model`.
    #[error("provider \"openai\" needs model (the `model` field sent to the server)")]
    OpenaiNeedsModel,
    /// `secret_key_env` given for an `openai` model.
    #[error("secret_key_env is for provider \"qianfan\" (v1); OpenAI-compatible servers take api_key_env only")]
    OpenaiSecretKey,
    /// A `qianfan` model without `endpoint`.
    #[error("provider \"qianfan\" needs endpoint (e.g. \"completions_pro\" for ERNIE-4.0, or your deployment's path segment)")]
    QianfanNeedsEndpoint,
    /// A `qianfan` model without both key variables.
    #[error("provider \"qianfan\" needs api_key_env and secret_key_env (names of the variables holding the API key and secret key, e.g. QIANFAN_AK / QIANFAN_SK)")]
    QianfanNeedsKeys,
    /// `api = "completions"` given for a `qianfan` model.
    #[error("api = \"completions\" is for OpenAI-compatible servers; Qianfan v1 is chat only")]
    QianfanCompletions,
    /// A Qianfan endpoint that is neither a known model nor a path segment.
    #[error("endpoint = {0:?}: give a model name (e.g. \"ERNIE-4.0-8K\") or the path segment after …/wenxinworkshop/chat/ (e.g. \"completions_pro\")")]
    BadEndpoint(String),
    /// A request parameter Qianfan v1 would refuse (see [`qianfan_params_problem`]).
    #[error("{0}")]
    QianfanParams(String),
    /// A timeout key that is not positive.
    #[error("{key} must be positive, got {value}")]
    Timeout {
        /// The configuration key.
        key: &'static str,
        /// The value given.
        value: f64,
    },
    /// `rps` that is not positive.
    #[error("rps must be a positive number, got {0}")]
    Rps(f64),
    /// `tpm` that is not positive.
    #[error("tpm must be positive")]
    Tpm,
    /// `max_answer_bytes` below 1.
    #[error("max_answer_bytes must be at least 1")]
    MaxAnswerBytes,
    /// `concurrency` below 1.
    #[error("concurrency must be at least 1")]
    Concurrency,
    /// `timeout_s` that is not positive.
    #[error("timeout_s must be positive, got {0}")]
    TimeoutS(f64),
    /// A negative price.
    #[error("{key} must be ≥ 0, got {value}")]
    Price {
        /// The configuration key.
        key: &'static str,
        /// The value given.
        value: f64,
    },
}

impl ModelConfig {
    fn validate(&self) -> Result<(), ModelConfigError> {
        use ModelConfigError as E;
        match self.provider {
            ProviderKind::Openai => {
                if self.base_url.is_none() {
                    return Err(E::OpenaiNeedsBaseUrl);
                }
                if self.model.is_none() {
                    return Err(E::OpenaiNeedsModel);
                }
                if self.secret_key_env.is_some() {
                    return Err(E::OpenaiSecretKey);
                }
            }
            ProviderKind::Qianfan => {
                if self.endpoint.is_none() {
                    return Err(E::QianfanNeedsEndpoint);
                }
                if self.api_key_env.is_none() || self.secret_key_env.is_none() {
                    return Err(E::QianfanNeedsKeys);
                }
                if self.api == Api::Completions {
                    return Err(E::QianfanCompletions);
                }
                let endpoint = self.endpoint.as_deref().unwrap_or_default();
                if endpoint.trim().is_empty() || endpoint.contains(['/', '?', '#', ' ']) {
                    return Err(E::BadEndpoint(endpoint.to_string()));
                }
                qianfan_params_problem(&self.params, qianfan_endpoint(endpoint).known)
                    .map_err(E::QianfanParams)?;
            }
        }
        for (key, v) in [
            ("connect_timeout_s", self.connect_timeout_s),
            ("first_token_timeout_s", self.first_token_timeout_s),
            ("idle_timeout_s", self.idle_timeout_s),
        ] {
            if let Some(value) = v {
                if !(value.is_finite() && value > 0.0) {
                    return Err(E::Timeout { key, value });
                }
            }
        }
        if let Some(rps) = self.rps {
            if !(rps.is_finite() && rps > 0.0) {
                return Err(E::Rps(rps));
            }
        }
        if self.tpm == Some(0) {
            return Err(E::Tpm);
        }
        if self.max_answer_bytes == 0 {
            return Err(E::MaxAnswerBytes);
        }
        if self.concurrency == 0 {
            return Err(E::Concurrency);
        }
        if !(self.timeout_s.is_finite() && self.timeout_s > 0.0) {
            return Err(E::TimeoutS(self.timeout_s));
        }
        for (key, p) in [
            ("price_input_per_1k", self.price_input_per_1k),
            ("price_output_per_1k", self.price_output_per_1k),
        ] {
            if let Some(value) = p {
                if !(value.is_finite() && value >= 0.0) {
                    return Err(E::Price { key, value });
                }
            }
        }
        Ok(())
    }

    /// `max_tokens` / `max_output_tokens` from params, if set (used to estimate token-bucket charges).
    pub fn max_output_tokens(&self) -> Option<u64> {
        ["max_tokens", "max_output_tokens", "max_completion_tokens"]
            .iter()
            .find_map(|k| self.params.get(*k).and_then(|v| v.as_u64()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[run]
evalset = "evalsets/oral_english.jsonl"
judge = "ernie-4.0"

[models."ernie-4.0"]
provider = "qianfan"
endpoint = "completions_pro"
api_key_env = "QIANFAN_AK"
secret_key_env = "QIANFAN_SK"
rps = 1.0
price_input_per_1k = 0.12
price_output_per_1k = 0.12
params = { temperature = 0.8, top_p = 0.8 }

[models.my-vllm]
provider = "openai"
base_url = "http://127.0.0.1:8000/v1"
model = "speed-sft"
extra_headers = { appid = "app-123" }
params = { stop = ["。"], max_tokens = 512 }
"#;

    #[test]
    fn parses_the_spec_example() {
        let c = Config::parse(Path::new("evalrun.toml"), GOOD).unwrap();
        assert_eq!(c.models.len(), 2);
        let v = &c.models["my-vllm"];
        assert_eq!(v.max_output_tokens(), Some(512));
        assert_eq!(v.concurrency, 4);
        assert_eq!(c.run.judge.as_deref(), Some("ernie-4.0"));
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let text = GOOD.replace("rps = 1.0", "rpz = 1.0");
        let err = Config::parse(Path::new("evalrun.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("evalrun.toml:11:"), "{err}");
        assert!(err.contains("rpz"), "{err}");
    }

    #[test]
    fn unquoted_dotted_model_name_gets_a_hint() {
        let text = GOOD.replace("[models.\"ernie-4.0\"]", "[models.ernie-4.0]");
        let err = Config::parse(Path::new("evalrun.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("[models.\"ernie-4.0\"]"), "{err}");
    }

    #[test]
    fn missing_env_var_is_named() {
        let c = Config::parse(Path::new("evalrun.toml"), GOOD).unwrap();
        let mut r = Redactor::default();
        let env = |k: &str| (k == "QIANFAN_AK").then(|| "ak-value".to_string());
        let err = c
            .resolve(&["ernie-4.0".into()], &env, &mut r)
            .unwrap_err()
            .to_string();
        assert!(err.contains("QIANFAN_SK"), "{err}");
        assert!(!err.contains("ak-value"), "{err}");
    }

    #[test]
    fn qianfan_base_url_env_overrides_default_only() {
        let c = Config::parse(Path::new("evalrun.toml"), GOOD).unwrap();
        let mut r = Redactor::default();
        let env = |k: &str| match k {
            "QIANFAN_AK" | "QIANFAN_SK" => Some("secret-value".to_string()),
            "QIANFAN_BASE_URL" => Some("http://127.0.0.1:9".to_string()),
            _ => None,
        };
        let m = c.resolve(&["ernie-4.0".into()], &env, &mut r).unwrap();
        assert_eq!(m[0].base_url, "http://127.0.0.1:9");
        assert_eq!(r.scrub("x secret-value y"), "x *** y");
    }

    #[test]
    fn unknown_model_lists_configured_ones() {
        let c = Config::parse(Path::new("evalrun.toml"), GOOD).unwrap();
        let err = c.model("gpt-9").unwrap_err().to_string();
        assert!(
            err.contains("unknown model `gpt-9`") && err.contains("ernie-4.0, my-vllm"),
            "{err}"
        );
    }

    #[test]
    fn openai_model_without_base_url_is_rejected() {
        let text = "[models.x]\nprovider = \"openai\"\nmodel = \"m\"\n";
        let err = Config::parse(Path::new("c.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[models.x]") && err.contains("base_url"),
            "{err}"
        );
    }

    #[test]
    fn qianfan_names_map_to_segments_case_insensitively() {
        assert_eq!(qianfan_endpoint("ERNIE-4.0-8K").segment, "completions_pro");
        assert_eq!(qianfan_endpoint("ernie-bot-4").segment, "completions_pro");
        assert_eq!(qianfan_endpoint("ERNIE-Speed").segment, "ernie_speed");
        assert_eq!(qianfan_endpoint("ERNIE-Lite-8K-0922").segment, "eb-instant");
        assert_eq!(
            qianfan_endpoint("ernie_speed").known.unwrap().segment,
            "ernie_speed"
        );
        let custom = qianfan_endpoint("rfthglwm_english0512");
        assert_eq!(
            (custom.segment.as_str(), custom.known),
            ("rfthglwm_english0512", None)
        );
    }

    fn qianfan_with(params: &str) -> Result<Config, String> {
        let text = format!(
            "[models.q]\nprovider = \"qianfan\"\nendpoint = \"ERNIE-4.0-8K\"\napi_key_env = \"A\"\nsecret_key_env = \"S\"\nparams = {{ {params} }}\n"
        );
        Config::parse(Path::new("c.toml"), &text).map_err(|e| e.to_string())
    }

    #[test]
    fn qianfan_params_are_checked_before_sending_naming_the_parameter() {
        assert!(qianfan_with("temperature = 1.0, top_p = 0, penalty_score = 2.0, max_output_tokens = 2048, stop = [\"。\"]").is_ok());
        for (params, needle) in [
            ("temperature = 0", "params.temperature = 0"),
            ("temperature = 1.5", "temperature in (0, 1.0]"),
            ("top_p = 1.1", "params.top_p"),
            ("penalty_score = 0.9", "params.penalty_score"),
            ("max_output_tokens = 1", "[2, 2048] for ERNIE-4.0-8K"),
            (
                "max_output_tokens = 4096",
                "params.max_output_tokens = 4096",
            ),
            ("max_tokens = 100", "max_output_tokens"),
            ("stop = [\"a\",\"b\",\"c\",\"d\",\"e\"]", "params.stop"),
            ("stream = false", "params.stream"),
        ] {
            let e = qianfan_with(params).unwrap_err();
            assert!(
                e.contains(needle) && e.contains("[models.q]"),
                "{params}: {e}"
            );
        }
    }

    #[test]
    fn timeouts_must_be_positive() {
        let text = "[models.x]\nprovider = \"openai\"\nbase_url = \"http://h/v1\"\nmodel = \"m\"\nidle_timeout_s = 0\n";
        let e = Config::parse(Path::new("c.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("idle_timeout_s"), "{e}");
    }

    fn parse_text(text: &str) -> Result<Config, String> {
        Config::parse(Path::new("evalrun.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn run_keys_default_to_unset_and_max_answer_bytes_to_one_mib() {
        let c = parse_text(GOOD).unwrap();
        assert_eq!(c.run.flagship, None);
        assert_eq!(c.run.cluster, None);
        assert_eq!(c.run.cache, None);
        assert_eq!(c.run.max_error_rate, None);
        assert_eq!(c.models["my-vllm"].max_answer_bytes, 1_048_576);
    }

    #[test]
    fn run_keys_are_read() {
        let text = GOOD.replace(
            "judge = \"ernie-4.0\"",
            "judge = \"ernie-4.0\"\nflagship = \"ernie-4.0\"\ncluster = \"meta.dialogue\"\ncache = true\nmax_error_rate = 0.05",
        );
        let c = parse_text(&text).unwrap();
        assert_eq!(c.run.flagship.as_deref(), Some("ernie-4.0"));
        assert_eq!(c.run.cluster.as_deref(), Some("meta.dialogue"));
        assert_eq!(c.run.cache, Some(true));
        assert_eq!(c.run.max_error_rate, Some(0.05));
    }

    #[test]
    fn run_keys_are_validated_naming_key_and_line() {
        let with = |extra: &str| {
            parse_text(&GOOD.replace(
                "judge = \"ernie-4.0\"",
                &format!("judge = \"ernie-4.0\"\n{extra}"),
            ))
            .unwrap_err()
        };
        // Line 5: after the blank first line, `[run]`, `evalset` and `judge`.
        assert_eq!(
            with("flagship = \"ernie-9\""),
            "evalrun.toml:5: [run].flagship: unknown model `ernie-9`; configured models: ernie-4.0, my-vllm"
        );
        assert_eq!(
            with("max_error_rate = 1.5"),
            "evalrun.toml:5: [run].max_error_rate must be between 0 and 1, got 1.5"
        );
        assert_eq!(
            with("max_error_rate = -0.1"),
            "evalrun.toml:5: [run].max_error_rate must be between 0 and 1, got -0.1"
        );
        assert_eq!(
            with("cluster = \"meta..x\""),
            "evalrun.toml:5: [run].cluster = \"meta..x\": give a dotted path into an item, e.g. \"meta.dialogue\""
        );
        let e = with("cache = \"yes\"");
        assert!(
            e.starts_with("evalrun.toml:5: invalid type: string \"yes\", expected a boolean"),
            "{e}"
        );
        let e = with("flagshipp = \"ernie-4.0\"");
        assert!(
            e.starts_with("evalrun.toml:5: unknown field `flagshipp`"),
            "{e}"
        );
    }

    #[test]
    fn max_answer_bytes_is_read_and_must_be_positive() {
        let c = parse_text(&GOOD.replace(
            "model = \"speed-sft\"",
            "model = \"speed-sft\"\nmax_answer_bytes = 4096",
        ))
        .unwrap();
        assert_eq!(c.models["my-vllm"].max_answer_bytes, 4096);
        let e = parse_text(&GOOD.replace(
            "model = \"speed-sft\"",
            "model = \"speed-sft\"\nmax_answer_bytes = 0",
        ))
        .unwrap_err();
        assert_eq!(
            e,
            "evalrun.toml: [models.my-vllm]: max_answer_bytes must be at least 1"
        );
    }
}
