//! Progress on stderr for long runs: per model done/total, errors, retries, throughput and ETA.
//!
//! On a terminal, one indicatif bar per model. When stderr is not a terminal (CI logs) indicatif hides
//! itself and drops `println` (CRATES.md §2.6), so plain lines are printed instead, every 10 % of the
//! work or every 10 s, whichever comes first. `--quiet` shows nothing. Units already recorded by an
//! earlier session (`--resume`) count as done from the start, but throughput and ETA are measured on
//! this session's units only.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Plain lines at least this often (and at every 10 % of the work).
const PLAIN_EVERY: Duration = Duration::from_secs(10);

/// One line of work: a model's units (or, with [`Progress::new`], everything).
struct Line {
    name: String,
    bar: ProgressBar,
    total: u64,
    /// Done before this session started.
    already: u64,
    done: AtomicU64,
    errors: AtomicU64,
    retries: AtomicU64,
}

impl Line {
    /// Units per second this session, and the time left at that pace.
    fn pace(&self, elapsed: Duration) -> (f64, Option<Duration>) {
        let done = self.done.load(Ordering::Relaxed);
        let fresh = done.saturating_sub(self.already);
        let secs = elapsed.as_secs_f64().max(1e-3);
        let rate = fresh as f64 / secs;
        let left = self.total.saturating_sub(done);
        let eta = if left == 0 {
            Some(Duration::ZERO)
        } else if fresh == 0 {
            None
        } else {
            Some(Duration::from_secs_f64(left as f64 / rate))
        };
        (rate, eta)
    }

    fn message(&self, elapsed: Duration) -> String {
        let (rate, eta) = self.pace(elapsed);
        format!(
            "{} err, {} retries, {rate:.1}/s, ETA {}",
            self.errors.load(Ordering::Relaxed),
            self.retries.load(Ordering::Relaxed),
            eta_text(eta)
        )
    }
}

/// The progress line on stderr: answers, judge calls, errors, elapsed time.
pub struct Progress {
    what: String,
    lines: Vec<Line>,
    /// Keeps the bars drawn together; `None` when hidden.
    _multi: Option<MultiProgress>,
    plain: bool,
    start: Instant,
    last_plain: Mutex<(Instant, u64)>,
}

impl Progress {
    /// One line of `total` units labelled `what` (e.g. a judge phase).
    pub fn new(total: u64, what: &str, quiet: bool) -> Self {
        Progress::build(what, &[(what.to_string(), total, 0)], quiet)
    }

    /// One line per model: `(name, total units, units already done)`.
    pub fn per_model(what: &str, models: &[(String, u64, u64)], quiet: bool) -> Self {
        Progress::build(what, models, quiet)
    }

    fn build(what: &str, models: &[(String, u64, u64)], quiet: bool) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let hidden = quiet || multi.is_hidden();
        let width = models
            .iter()
            .map(|m| m.0.chars().count())
            .max()
            .unwrap_or(0);
        let style = ProgressStyle::with_template(&format!(
            "{{prefix:<{width}}} [{{bar:30}}] {{pos}}/{{len}} {{msg}}"
        ))
        .expect("static template")
        .progress_chars("=> ");
        let lines = models
            .iter()
            .map(|(name, total, already)| {
                let bar = if hidden {
                    ProgressBar::hidden()
                } else {
                    multi.add(ProgressBar::new(*total))
                };
                bar.set_style(style.clone());
                bar.set_prefix(name.clone());
                bar.set_position(*already);
                Line {
                    name: name.clone(),
                    bar,
                    total: *total,
                    already: *already,
                    done: AtomicU64::new(*already),
                    errors: AtomicU64::new(0),
                    retries: AtomicU64::new(0),
                }
            })
            .collect::<Vec<Line>>();
        for l in &lines {
            l.bar.set_message(l.message(Duration::ZERO));
        }
        let already: u64 = models.iter().map(|m| m.2).sum();
        Progress {
            what: what.to_string(),
            lines,
            _multi: (!hidden).then_some(multi),
            plain: !quiet && hidden,
            start: Instant::now(),
            last_plain: Mutex::new((Instant::now(), already)),
        }
    }

    /// A unit of the first (or only) line finished.
    pub fn unit_done(&self, failed: bool, retries: u32) {
        self.model_done(0, failed, retries);
    }

    /// A unit of line `index` (the model's position in `per_model`) finished after `retries` extra
    /// attempts; `failed` when it ended in an error.
    pub fn model_done(&self, index: usize, failed: bool, retries: u32) {
        let Some(line) = self.lines.get(index) else {
            return;
        };
        line.done.fetch_add(1, Ordering::Relaxed);
        line.errors.fetch_add(u64::from(failed), Ordering::Relaxed);
        line.retries
            .fetch_add(u64::from(retries), Ordering::Relaxed);
        line.bar.set_message(line.message(self.start.elapsed()));
        line.bar.inc(1);
        if self.plain {
            self.maybe_plain_line();
        }
    }

    fn maybe_plain_line(&self) {
        let total: u64 = self.lines.iter().map(|l| l.total).sum();
        let done: u64 = self
            .lines
            .iter()
            .map(|l| l.done.load(Ordering::Relaxed))
            .sum();
        let mut last = self.last_plain.lock().expect("progress lock");
        let step = (total / 10).max(1);
        if done == total || done >= last.1 + step || last.0.elapsed() >= PLAIN_EVERY {
            eprintln!("{}", self.plain_line());
            *last = (Instant::now(), done);
        }
    }

    /// `evalrun: answers 120/400, 3 err, 2 retries, 2.1/s, ETA 2m 13s — a 60/200 (1 err), b 60/200 (2 err)`.
    pub fn plain_line(&self) -> String {
        let elapsed = self.start.elapsed();
        let sum = |f: fn(&Line) -> u64| -> u64 { self.lines.iter().map(f).sum() };
        let done = sum(|l| l.done.load(Ordering::Relaxed));
        let total = sum(|l| l.total);
        let errors = sum(|l| l.errors.load(Ordering::Relaxed));
        let retries = sum(|l| l.retries.load(Ordering::Relaxed));
        let rate: f64 = self.lines.iter().map(|l| l.pace(elapsed).0).sum();
        // Models run side by side under their own limits: the slowest one decides.
        let eta = self
            .lines
            .iter()
            .map(|l| l.pace(elapsed).1)
            .try_fold(Duration::ZERO, |acc, e| e.map(|e| acc.max(e)));
        let mut s = format!(
            "evalrun: {} {done}/{total}, {errors} err, {retries} retries, {rate:.1}/s, ETA {}",
            self.what,
            eta_text(eta)
        );
        if self.lines.len() > 1 {
            let per: Vec<String> = self
                .lines
                .iter()
                .map(|l| {
                    let e = l.errors.load(Ordering::Relaxed);
                    let mut t =
                        format!("{} {}/{}", l.name, l.done.load(Ordering::Relaxed), l.total);
                    if e > 0 {
                        t.push_str(&format!(" ({e} err)"));
                    }
                    t
                })
                .collect();
            s.push_str(" — ");
            s.push_str(&per.join(", "));
        }
        s
    }

    /// Print a message without tearing the bars (a plain `eprintln!` when they are hidden).
    pub fn println(&self, msg: &str) {
        match self.lines.first() {
            Some(l) if !l.bar.is_hidden() => l.bar.suspend(|| eprintln!("{msg}")),
            _ => eprintln!("{msg}"),
        }
    }

    /// Clears the progress line.
    pub fn finish(&self) {
        for l in &self.lines {
            l.bar.finish_and_clear();
        }
    }
}

fn eta_text(eta: Option<Duration>) -> String {
    match eta {
        None => "?".into(),
        Some(d) => {
            let s = d.as_secs();
            match s {
                0..60 => format!("{s}s"),
                60..3600 => format!("{}m {:02}s", s / 60, s % 60),
                _ => format!("{}h {:02}m", s / 3600, s / 60 % 60),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_line_counts_per_model_and_resumed_units() {
        let p = Progress::per_model("answers", &[("a".into(), 10, 4), ("b".into(), 10, 0)], true);
        p.model_done(0, false, 2);
        p.model_done(1, true, 0);
        p.model_done(1, false, 1);
        let line = p.plain_line();
        assert!(
            line.starts_with("evalrun: answers 7/20, 1 err, 3 retries, "),
            "{line}"
        );
        assert!(line.ends_with("— a 5/10, b 2/10 (1 err)"), "{line}");
        // An index past the lines is ignored, not a panic.
        p.model_done(9, false, 0);
    }

    #[test]
    fn eta_reads_like_a_clock() {
        assert_eq!(eta_text(None), "?");
        assert_eq!(eta_text(Some(Duration::from_secs(42))), "42s");
        assert_eq!(eta_text(Some(Duration::from_secs(133))), "2m 13s");
        assert_eq!(eta_text(Some(Duration::from_secs(7322))), "2h 02m");
    }
}
