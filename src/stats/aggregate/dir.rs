//! The summary of a run directory: its record files folded into a [`SummaryBuilder`], each line parsed
//! once into a view that borrows from it ([`lines`](super::lines)).
//!
//! A later line with the same key replaces an earlier one (STATS §1). The records are folded in one
//! pass that also keeps a 64-bit hash of each line's key; only when two hashes are equal (a repeated
//! key, as `--resume` can leave, or rarely a collision) are the lines that a later one replaces found
//! exactly ([`read::superseded_units`](super::read)) and the records folded again without them.

use std::path::Path;

use anyhow::Result;

use crate::records::{self, files, JudgementRecord, PairRecord, ResponseRecord, ScoreRecord};
use crate::stats::judge::JudgeBuilder;
use crate::stats::summary::Summary;

use super::lines::{ResponseLine, ScoreLine};
use super::read::{self, hash_of, Superseded};
use super::{StatsConfig, SummaryBuilder};

/// What a report reads from the lines the summary reads, so that they are parsed once: every line
/// that parses, a repeated key's earlier lines included, in file order.
pub trait LineVisitor {
    /// A `responses.jsonl` line.
    fn response(&mut self, _r: &ResponseLine<'_>) {}
    /// A `scores.jsonl` line.
    fn score(&mut self, _s: &ScoreLine<'_>) {}
    /// The lines are about to be read again from the first (what was seen so far is to be forgotten).
    fn restart(&mut self) {}
}

impl LineVisitor for () {}

/// Read `items.jsonl` (for the cluster key), `responses.jsonl`, `scores.jsonl`, `pairwise.jsonl` and
/// `judgements.jsonl` of a run directory (a missing file reads as empty; a torn last line is ignored)
/// and summarise them.
pub fn summarize_dir(cfg: &StatsConfig, run_dir: &Path) -> Result<Summary> {
    summarize_dir_with(cfg, run_dir, &mut ())
}

/// [`summarize_dir`], handing each response and score line to `visit` as well.
pub fn summarize_dir_with(
    cfg: &StatsConfig,
    run_dir: &Path,
    visit: &mut dyn LineVisitor,
) -> Result<Summary> {
    let mut replaced: Option<[Superseded; 3]> = None;
    loop {
        let (b, j, repeats) = fold(cfg, run_dir, replaced.as_mut(), visit)?;
        if replaced.is_some() || !repeats {
            let mut summary = b.finish();
            summary.judge = j.finish(cfg.judge.as_ref(), &cfg.models);
            return Ok(summary);
        }
        let path = |name: &str| run_dir.join(name);
        replaced = Some([
            read::superseded_units(&path(files::RESPONSES))?,
            read::superseded_units(&path(files::SCORES))?,
            read::superseded_pairs(&path(files::PAIRWISE))?,
        ]);
        visit.restart();
    }
}

/// One pass over the records: every line to the judge diagnostics and `visit`, the lines not in
/// `replaced` (all of them when it is not known yet) to the summary. Also says whether two lines of a
/// file may share a key.
fn fold<'c>(
    cfg: &'c StatsConfig,
    run_dir: &Path,
    mut replaced: Option<&mut [Superseded; 3]>,
    visit: &mut dyn LineVisitor,
) -> Result<(SummaryBuilder<'c>, JudgeBuilder, bool)> {
    let mut b = SummaryBuilder::new(cfg);
    let mut j = JudgeBuilder::default();
    let path = |name: &str| run_dir.join(name);
    // Judgements first: without a judge and without judge records there are no diagnostics, and the
    // judge builder need not keep anything per answer.
    for r in records::stream_jsonl::<JudgementRecord>(&path(files::JUDGEMENTS))? {
        j.add_judgement(&r?.record);
    }
    let diagnose = cfg.judge.is_some() || j.has_calls();
    if cfg.cluster_key.is_some() {
        for item in records::stream_jsonl::<serde_json::Value>(&path(files::ITEMS))? {
            b.add_item(&item?.record);
        }
    }
    if let Some(r) = &replaced {
        b.set_repeated(r[0].count(), r[1].count(), r[2].count());
    }
    let mut skip = |file: usize, number: usize| match replaced.as_deref_mut() {
        Some(r) => r[file].contains(number),
        None => false,
    };
    let mut hashes: [Vec<u64>; 3] = Default::default();
    read::for_each_line(&path(files::RESPONSES), |line| {
        let Some(r) = line.parse::<ResponseLine>()? else {
            return Ok(());
        };
        if diagnose {
            // The diagnostics read every line, the last of a key winning, as before.
            if let Some(full) = line.parse::<ResponseRecord>()? {
                j.add_response(&full);
            }
        }
        visit.response(&r);
        hashes[0].push(hash_of(&(&r.model, &r.item_id, r.sample)));
        if !skip(0, line.number) {
            b.add_response(&r.model, &r.item_id, r.sample, r.facts());
        }
        Ok(())
    })?;
    read::for_each_line(&path(files::SCORES), |line| {
        let Some(s) = line.parse::<ScoreLine>()? else {
            return Ok(());
        };
        if diagnose {
            if let Some(full) = line.parse::<ScoreRecord>()? {
                j.add_score(&full);
            }
        }
        visit.score(&s);
        hashes[1].push(hash_of(&(&s.model, &s.item_id, s.sample)));
        if !skip(1, line.number) {
            b.add_score(&s.model, &s.item_id, s.sample, &s.facts());
        }
        Ok(())
    })?;
    read::for_each_line(&path(files::PAIRWISE), |line| {
        let Some(p) = line.parse::<PairRecord>()? else {
            return Ok(());
        };
        if diagnose {
            j.add_pair(&p);
        }
        hashes[2].push(hash_of(&(&p.candidate, &p.baseline, &p.item_id)));
        if !skip(2, line.number) {
            b.add_pair(
                &p.candidate,
                &p.baseline,
                &p.item_id,
                p.verdict,
                p.first_order,
                p.second_order,
            );
        }
        Ok(())
    })?;
    let repeats = hashes.iter_mut().any(|h| {
        h.sort_unstable();
        h.windows(2).any(|w| w[0] == w[1])
    });
    Ok((b, j, repeats))
}
