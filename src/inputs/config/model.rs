//! One `[models.NAME]` table: provider, API, limits, timeouts, prices, and what makes it unusable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{qianfan_endpoint, qianfan_params_problem};

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
    pub(super) fn validate(&self) -> Result<(), ModelConfigError> {
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
