//! Qianfan v1's known models and the request parameters it would refuse, checked before sending.

/// A Qianfan v1 model the SDK knows by name (PROTOCOLS.md §1.2), with the limits evalrun checks
/// before sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QianfanModel {
    /// Names accepted in `endpoint`, matched case-insensitively (the first is the SDK's).
    pub names: &'static [&'static str],
    /// The path segment after `…/wenxinworkshop/chat/`.
    pub segment: &'static str,
    /// Characters of system + messages the service accepts, when known.
    pub max_input_chars: Option<usize>,
    /// Largest `max_output_tokens`, when known.
    pub max_output_tokens: Option<u64>,
}

/// PROTOCOLS.md §1.2 (SDK `_local_models`); output ranges from §1.3.
pub const QIANFAN_MODELS: &[QianfanModel] = &[
    QianfanModel {
        names: &["ERNIE-4.0-8K", "ERNIE-Bot-4", "ERNIE-4.0", "ERNIE 4.0"],
        segment: "completions_pro",
        max_input_chars: Some(20000),
        max_output_tokens: Some(2048),
    },
    QianfanModel {
        names: &["ERNIE-3.5-8K", "ERNIE-Bot", "ERNIE-3.5", "ERNIE 3.5"],
        segment: "completions",
        max_input_chars: Some(20000),
        max_output_tokens: Some(2048),
    },
    QianfanModel {
        names: &["ERNIE-Speed-8K", "ERNIE-Speed", "ERNIE Speed"],
        segment: "ernie_speed",
        max_input_chars: Some(11200),
        max_output_tokens: Some(2048),
    },
    QianfanModel {
        names: &["ERNIE-Speed-128K"],
        segment: "ernie-speed-128k",
        max_input_chars: Some(507904),
        max_output_tokens: Some(4096),
    },
    QianfanModel {
        names: &["ERNIE-Lite-8K", "ERNIE-Lite-8K-0308", "ERNIE-Lite"],
        segment: "ernie-lite-8k",
        max_input_chars: Some(11200),
        max_output_tokens: Some(2048),
    },
    QianfanModel {
        names: &["ERNIE-Lite-8K-0922", "ERNIE-Bot-turbo"],
        segment: "eb-instant",
        max_input_chars: Some(11200),
        max_output_tokens: Some(2048),
    },
    QianfanModel {
        names: &["ERNIE-4.0-Turbo-8K"],
        segment: "ernie-4.0-turbo-8k",
        max_input_chars: None,
        max_output_tokens: None,
    },
    QianfanModel {
        names: &["ERNIE-4.0-8K-Latest"],
        segment: "ernie-4.0-8k-latest",
        max_input_chars: None,
        max_output_tokens: None,
    },
    QianfanModel {
        names: &["ERNIE-3.5-128K"],
        segment: "ernie-3.5-128k",
        max_input_chars: None,
        max_output_tokens: None,
    },
    QianfanModel {
        names: &["ERNIE-Speed-Pro-128K"],
        segment: "ernie-speed-pro-128k",
        max_input_chars: None,
        max_output_tokens: None,
    },
    QianfanModel {
        names: &["ERNIE-Tiny-8K"],
        segment: "ernie-tiny-8k",
        max_input_chars: None,
        max_output_tokens: None,
    },
];

/// Where a Qianfan v1 `endpoint` value points: a known model name maps to its segment, a known
/// segment is itself, anything else is a custom (e.g. fine-tuned) deployment's own segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QianfanEndpoint {
    /// The endpoint's last path segment.
    pub segment: String,
    /// The known model behind it, if any.
    pub known: Option<&'static QianfanModel>,
}

/// Classify a Qianfan endpoint name.
pub fn qianfan_endpoint(endpoint: &str) -> QianfanEndpoint {
    let e = endpoint.trim();
    let known = QIANFAN_MODELS
        .iter()
        .find(|m| m.segment == e || m.names.iter().any(|n| n.eq_ignore_ascii_case(e)));
    QianfanEndpoint {
        segment: known.map_or_else(|| e.to_string(), |m| m.segment.to_string()),
        known,
    }
}

/// The request parameters Qianfan v1 would refuse with error 336003 (PROTOCOLS.md §1.3), found
/// before anything is sent. The message names the parameter and the accepted range.
pub fn qianfan_params_problem(
    params: &serde_json::Map<String, serde_json::Value>,
    model: Option<&QianfanModel>,
) -> Result<(), String> {
    use serde_json::Value;
    let number = |key: &str, ok: &dyn Fn(f64) -> bool, range: &str| -> Result<(), String> {
        match params.get(key) {
            None => Ok(()),
            Some(v) => match v.as_f64() {
                Some(x) if ok(x) => Ok(()),
                _ => Err(format!(
                    "params.{key} = {v}: Qianfan v1 accepts {key} in {range} (anything else is refused with error 336003)"
                )),
            },
        }
    };
    for key in ["messages", "system", "stream"] {
        if params.contains_key(key) {
            return Err(format!(
                "params.{key}: evalrun sets `{key}` from the eval set; remove it from params"
            ));
        }
    }
    for key in ["max_tokens", "max_completion_tokens"] {
        if params.contains_key(key) {
            return Err(format!(
                "params.{key}: Qianfan v1 calls this max_output_tokens"
            ));
        }
    }
    number("temperature", &|x| x > 0.0 && x <= 1.0, "(0, 1.0]")?;
    number("top_p", &|x| (0.0..=1.0).contains(&x), "[0, 1.0]")?;
    number("penalty_score", &|x| (1.0..=2.0).contains(&x), "[1.0, 2.0]")?;
    if let Some(v) = params.get("max_output_tokens") {
        let max = model.and_then(|m| m.max_output_tokens);
        let ok = v
            .as_u64()
            .is_some_and(|n| n >= 2 && max.is_none_or(|m| n <= m));
        if !ok {
            let range = match (max, model) {
                (Some(m), Some(model)) => format!("[2, {m}] for {}", model.names[0]),
                _ => "[2, …]".to_string(),
            };
            return Err(format!(
                "params.max_output_tokens = {v}: Qianfan v1 accepts a whole number in {range}"
            ));
        }
    }
    if let Some(v) = params.get("stop") {
        let ok = match v {
            Value::Array(items) => {
                items.len() <= 4
                    && items
                        .iter()
                        .all(|s| s.as_str().is_some_and(|s| s.chars().count() <= 20))
            }
            _ => false,
        };
        if !ok {
            return Err(format!(
                "params.stop = {v}: Qianfan v1 accepts a list of at most 4 strings of at most 20 characters"
            ));
        }
    }
    Ok(())
}
