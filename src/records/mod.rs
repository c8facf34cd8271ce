//! The run's truth: one type per JSONL record file of SPEC §5.
//!
//! The runner writes these; `stats`, `report`, `gate` and `merge` only read them. Field names are the
//! external contract (SPEC §5) — add fields, never rename one.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::inputs::evalset::{Item, Message};

/// Why a request produced no (complete) answer. Serialised in snake_case, as SPEC §5 names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// HTTP 429 or an equivalent provider throttle.
    RateLimited,
    /// HTTP 5xx from the provider.
    Server,
    /// The request exceeded its time limit.
    Timeout,
    /// The provider rejected the credentials (401/403).
    Auth,
    /// The provider rejected the request as malformed (4xx other than auth/throttle).
    BadRequest,
    /// The reply broke the wire protocol (bad JSON, bad SSE).
    Protocol,
    /// Connection-level failure before a reply arrived.
    Network,
    /// The stream ended before the answer was complete.
    Truncated,
    /// The answer passed the model's `max_answer_bytes`; reading stopped there (extension of SPEC §5).
    TooLarge,
}

impl ErrorKind {
    /// The snake_case name written in the records.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Server => "server",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Auth => "auth",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Network => "network",
            ErrorKind::Truncated => "truncated",
            ErrorKind::TooLarge => "too_large",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `error` object of a response record. `message` never carries a secret (see `provider::redact`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// Category of the failure.
    pub kind: ErrorKind,
    /// Human-readable error text (never contains secrets).
    pub message: String,
    /// HTTP status, when an HTTP answer arrived.
    pub status: Option<u16>,
    /// Provider error code (Qianfan `error_code`, OpenAI `error.code`), as a string.
    pub code: Option<String>,
}

/// One line of `responses.jsonl`: one (model, item, sample) answer, or the error that replaced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseRecord {
    /// Model name as configured.
    pub model: String,
    /// Id of the eval-set item.
    pub item_id: String,
    /// 0-based sample index for this (model, item).
    pub sample: u32,
    /// Text received — also on error (the part that arrived); null if nothing arrived.
    pub output: Option<String>,
    /// Hand-off to the network → first non-empty content fragment, of the attempt that produced this.
    pub ttft_ms: Option<f64>,
    /// Hand-off to the network → end of the stream.
    pub total_ms: Option<f64>,
    /// Time spent waiting on concurrency and rate limits before the final attempt was sent.
    pub queue_ms: Option<f64>,
    /// Prompt tokens reported by the provider, if any.
    pub prompt_tokens: Option<u64>,
    /// Completion tokens reported by the provider, if any.
    pub completion_tokens: Option<u64>,
    /// Provider's finish reason (e.g. `stop`, `length`), if any.
    pub finish_reason: Option<String>,
    /// Number of requests made, retries included.
    pub attempts: u32,
    /// The error that replaced the answer, if the request failed.
    pub error: Option<ErrorInfo>,
    /// True if the answer came from the response cache.
    pub cached: bool,
    /// Extension of SPEC §5: the server reported no token counts, so `prompt_tokens` and
    /// `completion_tokens` are evalrun's estimate (the one the limits use). Omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tokens_estimated: bool,
    /// Extension of SPEC §5: the answer's bytes were not valid UTF-8; `output` holds them decoded
    /// with U+FFFD in place of each invalid sequence. Omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub invalid_utf8: bool,
    /// Extension of SPEC §5: for a `cached` answer, when the cache first recorded it (UTC), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_utc: Option<String>,
}

/// Outcome of one rule check on one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleOutcome {
    /// Whether the rule passed.
    pub pass: bool,
    /// Why the rule passed or failed.
    pub detail: String,
}

/// Where a dimension score came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScoreSource {
    #[serde(rename = "rules")]
    /// Scored by deterministic rules only.
    Rules,
    #[serde(rename = "judge")]
    /// Scored by the LLM judge only.
    Judge,
    #[serde(rename = "rules+judge")]
    /// Both rules and the judge shaped the score (`rules+judge`).
    RulesAndJudge,
}

/// One dimension's score for one answer. `score` is null when it could not be decided (no judge, judge error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    /// The dimension's score, or None if it could not be scored.
    pub score: Option<f64>,
    /// Where the score came from.
    pub source: ScoreSource,
    /// The judge's justification, if a judge scored it.
    pub justification: Option<String>,
    /// The highest score the rule outcomes allow (extension of SPEC §5), when a rule bounds this dimension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_cap: Option<f64>,
}

/// One line of `scores.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRecord {
    /// Model name as configured.
    pub model: String,
    /// Id of the eval-set item.
    pub item_id: String,
    /// 0-based sample index.
    pub sample: u32,
    /// Outcome of each rule, by rule name.
    pub rules: BTreeMap<String, RuleOutcome>,
    /// Score of each rubric dimension, by dimension name.
    pub dimensions: BTreeMap<String, DimensionScore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Reference-based metrics (by metric name), if the item has a reference.
    pub reference_metrics: Option<BTreeMap<String, f64>>,
    /// Why judging failed for this unit, if it did.
    pub judge_error: Option<String>,
    /// Extension of SPEC §5: per judged dimension, the valid score of each judge sample in sample order
    /// (`--judge-samples`); the dimension's judge score is their median. Absent without a judge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_samples: Option<BTreeMap<String, Vec<f64>>>,
    /// Extension (judge panels, `--judge a,b,c`): each judge's own grades, by judge name; absent for
    /// one judge. `dimensions` then hold the panel's scores and `judge_samples` one value per
    /// dimension, the median of the judges' scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panel: Option<BTreeMap<String, PanelGrade>>,
}

/// Extension (judge panels): what one judge of the panel said about one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanelGrade {
    /// Per judged dimension, the judge's valid sample scores in sample order (its score is their
    /// median, before rule caps).
    pub judge_samples: BTreeMap<String, Vec<f64>>,
    /// Dimensions the judge said do not apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_applicable: Vec<String>,
    /// Why this judge gave no usable score for some asked dimension, if it did not.
    pub judge_error: Option<String>,
}

/// GSB verdict from the candidate's side: Good (candidate better), Same, Bad (candidate worse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PairVerdict {
    /// Good: the candidate is better.
    G,
    /// Same: neither is better.
    S,
    /// Bad: the candidate is worse.
    B,
}

impl PairVerdict {
    /// The MT-Bench conservative rule (STATS.md §1.6): G only if the candidate wins in both
    /// presentation orders, B only if it loses in both, otherwise S.
    pub fn combine(first: PairVerdict, second: PairVerdict) -> PairVerdict {
        match (first, second) {
            (PairVerdict::G, PairVerdict::G) => PairVerdict::G,
            (PairVerdict::B, PairVerdict::B) => PairVerdict::B,
            _ => PairVerdict::S,
        }
    }

    /// A judge panel's verdict: the verdict more judges gave than any other; S when the most
    /// frequent verdict is shared (G, B → S; G, S → S; G, G, B → G; G, S, B → S). `None` when empty.
    pub fn majority(verdicts: &[PairVerdict]) -> Option<PairVerdict> {
        let count = |v: PairVerdict| verdicts.iter().filter(|x| **x == v).count();
        let (g, s, b) = (
            count(PairVerdict::G),
            count(PairVerdict::S),
            count(PairVerdict::B),
        );
        if verdicts.is_empty() {
            None
        } else if g > s && g > b {
            Some(PairVerdict::G)
        } else if b > g && b > s {
            Some(PairVerdict::B)
        } else {
            Some(PairVerdict::S)
        }
    }
}

/// One line of `pairwise.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairRecord {
    /// Id of the eval-set item.
    pub item_id: String,
    /// The model being compared.
    pub candidate: String,
    /// The model it is compared against.
    pub baseline: String,
    /// Combined verdict over both presentation orders (STATS §1.6).
    pub verdict: PairVerdict,
    /// Raw verdict of the first presentation order, from the candidate's side.
    pub first_order: Option<PairVerdict>,
    /// Raw verdict of the second presentation order, from the candidate's side.
    pub second_order: Option<PairVerdict>,
    /// Extension (judge panels): each judge's verdict, by judge name; absent for one judge. Then
    /// `verdict` is their [`PairVerdict::majority`] and both orders are null (each judge's are here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panel: Option<BTreeMap<String, PanelVerdict>>,
}

/// Extension (judge panels): one judge's verdict on one pair, as a one-judge run records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanelVerdict {
    /// Combined over both presentation orders.
    pub verdict: PairVerdict,
    /// Raw verdict of the first presentation order.
    pub first_order: Option<PairVerdict>,
    /// Raw verdict of the second presentation order.
    pub second_order: Option<PairVerdict>,
}

/// What a judge call was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JudgeTask {
    /// Grade one answer against the rubric.
    Grade,
    /// Compare a candidate's answer with a baseline's.
    Pair,
}

/// One line of `judgements.jsonl`: one judge call, parsed or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgementRecord {
    /// Judge model name.
    pub judge: String,
    /// Whether this call graded or compared.
    pub task: JudgeTask,
    /// Id of the eval-set item.
    pub item_id: String,
    /// The graded model (grade) or the candidate (pair).
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Baseline model of a pair call; None for grading.
    pub baseline: Option<String>,
    /// 0-based sample index.
    pub sample: u32,
    /// 1 = candidate shown first (as A), 2 = baseline shown first (pair); the 1-based judge sample
    /// index (grade).
    pub order: u32,
    /// Extension of SPEC §5: 1 for the first call of this (task, order), 2… for the bounded retries of
    /// an unusable reply.
    #[serde(default = "first_attempt")]
    pub attempt: u32,
    /// Extension of SPEC §5: the dimensions this grading call asked for (all judged ones in `joint`
    /// mode, one in `per_dimension` mode); empty for a pair call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<String>,
    /// The judge's raw reply text, if one arrived.
    pub raw: Option<String>,
    /// The reply parsed as JSON, if it parsed.
    pub parsed: Option<serde_json::Value>,
    /// Why the reply did not parse, if it did not.
    pub parse_error: Option<String>,
    /// Prompt tokens reported by the provider, if any.
    pub prompt_tokens: Option<u64>,
    /// Completion tokens reported by the provider, if any.
    pub completion_tokens: Option<u64>,
    /// Wall time of the call in milliseconds, if measured.
    pub total_ms: Option<f64>,
    /// The error that replaced the reply, if the call failed.
    pub error: Option<ErrorInfo>,
    /// Extension of SPEC §5: the server reported no token counts; they are evalrun's estimate.
    /// Omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tokens_estimated: bool,
    /// Extension of SPEC §5: the reply came from the response cache (no request was sent); tokens and
    /// `total_ms` are the original call's. Omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
}

fn first_attempt() -> u32 {
    1
}

/// A line of `items.jsonl`: an eval item as the run rendered and sent it. The fields and their order
/// are those of [`Item`], so a stored item reads back as the item that was run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRecord {
    /// Unique id of the item within the eval set.
    pub id: String,
    /// 1-based line in the eval-set file.
    #[serde(default)]
    pub line: usize,
    /// System prompt, if any.
    pub system: Option<String>,
    #[serde(default)]
    /// The conversation sent to the model.
    pub messages: Vec<Message>,
    /// Template variables of the item, if any.
    pub vars: Option<serde_json::Map<String, serde_json::Value>>,
    /// Category used for per-category breakdowns, if any.
    pub category: Option<String>,
    /// Reference answer for reference metrics, if any.
    pub reference: Option<String>,
    /// Free-form metadata carried through unchanged.
    pub meta: Option<serde_json::Value>,
}

impl From<&Item> for ItemRecord {
    fn from(i: &Item) -> ItemRecord {
        ItemRecord {
            id: i.id.clone(),
            line: i.line,
            system: i.system.clone(),
            messages: i.messages.clone(),
            vars: i.vars.clone(),
            category: i.category.clone(),
            reference: i.reference.clone(),
            meta: i.meta.clone(),
        }
    }
}

impl From<ItemRecord> for Item {
    fn from(r: ItemRecord) -> Item {
        Item {
            id: r.id,
            line: r.line,
            system: r.system,
            messages: r.messages,
            vars: r.vars,
            category: r.category,
            reference: r.reference,
            meta: r.meta,
        }
    }
}

/// One line of `human.jsonl` (SPEC §5): one person's score of one answer on one dimension, or one
/// person's side-by-side verdict on one pair, as imported by `evalrun review import`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HumanRecord {
    /// Who scored (`--rater`, else the sheet file's stem).
    pub rater: String,
    /// Id of the eval-set item.
    pub item_id: String,
    /// The graded model, or the candidate of a pair.
    pub model: String,
    /// The reference of a pair; absent for a grade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// 0-based sample index of the graded answer (pairs: the sample both answers are).
    pub sample: u32,
    /// The rubric dimension of a grade; absent for a pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension: Option<String>,
    /// The person's score on the dimension's scale (grades).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The person's verdict from the candidate's side (pairs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<PairVerdict>,
    /// The review sheet the score came from.
    pub sheet: String,
    /// The sheet's row.
    pub row: usize,
}

impl HumanRecord {
    /// What a line is about: a re-import of the same (rater, unit, dimension or pair) replaces it.
    pub fn key(&self) -> (String, String, String, Option<String>, u32, Option<String>) {
        (
            self.rater.clone(),
            self.model.clone(),
            self.item_id.clone(),
            self.baseline.clone(),
            self.sample,
            self.dimension.clone(),
        )
    }
}

pub mod files;
mod keys;
mod stream;

pub use keys::{hash_of, JudgementKey, PairKey, UnitKey};
pub use stream::{
    copy_lines, read_exact_at, read_jsonl, read_jsonl_lines, stream_jsonl, JsonlLine, JsonlStream,
    LineAt, LineSpan,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsb_rule_needs_both_orders_to_agree() {
        use PairVerdict::*;
        assert_eq!(PairVerdict::combine(G, G), G);
        assert_eq!(PairVerdict::combine(B, B), B);
        assert_eq!(PairVerdict::combine(G, B), S);
        assert_eq!(PairVerdict::combine(G, S), S);
        assert_eq!(PairVerdict::combine(S, S), S);
    }

    #[test]
    fn a_panel_verdict_is_the_most_frequent_one_and_a_shared_top_is_same() {
        use PairVerdict::*;
        assert_eq!(PairVerdict::majority(&[]), None);
        assert_eq!(PairVerdict::majority(&[G]), Some(G));
        assert_eq!(PairVerdict::majority(&[G, G, B]), Some(G));
        assert_eq!(PairVerdict::majority(&[B, S, B]), Some(B));
        assert_eq!(PairVerdict::majority(&[G, S, B]), Some(S));
        assert_eq!(PairVerdict::majority(&[G, B]), Some(S));
        assert_eq!(PairVerdict::majority(&[G, S]), Some(S));
        assert_eq!(PairVerdict::majority(&[G, G, B, B]), Some(S));
    }

    #[test]
    fn torn_last_line_is_ignored_but_a_torn_middle_line_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.jsonl");
        let good = r#"{"item_id":"a","candidate":"c","baseline":"b","verdict":"G","first_order":"G","second_order":"G"}"#;
        std::fs::write(&p, format!("{good}\n{good}\n{{\"item_id\":\"x")).unwrap();
        let v: Vec<PairRecord> = read_jsonl(&p).unwrap();
        assert_eq!(v.len(), 2);
        std::fs::write(&p, format!("{good}\n{{\"item_id\n{good}\n")).unwrap();
        let err = read_jsonl::<PairRecord>(&p).unwrap_err().to_string();
        assert!(err.contains("r.jsonl:2:"), "{err}");
    }

    #[test]
    fn error_kind_serialises_as_spec_names() {
        let s = serde_json::to_string(&ErrorKind::RateLimited).unwrap();
        assert_eq!(s, "\"rate_limited\"");
        assert_eq!(ErrorKind::BadRequest.as_str(), "bad_request");
    }
}
