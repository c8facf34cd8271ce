//! Progress on stderr: an indicatif bar on a terminal; plain periodic lines (every 10 % or 10 s) when
//! stderr is not a terminal, as in CI logs; nothing with `--quiet`. indicatif hides itself when stderr
//! is not a terminal, and then drops `println`, hence the plain-line path (CRATES.md §2.6).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
    plain: bool,
    total: u64,
    done: AtomicU64,
    errors: AtomicU64,
    retries: AtomicU64,
    start: Instant,
    last_plain: Mutex<(Instant, u64)>,
}

impl Progress {
    pub fn new(total: u64, what: &str, quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} {msg} ({per_sec}, eta {eta})",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.set_prefix(what.to_string());
        let plain = !quiet && bar.is_hidden();
        if quiet {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        Progress {
            bar,
            plain,
            total,
            done: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            start: Instant::now(),
            last_plain: Mutex::new((Instant::now(), 0)),
        }
    }

    /// One unit finished, with `retries` extra attempts; `failed` if it ended in an error.
    pub fn unit_done(&self, failed: bool, retries: u32) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let errors =
            self.errors.fetch_add(u64::from(failed), Ordering::Relaxed) + u64::from(failed);
        let retries = self
            .retries
            .fetch_add(u64::from(retries), Ordering::Relaxed)
            + u64::from(retries);
        self.bar
            .set_message(format!("{errors} errors, {retries} retries"));
        self.bar.inc(1);
        if self.plain {
            let mut last = self.last_plain.lock().expect("progress lock");
            let step = (self.total / 10).max(1);
            if done == self.total
                || done >= last.1 + step
                || last.0.elapsed() >= Duration::from_secs(10)
            {
                let secs = self.start.elapsed().as_secs_f64().max(1e-9);
                eprintln!(
                    "evalrun: {done}/{} done, {errors} errors, {retries} retries, {:.1} req/s",
                    self.total,
                    done as f64 / secs
                );
                *last = (Instant::now(), done);
            }
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
