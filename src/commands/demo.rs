//! `evalrun demo`: the built-in simulator on a free loopback port, the shipped eval set and rubric, the
//! seed's line-up from the shipped `evalrun.toml`, graded by the simulator's judge model (`judge`) —
//! the whole pipeline with no keys and no network.
//! Everything it needs is compiled in, so it works from any folder.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::DemoArgs;
use crate::inputs::config::Config;
use crate::manifest::{FileRef, Simulated};
use crate::plan::{Plan, PlanParts};
use crate::runner::pipeline::execute;

const CONFIG: &str = include_str!("../../evalrun.toml");
const EVALSET: &str = include_str!("../../evalsets/oral_english.jsonl");
const RUBRIC: &str = include_str!("../../rubrics/oral_english.toml");
/// Faults the demo injects, so that the report shows them handled: requests over a rate limit
/// (ERNIE-4.0 12/s, ERNIE-Speed 30/s), 1 % HTTP 500s and 1 % torn streams on every model, all
/// retried (an answer that finally arrives is the one the failed attempt would have given, so the
/// scores do not move); and a judge that cannot grade 2 % of the answers on any call, so the
/// report shows how unjudged answers are counted (`judge_error`) rather than hiding them.
const DEMO_FAULTS: &str =
    "error500=0.01,tear=0.01,ernie-4.0:rate=12,ernie-speed:rate=30,judge:garbage=0.02";
/// The address the shipped `evalrun.toml` points at (`evalrun sim`'s default).
const SIM_DEFAULT_ADDR: &str = "127.0.0.1:8765";

/// `evalrun demo`: runs the embedded default against the built-in simulator, with no keys.
pub async fn run(args: DemoArgs, command_line: String) -> Result<u8> {
    let server = crate::sim::start(crate::sim::SimConfig {
        time_scale: args.time_scale,
        faults: DEMO_FAULTS.parse().expect("valid fault spec"),
        ..Default::default()
    })
    .await
    .context("could not start the simulator on a loopback port")?;
    let addr = server.addr.to_string();
    eprintln!(
        "evalrun demo: simulated endpoints on http://{addr} (time scale {})",
        args.time_scale
    );

    // The run directory keeps the exact inputs it ran on.
    let inputs = args.out.join("inputs");
    std::fs::create_dir_all(&inputs)
        .with_context(|| format!("could not create {}", inputs.display()))?;
    let config_text = CONFIG.replace(SIM_DEFAULT_ADDR, &addr);
    let write = |name: &str, text: &str| -> Result<PathBuf> {
        let p = inputs.join(name);
        std::fs::write(&p, text).with_context(|| format!("could not write {}", p.display()))?;
        Ok(p)
    };
    let config_path = write("evalrun.toml", &config_text)?;
    let evalset_path = write("oral_english.jsonl", EVALSET)?;
    let rubric_path = write("oral_english.toml", RUBRIC)?;
    // The demo always writes a fresh run into its folder.
    crate::records::files::remove_outputs(&args.out)?;

    let config = Config::parse(&config_path, &config_text)?;
    let models: Vec<String> = config
        .models
        .keys()
        .filter(|m| m.as_str() != "judge")
        .cloned()
        .collect();
    let models = order_line_up(models);
    // The shipped config's Qianfan v1 models read their keys from these variables; the simulator
    // accepts any non-empty pair, so the demo supplies placeholders and never reads the environment.
    let env = |name: &str| match name {
        "EVALRUN_SIM_AK" => Some("demo-api-key".to_string()),
        "EVALRUN_SIM_SK" => Some("demo-secret-key".to_string()),
        _ => None,
    };
    let plan = Plan::build(PlanParts {
        config_ref: FileRef::of_bytes("evalrun.toml (embedded; simulator address filled in)", config_text.as_bytes()),
        config,
        evalset_path,
        rubric_path,
        model_names: models,
        baseline: Some("ernie-speed".into()),
        judge: Some("judge".into()),
        judge_samples: 1,
        out: args.out.clone(),
        samples: 1,
        concurrency: 32,
        margin: None,
        limit: None,
        shard: None,
        quiet: args.quiet,
        simulated: Some(Simulated {
            time_scale: args.time_scale,
            note: format!(
                "simulated endpoints: every answer, grade, latency and fault comes from evalrun's built-in \
                 simulator (time scale {}: latencies are {}× the seeds' real ones). Injected faults \
                 ({DEMO_FAULTS}): rate limits on ernie-4.0 and ernie-speed, 1 % HTTP 500s and 1 % torn \
                 streams, all retried (see Errors: retried); the judge is the simulator's judge model, set \
                 to fail on 2 % of answers so that unjudged answers show. Prices are the seed's list prices",
                args.time_scale, args.time_scale
            ),
        }),
        command_line,
        env: &env,
    })?;
    let code = execute(plan).await;
    if !args.quiet {
        eprintln!("evalrun demo: {}", server.stats().fault_summary());
    }
    server.shutdown().await;
    code
}

/// The seed's table order: flagship, base, then the fine-tuned variants.
fn order_line_up(mut models: Vec<String>) -> Vec<String> {
    let rank = |m: &str| match m {
        "ernie-4.0" => 0,
        "ernie-speed" => 1,
        _ => 2,
    };
    models.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    models
}
