//! File names inside a run directory (SPEC §5).

use std::path::Path;

use anyhow::Context;

/// The run's manifest.
pub const MANIFEST: &str = "manifest.json";
/// The rendered items, kept beside the records so a run directory is self-contained (reports quote
/// the prompts; `rescore` re-judges from them).
pub const ITEMS: &str = "items.jsonl";
/// One answer (or error) per (model, item, sample).
pub const RESPONSES: &str = "responses.jsonl";
/// Rule and judge scores per unit.
pub const SCORES: &str = "scores.jsonl";
/// Every judge call, raw and parsed.
pub const JUDGEMENTS: &str = "judgements.jsonl";
/// Pairwise GSB verdicts.
pub const PAIRWISE: &str = "pairwise.jsonl";
/// Aggregated statistics.
pub const SUMMARY: &str = "summary.json";
/// The Markdown report.
pub const REPORT_MD: &str = "report.md";
/// Self-contained HTML report with the item browser.
pub const REPORT_HTML: &str = "report.html";
/// Per-model summary table as CSV.
pub const SUMMARY_CSV: &str = "summary.csv";
/// Directory of SVG charts.
pub const CHARTS_DIR: &str = "charts";
/// People's scores imported by `evalrun review import`.
pub const HUMAN: &str = "human.jsonl";
/// Review sheets' unblinding keys (`review/key-<sheet>.json`), never in a sheet.
pub const REVIEW_DIR: &str = "review";

/// Replace `path` whole: `fill` writes the new content to `<name>.tmp` beside it, which is synced and
/// renamed over `path`, so a kill leaves the old file or the new one, never half of either.
pub fn replace(
    path: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    let f = std::fs::File::create(&tmp)
        .with_context(|| format!("could not write {}", tmp.display()))?;
    let mut out = std::io::BufWriter::new(f);
    fill(&mut out).with_context(|| format!("could not write {}", tmp.display()))?;
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("could not write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("could not replace {}", path.display()))
}

/// Removes what a previous run wrote in `dir` (records, reports, charts), and nothing else.
pub fn remove_outputs(dir: &Path) -> anyhow::Result<()> {
    for f in [
        RESPONSES,
        SCORES,
        JUDGEMENTS,
        PAIRWISE,
        SUMMARY,
        REPORT_MD,
        REPORT_HTML,
        SUMMARY_CSV,
        MANIFEST,
        ITEMS,
    ] {
        let p = dir.join(f);
        if p.exists() {
            std::fs::remove_file(&p)
                .with_context(|| format!("could not remove {}", p.display()))?;
        }
    }
    let charts = dir.join(CHARTS_DIR);
    if charts.is_dir() {
        std::fs::remove_dir_all(&charts)
            .with_context(|| format!("could not remove {}", charts.display()))?;
    }
    Ok(())
}
