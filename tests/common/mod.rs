//! Test support, in the manner of ripgrep's `tests/util.rs`: a temporary folder of fixtures
//! ([`TestDir`]), the real `evalrun` binary run there with a cleared environment so no host
//! variable (an API key!) can leak into a test ([`TestCommand`]), the built-in simulator as the
//! only network double ([`Sim`]), and insta filters for times, ports and paths ([`insta_settings`]).
#![allow(dead_code, unused_imports)]

pub mod browser;
mod cmd;
mod sim;
pub mod sim_bg;
pub mod sim_proc;

/// A strict, rule-passing tutor answer, for scripted replies (`reply`, `script`).
pub const GOOD_ANSWER: &str = r#"{"Reply": "That sounds fun! What did you enjoy most?", "Suggestion": ["I loved the music.", "The food was great.", "I enjoyed meeting friends."], "Analysis": "学生的回答简短但正确。"}"#;

pub use cmd::{
    copy_dir, files_under, insta_settings, jsonl, repo_file, rules_only_run, shipped_items, Out,
    TestCommand, TestDir,
};
pub use sim::{config, reply, script, Sim, TEST_MODELS};

/// An `evalrun.toml` with OpenAI-compatible models `names` all pointing at `base_url` (each name is
/// also the model id sent; the simulator knows the names in [`TEST_MODELS`]).
pub fn openai_config(base_url: &str, names: &[&str], extra: &str) -> String {
    let mut s = String::new();
    for n in names {
        s.push_str(&format!(
            "[models.{n}]\nprovider = \"openai\"\nbase_url = \"{base_url}\"\nmodel = \"{n}\"\nretries = 3\ntimeout_s = 10\nprice_input_per_1k = 0.01\nprice_output_per_1k = 0.02\ncurrency = \"CNY\"\n{extra}\n"
        ));
    }
    s
}
