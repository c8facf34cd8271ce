//! Seed 000's own draw, replayed at simulator seed 0 (`evalrun demo`'s seed and `evalrun sim`'s
//! default). A profile's [`Behaviour`](super::profiles::Behaviour) rates are what the model does in
//! expectation: over many seeds its means are seed 000 §3.3.2's table (`calibration.rs`,
//! `expected_table_is_the_seed_table`). One draw of 50 items scatters around them by ±0.08, so at
//! seed 0 the seed line-up answers with these thresholds instead: each sits just above the k-th
//! smallest hashed draw of the shipped 50-item set, so that exactly the seed's k items show the
//! behaviour (the counts in the comments) and the demo reproduces the seed's table cell by cell with
//! no sampling noise (`tests/e2e/demo_calibration.rs`). Every other seed is an independent draw of the
//! same models, which is what the benchmarks (`scripts/gate_power.sh`, `headline_stability.sh`)
//! need: a truth to measure the verdicts against.

use super::profiles::Behaviour;

/// The seed-0 thresholds of a seed 000 profile (`None`: the profile is not in seed 000's table, and
/// seed 0 is a draw like any other).
pub(crate) fn seed_draw(profile: &str) -> Option<Behaviour> {
    Some(match profile {
        "ernie-4.0" => {
            // Shipped set: fence 1/50, flat Reply 10/46, teacher-voiced 10/50, loose 2/40, Analysis explains
            // the Reply 10/42, uncorrected 16/22, no reminder 1/4.
            Behaviour {
                prose_before: 0.0,
                fence: 0.0356,
                continuation: 0.0,
                long_reply: 0.0,
                flat_reply: 0.24,
                chinese_in_english: 0.0,
                teacher_suggestions: 0.21,
                loose_suggestions: 0.05,
                analysis_explains_reply: 0.2,
                grammar_uncorrected: 0.742,
                no_reminder: 0.19,
                pretty_json: 1.0,
            }
        }
        "ernie-speed" => {
            // Shipped set: prose 3/50, fence 3/50, continuation 2/50, long Reply 3/50, Chinese 1/50, flat
            // Reply 15/46, teacher-voiced 24/50, loose 7/26, Analysis explains the Reply 9/42,
            // uncorrected 15/22, no reminder 4/4.
            Behaviour {
                prose_before: 0.04,
                fence: 0.11,
                continuation: 0.06,
                long_reply: 0.013,
                flat_reply: 0.341,
                chinese_in_english: 0.01,
                teacher_suggestions: 0.416,
                loose_suggestions: 0.183,
                analysis_explains_reply: 0.26,
                grammar_uncorrected: 0.59,
                no_reminder: 0.67,
                pretty_json: 0.7,
            }
        }
        "sft-full-e3-lr3e-5" => {
            // Shipped set: flat Reply 7/46, teacher-voiced 2/50, loose 2/48, uncorrected 15/22.
            Behaviour {
                prose_before: 0.0,
                fence: 0.0,
                continuation: 0.0,
                long_reply: 0.0,
                flat_reply: 0.07,
                chinese_in_english: 0.0,
                teacher_suggestions: 0.04,
                loose_suggestions: 0.03,
                analysis_explains_reply: 0.0,
                grammar_uncorrected: 0.68,
                no_reminder: 0.0,
                pretty_json: 0.3,
            }
        }
        "sft-full-e3-lr6e-5" => {
            // Shipped set: flat Reply 5/46, teacher-voiced 1/50, loose 4/49, Analysis explains the Reply
            // 1/42, uncorrected 14/22.
            Behaviour {
                prose_before: 0.0,
                fence: 0.0,
                continuation: 0.0,
                long_reply: 0.0,
                flat_reply: 0.08,
                chinese_in_english: 0.0,
                teacher_suggestions: 0.0111,
                loose_suggestions: 0.07,
                analysis_explains_reply: 0.031,
                grammar_uncorrected: 0.64,
                no_reminder: 0.0,
                pretty_json: 0.3,
            }
        }
        "sft-full-e6-lr3e-5" => {
            // Shipped set: flat Reply 4/46, loose 6/50, uncorrected 9/22.
            Behaviour {
                prose_before: 0.0,
                fence: 0.0,
                continuation: 0.0,
                long_reply: 0.0,
                flat_reply: 0.16,
                chinese_in_english: 0.0,
                teacher_suggestions: 0.0,
                loose_suggestions: 0.17,
                analysis_explains_reply: 0.0,
                grammar_uncorrected: 0.35,
                no_reminder: 0.0,
                pretty_json: 0.3,
            }
        }
        "sft-lora-e3-lr3e-4" => {
            // Shipped set: long Reply 1/50, flat Reply 3/46, loose 7/50, Analysis explains the Reply 2/42,
            // uncorrected 11/22, no reminder 1/4.
            Behaviour {
                prose_before: 0.0,
                fence: 0.0,
                continuation: 0.0,
                long_reply: 0.01,
                flat_reply: 0.07,
                chinese_in_english: 0.0,
                teacher_suggestions: 0.0,
                loose_suggestions: 0.143,
                analysis_explains_reply: 0.053,
                grammar_uncorrected: 0.48,
                no_reminder: 0.27,
                pretty_json: 0.3,
            }
        }
        "sft-lora-e3-lr6e-4" => {
            // Shipped set: long Reply 2/50, flat Reply 9/46, teacher-voiced 2/50, loose 4/48, Analysis
            // explains the Reply 3/42, uncorrected 10/22.
            Behaviour {
                prose_before: 0.0,
                fence: 0.0,
                continuation: 0.0,
                long_reply: 0.05,
                flat_reply: 0.24,
                chinese_in_english: 0.0,
                teacher_suggestions: 0.04,
                loose_suggestions: 0.09,
                analysis_explains_reply: 0.04,
                grammar_uncorrected: 0.49,
                no_reminder: 0.0,
                pretty_json: 0.3,
            }
        }
        "sft-lora-e6-lr3e-4" => {
            // Shipped set: flat Reply 12/46, teacher-voiced 2/50, loose 8/48, Analysis explains the Reply
            // 3/42, uncorrected 1/22.
            Behaviour {
                prose_before: 0.0,
                fence: 0.0,
                continuation: 0.0,
                long_reply: 0.0,
                flat_reply: 0.29,
                chinese_in_english: 0.0,
                teacher_suggestions: 0.05,
                loose_suggestions: 0.21,
                analysis_explains_reply: 0.02,
                grammar_uncorrected: 0.08,
                no_reminder: 0.0,
                pretty_json: 0.3,
            }
        }
        _ => return None,
    })
}
