//! `latency.svg`: TTFT and total latency, the p50–p99 span with mean, p50, p90 and p99 markers per
//! model.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::text;
use crate::report::view::View;

use super::{colour, label_for, text_px, ChartKind, DrawResult, FONT};

pub(super) fn latency(v: &View, svg: &mut String) -> DrawResult {
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
                        text::secs(d.p99),
                        (10, 0),
                        TextStyle::from((FONT, 13)).pos(Pos::new(HPos::Left, VPos::Center)),
                    ),
            ))?;
        }
    }
    Ok(())
}
