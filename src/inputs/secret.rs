//! Secrets (API keys, secret keys, access tokens) in a type that cannot be printed by accident, and a
//! redactor that scrubs known secret values out of any text before it reaches a file, log or message.

use std::fmt;
use std::sync::{Arc, LazyLock, RwLock};

use regex::Regex;

/// A secret value. `Debug` and `Display` print `***`; only `expose()` gives the value, at the point
/// where it goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret's value, for the one place that sends it.
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
    /// Remember a configured secret (API key, secret key) and its base64 forms (values shorter than
    /// 4 characters are ignored: scrubbing them would mangle ordinary text and they are not real keys).
    pub fn add(&mut self, value: &str) {
        self.learn_with_base64(value);
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

    /// Remember a secret and the base64 forms a server may echo (`Authorization: Basic …`, or a
    /// header dump): with and without padding.
    fn learn_with_base64(&self, value: &str) {
        self.learn(value);
        if value.len() >= 4 {
            let b64 = base64(value.as_bytes());
            self.learn(b64.trim_end_matches('='));
            self.learn(&b64);
        }
    }

    /// Remember the user-info of `url` (`user:password@`): the password, and the base64 of
    /// `user:password` that reqwest sends as `Authorization: Basic`.
    pub fn learn_url_userinfo(&self, url: &str) {
        let Some((user, password)) = userinfo(url) else {
            return;
        };
        let user = percent_decode(user);
        match password {
            Some(pw) => {
                let pw = percent_decode(pw);
                self.learn_with_base64(&pw);
                self.learn_with_base64(&format!("{user}:{pw}"));
            }
            // A lone user name in a URL is a token (`https://TOKEN@host`).
            None => self.learn_with_base64(&user),
        }
    }

    fn scrub_values(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in self.read().iter() {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "***");
            }
        }
        out
    }

    /// Scrub a message that quotes a server or a transport error: known values (and their base64
    /// forms), secret-bearing URL parameters, `Authorization` header values, `Bearer`/`Basic`
    /// credentials and URL user-info, even when the value itself is not known.
    pub fn scrub(&self, text: &str) -> String {
        let out = self.scrub_values(text);
        let out = scrub_params(&out);
        let out = AUTH_HEADER.replace_all(&out, "${1}***");
        let out = AUTH_SCHEME.replace_all(&out, "${1} ***");
        redact_urls_in(&out)
    }

    /// Scrub an answer's text (also a partial one): known values and their base64 forms, and values
    /// of `Authorization` headers. The looser patterns of `scrub` (a bare `Basic word`) are not
    /// applied, because they would mangle ordinary prose about authentication.
    pub fn scrub_answer(&self, text: &str) -> String {
        let out = self.scrub_values(text);
        if out.to_ascii_lowercase().contains("authorization") {
            AUTH_HEADER.replace_all(&out, "${1}***").into_owned()
        } else {
            out
        }
    }
}

/// `Authorization: Bearer x`, `"authorization": "Basic x"`, `authorization=x`: the value after the
/// scheme word.
static AUTH_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(authorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token)\s+)?)[^"'\s,;}\]]+"#,
    )
    .expect("valid regex")
});

/// `Bearer x` / `Basic x` anywhere (an echoed header without its name).
static AUTH_SCHEME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}").expect("valid regex")
});

/// `scheme://user:password@` or `scheme://token@` in free text.
static URL_USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([A-Za-z][A-Za-z0-9+.-]*://)([^/?#\s@:"'<>]*)(:[^/?#\s@"'<>]*)?@"#)
        .expect("valid regex")
});

fn redact_urls_in(text: &str) -> String {
    URL_USERINFO
        .replace_all(text, |c: &regex::Captures<'_>| match c.get(3) {
            Some(_) => format!("{}{}:***@", &c[1], &c[2]),
            None => format!("{}***@", &c[1]),
        })
        .into_owned()
}

/// A URL fit to show or record: its user-info password (or lone user-name token) replaced by `***`
/// (`http://bob:***@host/v1`). Everything else is kept.
pub fn redact_url(url: &str) -> String {
    match userinfo(url) {
        Some(_) => redact_urls_in(url),
        None => url.to_string(),
    }
}

/// The user-info of a URL's authority: (user, password if any).
fn userinfo(url: &str) -> Option<(&str, Option<&str>)> {
    let (_, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (info, _) = authority.rsplit_once('@')?;
    Some(match info.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (info, None),
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard base64 with padding (RFC 4648 §4), as HTTP Basic credentials are written.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Replace the values of secret-bearing parameters (`access_token=…`, `client_secret=…`), even when
/// the value itself is not known (e.g. a token minted by the server).
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
    fn base64_matches_rfc_4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), enc);
        }
    }

    #[test]
    fn url_userinfo_is_redacted_for_display_and_in_text() {
        assert_eq!(
            redact_url("http://bob:PASSWORD@h:8/v1"),
            "http://bob:***@h:8/v1"
        );
        assert_eq!(redact_url("https://TOKEN@h/v1"), "https://***@h/v1");
        assert_eq!(redact_url("https://h/v1?x=a@b"), "https://h/v1?x=a@b");
        let r = Redactor::default();
        assert_eq!(
            r.scrub("error for url (http://bob:pw@h/v1/chat)"),
            "error for url (http://bob:***@h/v1/chat)"
        );
    }

    #[test]
    fn echoed_authorization_headers_and_base64_forms_are_scrubbed() {
        let mut r = Redactor::default();
        r.add("sk-live-123456");
        r.learn_url_userinfo("http://bob:PASS%40WORD@h/v1");
        // base64("bob:PASS@WORD") and base64("sk-live-123456")
        let basic = base64(b"bob:PASS@WORD");
        let key64 = base64(b"sk-live-123456");
        let body = format!(
            "{{\"headers\": {{\"authorization\": \"Basic {basic}\"}}, \"seen\": \"{key64}\", \"raw\": \"PASS@WORD\"}}"
        );
        let s = r.scrub(&body);
        assert!(
            !s.contains(&basic) && !s.contains(&key64) && !s.contains("PASS@WORD"),
            "{s}"
        );
        let s = r.scrub(
            "echo: Authorization: Basic dXNlcjpzZWNyZXQ= and bearer-less Bearer abc.def-ghi",
        );
        assert_eq!(
            s,
            "echo: Authorization: Basic *** and bearer-less Bearer ***"
        );
        // An answer keeps prose about authentication; only header values and known values go.
        let s =
            r.scrub_answer("Basic authentication sends sk-live-123456. Authorization: Bearer xyz1");
        assert_eq!(
            s,
            "Basic authentication sends ***. Authorization: Bearer ***"
        );
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
