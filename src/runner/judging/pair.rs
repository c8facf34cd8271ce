//! Comparing a candidate's answer with the baseline's (GSB) in both presentation orders.

use crate::inputs::rubric::Dimension;
use crate::records::{JudgeTask, PairRecord, PairVerdict};
use crate::runner::cache::Use;
use crate::score::judge::parse::{self, Winner};
use crate::score::judge::{prompt, schema, MAX_ATTEMPTS};

use super::answers::answered;
use super::ask::{ask, blank_record, keep, Asked};
use super::{Ctx, Stopped, UnitTally};

/// The verdict of one presentation order, from the candidate's side.
fn verdict(order: u32, w: Winner) -> PairVerdict {
    match (order, w) {
        (_, Winner::Tie) => PairVerdict::S,
        (1, Winner::A) | (2, Winner::B) => PairVerdict::G,
        _ => PairVerdict::B,
    }
}

/// Compare a candidate's answer (answer `cand_idx`) with the baseline's (`base_idx`) in both orders
/// (blind labels A and B).
pub(super) async fn pair(
    ctx: &Ctx,
    item_idx: usize,
    cand_idx: usize,
    base_idx: usize,
    t: &mut UnitTally,
) -> Result<Option<PairRecord>, Stopped> {
    let item = &ctx.items.get(item_idx);
    let (cand, base) = (&ctx.answers.get(cand_idx), &ctx.answers.get(base_idx));
    let (Some(c_out), Some(b_out)) = (answered(cand), answered(base)) else {
        return Ok(None);
    };
    let dims: Vec<&Dimension> = ctx.rubric.dimensions.iter().collect();
    let mut verdicts = [None, None];
    for order in [1u32, 2] {
        let (a, b) = if order == 1 {
            (c_out, b_out)
        } else {
            (b_out, c_out)
        };
        for attempt in 1..=MAX_ATTEMPTS {
            let seed = format!(
                "pair\u{0}{}\u{0}{}\u{0}{}\u{0}{order}\u{0}{attempt}",
                cand.model, base.model, item.id
            );
            let rendered = prompt::render_pair(&ctx.prompts.pair, item, &dims, a, b, &seed);
            let mut record = blank_record(ctx, JudgeTask::Pair, &item.id, &cand.model, 0);
            record.baseline = Some(base.model.clone());
            record.order = order;
            record.attempt = attempt;
            let Asked {
                reply,
                mut record,
                fresh,
            } = ask(
                ctx,
                rendered.text,
                schema::pair_schema(),
                record,
                Use::Pair { order, attempt },
                t,
            )
            .await?;
            let Some(reply) = reply else {
                keep(ctx, fresh, &record);
                break;
            };
            match parse::parse_pair(&reply) {
                Ok((w, justification)) => {
                    let v = verdict(order, w);
                    record.parsed = Some(serde_json::json!({
                        "winner": w.as_str(),
                        "justification": justification,
                        "verdict": v,
                    }));
                    keep(ctx, fresh, &record);
                    verdicts[order as usize - 1] = Some(v);
                    break;
                }
                Err(e) => {
                    t.unusable += 1;
                    record.parse_error = Some(e);
                    keep(ctx, fresh, &record);
                }
            }
        }
    }
    let [Some(first), Some(second)] = verdicts else {
        return Ok(None);
    };
    Ok(Some(PairRecord {
        item_id: item.id.clone(),
        candidate: cand.model.clone(),
        baseline: base.model.clone(),
        verdict: PairVerdict::combine(first, second),
        first_order: Some(first),
        second_order: Some(second),
        panel: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_are_from_the_candidates_side() {
        // Order 1 shows the candidate as A; order 2 shows the baseline as A.
        assert_eq!(verdict(1, Winner::A), PairVerdict::G);
        assert_eq!(verdict(1, Winner::B), PairVerdict::B);
        assert_eq!(verdict(2, Winner::A), PairVerdict::B);
        assert_eq!(verdict(2, Winner::B), PairVerdict::G);
        assert_eq!(verdict(2, Winner::Tie), PairVerdict::S);
    }
}
