//! Curves with shaded confidence bands and markers (`headroom.svg` /
//! `headroom.png`): failures vs provisioned headroom, one curve per
//! combination of the other swept parameters. The frontier figure is drawn
//! by the same code.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::legend::{draw_legend, legend_rows, LegendItem, Swatch, LEGEND_ROW};
use super::{
    axis_label, draw_header, finite, font, padded, save, Curve, CurvePoint, DrawResult, Figure, PlotError, GRID,
    HEADER, MUTED, PALETTE,
};

/// Curves with shaded confidence bands (`lo..hi`) and markers, one per
/// curve: failures vs provisioned headroom.
pub fn headroom(
    title: &str,
    x_label: &str,
    y_label: &str,
    curves: &[Curve],
    svg: &Path,
    png: &Path,
) -> Result<(), PlotError> {
    let fig = Headroom::from(title, x_label, y_label, curves);
    save(&fig, svg, png)
}

/// The figure: curves with their points cleaned (finite, sorted by x,
/// `lo <= mean <= hi`).
pub(super) struct Headroom {
    title: String,
    x_label: String,
    y_label: String,
    curves: Vec<Curve>,
}

/// `c` with non-finite points dropped, bounds made to enclose the mean, and
/// points sorted by x.
fn cleaned(c: &Curve) -> Curve {
    let mut points: Vec<CurvePoint> = c
        .points
        .iter()
        .filter(|p| p.x.is_finite() && p.mean.is_finite())
        .map(|p| {
            let lo = finite(p.lo).unwrap_or(p.mean).min(p.mean);
            let hi = finite(p.hi).unwrap_or(p.mean).max(p.mean);
            CurvePoint { x: p.x, mean: p.mean, lo, hi }
        })
        .collect();
    points.sort_by(|a, b| a.x.total_cmp(&b.x));
    Curve { label: c.label.clone(), points }
}

impl Headroom {
    pub(super) fn from(title: &str, x_label: &str, y_label: &str, curves: &[Curve]) -> Headroom {
        Headroom {
            title: title.to_string(),
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            curves: curves.iter().map(cleaned).collect(),
        }
    }

    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let pts = || self.curves.iter().flat_map(|c| &c.points);
        let xmin = pts().map(|p| p.x).fold(f64::INFINITY, f64::min);
        let xmax = pts().map(|p| p.x).fold(f64::NEG_INFINITY, f64::max);
        let ymin = pts().map(|p| p.lo).fold(f64::INFINITY, f64::min);
        let ymax = pts().map(|p| p.hi).fold(f64::NEG_INFINITY, f64::max);
        if !xmin.is_finite() {
            return ((0.0, 1.0), (0.0, 1.0));
        }
        let (x0, x1) = padded(xmin, xmax);
        let xpad = (x1 - x0) * 0.03;
        // Counts and rates read best from zero, unless the data sit far from it.
        let ylo = if ymin >= 0.0 && ymin <= 0.5 * ymax { 0.0 } else { ymin };
        let (y0, y1) = padded(ylo, ymax);
        let ypad = (y1 - y0) * 0.06;
        // From zero, a sliver lower so markers on zero are not cut in half.
        let y0 = if ylo == 0.0 && y0 == 0.0 { -ypad / 3.0 } else { y0 - ypad };
        ((x0 - xpad, x1 + xpad), (y0, y1 + ypad))
    }

    fn legend_items(&self) -> Vec<LegendItem> {
        self.curves
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let label = if c.points.is_empty() { format!("{} (no data)", c.label) } else { c.label.clone() };
                LegendItem::new(label, PALETTE[i % PALETTE.len()], Swatch::LineMarker)
            })
            .collect()
    }
}

type Chart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>;

/// One curve: its band (or whisker for a single point), line and markers.
fn draw_curve<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, c: &Curve, color: RGBColor) -> DrawResult<DB> {
    let p = &c.points;
    if p.len() >= 2 && p.iter().any(|q| q.hi > q.lo) {
        let band: Vec<(f64, f64)> = p.iter().map(|q| (q.x, q.hi)).chain(p.iter().rev().map(|q| (q.x, q.lo))).collect();
        chart.draw_series(std::iter::once(Polygon::new(band, color.mix(0.16).filled())))?;
    }
    // Whiskers show the interval of points a band cannot (single points).
    if p.len() == 1 && p[0].hi > p[0].lo {
        let q = &p[0];
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(q.x, q.lo), (q.x, q.hi)],
            color.mix(0.6).stroke_width(2),
        )))?;
    }
    chart.draw_series(LineSeries::new(p.iter().map(|q| (q.x, q.mean)), color.stroke_width(2)))?;
    chart.draw_series(p.iter().map(|q| Circle::new((q.x, q.mean), 4, color.filled())))?;
    Ok(())
}

impl Figure for Headroom {
    fn size(&self) -> (u32, u32) {
        (1200, 760)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (w, _) = root.dim_in_pixel();
        let (header, body) = root.split_vertically(HEADER);
        let n_points: usize = self.curves.iter().map(|c| c.points.len()).sum();
        let subtitle = if self.curves.iter().any(|c| c.points.iter().any(|p| p.hi > p.lo)) {
            "line: mean over runs; band: confidence interval"
        } else {
            ""
        };
        draw_header(&header, &self.title, subtitle)?;

        const Y_AREA: u32 = 90;
        const SIDE: u32 = 16;
        let plot_x0 = (SIDE + Y_AREA) as i32;
        let plot_x1 = w as i32 - 2 * SIDE as i32;
        let items = self.legend_items();
        let rows = legend_rows(&body, &items, plot_x0, plot_x1)?;
        draw_legend(&body, &items, plot_x0, plot_x1, 0)?;
        let area = body.margin((rows * LEGEND_ROW + 8) as u32, 10, SIDE, 2 * SIDE);

        let ((x0, x1), (y0, y1)) = self.ranges();
        let mut chart = ChartBuilder::on(&area)
            .x_label_area_size(56)
            .y_label_area_size(Y_AREA)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.clone())
            .y_desc(self.y_label.clone())
            .x_label_formatter(&axis_label)
            .y_label_formatter(&axis_label)
            .label_style(font(13))
            .axis_desc_style(font(15))
            .bold_line_style(GRID)
            .max_light_lines(1)
            .light_line_style(RGBColor(244, 244, 244))
            .axis_style(MUTED)
            .draw()?;

        for (i, c) in self.curves.iter().enumerate() {
            draw_curve(&mut chart, c, PALETTE[i % PALETTE.len()])?;
        }
        if n_points == 0 {
            chart.draw_series(std::iter::once(
                EmptyElement::at(((x0 + x1) / 2.0, (y0 + y1) / 2.0))
                    + Text::new("no data", (0, 0), font(16).color(&MUTED).pos(Pos::new(HPos::Center, VPos::Center))),
            ))?;
        }
        Ok(())
    }
}
