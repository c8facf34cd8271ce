//! Records → summary → every report. Used at the end of a run and by `evalrun report DIR`, so a
//! finished run can always be re-derived from its files, byte for byte.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use crate::manifest::{Manifest, ModelEntry};
use crate::records::files;
use crate::report::worst::Worst;
use crate::report::{
    self, DimensionInfo, Format, ModelLine, NamedFile, ReportContext, RunFacts, SimNotice,
};
use crate::stats::judge::JudgeConfig;
use crate::stats::summary::Summary;
use crate::stats::{summarize_dir_with, LineVisitor, Prices, ResponseLine, ScoreLine, StatsConfig};

/// The statistics settings a run recorded in its manifest.
pub fn stats_config(m: &Manifest) -> StatsConfig {
    StatsConfig {
        models: m.models.iter().map(|e| e.name.clone()).collect(),
        baseline: m.baseline.clone(),
        flagship: m.flagship.clone(),
        margin: m.margin,
        margins: m
            .dimensions
            .iter()
            .filter_map(|d| Some((d.id.clone(), d.margin?)))
            .collect(),
        scales: m
            .dimensions
            .iter()
            .map(|d| (d.id.clone(), (d.scale.0 as f64, d.scale.1 as f64)))
            .collect(),
        cluster_key: m.cluster.clone(),
        alpha: crate::stats::ALPHA,
        prices: m
            .models
            .iter()
            .map(|e| (e.name.clone(), prices(e)))
            .collect(),
        judge: m.judge.as_ref().map(|name| JudgeConfig {
            name: name.clone(),
            prices: m.judge_model.as_ref().map(prices).unwrap_or_default(),
            // A panel's calls are priced judge by judge; one judge's all at its prices.
            panel: if m.judge_panel.is_empty() {
                Vec::new()
            } else {
                m.judges()
                    .into_iter()
                    .map(|e| (e.name.clone(), prices(e)))
                    .collect()
            },
        }),
    }
}

/// A model's configured prices, as the manifest recorded them.
fn prices(e: &ModelEntry) -> Prices {
    Prices {
        input_per_1k: e.price_input_per_1k,
        output_per_1k: e.price_output_per_1k,
        currency: e.currency.clone(),
    }
}

/// What the judge-panel statistics need from the manifest.
fn panel_config(m: &Manifest) -> crate::stats::panel::PanelConfig {
    let judges = m.judges();
    crate::stats::panel::PanelConfig {
        judges: judges.iter().map(|e| e.name.clone()).collect(),
        judge_families: judges
            .iter()
            .map(|e| (e.name.clone(), e.family()))
            .collect(),
        judge_prices: judges.iter().map(|e| (e.name.clone(), prices(e))).collect(),
        models: m
            .models
            .iter()
            .map(|e| (e.name.clone(), e.family()))
            .collect(),
        baseline: m.baseline.clone(),
    }
}

/// Compute the summary from the run's records and write the requested formats (all when `None`).
pub fn write_reports(
    dir: &Path,
    manifest: &Manifest,
    formats: Option<&[Format]>,
) -> Result<(Summary, ReportContext)> {
    let mut lines = ReportLines {
        worst: Worst::new(manifest),
        cache: CacheLines::default(),
    };
    let mut summary = summarize_dir_with(&stats_config(manifest), dir, &mut lines)?;
    summary.human = crate::stats::human::summarize_dir(dir)?;
    summary.panel = crate::stats::panel::summarize_dir(dir, &panel_config(manifest))?;
    let ctx = context(dir, manifest, lines)?;
    match formats {
        None => report::write_all(dir, &summary, &ctx)?,
        Some(f) => report::write(dir, &summary, &ctx, f)?,
    }
    Ok((summary, ctx))
}

/// What a command prints when it has written a run's reports: the comfy-table summary (with the
/// decision's headline) and where the report is.
pub fn stdout_summary(dir: &Path, summary: &Summary, ctx: &ReportContext) -> String {
    format!(
        "{}\nreport: {}\n",
        report::terminal_table(summary, ctx),
        dir.join(files::REPORT_MD).display()
    )
}

/// What the report reads from the record lines the summary reads: the worst cases' candidates and the
/// cache facts.
struct ReportLines {
    worst: Worst,
    cache: CacheLines,
}

impl LineVisitor for ReportLines {
    fn response(&mut self, r: &ResponseLine<'_>) {
        self.cache.response(r);
    }

    fn score(&mut self, s: &ScoreLine<'_>) {
        self.worst.score(s);
    }

    fn restart(&mut self) {
        self.worst.restart();
        self.cache = CacheLines::default();
    }
}

fn context(dir: &Path, m: &Manifest, lines: ReportLines) -> Result<ReportContext> {
    let flagship = m.flagship.clone().or_else(|| {
        unique_most_expensive(m.models.iter().filter_map(|e| {
            Some((
                e.name.clone(),
                e.price_input_per_1k? + e.price_output_per_1k?,
            ))
        }))
    });
    let mut notices = Vec::new();
    if m.judge.is_none() {
        notices.push(
            "judge: none — dimensions that need the judge are not scored; the rule checks below still run, and \
             the bound each puts on a dimension is kept as rule_cap in scores.jsonl"
                .to_string(),
        );
    }
    if let Some(s) = &m.simulated {
        notices.push(s.note.clone());
    }
    if let Some(note) = same_family_notice(m) {
        notices.push(note);
    }
    if let (Some(j), Some(e)) = (&m.judge, &m.judge_model) {
        if e.structured_replies {
            notices.push(format!(
                "judge replies: structured — {j} was asked for replies that follow the reply's JSON schema \
                 (`structured_replies`); every reply is still read leniently, and the Judge section counts \
                 the ones that did not parse"
            ));
        }
    }
    if let Some(r) = &m.rescored {
        notices.push(format!(
            "rescored at {} with \"{}\": the answers are the original run's; scores, pairwise verdicts and \
             judgements come from the rescore",
            r.utc, r.command_line
        ));
    }
    if let Some(sh) = &m.shard {
        notices.push(format!("shard {sh} of the eval set only"));
    }
    if let Some(at) = &m.interrupted_utc {
        notices.push(format!(
            "interrupted at {at}: this report covers only the answers that arrived; run the same command \
             with --resume to complete it"
        ));
    }
    let run = run_facts(m, lines.cache);
    notices.insert(0, cache_notice(&run));
    Ok(ReportContext {
        run_id: m.run_id.clone(),
        started_utc: m.started_utc.clone(),
        command_line: m.command_line.clone(),
        evalset: NamedFile {
            path: m.evalset.path.clone(),
            items: Some(m.items),
            sha256: m.evalset.sha256.clone(),
        },
        rubric: NamedFile {
            path: m.rubric.path.clone(),
            items: None,
            sha256: m.rubric.sha256.clone(),
        },
        judge: m.judge.clone(),
        models: m
            .models
            .iter()
            .map(|e| ModelLine {
                name: e.name.clone(),
                provider: serde_json::to_value(e.provider)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                endpoint: e.endpoint.clone(),
                price_input_per_1k: e.price_input_per_1k,
                price_output_per_1k: e.price_output_per_1k,
                currency: e.currency.clone(),
            })
            .collect(),
        baseline: m.baseline.clone(),
        flagship,
        simulated: m.simulated.as_ref().map(|s| SimNotice {
            time_scale: s.time_scale,
        }),
        dimensions: m
            .dimensions
            .iter()
            .map(|d| DimensionInfo {
                id: d.id.clone(),
                name: d.name.clone(),
                scale: (d.scale.0 as f64, d.scale.1 as f64),
            })
            .collect(),
        worst_cases: lines.worst.finish(dir, m)?,
        notices,
        run,
    })
}

/// A judge of the same family as models it grades (ERNIE judging ERNIE-Speed fine-tunes): in
/// MT-Bench's data a judge favours its own family's answers, so the report says so.
fn same_family_notice(m: &Manifest) -> Option<String> {
    if !m.judge_panel.is_empty() {
        return panel_same_family_notice(m);
    }
    let (judge, entry) = (m.judge.as_ref()?, m.judge_model.as_ref()?);
    let family = entry.family()?;
    let kin: Vec<String> = m
        .models
        .iter()
        .filter(|e| e.family().is_some_and(|f| f.eq_ignore_ascii_case(&family)))
        .map(|e| e.name.clone())
        .collect();
    (!kin.is_empty()).then(|| {
        format!(
            "same-family judge: {judge} is a {family} model, like {} — a judge tends to favour answers of its \
             own family (MT-Bench), so compare these models' grades with care; check the judge against \
             people (`evalrun review`, `evalrun calibrate`) or grade with a judge of another family",
            crate::report::text::and_list(&kin)
        )
    })
}

/// Judges of a panel of the same family as models they grade: named, with where the panel's result
/// without them is shown.
fn panel_same_family_notice(m: &Manifest) -> Option<String> {
    let mut parts = Vec::new();
    for entry in m.judges() {
        let Some(family) = entry.family() else {
            continue;
        };
        let kin: Vec<String> = m
            .models
            .iter()
            .filter(|e| e.family().is_some_and(|f| f.eq_ignore_ascii_case(&family)))
            .map(|e| e.name.clone())
            .collect();
        if !kin.is_empty() {
            parts.push(format!(
                "{} is a {family} model, like {}",
                entry.name,
                crate::report::text::and_list(&kin)
            ));
        }
    }
    (!parts.is_empty()).then(|| {
        format!(
            "same-family judge in the panel: {} — a judge tends to favour answers of its own family \
             (MT-Bench); the Judge panel section shows the panel's result with that judge left out beside \
             the full panel's",
            parts.join("; ")
        )
    })
}

/// The report's first note: how many answers came from the response cache, and when they were recorded.
fn cache_notice(run: &RunFacts) -> String {
    match (run.cached_answers, &run.cached_recorded) {
        (0, _) if run.cache_on => {
            "response cache: on (--cache), but no answer came from it: every answer was asked for in this run"
                .into()
        }
        (0, _) => "response cache: off — every answer was asked for in this run".into(),
        (n, Some((lo, hi))) if lo == hi => format!(
            "response cache: {n} answer(s) came from the cache, recorded at {lo} by an earlier run (cached: \
             true in responses.jsonl; left out of latency)"
        ),
        (n, Some((lo, hi))) => format!(
            "response cache: {n} answer(s) came from the cache, recorded between {lo} and {hi} by earlier \
             runs (cached: true in responses.jsonl; left out of latency)"
        ),
        (n, None) => format!(
            "response cache: {n} answer(s) came from the cache, recorded by an earlier run at a time the \
             cache did not keep (cached: true in responses.jsonl; left out of latency)"
        ),
    }
}

/// Cache use and estimated tokens, from every `responses.jsonl` line.
#[derive(Default)]
struct CacheLines {
    cached: usize,
    recorded: Option<(String, String)>,
    estimated: BTreeMap<String, usize>,
}

impl CacheLines {
    fn response(&mut self, r: &ResponseLine<'_>) {
        if r.cached {
            self.cached += 1;
            if let Some(at) = r.cached_utc.as_deref() {
                self.recorded = Some(match self.recorded.take() {
                    None => (at.to_string(), at.to_string()),
                    Some((lo, hi)) => (lo.min(at.to_string()), hi.max(at.to_string())),
                });
            }
        }
        if r.tokens_estimated {
            *self.estimated.entry(r.model.to_string()).or_default() += 1;
        }
    }
}

/// Completeness, error budget, cache use and estimated tokens, from the manifest and `responses.jsonl`.
fn run_facts(m: &Manifest, lines: CacheLines) -> RunFacts {
    let CacheLines {
        cached,
        recorded,
        estimated,
    } = lines;
    RunFacts {
        // A rescored or merged run keeps the answers it has; a shard plans its own items.
        planned_per_model: Some(m.items * m.samples.max(1) as usize),
        samples: m.samples,
        interrupted_utc: m.interrupted_utc.clone(),
        max_cost: m.max_cost,
        max_cost_reached_utc: m.max_cost_reached_utc.clone(),
        max_error_rate: m.max_error_rate,
        cached_answers: cached,
        cached_recorded: recorded,
        cache_on: m.cache,
        tokens_estimated: estimated,
    }
}

/// The model whose list price is strictly the highest: the flagship the report measures cost and latency
/// against. With a tie at the top there is no flagship (equal prices make "most expensive" meaningless).
fn unique_most_expensive(prices: impl Iterator<Item = (String, f64)>) -> Option<String> {
    let mut v: Vec<(String, f64)> = prices.collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    match v.as_slice() {
        [(top, p), (_, q), ..] if p > q => Some(top.clone()),
        [(top, _)] => Some(top.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::unique_most_expensive;

    #[test]
    fn flagship_only_when_one_model_is_strictly_most_expensive() {
        let p =
            |v: &[(&str, f64)]| unique_most_expensive(v.iter().map(|(n, x)| (n.to_string(), *x)));
        assert_eq!(
            p(&[("a", 0.24), ("b", 0.01), ("c", 0.01)]).as_deref(),
            Some("a")
        );
        assert_eq!(p(&[("a", 0.01), ("b", 0.01)]), None);
        assert_eq!(p(&[]), None);
    }
}
