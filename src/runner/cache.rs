//! The response cache: successful answers and judge replies, shared across runs, so that a repeated
//! run asks no endpoint for what it has already been paid to answer.
//!
//! **Key.** The SHA-256 of one canonical JSON document ([`Cache::key`]) holding everything that decides
//! what comes back: a format tag, the provider, the API (`chat`/`completions`), the base URL (without
//! any `user:password@`), the Qianfan endpoint segment or the OpenAI `model`, the request `params`
//! (object keys sorted, so reordering the TOML does not matter), the system text and every message,
//! and the [`Use`] of the call — an answer's sample index (so `--samples 3` still gets three
//! generations), or a judge call's sample, call and attempt. Credentials, extra headers, limits,
//! timeouts and prices are not part of it: they change neither the request's content nor the answer.
//!
//! **Layout.** `DIR/v1/ab/abcd….json`: one small JSON file per entry, in 256 folders named by the
//! key's first two hex digits. An entry holds the answer text, its `ttft_ms`/`total_ms`, the token
//! counts and the finish reason, plus its own key. Only answers without an error are stored. A file is
//! written to a temporary name in its folder and renamed into place, so a reader sees the whole entry
//! or none; writers racing on one key both write the same answer's entry, and the last rename wins.
//!
//! **Failure.** The cache never fails a run. An entry that cannot be read or parsed (or whose key does
//! not match its name) is ignored, the unit is asked again and the entry rewritten; a cache that cannot
//! be written is skipped. Each kind of trouble is reported once on stderr.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::inputs::config::{qianfan_endpoint, ProviderKind, ResolvedModel};
use crate::provider::{Attempt, Prompt, Usage};

/// The cache folder's name beside the configuration file, when `--cache-dir` is not given.
pub const DEFAULT_DIR: &str = ".evalrun-cache";

/// Bumped whenever the way a request is built changes what an old entry would mean.
const FORMAT: &str = "evalrun-cache/1";
const LAYOUT: &str = "v1";

/// What a call is for, beyond its prompt: part of the key, so identical prompts asked for different
/// purposes (another sample, another judge sample) are different entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Use {
    /// Generation `sample` (0-based) of an eval item.
    Answer {
        /// Generation sample (0-based).
        sample: u32,
    },
    /// A grading call: judge sample (1-based), the call within it (per-dimension mode), the attempt.
    Grade {
        /// Judge sample (1-based).
        sample: u32,
        /// The call within the sample (per-dimension mode).
        call: usize,
        /// Attempt number.
        attempt: u32,
    },
    /// A pairwise call: presentation order (1 or 2) and attempt.
    Pair {
        /// Presentation order (1 or 2).
        order: u32,
        /// Attempt number.
        attempt: u32,
    },
}

/// A cache key: 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(String);

impl Key {
    /// The key as 64 lowercase hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One stored answer: what a record needs to be rebuilt without asking again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The cache key the answer is stored under.
    pub key: String,
    /// The answer text.
    pub output: String,
    /// Milliseconds to the first token when it was recorded.
    pub ttft_ms: Option<f64>,
    /// Milliseconds to the end of the answer when it was recorded.
    pub total_ms: Option<f64>,
    /// Input tokens counted.
    pub prompt_tokens: Option<u64>,
    /// Output tokens counted.
    pub completion_tokens: Option<u64>,
    /// The server's finish reason.
    pub finish_reason: Option<String>,
    /// The token counts are evalrun's estimate (issue 14). Omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tokens_estimated: bool,
    /// When the answer was stored (UTC), so a report can say how old its cached answers are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_utc: Option<String>,
}

impl Entry {
    /// The entry for a successful attempt; `None` for a failed one (errors are never cached).
    pub fn of(key: &Key, a: &Attempt) -> Option<Entry> {
        if a.failure.is_some() {
            return None;
        }
        Some(Entry {
            key: key.0.clone(),
            output: a.output.clone(),
            ttft_ms: a.ttft_ms,
            total_ms: a.total_ms,
            prompt_tokens: a.usage.prompt_tokens,
            completion_tokens: a.usage.completion_tokens,
            finish_reason: a.finish_reason.clone(),
            tokens_estimated: a.tokens_estimated,
            recorded_utc: Some(crate::manifest::utc_now()),
        })
    }

    /// The attempt this entry stands for, with its original timing and usage.
    pub fn into_attempt(self) -> Attempt {
        Attempt {
            output: self.output,
            ttft_ms: self.ttft_ms,
            total_ms: self.total_ms,
            usage: Usage {
                prompt_tokens: self.prompt_tokens,
                completion_tokens: self.completion_tokens,
            },
            finish_reason: self.finish_reason,
            tokens_estimated: self.tokens_estimated,
            ..Attempt::default()
        }
    }
}

/// A cache folder, and whether it is read (`--no-cache` writes without reading).
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    reads: bool,
    warned_read: AtomicBool,
    warned_write: AtomicBool,
    temp_counter: AtomicU64,
}

impl Cache {
    /// A cache in `dir`; `reads = false` only writes.
    pub fn new(dir: PathBuf, reads: bool) -> Cache {
        Cache {
            dir,
            reads,
            warned_read: AtomicBool::new(false),
            warned_write: AtomicBool::new(false),
            temp_counter: AtomicU64::new(0),
        }
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether lookups are made (off with `--no-cache`).
    pub fn reads(&self) -> bool {
        self.reads
    }

    /// The key of `prompt` sent to `model` for `use_` (see the module docs for what it covers).
    pub fn key(model: &ResolvedModel, prompt: Prompt<'_>, use_: Use) -> Key {
        let c = &model.config;
        let endpoint = match c.provider {
            ProviderKind::Qianfan => c.endpoint.as_deref().map(|e| qianfan_endpoint(e).segment),
            ProviderKind::Openai => None,
        };
        let messages: Vec<Value> = prompt
            .messages
            .iter()
            .map(|m| json!([m.role.as_str(), m.content]))
            .collect();
        let mut doc = json!({
            "format": FORMAT,
            "provider": c.provider,
            "api": c.api,
            "base_url": without_userinfo(model.base_url.trim_end_matches('/')),
            "endpoint": endpoint,
            "model": c.model,
            "params": sorted(&Value::Object(c.params.clone())),
            "system": prompt.system,
            "messages": messages,
            "use": use_,
        });
        // Only when set, so that the keys of free-text requests stay what they were.
        if let Some(r) = prompt.reply_schema {
            doc["reply_schema"] = json!({"name": r.name, "schema": r.schema});
        }
        let bytes = serde_json::to_vec(&doc).expect("a JSON value serialises");
        let digest = Sha256::digest(&bytes);
        Key(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.dir
            .join(LAYOUT)
            .join(&key.0[..2])
            .join(format!("{}.json", key.0))
    }

    /// The stored answer for `key`, if reads are on and a whole, matching entry exists.
    pub fn get(&self, key: &Key) -> Option<Entry> {
        if !self.reads {
            return None;
        }
        let path = self.path(key);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                self.warn_read(&path, &e.to_string());
                return None;
            }
        };
        match serde_json::from_slice::<Entry>(&bytes) {
            Ok(entry) if entry.key == key.0 => Some(entry),
            Ok(_) => {
                self.warn_read(&path, "it belongs to another key");
                None
            }
            Err(e) => {
                self.warn_read(&path, &e.to_string());
                None
            }
        }
    }

    /// Store a successful attempt under `key` (a failed one is not stored). Never fails the caller.
    pub fn put(&self, key: &Key, attempt: &Attempt) {
        let Some(entry) = Entry::of(key, attempt) else {
            return;
        };
        if let Err(e) = self.write(key, &entry) {
            if !self.warned_write.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "evalrun: response cache: cannot write to {}: {e:#}; answers are not cached this run",
                    self.dir.display()
                );
            }
        }
    }

    fn write(&self, key: &Key, entry: &Entry) -> anyhow::Result<()> {
        let path = self.path(key);
        let folder = path.parent().expect("an entry has a folder");
        std::fs::create_dir_all(folder)?;
        let tmp = folder.join(format!(
            ".{}.{}.{}.tmp",
            key.0,
            std::process::id(),
            self.temp_counter.fetch_add(1, Ordering::Relaxed)
        ));
        let bytes = serde_json::to_vec(entry)?;
        if let Err(e) = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
        Ok(())
    }

    fn warn_read(&self, path: &Path, why: &str) {
        if !self.warned_read.swap(true, Ordering::Relaxed) {
            eprintln!(
                "evalrun: response cache: ignoring unreadable entry {} ({why}); it is asked again and \
                 rewritten (further such entries are ignored silently)",
                path.display()
            );
        }
    }
}

/// A copy of `v` whose objects have their keys in sorted order, at every depth.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// `scheme://user:pass@host/…` → `scheme://host/…`: credentials in a URL are no part of the key.
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::config::Config;
    use crate::inputs::evalset::{Message, Role};
    use crate::inputs::secret::Redactor;

    fn model(table: &str, key: &str) -> ResolvedModel {
        let cfg = Config::parse(Path::new("evalrun.toml"), table).unwrap();
        let env = |v: &str| (v == "KEY").then(|| key.to_string());
        cfg.resolve(&["m".to_string()], &env, &mut Redactor::default())
            .unwrap()
            .pop()
            .unwrap()
    }

    const OPENAI: &str = "[models.m]\nprovider = \"openai\"\nbase_url = \"http://h/v1\"\nmodel = \"x\"\napi_key_env = \"KEY\"\nparams = { temperature = 0.5, top_p = 0.9 }\n";

    fn key_of(m: &ResolvedModel, text: &str, use_: Use) -> Key {
        let messages = [Message {
            role: Role::User,
            content: text.into(),
        }];
        Cache::key(
            m,
            Prompt {
                system: None,
                messages: &messages,
                reply_schema: None,
            },
            use_,
        )
    }

    #[test]
    fn the_key_follows_the_request_and_the_endpoint_but_not_the_credentials() {
        let a = model(OPENAI, "secret-1");
        let base = key_of(&a, "hi", Use::Answer { sample: 0 });
        assert_eq!(base.as_str().len(), 64);
        // Another key, the params written in another order, a trailing slash: same entry.
        assert_eq!(
            key_of(&model(OPENAI, "secret-2"), "hi", Use::Answer { sample: 0 }),
            base
        );
        let reordered = OPENAI.replace(
            "temperature = 0.5, top_p = 0.9",
            "top_p = 0.9, temperature = 0.5",
        );
        assert_eq!(
            key_of(&model(&reordered, "k"), "hi", Use::Answer { sample: 0 }),
            base
        );
        let slash = OPENAI.replace("http://h/v1", "http://h/v1/");
        assert_eq!(
            key_of(&model(&slash, "k"), "hi", Use::Answer { sample: 0 }),
            base
        );
        // Anything that changes the request or its purpose: another entry.
        for other in [
            key_of(&a, "hi!", Use::Answer { sample: 0 }),
            key_of(&a, "hi", Use::Answer { sample: 1 }),
            key_of(
                &a,
                "hi",
                Use::Grade {
                    sample: 1,
                    call: 0,
                    attempt: 1,
                },
            ),
            key_of(
                &model(&OPENAI.replace("0.5", "0.7"), "k"),
                "hi",
                Use::Answer { sample: 0 },
            ),
            key_of(
                &model(&OPENAI.replace("model = \"x\"", "model = \"y\""), "k"),
                "hi",
                Use::Answer { sample: 0 },
            ),
            key_of(
                &model(&OPENAI.replace("http://h/v1", "http://g/v1"), "k"),
                "hi",
                Use::Answer { sample: 0 },
            ),
        ] {
            assert_ne!(other, base);
        }
    }

    #[test]
    fn userinfo_is_dropped_from_the_url() {
        assert_eq!(without_userinfo("https://u:p@h:8/v1"), "https://h:8/v1");
        assert_eq!(without_userinfo("https://h/v1?x=a@b"), "https://h/v1?x=a@b");
        assert_eq!(without_userinfo("h/v1"), "h/v1");
    }

    #[test]
    fn entries_round_trip_and_bad_ones_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf(), true);
        let m = model(OPENAI, "k");
        let key = key_of(&m, "hi", Use::Answer { sample: 0 });
        assert_eq!(cache.get(&key), None);
        let attempt = Attempt {
            output: "hello".into(),
            ttft_ms: Some(12.5),
            total_ms: Some(40.0),
            usage: Usage {
                prompt_tokens: Some(3),
                completion_tokens: Some(2),
            },
            finish_reason: Some("stop".into()),
            ..Attempt::default()
        };
        cache.put(&key, &attempt);
        let path = cache.path(&key);
        assert!(path.starts_with(dir.path().join("v1").join(&key.as_str()[..2])));
        let got = cache.get(&key).unwrap().into_attempt();
        assert_eq!(
            (got.output.as_str(), got.ttft_ms, got.total_ms),
            ("hello", Some(12.5), Some(40.0))
        );
        assert_eq!(got.usage.completion_tokens, Some(2));
        // No temporary file is left behind.
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );

        // Reads off (`--no-cache`): nothing is read, but writes go on.
        let writer = Cache::new(dir.path().to_path_buf(), false);
        assert_eq!(writer.get(&key), None);
        let key2 = key_of(&m, "hi", Use::Answer { sample: 1 });
        writer.put(&key2, &attempt);
        assert!(cache.get(&key2).is_some());

        // A failed attempt is not stored.
        let key3 = key_of(&m, "hi", Use::Answer { sample: 2 });
        let failed = Attempt {
            failure: Some(crate::provider::Failure::new(
                crate::records::ErrorKind::Server,
                crate::provider::RetryAdvice::Backoff,
                "boom",
            )),
            ..attempt.clone()
        };
        cache.put(&key3, &failed);
        assert_eq!(cache.get(&key3), None);

        // A torn entry, or one moved under another name, is ignored.
        std::fs::write(&path, b"{\"key\": \"").unwrap();
        assert_eq!(cache.get(&key), None);
        std::fs::copy(cache.path(&key2), &path).unwrap();
        assert_eq!(cache.get(&key), None);
        // … and rewritten by the next answer.
        cache.put(&key, &attempt);
        assert!(cache.get(&key).is_some());
    }
}
