//! Report formats, all rendered from one [`Summary`] plus a [`ReportContext`] (as hyperfine's `export/`).
//!
//! One file per format behind the private [`Exporter`] trait: `markdown.rs` (`report.md`), `csv.rs`
//! (`summary.csv`), `json.rs` (`summary.json`), `charts/` (`charts/*.svg`, a file per chart), and
//! `terminal.rs` for the table printed at the end of a run. `view.rs` derives what several formats
//! share (model order, overall quality, best model, flagship); `decision.rs` words the verdict;
//! `text.rs` holds escaping and number formatting.
//!
//! Every output is a pure function of its inputs, so `evalrun report DIR` reproduces the same bytes.
//! Charts use only the summary's mean/p50/p90/p99 (no raw latency vectors): the summary is the one
//! input every format shares, and a percentile-marker chart shows the tail that matters for a release.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result};

use crate::records::files;
use crate::stats::summary::Summary;

pub(crate) mod charts;
mod csv;
mod decision;
pub mod derive;
mod html;
mod html_data;
mod json;
mod markdown;
mod panel;
mod people;
mod terminal;
pub(crate) mod text;
mod view;
mod worst;

#[cfg(test)]
mod tests;

pub use terminal::terminal_table;

/// An input file of the run, identified by content.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedFile {
    /// As given on the command line or in the configuration.
    pub path: String,
    /// Number of items (eval set); `None` where it means nothing (rubric).
    pub items: Option<usize>,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// One configured model, as the manifest records it (never secrets).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelLine {
    /// The model's name from the config.
    pub name: String,
    /// `qianfan` or `openai`.
    pub provider: String,
    /// Qianfan endpoint segment or OpenAI-compatible model name.
    pub endpoint: String,
    /// Price per 1000 input tokens, when configured.
    pub price_input_per_1k: Option<f64>,
    /// Price per 1000 output tokens, when configured.
    pub price_output_per_1k: Option<f64>,
    /// Currency of the prices, when configured.
    pub currency: Option<String>,
}

/// The endpoints were served by `evalrun sim`: latencies and costs are synthetic.
#[derive(Debug, Clone, PartialEq)]
pub struct SimNotice {
    /// Simulated time runs this many times faster than real time (1.0 = real time).
    pub time_scale: f64,
}

/// A rubric dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct DimensionInfo {
    /// The dimension's id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Lowest and highest score.
    pub scale: (f64, f64),
}

/// One low-scored answer, shown so a reader can judge what a low score means.
#[derive(Debug, Clone, PartialEq)]
pub struct WorstCase {
    /// The model that gave the answer.
    pub model: String,
    /// The evalset item answered.
    pub item_id: String,
    /// Dimension id.
    pub dimension: String,
    /// The score the answer received on that dimension.
    pub score: f64,
    /// The line of the prompt that matters (e.g. the student's last turn).
    pub prompt_key_line: String,
    /// The model's answer: untrusted text, escaped and truncated when rendered.
    pub answer: String,
    /// The judge's justification for the score, when there is one.
    pub justification: Option<String>,
}

/// Everything beyond [`Summary`] a report needs: where the numbers came from and what they mean.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportContext {
    /// Identifier of the run.
    pub run_id: String,
    /// UTC start, as the manifest records it.
    pub started_utc: String,
    /// The command line that started the run.
    pub command_line: String,
    /// The evalset file's path and hash.
    pub evalset: NamedFile,
    /// The rubric file's path and hash.
    pub rubric: NamedFile,
    /// Judge model name; `None` = rule checks only.
    pub judge: Option<String>,
    /// In the order of `--models`; reports list models in this order.
    pub models: Vec<ModelLine>,
    /// Reference model of the paired tests and GSB; falls back to `summary.params.baseline`.
    pub baseline: Option<String>,
    /// The most expensive model, for cost and latency fractions; when `None`, the model with the highest
    /// cost per item is used.
    pub flagship: Option<String>,
    /// Present when the endpoints were simulated.
    pub simulated: Option<SimNotice>,
    /// In rubric order; columns follow it.
    pub dimensions: Vec<DimensionInfo>,
    /// The lowest-scored answers to show, already selected by the caller; rendered grouped by model.
    pub worst_cases: Vec<WorstCase>,
    /// Plain sentences shown under the header, e.g. "judge: none — judged dimensions are not scored".
    pub notices: Vec<String>,
    /// Whether the run is complete and what it allowed: the release decision rests on these.
    pub run: RunFacts,
}

/// What the manifest and records say about a run's completeness, error budget and cache, for the
/// release decision and the report's first lines.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunFacts {
    /// Records each model should have (items × samples); `None` when unknown.
    pub planned_per_model: Option<usize>,
    /// `--samples` (records per item).
    pub samples: u32,
    /// When Ctrl-C stopped the run.
    pub interrupted_utc: Option<String>,
    /// `--max-cost`, and when it stopped the run.
    pub max_cost: Option<f64>,
    /// When `--max-cost` stopped the run, if it did.
    pub max_cost_reached_utc: Option<String>,
    /// `--max-error-rate`: a model above it cannot be recommended.
    pub max_error_rate: f64,
    /// Answers served from the response cache, and the earliest and latest time they were first recorded
    /// (when the records say so).
    pub cached_answers: usize,
    /// Earliest and latest UTC times the cached answers were first recorded.
    pub cached_recorded: Option<(String, String)>,
    /// Whether `--cache` was on.
    pub cache_on: bool,
    /// Answers whose token counts the server never sent (estimated by evalrun), per model.
    pub tokens_estimated: std::collections::BTreeMap<String, usize>,
}

/// The file formats of a run directory (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// `report.md`; implies [`Format::Charts`], which it links.
    Markdown,
    /// `summary.csv`.
    Csv,
    /// `summary.json`.
    Json,
    /// `charts/*.svg`.
    Charts,
    /// `report.html`: tables, inline charts and the item browser, read from the run's records too.
    Html,
}

impl Format {
    /// Every format, in the order they are written.
    pub const ALL: [Format; 5] = [
        Format::Markdown,
        Format::Csv,
        Format::Json,
        Format::Charts,
        Format::Html,
    ];
}

impl FromStr for Format {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(Format::Markdown),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "svg" | "charts" => Ok(Format::Charts),
            "html" => Ok(Format::Html),
            other => {
                anyhow::bail!(
                    "unknown report format '{other}' (expected md, csv, json, charts or html)"
                )
            }
        }
    }
}

/// One output format. Serialising is pure: the same inputs give the same bytes.
trait Exporter {
    fn serialize(&self, summary: &Summary, ctx: &ReportContext) -> Result<Vec<u8>>;

    /// Write the format into `out`; a format that can stream (`report.html`) writes as it goes.
    fn write_into(
        &self,
        summary: &Summary,
        ctx: &ReportContext,
        out: &mut dyn std::io::Write,
    ) -> Result<()> {
        out.write_all(&self.serialize(summary, ctx)?)?;
        Ok(())
    }
}

/// Write every report file into the run directory `dir`: `report.md`, `report.html`, `summary.csv`,
/// `summary.json` and `charts/*.svg`.
pub fn write_all(dir: &Path, summary: &Summary, ctx: &ReportContext) -> Result<()> {
    write(dir, summary, ctx, &Format::ALL)
}

/// Write the given formats into `dir`. Every target file is created before anything is rendered, so a
/// permission problem surfaces at once and names the file. Chart files a previous render wrote but this
/// one has no data for are removed, so the directory never shows a stale chart.
pub fn write(dir: &Path, summary: &Summary, ctx: &ReportContext, formats: &[Format]) -> Result<()> {
    let wants = |f: Format| formats.contains(&f);
    let mut targets: Vec<(PathBuf, Box<dyn Exporter>)> = Vec::new();
    if wants(Format::Markdown) {
        targets.push((
            dir.join(files::REPORT_MD),
            Box::new(markdown::MarkdownExporter),
        ));
    }
    if wants(Format::Csv) {
        targets.push((dir.join(files::SUMMARY_CSV), Box::new(csv::CsvExporter)));
    }
    if wants(Format::Json) {
        targets.push((dir.join(files::SUMMARY), Box::new(json::JsonExporter)));
    }
    if wants(Format::Html) {
        targets.push((
            dir.join(files::REPORT_HTML),
            Box::new(html::HtmlExporter {
                dir: dir.to_path_buf(),
            }),
        ));
    }
    let charts_dir = dir.join(files::CHARTS_DIR);
    let with_charts = wants(Format::Charts) || wants(Format::Markdown);
    let charts = if with_charts {
        charts::available(summary, ctx)
    } else {
        Vec::new()
    };

    std::fs::create_dir_all(dir)
        .with_context(|| format!("could not create report directory '{}'", dir.display()))?;
    if with_charts {
        std::fs::create_dir_all(&charts_dir).with_context(|| {
            format!(
                "could not create chart directory '{}'",
                charts_dir.display()
            )
        })?;
        for kind in charts::ChartKind::ALL {
            let path = charts_dir.join(kind.file_name());
            if !charts.contains(&kind) && path.exists() {
                std::fs::remove_file(&path).with_context(|| {
                    format!("could not remove stale chart '{}'", path.display())
                })?;
            }
        }
    }
    for kind in &charts {
        targets.push((
            charts_dir.join(kind.file_name()),
            Box::new(charts::ChartExporter(*kind)),
        ));
    }

    let mut opened = Vec::with_capacity(targets.len());
    for (path, exporter) in targets {
        let file = File::create(&path)
            .with_context(|| format!("could not create report file '{}'", path.display()))?;
        opened.push((path, file, exporter));
    }
    for (path, file, exporter) in opened {
        let mut out = std::io::BufWriter::new(file);
        exporter
            .write_into(summary, ctx, &mut out)
            .with_context(|| format!("could not render '{}'", path.display()))?;
        out.flush()
            .with_context(|| format!("could not write report file '{}'", path.display()))?;
    }
    Ok(())
}

/// The exact bytes of `summary.json`: pretty-printed, keys in a fixed order, trailing newline.
pub fn summary_json(summary: &Summary) -> Result<Vec<u8>> {
    json::JsonExporter.serialize_summary(summary)
}
