//! The run pipeline of a validated [`Plan`]: answers under limits, each scored by the rules as it
//! arrives → with a judge, the judge phase → summary and reports (DESIGN §1–§6).
//!
//! With `--resume` the run directory's records decide what is left (`runner::resume`): recorded answers
//! are never asked for again, answers without a score are scored from the record, judge calls with a
//! reply in `judgements.jsonl` are not asked again, and the summary and reports are derived from all
//! records at the end. Ctrl-C stops sending (`runner::interrupt`), writes what arrived and exits 130.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::error::{exit, BadInput, UsageError};
use crate::inputs::evalset::Item;
use crate::manifest::{utc_now, Manifest};
use crate::plan::{holds_a_run, Plan};
use crate::provider::Client;
use crate::records::{files, stream_jsonl, ResponseRecord};
use crate::report::derive;
use crate::runner::dry_run::{dry_run_report, planned_mde_report};
use crate::runner::interrupt::Interrupt;
use crate::runner::items::ItemFile;
use crate::runner::judge_phase::{judge_dead, judge_model, judge_phase, JudgePhase};
use crate::runner::judging;
use crate::runner::resume;
use crate::runner::store::{RecordFile, Store};
use crate::runner::{self, Endpoint, Job};

/// Send everything, score it, write summary and reports. Returns the exit code.
pub async fn execute(mut plan: Plan) -> Result<u8> {
    if plan.dry_run {
        print!("{}", dry_run_report(&plan));
        if let Some(from) = &plan.from {
            print!(
                "{}",
                planned_mde_report(from, plan.items.len(), plan.samples)?
            );
        }
        return Ok(exit::SUCCESS);
    }
    let started = utc_now();
    std::fs::create_dir_all(&plan.out)
        .with_context(|| format!("could not create run directory {}", plan.out.display()))?;
    let mut manifest = plan.manifest(started);
    let mut done = resume::Done::default();
    if plan.resume {
        (manifest, done) = continue_run(&plan.out, manifest)?;
    }
    manifest.write(&plan.out)?;
    // From here on the run reads its items from its own `items.jsonl`.
    plan.items.save_as(&plan.out.join(files::ITEMS))?;

    let mut endpoints = Vec::with_capacity(plan.models.len());
    for m in &plan.models {
        endpoints.push(Endpoint {
            client: Client::new(m, plan.redactor.clone()).map_err(BadInput)?,
            model: m.clone(),
        });
    }
    let store = Store::open(&plan.out)?;
    let rubric = Arc::new(plan.rubric);
    let scoring_rubric = rubric.clone();
    let scorer: runner::Scorer = Arc::new(move |resp: &ResponseRecord, item: &Item| {
        judging::rule_score(&scoring_rubric, item, resp)
    });
    if plan.resume {
        score_unscored(&plan.out, &done, &plan.items, &scorer, &store)?;
    }
    let interrupt = Interrupt::new();
    let listener = interrupt.listen();
    let budget = plan
        .max_cost
        .map(|x| Arc::new(runner::limits::Budget::new(x)));
    let planned = plan.items.len() * plan.samples as usize * plan.models.len();
    let items = Arc::new(plan.items);
    let tallies = runner::answer_all(Job {
        endpoints,
        items: items.clone(),
        samples: plan.samples,
        global_concurrency: plan.concurrency,
        sink: store.sink(),
        scorer,
        quiet: plan.quiet,
        recorded: std::mem::take(&mut done.answers),
        interrupt: interrupt.clone(),
        budget: budget.clone(),
        cache: plan.cache.clone(),
    })
    .await;
    store.close()?;
    let served: usize = tallies.values().map(|t| t.cached).sum();
    if let (Some(c), true) = (&plan.cache, served > 0) {
        eprintln!(
            "evalrun: {served} answer(s) served from the response cache {} (cached: true, left out of \
             latency statistics); --no-cache asks the endpoints again",
            c.dir().display()
        );
    }

    // The judge phase needs every answer: an interrupted run is judged when it is resumed.
    let judge_tally = match (interrupt.is_requested(), plan.judge_model, plan.prompts) {
        (false, Some(j), Some(prompts)) => {
            let judge = judge_model(j, &plan.redactor, plan.judge_samples)?;
            let panel = (plan.judge_panel.into_iter())
                .map(|m| judge_model(m, &plan.redactor, plan.judge_samples))
                .collect::<Result<Vec<_>, _>>()?;
            let models = plan.models.iter().map(|m| m.name.clone()).collect();
            Some(
                judge_phase(JudgePhase {
                    dir: &plan.out,
                    rubric,
                    prompts: Arc::new(prompts),
                    items,
                    models,
                    baseline: Some(plan.baseline.clone()),
                    judge: Some(judge),
                    panel,
                    concurrency: plan.concurrency,
                    quiet: plan.quiet,
                    resume: plan.resume,
                    cache: plan.cache.clone(),
                    interrupt: interrupt.clone(),
                })
                .await?,
            )
        }
        _ => None,
    };
    // Ctrl-C in either phase: what arrived is written, `--resume` continues.
    let interrupted = interrupt.is_requested();

    if budget.as_ref().is_some_and(|b| b.stopped()) {
        manifest.max_cost_reached_utc = Some(utc_now()); // the report says the run is incomplete
    }
    if interrupted {
        manifest.interrupted_utc = Some(utc_now());
    } else {
        manifest.finished_utc = Some(utc_now());
    }
    manifest.write(&plan.out)?;
    let (summary, ctx) = derive::write_reports(&plan.out, &manifest, None)?;
    print!("{}", derive::stdout_summary(&plan.out, &summary, &ctx));
    listener.abort();

    if interrupted {
        eprintln!(
            "evalrun: interrupted; the records that arrived are in {} — continue with the same command \
             plus --resume",
            plan.out.display()
        );
        return Ok(exit::INTERRUPTED);
    }
    if let Some(b) = budget.filter(|b| b.stopped()) {
        let sent: usize = tallies.values().map(|t| t.answered + t.failed).sum();
        eprintln!(
            "evalrun: --max-cost {} reached: stopped sending after {sent} of {planned} requests \
             (spent {:.4}); the answers that arrived are kept in {}",
            b.max(),
            b.spent(),
            plan.out.display()
        );
        return Ok(exit::FAILURE);
    }
    let mut code = exit::SUCCESS;
    let dead: Vec<&str> = summary
        .models
        .iter()
        .filter(|(_, m)| m.errors.n_responses > 0 && m.errors.n_errors == m.errors.n_responses)
        .map(|(n, _)| n.as_str())
        .collect();
    if !dead.is_empty() {
        eprintln!(
            "evalrun: every request of {} failed; see the errors in {}",
            dead.join(", "),
            plan.out.join(files::RESPONSES).display()
        );
        code = exit::FAILURE;
    }
    if let (Some(t), Some(j)) = (&judge_tally, &plan.judge) {
        if judge_dead(t) {
            eprintln!(
                "evalrun: every call to the judge {j} failed; see the errors in {}",
                plan.out.join(files::JUDGEMENTS).display()
            );
            code = exit::FAILURE;
        } else if t.unjudged_answers > 0 || t.unjudged_pairs > 0 {
            eprintln!(
                "evalrun: the judge left {} answers and {} pairs without a usable verdict (judge_error in {}); \
                 means are over the rest",
                t.unjudged_answers,
                t.unjudged_pairs,
                files::SCORES
            );
        }
    }
    Ok(code)
}

/// `--resume`: check the stored manifest against the new one (exit 2 naming every change), make the
/// record files safe to append to, and return the manifest to write and what is done. A directory
/// without a manifest and without records starts a new run, so `--resume` can always be passed.
fn continue_run(dir: &Path, manifest: Manifest) -> Result<(Manifest, resume::Done)> {
    if !dir.join(files::MANIFEST).exists() {
        if holds_a_run(dir) {
            return Err(UsageError::new(format!(
                "--resume: {} holds records but no {}; it cannot be checked against this command",
                dir.display(),
                files::MANIFEST
            ))
            .into());
        }
        eprintln!(
            "evalrun: --resume: {} holds no run yet; starting it",
            dir.display()
        );
        let (done, _) = resume::prepare(dir)?;
        return Ok((manifest, done));
    }
    let stored = Manifest::read(dir).map_err(BadInput)?;
    resume::check_manifest(&stored, &manifest, dir)?;
    let (done, repairs) = resume::prepare(dir)?;
    if let Some(r) = repairs.describe() {
        eprintln!("evalrun: --resume: {r}");
    }
    Ok((resume::continued(&stored, manifest), done))
}

/// Score, from their records, the answers that were recorded without a score line (a kill between the
/// two lines). No request is sent.
fn score_unscored(
    dir: &Path,
    done: &resume::Done,
    items: &ItemFile,
    scorer: &runner::Scorer,
    store: &Store,
) -> Result<()> {
    let missing = done.answers.difference(&done.scores).count();
    if missing == 0 {
        return Ok(());
    }
    let by_id: std::collections::HashMap<&str, usize> =
        items.ids().enumerate().map(|(i, id)| (id, i)).collect();
    let sink = store.sink();
    for line in stream_jsonl::<ResponseRecord>(&dir.join(files::RESPONSES))? {
        let r = line?.record;
        let key = crate::records::UnitKey {
            model: r.model.clone(),
            item_id: r.item_id.clone(),
            sample: r.sample,
        };
        if !done.answers.contains(&key) || done.scores.contains(&key) {
            continue;
        }
        if let Some(&i) = by_id.get(r.item_id.as_str()) {
            sink.write(RecordFile::Scores, &scorer(&r, &items.get(i)));
        }
    }
    Ok(())
}
