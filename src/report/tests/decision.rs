//! The decision's wording in each situation: win, non-inferior, no difference, keep the baseline,
//! nothing scored, close and tied candidates.

use crate::report::decision::{decide, Verdict, Words};
use crate::report::view::View;
use crate::report::*;
use crate::stats::summary::*;

use super::builders::*;
use super::fixture::*;

fn headline(summary: &Summary, ctx: &ReportContext) -> (Verdict, String) {
    let v = View::new(summary, ctx);
    let d = decide(&v, Words { md: true });
    (d.verdict, d.situation)
}

/// Rewrite the fine-tuned model's paired results.
fn set_sft_paired(s: &mut Summary, f: impl Fn(&mut PairedStats)) {
    for (id, p) in s
        .paired
        .get_mut("ernie-speed")
        .unwrap()
        .get_mut("ernie-speed-sft")
        .unwrap()
        .iter_mut()
    {
        if id != "analysis" {
            f(p);
        }
    }
}

#[test]
fn decision_significant_win() {
    let (verdict, text) = headline(&summary(), &context());
    assert_eq!(verdict, Verdict::Win);
    assert_eq!(
        text,
        "**Ship `ernie-speed-sft`**: it has the highest overall quality (mean of dimension means 2.90 on the \
         1–3 scale) and is significantly better than the baseline `ernie-speed` on 3 of 3 compared dimensions \
         (Holm-adjusted paired t-test p < 0.05), worse on none. Not scored: Analysis."
    );
}

#[test]
fn decision_non_inferior_only() {
    let mut s = summary();
    set_sft_paired(&mut s, |p| {
        p.mean_diff = Some(0.02);
        p.ci95_low = Some(-0.06);
        p.ci95_high = Some(0.10);
        p.p = Some(0.41);
        p.p_holm = Some(1.0);
        p.non_inferior = Some(true);
    });
    let (verdict, text) = headline(&s, &context());
    assert_eq!(verdict, Verdict::NonInferior);
    assert_eq!(
        text,
        "**Not worse, not better**: `ernie-speed-sft` (mean of dimension means 2.90 on the 1–3 scale) is not \
         worse than the baseline `ernie-speed` within the margin 0.1 on every compared dimension, but not \
         detectably better. Choose on cost and latency. Not scored: Analysis."
    );
}

#[test]
fn decision_no_detectable_difference_names_the_mde() {
    let mut s = summary();
    set_sft_paired(&mut s, |p| {
        p.n_pairs = 50;
        p.mean_diff = Some(0.04);
        p.ci95_low = Some(-0.12);
        p.ci95_high = Some(0.20);
        p.p = Some(0.52);
        p.p_holm = Some(1.0);
        p.mde80 = Some(0.158);
        p.non_inferior = Some(false);
    });
    let (verdict, text) = headline(&s, &context());
    assert_eq!(verdict, Verdict::NoDifference);
    assert_eq!(
        text,
        "**No detectable difference**: `ernie-speed-sft` has the highest overall mean (mean of dimension means \
         2.90 on the 1–3 scale), but it shows no detectable difference from the baseline `ernie-speed` (with 50 \
         items the smallest detectable difference is 0.16). The ranking is not established by this run: choose \
         on cost and latency, or add items. Not scored: Analysis."
    );
}

#[test]
fn decision_keeps_the_baseline_when_it_is_best() {
    let mut s = summary();
    for m in ["ernie-4.0", "ernie-speed-sft"] {
        for (id, p) in s
            .paired
            .get_mut("ernie-speed")
            .unwrap()
            .get_mut(m)
            .unwrap()
            .iter_mut()
        {
            if id != "analysis" {
                p.mean_diff = Some(-0.5);
                p.p_holm = Some(0.001);
            }
        }
        for d in s.models.get_mut(m).unwrap().dimensions.values_mut() {
            d.mean = d.mean.map(|x| x - 0.9);
        }
    }
    let (verdict, text) = headline(&s, &context());
    assert_eq!(verdict, Verdict::KeepBaseline);
    assert!(
        text.starts_with("**Keep the baseline `ernie-speed`**"),
        "{text}"
    );
}

#[test]
fn decision_cost_and_latency_use_the_flagship_fractions() {
    let v_summary = summary();
    let ctx = context();
    let v = View::new(&v_summary, &ctx);
    let d = decide(&v, Words { md: true });
    let line = d
        .details
        .iter()
        .find(|l| l.contains("relative to the most expensive"))
        .expect("cost line");
    assert!(
        line.contains("first-token latency 58 % of `ernie-4.0`'s, total 32 %, cost 4 %"),
        "{line}"
    );
}

#[test]
fn no_scored_dimension_is_said_plainly() {
    let mut s = summary();
    for m in s.models.values_mut() {
        for d in m.dimensions.values_mut() {
            *d = null_dim(50);
        }
    }
    let mut ctx = context();
    ctx.judge = None;
    let (verdict, text) = headline(&s, &ctx);
    assert_eq!(verdict, Verdict::NoQuality);
    assert!(
        text.starts_with("**No quality dimension was scored in this run** (judge: none"),
        "{text}"
    );
    assert!(!charts::available(&s, &ctx).contains(&charts::ChartKind::DimensionMeans));
}

#[test]
fn decision_says_when_it_cannot_rank_close_candidates() {
    let best = {
        let (s, ctx) = (summary(), context());
        let v = View::new(&s, &ctx);
        let d = decide(&v, Words { md: true });
        assert!(
            !d.details.iter().any(|l| l.starts_with("Close behind")),
            "no runner-up within the margin in the fixture"
        );
        v.best_overall().unwrap()
    };
    // A second fine-tune 0.03 below the best on every dimension: within the margin, never tested
    // against the best one.
    let mut s = summary();
    let mut twin = s.models[&best].clone();
    for d in twin.dimensions.values_mut() {
        if let Some(m) = d.mean.as_mut() {
            *m -= 0.03;
        }
    }
    s.models.insert("sft-twin".into(), twin);
    let mut ctx = context();
    let mut line = ctx.models.iter().find(|m| m.name == best).unwrap().clone();
    line.name = "sft-twin".into();
    ctx.models.push(line);
    let v = View::new(&s, &ctx);
    let d = decide(&v, Words { md: true });
    let l = d
        .details
        .iter()
        .find(|l| l.starts_with("Close behind"))
        .expect("close-behind line");
    assert!(
        l.contains("`sft-twin`") && l.contains("`--baseline sft-twin`") && l.contains("tied"),
        "{l}"
    );
}

/// A model tied with the best that the headline cannot recommend is still named, with why: the set
/// a reader sees is every model the run cannot separate from the best.
#[test]
fn decision_names_tied_models_it_does_not_recommend() {
    let mut s = summary();
    s.ranking.top = Some("ernie-speed-sft".into());
    s.ranking.tied_with_top = vec!["ernie-speed-sft".into(), "ernie-4.0".into()];
    let reply = s
        .paired
        .get_mut("ernie-speed")
        .unwrap()
        .get_mut("ernie-4.0")
        .unwrap()
        .get_mut("reply")
        .unwrap();
    reply.ci95_low = Some(-0.15);
    reply.non_inferior = Some(false);
    let ctx = context();
    let v = View::new(&s, &ctx);
    let d = decide(&v, Words { md: true });
    match &d.release.outcome {
        crate::report::decision::verdict::Outcome::Ship {
            pick,
            set,
            held_back,
        } => {
            assert_eq!(pick, "ernie-speed-sft");
            assert_eq!(set, &["ernie-speed-sft".to_string()]);
            assert_eq!(
                held_back,
                &[(
                    "ernie-4.0".to_string(),
                    crate::report::decision::verdict::HeldBack::NotNonInferior {
                        dims: vec!["reply".into()]
                    }
                )]
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        d.headline.contains(
            "Also tied with the best, but not recommended: `ernie-4.0` — not shown within the margin \
             of the baseline on Reply"
        ),
        "{}",
        d.headline
    );
}
