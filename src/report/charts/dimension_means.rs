//! `dimension_means.svg`: dimension means with 95 % CI whiskers, grouped by dimension.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::view::{scale_label, View};

use super::{colour, label_for, text_px, y_range, ChartKind, DrawResult, FONT};

/// A dimension's name without its parenthesised gloss, to fit under its group of whiskers.
fn short_name(name: &str) -> &str {
    name.split(" (").next().unwrap_or(name).trim()
}

pub(super) fn dimension_means(v: &View, svg: &mut String) -> DrawResult {
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

#[cfg(test)]
mod tests {
    use super::short_name;

    #[test]
    fn short_names_drop_the_gloss() {
        assert_eq!(short_name("Reply quality (Reply质量)"), "Reply quality");
        assert_eq!(short_name("immersion"), "immersion");
    }
}
