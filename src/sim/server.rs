//! Running the simulator: in-process on `127.0.0.1:0` ([`start`]) for tests and `demo`, or in
//! the foreground for `evalrun sim` ([`run_foreground`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::faults::Faults;
use super::profiles::PROFILES;
use super::qianfan::chat_path;
use super::serve::{lock, AppState};
use super::stats::SimStats;
use super::wire::SimListener;
use super::{router, SimConfig};

/// A simulator serving in this process.
pub struct SimServer {
    /// Where it listens (loopback, an OS-chosen port).
    pub addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

/// How long [`SimServer::shutdown`] lets in-flight answers finish before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl SimServer {
    /// `http://127.0.0.1:PORT`: the Qianfan base URL (`QIANFAN_BASE_URL`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v1`: the OpenAI-compatible base URL.
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// A snapshot of the counters (the same as `GET /sim/stats`).
    pub fn stats(&self) -> SimStats {
        lock(&self.state.stats).clone()
    }

    /// Stops accepting connections, lets in-flight answers finish (at most a few seconds, then
    /// they are cut), and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

/// Serves [`super::app`] on `127.0.0.1:0` in a background task.
pub async fn start(cfg: SimConfig) -> std::io::Result<SimServer> {
    cfg.validate()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(AppState::new(cfg));
    let app = router(state.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(SimListener(listener), app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    Ok(SimServer {
        addr,
        state,
        stop: Some(tx),
        task,
    })
}

/// `evalrun sim`: serve the simulator in the foreground.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Address to listen on (keep it on loopback).
    #[arg(long, default_value = "127.0.0.1:8765")]
    pub addr: SocketAddr,
    /// Multiplies every simulated delay (0.02 = fifty times faster; 0 = no delays).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Faults to inject, e.g. `rate=5,expire_every=20,tear=0.05,ernie-speed:error500=0.1`.
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<Faults>,
    /// Accept only this API key (`client_id`; also the OpenAI bearer key). Needs --sk.
    #[arg(long, requires = "sk")]
    pub ak: Option<String>,
    /// Accept only this secret key (`client_secret`). Needs --ak.
    #[arg(long, requires = "ak")]
    pub sk: Option<String>,
    /// Seed for answers, latencies, faults and token ids.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Serve a profile under another v1 segment / model id, e.g. `rfthglwm_english0512=sft-full-e6-lr3e-5`.
    #[arg(long = "alias", value_name = "NAME=PROFILE")]
    pub aliases: Vec<String>,
}

impl SimArgs {
    /// The configuration these flags describe.
    pub fn config(&self) -> anyhow::Result<SimConfig> {
        let mut aliases = Vec::new();
        for a in &self.aliases {
            let (name, target) = a
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--alias `{a}`: expected NAME=PROFILE"))?;
            aliases.push((name.trim().to_string(), target.trim().to_string()));
        }
        let cfg = SimConfig {
            time_scale: self.time_scale,
            faults: self.faults.clone().unwrap_or_default(),
            credentials: self.ak.clone().zip(self.sk.clone()),
            seed: self.seed,
            aliases,
        };
        cfg.validate().map_err(anyhow::Error::msg)?;
        Ok(cfg)
    }
}

/// What `evalrun sim` prints on start: where it listens, what it serves, how to point evalrun at it.
pub fn banner(addr: SocketAddr, cfg: &SimConfig) -> String {
    let mut out = format!(
        "evalrun sim listening on http://{addr} (time scale {}, faults {}, seed {})\n\n",
        cfg.time_scale, cfg.faults, cfg.seed
    );
    out.push_str("model                  v1 endpoint segment(s)        OpenAI / v2 model ids\n");
    for p in PROFILES {
        out.push_str(&format!(
            "{:<22} {:<29} {}\n",
            p.name,
            p.v1_endpoints.join(","),
            p.openai_names.join(", ")
        ));
    }
    for (alias, target) in &cfg.aliases {
        out.push_str(&format!("{alias:<22} (alias of {target})\n"));
    }
    out.push_str(&format!(
        "\nroutes: POST /oauth/2.0/token, POST {}, POST /v1/chat/completions, POST /v1/completions,\n        POST /v2/chat/completions, GET /sim/stats, GET /sim/models\n",
        chat_path("{endpoint}")
    ));
    let (ak, sk) = match &cfg.credentials {
        Some((ak, _)) => (ak.as_str(), "<the --sk value>"),
        None => ("any-non-empty", "any-non-empty"),
    };
    out.push_str(&format!(
        "\nexample evalrun.toml:\n\n\
         [models.ernie-speed]\n\
         provider = \"qianfan\"\n\
         endpoint = \"ernie_speed\"\n\
         base_url = \"http://{addr}\"\n\
         api_key_env = \"QIANFAN_AK\"      # export QIANFAN_AK={ak}\n\
         secret_key_env = \"QIANFAN_SK\"   # export QIANFAN_SK={sk}\n\n\
         [models.sft-full-e6]\n\
         provider = \"openai\"\n\
         base_url = \"http://{addr}/v1\"\n\
         model = \"sft-full-e6-lr3e-5\"\n"
    ));
    out
}

/// Serves until Ctrl-C, then shuts down gracefully.
pub async fn run_foreground(args: SimArgs) -> anyhow::Result<()> {
    let cfg = args.config()?;
    let listener = TcpListener::bind(args.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener.local_addr()?;
    println!("{}", banner(addr, &cfg));
    let state = Arc::new(AppState::new(cfg));
    axum::serve(SimListener(listener), router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimArgs,
    }

    #[test]
    fn flags_parse_into_a_config() {
        let cli = Cli::try_parse_from([
            "sim",
            "--time-scale",
            "0.02",
            "--faults",
            "rate=5,ernie-speed:tear=0.1",
            "--ak",
            "a",
            "--sk",
            "b",
            "--alias",
            "rfthglwm_english0512=sft-full-e6-lr3e-5",
        ])
        .unwrap();
        assert_eq!(cli.sim.addr, "127.0.0.1:8765".parse().unwrap());
        let cfg = cli.sim.config().unwrap();
        assert_eq!(cfg.time_scale, 0.02);
        assert_eq!(cfg.faults.for_model("ernie-speed").tear, Some(0.1));
        assert_eq!(cfg.credentials, Some(("a".into(), "b".into())));
        assert_eq!(cfg.aliases[0].0, "rfthglwm_english0512");
        assert!(Cli::try_parse_from(["sim", "--faults", "tear=7"]).is_err());
        assert!(Cli::try_parse_from(["sim", "--ak", "a"]).is_err());
        let bad = Cli::try_parse_from(["sim", "--alias", "x=nope"]).unwrap();
        assert!(bad.sim.config().is_err());
    }

    #[test]
    fn banner_lists_every_model_and_a_config_snippet() {
        let b = banner("127.0.0.1:8765".parse().unwrap(), &SimConfig::default());
        for p in PROFILES {
            assert!(
                b.contains(p.name) && b.contains(p.v1_endpoints[0]),
                "{}",
                p.name
            );
        }
        assert!(b.contains("base_url = \"http://127.0.0.1:8765/v1\""));
        assert!(b.contains("/v2/chat/completions"));
    }
}
