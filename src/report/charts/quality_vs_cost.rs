//! `quality_vs_cost.svg`: overall quality against cost per item, one labelled point per model.

use plotters::coord::combinators::IntoLogRange;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::view::{scale_label, View};

use super::{colour, label_for, y_range, ChartKind, DrawResult, FONT};

pub(super) fn quality_cost_points(v: &View) -> Vec<(usize, String, f64, f64)> {
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
pub(super) fn quality_vs_cost(v: &View, svg: &mut String) -> DrawResult {
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

#[cfg(test)]
mod spread_tests {
    use super::{spread_labels, LABEL_STEP};

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
}
