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
use plotters::coord::combinators::IntoLogRange;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::stats::summary::Summary;

use super::view::{scale_label, View};
use super::{Exporter, ReportContext};

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

fn quality_cost_points(v: &View) -> Vec<(usize, String, f64, f64)> {
    v.models
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let c = v.stats(m).cost.per_item?;
            let q = v.overall(m)?;
            (c.is_finite() && q.is_finite() && c >= 0.0).then(|| (i, m.clone(), c, q))
        })
        .collect()
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

fn quality_vs_cost(v: &View, svg: &mut String) -> DrawResult {
    let pts = quality_cost_points(v);
    let currency = v.currency().unwrap_or_default();
    let (cmin, cmax) = pts
        .iter()
        .fold((f64::INFINITY, 0f64), |(a, b), p| (a.min(p.2), b.max(p.2)));
    let log = cmin > 0.0 && cmax / cmin > 20.0;
    let (qlo, qhi) = y_range(
        pts.iter().map(|p| p.3),
        if v.overall_rescaled {
            Some((0.0, 1.0))
        } else {
            v.common_scale()
        },
    );
    let y_desc = if v.overall_rescaled {
        "quality: mean of dimension means (rescaled 0–1)".to_string()
    } else if let Some(s) = v.common_scale() {
        format!("quality: mean of dimension means ({})", scale_label(s))
    } else {
        "quality: mean of dimension means".to_string()
    };
    let x_desc = format!(
        "cost per item{}{}",
        if currency.is_empty() {
            String::new()
        } else {
            format!(" ({currency})")
        },
        if log { ", log scale" } else { "" }
    );

    let root = SVGBackend::with_string(svg, (820, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut b = ChartBuilder::on(&root);
    b.caption(ChartKind::QualityVsCost.title(), (FONT, 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64);
    // Labels sit right of their point in the left part of the chart, left of it in the right part.
    let frac = |c: f64| {
        if log {
            ((c.ln() - (cmin / 3.0).ln()) / ((cmax * 3.0).ln() - (cmin / 3.0).ln())).clamp(0.0, 1.0)
        } else {
            (c / (cmax * 1.25).max(1e-12)).clamp(0.0, 1.0)
        }
    };
    let label_style = |c: f64| {
        let left = frac(c) > 0.6;
        let anchor = if left { HPos::Right } else { HPos::Left };
        (
            TextStyle::from((FONT, 15)).pos(Pos::new(anchor, VPos::Center)),
            left,
        )
    };
    macro_rules! draw_points {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(x_desc.as_str())
                .y_desc(y_desc.as_str())
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 15))
                .light_line_style(RGBColor(242, 242, 242))
                .draw()?;
            // Models of one price class sit close together: push overlapping labels apart vertically.
            let pixels: Vec<(i32, i32)> = pts.iter().map(|p| chart.backend_coord(&(p.2, p.3))).collect();
            let shifts = spread_labels(&pixels, &pts.iter().map(|p| label_style(p.2).1).collect::<Vec<_>>());
            for ((i, m, c, q), dy) in pts.iter().zip(shifts) {
                let (style, left) = label_style(*c);
                let dx = if left { -10 } else { 10 };
                let col = colour(*i);
                // A label pushed off its point's line keeps the point's colour, so it still pairs up.
                let style = style.color(&col);
                chart.draw_series(std::iter::once(
                    EmptyElement::at((*c, *q))
                        + Circle::new((0, 0), 6, col.filled())
                        + Text::new(label_for(v, m), (dx, dy), style),
                ))?;
            }
        }};
    }
    if log {
        let chart = b.build_cartesian_2d((cmin / 3.0..cmax * 3.0).log_scale(), qlo..qhi)?;
        draw_points!(chart);
    } else {
        let chart = b.build_cartesian_2d(0.0..(cmax * 1.25).max(1e-9), qlo..qhi)?;
        draw_points!(chart);
    }
    root.present()?;
    Ok(())
}

/// Label height in pixels plus a little air.
const LABEL_STEP: i32 = 17;

/// Vertical offsets that keep point labels from overprinting: labels on the same side of their points
/// and within 160 px horizontally are stacked at least `LABEL_STEP` apart, top to bottom.
fn spread_labels(points: &[(i32, i32)], left: &[bool]) -> Vec<i32> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by_key(|&k| (points[k].1, points[k].0));
    let mut placed: Vec<(i32, i32, bool)> = Vec::new();
    let mut shifts = vec![0; points.len()];
    for k in order {
        let (x, y) = points[k];
        let mut ly = y;
        for &(px, py, pl) in &placed {
            if pl == left[k] && (px - x).abs() < 160 && ly < py + LABEL_STEP {
                ly = py + LABEL_STEP;
            }
        }
        placed.push((x, ly, left[k]));
        shifts[k] = ly - y;
    }
    shifts
}

/// A dimension's name without its parenthesised gloss, to fit under its group of whiskers.
fn short_name(name: &str) -> &str {
    name.split(" (").next().unwrap_or(name).trim()
}

fn dimension_means(v: &View, svg: &mut String) -> DrawResult {
    let dims: Vec<_> = v.scored_dims().cloned().collect();
    let n = dims.len();
    let m = v.models.len();
    let scale = v.common_scale();
    let vals = v.models.iter().flat_map(|mm| {
        dims.iter().flat_map(move |d| {
            let s = v.dim(mm, &d.id);
            [
                s.and_then(|x| x.ci95_low),
                s.and_then(|x| x.ci95_high),
                s.and_then(|x| x.mean),
            ]
        })
    });
    let (ylo, yhi) = y_range(vals.flatten(), scale);
    let width = (260 + 150 * n as u32).clamp(640, 1400);
    let legend_w = v
        .models
        .iter()
        .map(|mm| text_px(&label_for(v, mm), 14.0))
        .max()
        .unwrap_or(0);

    let root = SVGBackend::with_string(svg, (width + legend_w, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let (plot, legend) = root.split_horizontally(width);
    let no_label = |_: &f64| String::new();
    let y_desc = match scale {
        Some(s) => format!("mean score ({})", scale_label(s)),
        None => "mean score".to_string(),
    };
    let mut chart = ChartBuilder::on(&plot)
        .caption(ChartKind::DimensionMeans.title(), (FONT, 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..n as f64, ylo..yhi)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .x_label_formatter(&no_label)
        .y_desc(y_desc.as_str())
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(242, 242, 242))
        .draw()?;
    for i in 1..n {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(i as f64, ylo), (i as f64, yhi)],
            RGBColor(200, 200, 200),
        )))?;
    }
    // Dimension names under each group (the axis has no key point at a group's centre).
    let below = TextStyle::from((FONT, 15)).pos(Pos::new(HPos::Center, VPos::Top));
    chart.draw_series(dims.iter().enumerate().map(|(i, d)| {
        EmptyElement::at((i as f64 + 0.5, ylo))
            + Text::new(short_name(&d.name).to_string(), (0, 10), below.clone())
    }))?;
    let cap = 0.12 / (m as f64 + 1.0);
    for (j, mm) in v.models.iter().enumerate() {
        let col = colour(j);
        let x_of = |i: usize| i as f64 + (j as f64 + 1.0) / (m as f64 + 1.0);
        let mut whiskers = Vec::new();
        let mut points = Vec::new();
        for (i, d) in dims.iter().enumerate() {
            let Some(s) = v.dim(mm, &d.id) else { continue };
            let x = x_of(i);
            if let (Some(lo), Some(hi)) = (s.ci95_low, s.ci95_high) {
                whiskers.push(PathElement::new(
                    vec![(x, lo), (x, hi)],
                    col.stroke_width(2),
                ));
                whiskers.push(PathElement::new(
                    vec![(x - cap, lo), (x + cap, lo)],
                    col.stroke_width(2),
                ));
                whiskers.push(PathElement::new(
                    vec![(x - cap, hi), (x + cap, hi)],
                    col.stroke_width(2),
                ));
            }
            if let Some(mean) = s.mean {
                points.push(Circle::new((x, mean), 5, col.filled()));
            }
        }
        chart.draw_series(whiskers)?;
        chart.draw_series(points)?;
    }
    legend_block(&legend, v, 70)?;
    root.present()?;
    Ok(())
}

/// A legend of model colours drawn in its own area (plotters' in-chart legend would cover data).
fn legend_block<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    v: &View,
    top: i32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    for (j, mm) in v.models.iter().enumerate() {
        let y = top + 24 * j as i32;
        area.draw(&Circle::new((12, y), 5, colour(j).filled()))?;
        area.draw(&Text::new(
            label_for(v, mm),
            (24, y),
            TextStyle::from((FONT, 14)).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

fn latency(v: &View, svg: &mut String) -> DrawResult {
    let m = v.models.len();
    let label_w = v
        .models
        .iter()
        .map(|mm| text_px(&label_for(v, mm), 14.0))
        .max()
        .unwrap_or(40)
        + 24;
    let panel_h = 90 + 46 * m as u32;
    let root =
        SVGBackend::with_string(svg, (880 + label_w, 60 + 2 * panel_h + 40)).into_drawing_area();
    root.fill(&WHITE)?;
    let (title, rest) = root.split_vertically(50);
    title.draw(&Text::new(
        ChartKind::Latency.title(),
        ((880 + label_w) as i32 / 2, 28),
        TextStyle::from((FONT, 22)).pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    let (top, bottom) = rest.split_vertically(panel_h);
    let (bottom, key) = bottom.split_vertically(panel_h);
    let pick_ttft = |mm: &String| v.stats(mm).latency.ttft_ms.clone();
    let pick_total = |mm: &String| v.stats(mm).latency.total_ms.clone();
    latency_panel(&top, v, "time to first token (s)", &pick_ttft, label_w)?;
    latency_panel(&bottom, v, "total time (s)", &pick_total, label_w)?;

    // Marker key, shared by both panels.
    let ky = 14;
    let mut x = label_w as i32 + 16;
    let grey = RGBColor(60, 60, 60);
    let ts = TextStyle::from((FONT, 14)).pos(Pos::new(HPos::Left, VPos::Center));
    key.draw(&PathElement::new(
        vec![(x, ky), (x + 24, ky)],
        grey.stroke_width(3),
    ))?;
    key.draw(&Text::new("p50–p99", (x + 30, ky), ts.clone()))?;
    x += 110;
    key.draw(&Circle::new((x, ky), 6, grey.filled()))?;
    key.draw(&Text::new("p50", (x + 12, ky), ts.clone()))?;
    x += 70;
    key.draw(&TriangleMarker::new((x, ky), 7, grey.filled()))?;
    key.draw(&Text::new("p90", (x + 12, ky), ts.clone()))?;
    x += 70;
    key.draw(&Cross::new((x, ky), 6, grey.stroke_width(3)))?;
    key.draw(&Text::new("p99 (value printed)", (x + 12, ky), ts.clone()))?;
    x += 165;
    key.draw(&PathElement::new(
        vec![(x, ky - 8), (x, ky + 8)],
        grey.stroke_width(3),
    ))?;
    key.draw(&Text::new("mean", (x + 10, ky), ts))?;
    root.present()?;
    Ok(())
}

fn latency_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    v: &View,
    x_desc: &str,
    pick: &dyn Fn(&String) -> crate::stats::summary::Distribution,
    label_w: u32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let m = v.models.len();
    let xmax = v
        .models
        .iter()
        .filter_map(|mm| {
            let d = pick(mm);
            [d.p99, d.p90, d.p50, d.mean]
                .into_iter()
                .flatten()
                .reduce(f64::max)
        })
        .fold(0.0, f64::max)
        / 1000.0;
    let xmax = if xmax > 0.0 { xmax * 1.22 } else { 1.0 };
    // First model on top.
    let y_of = |j: usize| (m - 1 - j) as f64 + 0.5;
    let no_label = |_: &f64| String::new();
    let mut chart = ChartBuilder::on(area)
        .margin_left(8)
        .margin_right(24)
        .margin_top(8)
        .x_label_area_size(44)
        .y_label_area_size(label_w)
        .build_cartesian_2d(0.0..xmax, 0.0..m as f64)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .y_label_formatter(&no_label)
        .x_desc(x_desc)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(242, 242, 242))
        .draw()?;
    // Model names left of each row (the axis has no key point at a row's centre).
    let left = TextStyle::from((FONT, 14)).pos(Pos::new(HPos::Right, VPos::Center));
    chart.draw_series(v.models.iter().enumerate().map(|(j, mm)| {
        EmptyElement::at((0.0, y_of(j))) + Text::new(label_for(v, mm), (-10, 0), left.clone())
    }))?;
    for (j, mm) in v.models.iter().enumerate() {
        let d = pick(mm);
        let col = colour(j);
        let y = y_of(j);
        let s = |x: Option<f64>| x.map(|ms| ms / 1000.0);
        if let (Some(a), Some(b)) = (s(d.p50), s(d.p99)) {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(a, y), (b, y)],
                col.stroke_width(3),
            )))?;
        }
        if let Some(x) = s(d.mean) {
            chart.draw_series(std::iter::once(
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, -10), (0, 10)], col.stroke_width(3)),
            ))?;
        }
        if let Some(x) = s(d.p50) {
            chart.draw_series(std::iter::once(Circle::new((x, y), 6, col.filled())))?;
        }
        if let Some(x) = s(d.p90) {
            chart.draw_series(std::iter::once(TriangleMarker::new(
                (x, y),
                7,
                col.filled(),
            )))?;
        }
        if let Some(x) = s(d.p99) {
            chart.draw_series(std::iter::once(
                EmptyElement::at((x, y))
                    + Cross::new((0, 0), 6, col.stroke_width(3))
                    + Text::new(
                        super::text::secs(d.p99),
                        (10, 0),
                        TextStyle::from((FONT, 13)).pos(Pos::new(HPos::Left, VPos::Center)),
                    ),
            ))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod spread_tests {
    use super::{short_name, spread_labels, LABEL_STEP};

    #[test]
    fn close_labels_on_one_side_are_stacked_apart() {
        let shifts = spread_labels(
            &[(100, 50), (102, 52), (104, 55), (600, 52)],
            &[false, false, false, true],
        );
        assert_eq!(shifts[0], 0);
        assert_eq!(shifts[1], 50 + LABEL_STEP - 52);
        assert_eq!(shifts[2], 50 + 2 * LABEL_STEP - 55);
        assert_eq!(
            shifts[3], 0,
            "a label far away or on the other side stays put"
        );
    }

    #[test]
    fn short_names_drop_the_gloss() {
        assert_eq!(short_name("Reply quality (Reply质量)"), "Reply quality");
        assert_eq!(short_name("immersion"), "immersion");
    }
}
