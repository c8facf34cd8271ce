//! Ctrl-C (and SIGTERM, which CI cancellation and Kubernetes send) during a run (DESIGN.md §7).
//!
//! The first signal stops the scheduling of new units; units already taken may finish for a grace
//! period, then are abandoned (their answers were not recorded, so `--resume` asks for them again).
//! The caller then closes the store, writes manifest, summary and reports for what arrived, and exits
//! 130. A second signal exits 130 at once: every record already written is a whole line, and at most
//! a torn last line is left, which readers ignore and `--resume` cuts off.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::error::exit;

/// How long in-flight requests may still finish after the first Ctrl-C.
pub const GRACE: Duration = Duration::from_secs(5);

/// A shared "stop" flag with the instant it was raised. Cheap to clone.
#[derive(Clone, Default)]
pub struct Interrupt {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    requested: AtomicBool,
    at: Mutex<Option<Instant>>,
    notify: Notify,
}

impl Interrupt {
    /// No interruption requested yet.
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// Raise the flag (idempotent; the first call fixes the instant the grace period counts from).
    pub fn request(&self) {
        let mut at = self.inner.at.lock().expect("interrupt lock");
        if at.is_none() {
            *at = Some(Instant::now());
        }
        self.inner.requested.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    /// Whether Ctrl-C has been pressed.
    pub fn is_requested(&self) -> bool {
        self.inner.requested.load(Ordering::SeqCst)
    }

    /// Resolves once the flag is raised.
    pub async fn requested(&self) {
        loop {
            // Created before the check, so a `request` between the check and the await is not missed.
            let notified = self.inner.notify.notified();
            if self.is_requested() {
                return;
            }
            notified.await;
        }
    }

    /// Resolves `grace` after the flag was raised: the moment in-flight units are abandoned.
    pub async fn grace_over(&self, grace: Duration) {
        self.requested().await;
        let at = self
            .inner
            .at
            .lock()
            .expect("interrupt lock")
            .unwrap_or_else(Instant::now);
        tokio::time::sleep_until(at + grace).await;
    }

    /// Listen for Ctrl-C and SIGTERM until the returned task is aborted: the first raises the flag and
    /// says what happens next on stderr; the second ends the process at once with exit code 130.
    pub fn listen(&self) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            if signal().await.is_err() {
                // No signal handling on this platform: the default (immediate exit) stays.
                return;
            }
            me.request();
            eprintln!(
                "\nevalrun: interrupted — no new requests; waiting up to {} s for those in flight, then \
                 writing what arrived (Ctrl-C again to exit at once; continue later with --resume)",
                GRACE.as_secs()
            );
            if signal().await.is_ok() {
                eprintln!(
                    "evalrun: interrupted again — exiting now; records written so far stay valid"
                );
                std::process::exit(i32::from(exit::INTERRUPTED));
            }
        })
    }
}

/// The next Ctrl-C or (on Unix) SIGTERM.
async fn signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn grace_counts_from_the_first_request() {
        let grace = Duration::from_millis(300);
        let stop = Interrupt::new();
        assert!(!stop.is_requested());
        let waiter = {
            let stop = stop.clone();
            tokio::spawn(async move {
                stop.grace_over(grace).await;
                Instant::now()
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let t0 = Instant::now();
        stop.request();
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop.request(); // a repeat does not restart the clock
        let waited = waiter.await.unwrap() - t0;
        assert!(
            waited >= grace && waited < grace + Duration::from_millis(150),
            "{waited:?}"
        );
        // Already raised: resolves at once.
        stop.requested().await;
    }
}
