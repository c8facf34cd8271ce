//! `evalrun sim` as a child process on a free loopback port, stopped on drop: for tests that need a
//! fresh simulator process per run (a seed of its own, or the `degrade` fault, which the simulator
//! remembers per answer for the life of its process).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running `evalrun sim` process.
pub struct SimProcess {
    child: Child,
    /// The loopback port it listens on.
    pub port: u16,
}

impl SimProcess {
    /// `evalrun sim --addr 127.0.0.1:0 --time-scale 0.02 --seed SEED [--faults F]`.
    pub fn start(seed: u64, faults: Option<&str>) -> SimProcess {
        let mut c = Command::new(env!("CARGO_BIN_EXE_evalrun"));
        c.env_clear()
            .args([
                "sim",
                "--addr",
                "127.0.0.1:0",
                "--time-scale",
                "0.02",
                "--seed",
            ])
            .arg(seed.to_string());
        if let Some(f) = faults {
            c.args(["--faults", f]);
        }
        let mut child = c
            .stdout(Stdio::piped())
            .spawn()
            .expect("evalrun sim starts");
        let mut line = String::new();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        reader.read_line(&mut line).unwrap();
        // Keep draining the banner and whatever follows, so the simulator never writes to a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        // "evalrun sim listening on http://127.0.0.1:PORT (…"
        let port = line
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        SimProcess { child, port }
    }

    /// `http://127.0.0.1:PORT/v1`: the OpenAI-compatible base URL.
    pub fn openai_base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
