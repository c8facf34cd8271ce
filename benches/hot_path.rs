//! Micro-benchmarks of the per-request hot path and the statistics: `cargo bench`.
//! Whole runs are measured by `scripts/bench.sh`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use evalrun::inputs::config::{Config, ResolvedModel};
use evalrun::provider::openai::OpenAi;
use evalrun::provider::qianfan::Qianfan;
use evalrun::provider::sse::SseDecoder;
use evalrun::provider::Wire;

/// The stream `evalrun sim` sends for one answer of `n` content chunks (OpenAI chat).
fn openai_body(n: usize) -> Vec<u8> {
    let mut body = String::new();
    body.push_str("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n");
    for i in 0..n {
        body.push_str(&format!("data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"word{i} \"}},\"finish_reason\":null}}]}}\n\n"));
    }
    body.push_str("data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    body.push_str("data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":60,\"total_tokens\":100}}\n\n");
    body.push_str("data: [DONE]\n\n");
    body.into_bytes()
}

fn model(toml: &str) -> ResolvedModel {
    let c = Config::parse(Path::new("c.toml"), toml).unwrap();
    let env = |_: &str| Some("value".to_string());
    c.resolve(&["m".into()], &env, &mut Default::default())
        .unwrap()
        .remove(0)
}

fn sse_decoder(c: &mut Criterion) {
    let body = openai_body(60);
    let mut g = c.benchmark_group("sse_decoder");
    g.throughput(Throughput::Bytes(body.len() as u64));
    for chunk in [64usize, 1024, body.len()] {
        g.bench_with_input(
            BenchmarkId::new("chunk_bytes", chunk),
            &chunk,
            |b, &chunk| {
                b.iter(|| {
                    let mut d = SseDecoder::new();
                    let mut n = 0;
                    for part in body.chunks(chunk) {
                        // As the providers read a stream: each event handed over, none built.
                        let _ = d.push_each(black_box(part), |_, data| {
                            n += data.len();
                            std::ops::ControlFlow::<()>::Continue(())
                        });
                    }
                    black_box((n, d.finish()))
                })
            },
        );
    }
    g.finish();
}

fn chunk_parsers(c: &mut Criterion) {
    let openai = OpenAi::new(&model(
        "[models.m]\nprovider = \"openai\"\nbase_url = \"http://h/v1\"\nmodel = \"x\"\n",
    ));
    let qianfan = Qianfan::new(&model("[models.m]\nprovider = \"qianfan\"\nendpoint = \"ernie_speed\"\nbase_url = \"http://h/\"\napi_key_env = \"A\"\nsecret_key_env = \"S\"\n"));
    let cases: [(&str, &dyn Wire, &str); 4] = [
        (
            "openai_content",
            &openai,
            r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"x","choices":[{"index":0,"delta":{"content":"Hello there, "},"finish_reason":null}]}"#,
        ),
        (
            "openai_escaped",
            &openai,
            r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"\u4f60\u597d\n\"quoted\""},"finish_reason":null}]}"#,
        ),
        (
            "openai_usage",
            &openai,
            r#"{"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":60,"total_tokens":100}}"#,
        ),
        (
            "qianfan_content",
            &qianfan,
            r#"{"id":"as-1","object":"chat.completion","created":1,"sentence_id":0,"is_end":false,"is_truncated":false,"result":"你好，我们来谈谈","need_clear_history":false,"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}}"#,
        ),
    ];
    let mut g = c.benchmark_group("chunk_parsers");
    for (name, wire, event) in cases {
        g.bench_function(name, |b| b.iter(|| black_box(wire.event(black_box(event)))));
    }
    g.finish();
}

fn rule_scoring(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rubric = evalrun::inputs::rubric::load(&root.join("rubrics/oral_english.toml")).unwrap();
    let items = evalrun::inputs::evalset::load(&root.join("evalsets/oral_english.jsonl")).unwrap();
    let answer = "That was an amazing game! I think the final three minutes decided it, and the \
                  coach's timeout was smart. What did you think about the last shot?";
    c.bench_function("rule_scoring/oral_english_all_items", |b| {
        b.iter(|| {
            for item in &items {
                black_box(evalrun::score::score_answer(
                    &rubric,
                    item,
                    Some(black_box(answer)),
                ));
            }
        })
    });
}

fn statistics(c: &mut Criterion) {
    // A fixed pseudo-random sample: latencies of 100,000 responses, scores of 10,000 items.
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let latencies: Vec<f64> = (0..100_000)
        .map(|_| (next() % 600_000) as f64 / 10.0)
        .collect();
    let scores: Vec<f64> = (0..10_000).map(|_| (next() % 11) as f64 / 10.0).collect();
    let diffs: Vec<f64> = (0..10_000)
        .map(|_| (next() % 21) as f64 / 10.0 - 1.0)
        .collect();
    let mut g = c.benchmark_group("statistics");
    g.bench_function("nearest_rank_p50_p90_p99_of_100k", |b| {
        b.iter(|| {
            let sorted = evalrun::stats::percentile::sorted(black_box(&latencies));
            [50, 90, 99].map(|p| evalrun::stats::percentile::nearest_rank(&sorted, p))
        })
    });
    g.sample_size(10);
    g.bench_function("bootstrap_mean_ci_10k_x1000", |b| {
        b.iter(|| evalrun::stats::bootstrap::mean_ci(black_box(&scores), 7, 1000, 0.95))
    });
    g.bench_function("wilcoxon_signed_rank_10k", |b| {
        b.iter(|| evalrun::stats::wilcoxon::signed_rank(black_box(&diffs)))
    });
    g.finish();
}

criterion_group!(
    benches,
    sse_decoder,
    chunk_parsers,
    rule_scoring,
    statistics
);
criterion_main!(benches);
