//! What the judge phase leaves: each judge's records by unit ([`JudgeOutcome`]), written to
//! `scores.jsonl` and `pairwise.jsonl` in unit order ([`Judged::write`]), each file replaced in one
//! step. An answer whose grade unit did not finish (Ctrl-C) keeps its rules-only score; a pair without
//! a verdict gets no line.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Result;

use crate::inputs::rubric::Rubric;
use crate::records::{files, PairRecord, ScoreRecord};
use crate::runner::items::ItemFile;

use super::answers::Answers;
use super::grade::rule_score;
use super::spool::{write_line, Spooled};
use super::{panel, JudgeTally};

/// One judge's records: a score per answer (slot `k` for answer `k`), then a pair verdict per pair
/// unit, where the unit finished with one.
pub struct JudgeOutcome {
    /// `None`: no judge; every answer gets its rules-only score and there are no pairs.
    spooled: Option<Spooled>,
    n_answers: usize,
    /// Counts for the end-of-run message and the exit code.
    pub tally: JudgeTally,
}

impl JudgeOutcome {
    /// The outcome of a phase without a judge.
    pub(super) fn rules_only() -> JudgeOutcome {
        JudgeOutcome {
            spooled: None,
            n_answers: 0,
            tally: JudgeTally::default(),
        }
    }

    /// The outcome of a judge's units, spooled by slot (the answers' first).
    pub(super) fn judged(spooled: Spooled, n_answers: usize, tally: JudgeTally) -> JudgeOutcome {
        JudgeOutcome {
            spooled: Some(spooled),
            n_answers,
            tally,
        }
    }

    /// How many pair units there were.
    pub(super) fn n_pairs(&self) -> usize {
        self.spooled
            .as_ref()
            .map_or(0, |s| s.len() - self.n_answers)
    }

    /// The score line of answer `k`, if its unit finished.
    fn score_bytes(&mut self, k: usize) -> Result<Option<&[u8]>> {
        match &mut self.spooled {
            Some(s) => s.bytes(k),
            None => Ok(None),
        }
    }

    /// The score of answer `k`, if its unit finished.
    pub(super) fn score(&mut self, k: usize) -> Result<Option<ScoreRecord>> {
        match &mut self.spooled {
            Some(s) => s.read(k),
            None => Ok(None),
        }
    }

    /// The pair line of pair unit `p`, if it got a verdict.
    fn pair_bytes(&mut self, p: usize) -> Result<Option<&[u8]>> {
        let n = self.n_answers;
        match &mut self.spooled {
            Some(s) => s.bytes(n + p),
            None => Ok(None),
        }
    }

    /// The pair record of pair unit `p`, if it got a verdict.
    pub(super) fn pair(&mut self, p: usize) -> Result<Option<PairRecord>> {
        let n = self.n_answers;
        match &mut self.spooled {
            Some(s) => s.read(n + p),
            None => Ok(None),
        }
    }
}

/// The judge phase's outcome: one judge's, or each of a panel's judges'.
pub struct Judged {
    rubric: Arc<Rubric>,
    items: Arc<ItemFile>,
    answers: Arc<Answers>,
    /// By judge name, in panel order.
    outcomes: Vec<(String, JudgeOutcome)>,
    /// Whether the outcomes are a panel's, to combine.
    panel: bool,
}

impl Judged {
    pub(super) fn new(
        rubric: Arc<Rubric>,
        items: Arc<ItemFile>,
        answers: Arc<Answers>,
        outcomes: Vec<(String, JudgeOutcome)>,
        panel: bool,
    ) -> Judged {
        Judged {
            rubric,
            items,
            answers,
            outcomes,
            panel,
        }
    }

    /// The calls of every judge: sent, reused, cached, failed, unusable (the unjudged answers and pairs
    /// of a panel are known once its records are combined, by [`Judged::write`]).
    pub fn calls(&self) -> JudgeTally {
        let mut tally = JudgeTally::default();
        for (_, o) in &self.outcomes {
            let t = &o.tally;
            tally.calls += t.calls;
            tally.reused += t.reused;
            tally.cached += t.cached;
            tally.call_errors += t.call_errors;
            tally.unusable += t.unusable;
        }
        tally
    }

    /// Replace `scores.jsonl` and `pairwise.jsonl` in `dir` with the new records; the phase's tally.
    pub fn write(self, dir: &Path) -> Result<JudgeTally> {
        let scores = dir.join(files::SCORES);
        let pairs = dir.join(files::PAIRWISE);
        let calls = self.calls();
        let Judged {
            rubric,
            items,
            answers,
            mut outcomes,
            panel,
        } = self;
        let rules = RulesOnly {
            rubric: &rubric,
            items: &items,
            answers: &answers,
        };
        if panel {
            return panel::write(&rules, outcomes, calls, &scores, &pairs);
        }
        let (_, o) = outcomes.first_mut().expect("one judge's outcome");
        crate::records::files::replace(&scores, |out| {
            for k in 0..rules.len() {
                match o.score_bytes(k)? {
                    Some(line) => copy_line(out, line)?,
                    None => write_line(out, &rules.score(k))?,
                }
            }
            Ok(())
        })?;
        crate::records::files::replace(&pairs, |out| {
            for p in 0..o.n_pairs() {
                if let Some(line) = o.pair_bytes(p)? {
                    copy_line(out, line)?;
                }
            }
            Ok(())
        })?;
        Ok(o.tally.clone())
    }
}

/// Scores answers by the rules alone (rules, rule caps, reference metrics).
pub(super) struct RulesOnly<'a> {
    rubric: &'a Rubric,
    items: &'a ItemFile,
    answers: &'a Answers,
}

impl RulesOnly<'_> {
    /// How many answers there are.
    pub(super) fn len(&self) -> usize {
        self.answers.len()
    }

    /// The rules-only score of answer `k`.
    pub(super) fn score(&self, k: usize) -> ScoreRecord {
        let item = self.items.get(self.answers.item(k));
        rule_score(self.rubric, &item, &self.answers.get(k))
    }

    /// The rubric.
    pub(super) fn rubric(&self) -> &Rubric {
        self.rubric
    }
}

fn copy_line(out: &mut dyn Write, line: &[u8]) -> Result<()> {
    out.write_all(line)?;
    out.write_all(b"\n")?;
    Ok(())
}
