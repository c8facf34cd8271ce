//! Fuzzing on stable Rust: property tests that feed every parser of outside input arbitrary bytes and
//! structure-aware mutations of valid inputs (byte flips, insertions of syntax characters and invalid
//! UTF-8, deletions, duplications, truncation). The property is the same everywhere: no panic; a
//! rejection is an error value. (The SSE decoder and the OpenAI and Qianfan chunk parsers are fuzzed
//! inside the library, `provider::fuzz`, where the wire types live.)
//!
//! `cargo test` runs a few cases per parser; `scripts/fuzz.sh` runs `PROPTEST_CASES` (≥ 10,000) in
//! `--release`.

use std::path::Path;

use evalrun::inputs::{evalset, rubric};
use evalrun::records::{
    read_jsonl, read_jsonl_lines, JudgementRecord, PairRecord, ResponseRecord, ScoreRecord,
};
use evalrun::score::judge::parse::{parse_grade, parse_pair};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// `PROPTEST_CASES`, else a small number for a plain `cargo test`.
fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// One edit of a valid input.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

/// Bytes that matter to the formats under test: JSON and TOML syntax, SSE framing, invalid UTF-8.
fn syntax_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(vec![
            b"{".to_vec(),
            b"}".to_vec(),
            b"[".to_vec(),
            b"]".to_vec(),
            b"\"".to_vec(),
            b":".to_vec(),
            b",".to_vec(),
            b"\\".to_vec(),
            b"\n".to_vec(),
            b"\r".to_vec(),
            b"=".to_vec(),
            b"data: ".to_vec(),
            b"null".to_vec(),
            b"-1e999".to_vec(),
            b"\xff".to_vec(),
            b"\xe5\xad".to_vec(),
            "\u{feff}".as_bytes().to_vec(),
            "３：".as_bytes().to_vec(),
        ]),
        prop::collection::vec(any::<u8>(), 1..8),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), syntax_bytes()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = b.len();
        let at = |i: usize| if len == 0 { 0 } else { i % (len + 1) };
        match m {
            Mutation::Flip(i, x) if len > 0 => b[i % len] ^= x | 1,
            Mutation::Insert(i, bytes) => {
                let p = at(*i);
                b.splice(p..p, bytes.iter().copied());
            }
            Mutation::Delete(i, n) if len > 0 => {
                let p = i % len;
                b.drain(p..(p + n).min(len));
            }
            Mutation::Duplicate(i, n) if len > 0 => {
                let p = i % len;
                let seg = b[p..(p + n).min(len)].to_vec();
                b.splice(p..p, seg);
            }
            Mutation::Truncate(i) => b.truncate(at(*i)),
            _ => {}
        }
    }
    b
}

/// Arbitrary bytes, or a valid `seed` mutated 1–8 times.
fn input(seeds: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..512),
        3 => (prop::sample::select(seeds), prop::collection::vec(mutation(), 1..8))
            .prop_map(|(s, m)| apply(s.as_bytes().to_vec(), &m)),
    ]
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const EVALSET_SEEDS: &[&str] = &[
    "{\"id\": \"a\", \"prompt\": \"I like football.\", \"category\": \"normal\", \"reference\": \"ok\"}\n",
    "{\"messages\": [{\"role\": \"system\", \"content\": \"s\"}, {\"role\": \"user\", \"content\": \"u\"}, {\"role\": \"assistant\", \"content\": \"a\"}, {\"role\": \"user\", \"content\": \"b\"}]}\n",
    "[{\"prompt\": \"你好\", \"response\": [[\"嗯\"]]}, {\"prompt\": \"再见\", \"response\": [[\"好\"]]}]\n",
    "{\"prompt\": \"p\", \"completion\": \"c\"}\n{\"vars\": {\"name\": \"x\", \"turns\": [1, 2]}, \"meta\": {\"length\": {\"max\": 30}}}\n",
];

const RUBRIC_SEED: &str = include_str!("../rubrics/length_control.toml");
const RUBRIC_SEEDS: &[&str] = &[
    RUBRIC_SEED,
    "name = \"r\"\n[[dimensions]]\nid = \"q\"\nname = \"Q\"\nscale = [1, 5]\njudge = true\n[dimensions.levels]\n1 = \"bad\"\n5 = \"good\"\n",
];

const GRADE_SEEDS: &[&str] = &[
    "{\"length_compliance\": {\"score\": 1, \"reason\": \"ok\"}, \"quality\": {\"score\": 4, \"reason\": \"good\"}}",
    "```json\n{\"scores\": {\"quality\": \"３分\", \"理由\": \"好\"}}\n```",
    "The answer is fine. {\"quality\": {\"score\": null}} trailing",
    "{\"quality\": 4.5, \"reason\": [1,2]}",
];

const PAIR_SEEDS: &[&str] = &[
    "{\"winner\": \"A\", \"reason\": \"clearer\"}",
    "```json\n{\"winner\": \"tie\"}\n```",
    "我认为 {\"胜者\": \"B\", \"理由\": \"更好\"}",
];

const RECORD_SEEDS: &[&str] = &[
    "{\"model\":\"m\",\"item_id\":\"a\",\"sample\":0,\"output\":\"hi\",\"ttft_ms\":1.5,\"total_ms\":3.0,\"queue_ms\":0.0,\"prompt_tokens\":3,\"completion_tokens\":2,\"finish_reason\":\"stop\",\"attempts\":1,\"error\":null,\"cached\":false}\n{\"model\":\"m\",\"item_id\":\"b\",\"sample\":0,\"output\":null,\"ttft_ms\":null,\"total_ms\":null,\"queue_ms\":1.0,\"prompt_tokens\":null,\"completion_tokens\":null,\"finish_reason\":null,\"attempts\":3,\"error\":{\"kind\":\"too_large\",\"message\":\"x\",\"status\":500,\"code\":null},\"cached\":false,\"tokens_estimated\":true,\"invalid_utf8\":true}\n",
    "{\"model\":\"m\",\"item_id\":\"a\",\"sample\":0,\"rules\":{\"r\":{\"pass\":true,\"detail\":\"d\"}},\"dimensions\":{\"q\":{\"score\":3.0,\"source\":\"rules+judge\",\"justification\":null,\"rule_cap\":4.0}},\"judge_error\":null,\"judge_samples\":{\"q\":[3.0]}}\n",
    "{\"judge\":\"j\",\"task\":\"grade\",\"item_id\":\"a\",\"model\":\"m\",\"sample\":0,\"order\":1,\"attempt\":1,\"raw\":\"{}\",\"parsed\":{},\"parse_error\":null,\"prompt_tokens\":1,\"completion_tokens\":1,\"total_ms\":2.0,\"error\":null}\n",
    "{\"item_id\":\"a\",\"candidate\":\"c\",\"baseline\":\"b\",\"verdict\":\"G\",\"first_order\":\"G\",\"second_order\":\"S\"}\n",
];

fn records_all_readers(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.jsonl");
    std::fs::write(&p, bytes).unwrap();
    let _ = read_jsonl::<ResponseRecord>(&p);
    let _ = read_jsonl::<ScoreRecord>(&p);
    let _ = read_jsonl::<JudgementRecord>(&p);
    let _ = read_jsonl::<PairRecord>(&p);
    let _ = read_jsonl_lines(&p);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn evalset_loader_never_panics(bytes in input(EVALSET_SEEDS)) {
        let t = text(&bytes);
        if let Err(e) = evalset::parse(Path::new("set.jsonl"), &t) {
            prop_assert!(!e.to_string().is_empty());
        }
        let _ = evalset::parse_lenient(&t);
    }

    #[test]
    fn rubric_loader_never_panics(bytes in input(RUBRIC_SEEDS)) {
        if let Err(e) = rubric::parse(Path::new("r.toml"), &text(&bytes)) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn judge_reply_parsers_never_panic(bytes in input(GRADE_SEEDS), pair in input(PAIR_SEEDS)) {
        let r = rubric::parse(Path::new("r.toml"), RUBRIC_SEED).unwrap();
        let dims: Vec<&rubric::Dimension> = r.dimensions.iter().collect();
        let reply = parse_grade(&text(&bytes), &dims);
        // Every requested dimension is either read or named as a problem.
        prop_assert!(reply.dims.len() + reply.problems.len() >= 1);
        let _ = parse_pair(&text(&pair));
    }

    #[test]
    fn record_readers_never_panic(bytes in input(RECORD_SEEDS)) {
        records_all_readers(&bytes);
    }
}
