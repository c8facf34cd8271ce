//! The judge phase: every recorded answer scored again (rules, reference metrics, the judge's grades)
//! and each candidate compared with the baseline (GSB in both orders). `run` calls it after answering,
//! `rescore` on a finished run.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;

use crate::error::BadInput;
use crate::inputs::config::ResolvedModel;
use crate::inputs::rubric::Rubric;
use crate::inputs::secret::Redactor;
use crate::provider::Client;
use crate::records::files;
use crate::runner::cache::Cache;
use crate::runner::interrupt::Interrupt;
use crate::runner::items::ItemFile;
use crate::runner::judging::{self, Answers, JudgeJob, JudgeModel, JudgeTally, Recorded};
use crate::runner::store::Store;
use crate::runner::Endpoint;
use crate::score::judge::Prompts;

/// The judge model ready to call: its client (secrets redacted by `redactor`) and samples per call.
pub fn judge_model(
    model: ResolvedModel,
    redactor: &Redactor,
    samples: u32,
) -> Result<JudgeModel, BadInput> {
    Ok(JudgeModel {
        endpoint: Endpoint {
            client: Client::new(&model, redactor.clone()).map_err(BadInput)?,
            model,
        },
        samples,
    })
}

/// Every judge call failed in transport and no reply came from the records or the cache: the judge is
/// as dead as a model whose every request failed.
pub fn judge_dead(t: &JudgeTally) -> bool {
    t.calls > 0 && t.call_errors == t.calls && t.reused + t.cached == 0
}

/// What the judge phase runs on: a run directory whose `responses.jsonl` is complete.
pub struct JudgePhase<'a> {
    /// The run directory.
    pub dir: &'a Path,
    /// The validated rubric.
    pub rubric: Arc<Rubric>,
    /// The judge's prompt templates.
    pub prompts: Arc<Prompts>,
    /// The run's items.
    pub items: Arc<ItemFile>,
    /// Models in report order.
    pub models: Vec<String>,
    /// The GSB reference; no pairs without one.
    pub baseline: Option<String>,
    /// `None`: rules and reference metrics only (pairs need a judge, so `pairwise.jsonl` is emptied).
    pub judge: Option<JudgeModel>,
    /// A judge panel's other judges (`--judge a,b,c`: b and c; `judge` is a); empty for one judge.
    pub panel: Vec<JudgeModel>,
    /// Maximum judge requests in flight.
    pub concurrency: usize,
    /// `--quiet`: no progress output.
    pub quiet: bool,
    /// `--resume`: judge calls with a reply in `judgements.jsonl` are not asked again.
    pub resume: bool,
    /// The response cache, for judge calls.
    pub cache: Option<Arc<Cache>>,
    /// Raised by Ctrl-C: the phase stops sending and returns what was judged (`run` exits 130 then).
    pub interrupt: Interrupt,
}

/// Score every recorded response again (rules, reference metrics, judge) and compare candidates with
/// the baseline: judgements are appended as they return, then `scores.jsonl` and `pairwise.jsonl` are
/// replaced by the new records in one step each. The answers are read from `responses.jsonl` by
/// position as they are judged, and the new records are spooled to a temporary file until then, so
/// memory does not grow with the run. Used by `run` (after answering) and `rescore`. With
/// `resume`, a judge phase that was cut short continues: recorded replies are reused, only missing or
/// failed calls are sent.
pub async fn judge_phase(p: JudgePhase<'_>) -> Result<JudgeTally> {
    let answers = Answers::read(&p.dir.join(files::RESPONSES), &p.items, &p.models)?;
    let recorded = if p.resume {
        Recorded::read(&p.dir.join(files::JUDGEMENTS))?
    } else {
        Recorded::none()
    };
    let store = Store::open(p.dir)?;
    let job = JudgeJob {
        rubric: p.rubric,
        prompts: p.prompts,
        items: p.items,
        answers: Arc::new(answers),
        models: p.models,
        baseline: p.baseline,
        judge: p.judge,
        global_concurrency: p.concurrency,
        sink: store.sink(),
        quiet: p.quiet,
        recorded: Arc::new(recorded),
        cache: p.cache,
        interrupt: p.interrupt,
    };
    let judged = if p.panel.is_empty() {
        judging::judge_all(job).await
    } else {
        judging::panel::judge_panel(job, p.panel).await
    };
    store.close()?;
    let judged = judged?;
    let t = judged.calls();
    if t.reused + t.cached > 0 {
        eprintln!(
            "evalrun: judge: {} repl{} reused from {}, {} from the response cache, {} call(s) sent",
            t.reused,
            if t.reused == 1 { "y" } else { "ies" },
            files::JUDGEMENTS,
            t.cached,
            t.calls
        );
    }
    judged.write(p.dir)
}
