//! A judge panel end to end (issue 16): the real binary against the in-process simulator, three
//! simulated judges — `judge`, `judge-b` biased toward its own family (ERNIE: it raises the grades of
//! `ernie-speed`'s answers by one level; the candidate is declared a Qwen model to the simulator) and
//! `judge-c` noisy. The records are checked against a recomputation (median, majority), the agreement
//! between the judges against an independent computation, and the report's warning and leave-one-out
//! against the records. A rescore with one judge gives back today's records, without panel fields.

use crate::common;

use std::collections::BTreeMap;

use common::{openai_config, repo_file, Sim, TestDir};
use serde_json::Value;

const BASE: &str = "ernie-speed";
const CAND: &str = "sft-full-e6-lr3e-5";
const JUDGES: [&str; 3] = ["judge", "judge-b", "judge-c"];
const ITEMS: usize = 40;

fn text(o: &std::process::Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Cohen's κ with quadratic weights from the confusion matrix (the categorical definition, not the
/// moment form evalrun uses).
fn kappa(a: &[f64], b: &[f64]) -> f64 {
    let mut cats: Vec<f64> = a.iter().chain(b).copied().collect();
    cats.sort_by(f64::total_cmp);
    cats.dedup();
    let ix = |x: f64| cats.iter().position(|c| *c == x).unwrap();
    let k = cats.len();
    let n = a.len() as f64;
    let mut o = vec![vec![0.0; k]; k];
    for (x, y) in a.iter().zip(b) {
        o[ix(*x)][ix(*y)] += 1.0;
    }
    let rows: Vec<f64> = o.iter().map(|r| r.iter().sum()).collect();
    let cols: Vec<f64> = (0..k).map(|j| o.iter().map(|r| r[j]).sum()).collect();
    let (mut wo, mut we) = (0.0, 0.0);
    for i in 0..k {
        for j in 0..k {
            let w = (cats[i] - cats[j]).powi(2);
            wo += w * o[i][j];
            we += w * rows[i] * cols[j] / n;
        }
    }
    1.0 - wo / we
}

/// Krippendorff's α (ordinal) by pairs of values: D_o averages δ² over the pairs within each unit
/// (weighted 1/(m − 1)), D_e over all pairs of pairable values; δ² from the pooled value frequencies.
fn alpha(units: &[Vec<f64>]) -> f64 {
    let units: Vec<&Vec<f64>> = units.iter().filter(|u| u.len() >= 2).collect();
    let all: Vec<f64> = units.iter().flat_map(|u| u.iter().copied()).collect();
    let freq = |x: f64| all.iter().filter(|v| **v == x).count() as f64;
    let d2 = |c: f64, k: f64| {
        let (lo, hi) = (c.min(k), c.max(k));
        let mut vals: Vec<f64> = all
            .iter()
            .copied()
            .filter(|v| *v >= lo && *v <= hi)
            .collect();
        vals.sort_by(f64::total_cmp);
        (vals.len() as f64 - (freq(c) + freq(k)) / 2.0).powi(2)
    };
    let n = all.len() as f64;
    let mut d_o = 0.0;
    for u in &units {
        let m = u.len() as f64;
        for (i, x) in u.iter().enumerate() {
            for (j, y) in u.iter().enumerate() {
                if i != j {
                    d_o += d2(*x, *y) / (m - 1.0);
                }
            }
        }
    }
    d_o /= n;
    let mut d_e = 0.0;
    for (i, x) in all.iter().enumerate() {
        for (j, y) in all.iter().enumerate() {
            if i != j {
                d_e += d2(*x, *y);
            }
        }
    }
    d_e /= n * (n - 1.0);
    1.0 - d_o / d_e
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn a_panel_with_a_same_family_judge_warns_and_shows_the_panel_without_it() {
    let sim = Sim::start(&format!(
        "judge-b:bias=1,judge-c:noise=0.3,{CAND}:family=Qwen"
    ));
    let dir = TestDir::new();
    let base_url = sim.openai_base_url();
    // The judges at different prices (input, output per 1k; CNY): the panel's cost is each judge's
    // tokens at its own prices.
    let priced = |names: &[&str], extra: &str, (i, o): (f64, f64)| {
        openai_config(&base_url, names, extra)
            .replace(
                "price_input_per_1k = 0.01",
                &format!("price_input_per_1k = {i}"),
            )
            .replace(
                "price_output_per_1k = 0.02",
                &format!("price_output_per_1k = {o}"),
            )
    };
    let prices: BTreeMap<&str, (f64, f64)> = [
        ("judge", (0.01, 0.02)),
        ("judge-b", (0.2, 0.6)),
        ("judge-c", (0.05, 0.1)),
    ]
    .into();
    dir.write(
        "evalrun.toml",
        &(openai_config(&base_url, &[BASE, CAND], "concurrency = 8")
            + &priced(&["judge"], "concurrency = 8", prices["judge"])
            + &priced(&["judge-c"], "concurrency = 8", prices["judge-c"])
            + &priced(
                &["judge-b"],
                "concurrency = 8\nfamily = \"ERNIE\"",
                prices["judge-b"],
            )),
    );
    let set = std::fs::read_to_string(repo_file("evalsets/oral_english.jsonl")).unwrap();
    let set: String = set.lines().take(ITEMS).map(|l| format!("{l}\n")).collect();
    dir.write("set.jsonl", &set);
    let rubric = repo_file("rubrics/oral_english.toml");
    let out = dir
        .evalrun()
        .args([
            "run",
            "--models",
            &format!("{BASE},{CAND}"),
            "--baseline",
            BASE,
        ])
        .args(["--evalset", "set.jsonl", "--out", "out", "--quiet"])
        .arg("--rubric")
        .arg(&rubric)
        .args(["--judge", &JUDGES.join(",")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = dir.path().join("out");
    let scores = dir.jsonl("out/scores.jsonl");
    let pairs = dir.jsonl("out/pairwise.jsonl");
    let judgements = dir.jsonl("out/judgements.jsonl");
    assert_eq!(scores.len(), 2 * ITEMS);
    for j in JUDGES {
        assert!(judgements.iter().any(|r| r["judge"] == j), "{j} made calls");
    }

    // Every panel score: the median of the judges' medians, bounded by the rule cap. Per judge and
    // dimension, its scores (before caps) by (model, item).
    let mut by_judge: BTreeMap<(String, String), BTreeMap<(String, String), f64>> = BTreeMap::new();
    let mut checked = 0;
    for s in &scores {
        let panel = s["panel"].as_object().expect("a panel record");
        assert_eq!(panel.len(), 3, "{s}");
        for (d, dim) in s["dimensions"].as_object().unwrap() {
            let mut vals: Vec<f64> = Vec::new();
            for (j, g) in panel {
                if let Some(xs) = g["judge_samples"][d].as_array() {
                    let mut xs: Vec<f64> = xs.iter().map(|x| x.as_f64().unwrap()).collect();
                    let m = median(&mut xs);
                    vals.push(m);
                    by_judge.entry((j.clone(), d.clone())).or_default().insert(
                        (
                            s["model"].as_str().unwrap().into(),
                            s["item_id"].as_str().unwrap().into(),
                        ),
                        m,
                    );
                }
            }
            if vals.is_empty() {
                continue;
            }
            let mut want = median(&mut vals);
            if let Some(c) = dim["rule_cap"].as_f64() {
                want = want.min(c);
            }
            assert_eq!(dim["score"].as_f64(), Some(want), "{d}: {s}");
            checked += 1;
        }
    }
    assert!(checked > 200, "{checked} panel scores checked");

    // Every pair: the majority of the judges' verdicts, a shared top giving S.
    assert!(pairs.len() >= ITEMS - 4, "{} pairs", pairs.len());
    for p in &pairs {
        let vs: Vec<&str> = p["panel"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v["verdict"].as_str().unwrap())
            .collect();
        let count = |x: &str| vs.iter().filter(|v| **v == x).count();
        let (g, s, b) = (count("G"), count("S"), count("B"));
        let want = if g > s && g > b {
            "G"
        } else if b > g && b > s {
            "B"
        } else {
            "S"
        };
        assert_eq!(p["verdict"], want, "{p}");
        assert!(p["first_order"].is_null() && p["second_order"].is_null());
    }

    // Agreement between the judges, against the independent κ and α above.
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    let panel = &summary["panel"];
    for d in ["reply", "suggestion", "analysis"] {
        let get = |j: &str| &by_judge[&(j.to_string(), d.to_string())];
        let keys: Vec<&(String, String)> = get("judge").keys().collect();
        let mut units = Vec::new();
        for k in &keys {
            let u: Vec<f64> = JUDGES
                .iter()
                .filter_map(|j| get(j).get(*k).copied())
                .collect();
            units.push(u);
        }
        let a = panel["agreement"][d]["alpha_ordinal"].as_f64().unwrap();
        assert!(close(a, alpha(&units)), "{d}: α {a} vs {}", alpha(&units));
        let (x, y): (Vec<f64>, Vec<f64>) = keys
            .iter()
            .filter_map(|k| Some((*get("judge").get(*k)?, *get("judge-c").get(*k)?)))
            .unzip();
        let k = panel["agreement"][d]["pairs"]["judge|judge-c"]["kappa_quadratic"]
            .as_f64()
            .unwrap();
        assert!(close(k, kappa(&x, &y)), "{d}: κ {k} vs {}", kappa(&x, &y));
        assert!(a > 0.2 && a < 0.95, "{d}: α {a}, noisy but related judges");
    }

    // The judge cost: each judge's calls at its own prices, recomputed from judgements.jsonl; each
    // judge's own cost in the panel section; the report shows the panel's total.
    let mut want_total = 0.0;
    for j in JUDGES {
        let calls = judgements.iter().filter(|r| r["judge"] == j);
        let tokens = |k: &str| {
            calls
                .clone()
                .map(|r| r[k].as_f64().unwrap_or(0.0))
                .sum::<f64>()
        };
        let (i, o) = prices[j];
        let own = (tokens("prompt_tokens") * i + tokens("completion_tokens") * o) / 1000.0;
        assert!(own > 0.0, "{j} spent tokens");
        let got = panel["per_judge"][j]["cost"].as_f64().unwrap();
        assert!(close(got, own), "{j}: own cost {got} vs {own}");
        assert_eq!(
            panel["per_judge"][j]["price_input_per_1k"].as_f64(),
            Some(i)
        );
        want_total += own;
    }
    let cost = &summary["judge"]["cost"];
    let total = cost["total"].as_f64().unwrap();
    assert!(
        close(total, want_total),
        "judge.cost.total {total} vs {want_total}"
    );
    let all = |k: &str| {
        judgements
            .iter()
            .map(|r| r[k].as_f64().unwrap_or(0.0))
            .sum::<f64>()
    };
    let first_judge_only = (all("prompt_tokens") * 0.01 + all("completion_tokens") * 0.02) / 1000.0;
    assert!(
        total > 2.0 * first_judge_only,
        "not at the first judge's prices"
    );
    assert!(cost["price_input_per_1k"].is_null() && cost["price_output_per_1k"].is_null());
    assert_eq!(cost["currency"], "CNY");
    let graded: f64 = summary["judge"]["per_model"]
        .as_object()
        .unwrap()
        .values()
        .map(|m| m["n_graded_answers"].as_f64().unwrap())
        .sum();
    let per_item = cost["per_item"].as_f64().unwrap();
    assert!(close(per_item, total / graded), "per_item {per_item}");

    // The biased judge's own means: ernie-speed's answers well above the unbiased judge's, the
    // candidate's (another family to the simulator) about the same.
    let own = |j: &str, m: &str, d: &str| {
        panel["per_judge"][j]["models"][m][d]["mean"]
            .as_f64()
            .unwrap()
    };
    let lift = |m: &str| -> f64 {
        ["reply", "suggestion", "analysis"]
            .iter()
            .map(|d| own("judge-b", m, d) - own("judge", m, d))
            .sum()
    };
    assert!(lift(BASE) > 0.8, "bias on its own family: {}", lift(BASE));
    assert!(lift(CAND).abs() < 0.35, "no bias on others: {}", lift(CAND));
    assert_eq!(
        panel["same_family"],
        serde_json::json!([{"judge": "judge-b", "family": "ERNIE", "models": [BASE]}])
    );

    // Leave-one-out of judge-b, recomputed from the records: the median of the other two judges.
    let loo = &panel["leave_one_out"]["judge-b"];
    for d in ["reply", "suggestion"] {
        let mut per_item: BTreeMap<String, f64> = BTreeMap::new();
        for s in scores.iter().filter(|s| s["model"] == BASE) {
            let mut vals: Vec<f64> = ["judge", "judge-c"]
                .iter()
                .filter_map(|j| {
                    let xs = s["panel"][j]["judge_samples"][d].as_array()?;
                    let mut xs: Vec<f64> = xs.iter().map(|x| x.as_f64().unwrap()).collect();
                    Some(median(&mut xs))
                })
                .collect();
            if vals.is_empty() {
                continue;
            }
            let mut v = median(&mut vals);
            if let Some(c) = s["dimensions"][d]["rule_cap"].as_f64() {
                v = v.min(c);
            }
            per_item.insert(s["item_id"].as_str().unwrap().into(), v);
        }
        let want = per_item.values().sum::<f64>() / per_item.len() as f64;
        let got = loo["models"][BASE][d]["mean"].as_f64().unwrap();
        assert!(close(got, want), "{d}: {got} vs {want}");
    }

    // The report: the warning among the first notes, and the panel without judge-b beside the panel.
    let md = std::fs::read_to_string(run.join("report.md")).unwrap();
    let note = md
        .lines()
        .find(|l| l.contains("same-family judge in the panel"))
        .expect("the warning");
    assert!(
        note.contains(&format!("judge-b is a ERNIE model, like {BASE}")),
        "{note}"
    );
    let at = md.find("## Judge panel").expect("the panel section");
    let section = &md[at..];
    assert!(
        section.contains("**Same-family judge:** `judge-b`"),
        "{section}"
    );
    assert!(section.contains("grade parse failures"));
    let judge_md = &md[md.find("## Judge\n").expect("the judge section")..];
    let words = judge_md
        .lines()
        .find(|l| l.contains("Its own cost"))
        .unwrap();
    assert!(
        words.contains("`judge-b` ") && !words.contains("no price"),
        "{words}"
    );
    // Every pairwise line is a pair the panel was asked to compare.
    assert!(
        words.contains(&format!("to compare {} pairs of answers", pairs.len())),
        "{words}"
    );
    let row = section
        .lines()
        .find(|l| l.contains(&format!("`{CAND}` − `{BASE}`")) && l.contains("Suggestion"))
        .expect("the paired row without judge-b");
    let full = summary["paired"][BASE][CAND]["suggestion"]["mean_diff"]
        .as_f64()
        .unwrap();
    let without = loo["paired"][BASE][CAND]["suggestion"]["mean_diff"]
        .as_f64()
        .unwrap();
    assert!(
        row.contains(&format!("{full:+.2}").replace('-', "−")),
        "{row}"
    );
    assert!(
        row.contains(&format!("{without:+.2}").replace('-', "−")),
        "{row}"
    );
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("Same-family judge judge-b (ERNIE)"));

    // One judge again: today's records, no panel anywhere.
    let out = dir
        .evalrun()
        .args(["rescore", "out", "--judge", "judge", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let scores = dir.jsonl("out/scores.jsonl");
    assert!(scores.iter().all(|s| s.get("panel").is_none()));
    assert!(dir
        .jsonl("out/pairwise.jsonl")
        .iter()
        .all(|p| p.get("panel").is_none() && p["first_order"].is_string()));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert!(summary.get("panel").is_none());
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest.get("judge_panel").is_none());
}
