//! The judge drift canary (`evalrun judge-check`): the grades a judge gives today to a frozen run's
//! recorded answers against the grades recorded then, per dimension. Pure functions over two runs'
//! scores: the recorded run and its re-judged copy hold the same answers, so any difference is the
//! judge's.
//!
//! Per dimension, over the (model, item, sample) units scored in both: each run's item score (mean of
//! the non-null sample scores, STATS §2) per (model, item); dᵢ = round(s_new − s_recorded, 9); E(d)
//! with the answers to one item (every model's) as one cluster; the two-sided test of 0; Holm over
//! the dimensions tested. **DRIFT** ⇔ p_holm < α and |mean_diff| ≥ τ − 10⁻⁹, τ = `--tolerance`, else
//! 0.025·range (STATS §7's default).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::dimensions::dimension_scales;
use super::render_md::{fmt_p, signed};
use super::{Gate, Run, Status};
use crate::error::UsageError;
use crate::records::UnitKey;
use crate::stats::describe::round9;
use crate::stats::estimate::{estimate, holm, Alternative, Bounds, TestStatus};

/// `schema` of `evalrun judge-check --json`.
pub const SCHEMA: &str = "evalrun-judge-check/1";
/// A dimension's status when the judge grades it differently now.
pub const DRIFT: &str = "DRIFT";
/// A dimension's status when no drift was found.
pub const OK: &str = "OK";
/// A dimension's status when it could not be compared.
pub const NOT_TESTED: &str = "NOT TESTED";

/// The comparison's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Significance level of the two-sided tests, after Holm.
    pub alpha: f64,
    /// Smallest |mean difference| that counts as drift; `None`: 0.025 × the scale's range.
    pub tolerance: Option<f64>,
}

/// One dimension: recorded and new grades of the same answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftRow {
    /// (model, item) pairs scored in both.
    pub n_pairs: usize,
    /// Clusters (items) those pairs fall into.
    pub n_clusters: usize,
    /// Degrees of freedom of the test.
    pub df: Option<f64>,
    /// Mean recorded score.
    pub mean_recorded: Option<f64>,
    /// Mean new score.
    pub mean_new: Option<f64>,
    /// Mean per-pair difference (new − recorded).
    pub mean_diff: Option<f64>,
    /// Its standard error.
    pub se_diff: Option<f64>,
    /// 95 % interval of the mean difference, low end.
    pub ci95_low: Option<f64>,
    /// 95 % interval of the mean difference, high end.
    pub ci95_high: Option<f64>,
    /// t statistic.
    pub t: Option<f64>,
    /// Two-sided p of the test of 0.
    pub p: Option<f64>,
    /// Holm-adjusted p over the dimensions tested.
    pub p_holm: Option<f64>,
    /// Tests in the Holm family.
    pub m_family: usize,
    /// Smallest |mean_diff| that counts as drift.
    pub tolerance: f64,
    /// Pairs whose grade fell / rose.
    pub n_lower: usize,
    /// Pairs whose grade rose.
    pub n_higher: usize,
    /// DRIFT, OK or NOT TESTED.
    pub status: String,
    /// Why the row has its status.
    pub why: String,
}

/// The whole check, as `--json` writes it and `gate --judge-check` reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeCheck {
    /// [`SCHEMA`].
    pub schema: String,
    /// The frozen run directory.
    pub frozen: String,
    /// The judge that graded the frozen run.
    pub judge_recorded: Option<String>,
    /// The judge asked now.
    pub judge_new: Option<String>,
    /// Significance level.
    pub alpha: f64,
    /// DRIFT or NO DRIFT.
    pub verdict: String,
    /// Dimensions with drift.
    pub drifted: Vec<String>,
    /// One row per dimension.
    pub dimensions: BTreeMap<String, DriftRow>,
}

impl JudgeCheck {
    /// Whether the judge grades some dimension differently now.
    pub fn drift(&self) -> bool {
        !self.drifted.is_empty()
    }
}

/// (model, item) → each run's item score of `dim` over the units scored in both.
fn pairs(recorded: &Run, rejudged: &Run, dim: &str) -> BTreeMap<(String, String), (f64, f64)> {
    let mut acc: BTreeMap<(String, String), [(f64, usize); 2]> = BTreeMap::new();
    let score = |run: &Run, k: &UnitKey| {
        run.scores
            .get(k)
            .and_then(|s| s.dimensions.get(dim))
            .and_then(|s| *s)
    };
    for key in recorded.scores.keys() {
        if !rejudged.scores.contains_key(key) {
            continue;
        }
        for (i, run) in [recorded, rejudged].into_iter().enumerate() {
            if let Some(s) = score(run, key) {
                let e = acc
                    .entry((key.model.clone(), key.item_id.clone()))
                    .or_default();
                e[i].0 += s;
                e[i].1 += 1;
            }
        }
    }
    acc.into_iter()
        .filter(|(_, [a, b])| a.1 > 0 && b.1 > 0)
        .map(|(k, [a, b])| (k, (a.0 / a.1 as f64, b.0 / b.1 as f64)))
        .collect()
}

/// One dimension's row, undecided (`p_holm` and status are set by [`compare`]).
fn row(recorded: &Run, rejudged: &Run, dim: &str, tolerance: f64) -> (DriftRow, TestStatus) {
    from_pairs(&pairs(recorded, rejudged, dim), tolerance)
}

/// [`row`] from the (model, item) → (recorded, new) item scores.
fn from_pairs(
    pairs: &BTreeMap<(String, String), (f64, f64)>,
    tolerance: f64,
) -> (DriftRow, TestStatus) {
    let d: Vec<f64> = pairs.values().map(|(a, b)| round9(b - a)).collect();
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    let labels: Vec<usize> = pairs
        .keys()
        .map(|(_, item)| {
            let next = ids.len();
            *ids.entry(item.as_str()).or_insert(next)
        })
        .collect();
    let e = estimate(&d, Some(&labels));
    let test = e.test(&d, Alternative::TwoSided);
    let ci = e.interval(Bounds::Free);
    let n = pairs.len();
    let mean =
        |f: fn(&(f64, f64)) -> f64| (n > 0).then(|| pairs.values().map(f).sum::<f64>() / n as f64);
    let row = DriftRow {
        n_pairs: n,
        n_clusters: e.n_clusters,
        df: e.df.map(|x| x as f64),
        mean_recorded: mean(|p| p.0),
        mean_new: mean(|p| p.1),
        mean_diff: e.mean,
        se_diff: e.se,
        ci95_low: ci.map(|c| c.0),
        ci95_high: ci.map(|c| c.1),
        t: test.t,
        p: test.p,
        p_holm: None,
        m_family: 0,
        tolerance,
        n_lower: d.iter().filter(|x| **x < 0.0).count(),
        n_higher: d.iter().filter(|x| **x > 0.0).count(),
        status: String::new(),
        why: String::new(),
    };
    (row, test.status)
}

/// Compare the re-judged copy with the frozen run, every dimension of either run's rubric.
pub fn compare(recorded: &Run, rejudged: &Run, params: &Params) -> JudgeCheck {
    let scales = dimension_scales(recorded, rejudged);
    let mut rows: Vec<(String, DriftRow, TestStatus)> = scales
        .iter()
        .map(|(dim, (lo, hi))| {
            let tol = params.tolerance.unwrap_or(0.025 * (hi - lo) as f64);
            let (r, st) = row(recorded, rejudged, dim, tol);
            (dim.clone(), r, st)
        })
        .collect();
    let p: Vec<Option<f64>> = rows.iter().map(|(_, r, _)| r.p).collect();
    let (adjusted, m) = holm(&p);
    let mut drifted = Vec::new();
    for ((dim, r, st), adj) in rows.iter_mut().zip(adjusted) {
        r.p_holm = adj;
        r.m_family = m;
        let big = r.mean_diff.is_some_and(|x| x.abs() >= r.tolerance - 1e-9);
        let significant = adj.is_some_and(|x| x < params.alpha);
        (r.status, r.why) = match st {
            TestStatus::NotTested => (
                NOT_TESTED.into(),
                format!("{} graded pairs in fewer than 2 items", r.n_pairs),
            ),
            TestStatus::NoVariation => (OK.into(), "no grade changed".into()),
            TestStatus::Run if significant && big => {
                drifted.push(dim.clone());
                (
                    DRIFT.into(),
                    "significant after Holm, and at least the tolerance".into(),
                )
            }
            TestStatus::Run if significant => (
                OK.into(),
                "significant, but smaller than the tolerance".into(),
            ),
            TestStatus::Run => (OK.into(), "not significant after Holm".into()),
        };
    }
    JudgeCheck {
        schema: SCHEMA.into(),
        frozen: recorded.dir.display().to_string(),
        judge_recorded: recorded.manifest.judge.clone(),
        judge_new: rejudged.manifest.judge.clone(),
        alpha: params.alpha,
        verdict: if drifted.is_empty() {
            "NO DRIFT"
        } else {
            DRIFT
        }
        .into(),
        drifted,
        dimensions: rows.into_iter().map(|(d, r, _)| (d, r)).collect(),
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{v:.3}"))
}

fn drifted_list(c: &JudgeCheck) -> String {
    c.drifted
        .iter()
        .map(|d| {
            let diff = c.dimensions[d]
                .mean_diff
                .map_or("–".into(), |x| signed(x, 3));
            format!("`{d}` ({diff})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The markdown verdict: a headline, what was compared, one row per dimension.
pub fn render_md(c: &JudgeCheck) -> String {
    let mut s = String::new();
    let _ = if c.drift() {
        writeln!(
            s,
            "## evalrun judge-check: DRIFT — the judge grades {} differently now\n",
            drifted_list(c)
        )
    } else {
        writeln!(
            s,
            "## evalrun judge-check: NO DRIFT on {} dimensions\n",
            c.dimensions.len()
        )
    };
    let judge = |j: &Option<String>| j.clone().unwrap_or_else(|| "none".into());
    let _ = writeln!(
        s,
        "- frozen run: `{}`, graded by `{}`; re-graded now by `{}` (no model was asked)\n\
         - per dimension, new − recorded grade of the same answers, paired over (model, item), the \
         answers to one item one cluster; two-sided t, Holm over the dimensions; DRIFT when \
         p (Holm) < α = {} and |diff| reaches the tolerance\n",
        c.frozen.replace('`', ""),
        judge(&c.judge_recorded),
        judge(&c.judge_new),
        c.alpha
    );
    s.push_str(
        "| dimension | recorded mean | new mean | diff | 95 % CI | p | p (Holm) | tolerance | verdict | why |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (dim, r) in &c.dimensions {
        let ci = match (r.ci95_low, r.ci95_high) {
            (Some(a), Some(b)) => format!("[{}, {}]", signed(a, 3), signed(b, 3)),
            _ => "–".into(),
        };
        let status = if r.status == DRIFT {
            format!("**{DRIFT}**")
        } else {
            r.status.clone()
        };
        let _ = writeln!(
            s,
            "| {dim} | {} | {} | {} | {ci} | {} | {} | {:.3} | {status} | {} pairs: {} |",
            opt(r.mean_recorded),
            opt(r.mean_new),
            r.mean_diff.map_or("–".into(), |x| signed(x, 3)),
            r.p.map_or("–".into(), fmt_p),
            r.p_holm.map_or("–".into(), fmt_p),
            r.tolerance,
            r.n_pairs,
            r.why
        );
    }
    s
}

/// Reads the JSON `evalrun judge-check --json` wrote; the error names the file.
pub fn read(path: &std::path::Path) -> Result<JudgeCheck, UsageError> {
    let bad = |why: String| UsageError::new(format!("--judge-check {}: {why}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let c: JudgeCheck = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if c.schema != SCHEMA {
        return Err(bad(format!("schema `{}`, expected `{SCHEMA}`", c.schema)));
    }
    Ok(c)
}

/// `note` placed under the first line (the headline) of the gate's markdown `text`.
pub fn insert_under_headline(text: &mut String, note: &str) {
    let at = text.find("\n\n").map_or(text.len(), |i| i + 2);
    text.insert_str(at, note);
}

/// The gate's paragraph on the judge (`gate --judge-check F`, `source` = F): "the judge changed"
/// (which dimensions, and which gate rows they touch) apart from "the model regressed" (the failing
/// checks drift does not explain), or that the judge did not change.
pub fn gate_note(c: &JudgeCheck, g: &Gate, source: &str) -> String {
    let mut s = String::new();
    let src = source.replace('`', "");
    if !c.drift() {
        let _ = writeln!(
            s,
            "### The judge did not change\n\n`evalrun judge-check` (`{src}`) re-graded the frozen run \
             `{}` and found no drift on any dimension (α = {}): the dimension rows below are about \
             the models.\n",
            c.frozen.replace('`', ""),
            c.alpha
        );
        return s;
    }
    let (mut judged, mut regressed) = (Vec::new(), Vec::new());
    for (model, m) in &g.models {
        for (dim, r) in &m.dimensions {
            if matches!(r.status, Status::Fail | Status::Warn) {
                let what = format!("{model} `{dim}` ({})", r.status.as_str());
                if c.drifted.contains(dim) {
                    judged.push(what);
                } else if r.status == Status::Fail {
                    regressed.push(what);
                }
            }
        }
        let others = m
            .rules
            .iter()
            .map(|(r, row)| (format!("rule `{r}`"), row.status))
            .chain([
                ("p90 latency".to_string(), m.latency.status),
                ("errors".to_string(), m.errors.status),
                ("cached answers".to_string(), m.cached.status),
            ]);
        for (check, st) in others {
            if st == Status::Fail {
                regressed.push(format!("{model} {check}"));
            }
        }
    }
    let _ = writeln!(
        s,
        "### The judge changed\n\n`evalrun judge-check` (`{src}`) re-graded the frozen run `{}`: the \
         judge now grades {} differently (new − recorded). Rows of these dimensions measure the \
         judge as much as the models: {}. Re-grade the baseline with today's judge (`evalrun \
         rescore`) before reading them as a regression.\n",
        c.frozen.replace('`', ""),
        drifted_list(c),
        if judged.is_empty() {
            "none of them fails or warns here".to_string()
        } else {
            format!("{} may be the judge's doing", judged.join(", "))
        }
    );
    let _ = if regressed.is_empty() {
        writeln!(
            s,
            "### The model regressed?\n\nNo failing check lies outside the drifted dimensions: \
             nothing here shows that the model regressed.\n"
        )
    } else {
        writeln!(
            s,
            "### The model regressed\n\nFailing checks the judge's drift does not explain: {}.\n",
            regressed.join(", ")
        )
    };
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(rows: &[(&str, &str, f64, f64)]) -> BTreeMap<(String, String), (f64, f64)> {
        rows.iter()
            .map(|(m, i, a, b)| ((m.to_string(), i.to_string()), (*a, *b)))
            .collect()
    }

    #[test]
    fn worked_example_1_two_sided() {
        // STATS §11.1: d = (1, 0, 0, 1, 1, 0, −1), one model: se = 2/7, t = 1, p = 2·S₆(1) = 0.355918.
        let d = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, -1.0];
        let p: BTreeMap<(String, String), (f64, f64)> = d
            .iter()
            .enumerate()
            .map(|(i, x)| (("m".to_string(), format!("i{i}")), (2.0, 2.0 + x)))
            .collect();
        let (r, st) = from_pairs(&p, 0.05);
        assert_eq!(st, TestStatus::Run);
        assert_eq!((r.n_pairs, r.n_clusters, r.df), (7, 7, Some(6.0)));
        assert!((r.se_diff.unwrap() - 2.0 / 7.0).abs() < 1e-12, "{r:?}");
        assert!((r.t.unwrap() - 1.0).abs() < 1e-12);
        assert!((r.p.unwrap() - 0.355918).abs() < 1e-6, "{r:?}");
        assert_eq!((r.n_lower, r.n_higher), (1, 3));
        assert_eq!(r.mean_recorded, Some(2.0));
    }

    #[test]
    fn every_models_answer_to_one_item_is_one_cluster() {
        let p = pairs(&[
            ("a", "i1", 3.0, 2.0),
            ("b", "i1", 3.0, 2.0),
            ("a", "i2", 2.0, 2.0),
            ("b", "i2", 3.0, 3.0),
            ("a", "i3", 2.0, 1.0),
        ]);
        let (r, _) = from_pairs(&p, 0.05);
        assert_eq!((r.n_pairs, r.n_clusters, r.df), (5, 3, Some(2.0)));
        // Nothing changed: no test, no drift.
        let same = pairs(&[("a", "i1", 3.0, 3.0), ("a", "i2", 2.0, 2.0)]);
        assert_eq!(from_pairs(&same, 0.05).1, TestStatus::NoVariation);
    }

    #[test]
    fn the_gate_note_goes_under_the_headline() {
        let mut text = "## evalrun gate: PASS\n\n- baseline: x\n".to_string();
        insert_under_headline(&mut text, "### The judge did not change\n\n");
        assert_eq!(
            text,
            "## evalrun gate: PASS\n\n### The judge did not change\n\n- baseline: x\n"
        );
    }
}
