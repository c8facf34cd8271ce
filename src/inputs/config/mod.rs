//! `evalrun.toml` (SPEC §2): the run defaults and the model table. Unknown keys are rejected with their
//! line; environment variables are resolved — and a missing one reported — before any request is sent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::UsageError;

mod model;
mod qianfan;
mod resolve;

pub use model::{Api, ModelConfig, ModelConfigError, ProviderKind, DEFAULT_MAX_ANSWER_BYTES};
pub use qianfan::{
    qianfan_endpoint, qianfan_params_problem, QianfanEndpoint, QianfanModel, QIANFAN_MODELS,
};
pub use resolve::ResolvedModel;

/// Qianfan v1's public base URL (PROTOCOLS.md §1.1); `QIANFAN_BASE_URL` overrides it, as in Baidu's SDK.
pub const QIANFAN_DEFAULT_BASE_URL: &str = "https://aip.baidubce.com";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
/// The parsed configuration file.
pub struct Config {
    #[serde(default)]
    /// Defaults for `evalrun run`.
    pub run: RunDefaults,
    #[serde(default)]
    /// Configured models, by name.
    pub models: BTreeMap<String, ModelConfig>,
    /// Where the file was read from (relative paths in `[run]` are resolved against its folder).
    #[serde(skip)]
    pub path: PathBuf,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
/// The `[run]` table: defaults for `evalrun run`.
pub struct RunDefaults {
    /// Default eval-set path.
    pub evalset: Option<PathBuf>,
    /// Default rubric path.
    pub rubric: Option<PathBuf>,
    /// Default judge model name.
    pub judge: Option<String>,
    /// Default baseline model name.
    pub baseline: Option<String>,
    /// The flagship model every candidate is also compared with (STATS v2); must name a configured model.
    pub flagship: Option<String>,
    /// Dotted path into an item (e.g. `meta.dialogue`) whose value groups items into clusters for
    /// cluster-robust standard errors.
    pub cluster: Option<String>,
    /// Read and write the response cache (model answers and judge calls); off unless set.
    pub cache: Option<bool>,
    /// A model whose share of failed items is above this (0..1) blocks a release decision.
    pub max_error_rate: Option<f64>,
}

impl Config {
    /// Read and validate `evalrun.toml`. Errors name the file, line and key.
    pub fn load(path: &Path) -> Result<Config, UsageError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            UsageError::in_file(
                path,
                format!(
                    "cannot read configuration: {e} (pass --config FILE, or create ./evalrun.toml)"
                ),
            )
        })?;
        Config::parse(path, &text)
    }

    /// Parse a configuration file's text; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, UsageError> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let mut msg = e.message().trim().to_string();
            if let Some(hint) = line.and_then(|l| dotted_name_hint(text, l)) {
                msg.push_str(&hint);
            }
            match line {
                Some(l) => UsageError::at(path, l, msg),
                None => UsageError::in_file(path, msg),
            }
        })?;
        cfg.path = path.to_path_buf();
        for (name, m) in &cfg.models {
            m.validate()
                .map_err(|msg| UsageError::in_file(path, format!("[models.{name}]: {msg}")))?;
        }
        cfg.validate_run(text)?;
        Ok(cfg)
    }

    /// `[run]` keys that refer to something else (a model) or have a range; errors name the key's line.
    fn validate_run(&self, text: &str) -> Result<(), UsageError> {
        let lines = RunLines::find(text);
        let at = |line: Option<usize>, msg: String| match line {
            Some(l) => UsageError::at(&self.path, l, msg),
            None => UsageError::in_file(&self.path, msg),
        };
        if let Some(name) = &self.run.flagship {
            if !self.models.contains_key(name) {
                let known: Vec<&str> = self.models.keys().map(String::as_str).collect();
                let known = if known.is_empty() {
                    "(none)".to_string()
                } else {
                    known.join(", ")
                };
                return Err(at(
                    lines.flagship,
                    format!("[run].flagship: unknown model `{name}`; configured models: {known}"),
                ));
            }
        }
        if let Some(path) = &self.run.cluster {
            if path.is_empty() || path.split('.').any(|part| part.trim().is_empty()) {
                return Err(at(
                    lines.cluster,
                    format!("[run].cluster = {path:?}: give a dotted path into an item, e.g. \"meta.dialogue\""),
                ));
            }
        }
        if let Some(rate) = self.run.max_error_rate {
            if !(0.0..=1.0).contains(&rate) {
                return Err(at(
                    lines.max_error_rate,
                    format!("[run].max_error_rate must be between 0 and 1, got {rate}"),
                ));
            }
        }
        Ok(())
    }

    /// The folder relative paths in `[run]` are resolved against.
    pub fn base_dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// Look up a model by name, with an error listing the configured ones.
    pub fn model(&self, name: &str) -> Result<&ModelConfig, UsageError> {
        self.models.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.models.keys().map(String::as_str).collect();
            UsageError::in_file(
                &self.path,
                format!(
                    "unknown model `{name}`; configured models: {}",
                    if known.is_empty() {
                        "(none)".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            )
        })
    }
}

/// Where some `[run]` keys sit in the file, for messages about their values (toml only gives spans
/// for its own errors).
#[derive(Default)]
struct RunLines {
    flagship: Option<usize>,
    cluster: Option<usize>,
    max_error_rate: Option<usize>,
}

impl RunLines {
    fn find(text: &str) -> RunLines {
        #[derive(Deserialize, Default)]
        struct File {
            #[serde(default)]
            run: Run,
        }
        #[derive(Deserialize, Default)]
        struct Run {
            flagship: Option<toml::Spanned<toml::Value>>,
            cluster: Option<toml::Spanned<toml::Value>>,
            max_error_rate: Option<toml::Spanned<toml::Value>>,
        }
        let Ok(file) = toml::from_str::<File>(text) else {
            return RunLines::default();
        };
        let line = |v: Option<toml::Spanned<toml::Value>>| {
            v.map(|v| text[..v.span().start.min(text.len())].matches('\n').count() + 1)
        };
        RunLines {
            flagship: line(file.run.flagship),
            cluster: line(file.run.cluster),
            max_error_rate: line(file.run.max_error_rate),
        }
    }
}

/// TOML splits bare keys on dots, so `[models.ernie-4.0]` means model `ernie-4` with a sub-table `0`.
/// Spot that on the failing line (or the table header above it) and say how to write it.
fn dotted_name_hint(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let upto = line.min(lines.len());
    let header = lines[..upto]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('['))?;
    let name = header.strip_prefix("[models.")?.strip_suffix(']')?;
    if name.starts_with('"') || !name.contains('.') {
        return None;
    }
    Some(format!(
        " (TOML splits `{header}` at the dots: quote a model name that contains a dot, as [models.\"{name}\"])"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::secret::Redactor;

    const GOOD: &str = r#"
[run]
evalset = "evalsets/oral_english.jsonl"
judge = "ernie-4.0"

[models."ernie-4.0"]
provider = "qianfan"
endpoint = "completions_pro"
api_key_env = "QIANFAN_AK"
secret_key_env = "QIANFAN_SK"
rps = 1.0
price_input_per_1k = 0.12
price_output_per_1k = 0.12
params = { temperature = 0.8, top_p = 0.8 }

[models.my-vllm]
provider = "openai"
base_url = "http://127.0.0.1:8000/v1"
model = "speed-sft"
extra_headers = { appid = "app-123" }
params = { stop = ["。"], max_tokens = 512 }
"#;

    #[test]
    fn parses_the_spec_example() {
        let c = Config::parse(Path::new("evalrun.toml"), GOOD).unwrap();
        assert_eq!(c.models.len(), 2);
        let v = &c.models["my-vllm"];
        assert_eq!(v.max_output_tokens(), Some(512));
        assert_eq!(v.concurrency, 4);
        assert_eq!(c.run.judge.as_deref(), Some("ernie-4.0"));
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let text = GOOD.replace("rps = 1.0", "rpz = 1.0");
        let err = Config::parse(Path::new("evalrun.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("evalrun.toml:11:"), "{err}");
        assert!(err.contains("rpz"), "{err}");
    }

    #[test]
    fn unquoted_dotted_model_name_gets_a_hint() {
        let text = GOOD.replace("[models.\"ernie-4.0\"]", "[models.ernie-4.0]");
        let err = Config::parse(Path::new("evalrun.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("[models.\"ernie-4.0\"]"), "{err}");
    }

    #[test]
    fn missing_env_var_is_named() {
        let c = Config::parse(Path::new("evalrun.toml"), GOOD).unwrap();
        let mut r = Redactor::default();
        let env = |k: &str| (k == "QIANFAN_AK").then(|| "ak-value".to_string());
        let err = c
            .resolve(&["ernie-4.0".into()], &env, &mut r)
            .unwrap_err()
            .to_string();
        assert!(err.contains("QIANFAN_SK"), "{err}");
        assert!(!err.contains("ak-value"), "{err}");
    }

    #[test]
    fn qianfan_base_url_env_overrides_default_only() {
        let c = Config::parse(Path::new("evalrun.toml"), GOOD).unwrap();
        let mut r = Redactor::default();
        let env = |k: &str| match k {
            "QIANFAN_AK" | "QIANFAN_SK" => Some("secret-value".to_string()),
            "QIANFAN_BASE_URL" => Some("http://127.0.0.1:9".to_string()),
            _ => None,
        };
        let m = c.resolve(&["ernie-4.0".into()], &env, &mut r).unwrap();
        assert_eq!(m[0].base_url, "http://127.0.0.1:9");
        assert_eq!(r.scrub("x secret-value y"), "x *** y");
    }

    #[test]
    fn unknown_model_lists_configured_ones() {
        let c = Config::parse(Path::new("evalrun.toml"), GOOD).unwrap();
        let err = c.model("gpt-9").unwrap_err().to_string();
        assert!(
            err.contains("unknown model `gpt-9`") && err.contains("ernie-4.0, my-vllm"),
            "{err}"
        );
    }

    #[test]
    fn openai_model_without_base_url_is_rejected() {
        let text = "[models.x]\nprovider = \"openai\"\nmodel = \"m\"\n";
        let err = Config::parse(Path::new("c.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[models.x]") && err.contains("base_url"),
            "{err}"
        );
    }

    #[test]
    fn qianfan_names_map_to_segments_case_insensitively() {
        assert_eq!(qianfan_endpoint("ERNIE-4.0-8K").segment, "completions_pro");
        assert_eq!(qianfan_endpoint("ernie-bot-4").segment, "completions_pro");
        assert_eq!(qianfan_endpoint("ERNIE-Speed").segment, "ernie_speed");
        assert_eq!(qianfan_endpoint("ERNIE-Lite-8K-0922").segment, "eb-instant");
        assert_eq!(
            qianfan_endpoint("ernie_speed").known.unwrap().segment,
            "ernie_speed"
        );
        let custom = qianfan_endpoint("rfthglwm_english0512");
        assert_eq!(
            (custom.segment.as_str(), custom.known),
            ("rfthglwm_english0512", None)
        );
    }

    fn qianfan_with(params: &str) -> Result<Config, String> {
        let text = format!(
            "[models.q]\nprovider = \"qianfan\"\nendpoint = \"ERNIE-4.0-8K\"\napi_key_env = \"A\"\nsecret_key_env = \"S\"\nparams = {{ {params} }}\n"
        );
        Config::parse(Path::new("c.toml"), &text).map_err(|e| e.to_string())
    }

    #[test]
    fn qianfan_params_are_checked_before_sending_naming_the_parameter() {
        assert!(qianfan_with("temperature = 1.0, top_p = 0, penalty_score = 2.0, max_output_tokens = 2048, stop = [\"。\"]").is_ok());
        for (params, needle) in [
            ("temperature = 0", "params.temperature = 0"),
            ("temperature = 1.5", "temperature in (0, 1.0]"),
            ("top_p = 1.1", "params.top_p"),
            ("penalty_score = 0.9", "params.penalty_score"),
            ("max_output_tokens = 1", "[2, 2048] for ERNIE-4.0-8K"),
            (
                "max_output_tokens = 4096",
                "params.max_output_tokens = 4096",
            ),
            ("max_tokens = 100", "max_output_tokens"),
            ("stop = [\"a\",\"b\",\"c\",\"d\",\"e\"]", "params.stop"),
            ("stream = false", "params.stream"),
        ] {
            let e = qianfan_with(params).unwrap_err();
            assert!(
                e.contains(needle) && e.contains("[models.q]"),
                "{params}: {e}"
            );
        }
    }

    #[test]
    fn timeouts_must_be_positive() {
        let text = "[models.x]\nprovider = \"openai\"\nbase_url = \"http://h/v1\"\nmodel = \"m\"\nidle_timeout_s = 0\n";
        let e = Config::parse(Path::new("c.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("idle_timeout_s"), "{e}");
    }

    fn parse_text(text: &str) -> Result<Config, String> {
        Config::parse(Path::new("evalrun.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn run_keys_default_to_unset_and_max_answer_bytes_to_one_mib() {
        let c = parse_text(GOOD).unwrap();
        assert_eq!(c.run.flagship, None);
        assert_eq!(c.run.cluster, None);
        assert_eq!(c.run.cache, None);
        assert_eq!(c.run.max_error_rate, None);
        assert_eq!(c.models["my-vllm"].max_answer_bytes, 1_048_576);
    }

    #[test]
    fn run_keys_are_read() {
        let text = GOOD.replace(
            "judge = \"ernie-4.0\"",
            "judge = \"ernie-4.0\"\nflagship = \"ernie-4.0\"\ncluster = \"meta.dialogue\"\ncache = true\nmax_error_rate = 0.05",
        );
        let c = parse_text(&text).unwrap();
        assert_eq!(c.run.flagship.as_deref(), Some("ernie-4.0"));
        assert_eq!(c.run.cluster.as_deref(), Some("meta.dialogue"));
        assert_eq!(c.run.cache, Some(true));
        assert_eq!(c.run.max_error_rate, Some(0.05));
    }

    #[test]
    fn run_keys_are_validated_naming_key_and_line() {
        let with = |extra: &str| {
            parse_text(&GOOD.replace(
                "judge = \"ernie-4.0\"",
                &format!("judge = \"ernie-4.0\"\n{extra}"),
            ))
            .unwrap_err()
        };
        // Line 5: after the blank first line, `[run]`, `evalset` and `judge`.
        assert_eq!(
            with("flagship = \"ernie-9\""),
            "evalrun.toml:5: [run].flagship: unknown model `ernie-9`; configured models: ernie-4.0, my-vllm"
        );
        assert_eq!(
            with("max_error_rate = 1.5"),
            "evalrun.toml:5: [run].max_error_rate must be between 0 and 1, got 1.5"
        );
        assert_eq!(
            with("max_error_rate = -0.1"),
            "evalrun.toml:5: [run].max_error_rate must be between 0 and 1, got -0.1"
        );
        assert_eq!(
            with("cluster = \"meta..x\""),
            "evalrun.toml:5: [run].cluster = \"meta..x\": give a dotted path into an item, e.g. \"meta.dialogue\""
        );
        let e = with("cache = \"yes\"");
        assert!(
            e.starts_with("evalrun.toml:5: invalid type: string \"yes\", expected a boolean"),
            "{e}"
        );
        let e = with("flagshipp = \"ernie-4.0\"");
        assert!(
            e.starts_with("evalrun.toml:5: unknown field `flagshipp`"),
            "{e}"
        );
    }

    #[test]
    fn max_answer_bytes_is_read_and_must_be_positive() {
        let c = parse_text(&GOOD.replace(
            "model = \"speed-sft\"",
            "model = \"speed-sft\"\nmax_answer_bytes = 4096",
        ))
        .unwrap();
        assert_eq!(c.models["my-vllm"].max_answer_bytes, 4096);
        let e = parse_text(&GOOD.replace(
            "model = \"speed-sft\"",
            "model = \"speed-sft\"\nmax_answer_bytes = 0",
        ))
        .unwrap_err();
        assert_eq!(
            e,
            "evalrun.toml: [models.my-vllm]: max_answer_bytes must be at least 1"
        );
    }
}
