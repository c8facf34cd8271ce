//! STATS.md §11 worked examples 1, 2, 5, 6, 7, 8 and the rules of §2 (values: scipy 1.17.1).

use super::*;

fn close(got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() < tol, "got {got}, want {want}");
}

const D: [f64; 7] = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, -1.0];

#[test]
fn example_1_paired_t() {
    let e = estimate(&D, None);
    assert_eq!((e.n, e.n_clusters, e.df), (7, 7, Some(6)));
    close(e.mean.unwrap(), 2.0 / 7.0, 1e-15);
    close(e.sd.unwrap(), (4.0f64 / 7.0).sqrt(), 1e-15);
    close(e.se.unwrap(), 2.0 / 7.0, 1e-15);
    let t = e.test(&D, Alternative::TwoSided);
    assert_eq!(t.status, TestStatus::Run);
    close(t.t.unwrap(), 1.0, 1e-12);
    close(t.p.unwrap(), 0.355918, 1e-6);
    close(t_quantile(0.975, 6), 2.446912, 1e-6);
    let (lo, hi) = e.interval(Bounds::Free).unwrap();
    close(lo, -0.413403, 1e-6);
    close(hi, 0.984832, 1e-6);
    // margin 0.1: not non-inferior.
    assert!(lo <= -0.1);
    // The gate tests −d for a drop: p = F₆(−1).
    let neg: Vec<f64> = D.iter().map(|x| -x).collect();
    let g = estimate(&neg, None).test(&neg, Alternative::Less);
    close(g.p.unwrap(), 0.177959, 1e-6);
}

#[test]
fn example_2_clustered_se() {
    let labels = [0, 0, 0, 1, 1, 2, 2];
    let e = estimate(&D, Some(&labels));
    assert_eq!((e.n_clusters, e.df), (3, Some(2)));
    close(e.se.unwrap(), 333f64.sqrt() / 49.0, 1e-15);
    close(e.se.unwrap(), 0.372414, 1e-6);
    let t = e.test(&D, Alternative::TwoSided);
    close(t.t.unwrap(), 0.767195, 1e-6);
    close(t.p.unwrap(), 0.523158, 1e-6);
    close(t_quantile(0.975, 2), 4.302653, 1e-6);
    let (lo, hi) = e.interval(Bounds::Free).unwrap();
    close(lo, -1.316654, 1e-6);
    close(hi, 1.888083, 1e-6);
}

#[test]
fn cluster_se_is_never_below_the_naive_se() {
    // Clusters whose sums cancel: the robust se is 0, the naive sd/√n wins.
    let x = [1.0, -1.0, 1.0, -1.0];
    let e = estimate(&x, Some(&[0, 0, 1, 1]));
    close(e.se.unwrap(), estimate(&x, None).se.unwrap(), 1e-15);
    assert_eq!(e.df, Some(1));
    // One cluster: no se, not tested.
    let one = estimate(&x, Some(&[7, 7, 7, 7]));
    assert_eq!((one.se, one.df, one.n_clusters), (None, None, 1));
    assert_eq!(
        one.test(&x, Alternative::TwoSided).status,
        TestStatus::NotTested
    );
}

#[test]
fn gsb_share_intervals() {
    // §11 example 3: G S S G G S B G.
    let g = [1.0, 0.5, 0.5, 1.0, 1.0, 0.5, 0.0, 1.0];
    let e = estimate(&g, None);
    close(e.mean.unwrap(), 0.6875, 1e-15);
    close(e.se.unwrap(), 0.131526, 1e-6);
    let (lo, hi) = e.interval(Bounds::Share).unwrap();
    close(lo, 0.376490, 1e-6);
    close(hi, 0.998510, 1e-6);
    close(sign_test(4, 5), 0.375, 1e-12);
    // All G over 42 items: se = 0 ⇒ Wilson(42, 42).
    let all = [1.0; 42];
    let (lo, hi) = estimate(&all, None).interval(Bounds::Share).unwrap();
    close(lo, 0.916201, 1e-6);
    assert_eq!(hi, 1.0);
}

#[test]
fn degenerate_se_uses_the_sign_test_or_is_not_run() {
    let drops = [-0.5; 6];
    let e = estimate(&drops, None);
    let one = e.test(&drops, Alternative::Less);
    assert_eq!((one.status, one.t), (TestStatus::Run, None));
    close(one.p.unwrap(), 0.5f64.powi(6), 1e-15);
    let two = e.test(&drops, Alternative::TwoSided);
    close(two.p.unwrap(), 2.0 * 0.5f64.powi(6), 1e-15);
    // Equal gains are not a drop: the one-sided test is not run.
    let gains = [0.5; 6];
    let g = estimate(&gains, None).test(&gains, Alternative::Less);
    assert_eq!((g.status, g.p), (TestStatus::NoVariation, None));
    // All zero: no variation either way.
    let zeros = [0.0; 5];
    let z = estimate(&zeros, None);
    assert_eq!(
        z.test(&zeros, Alternative::TwoSided).status,
        TestStatus::NoVariation
    );
    assert_eq!(z.interval(Bounds::Scale(1.0, 3.0)), Some((1.0, 1.0)));
    let t = z.test(&zeros, Alternative::TwoSided);
    assert_eq!(
        mde80(&z, &t, 0.05, 1, Alternative::TwoSided),
        Err(Undefined::NoVariation)
    );
    // Sign test with se = 0: mde80 is undefined, never 0.
    assert_eq!(
        mde80(&e, &one, 0.05, 1, Alternative::Less),
        Err(Undefined::ZeroSpread)
    );
}

#[test]
fn dimension_means_are_clipped_to_the_scale() {
    let x = [3.0, 3.0, 3.0, 2.0];
    let (lo, hi) = estimate(&x, None)
        .interval(Bounds::Scale(1.0, 3.0))
        .unwrap();
    assert!((1.0..2.75).contains(&lo));
    assert_eq!(hi, 3.0);
}

#[test]
fn example_5_mde_at_alpha_over_m() {
    let se = 0.56 / 46f64.sqrt();
    close(se, 0.082567, 1e-6);
    close(
        mde_multiplier(0.05, 1, Alternative::TwoSided) * se,
        0.231320,
        1e-6,
    );
    close(z(1.0 - 0.05 / 8.0), 2.497705, 1e-6);
    close(
        mde_multiplier(0.05, 4, Alternative::TwoSided),
        3.339327,
        1e-6,
    );
    close(
        mde_multiplier(0.05, 4, Alternative::TwoSided) * se,
        0.275720,
        1e-6,
    );
    close(
        mde_multiplier(0.05, 32, Alternative::TwoSided) * se,
        0.330637,
        1e-6,
    );
    close(mde_multiplier(0.05, 4, Alternative::Less), 3.083024, 1e-6);
    // Through the estimator: 46 values with sd exactly 0.56.
    let half = 0.56 * (45.0f64 / 46.0).sqrt();
    let x: Vec<f64> = (0..46)
        .map(|i| if i % 2 == 0 { half } else { -half })
        .collect();
    let e = estimate(&x, None);
    close(e.sd.unwrap(), 0.56, 1e-12);
    let t = e.test(&x, Alternative::TwoSided);
    close(
        mde80(&e, &t, 0.05, 4, Alternative::TwoSided).unwrap(),
        0.275720,
        1e-6,
    );
}

#[test]
fn example_6_holm_leaves_out_tests_not_run() {
    let (adj, m) = holm(&[Some(0.01), Some(0.03), None, Some(0.2)]);
    assert_eq!(m, 3);
    close(adj[0].unwrap(), 0.03, 1e-15);
    close(adj[1].unwrap(), 0.06, 1e-15);
    assert_eq!(adj[2], None);
    close(adj[3].unwrap(), 0.2, 1e-15);
    assert_eq!(holm(&[None, None]), (vec![None, None], 0));
}

#[test]
fn example_7_items_needed() {
    let two = Alternative::TwoSided;
    assert_eq!(items_needed(Some(0.56), 0.1, 0.05, 4, two), Ok(350));
    assert_eq!(items_needed(Some(0.4), 0.1, 0.05, 1, two), Ok(126));
    assert_eq!(items_needed(Some(0.4), 0.02, 0.05, 1, two), Ok(3140));
    assert_eq!(
        items_needed(Some(0.0), 0.1, 0.05, 1, two),
        Err(Undefined::ZeroSpread)
    );
    assert_eq!(
        items_needed(None, 0.1, 0.05, 1, two),
        Err(Undefined::TooFewItems)
    );
    assert_eq!(
        items_needed(Some(0.4), 0.0, 0.05, 1, two),
        Err(Undefined::NoEffect)
    );
    // n·(mde80/δ)² agrees with the sd form.
    let se = 0.4 / 50f64.sqrt();
    let mde = mde_multiplier(0.05, 1, two) * se;
    assert_eq!(items_needed_from_mde(50, mde, 0.1), Ok(126));
}

#[test]
fn example_8_samples() {
    let two = Alternative::TwoSided;
    let plan = |k: u32| {
        let var = planned_var_diff(0.10, 0.30, k);
        let n = items_needed(Some(var.sqrt()), 0.1, 0.05, 4, two).unwrap();
        (n, n * k as u64)
    };
    assert_eq!(plan(1), (447, 447));
    assert_eq!(plan(3), (224, 672));
    assert_eq!(plan(5), (179, 895));
}

#[test]
fn wilson_by_formula() {
    // statsmodels proportion_confint(4, 5, method="wilson").
    let (lo, hi) = wilson(4, 5).unwrap();
    close(lo, 0.3755346297625252, 1e-12);
    close(hi, 0.9637758913675698, 1e-12);
    assert_eq!(wilson(0, 0), None);
    assert_eq!(wilson(0, 10).unwrap().0, 0.0);
    assert_eq!(wilson(10, 10).unwrap().1, 1.0);
}

#[test]
fn one_sided_sign_test() {
    close(sign_test_at_most(0, 6), 1.0 / 64.0, 1e-15);
    close(sign_test_at_most(1, 6), 7.0 / 64.0, 1e-15);
    close(sign_test_at_most(6, 6), 1.0, 1e-12);
    assert_eq!(ceil_size(126.0000000001), 126);
    assert_eq!(ceil_size(125.58), 126);
}
