//! Record lines as the summary reads them: the fields and types of `ResponseRecord` and `ScoreRecord`
//! (so a line that breaks the record's shape is the same error), but strings borrowed from the line and
//! texts the summary does not use (answers, rule details, justifications) checked and dropped, never
//! copied.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::de::{Deserializer, Visitor};
use serde::Deserialize;

use crate::records::{ErrorKind, ResponseRecord, ScoreRecord, ScoreSource};

use super::ingest::{ResponseFacts, ScoreFacts};

/// A JSON string that is checked and dropped.
struct Text;

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, _: &str) -> Result<Text, E> {
                Ok(Text)
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Deserialize)]
struct ErrorLine {
    kind: ErrorKind,
    #[serde(rename = "message")]
    _message: Text,
    #[serde(rename = "status")]
    _status: Option<u16>,
    #[serde(rename = "code")]
    _code: Option<Text>,
}

/// A `responses.jsonl` line ([`ResponseRecord`]'s fields, in its order).
#[derive(Deserialize)]
pub struct ResponseLine<'a> {
    /// `model`.
    #[serde(borrow)]
    pub model: Cow<'a, str>,
    /// `item_id`.
    #[serde(borrow)]
    pub item_id: Cow<'a, str>,
    /// `sample`.
    pub sample: u32,
    #[serde(rename = "output")]
    _output: Option<Text>,
    ttft_ms: Option<f64>,
    total_ms: Option<f64>,
    #[serde(rename = "queue_ms")]
    _queue_ms: Option<f64>,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    #[serde(rename = "finish_reason")]
    _finish_reason: Option<Text>,
    attempts: u32,
    error: Option<ErrorLine>,
    /// `cached`.
    pub cached: bool,
    /// `tokens_estimated`.
    #[serde(default)]
    pub tokens_estimated: bool,
    #[serde(default)]
    invalid_utf8: bool,
    /// `cached_utc`.
    #[serde(default, borrow)]
    pub cached_utc: Option<Cow<'a, str>>,
}

impl ResponseLine<'_> {
    pub(super) fn facts(&self) -> ResponseFacts {
        ResponseFacts {
            ttft_ms: self.ttft_ms,
            total_ms: self.total_ms,
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            error: self.error.as_ref().map(|e| e.kind),
            cached: self.cached,
            invalid_utf8: self.invalid_utf8,
            attempts: self.attempts,
        }
    }
}

#[derive(Deserialize)]
struct RuleLine {
    pass: bool,
    #[serde(rename = "detail")]
    _detail: Text,
}

/// A dimension of a `scores.jsonl` line.
#[derive(Deserialize)]
pub struct DimensionLine<'a> {
    /// `score`.
    pub score: Option<f64>,
    #[serde(rename = "source")]
    _source: ScoreSource,
    /// `justification`.
    #[serde(borrow)]
    pub justification: Option<Cow<'a, str>>,
    #[serde(default, rename = "rule_cap")]
    _rule_cap: Option<f64>,
}

/// A `scores.jsonl` line ([`ScoreRecord`]'s fields, in its order).
#[derive(Deserialize)]
pub struct ScoreLine<'a> {
    /// `model`.
    #[serde(borrow)]
    pub model: Cow<'a, str>,
    /// `item_id`.
    #[serde(borrow)]
    pub item_id: Cow<'a, str>,
    /// `sample`.
    pub sample: u32,
    #[serde(borrow)]
    rules: BTreeMap<Cow<'a, str>, RuleLine>,
    /// `dimensions`, by name.
    #[serde(borrow)]
    pub dimensions: BTreeMap<Cow<'a, str>, DimensionLine<'a>>,
    #[serde(default, borrow)]
    reference_metrics: Option<BTreeMap<Cow<'a, str>, f64>>,
    #[serde(rename = "judge_error")]
    _judge_error: Option<Text>,
    #[serde(default, borrow, rename = "judge_samples")]
    _judge_samples: Option<BTreeMap<Cow<'a, str>, Vec<f64>>>,
}

impl ScoreLine<'_> {
    pub(super) fn facts(&self) -> ScoreFacts<'_> {
        ScoreFacts {
            dimensions: (self.dimensions.iter())
                .map(|(d, v)| (&**d, v.score))
                .collect(),
            rules: self.rules.iter().map(|(r, o)| (&**r, o.pass)).collect(),
            reference: (self.reference_metrics.iter().flatten())
                .map(|(k, v)| (&**k, *v))
                .collect(),
        }
    }
}

/// The facts of a record in memory.
pub(super) fn response_facts(r: &ResponseRecord) -> ResponseFacts {
    ResponseFacts {
        ttft_ms: r.ttft_ms,
        total_ms: r.total_ms,
        prompt_tokens: r.prompt_tokens,
        completion_tokens: r.completion_tokens,
        error: r.error.as_ref().map(|e| e.kind),
        cached: r.cached,
        invalid_utf8: r.invalid_utf8,
        attempts: r.attempts,
    }
}

/// The facts of a record in memory.
pub(super) fn score_facts(s: &ScoreRecord) -> ScoreFacts<'_> {
    ScoreFacts {
        dimensions: (s.dimensions.iter())
            .map(|(d, v)| (d.as_str(), v.score))
            .collect(),
        rules: s.rules.iter().map(|(r, o)| (r.as_str(), o.pass)).collect(),
        reference: (s.reference_metrics.iter().flatten())
            .map(|(k, v)| (k.as_str(), *v))
            .collect(),
    }
}
