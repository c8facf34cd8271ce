//! `history show`: the trend as markdown (a headline, the drift table, then one table per metric with
//! a row per run, the release baseline marked) or JSON (schema `evalrun-history-show/1`).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::report::text::{esc, Align, Table};

use super::drift::{Params, Row, Status};
use super::{Entry, ModelLine};

/// What `history show` renders.
pub struct Show<'a> {
    /// The history file.
    pub db: &'a Path,
    /// The runs in trend order.
    pub entries: &'a [Entry],
    /// Index of the release baseline in `entries`.
    pub baseline: usize,
    /// The drift rule's settings.
    pub params: &'a Params,
    /// The rule's outcome per (model, dimension).
    pub drift: &'a [Row],
}

impl Show<'_> {
    /// Rows flagged as drift.
    pub fn n_drift(&self) -> usize {
        self.drift
            .iter()
            .filter(|r| r.status == Status::Drift)
            .count()
    }

    fn models(&self) -> BTreeSet<&str> {
        self.entries
            .iter()
            .flat_map(|e| e.models.keys().map(String::as_str))
            .collect()
    }
}

/// The markdown trend.
pub fn markdown(s: &Show) -> String {
    let mut out = String::new();
    let n = s.n_drift();
    let _ = if n > 0 {
        writeln!(out, "## evalrun history: DRIFT — {n} (model, dimension) drifting from the release baseline\n")
    } else {
        writeln!(out, "## evalrun history: no sustained drift\n")
    };
    let base = &s.entries[s.baseline];
    let (first, last) = (&s.entries[0], &s.entries[s.entries.len() - 1]);
    let _ = writeln!(
        out,
        "- history: `{}`, {} runs from {} to {}",
        esc(&s.db.display().to_string()),
        s.entries.len(),
        esc(&first.started_utc),
        esc(&last.started_utc)
    );
    let _ = writeln!(
        out,
        "- release baseline: run {} (started {}{})",
        esc(&base.run_id),
        esc(&base.started_utc),
        base.commit
            .as_deref()
            .map(|c| format!(", commit {}", esc(c)))
            .unwrap_or_default()
    );
    let p = s.params;
    let _ = writeln!(
        out,
        "- drift rule: the mean of the last {} runs against the baseline's, one-sided t-test with se = \
         √(s²/k + max(s², se_baseline²)) on {} df, Holm over the (model, dimension) rows; DRIFT when \
         significant at α = {} **and** the mean drop ≥ the tolerance ({})",
        p.k,
        p.k.saturating_sub(1),
        p.alpha,
        p.tolerance
            .map_or("0.025 × the scale's range".to_string(), |t| format!("{t}"))
    );
    let hashes: BTreeSet<(&str, &str)> = s
        .entries
        .iter()
        .map(|e| (e.evalset_sha256.as_str(), e.rubric_sha256.as_str()))
        .collect();
    if hashes.len() > 1 {
        let _ = writeln!(out, "- **the runs used {} different eval set / rubric versions**: a step in the trend may be the inputs'", hashes.len());
    }
    out.push_str("\n### Drift against the release baseline\n\n");
    let mut t = Table::new([
        ("model", Align::Left),
        ("dimension", Align::Left),
        ("baseline", Align::Right),
        (&*format!("last {} mean", p.k), Align::Right),
        ("change", Align::Right),
        ("t (df)", Align::Right),
        ("p (Holm)", Align::Right),
        ("status", Align::Left),
        ("why", Align::Left),
    ]);
    let mut rows: Vec<&Row> = s.drift.iter().collect();
    rows.sort_by_key(|r| match r.status {
        Status::Drift => 0,
        Status::Stable => 1,
        Status::NotTested => 2,
    });
    for r in rows {
        t.row(vec![
            esc(&r.model),
            esc(&r.dimension),
            opt(r.baseline, 3),
            opt(r.recent_mean, 3),
            r.change.map_or("–".into(), |c| format!("{c:+.3}")),
            match (r.t, r.df) {
                (Some(t), Some(df)) => format!("{t:.2} ({df})"),
                _ => "–".into(),
            },
            match (r.p, r.p_holm) {
                (Some(p), Some(h)) => format!("{p:.4} ({h:.4})"),
                (Some(p), None) => format!("{p:.4}"),
                _ => "–".into(),
            },
            match r.status {
                Status::Drift => "**DRIFT**".into(),
                Status::Stable => "stable".into(),
                Status::NotTested => "not tested".into(),
            },
            esc(&r.why),
        ]);
    }
    out.push_str(&t.render());
    let dims: BTreeSet<&str> = s
        .entries
        .iter()
        .flat_map(|e| {
            e.models
                .values()
                .flat_map(|m| m.dimensions.keys().map(String::as_str))
        })
        .collect();
    for d in dims {
        let _ = write!(out, "\n### `{}` mean (95 % CI)\n\n", esc(d));
        out.push_str(&metric_table(s, &|m| {
            m.dimensions.get(d).and_then(|l| {
                l.mean.map(|x| match (l.ci95_low, l.ci95_high) {
                    (Some(a), Some(b)) => format!("{x:.3} [{a:.2}, {b:.2}]"),
                    _ => format!("{x:.3}"),
                })
            })
        }));
    }
    let metrics: [(&str, &Cell<'_>); 5] = [
        ("mean rule pass rate", &|m| {
            (!m.rules.is_empty()).then(|| {
                format!(
                    "{:.1} %",
                    100.0 * m.rules.values().sum::<f64>() / m.rules.len() as f64
                )
            })
        }),
        ("p50 total latency", &|m| {
            m.latency_p50_ms.map(|x| format!("{x:.0} ms"))
        }),
        ("p90 total latency", &|m| {
            m.latency_p90_ms.map(|x| format!("{x:.0} ms"))
        }),
        ("cost per item", &|m| {
            m.cost_per_item.map(|x| {
                format!(
                    "{x:.4} {}",
                    m.currency.as_deref().map(esc).unwrap_or_default()
                )
                .trim_end()
                .to_string()
            })
        }),
        ("error rate", &|m| {
            m.error_rate.map(|x| format!("{:.1} %", 100.0 * x))
        }),
    ];
    for (title, f) in metrics {
        let _ = write!(out, "\n### {title}\n\n");
        out.push_str(&metric_table(s, f));
    }
    out
}

/// A table cell of one model's line, or None for –.
type Cell<'a> = dyn Fn(&ModelLine) -> Option<String> + 'a;

fn opt(x: Option<f64>, d: usize) -> String {
    x.map_or("–".into(), |v| format!("{v:.d$}"))
}

/// One row per run, one column per model.
fn metric_table(s: &Show, value: &Cell<'_>) -> String {
    let models = s.models();
    let mut cols = vec![
        ("run".to_string(), Align::Left),
        ("started".to_string(), Align::Left),
        ("commit".to_string(), Align::Left),
    ];
    cols.extend(models.iter().map(|m| (esc(m), Align::Right)));
    let mut t = Table::new(cols);
    for (i, e) in s.entries.iter().enumerate() {
        let mut row = vec![
            if i == s.baseline {
                format!("{} (baseline)", esc(&e.run_id))
            } else {
                esc(&e.run_id)
            },
            esc(&e.started_utc),
            e.commit
                .as_deref()
                .map_or("–".into(), |c| esc(&c[..c.len().min(10)])),
        ];
        row.extend(models.iter().map(|m| {
            e.models
                .get(*m)
                .and_then(value)
                .unwrap_or_else(|| "–".into())
        }));
        t.row(row);
    }
    t.render()
}

#[derive(Serialize)]
struct Json<'a> {
    schema: &'static str,
    db: String,
    baseline: &'a str,
    params: JsonParams,
    n_drift: usize,
    drift: &'a [Row],
    runs: &'a [Entry],
}

#[derive(Serialize)]
struct JsonParams {
    k: usize,
    alpha: f64,
    tolerance: Option<f64>,
}

/// The JSON trend (schema `evalrun-history-show/1`): the drift rows and every run's line.
pub fn json(s: &Show) -> anyhow::Result<String> {
    let j = Json {
        schema: "evalrun-history-show/1",
        db: s.db.display().to_string(),
        baseline: &s.entries[s.baseline].run_id,
        params: JsonParams {
            k: s.params.k,
            alpha: s.params.alpha,
            tolerance: s.params.tolerance,
        },
        n_drift: s.n_drift(),
        drift: s.drift,
        runs: s.entries,
    };
    Ok(format!("{}\n", serde_json::to_string_pretty(&j)?))
}
