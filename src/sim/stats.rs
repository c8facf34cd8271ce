//! Counters that tests and benchmarks read back (`GET /sim/stats`, [`super::SimServer::stats`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Requests per route.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteStats {
    /// Requests received.
    pub requests: u64,
    /// Answered with content (HTTP 200 and no error body).
    pub ok: u64,
    /// Answered with an error (an error body, any status).
    pub errors: u64,
}

/// Faults the simulator injected, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCounts {
    /// Calls refused with 111 because `expire_every` expired their token.
    pub token_expired: u64,
    /// Injected HTTP 500 replies.
    pub error500: u64,
    /// Injected overload replies.
    pub overload: u64,
    /// Streams torn mid-reply.
    pub tear: u64,
    /// Connections cut.
    pub cut: u64,
    /// Replies stalled.
    pub stall: u64,
}

impl FaultCounts {
    /// All injected faults.
    pub fn total(&self) -> u64 {
        self.token_expired + self.error500 + self.overload + self.tear + self.cut + self.stall
    }
}

/// Per simulated model (canonical profile name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelStats {
    /// Chat/completion requests that reached this model (after the access-token check).
    pub requests: u64,
    /// Answers started (stream or not), including ones later torn or cut by a fault.
    pub answered: u64,
    /// Of those, streamed.
    pub streamed: u64,
    /// Prompt tokens received.
    pub prompt_tokens: u64,
    /// Completion tokens of the answers started (as reported in `usage`).
    pub completion_tokens: u64,
    /// Refused by the requests-per-second limit (`rate`).
    pub rate_limited: u64,
    /// Refused by the tokens-per-minute limit (`tpm`).
    pub tpm_limited: u64,
    /// Refused as invalid (336003 / HTTP 400).
    pub invalid: u64,
    /// Faults injected.
    pub faults: FaultCounts,
}

/// The OAuth side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthStats {
    /// Access tokens handed out.
    pub tokens_issued: u64,
    /// Of those, to a client id that already had one (a refresh).
    pub token_refreshes: u64,
    /// Token requests with a wrong API key or secret key.
    pub bad_credentials: u64,
    /// Chat calls with a missing or unknown token (110).
    pub unknown_token: u64,
    /// Chat calls with an expired token (111).
    pub expired_token: u64,
}

/// Everything counted since the server started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimStats {
    /// Keyed by route pattern, e.g. `POST /v1/chat/completions`.
    pub routes: BTreeMap<String, RouteStats>,
    /// Statistics per model.
    pub models: BTreeMap<String, ModelStats>,
    /// Authentication statistics.
    pub auth: AuthStats,
    /// Every chat and completion request, in arrival order (what tests assert on: bodies, keys
    /// sent, how often each prompt was asked, the server's own time to first content).
    #[serde(default)]
    pub requests: Vec<SeenRequest>,
    /// Requests past the log's cap (the first 20,000 are kept), counted but not logged.
    #[serde(default)]
    pub requests_not_logged: u64,
}

/// One chat or completion request as the simulator received it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenRequest {
    /// The route pattern, e.g. `POST /v1/chat/completions`.
    pub route: String,
    /// The model as the request named it (v1: the endpoint segment).
    pub model: String,
    /// The last user message (legacy completions: the prompt); empty if the body did not parse.
    pub prompt: String,
    /// The `Authorization` header as sent (a test double may show it: tests check the key is sent).
    pub authorization: Option<String>,
    /// The request body (`null` if it was not JSON).
    pub body: serde_json::Value,
    /// Microseconds from the request's arrival to the first content handed to the HTTP stack
    /// (streamed answers only).
    pub first_content_us: Option<u64>,
}

impl SimStats {
    /// Faults injected over all models.
    pub fn faults_total(&self) -> u64 {
        self.models.values().map(|m| m.faults.total()).sum()
    }

    /// Requests refused by a rate or token limit over all models.
    pub fn rate_limited_total(&self) -> u64 {
        self.models
            .values()
            .map(|m| m.rate_limited + m.tpm_limited)
            .sum()
    }

    /// Requests whose prompt contains `marker`.
    pub fn requests_with(&self, marker: &str) -> usize {
        self.requests
            .iter()
            .filter(|r| r.prompt.contains(marker))
            .count()
    }

    /// Requests per (model, prompt): how often each answer was asked for.
    pub fn requests_by_prompt(&self) -> BTreeMap<(String, String), usize> {
        let mut m = BTreeMap::new();
        for r in &self.requests {
            *m.entry((r.model.clone(), r.prompt.clone())).or_insert(0) += 1;
        }
        m
    }

    pub(crate) fn route(&mut self, route: &str) -> &mut RouteStats {
        self.routes.entry(route.to_string()).or_default()
    }

    pub(crate) fn model(&mut self, model: &str) -> &mut ModelStats {
        self.models.entry(model.to_string()).or_default()
    }

    /// One line on what the simulator refused or broke during a run (the client retried each).
    pub fn fault_summary(&self) -> String {
        let (mut rate, mut e500, mut torn, mut other) = (0, 0, 0, 0);
        for m in self.models.values() {
            rate += m.rate_limited + m.tpm_limited;
            e500 += m.faults.error500;
            torn += m.faults.tear + m.faults.cut;
            other += m.faults.overload + m.faults.token_expired + m.faults.stall;
        }
        let mut line = format!(
            "the simulator refused {rate} requests over a rate limit, answered {e500} with \
             HTTP 500 and tore {torn} streams"
        );
        if other > 0 {
            line.push_str(&format!(", plus {other} other faults"));
        }
        line.push_str(" (the report's Errors table counts the answers that needed a retry)");
        line
    }
}
