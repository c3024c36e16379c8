//! The fit figure (`fit.svg` / `fit.png`) of `surgesim fit`: above, the
//! observed rate per bin against the fitted piecewise-constant rate; below,
//! each class's empirical duration law (its sample's CDF) against the
//! fitted lognormal and gamma CDFs, on a logarithmic duration axis.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use statrs::function::erf::erfc;
use statrs::function::gamma::checked_gamma_lr;

use super::legend::{draw_legend, legend_rows, LegendItem, Swatch, LEGEND_ROW};
use super::{axis_label, draw_header, font, padded, save, DrawResult, Figure, PlotError, GRID, HEADER, MUTED, PALETTE};
use crate::fit::Fit;

/// Most points drawn per curve (longer series are thinned evenly).
const MAX_POINTS: usize = 1500;

/// Draws `fit` to `svg` and `png`.
pub fn fit_figure(fit: &Fit, svg: &Path, png: &Path) -> Result<(), PlotError> {
    save(&FitFigure { fit }, svg, png)
}

struct FitFigure<'a> {
    fit: &'a Fit,
}

fn thinned<T: Copy>(v: &[T]) -> Vec<T> {
    let step = v.len().div_ceil(MAX_POINTS).max(1);
    v.iter().step_by(step).copied().collect()
}

/// `c` halfway to white: the observed curves, under the fitted ones.
fn light(c: RGBColor) -> RGBColor {
    let f = |v: u8| ((v as u16 + 255) / 2) as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

const X_AREA: u32 = 50;
const Y_AREA: u32 = 80;
const SIDE: u32 = 16;

impl FitFigure<'_> {
    fn rate_panel<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (w, _) = area.dim_in_pixel();
        let (x0p, x1p) = ((SIDE + Y_AREA) as i32, w as i32 - 2 * SIDE as i32);
        let items = vec![
            LegendItem::new("observed rate per bin", PALETTE[7], Swatch::LineMarker),
            LegendItem::new("fitted (piecewise constant)", PALETTE[0], Swatch::Line),
        ];
        let rows = legend_rows(area, &items, x0p, x1p)?;
        draw_legend(area, &items, x0p, x1p, 0)?;
        let body = area.margin((rows * LEGEND_ROW + 6) as u32, 6, SIDE, 2 * SIDE);
        let bins = &self.fit.rate.bins;
        let bin_m = self.fit.bin_s / 60.0;
        let ymax = bins.iter().map(|b| b.per_s.max(b.fitted_per_s)).fold(0.0, f64::max);
        let (_, y1) = padded(0.0, ymax * 1.08);
        let (_, x1) = padded(0.0, self.fit.span_s / 60.0);
        let mut chart = ChartBuilder::on(&body)
            .x_label_area_size(X_AREA)
            .y_label_area_size(Y_AREA)
            .build_cartesian_2d(0.0..x1, 0.0..y1)?;
        chart
            .configure_mesh()
            .x_desc("minutes from the start")
            .y_desc("calls per second")
            .x_label_formatter(&axis_label)
            .y_label_formatter(&axis_label)
            .label_style(font(13))
            .axis_desc_style(font(15))
            .bold_line_style(GRID)
            .max_light_lines(1)
            .light_line_style(RGBColor(244, 244, 244))
            .axis_style(MUTED)
            .draw()?;
        let pts: Vec<(f64, f64)> =
            thinned(&bins.iter().map(|b| (b.t_start_s / 60.0 + bin_m / 2.0, b.per_s)).collect::<Vec<_>>());
        chart.draw_series(LineSeries::new(pts.iter().copied(), PALETTE[7].mix(0.5).stroke_width(1)))?;
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 2, PALETTE[7].filled())))?;
        let mut step = Vec::new();
        for s in &self.fit.rate.segments {
            step.push((s.from_s / 60.0, s.per_s));
            step.push((s.to_s / 60.0, s.per_s));
        }
        chart.draw_series(LineSeries::new(step, PALETTE[0].stroke_width(3)))?;
        Ok(())
    }

    fn duration_panel<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (w, _) = area.dim_in_pixel();
        let (x0p, x1p) = ((SIDE + Y_AREA) as i32, w as i32 - 2 * SIDE as i32);
        let mut items = Vec::new();
        for (i, c) in self.fit.classes.iter().enumerate() {
            let col = PALETTE[i % PALETTE.len()];
            items.push(LegendItem::new(
                format!("{}: observed ({})", c.name, c.durations.sample),
                light(col),
                Swatch::Line,
            ));
            if c.durations.lognormal.is_some() {
                let mark = if c.durations.chosen == "lognormal" { " (used)" } else { "" };
                items.push(LegendItem::new(format!("lognormal{mark}"), col, Swatch::Line));
            }
            if c.durations.gamma.is_some() {
                let mark = if c.durations.chosen == "gamma" { " (used)" } else { "" };
                items.push(LegendItem::new(format!("gamma{mark}"), col, Swatch::Dashed));
            }
        }
        let rows = legend_rows(area, &items, x0p, x1p)?;
        draw_legend(area, &items, x0p, x1p, 0)?;
        let body = area.margin((rows * LEGEND_ROW + 6) as u32, 6, SIDE, 2 * SIDE);
        // log10 of seconds on x, over every class's sample.
        let all = || self.fit.classes.iter().flat_map(|c| c.durations.sorted.iter().copied()).filter(|&x| x > 0.0);
        let lo = all().fold(f64::INFINITY, f64::min).log10();
        let hi = all().fold(f64::NEG_INFINITY, f64::max).log10();
        let (lo, hi) = if lo.is_finite() && hi.is_finite() { padded(lo - 0.05, hi + 0.05) } else { (0.0, 3.0) };
        let mut chart = ChartBuilder::on(&body)
            .x_label_area_size(X_AREA)
            .y_label_area_size(Y_AREA)
            .build_cartesian_2d(lo..hi, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc("call duration, seconds (log scale)")
            .y_desc("fraction of calls at most this long")
            // Labels at whole powers of ten only.
            .x_label_formatter(&|v: &f64| {
                if (v - v.round()).abs() < 1e-6 {
                    axis_label(&10f64.powf(v.round()))
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&axis_label)
            .label_style(font(13))
            .axis_desc_style(font(15))
            .bold_line_style(GRID)
            .max_light_lines(1)
            .light_line_style(RGBColor(244, 244, 244))
            .axis_style(MUTED)
            .draw()?;
        let grid: Vec<f64> = (0..=200).map(|i| lo + (hi - lo) * i as f64 / 200.0).collect();
        for (i, c) in self.fit.classes.iter().enumerate() {
            let col = PALETTE[i % PALETTE.len()];
            let d = &c.durations;
            let m = d.sorted.len() as f64;
            let ecdf: Vec<(f64, f64)> = d
                .sorted
                .iter()
                .enumerate()
                .filter(|(_, &x)| x > 0.0)
                .map(|(k, &x)| (x.log10(), (k + 1) as f64 / m))
                .collect();
            chart.draw_series(LineSeries::new(thinned(&ecdf), light(col).stroke_width(5)))?;
            if let Some(l) = &d.lognormal {
                let f = |x: f64| 0.5 * erfc(-(x.ln() - l.mu) / (l.sigma * std::f64::consts::SQRT_2));
                chart.draw_series(LineSeries::new(grid.iter().map(|&v| (v, f(10f64.powf(v)))), col.stroke_width(2)))?;
            }
            if let Some(g) = &d.gamma {
                let f = |x: f64| checked_gamma_lr(g.shape, x / g.scale_s).unwrap_or(1.0);
                chart.draw_series(DashedLineSeries::new(
                    grid.iter().map(|&v| (v, f(10f64.powf(v)))),
                    6,
                    4,
                    col.stroke_width(2),
                ))?;
            }
        }
        Ok(())
    }
}

impl Figure for FitFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 1000)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (header, body) = root.split_vertically(HEADER);
        let f = self.fit;
        let subtitle = format!(
            "{} calls from {}; {} rate segments; durations of {} classes",
            f.rows,
            f.log,
            f.rate.segments.len(),
            f.classes.len()
        );
        draw_header(&header, "Observed and fitted: arrival rate and duration laws", &subtitle)?;
        let h = body.dim_in_pixel().1;
        let (top, bottom) = body.split_vertically(h * 45 / 100);
        self.rate_panel(&top)?;
        self.duration_panel(&bottom)
    }
}
