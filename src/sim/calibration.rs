//! The simulator against seed 000's result table, without HTTP: every shipped eval-set item is
//! rendered as evalrun renders it, answered by each profile (sample 0, seed 0, as `evalrun demo`
//! asks) and graded by the simulated judge before its per-call noise. `tests/e2e/demo_calibration.rs`
//! checks the real demo; this is the fast loop for tuning `profiles.rs`
//! (`cargo test sim::calibration -- --nocapture` prints the table and the behaviour counts).

use serde_json::Value;

use super::judge;
use super::profiles::by_model_name;
use super::tutor;

const EVALSET: &str = include_str!("../../evalsets/oral_english.jsonl");
const RUBRIC: &str = include_str!("../../rubrics/oral_english.toml");

/// Seed 000 §3.3.2: prompt adherence, Reply, Suggestion, Analysis.
pub(crate) const SEED_TABLE: &[(&str, [f64; 4])] = &[
    ("ernie-4.0", [2.96, 2.74, 2.58, 2.30]),
    ("ernie-speed", [2.62, 2.52, 1.92, 2.21]),
    ("sft-full-e3-lr3e-5", [3.00, 2.80, 2.86, 2.58]),
    ("sft-full-e3-lr6e-5", [3.00, 2.84, 2.88, 2.64]),
    ("sft-full-e6-lr3e-5", [3.00, 2.86, 2.84, 2.73]),
    ("sft-lora-e3-lr3e-4", [2.98, 2.82, 2.82, 2.61]),
    ("sft-lora-e3-lr6e-4", [2.96, 2.76, 2.80, 2.64]),
    ("sft-lora-e6-lr3e-4", [3.00, 2.70, 2.72, 2.70]),
];

const DIMS: [&str; 4] = ["adherence", "reply", "suggestion", "analysis"];

/// (item id, category, rendered prompt) for every item of the shipped eval set.
pub(crate) fn prompts() -> Vec<(String, String, String)> {
    let rubric: toml::Value = toml::from_str(RUBRIC).expect("rubric parses");
    let templates = &rubric["templates"];
    EVALSET
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let item: Value = serde_json::from_str(l).expect("item parses");
            let vars = &item["vars"];
            let template = templates[vars["template"].as_str().unwrap()]
                .as_str()
                .unwrap();
            let history: Vec<String> = vars["history"]
                .as_array()
                .map(|h| {
                    h.iter()
                        .enumerate()
                        .map(|(i, line)| {
                            let who = if i % 2 == 0 { "teacher" } else { "student" };
                            format!("{who}: {}", line.as_str().unwrap())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let prompt = template
                .replace("{topic}", vars["topic"].as_str().unwrap())
                .replace("{history}", &history.join("\n"));
            (
                item["id"].as_str().unwrap().to_string(),
                item["category"].as_str().unwrap().to_string(),
                prompt,
            )
        })
        .collect()
}

/// The share of answers `evalrun demo` tells the judge to fail on (`judge:garbage`): those items
/// go unjudged and drop out of the means.
const DEMO_GARBAGE: f64 = 0.02;

/// The final score of one dimension as the demo records it: the judge's (misreading included),
/// bounded by the one rubric cap a misreading can run into (a Reply that ignores an off-topic
/// line stays at 1, `off_topic_pointed_out`).
fn final_score(prompt: &str, category: &str, dim: &str, ans: &str) -> Option<i64> {
    let s = judge::tutor_score(prompt, dim, ans)?;
    let reminded = ["topic", "back to", "跑题", "主题", "话题"];
    let reply = serde_json::from_str::<Value>(ans.trim()).ok();
    let reply = reply
        .as_ref()
        .and_then(|v| v["Reply"].as_str())
        .unwrap_or("")
        .to_lowercase();
    if dim == "reply" && category == "off_topic" && !reminded.iter().any(|w| reply.contains(w)) {
        return Some(s.min(1));
    }
    Some(s)
}

/// Per item: the answer, whether the judge cannot grade it, and its four final scores.
pub(crate) fn graded_items(profile: &str) -> Vec<(String, String, bool, Vec<Option<i64>>)> {
    let p = by_model_name(profile).expect("profile");
    prompts()
        .into_iter()
        .map(|(id, category, prompt)| {
            let tp = tutor::parse(&prompt).expect("tutor prompt");
            let ans = tutor::answer(&tp, &p.behaviour_at(0), tutor::key(0, p.name, &tp, 0));
            let spoiled = judge::spoiled(&ans, DEMO_GARBAGE);
            let scores = DIMS
                .iter()
                .map(|d| final_score(&prompt, &category, d, &ans))
                .collect();
            (id, ans, spoiled, scores)
        })
        .collect()
}

/// Per dimension: (sum of scores, number of scored items) over the items the judge graded.
pub(crate) fn table_row(profile: &str) -> [(f64, usize); 4] {
    let mut acc = [(0.0, 0); 4];
    for (_, _, spoiled, scores) in graded_items(profile) {
        if spoiled {
            continue;
        }
        for (i, s) in scores.iter().enumerate() {
            if let Some(s) = s {
                acc[i].0 += *s as f64;
                acc[i].1 += 1;
            }
        }
    }
    acc
}

#[test]
fn classifier_agrees_with_the_eval_set_categories() {
    let mut wrong = Vec::new();
    for (id, category, prompt) in prompts() {
        let tp = tutor::parse(&prompt).unwrap();
        if tp.opening {
            continue;
        }
        let class = tutor::classify(&tp, tp.last_student().unwrap());
        let name = match class {
            tutor::StudentLine::Normal => "normal",
            tutor::StudentLine::Terse => "terse",
            tutor::StudentLine::OffTopic => "off_topic",
            tutor::StudentLine::Chinese => "chinese",
            tutor::StudentLine::Misspelled { .. } => "misspelled",
            tutor::StudentLine::Ungrammatical { .. } => "ungrammatical",
        };
        if name != category {
            wrong.push(format!(
                "{id}: {category} classified {name}: {:?}",
                tp.last_student()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn profiles_reproduce_the_seed_table() {
    let mut worst: f64 = 0.0;
    for (name, seed) in SEED_TABLE {
        let row = table_row(name);
        let means: Vec<f64> = row.iter().map(|(s, n)| s / *n as f64).collect();
        let dev = means
            .iter()
            .zip(seed)
            .map(|(m, s)| (m - s).abs())
            .fold(0.0, f64::max);
        worst = worst.max(dev);
        println!(
            "{name:<20} {}   seed {}   max dev {dev:.3}",
            means
                .iter()
                .map(|m| format!("{m:.3}"))
                .collect::<Vec<_>>()
                .join(" "),
            seed.iter()
                .map(|m| format!("{m:.2}"))
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    assert!(worst <= 0.02, "worst deviation {worst:.3}");
}

/// For tuning: per profile and behaviour, the hashed draw (`chance`'s uniform) of every item the
/// behaviour can apply to, written to `$EVALRUN_CALIBRATION_DUMP` as JSON. A rate just above the
/// k-th smallest draw makes exactly k items show the behaviour.
#[test]
#[ignore = "a tuning aid, run by hand"]
fn dump_draws() {
    use super::rng::Rng;
    let Ok(path) = std::env::var("EVALRUN_CALIBRATION_DUMP") else {
        return;
    };
    let mut out = serde_json::Map::new();
    for (name, _) in SEED_TABLE {
        let p = by_model_name(name).unwrap();
        let mut per: serde_json::Map<String, Value> = serde_json::Map::new();
        let graded = graded_items(name);
        for (id, _, prompt) in prompts() {
            let tp = tutor::parse(&prompt).unwrap();
            let key = tutor::key(0, p.name, &tp, 0);
            let class = if tp.opening {
                tutor::StudentLine::Normal
            } else {
                tutor::classify(&tp, tp.last_student().unwrap())
            };
            let mut item = serde_json::Map::new();
            item.insert("opening".into(), tp.opening.into());
            item.insert(
                "class".into(),
                format!("{class:?}")
                    .split([' ', '{'])
                    .next()
                    .unwrap()
                    .into(),
            );
            for b in [
                "prose_before",
                "fence",
                "continuation",
                "long_reply",
                "flat_reply",
                "chinese_in_english",
                "chinese_in_reply",
                "teacher_suggestions",
                "loose_suggestions",
                "analysis_explains_reply",
                "grammar_uncorrected",
                "no_reminder",
            ] {
                item.insert(b.into(), Rng::for_key(key, b).unit().into());
            }
            let (_, ans, spoiled, scores) =
                graded.iter().find(|(i, ..)| *i == id).cloned().unwrap();
            let scores: Vec<Value> = scores.into_iter().map(Value::from).collect();
            item.insert("scores".into(), scores.into());
            item.insert("spoiled".into(), spoiled.into());
            item.insert("answer".into(), ans.into());
            per.insert(id, Value::Object(item));
        }
        out.insert(name.to_string(), Value::Object(per));
    }
    std::fs::write(path, Value::Object(out).to_string()).unwrap();
}

/// Seed 000 §4.3 measured ERNIE-4.0 at 1.17 s to the first token and 12.8 s in total, the E6
/// full-update fine-tune at 0.68 s and 4.16 s: on the shipped eval set the simulated answers'
/// lengths and the profiles' per-token gaps give the same means (the log-normal jitter keeps the
/// mean).
#[test]
fn latency_on_the_eval_set_matches_the_seed() {
    let expected = |profile: &str| {
        let p = by_model_name(profile).unwrap();
        let items = prompts();
        let total: f64 = items
            .iter()
            .map(|(_, _, prompt)| {
                let tp = tutor::parse(prompt).unwrap();
                let ans = tutor::answer(&tp, &p.behaviour_at(0), tutor::key(0, p.name, &tp, 0));
                let n = super::text::pieces(&ans).len() as f64;
                p.latency.ttft_ms + (n - 1.0) * p.latency.per_token_ms
            })
            .sum();
        (
            p.latency.ttft_ms / 1000.0,
            total / items.len() as f64 / 1000.0,
        )
    };
    for (profile, ttft, total) in [
        ("ernie-4.0", 1.166, 12.80),
        ("sft-full-e6-lr3e-5", 0.683, 4.163),
    ] {
        let (t, tot) = expected(profile);
        println!("{profile}: first token {t:.3} s, total {tot:.2} s (seed {ttft} s, {total} s)");
        assert!((t - ttft).abs() < 0.01, "{profile} first token {t}");
        assert!((tot / total - 1.0).abs() < 0.03, "{profile} total {tot}");
    }
}

/// For tuning: the table rows of candidate behaviour tables. `$EVALRUN_CALIBRATION_CANDIDATES`
/// names a JSON list of `{"profile": name, "rates": {behaviour: rate, …}}`; the rows (means per
/// dimension) are written next to it with `.out` appended.
#[test]
#[ignore = "a tuning aid, run by hand"]
fn evaluate_candidates() {
    let Ok(path) = std::env::var("EVALRUN_CALIBRATION_CANDIDATES") else {
        return;
    };
    let list: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let items = prompts();
    let rows: Vec<Value> = list
        .iter()
        .map(|c| {
            let p = by_model_name(c["profile"].as_str().unwrap()).unwrap();
            let r = &c["rates"];
            let rate = |k: &str| r[k].as_f64().unwrap_or(0.0);
            let b = super::profiles::Behaviour {
                prose_before: rate("prose_before"),
                fence: rate("fence"),
                continuation: rate("continuation"),
                long_reply: rate("long_reply"),
                flat_reply: rate("flat_reply"),
                chinese_in_english: rate("chinese_in_english"),
                teacher_suggestions: rate("teacher_suggestions"),
                loose_suggestions: rate("loose_suggestions"),
                analysis_explains_reply: rate("analysis_explains_reply"),
                grammar_uncorrected: rate("grammar_uncorrected"),
                no_reminder: rate("no_reminder"),
                pretty_json: rate("pretty_json"),
            };
            let mut acc = [(0.0, 0); 4];
            for (_, category, prompt) in &items {
                let tp = tutor::parse(prompt).unwrap();
                let ans = tutor::answer(&tp, &b, tutor::key(0, p.name, &tp, 0));
                if judge::spoiled(&ans, DEMO_GARBAGE) {
                    continue;
                }
                for (i, d) in DIMS.iter().enumerate() {
                    if let Some(s) = final_score(prompt, category, d, &ans) {
                        acc[i].0 += s as f64;
                        acc[i].1 += 1;
                    }
                }
            }
            acc.iter()
                .map(|(s, n)| s / *n as f64)
                .collect::<Vec<_>>()
                .into()
        })
        .collect();
    std::fs::write(format!("{path}.out"), Value::from(rows).to_string()).unwrap();
}

/// Per dimension: (sum, n) of the judged final scores of `behaviour` answered as `profile` under
/// simulator seed `seed` (sample 0), over the shipped eval set.
fn row_with(profile: &str, b: &super::profiles::Behaviour, seed: u64) -> [(f64, usize); 4] {
    let p = by_model_name(profile).expect("profile");
    let mut acc = [(0.0, 0); 4];
    for (_, category, prompt) in prompts() {
        let tp = tutor::parse(&prompt).unwrap();
        let ans = tutor::answer(&tp, b, tutor::key(seed, p.name, &tp, 0));
        if judge::spoiled(&ans, DEMO_GARBAGE) {
            continue;
        }
        for (i, d) in DIMS.iter().enumerate() {
            if let Some(s) = final_score(&prompt, &category, d, &ans) {
                acc[i].0 += s as f64;
                acc[i].1 += 1;
            }
        }
    }
    acc
}

/// Each seed profile's means per dimension averaged over simulator seeds `seeds` (one draw of the
/// shipped set each): what its rates give in expectation. `overrides` (`{profile: {behaviour:
/// rate}}`, or null) replaces rates, for tuning.
fn expected_rows(seeds: std::ops::Range<u64>, overrides: &Value) -> Vec<(&'static str, [f64; 4])> {
    let n = (seeds.end - seeds.start) as f64;
    SEED_TABLE
        .iter()
        .map(|(name, _)| {
            let b = with_rates(by_model_name(name).unwrap().behaviour, &overrides[*name]);
            let mut sums = [0.0; 4];
            for seed in seeds.clone() {
                let row = row_with(name, &b, seed);
                for i in 0..4 {
                    sums[i] += row[i].0 / row[i].1 as f64;
                }
            }
            (*name, sums.map(|s| s / n))
        })
        .collect()
}

/// The profiles' rates are the seed's table in expectation: averaged over 100 seeds the rate
/// fitting never saw (it used seeds 1–300), every cell is within 0.03 of seed 000 §3.3.2 (a
/// 100-seed average itself scatters by about ±0.015 on the base models). This is what makes `sft-full-e6-lr3e-5` the
/// simulator's true best model, as it is the seed's.
#[test]
fn expected_table_is_the_seed_table() {
    let rows = expected_rows(1001..1101, &Value::Null);
    let mut worst: f64 = 0.0;
    for ((name, got), (_, want)) in rows.iter().zip(SEED_TABLE) {
        println!("{name:<20} {got:.3?}   seed {want:?}");
        for i in 0..4 {
            worst = worst.max((got[i] - want[i]).abs());
        }
    }
    assert!(worst <= 0.03, "worst deviation {worst:.3}");
    let overall = |r: &[f64; 4]| r.iter().sum::<f64>() / 4.0;
    let best = rows
        .iter()
        .max_by(|a, b| overall(&a.1).total_cmp(&overall(&b.1)))
        .unwrap();
    assert_eq!(best.0, "sft-full-e6-lr3e-5");
}

/// For tuning: [`expected_rows`] over seeds 1..=`$EVALRUN_CALIBRATION_SEEDS` (100), with the rates
/// of `$EVALRUN_CALIBRATION_RATES` (a JSON file `{profile: {behaviour: rate}}`) if set.
#[test]
#[ignore = "a tuning aid, run by hand"]
fn expected_table() {
    let seeds: u64 = std::env::var("EVALRUN_CALIBRATION_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let overrides: Value = std::env::var("EVALRUN_CALIBRATION_RATES")
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .unwrap_or(Value::Null);
    for ((name, got), (_, want)) in expected_rows(1..seeds + 1, &overrides)
        .iter()
        .zip(SEED_TABLE)
    {
        let means: Vec<String> = got.iter().map(|m| format!("{m:.3}")).collect();
        let overall = got.iter().sum::<f64>() / 4.0;
        println!(
            "{name:<20} {}  overall {overall:.3}   seed {want:?}",
            means.join(" ")
        );
    }
}

/// `b` with the rates named in `rates` (a JSON object) replaced.
fn with_rates(mut b: super::profiles::Behaviour, rates: &Value) -> super::profiles::Behaviour {
    let fields: [(&str, &mut f64); 12] = [
        ("prose_before", &mut b.prose_before),
        ("fence", &mut b.fence),
        ("continuation", &mut b.continuation),
        ("long_reply", &mut b.long_reply),
        ("flat_reply", &mut b.flat_reply),
        ("chinese_in_english", &mut b.chinese_in_english),
        ("teacher_suggestions", &mut b.teacher_suggestions),
        ("loose_suggestions", &mut b.loose_suggestions),
        ("analysis_explains_reply", &mut b.analysis_explains_reply),
        ("grammar_uncorrected", &mut b.grammar_uncorrected),
        ("no_reminder", &mut b.no_reminder),
        ("pretty_json", &mut b.pretty_json),
    ];
    for (name, field) in fields {
        if let Some(r) = rates[name].as_f64() {
            *field = r;
        }
    }
    b
}

/// For the gate's A/A rate without HTTP (`scripts/aa_inprocess.py`): every shipped item's final
/// Reply score as `evalrun run` records it (the HTTP runs give the same scores item for item), for
/// `sft-full-e3-lr3e-5` under seeds 20000–20399, written to `$EVALRUN_CALIBRATION_SCORES` as JSON
/// `{seed: {item: score|null}}`.
#[test]
#[ignore = "a benchmark aid, run by scripts/aa_inprocess.py"]
fn dump_reply_scores() {
    let Ok(path) = std::env::var("EVALRUN_CALIBRATION_SCORES") else {
        return;
    };
    let p = by_model_name("sft-full-e3-lr3e-5").unwrap();
    let mut out = serde_json::Map::new();
    for seed in 20_000..20_400u64 {
        let mut m = serde_json::Map::new();
        for (id, category, prompt) in prompts() {
            let tp = tutor::parse(&prompt).unwrap();
            let ans = tutor::answer(&tp, &p.behaviour, tutor::key(seed, p.name, &tp, 0));
            m.insert(id, final_score(&prompt, &category, "reply", &ans).into());
        }
        out.insert(seed.to_string(), Value::Object(m));
    }
    std::fs::write(path, Value::Object(out).to_string()).unwrap();
}
