//! Secrets (API keys, secret keys, access tokens) in a type that cannot be printed by accident, and a
//! redactor that scrubs known secret values out of any text before it reaches a file, log or message.

use std::fmt;
use std::sync::{Arc, RwLock};

/// A secret value. `Debug` and `Display` print `***`; only `expose()` gives the value, at the point
/// where it goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Scrubs secret values and secret-bearing URL parameters out of text. Every error message that
/// includes text from outside evalrun (a server body, a transport error) goes through `scrub`.
///
/// Clones share one list of values, so a secret learned after the clone was made — an access token
/// minted mid-run — is scrubbed by every clone.
#[derive(Clone, Default)]
pub struct Redactor {
    values: Arc<RwLock<Vec<String>>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} values)", self.read().len())
    }
}

/// Query parameters and headers whose values are secrets wherever they appear.
const SECRET_PARAMS: [&str; 4] = ["access_token", "client_secret", "client_id", "api_key"];

impl Redactor {
    /// Remember a secret value (values shorter than 4 characters are ignored: scrubbing them would
    /// mangle ordinary text and they are not real keys).
    pub fn add(&mut self, value: &str) {
        self.learn(value);
    }

    /// `add` through a shared reference: for secrets that appear while requests are in flight
    /// (access tokens minted by the server). Every clone of this redactor learns it too.
    pub fn learn(&self, value: &str) {
        if value.len() < 4 || self.read().iter().any(|v| v == value) {
            return;
        }
        let mut values = self.values.write().unwrap_or_else(|e| e.into_inner());
        if !values.iter().any(|v| v == value) {
            values.push(value.to_string());
            // Longest first, so a value that contains another is replaced whole.
            values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<String>> {
        self.values.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in self.read().iter() {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "***");
            }
        }
        scrub_params(&out)
    }
}

/// Replace the values of secret-bearing parameters (`access_token=…`, `client_secret=…`) and bearer
/// tokens, even when the value itself is not known (e.g. a token minted by the server).
fn scrub_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for p in SECRET_PARAMS {
            let key = format!("{p}=");
            if let Some(stripped) = rest.strip_prefix(key.as_str()) {
                out.push_str(&key);
                out.push_str("***");
                let end = stripped
                    .find(|c: char| {
                        c == '&'
                            || c == ' '
                            || c == '"'
                            || c == '\''
                            || c == ')'
                            || c.is_whitespace()
                    })
                    .unwrap_or(stripped.len());
                rest = &stripped[end..];
                continue 'outer;
            }
        }
        if let Some(stripped) = rest.strip_prefix("Bearer ") {
            out.push_str("Bearer ***");
            let end = stripped
                .find(|c: char| c == '"' || c == '\'' || c.is_whitespace())
                .unwrap_or(stripped.len());
            rest = &stripped[end..];
            continue;
        }
        let ch = rest.chars().next().expect("non-empty");
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("sk-very-secret");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "sk-very-secret");
    }

    #[test]
    fn redactor_scrubs_known_values_and_url_parameters() {
        let mut r = Redactor::default();
        r.add("AK-123456");
        let msg = "error sending request for url (http://h/oauth/2.0/token?grant_type=client_credentials&client_id=AK-123456&client_secret=zzz): timeout";
        let s = r.scrub(msg);
        assert!(!s.contains("AK-123456"), "{s}");
        assert!(!s.contains("zzz"), "{s}");
        assert!(s.contains("client_secret=***"), "{s}");
        let s = r.scrub("chat?access_token=24.abcdef&x=1 Authorization: Bearer sk-live-1");
        assert_eq!(s, "chat?access_token=***&x=1 Authorization: Bearer ***");
    }

    #[test]
    fn clones_share_values_learned_later() {
        let r = Redactor::default();
        let clone = r.clone();
        r.learn("24.minted-token-value");
        assert_eq!(clone.scrub("t=24.minted-token-value"), "t=***");
    }

    #[test]
    fn redactor_leaves_ordinary_text_alone() {
        let r = Redactor::default();
        assert_eq!(
            r.scrub("你好 world, token counts 12"),
            "你好 world, token counts 12"
        );
    }
}
