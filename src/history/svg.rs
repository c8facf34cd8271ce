//! `history show --svg F`: one SVG with a line chart per dimension — x the runs in trend order, y the
//! mean score, one line per model (the report's colours and font). The release baseline run is a
//! dashed vertical line, each model's baseline value a thin horizontal line in its colour, and a model
//! the drift rule flags ends in a labelled ring.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::charts::{colour, FONT};

use super::drift::Status;
use super::render::Show;

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

const PANEL_H: u32 = 300;
const WIDTH: u32 = 900;
const LEGEND_W: u32 = 260;

/// The SVG text.
pub fn render(s: &Show) -> anyhow::Result<String> {
    let mut svg = String::new();
    draw(s, &mut svg).map_err(|e| anyhow::anyhow!("could not draw the history chart: {e}"))?;
    Ok(svg)
}

fn dims(s: &Show) -> Vec<String> {
    let set: std::collections::BTreeSet<&String> = s
        .entries
        .iter()
        .flat_map(|e| e.models.values().flat_map(|m| m.dimensions.keys()))
        .collect();
    set.into_iter().cloned().collect()
}

fn draw(s: &Show, svg: &mut String) -> DrawResult {
    let dims = dims(s);
    let models: Vec<String> = s
        .entries
        .iter()
        .flat_map(|e| e.models.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let n = s.entries.len();
    let h = 50 + PANEL_H * dims.len().max(1) as u32;
    let root = SVGBackend::with_string(svg, (WIDTH + LEGEND_W, h)).into_drawing_area();
    root.fill(&WHITE)?;
    let (title, rest) = root.split_vertically(50);
    title.draw(&Text::new(
        format!(
            "Trend against the release baseline ({})",
            s.entries[s.baseline].run_id
        ),
        (((WIDTH + LEGEND_W) / 2) as i32, 26),
        TextStyle::from((FONT, 20)).pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    let (plots, legend) = rest.split_horizontally(WIDTH);
    let panels = plots.split_evenly((dims.len().max(1), 1));
    for (panel, dim) in panels.iter().zip(&dims) {
        let line = |e: &super::Entry, m: &str| {
            e.models
                .get(m)
                .and_then(|l| l.dimensions.get(dim.as_str()))
                .cloned()
        };
        let scale = s
            .entries
            .iter()
            .rev()
            .find_map(|e| models.iter().find_map(|m| line(e, m).and_then(|l| l.scale)));
        let values: Vec<f64> = s
            .entries
            .iter()
            .flat_map(|e| {
                models
                    .iter()
                    .filter_map(|m| line(e, m).and_then(|l| l.mean))
            })
            .collect();
        let (lo, hi) = match scale {
            Some((a, b)) => (a as f64, b as f64),
            None => (
                values
                    .iter()
                    .copied()
                    .fold(f64::INFINITY, f64::min)
                    .min(0.0),
                values
                    .iter()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max)
                    .max(1.0),
            ),
        };
        let x_max = (n.max(2) - 1) as f64;
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{dim} — mean score"), (FONT, 16))
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(52)
            .build_cartesian_2d(-0.3..x_max + 0.3, lo..hi)?;
        let x_label = |x: &f64| {
            let i = x.round() as usize;
            if (x - x.round()).abs() < 1e-9 && i < n {
                format!("{}", i + 1)
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n.min(20))
            .x_label_formatter(&x_label)
            .x_desc("run (oldest → newest)")
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .light_line_style(RGBColor(242, 242, 242))
            .draw()?;
        // The release baseline: a dashed vertical line.
        let bx = s.baseline as f64;
        let grey = RGBColor(90, 90, 90);
        let steps = 24;
        chart.draw_series((0..steps).step_by(2).map(|i| {
            let y0 = lo + (hi - lo) * i as f64 / steps as f64;
            let y1 = lo + (hi - lo) * (i + 1) as f64 / steps as f64;
            PathElement::new(vec![(bx, y0), (bx, y1)], grey.stroke_width(2))
        }))?;
        chart.draw_series(std::iter::once(
            EmptyElement::at((bx, lo))
                + Text::new(
                    "release baseline",
                    (6, -4),
                    TextStyle::from((FONT, 12)).pos(Pos::new(HPos::Left, VPos::Bottom)),
                ),
        ))?;
        for (j, m) in models.iter().enumerate() {
            let col = colour(j);
            let pts: Vec<(f64, f64)> = s
                .entries
                .iter()
                .enumerate()
                .filter_map(|(i, e)| line(e, m).and_then(|l| l.mean).map(|y| (i as f64, y)))
                .collect();
            if let Some(b) = line(&s.entries[s.baseline], m).and_then(|l| l.mean) {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(-0.3, b), (x_max + 0.3, b)],
                    col.mix(0.45).stroke_width(1),
                )))?;
            }
            chart.draw_series(LineSeries::new(pts.iter().copied(), col.stroke_width(2)))?;
            chart.draw_series(pts.iter().map(|p| Circle::new(*p, 3, col.filled())))?;
            let drifting = s
                .drift
                .iter()
                .any(|r| &r.model == m && &r.dimension == dim && r.status == Status::Drift);
            if let (true, Some(last)) = (drifting, pts.last()) {
                chart.draw_series(std::iter::once(
                    EmptyElement::at(*last)
                        + Circle::new((0, 0), 9, col.stroke_width(2))
                        + Text::new("drift", (-14, 12), TextStyle::from((FONT, 13)).color(&col)),
                ))?;
            }
        }
    }
    for (j, m) in models.iter().enumerate() {
        let y = 30 + 24 * j as i32;
        legend.draw(&Circle::new((14, y), 5, colour(j).filled()))?;
        legend.draw(&Text::new(
            m.clone(),
            (26, y),
            TextStyle::from((FONT, 13)).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    root.present()?;
    Ok(())
}
