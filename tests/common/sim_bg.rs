//! The built-in simulator (`evalrun::sim::start`) on its own runtime thread, for tests that drive the
//! real binary as a child process; plus a sampler of its counters over time (achieved rates).
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use evalrun::sim::{SimConfig, SimServer, SimStats};

pub struct BgSim {
    server: Option<SimServer>,
    rt: tokio::runtime::Runtime,
}

impl BgSim {
    pub fn start(cfg: SimConfig) -> BgSim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(evalrun::sim::start(cfg)).unwrap();
        BgSim {
            server: Some(server),
            rt,
        }
    }

    fn server(&self) -> &SimServer {
        self.server.as_ref().expect("running")
    }

    /// `http://127.0.0.1:PORT` (Qianfan base URL).
    pub fn base_url(&self) -> String {
        self.server().base_url()
    }

    pub fn openai_base_url(&self) -> String {
        self.server().openai_base_url()
    }

    pub fn stats(&self) -> SimStats {
        self.server().stats()
    }

    /// Sample `f(stats)` every `every` until the returned sampler is stopped.
    pub fn sample(self: &Arc<Self>, every: Duration, f: fn(&SimStats) -> u64) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let points = Arc::new(Mutex::new(Vec::new()));
        let (sim, s, p) = (self.clone(), stop.clone(), points.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let v = f(&sim.stats());
                p.lock().unwrap().push((Instant::now(), v));
                std::thread::sleep(every);
            }
        });
        Sampler {
            stop,
            points,
            handle: Some(handle),
        }
    }
}

impl Drop for BgSim {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            self.rt.block_on(s.shutdown());
        }
    }
}

/// Counter samples over time.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    points: Arc<Mutex<Vec<(Instant, u64)>>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    pub fn finish(mut self) -> Vec<(Instant, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            h.join().unwrap();
        }
        self.points.lock().unwrap().clone()
    }
}

/// Units per second from `skip` after the counter first moved to the moment it reached its final
/// value (the run's busy period, without its start-up burst), and that window's length.
pub fn achieved_rate(points: &[(Instant, u64)], skip: Duration) -> (f64, Duration) {
    let last = points.last().expect("samples").1;
    let start = points.iter().find(|(_, v)| *v > 0).expect("moved").0;
    let a = points
        .iter()
        .find(|(t, _)| *t >= start + skip)
        .expect("ran longer than skip");
    let b = points.iter().find(|(_, v)| *v == last).expect("final");
    let dt = b.0.duration_since(a.0);
    ((b.1 - a.1) as f64 / dt.as_secs_f64(), dt)
}
