//! The body of an OpenAI-shaped request (chat, legacy completions, Qianfan v2), checked as the
//! real services check it.

use serde_json::Value;

use super::openai::Flavor;

pub(crate) struct Request {
    pub model: String,
    pub system: Option<String>,
    /// (role, text) for chat; empty for legacy.
    pub messages: Vec<(String, String)>,
    /// The text answered: last user message or the legacy prompt.
    pub prompt: String,
    pub stream: bool,
    pub include_usage: bool,
    pub stop: Vec<String>,
    pub max_tokens: Option<usize>,
    pub seed: Option<i64>,
    /// `response_format` asked for JSON (`json_schema` or `json_object`): the reply is constrained.
    pub json_reply: bool,
}

pub(crate) fn text_of(content: &Value) -> Option<String> {
    match content {
        Value::String(s) => Some(s.clone()),
        Value::Null => Some(String::new()),
        Value::Array(parts) => Some(
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        _ => None,
    }
}

fn check_number(body: &Value, key: &str, lo: f64, hi: f64) -> Result<(), String> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(v) => match v.as_f64() {
            Some(x) if (lo..=hi).contains(&x) => Ok(()),
            _ => Err(format!("`{key}` must be a number between {lo} and {hi}")),
        },
    }
}

/// Everything but the model, which is resolved first (404 before 400, as OpenAI does).
pub(crate) fn parse(body: &Value, flavor: Flavor, model: String) -> Result<Request, String> {
    let stream = match body.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("`stream` must be a boolean".into()),
    };
    let include_usage = body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    check_number(body, "temperature", 0.0, 2.0)?;
    check_number(body, "top_p", 0.0, 1.0)?;
    match body.get("n") {
        None | Some(Value::Null) => {}
        Some(v) if v.as_u64() == Some(1) => {}
        Some(_) => return Err("`n` other than 1 is not supported by the simulator".into()),
    }
    let max_tokens = match body
        .get("max_completion_tokens")
        .or_else(|| body.get("max_tokens"))
    {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => Some(n as usize),
            _ => return Err("`max_tokens` must be a positive integer".into()),
        },
    };
    let stop = match body.get("stop") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) if a.len() <= 4 && a.iter().all(Value::is_string) => a
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect(),
        Some(_) => return Err("`stop` must be a string or a list of at most 4 strings".into()),
    };
    let seed = body.get("seed").and_then(Value::as_i64);
    let json_reply =
        match body.get("response_format") {
            None | Some(Value::Null) => false,
            Some(rf) => match rf.get("type").and_then(Value::as_str) {
                Some("text") => false,
                Some("json_object") => true,
                Some("json_schema")
                    if rf
                        .pointer("/json_schema/schema")
                        .is_some_and(Value::is_object)
                        && rf
                            .pointer("/json_schema/name")
                            .is_some_and(Value::is_string) =>
                {
                    true
                }
                Some("json_schema") => {
                    return Err(
                        "`response_format.json_schema` needs a `name` and a `schema` object".into(),
                    )
                }
                _ => return Err(
                    "`response_format.type` must be \"text\", \"json_object\" or \"json_schema\""
                        .into(),
                ),
            },
        };
    let mut req = Request {
        model,
        system: None,
        messages: Vec::new(),
        prompt: String::new(),
        stream,
        include_usage,
        stop,
        max_tokens,
        seed,
        json_reply,
    };
    if flavor == Flavor::Legacy {
        req.prompt = match body.get("prompt") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) if a.len() == 1 && a[0].is_string() => {
                a[0].as_str().unwrap_or_default().to_string()
            }
            _ => return Err("`prompt` must be a string (one prompt per request)".into()),
        };
        // OpenAI's legacy default, which surprises people: 16 tokens.
        req.max_tokens = Some(req.max_tokens.unwrap_or(16));
        return Ok(req);
    }
    let list = body
        .get("messages")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or("`messages` must be a non-empty list")?;
    let mut system = Vec::new();
    for (i, m) in list.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        if ![
            "system",
            "developer",
            "user",
            "assistant",
            "tool",
            "function",
        ]
        .contains(&role)
        {
            return Err(format!("invalid role in message {i}"));
        }
        let text = text_of(m.get("content").unwrap_or(&Value::Null))
            .ok_or_else(|| format!("invalid content in message {i}"))?;
        if role == "system" || role == "developer" {
            system.push(text);
        } else {
            req.messages.push((role.to_string(), text));
        }
    }
    if req.messages.is_empty() {
        return Err("`messages` must contain a user message".into());
    }
    if flavor == Flavor::V2 {
        // Qianfan v2 keeps v1's conversation rule (its SDK mock's check_messages_v2).
        if req.messages.len() % 2 != 1 {
            return Err("the length of messages must be an odd number".into());
        }
        for (i, (role, _)) in req.messages.iter().enumerate() {
            let want = if i % 2 == 0 { "user" } else { "assistant" };
            if role != want {
                return Err(format!("invalid role in message {i}"));
            }
        }
    }
    req.system = (!system.is_empty()).then(|| system.join("\n"));
    req.prompt = req
        .messages
        .iter()
        .rev()
        .find(|(r, _)| r == "user")
        .map(|(_, c)| c.clone())
        .unwrap_or_default();
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v2_keeps_the_odd_rule_but_v1_openai_does_not() {
        let body = json!({"messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b"},
        ]});
        assert!(parse(&body, Flavor::Chat, "m".into()).is_ok());
        let e = parse(&body, Flavor::V2, "m".into()).err().unwrap();
        assert_eq!(e, "the length of messages must be an odd number");
    }

    #[test]
    fn content_parts_and_system_are_joined() {
        let body = json!({"messages": [
            {"role": "system", "content": "persona"},
            {"role": "user", "content": [{"type": "text", "text": "hello"}]},
        ], "stop": "。"});
        let r = parse(&body, Flavor::Chat, "m".into()).unwrap();
        assert_eq!(r.system.as_deref(), Some("persona"));
        assert_eq!(r.prompt, "hello");
        assert_eq!(r.stop, vec!["。".to_string()]);
    }

    #[test]
    fn legacy_defaults_to_16_tokens() {
        let r = parse(&json!({"prompt": "x ->"}), Flavor::Legacy, "m".into()).unwrap();
        assert_eq!(r.max_tokens, Some(16));
        assert!(parse(&json!({"prompt": ["a", "b"]}), Flavor::Legacy, "m".into()).is_err());
    }
}
