//! `evalrun models`: the configured models with provider, endpoint, limits and prices. Secrets are
//! never printed: only the names of the environment variables, and whether they are set.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use crate::cli::ModelsArgs;
use crate::error::UsageError;
use crate::inputs::config::{Api, Config, ProviderKind};
use crate::inputs::secret::Redactor;

/// `evalrun models`: lists the configured models, their endpoints and whether their keys are set.
pub fn run(args: &ModelsArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<String, UsageError> {
    let config = Config::load(&args.config)?;
    if config.models.is_empty() {
        return Err(UsageError::in_file(&args.config, "no [models.NAME] tables"));
    }
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .force_no_tty()
        .set_header([
            "model",
            "provider",
            "endpoint",
            "limits",
            "price /1k in·out",
            "credentials",
        ]);
    for (name, m) in &config.models {
        // Resolve without failing on a missing credential: `models` reports, it does not refuse. Only
        // the model's own credential variables get a stand-in; everything else (QIANFAN_BASE_URL) is
        // read as it is, so the endpoint shown is the one a run would use.
        let names = vec![name.clone()];
        let is_credential = |k: &str| {
            [&m.api_key_env, &m.secret_key_env]
                .into_iter()
                .flatten()
                .any(|v| v == k)
        };
        let resolved = config.resolve(
            &names,
            &|k| env(k).or_else(|| is_credential(k).then(|| "unset".to_string())),
            &mut Redactor::default(),
        )?;
        let provider = match (m.provider, m.api) {
            (ProviderKind::Qianfan, _) => "qianfan v1",
            (ProviderKind::Openai, Api::Chat) => "openai chat",
            (ProviderKind::Openai, Api::Completions) => "openai completions",
        };
        let mut limits = vec![format!("concurrency {}", m.concurrency)];
        if let Some(r) = m.rps {
            limits.push(format!("{r} req/s"));
        }
        if let Some(t) = m.tpm {
            limits.push(format!("{t} tok/min"));
        }
        limits.push(format!("timeout {}s, {} retries", m.timeout_s, m.retries));
        let price = match (m.price_input_per_1k, m.price_output_per_1k) {
            (None, None) => "–".to_string(),
            (i, o) => format!(
                "{} · {} {}",
                i.map_or("–".into(), |v| v.to_string()),
                o.map_or("–".into(), |v| v.to_string()),
                m.currency.as_deref().unwrap_or("")
            ),
        };
        let creds: Vec<String> = [&m.api_key_env, &m.secret_key_env]
            .into_iter()
            .flatten()
            .map(|v| {
                format!(
                    "{v} ({})",
                    if env(v).is_some_and(|s| !s.is_empty()) {
                        "set"
                    } else {
                        "NOT SET"
                    }
                )
            })
            .collect();
        table.add_row([
            name.clone(),
            provider.to_string(),
            resolved[0].endpoint_display(),
            limits.join(", "),
            price.trim().to_string(),
            if creds.is_empty() {
                "none".into()
            } else {
                creds.join(", ")
            },
        ]);
    }
    Ok(format!("{table}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qianfan_endpoint_shows_the_default_base_url_when_keys_are_unset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evalrun.toml");
        std::fs::write(
            &path,
            "[models.\"ernie-4.0\"]\nprovider = \"qianfan\"\nendpoint = \"completions_pro\"\napi_key_env = \"QIANFAN_AK\"\nsecret_key_env = \"QIANFAN_SK\"\n",
        )
        .unwrap();
        let out = run(&ModelsArgs { config: path }, &|_| None).unwrap();
        assert!(
            out.contains(
                "https://aip.baidubce.com/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions_pro"
            ),
            "{out}"
        );
        assert!(out.contains("QIANFAN_AK (NOT SET)"), "{out}");
    }
}
