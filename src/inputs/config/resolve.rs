//! Resolving configured models for a run: secrets read from the environment, base URLs filled in.

use crate::error::UsageError;
use crate::inputs::secret::{Redactor, Secret};

use super::{qianfan_endpoint, Api, Config, ModelConfig, ProviderKind, QIANFAN_DEFAULT_BASE_URL};

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
