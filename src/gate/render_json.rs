//! `evalrun gate --json F`: schema `evalrun-gate/2`, the names of STATS.md §7.

use serde_json::{json, Map, Value};

use super::{Gate, Run, SCHEMA};

/// The JSON document of a comparison.
pub fn render(base: &Run, cand: &Run, g: &Gate, input_notes: &[String]) -> Value {
    let p = &g.params;
    let n_fail = g.n_fail();
    let mut models = Map::new();
    for (name, m) in &g.models {
        let dims: Map<String, Value> = m
            .dimensions
            .iter()
            .map(|(d, r)| {
                (
                    d.clone(),
                    json!({
                        "n_pairs": r.n_pairs, "n_clusters": r.n_clusters, "df": r.df,
                        "mean_baseline": r.mean_baseline, "mean_candidate": r.mean_candidate,
                        "mean_diff": r.mean_diff, "se_diff": r.se_diff, "t": r.t, "p": r.p,
                        "p_holm": r.p_holm, "m_family": r.m_family, "tolerance": r.tolerance,
                        "primary": r.primary, "mde80": r.mde80,
                        "n_lower": r.n_lower, "n_higher": r.n_higher,
                        "status": r.status.as_str(), "why": r.why,
                    }),
                )
            })
            .collect();
        let rules: Map<String, Value> = m
            .rules
            .iter()
            .map(|(name, r)| {
                let mut v = json!({
                    "test": r.test, "n_units": r.n_units, "n_items": r.n_items,
                    "pass_rate_baseline": r.pass_rate_baseline,
                    "pass_rate_candidate": r.pass_rate_candidate, "se_diff": r.se_diff,
                });
                let extra = if r.test == "mcnemar" {
                    json!({"lost": r.lost, "gained": r.gained})
                } else {
                    json!({"mean_diff": r.mean_diff, "df": r.df, "t": r.t})
                };
                let tail = json!({
                    "p": r.p, "p_holm": r.p_holm, "m_family": r.m_family, "mde80": r.mde80,
                    "status": r.status.as_str(), "why": r.why,
                });
                for part in [extra, tail] {
                    if let (Some(dst), Value::Object(src)) = (v.as_object_mut(), part) {
                        dst.extend(src);
                    }
                }
                (name.clone(), v)
            })
            .collect();
        let l = &m.latency;
        let e = &m.errors;
        let c = &m.cached;
        models.insert(
            name.clone(),
            json!({
                "coverage": {
                    "n_shared_units": m.coverage.n_shared_units,
                    "n_baseline_units": m.coverage.n_baseline_units,
                    "n_candidate_units": m.coverage.n_candidate_units,
                },
                "dimensions": dims,
                "rules": rules,
                "latency": {
                    "n_items": l.n_items, "n_units": l.n_units, "p90_baseline": l.p90_baseline,
                    "p90_candidate": l.p90_candidate, "ratio": l.ratio, "ci95_low": l.ci95_low,
                    "ci95_high": l.ci95_high, "sd_log_ratio": l.sd_log_ratio,
                    "threshold": l.threshold, "mde80_ratio": l.mde80_ratio,
                    "status": l.status.as_str(), "why": l.why,
                },
                "errors": {
                    "n_units": e.n_units, "error_rate_baseline": e.error_rate_baseline,
                    "error_rate_candidate": e.error_rate_candidate,
                    "max_error_rate": e.max_error_rate, "new_errors": e.new_errors,
                    "fixed_errors": e.fixed_errors, "p": e.p, "mde80": e.mde80,
                    "status": e.status.as_str(), "why": e.why,
                },
                "cached": {
                    "n_cached_baseline": c.n_cached_baseline,
                    "n_cached_candidate": c.n_cached_candidate, "allowed": c.allowed,
                    "status": c.status.as_str(), "why": c.why,
                },
            }),
        );
    }
    json!({
        "schema": SCHEMA,
        "params": {
            "baseline": base.dir.display().to_string(),
            "candidate": cand.dir.display().to_string(),
            "baseline_run_id": base.manifest.run_id,
            "candidate_run_id": cand.manifest.run_id,
            "models": g.models.keys().collect::<Vec<_>>(),
            "alpha": p.alpha,
            "primary": g.primary,
            "tolerance": p.tolerance,
            "tolerance_by_dimension": p.tolerance_by_dim,
            "max_latency_increase": p.max_latency_increase,
            "max_error_rate": p.max_error_rate,
            "allow_cached": p.allow_cached,
            "cluster_key": p.cluster,
            "exact": p.exact,
            "bootstrap": {"resamples": super::latency::RESAMPLES, "seed": super::latency::SEED},
            "inputs": input_notes,
        },
        "verdict": if n_fail > 0 { "FAIL" } else { "PASS" },
        "n_fail": n_fail,
        "n_warn": g.n_warn(),
        "models": models,
        "notes": g.notes,
    })
}
