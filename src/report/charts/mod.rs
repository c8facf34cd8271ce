//! `charts/*.svg`, drawn with plotters' SVG backend.
//!
//! Without a font feature plotters estimates text extents crudely (0.7 em per byte) and the SVG backend
//! writes every label as a real `<text>` element in `sans-serif`, which the viewer lays out. So labels
//! stay readable text; the crude estimate only matters for the space reserved for them, which is sized
//! here from the longest label.
//!
//! Latency is drawn from the summary's mean/p50/p90/p99 (a percentile-marker chart), not from raw
//! samples: the summary is the only input of the report, and the tail percentiles are what a release
//! decision needs.

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use crate::stats::summary::Summary;

use super::view::View;
use super::{Exporter, ReportContext};

mod dimension_means;
mod latency;
mod quality_vs_cost;

use dimension_means::dimension_means;
use latency::latency;
use quality_vs_cost::{quality_cost_points, quality_vs_cost};

pub(crate) const FONT: &str = "sans-serif";

/// Okabe–Ito: distinguishable with the common colour-vision deficiencies.
const COLOURS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(120, 120, 120),
    RGBColor(0, 0, 0),
];

/// The i-th series colour (Okabe–Ito, repeating).
pub(crate) fn colour(i: usize) -> RGBColor {
    COLOURS[i % COLOURS.len()]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ChartKind {
    /// Overall quality against cost per item, one labelled point per model.
    QualityVsCost,
    /// Dimension means with 95 % CI whiskers, grouped by dimension.
    DimensionMeans,
    /// TTFT and total latency: p50–p99 span with mean, p50, p90 and p99 markers per model.
    Latency,
}

impl ChartKind {
    pub(crate) const ALL: [ChartKind; 3] = [
        ChartKind::QualityVsCost,
        ChartKind::DimensionMeans,
        ChartKind::Latency,
    ];

    pub(crate) fn file_name(self) -> &'static str {
        match self {
            ChartKind::QualityVsCost => "quality_vs_cost.svg",
            ChartKind::DimensionMeans => "dimension_means.svg",
            ChartKind::Latency => "latency.svg",
        }
    }

    pub(crate) fn title(self) -> &'static str {
        match self {
            ChartKind::QualityVsCost => "Quality vs cost per item",
            ChartKind::DimensionMeans => "Dimension means with 95 % CIs",
            ChartKind::Latency => "Latency percentiles (TTFT and total)",
        }
    }
}

/// The charts that have data; the markdown links exactly these.
pub(crate) fn available(summary: &Summary, ctx: &ReportContext) -> Vec<ChartKind> {
    let v = View::new(summary, ctx);
    let mut out = Vec::new();
    if !quality_cost_points(&v).is_empty() {
        out.push(ChartKind::QualityVsCost);
    }
    if v.scored_dims().next().is_some() {
        out.push(ChartKind::DimensionMeans);
    }
    if v.models.iter().any(|m| {
        v.stats(m).latency.total_ms.p50.is_some() || v.stats(m).latency.ttft_ms.p50.is_some()
    }) {
        out.push(ChartKind::Latency);
    }
    out
}

pub(crate) struct ChartExporter(pub ChartKind);

impl Exporter for ChartExporter {
    fn serialize(&self, summary: &Summary, ctx: &ReportContext) -> Result<Vec<u8>> {
        Ok(render(self.0, summary, ctx)?.into_bytes())
    }
}

pub(crate) fn render(kind: ChartKind, summary: &Summary, ctx: &ReportContext) -> Result<String> {
    let v = View::new(summary, ctx);
    let mut svg = String::new();
    let drawn = match kind {
        ChartKind::QualityVsCost => quality_vs_cost(&v, &mut svg),
        ChartKind::DimensionMeans => dimension_means(&v, &mut svg),
        ChartKind::Latency => latency(&v, &mut svg),
    };
    drawn.map_err(|e| anyhow!("could not draw chart {}: {e}", kind.file_name()))?;
    Ok(svg)
}

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Pixels plotters reserves for `text` at `size` (its own crude estimate, see the module doc).
fn text_px(text: &str, size: f64) -> u32 {
    (text
        .chars()
        .map(|c| if c.is_ascii() { 1.0 } else { 2.0 })
        .sum::<f64>()
        * size
        * 0.6) as u32
}

fn label_for(v: &View, m: &str) -> String {
    let roles = v.roles(m);
    if roles.is_empty() {
        m.to_string()
    } else {
        format!("{m} ({})", roles.join(", "))
    }
}

/// A y range around `values`, padded, inside `scale` when known.
fn y_range(values: impl Iterator<Item = f64>, scale: Option<(f64, f64)>) -> (f64, f64) {
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    if !lo.is_finite() {
        return scale.unwrap_or((0.0, 1.0));
    }
    let span = scale.map(|(a, b)| b - a).unwrap_or(hi - lo).max(1e-9);
    lo -= 0.08 * span;
    hi += 0.08 * span;
    if let Some((a, b)) = scale {
        lo = lo.max(a - 0.02 * span);
        hi = hi.min(b + 0.02 * span);
    }
    if hi - lo < 1e-9 {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}
