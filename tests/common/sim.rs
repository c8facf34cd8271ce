//! The built-in simulator for a test: in process on its own runtime, no delays (`time_scale` 0),
//! the test's short model names aliased to simulator profiles, and the request log read back.

use std::collections::BTreeMap;

use evalrun::sim::{Faults, Script, SeenRequest, SimConfig, SimStats};

use super::sim_bg::BgSim;

/// Model names the tests configure, and the profile each stands for on the simulator.
pub const TEST_MODELS: &[(&str, &str)] = &[
    ("a", "sft-full-e6-lr3e-5"),
    ("b", "sft-full-e3-lr3e-5"),
    ("c", "ernie-speed"),
    ("ft-greetings", "sft-full-e6-lr3e-5"),
];

/// A running simulator; shut down when dropped.
pub struct Sim(BgSim);

impl Sim {
    /// Starts the simulator with these faults (the `--faults` SPEC, scripted `@MARKER:…` items
    /// included) and no delays.
    pub fn start(faults: &str) -> Sim {
        Sim::with(config(faults))
    }

    /// Starts the simulator with a fault spec plus scripts built in the test (answers with commas
    /// need no escaping this way).
    pub fn scripted(faults: &str, scripts: Vec<Script>) -> Sim {
        let mut cfg = config(faults);
        cfg.faults.scripts.extend(scripts);
        Sim::with(cfg)
    }

    /// Starts the simulator with a configuration of the test's own.
    pub fn with(cfg: SimConfig) -> Sim {
        Sim(BgSim::start(cfg))
    }

    /// `http://127.0.0.1:PORT`: the Qianfan base URL.
    pub fn base_url(&self) -> String {
        self.0.base_url()
    }

    /// `http://127.0.0.1:PORT/v1`: the OpenAI-compatible base URL.
    pub fn openai_base_url(&self) -> String {
        self.0.openai_base_url()
    }

    pub fn stats(&self) -> SimStats {
        self.0.stats()
    }

    /// Every chat and completion request received, in order.
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.stats().requests
    }

    /// Chat and completion requests received.
    pub fn requests(&self) -> usize {
        self.seen().len()
    }

    /// Requests that reached each simulated model (canonical profile name).
    pub fn requests_per_model(&self) -> BTreeMap<String, u64> {
        self.stats()
            .models
            .into_iter()
            .map(|(k, v)| (k, v.requests))
            .collect()
    }

    /// Requests whose last user message contains `marker`.
    pub fn requests_with(&self, marker: &str) -> usize {
        self.stats().requests_with(marker)
    }

    /// Requests per (model as named, last user message).
    pub fn requests_by_prompt(&self) -> BTreeMap<(String, String), usize> {
        self.stats().requests_by_prompt()
    }
}

/// No delays, these faults, the test model names aliased.
pub fn config(faults: &str) -> SimConfig {
    SimConfig {
        time_scale: 0.0,
        faults: faults.parse::<Faults>().expect("fault spec"),
        aliases: TEST_MODELS
            .iter()
            .map(|(a, p)| (a.to_string(), p.to_string()))
            .collect(),
        ..SimConfig::default()
    }
}

/// A script that answers `text` to prompts containing `marker`.
pub fn reply(marker: &str, text: &str) -> Script {
    Script {
        reply: Some(text.to_string()),
        ..Script::new(marker)
    }
}

/// A script that answers `text` to prompts containing `marker`, with further spec items after
/// `@MARKER:` (e.g. `[("tear", "1"), ("first", "2")]`).
pub fn script(marker: &str, text: &str, items: &[(&str, &str)]) -> Script {
    let spec: Vec<String> = items
        .iter()
        .map(|(k, v)| format!("@{marker}:{k}={v}"))
        .collect();
    let mut s = spec
        .join(",")
        .parse::<Faults>()
        .expect("script items")
        .scripts
        .pop()
        .unwrap_or_else(|| Script::new(marker));
    s.reply = Some(text.to_string());
    s
}
