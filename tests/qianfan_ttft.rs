//! `ttft_ms` against the server's own clock: the simulator logs, per request, the time from its
//! arrival to the moment its first content was handed to the HTTP stack; the real binary
//! answers every item with 32 streams in flight. Both clocks are monotonic on one machine, so the
//! difference is the client's measuring error plus the loopback transit both ways.
//!
//! The test asserts only a loose bound (debug build, shared machine: a median of 12 ms was seen under
//! a load of 8 on 2 cores), loose enough for load and tight enough for the bugs it guards against —
//! a clock started before the request waited for a stream slot puts the second wave of 32 answers
//! 70 ms or more late (the first wave's answers take 30–150 ms to start, then stream). The 2 ms
//! median / 5 ms p99 figures are measured by `bench_ttft_32_streams` (`scripts/bench_limits.sh`,
//! release build).

mod common;

use common::{jsonl, repo_file, script, Sim, TestDir};

struct Agreement {
    n: usize,
    median: f64,
    p99: f64,
    max: f64,
    /// Median of client − server (positive: the client saw it later).
    signed_median: f64,
}

/// Nearest-rank percentile of sorted values.
fn pct(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank - 1]
}

fn measure(items: usize, streams: usize) -> Agreement {
    let markers: Vec<String> = (0..items).map(|i| format!("TIMED-{i:04}")).collect();
    let scripts = markers
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let ttft = (30 + (i as u64 * 7) % 120).to_string();
            script(
                m,
                "{\"Reply\": \"Nice! What did you see there?\"}",
                &[("ttft_ms", &ttft), ("delay_ms", "4")],
            )
        })
        .collect();
    let server = Sim::scripted("", scripts);
    let dir = TestDir::new();
    dir.write(
        "evalrun.toml",
        &format!(
            "[models.q]\nprovider = \"qianfan\"\nendpoint = \"ernie_speed\"\napi_key_env = \"QF_AK\"\nsecret_key_env = \"QF_SK\"\nconcurrency = {streams}\nretries = 0\n"
        ),
    );
    let set: String = markers
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{{\"id\": \"t-{i:04}\", \"prompt\": \"{m}: I saw a movie.\"}}\n"))
        .collect();
    dir.write("set.jsonl", &set);
    let out = dir
        .evalrun()
        .args(["--models", "q", "--judge", "none", "--evalset", "set.jsonl"])
        .args([
            "--out",
            "out",
            "--quiet",
            "--concurrency",
            &streams.to_string(),
        ])
        .arg("--rubric")
        .arg(repo_file("rubrics/oral_english.toml"))
        .env("QF_AK", "ak")
        .env("QF_SK", "sk")
        .env("QIANFAN_BASE_URL", server.base_url())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = server.seen();
    let records = jsonl(&dir.path().join("out/responses.jsonl"));
    assert_eq!(records.len(), items);
    let mut diffs = Vec::new();
    for r in &records {
        assert!(r["error"].is_null(), "{r}");
        let i: usize = r["item_id"].as_str().unwrap()[2..].parse().unwrap();
        let marker = &markers[i];
        let t = seen
            .iter()
            .find(|r| r.prompt.contains(marker.as_str()))
            .expect("request logged");
        let server_ms = t.first_content_us.expect("first content written") as f64 / 1000.0;
        diffs.push(r["ttft_ms"].as_f64().unwrap() - server_ms);
    }
    let mut signed = diffs.clone();
    signed.sort_by(f64::total_cmp);
    let mut abs: Vec<f64> = diffs.iter().map(|d| d.abs()).collect();
    abs.sort_by(f64::total_cmp);
    Agreement {
        n: abs.len(),
        median: pct(&abs, 50.0),
        p99: pct(&abs, 99.0),
        max: *abs.last().unwrap(),
        signed_median: pct(&signed, 50.0),
    }
}

fn report(streams: usize, a: &Agreement) {
    println!(
        "ttft_ms vs server clock, {streams} concurrent streams, {} answers: |diff| median {:.3} ms, p99 {:.3} ms, max {:.3} ms (client − server median {:+.3} ms)",
        a.n, a.median, a.p99, a.max, a.signed_median
    );
}

#[test]
fn ttft_agrees_with_the_servers_clock() {
    let a = measure(64, 32);
    report(32, &a);
    assert!(
        a.median < 25.0 && a.p99 < 100.0,
        "median {} p99 {}",
        a.median,
        a.p99
    );
}

#[test]
#[ignore = "measurement; run scripts/bench_limits.sh (release build)"]
fn bench_ttft_32_streams() {
    let a = measure(640, 32);
    report(32, &a);
}
