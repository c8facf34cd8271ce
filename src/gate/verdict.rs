//! Holm over the families pooled across every gated model (primary dimensions, other dimensions,
//! rules; tests not run left out), then each row's status and the reason in words (STATS §7).

use super::estimate::{mde80_one_sided, EPS};
use super::render_md::{fmt_p, num};
use super::{Gate, Status};
use crate::stats::holm::holm;

/// Which Holm family a row belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Primary,
    Other,
    Rules,
}

/// Apply Holm, set `p_holm`, `m_family`, `mde80`, `status` and `why` on every dimension, rule and
/// latency row.
pub fn decide(g: &mut Gate) {
    for family in [Family::Primary, Family::Other, Family::Rules] {
        let mut ps: Vec<&mut Option<f64>> = Vec::new();
        let mut raw = Vec::new();
        let mut m_slots: Vec<&mut usize> = Vec::new();
        for m in g.models.values_mut() {
            if family == Family::Rules {
                for r in m.rules.values_mut() {
                    m_slots.push(&mut r.m_family);
                    if let Some(p) = r.p {
                        raw.push(p);
                        ps.push(&mut r.p_holm);
                    }
                }
            } else {
                for d in m.dimensions.values_mut() {
                    if d.primary != (family == Family::Primary) {
                        continue;
                    }
                    m_slots.push(&mut d.m_family);
                    if let Some(p) = d.p {
                        raw.push(p);
                        ps.push(&mut d.p_holm);
                    }
                }
            }
        }
        let m = raw.len();
        for slot in m_slots {
            *slot = m;
        }
        for (slot, adj) in ps.into_iter().zip(holm(&raw)) {
            *slot = Some(adj);
        }
    }
    let (alpha, exact) = (g.params.alpha, g.params.exact);
    for m in g.models.values_mut() {
        for d in m.dimensions.values_mut() {
            dimension(d, alpha, exact);
        }
        for r in m.rules.values_mut() {
            rule(r, alpha, exact);
        }
        latency(&mut m.latency);
    }
}

fn dimension(d: &mut super::dimensions::DimRow, alpha: f64, exact: bool) {
    let changed = d.n_lower + d.n_higher;
    if d.n_pairs == 0 {
        d.status = Status::NotTested;
        d.why =
            "no item scored in both runs (a run without a judge leaves judged dimensions empty)"
                .into();
        return;
    }
    d.mde80 = d
        .se_diff
        .and_then(|se| mde80_one_sided(alpha, d.m_family.max(1), se));
    if exact {
        (d.status, d.why) = if changed > 0 {
            (
                Status::Fail,
                format!("{changed} item score(s) changed (--exact: any change fails)"),
            )
        } else {
            (Status::Pass, "every item score is unchanged".into())
        };
        return;
    }
    let mean = d.mean_diff.unwrap_or(0.0);
    let Some(p_holm) = d.p_holm else {
        (d.status, d.why) = if d.se_diff.is_none() {
            (
                Status::NotTested,
                format!(
                    "{} item(s) in {} cluster(s): too few to test",
                    d.n_pairs, d.n_clusters
                ),
            )
        } else if mean.abs() <= EPS {
            (
                Status::Pass,
                "nothing varied: every item score is the same in both runs".into(),
            )
        } else {
            (
                Status::Pass,
                format!("rose by {} on every item; nothing varied", num(mean)),
            )
        };
        return;
    };
    let drop = -mean;
    let mde = d
        .mde80
        .map_or("undefined (every item moved alike)".to_string(), num);
    let holm = format!("Holm p = {} in a family of {}", fmt_p(p_holm), d.m_family);
    let significant = p_holm < alpha;
    if significant && drop >= d.tolerance - 1e-9 {
        d.status = if d.primary {
            Status::Fail
        } else {
            Status::Warn
        };
        d.why = format!(
            "fell by {} ≥ tolerance {}, significant ({holm} < {alpha}){}",
            num(drop),
            num(d.tolerance),
            if d.primary {
                ""
            } else {
                "; not a primary dimension"
            }
        );
    } else if significant {
        d.status = Status::Pass;
        d.why = format!(
            "fell by {}, significant ({holm}) but within the tolerance {}; MDE {mde}",
            num(drop),
            num(d.tolerance)
        );
    } else {
        d.status = Status::Pass;
        d.why = format!(
            "{} {} ({holm}); MDE {mde}: a true drop that large is caught 80 % of the time",
            if mean < 0.0 { "fell by" } else { "rose by" },
            num(mean.abs())
        );
    }
}

fn rule(r: &mut super::rules::RuleRow, alpha: f64, exact: bool) {
    r.mde80 = r
        .se_diff
        .and_then(|se| mde80_one_sided(alpha, r.m_family.max(1), se));
    let moves = format!("{} pass→fail, {} fail→pass", r.lost, r.gained);
    if exact {
        (r.status, r.why) = if r.lost + r.gained > 0 {
            (Status::Fail, format!("{moves} (--exact: any change fails)"))
        } else {
            (Status::Pass, "every outcome is unchanged".into())
        };
        return;
    }
    let Some(p_holm) = r.p_holm else {
        r.status = Status::Pass;
        r.why = "every outcome is unchanged; nothing varied".into();
        return;
    };
    let holm = format!("Holm p = {} in a family of {}", fmt_p(p_holm), r.m_family);
    let mde = r
        .mde80
        .map_or("–".to_string(), |m| format!("{:.1} pp", 100.0 * m));
    if p_holm < alpha {
        r.status = Status::Fail;
        r.why = format!("more answers now fail ({moves}), significant ({holm} < {alpha})");
    } else {
        r.status = Status::Pass;
        r.why = format!("{moves} ({holm}); MDE {mde}");
    }
}

fn latency(l: &mut super::latency::LatencyRow) {
    let (Some(low), Some(high), Some(ratio)) = (l.ci95_low, l.ci95_high, l.ratio) else {
        l.status = Status::NotTested;
        return;
    };
    let ci = format!("ratio {ratio:.3}, 95 % CI [{low:.3}, {high:.3}]");
    if low > l.threshold {
        l.status = Status::Fail;
        l.why = format!("p90 rose: {ci}, entirely above {:.2}", l.threshold);
    } else {
        l.status = Status::Pass;
        l.why = format!(
            "{ci}, not entirely above {:.2}; MDE ratio {:.3}",
            l.threshold,
            l.mde80_ratio.unwrap_or(f64::NAN)
        );
    }
}
