//! Qianfan v1 access tokens (PROTOCOLS §1.1): one [`TokenSource`] per (API key, secret key, base URL)
//! in the process, fetched on first use, kept for `expires_in` minus a margin, refreshed single-flight
//! after a 110/111, every minted token taught to the redactor.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::with_query;
use crate::inputs::secret::{Redactor, Secret};
use crate::provider::{snippet, Failure, RetryAdvice};
use crate::records::ErrorKind;

/// The SDK waits 5 s for a token (`QIANFAN_AUTH_TIMEOUT`); evalrun allows a little more.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);

/// An access token and the generation it belongs to (each mint is a new generation).
#[derive(Clone)]
pub struct Token {
    /// The access token.
    pub value: Secret,
    /// Bumped each time the token is refreshed, so that concurrent refreshes happen once.
    pub generation: u64,
}

struct Minted {
    token: Token,
    refresh_at: Instant,
}

/// One (API key, secret key, base URL)'s access token, shared by every model that uses them.
pub struct TokenSource {
    token_url: String,
    ak: Secret,
    sk: Secret,
    slot: tokio::sync::Mutex<Option<Minted>>,
}

static GENERATION: AtomicU64 = AtomicU64::new(1);

type Registry = Mutex<HashMap<[u8; 32], Arc<TokenSource>>>;

fn registry() -> &'static Registry {
    static SOURCES: OnceLock<Registry> = OnceLock::new();
    SOURCES.get_or_init(Default::default)
}

impl TokenSource {
    /// The process-wide source for these keys at this base URL. The map is keyed by a hash, so the
    /// keys themselves are held only inside the source, as `Secret`s.
    pub fn shared(base_url: &str, ak: &Secret, sk: &Secret) -> Arc<TokenSource> {
        let base = base_url.trim_end_matches('/');
        let mut h = Sha256::new();
        for part in [ak.expose(), sk.expose(), base] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        let key: [u8; 32] = h.finalize().into();
        registry()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_insert_with(|| {
                Arc::new(TokenSource {
                    token_url: format!("{base}/oauth/2.0/token"),
                    ak: ak.clone(),
                    sk: sk.clone(),
                    slot: tokio::sync::Mutex::new(None),
                })
            })
            .clone()
    }

    /// A usable token. With `failed = Some(g)` (generation `g` was refused with 110/111), a token of
    /// a newer generation: fetched by the first caller that asks, handed to the others.
    pub async fn token(
        &self,
        http: &reqwest::Client,
        failed: Option<u64>,
        redactor: &Redactor,
    ) -> Result<Token, Failure> {
        let mut slot = self.slot.lock().await;
        if let Some(m) = slot.as_ref() {
            let refused = failed == Some(m.token.generation);
            if !refused && Instant::now() < m.refresh_at {
                redactor.learn(m.token.value.expose());
                return Ok(m.token.clone());
            }
        }
        let (value, expires_in) = self.fetch(http, redactor).await?;
        redactor.learn(value.expose());
        let token = Token {
            value,
            generation: GENERATION.fetch_add(1, Ordering::Relaxed),
        };
        // Refresh a little before the stated expiry (30 days on the real service).
        let margin = (expires_in / 10).min(Duration::from_secs(3600));
        *slot = Some(Minted {
            token: token.clone(),
            refresh_at: Instant::now() + expires_in.saturating_sub(margin),
        });
        Ok(token)
    }

    /// `POST /oauth/2.0/token?grant_type=client_credentials&client_id=AK&client_secret=SK`, empty body.
    async fn fetch(
        &self,
        http: &reqwest::Client,
        redactor: &Redactor,
    ) -> Result<(Secret, Duration), Failure> {
        let url = with_query(
            &self.token_url,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", self.ak.expose()),
                ("client_secret", self.sk.expose()),
            ],
        )?;
        let sent = http.post(url).timeout(AUTH_TIMEOUT).send().await;
        let transport = |e: reqwest::Error| {
            let kind = if e.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Network
            };
            Failure::new(
                kind,
                RetryAdvice::Backoff,
                format!(
                    "Qianfan access-token request failed: {}",
                    crate::provider::scrub_reqwest(&e, redactor)
                ),
            )
        };
        let response = sent.map_err(transport)?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(transport)?;
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if let Some(token) = v.get("access_token").and_then(Value::as_str) {
            if !token.is_empty() {
                let secs = v
                    .get("expires_in")
                    .and_then(Value::as_u64)
                    .unwrap_or(2_592_000);
                return Ok((Secret::new(token), Duration::from_secs(secs)));
            }
        }
        let mut f = match v.get("error").and_then(Value::as_str) {
            Some(error) => {
                let description = v
                    .get("error_description")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                // The SDK maps exactly these two descriptions (PROTOCOLS §1.1).
                let which = match description {
                    "unknown client id" => ": the API key (api_key_env) is wrong",
                    "Client authentication failed" => ": the secret key (secret_key_env) is wrong",
                    _ => "",
                };
                let mut f = Failure::new(
                    ErrorKind::Auth,
                    RetryAdvice::Never,
                    redactor.scrub(&format!(
                        "Qianfan refused the access-token request: {error} ({description}){which}"
                    )),
                );
                f.code = Some(error.to_string());
                f
            }
            None => {
                let (kind, advice) = match status {
                    500..=599 | 429 => (ErrorKind::Server, RetryAdvice::Backoff),
                    401 | 403 => (ErrorKind::Auth, RetryAdvice::Never),
                    _ => (ErrorKind::Protocol, RetryAdvice::Backoff),
                };
                Failure::new(
                    kind,
                    advice,
                    redactor.scrub(&format!(
                        "unexpected answer to the Qianfan access-token request: HTTP {status}: {}",
                        snippet(&text, 200)
                    )),
                )
            }
        };
        f.status = Some(status);
        Err(f)
    }
}
