//! The incident timeline (`timeline.svg` / `timeline.png`): capacity, busy
//! slots and arrival rate on top; failures per bin by reason below; the
//! reporting window shaded and the canary alert marked. Its numbers are the
//! per-bin means of `timeseries.csv` ([`bin_means`]).

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::legend::{draw_legend, legend_rows, LegendItem, Swatch, LEGEND_ROW};
use super::time_axis::{clock_label, clock_ticks, span_label, ClockAxis};
use super::{axis_label, draw_header, finite, font, padded, save, DrawResult, Figure, PlotError, GRID, HEADER, MUTED};
use crate::experiment::Aggregate;
use crate::observe::REASONS;
use crate::report::timeseries::{bin_means, BinMean};
use crate::scenario::Scenario;
use crate::time::TICKS_PER_SEC;

/// The incident timeline of `agg` (bins averaged over runs), as an SVG and
/// a PNG: capacity, busy slots and arrival rate on top; failures per bin by
/// reason below; the reporting window shaded and the canary alert marked.
pub fn timeline(sc: &Scenario, agg: &Aggregate, svg: &Path, png: &Path) -> Result<(), PlotError> {
    let fig = Timeline::from(sc, agg);
    save(&fig, svg, png)
}

const CAPACITY: RGBColor = RGBColor(31, 78, 121);
const BUSY: RGBColor = RGBColor(242, 142, 43);
const ARRIVALS: RGBColor = RGBColor(60, 140, 60);
const FALLBACK_BUSY: RGBColor = RGBColor(148, 103, 189);
const WAITING: RGBColor = RGBColor(140, 86, 75);
const WINDOW: RGBColor = RGBColor(255, 240, 196);
const WINDOW_TEXT: RGBColor = RGBColor(150, 105, 0);
const ALERT: RGBColor = RGBColor(20, 20, 20);

/// Failure categories: the four reasons, then abandoned calls.
const FAIL_NAMES: [&str; 5] =
    ["worker_not_available", "fallback_start_failed", "fallback_throttled", "queue_full", "abandoned"];
const FAIL_COLORS: [RGBColor; 5] = [
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Pixel widths of the axis label areas and the side margins.
const Y_AREA: u32 = 84;
const RIGHT_AREA: u32 = 84;
const SIDE: u32 = 12;

/// Failed calls of a bin by category ([`FAIL_NAMES`]).
fn failed(b: &BinMean) -> [f64; 5] {
    let mut f = [0.0; 5];
    for (v, r) in f.iter_mut().zip(REASONS) {
        *v = b.failed_by[r as usize];
    }
    f[4] = b.abandoned;
    f
}

fn arrivals_per_s(b: &BinMean) -> f64 {
    b.arrived / b.span_s()
}

/// Attempts per second, first and retried (0 without `[clients]`).
fn attempts_per_s(b: &BinMean) -> f64 {
    b.attempts / b.span_s()
}

/// The attempts line: solid, in a colour apart from the arrivals'.
const ATTEMPTS: RGBColor = RGBColor(23, 190, 207);

struct Timeline {
    title: String,
    subtitle: String,
    clock_start: f64,
    duration: f64,
    bin_label: String,
    bins: Vec<BinMean>,
    window: Option<(f64, f64)>,
    /// Whether callers retry (`[clients]`): attempts are drawn too.
    attempts: bool,
    /// Mean alert time, runs that alerted, runs.
    detection: Option<(f64, usize, usize)>,
}

/// What both panels share: the x axis, the plot's horizontal extent and the
/// markers that fall inside the axis.
struct Frame {
    dur: f64,
    clock_start: f64,
    ticks: Vec<f64>,
    with_seconds: bool,
    plot_x0: i32,
    plot_x1: i32,
    /// The reporting window, when it overlaps the axis.
    window: Option<(f64, f64)>,
    /// The canary alert, when it falls on the axis.
    detection: Option<(f64, usize, usize)>,
}

impl Frame {
    fn x_axis(&self) -> ClockAxis {
        ClockAxis::new(self.dur, self.ticks.clone())
    }

    /// Clock label of `t` seconds after t = 0.
    fn clock(&self, t: f64) -> String {
        clock_label(self.clock_start + t, self.with_seconds)
    }
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<ClockAxis, RangedCoordf64>>;

/// `s` cut to `max_chars` characters, with an ellipsis when cut.
fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max_chars.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A count for a legend: whole numbers with thousands separators, others
/// to 3 significant digits.
fn count_label(v: f64) -> String {
    if v >= 100.0 || v == v.trunc() {
        let n = v.round() as i64;
        let s = n.abs().to_string();
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        if n < 0 {
            out.insert(0, '-');
        }
        out
    } else {
        crate::report::sig(v, 3)
    }
}

impl Timeline {
    fn from(sc: &Scenario, agg: &Aggregate) -> Timeline {
        let runs = agg.runs.len();
        let tick = TICKS_PER_SEC as f64;
        let window = sc.window.map(|(a, b)| (a.0 as f64 / tick, b.0 as f64 / tick));
        let detection =
            agg.metric("detection_time_s").filter(|s| s.n > 0 && s.mean.is_finite()).map(|s| (s.mean, s.n, runs));
        let description = truncate(sc.description.trim(), 110);
        let runs_text = if runs == 1 { "1 run".to_string() } else { format!("mean of {runs} runs") };
        let subtitle = if description.is_empty() {
            format!("{runs_text} · seed {}", sc.seed)
        } else {
            format!("{description} · {runs_text} · seed {}", sc.seed)
        };
        Timeline {
            title: format!("{} — timeline", sc.name),
            subtitle,
            clock_start: sc.clock_start as f64,
            duration: (sc.duration.0 as f64 / tick).max(0.0),
            bin_label: span_label(sc.bin.0.max(1) as f64 / tick),
            bins: bin_means(sc, agg),
            window,
            attempts: sc.clients.as_ref().is_some_and(|c| c.retry.is_some()),
            detection,
        }
    }

    /// Line points at bin midpoints, extended flat to both ends of the axis.
    fn points(&self, f: impl Fn(&BinMean) -> f64) -> Vec<(f64, f64)> {
        let mut pts: Vec<(f64, f64)> =
            self.bins.iter().filter_map(|b| finite(f(b)).map(|v| ((b.start_s() + b.end_s()) / 2.0, v))).collect();
        if let (Some(&(_, first)), Some(&(_, last))) = (pts.first(), pts.last()) {
            pts.insert(0, (0.0, first));
            pts.push((self.duration, last));
        }
        pts
    }

    fn max_of(&self, f: impl Fn(&BinMean) -> f64) -> f64 {
        self.bins.iter().filter_map(|b| finite(f(b))).fold(0.0, f64::max)
    }

    /// Mean totals per failure category.
    fn fail_totals(&self) -> [f64; 5] {
        let mut t = [0.0; 5];
        for b in &self.bins {
            for (a, v) in t.iter_mut().zip(failed(b)) {
                *a += v;
            }
        }
        t
    }

    fn frame(&self, width: u32) -> Frame {
        let dur = if self.duration > 0.0 { self.duration } else { 1.0 };
        let (ticks, with_seconds) = clock_ticks(self.clock_start, dur, 12);
        Frame {
            dur,
            clock_start: self.clock_start,
            ticks,
            with_seconds,
            plot_x0: (SIDE + Y_AREA) as i32,
            plot_x1: width as i32 - (SIDE + RIGHT_AREA) as i32,
            window: self.window.filter(|&(a, b)| b > a && a < dur && b > 0.0),
            detection: self.detection.filter(|&(t, _, _)| (0.0..=dur).contains(&t)),
        }
    }

    fn show_fallback(&self) -> bool {
        self.max_of(|b| b.fallback_busy) > 0.0
    }

    fn show_waiting(&self) -> bool {
        self.max_of(|b| b.waiting) > 0.0
    }

    // ---- top panel: capacity, busy, arrival rate ----

    fn top_legend(&self, frame: &Frame) -> Vec<LegendItem> {
        let mut items = vec![
            LegendItem::new("primary capacity (slots)", CAPACITY, Swatch::Line),
            LegendItem::new("busy primary slots", BUSY, Swatch::FillLine),
        ];
        if self.show_fallback() {
            items.push(LegendItem::new("fallback busy", FALLBACK_BUSY, Swatch::Line));
        }
        if self.show_waiting() {
            items.push(LegendItem::new("waiting in queue", WAITING, Swatch::Line));
        }
        items.push(LegendItem::new("arrivals per second (right axis)", ARRIVALS, Swatch::Dashed));
        if self.attempts {
            items.push(LegendItem::new("attempts per second, retries included (right axis)", ATTEMPTS, Swatch::Line));
        }
        if frame.window.is_some() {
            items.push(LegendItem::new("reporting window", WINDOW, Swatch::Fill));
        }
        if frame.detection.is_some() {
            items.push(LegendItem::new("canary alert", ALERT, Swatch::Dashed));
        }
        items
    }

    fn draw_top<DB: DrawingBackend>(&self, top: &DrawingArea<DB, Shift>, frame: &Frame) -> DrawResult<DB> {
        let items = self.top_legend(frame);
        let rows = legend_rows(top, &items, frame.plot_x0, frame.plot_x1)?;
        draw_legend(top, &items, frame.plot_x0, frame.plot_x1, 4)?;
        let area = top.margin((rows * LEGEND_ROW + 8) as u32, 0, SIDE, SIDE);

        let level_max = self
            .max_of(|b| b.capacity_primary)
            .max(self.max_of(|b| b.busy_primary))
            .max(self.max_of(|b| b.fallback_busy))
            .max(self.max_of(|b| b.waiting));
        let (_, y_top) = padded(0.0, level_max * 1.2);
        let (_, y2_top) = padded(0.0, self.max_of(arrivals_per_s).max(self.max_of(attempts_per_s)) * 1.2);

        let mut chart = ChartBuilder::on(&area)
            .x_label_area_size(30)
            .y_label_area_size(Y_AREA)
            .right_y_label_area_size(RIGHT_AREA)
            .build_cartesian_2d(frame.x_axis(), 0f64..y_top)?
            .set_secondary_coord(frame.x_axis(), 0f64..y2_top);
        shade_window(&mut chart, frame, y_top)?;
        let x_fmt = |x: &f64| frame.clock(*x);
        chart
            .configure_mesh()
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&axis_label)
            .y_desc("calls in progress")
            .label_style(font(13))
            .axis_desc_style(font(14))
            .bold_line_style(GRID)
            .max_light_lines(0)
            .axis_style(MUTED)
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_desc("arrivals per second")
            .y_label_formatter(&axis_label)
            .label_style(font(13))
            .axis_desc_style(font(14))
            .axis_style(MUTED)
            .draw()?;

        self.draw_levels(&mut chart)?;
        chart.draw_secondary_series(DashedLineSeries::new(
            self.points(arrivals_per_s),
            7,
            4,
            ARRIVALS.stroke_width(2),
        ))?;
        if self.attempts {
            chart.draw_secondary_series(LineSeries::new(self.points(attempts_per_s), ATTEMPTS.stroke_width(2)))?;
        }
        label_window(&mut chart, frame, y_top)?;
        mark_alert(&mut chart, frame, y_top)
    }

    /// Busy slots (filled), waiting calls, fallback busy and capacity.
    fn draw_levels<DB: DrawingBackend>(&self, chart: &mut Chart<'_, DB>) -> DrawResult<DB> {
        chart.draw_series(
            AreaSeries::new(self.points(|b| b.busy_primary), 0.0, BUSY.mix(0.28)).border_style(BUSY.stroke_width(2)),
        )?;
        if self.show_waiting() {
            chart.draw_series(LineSeries::new(self.points(|b| b.waiting), WAITING.stroke_width(2)))?;
        }
        if self.show_fallback() {
            chart.draw_series(LineSeries::new(self.points(|b| b.fallback_busy), FALLBACK_BUSY.stroke_width(2)))?;
        }
        chart.draw_series(LineSeries::new(self.points(|b| b.capacity_primary), CAPACITY.stroke_width(3)))?;
        Ok(())
    }

    // ---- bottom panel: failures per bin by reason ----

    fn draw_bottom<DB: DrawingBackend>(&self, bottom: &DrawingArea<DB, Shift>, frame: &Frame) -> DrawResult<DB> {
        let totals = self.fail_totals();
        let shown: Vec<usize> = (0..5).filter(|&k| totals[k] > 0.0).collect();
        let items: Vec<LegendItem> = shown
            .iter()
            .map(|&k| {
                LegendItem::new(format!("{}: {}", FAIL_NAMES[k], count_label(totals[k])), FAIL_COLORS[k], Swatch::Fill)
            })
            .collect();
        let rows = legend_rows(bottom, &items, frame.plot_x0, frame.plot_x1)?.max(1);
        draw_legend(bottom, &items, frame.plot_x0, frame.plot_x1, 6)?;
        let area = bottom.margin((rows * LEGEND_ROW + 10) as u32, 8, SIDE, SIDE);

        let stack_max = self.max_of(|b| failed(b).iter().filter(|v| v.is_finite()).sum());
        let (_, y_bot) = padded(0.0, stack_max * 1.12);
        let mut chart = ChartBuilder::on(&area)
            .x_label_area_size(52)
            .y_label_area_size(Y_AREA)
            .margin_right(RIGHT_AREA)
            .build_cartesian_2d(frame.x_axis(), 0f64..y_bot)?;
        shade_window(&mut chart, frame, y_bot)?;
        let x_fmt = |x: &f64| frame.clock(*x);
        chart
            .configure_mesh()
            .x_label_formatter(&x_fmt)
            .x_desc(format!("clock time (t = 0 at {})", frame.clock(0.0)))
            .y_desc(format!("failed calls per {} bin", self.bin_label))
            .y_label_formatter(&axis_label)
            .label_style(font(13))
            .axis_desc_style(font(14))
            .bold_line_style(GRID)
            .max_light_lines(0)
            .axis_style(MUTED)
            .draw()?;
        chart.draw_series(self.failure_bars(&shown))?;
        if shown.is_empty() {
            let msg = if self.bins.is_empty() { "no runs" } else { "no failed calls" };
            chart.draw_series(std::iter::once(
                EmptyElement::at((frame.dur / 2.0, y_bot / 2.0))
                    + Text::new(msg, (0, 0), font(16).color(&MUTED).pos(Pos::new(HPos::Center, VPos::Center))),
            ))?;
        }
        if let Some((t, _, _)) = frame.detection {
            chart.draw_series(DashedLineSeries::new(vec![(t, 0.0), (t, y_bot)], 6, 4, ALERT.stroke_width(2)))?;
        }
        Ok(())
    }

    /// Stacked bars per bin of the categories in `shown`, in that order.
    fn failure_bars(&self, shown: &[usize]) -> Vec<Rectangle<(f64, f64)>> {
        let mut bars = Vec::new();
        for b in &self.bins {
            let (t0, t1) = (b.start_s(), b.end_s());
            let gap = (t1 - t0) * 0.08;
            let f = failed(b);
            let mut base = 0.0;
            for &k in shown {
                let v = f[k];
                if v.is_finite() && v > 0.0 {
                    bars.push(Rectangle::new([(t0 + gap, base), (t1 - gap, base + v)], FAIL_COLORS[k].filled()));
                    base += v;
                }
            }
        }
        bars
    }
}

/// Shades the reporting window up to `y_top`.
fn shade_window<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, frame: &Frame, y_top: f64) -> DrawResult<DB> {
    if let Some((a, b)) = frame.window {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(a.max(0.0), 0.0), (b.min(frame.dur), y_top)],
            WINDOW.filled(),
        )))?;
    }
    Ok(())
}

/// Names the reporting window at the top of its shading.
fn label_window<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, frame: &Frame, y_top: f64) -> DrawResult<DB> {
    if let Some((a, b)) = frame.window {
        let label = format!("reporting window {}–{}", frame.clock(a), frame.clock(b));
        chart.draw_series(std::iter::once(
            EmptyElement::at((a.max(0.0), y_top)) + Text::new(label, (6, 6), font(13).color(&WINDOW_TEXT)),
        ))?;
    }
    Ok(())
}

/// A dashed line at the canary alert, labelled on the side with more room.
fn mark_alert<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, frame: &Frame, y_top: f64) -> DrawResult<DB> {
    let Some((t, hits, runs)) = frame.detection else { return Ok(()) };
    chart.draw_series(DashedLineSeries::new(vec![(t, 0.0), (t, y_top)], 6, 4, ALERT.stroke_width(2)))?;
    let at = clock_label(frame.clock_start + t, true);
    let what = if runs > 1 {
        format!("canary alert {at} (mean; {hits} of {runs} runs)")
    } else {
        format!("canary alert {at}")
    };
    let right = t < frame.dur * 0.7;
    let style = if right { font(13) } else { font(13).pos(Pos::new(HPos::Right, VPos::Top)) };
    let dx = if right { 6 } else { -6 };
    chart.draw_series(std::iter::once(EmptyElement::at((t, y_top)) + Text::new(what, (dx, 26), style)))?;
    Ok(())
}

impl Figure for Timeline {
    fn size(&self) -> (u32, u32) {
        (1280, 860)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let (w, _) = root.dim_in_pixel();
        let (header, body) = root.split_vertically(HEADER);
        draw_header(&header, &self.title, &self.subtitle)?;
        let body_h = body.dim_in_pixel().1;
        let (top, bottom) = body.split_vertically((body_h as f64 * 0.58) as u32);
        let frame = self.frame(w);
        self.draw_top(&top, &frame)?;
        self.draw_bottom(&bottom, &frame)
    }
}
