//! Plots: the incident timeline (`timeline.svg` / `timeline.png`) and
//! headroom curves with confidence bands (`headroom.svg` / `headroom.png`).
//!
//! Text is drawn with a bundled DejaVu Sans (plotters' `ab_glyph` feature),
//! so the PNGs are legible on machines with no fonts installed; the SVGs
//! carry their text as `<text>` elements. Each file is rendered to a
//! temporary sibling and renamed into place, so a failed draw never leaves a
//! half-written picture under the final name.
//!
//! Odd data never panics: NaN and infinite values are skipped, empty inputs
//! give empty axes with a note, and degenerate ranges are padded.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};

use crate::experiment::Aggregate;
use crate::observe::REASONS;
use crate::scenario::Scenario;
use crate::time::TICKS_PER_SEC;

/// DejaVu Sans (see `fonts/LICENSE`), registered for every family name.
static FONT: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
const SANS: &str = "sans-serif";

/// A plot that could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw {path}: {message}")]
pub struct PlotError {
    /// The file being written.
    pub path: String,
    /// The plotters (or file system) error text.
    pub message: String,
}

impl PlotError {
    fn new(path: &Path, message: impl ToString) -> PlotError {
        PlotError { path: path.display().to_string(), message: message.to_string() }
    }
}

/// One point of a curve: a mean and its confidence interval at `x`.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvePoint {
    pub x: f64,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// One labelled curve of a [`headroom`] plot.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<CurvePoint>,
}

// ---------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------

/// The incident timeline of `agg` (bins averaged over runs), as an SVG and
/// a PNG: capacity, busy slots and arrival rate on top; failures per bin by
/// reason below; the reporting window shaded and the canary alert marked.
pub fn timeline(sc: &Scenario, agg: &Aggregate, svg: &Path, png: &Path) -> Result<(), PlotError> {
    let fig = Timeline::from(sc, agg);
    save(&fig, svg, png)
}

/// Curves with shaded confidence bands (`lo..hi`) and markers, one per
/// series: failures vs provisioned headroom, survivable-surge frontiers.
pub fn headroom(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    svg: &Path,
    png: &Path,
) -> Result<(), PlotError> {
    let fig = Headroom::from(title, x_label, y_label, series);
    save(&fig, svg, png)
}

// ---------------------------------------------------------------------------
// Rendering to files
// ---------------------------------------------------------------------------

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Something drawable on any plotters backend.
trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

fn ensure_font() -> Result<(), String> {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok = *OK.get_or_init(|| {
        [SANS, "serif", "monospace"].iter().all(|family| register_font(family, FontStyle::Normal, FONT).is_ok())
    });
    if ok {
        Ok(())
    } else {
        Err("the bundled font could not be loaded".into())
    }
}

/// A fresh temporary name next to `path`, ending in `.ext`.
fn temp_sibling(path: &Path, ext: &str) -> PathBuf {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "plot".into());
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.partial-{}-{seq}.{ext}", std::process::id()))
}

fn save<F: Figure>(fig: &F, svg: &Path, png: &Path) -> Result<(), PlotError> {
    ensure_font().map_err(|e| PlotError::new(svg, e))?;
    write_svg(fig, svg)?;
    write_png(fig, png)
}

fn write_svg<F: Figure>(fig: &F, path: &Path) -> Result<(), PlotError> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, fig.size()).into_drawing_area();
        fig.draw(&root).map_err(|e| PlotError::new(path, e))?;
        root.present().map_err(|e| PlotError::new(path, e))?;
    }
    let tmp = temp_sibling(path, "svg");
    let result = fs::write(&tmp, text.as_bytes()).and_then(|()| fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        PlotError::new(path, e)
    })
}

fn write_png<F: Figure>(fig: &F, path: &Path) -> Result<(), PlotError> {
    // The bitmap backend picks the encoder from the extension: render to a
    // `.png` sibling whatever the target is called, then rename.
    let tmp = temp_sibling(path, "png");
    let drawn = (|| {
        let root = BitMapBackend::new(&tmp, fig.size()).into_drawing_area();
        fig.draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())
    })();
    let result = drawn.and_then(|()| fs::rename(&tmp, path).map_err(|e| e.to_string()));
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        PlotError::new(path, e)
    })
}

// ---------------------------------------------------------------------------
// Shared drawing helpers
// ---------------------------------------------------------------------------

const INK: RGBColor = RGBColor(33, 33, 33);
const MUTED: RGBColor = RGBColor(96, 96, 96);
const GRID: RGBColor = RGBColor(226, 226, 226);
const LEGEND_ROW: i32 = 24;

fn font(size: u32) -> TextStyle<'static> {
    TextStyle::from((SANS, size as f64).into_font()).color(&INK)
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// `(lo, hi)` widened so it is never empty: a degenerate range is padded
/// around its value, and `(0, 1)` stands in for no data.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() || lo > hi {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= f64::EPSILON * hi.abs().max(lo.abs()).max(1.0) {
        let pad = (hi.abs() * 0.1).max(1.0);
        return (lo - pad, hi + pad);
    }
    (lo, hi)
}

#[derive(Clone, Copy)]
enum Swatch {
    Line,
    Dashed,
    Fill,
    FillLine,
    LineMarker,
}

struct LegendItem {
    label: String,
    color: RGBColor,
    swatch: Swatch,
}

impl LegendItem {
    fn new(label: impl Into<String>, color: RGBColor, swatch: Swatch) -> LegendItem {
        LegendItem { label: label.into(), color, swatch }
    }
}

const SWATCH_W: i32 = 28;

/// Positions `(x, row)` of the legend items laid out left to right from
/// `x0`, wrapping before `x1`.
fn legend_layout<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
    x0: i32,
    x1: i32,
) -> Result<Vec<(i32, i32)>, DrawingAreaErrorKind<DB::ErrorType>> {
    let style = font(14);
    let mut out = Vec::with_capacity(items.len());
    let (mut x, mut row) = (x0, 0);
    for it in items {
        let (w, _) = area.estimate_text_size(&it.label, &style)?;
        let width = SWATCH_W + 6 + w as i32;
        if x > x0 && x + width > x1 {
            x = x0;
            row += 1;
        }
        out.push((x, row));
        x += width + 24;
    }
    Ok(out)
}

fn legend_rows<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
    x0: i32,
    x1: i32,
) -> Result<i32, DrawingAreaErrorKind<DB::ErrorType>> {
    Ok(legend_layout(area, items, x0, x1)?.last().map_or(0, |&(_, r)| r + 1))
}

/// Draws the legend in rows of [`LEGEND_ROW`] pixels starting at `y0`.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
    x0: i32,
    x1: i32,
    y0: i32,
) -> DrawResult<DB> {
    let layout = legend_layout(area, items, x0, x1)?;
    let style = font(14).pos(Pos::new(HPos::Left, VPos::Center));
    for (it, &(x, row)) in items.iter().zip(&layout) {
        let yc = y0 + row * LEGEND_ROW + LEGEND_ROW / 2;
        let c = it.color;
        match it.swatch {
            Swatch::Line => area.draw(&PathElement::new(vec![(x, yc), (x + SWATCH_W, yc)], c.stroke_width(3)))?,
            Swatch::Dashed => {
                area.draw(&DashedPathElement::new(vec![(x, yc), (x + SWATCH_W, yc)], 6, 4, c.stroke_width(2)))?
            }
            Swatch::Fill => area.draw(&Rectangle::new([(x, yc - 7), (x + SWATCH_W, yc + 7)], c.filled()))?,
            Swatch::FillLine => {
                area.draw(&Rectangle::new([(x, yc - 7), (x + SWATCH_W, yc + 7)], c.mix(0.3).filled()))?;
                area.draw(&PathElement::new(vec![(x, yc - 7), (x + SWATCH_W, yc - 7)], c.stroke_width(2)))?;
            }
            Swatch::LineMarker => {
                area.draw(&Rectangle::new([(x, yc - 6), (x + SWATCH_W, yc + 6)], c.mix(0.18).filled()))?;
                area.draw(&PathElement::new(vec![(x, yc), (x + SWATCH_W, yc)], c.stroke_width(2)))?;
                area.draw(&Circle::new((x + SWATCH_W / 2, yc), 4, c.filled()))?;
            }
        }
        area.draw(&Text::new(it.label.clone(), (x + SWATCH_W + 6, yc), style.clone()))?;
    }
    Ok(())
}

fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max_chars.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Draws a title and a grey subtitle in the top `HEADER` pixels.
fn draw_header<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, title: &str, subtitle: &str) -> DrawResult<DB> {
    area.draw(&Text::new(title.to_string(), (24, 12), font(24)))?;
    if !subtitle.is_empty() {
        area.draw(&Text::new(subtitle.to_string(), (24, 44), font(14).color(&MUTED)))?;
    }
    Ok(())
}

const HEADER: u32 = 70;

// ---------------------------------------------------------------------------
// Timeline
// ---------------------------------------------------------------------------

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

/// One bin, averaged over runs.
struct Row {
    t0: f64,
    t1: f64,
    capacity: f64,
    busy: f64,
    fallback_busy: f64,
    waiting: f64,
    arrivals_per_s: f64,
    failed: [f64; 5],
}

struct Timeline {
    title: String,
    subtitle: String,
    clock_start: f64,
    duration: f64,
    bin_label: String,
    rows: Vec<Row>,
    window: Option<(f64, f64)>,
    /// Mean alert time, runs that alerted, runs.
    detection: Option<(f64, usize, usize)>,
}

/// `"1 min"`, `"30 s"`, `"2 h"`…
fn span_label(secs: f64) -> String {
    if secs >= 3600.0 && (secs / 3600.0).fract() == 0.0 {
        format!("{} h", secs / 3600.0)
    } else if secs >= 60.0 && (secs / 60.0).fract() == 0.0 {
        format!("{} min", secs / 60.0)
    } else {
        format!("{} s", crate::report::sig(secs, 3))
    }
}

/// Clock label of `secs` after midnight: `HH:MM`, or `HH:MM:SS`; later days
/// get a `+Nd` suffix.
fn clock_label(secs: f64, with_seconds: bool) -> String {
    let s = if secs.is_finite() { secs.max(0.0).round() as u64 } else { 0 };
    let (day, s) = (s / 86_400, s % 86_400);
    let mut out = if with_seconds {
        format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 3600, (s / 60) % 60)
    };
    if day > 0 {
        out.push_str(&format!(" +{day}d"));
    }
    out
}

/// Tick positions (seconds after t = 0) at round clock times, at most
/// about `max_ticks` of them, and whether labels need seconds.
fn clock_ticks(clock_start: f64, duration: f64, max_ticks: usize) -> (Vec<f64>, bool) {
    const STEPS: [f64; 18] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0,
        43200.0, 86400.0,
    ];
    let max = max_ticks.max(2) as f64;
    let step = STEPS
        .iter()
        .copied()
        .find(|s| duration / s <= max)
        .unwrap_or_else(|| (duration / max / 86400.0).ceil().max(1.0) * 86400.0);
    let first = (clock_start / step).ceil() * step - clock_start;
    let ticks: Vec<f64> =
        (0..=max_ticks * 2 + 2).map(|k| first + k as f64 * step).take_while(|&x| x <= duration + 1e-6).collect();
    (ticks, step < 60.0)
}

/// Seconds after t = 0 with ticks at round clock times (plotters'
/// `WithKeyPoints` over an f64 axis cannot take a label formatter).
#[derive(Clone)]
struct ClockAxis {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ranged for ClockAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

impl Timeline {
    fn from(sc: &Scenario, agg: &Aggregate) -> Timeline {
        let runs = agg.runs.len();
        let n = runs.max(1) as f64;
        let tick = TICKS_PER_SEC as f64;
        let duration = (sc.duration.0 as f64 / tick).max(0.0);
        let bin = sc.bin.0.max(1);
        let end = sc.duration.0;
        let rows: Vec<Row> = agg
            .bin_sums()
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let t0 = (i as u64).saturating_mul(bin).min(end);
                let t1 = t0.saturating_add(bin).min(end);
                let span = ((t1 - t0) as f64 / tick).max(f64::MIN_POSITIVE);
                let avg = |area: u128| area as f64 / tick / span / n;
                let c = &b.counts;
                let mut failed = [0.0; 5];
                for (f, r) in failed.iter_mut().zip(REASONS) {
                    *f = c.failed_by[r as usize] as f64 / n;
                }
                failed[4] = c.abandoned as f64 / n;
                Row {
                    t0: t0 as f64 / tick,
                    t1: t1 as f64 / tick,
                    capacity: avg(b.areas.capacity_primary),
                    busy: avg(b.areas.busy_primary),
                    fallback_busy: avg(b.areas.fallback_busy),
                    waiting: avg(b.areas.waiting),
                    arrivals_per_s: c.arrived as f64 / n / span,
                    failed,
                }
            })
            .collect();
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
            duration,
            bin_label: span_label(bin as f64 / tick),
            rows,
            window,
            detection,
        }
    }

    /// Line points at bin midpoints, extended flat to both ends of the axis.
    fn points(&self, f: impl Fn(&Row) -> f64) -> Vec<(f64, f64)> {
        let mut pts: Vec<(f64, f64)> =
            self.rows.iter().filter_map(|r| finite(f(r)).map(|v| ((r.t0 + r.t1) / 2.0, v))).collect();
        if let (Some(&(_, first)), Some(&(_, last))) = (pts.first(), pts.last()) {
            pts.insert(0, (0.0, first));
            pts.push((self.duration, last));
        }
        pts
    }

    fn max_of(&self, f: impl Fn(&Row) -> f64) -> f64 {
        self.rows.iter().filter_map(|r| finite(f(r))).fold(0.0, f64::max)
    }

    /// Mean totals per failure category.
    fn fail_totals(&self) -> [f64; 5] {
        let mut t = [0.0; 5];
        for r in &self.rows {
            for (a, v) in t.iter_mut().zip(r.failed) {
                *a += v;
            }
        }
        t
    }
}

/// Axis tick label: 4 significant digits, no trailing zeros; M and G
/// suffixes for millions and billions.
fn axis_label(v: &f64) -> String {
    let v = if v.abs() < 1e-12 { 0.0 } else { *v };
    let sig = |x: f64| crate::report::sig(x, 4);
    match v.abs() {
        a if a >= 1e9 => format!("{}G", sig(v / 1e9)),
        a if a >= 1e6 => format!("{}M", sig(v / 1e6)),
        _ => sig(v),
    }
}

fn count_label(v: f64) -> String {
    if v >= 100.0 || v == v.trunc() {
        let n = v.round() as i64;
        // Thousands separators for legibility.
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

        let dur = if self.duration > 0.0 { self.duration } else { 1.0 };
        let (ticks, with_seconds) = clock_ticks(self.clock_start, dur, 12);
        let clock_start = self.clock_start;
        let x_fmt = move |x: &f64| clock_label(clock_start + x, with_seconds);
        let x_range = || ClockAxis { inner: (0f64..dur).into(), ticks: ticks.clone() };

        const Y_AREA: u32 = 84;
        const RIGHT_AREA: u32 = 84;
        const SIDE: u32 = 12;
        let plot_x0 = (SIDE + Y_AREA) as i32;
        let plot_x1 = w as i32 - (SIDE + RIGHT_AREA) as i32;

        let has_window = self.window.is_some_and(|(a, b)| b > a && a < dur && b > 0.0);
        let detection = self.detection.filter(|&(t, _, _)| (0.0..=dur).contains(&t));

        // ---- top panel: capacity, busy, arrival rate ----
        let show_fallback = self.max_of(|r| r.fallback_busy) > 0.0;
        let show_waiting = self.max_of(|r| r.waiting) > 0.0;
        let mut items = vec![
            LegendItem::new("primary capacity (slots)", CAPACITY, Swatch::Line),
            LegendItem::new("busy primary slots", BUSY, Swatch::FillLine),
        ];
        if show_fallback {
            items.push(LegendItem::new("fallback busy", FALLBACK_BUSY, Swatch::Line));
        }
        if show_waiting {
            items.push(LegendItem::new("waiting in queue", WAITING, Swatch::Line));
        }
        items.push(LegendItem::new("arrivals per second (right axis)", ARRIVALS, Swatch::Dashed));
        if has_window {
            items.push(LegendItem::new("reporting window", WINDOW, Swatch::Fill));
        }
        if detection.is_some() {
            items.push(LegendItem::new("canary alert", ALERT, Swatch::Dashed));
        }
        let rows = legend_rows(&top, &items, plot_x0, plot_x1)?;
        draw_legend(&top, &items, plot_x0, plot_x1, 4)?;
        let top_chart_area = top.margin((rows * LEGEND_ROW + 8) as u32, 0, SIDE, SIDE);

        let level_max = self
            .max_of(|r| r.capacity)
            .max(self.max_of(|r| r.busy))
            .max(self.max_of(|r| r.fallback_busy))
            .max(self.max_of(|r| r.waiting));
        let (_, y_top) = padded(0.0, level_max * 1.2);
        let (_, y2_top) = padded(0.0, self.max_of(|r| r.arrivals_per_s) * 1.2);

        let mut chart = ChartBuilder::on(&top_chart_area)
            .x_label_area_size(30)
            .y_label_area_size(Y_AREA)
            .right_y_label_area_size(RIGHT_AREA)
            .build_cartesian_2d(x_range(), 0f64..y_top)?
            .set_secondary_coord(x_range(), 0f64..y2_top);

        if let (true, Some((a, b))) = (has_window, self.window) {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(a.max(0.0), 0.0), (b.min(dur), y_top)],
                WINDOW.filled(),
            )))?;
        }
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

        chart.draw_series(
            AreaSeries::new(self.points(|r| r.busy), 0.0, BUSY.mix(0.28)).border_style(BUSY.stroke_width(2)),
        )?;
        if show_waiting {
            chart.draw_series(LineSeries::new(self.points(|r| r.waiting), WAITING.stroke_width(2)))?;
        }
        if show_fallback {
            chart.draw_series(LineSeries::new(self.points(|r| r.fallback_busy), FALLBACK_BUSY.stroke_width(2)))?;
        }
        chart.draw_series(LineSeries::new(self.points(|r| r.capacity), CAPACITY.stroke_width(3)))?;
        chart.draw_secondary_series(DashedLineSeries::new(
            self.points(|r| r.arrivals_per_s),
            7,
            4,
            ARRIVALS.stroke_width(2),
        ))?;

        if let (true, Some((a, b))) = (has_window, self.window) {
            let label = format!(
                "reporting window {}–{}",
                clock_label(clock_start + a, with_seconds),
                clock_label(clock_start + b, with_seconds)
            );
            chart.draw_series(std::iter::once(
                EmptyElement::at((a.max(0.0), y_top)) + Text::new(label, (6, 6), font(13).color(&WINDOW_TEXT)),
            ))?;
        }
        if let Some((t, hits, runs)) = detection {
            chart.draw_series(DashedLineSeries::new(vec![(t, 0.0), (t, y_top)], 6, 4, ALERT.stroke_width(2)))?;
            let what = if runs > 1 {
                format!("canary alert {} (mean; {hits} of {runs} runs)", clock_label(clock_start + t, true))
            } else {
                format!("canary alert {}", clock_label(clock_start + t, true))
            };
            // Label on the side of the line with more room.
            let right = t < dur * 0.7;
            let style = if right { font(13) } else { font(13).pos(Pos::new(HPos::Right, VPos::Top)) };
            let dx = if right { 6 } else { -6 };
            chart.draw_series(std::iter::once(EmptyElement::at((t, y_top)) + Text::new(what, (dx, 26), style)))?;
        }

        // ---- bottom panel: failures per bin by reason ----
        let totals = self.fail_totals();
        let shown: Vec<usize> = (0..5).filter(|&k| totals[k] > 0.0).collect();
        let items: Vec<LegendItem> = shown
            .iter()
            .map(|&k| {
                LegendItem::new(format!("{}: {}", FAIL_NAMES[k], count_label(totals[k])), FAIL_COLORS[k], Swatch::Fill)
            })
            .collect();
        let rows = legend_rows(&bottom, &items, plot_x0, plot_x1)?.max(1);
        draw_legend(&bottom, &items, plot_x0, plot_x1, 6)?;
        let bottom_chart_area = bottom.margin((rows * LEGEND_ROW + 10) as u32, 8, SIDE, SIDE);

        let stack_max = self.max_of(|r| r.failed.iter().filter(|v| v.is_finite()).sum());
        let (_, y_bot) = padded(0.0, stack_max * 1.12);
        let mut chart = ChartBuilder::on(&bottom_chart_area)
            .x_label_area_size(52)
            .y_label_area_size(Y_AREA)
            .margin_right(RIGHT_AREA)
            .build_cartesian_2d(x_range(), 0f64..y_bot)?;
        if let (true, Some((a, b))) = (has_window, self.window) {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(a.max(0.0), 0.0), (b.min(dur), y_bot)],
                WINDOW.filled(),
            )))?;
        }
        let x_desc = format!("clock time (t = 0 at {})", clock_label(clock_start, with_seconds));
        let y_desc = format!("failed calls per {} bin", self.bin_label);
        chart
            .configure_mesh()
            .x_label_formatter(&x_fmt)
            .x_desc(x_desc)
            .y_desc(y_desc)
            .y_label_formatter(&axis_label)
            .label_style(font(13))
            .axis_desc_style(font(14))
            .bold_line_style(GRID)
            .max_light_lines(0)
            .axis_style(MUTED)
            .draw()?;
        let mut bars = Vec::new();
        for r in &self.rows {
            let gap = (r.t1 - r.t0) * 0.08;
            let mut base = 0.0;
            for &k in &shown {
                let v = r.failed[k];
                if v.is_finite() && v > 0.0 {
                    bars.push(Rectangle::new([(r.t0 + gap, base), (r.t1 - gap, base + v)], FAIL_COLORS[k].filled()));
                    base += v;
                }
            }
        }
        chart.draw_series(bars)?;
        if shown.is_empty() {
            let msg = if self.rows.is_empty() { "no runs" } else { "no failed calls" };
            chart.draw_series(std::iter::once(
                EmptyElement::at((dur / 2.0, y_bot / 2.0))
                    + Text::new(msg, (0, 0), font(16).color(&MUTED).pos(Pos::new(HPos::Center, VPos::Center))),
            ))?;
        }
        if let Some((t, _, _)) = detection {
            chart.draw_series(DashedLineSeries::new(vec![(t, 0.0), (t, y_bot)], 6, 4, ALERT.stroke_width(2)))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Headroom curves
// ---------------------------------------------------------------------------

const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// A curve with its points cleaned: finite, sorted by x, `lo <= mean <= hi`.
struct Curve {
    label: String,
    points: Vec<CurvePoint>,
}

struct Headroom {
    title: String,
    x_label: String,
    y_label: String,
    curves: Vec<Curve>,
}

impl Headroom {
    fn from(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> Headroom {
        let curves = series
            .iter()
            .map(|s| {
                let mut points: Vec<CurvePoint> = s
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
                Curve { label: s.label.clone(), points }
            })
            .collect();
        Headroom { title: title.to_string(), x_label: x_label.to_string(), y_label: y_label.to_string(), curves }
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
        let items: Vec<LegendItem> = self
            .curves
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let label = if c.points.is_empty() { format!("{} (no data)", c.label) } else { c.label.clone() };
                LegendItem::new(label, PALETTE[i % PALETTE.len()], Swatch::LineMarker)
            })
            .collect();
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
            let color = PALETTE[i % PALETTE.len()];
            let p = &c.points;
            if p.len() >= 2 && p.iter().any(|q| q.hi > q.lo) {
                let band: Vec<(f64, f64)> =
                    p.iter().map(|q| (q.x, q.hi)).chain(p.iter().rev().map(|q| (q.x, q.lo))).collect();
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

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment;
    use crate::model::RunOptions;
    use crate::scenario;

    const SMALL: &str = r#"
        name = "plot-small"
        description = "a short surge against a broken fallback"
        clock_start = "06:50"
        duration = "20m"
        bin = "1m"
        window = "07:00..07:05"
        [arrivals]
        kind = "poisson"
        rate = 4.0
        spike = { at = "8m", multiplier = 3.0, ramp = "30s", hold = "5m", decay = "2m" }
        [[classes]]
        name = "short"
        share = 0.4
        duration = { dist = "exponential", mean = "40s" }
        fallback_eligible = true
        [[classes]]
        name = "long"
        share = 0.6
        duration = { dist = "exponential", mean = "2m" }
        [primary]
        workers = 20
        calls_per_worker = 10
        [primary.autoscaler]
        policy = "target-utilization"
        target = 0.7
        interval = "30s"
        provision_delay = "2m"
        min = 20
        max = 100
        [fallback]
        max_concurrency = 50
        cold_start = "2s"
        image_arch = "arm64"
        runtime_arch = "x86_64"
        [fallback.canary]
        interval = "1m"
    "#;

    fn load(text: &str) -> Scenario {
        scenario::load_str(text, "t.toml", Path::new("."), &[]).expect("valid scenario")
    }

    fn assert_pictures(svg: &Path, png: &Path, must_contain: &[&str]) {
        let s = fs::read_to_string(svg).expect("svg written");
        assert!(s.contains("<svg"), "not an SVG");
        for text in must_contain {
            assert!(s.contains(text), "SVG lacks {text:?}");
        }
        let p = fs::read(png).expect("png written");
        assert!(p.len() > 1000, "PNG too small: {} bytes", p.len());
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        // No temporary files left behind.
        let dir = svg.parent().unwrap();
        let leftovers: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".partial-"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    /// Where to keep pictures for a person to look at (`SURGESIM_PLOT_DIR`).
    fn keep_dir() -> Option<PathBuf> {
        let dir = PathBuf::from(std::env::var_os("SURGESIM_PLOT_DIR")?);
        fs::create_dir_all(&dir).ok()?;
        Some(dir)
    }

    #[test]
    fn timeline_writes_svg_and_png() {
        let sc = load(SMALL);
        let agg = experiment::run(&sc, 2, RunOptions::default());
        assert!(agg.mean("failed") > 0.0, "the scenario should fail calls");
        let dir = tempfile::TempDir::new().unwrap();
        let (svg, png) = (dir.path().join("timeline.svg"), dir.path().join("timeline.png"));
        timeline(&sc, &agg, &svg, &png).unwrap();
        assert_pictures(&svg, &png, &["plot-small", "07:00", "reporting window", "worker_not_available"]);
        if let Some(keep) = keep_dir() {
            timeline(&sc, &agg, &keep.join("small-timeline.svg"), &keep.join("small-timeline.png")).unwrap();
        }
    }

    #[test]
    fn timeline_without_failures_or_runs() {
        let sc = load(
            r#"
            name = "quiet"
            duration = "10m"
            [arrivals]
            kind = "poisson"
            rate = 1.0
            [[classes]]
            name = "all"
            share = 1.0
            duration = { dist = "exponential", mean = "10s" }
            [primary]
            workers = 100
        "#,
        );
        let dir = tempfile::TempDir::new().unwrap();
        let agg = experiment::run(&sc, 1, RunOptions::default());
        let (svg, png) = (dir.path().join("a.svg"), dir.path().join("a.png"));
        timeline(&sc, &agg, &svg, &png).unwrap();
        assert_pictures(&svg, &png, &["quiet", "no failed calls"]);
        // No runs at all: empty axes, no panic.
        let empty = Aggregate::new(&sc, Vec::new());
        let (svg, png) = (dir.path().join("b.svg"), dir.path().join("b"));
        timeline(&sc, &empty, &svg, &png).unwrap();
        assert_pictures(&svg, &png, &["quiet", "no runs"]);
    }

    #[test]
    fn unwritable_path_is_an_error_not_a_panic() {
        let sc = load(SMALL);
        let agg = Aggregate::new(&sc, Vec::new());
        let dir = tempfile::TempDir::new().unwrap();
        let missing = dir.path().join("no/such/dir");
        let err = timeline(&sc, &agg, &missing.join("t.svg"), &missing.join("t.png")).unwrap_err();
        assert!(err.path.ends_with("t.svg"), "{err}");
    }

    fn curve(label: &str, pts: &[(f64, f64, f64, f64)]) -> Series {
        Series {
            label: label.into(),
            points: pts.iter().map(|&(x, mean, lo, hi)| CurvePoint { x, mean, lo, hi }).collect(),
        }
    }

    #[test]
    fn headroom_writes_svg_and_png() {
        let series = vec![
            curve(
                "target 0.7",
                &[
                    (0.0, 900.0, 850.0, 950.0),
                    (10.0, 400.0, 360.0, 450.0),
                    (20.0, 80.0, 60.0, 100.0),
                    (30.0, 0.0, 0.0, 0.0),
                ],
            ),
            curve("target 0.5", &[(0.0, 500.0, 420.0, 580.0), (10.0, 120.0, 90.0, 150.0), (20.0, 5.0, 0.0, 12.0)]),
        ];
        let dir = tempfile::TempDir::new().unwrap();
        let (svg, png) = (dir.path().join("headroom.svg"), dir.path().join("headroom.png"));
        headroom("failures vs headroom", "extra workers (%)", "failed calls", &series, &svg, &png).unwrap();
        assert_pictures(&svg, &png, &["failures vs headroom", "target 0.7", "target 0.5", "failed calls"]);
        if let Some(keep) = keep_dir() {
            let (s, p) = (keep.join("headroom.svg"), keep.join("headroom.png"));
            headroom("failures vs provisioned headroom", "extra workers (%)", "failed calls", &series, &s, &p).unwrap();
        }
    }

    #[test]
    fn headroom_survives_odd_data() {
        let nan = f64::NAN;
        let cases: Vec<Vec<Series>> = vec![
            vec![],
            vec![curve("empty", &[])],
            vec![
                curve("empty", &[]),
                curve(
                    "nan",
                    &[(1.0, nan, 0.0, 1.0), (nan, 1.0, 0.0, 2.0), (2.0, 3.0, nan, f64::INFINITY), (3.0, 2.0, 1.0, 3.0)],
                ),
            ],
            vec![curve("all nan", &[(nan, nan, nan, nan)])],
            vec![curve("zeros", &[(0.0, 0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0)])],
            vec![curve("one point", &[(5.0, 7.0, 6.0, 8.0)])],
            vec![curve("same x", &[(5.0, 7.0, 6.0, 8.0), (5.0, 9.0, 9.0, 9.0)])],
            vec![curve("negative", &[(-3.0, -1e9, -2e9, -1.0), (1e-12, 4e9, 3e9, 5e9)])],
        ];
        let dir = tempfile::TempDir::new().unwrap();
        for (i, series) in cases.iter().enumerate() {
            let (svg, png) = (dir.path().join(format!("h{i}.svg")), dir.path().join(format!("h{i}.png")));
            headroom("odd", "x", "y", series, &svg, &png).unwrap();
            assert_pictures(&svg, &png, &["odd"]);
        }
        let s = fs::read_to_string(dir.path().join("h1.svg")).unwrap();
        assert!(s.contains("no data"));
    }

    /// Renders the bundled scenarios (and a few variants) and checks each
    /// picture. To keep them for a person to look at:
    /// `SURGESIM_PLOT_DIR=/tmp/surgesim-plots cargo test --lib report::plot`.
    #[test]
    fn bundled_scenario_pictures() {
        let tmp = tempfile::TempDir::new().unwrap();
        let keep = keep_dir().unwrap_or_else(|| tmp.path().to_path_buf());
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut texts: Vec<(String, String)> = Vec::new();
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                texts.push((stem, fs::read_to_string(&path).unwrap()));
            }
        }
        let incident = fs::read_to_string(dir.join("incident-2025-07-25.toml")).unwrap();
        let canary = "\n[fallback.canary]\ninterval = \"5m\"\non_detect = { primary_min = 600, after = \"2m\" }\n";
        texts.push(("incident-with-canary".into(), format!("{incident}{canary}")));
        let queued =
            SMALL.replace("duration = \"20m\"", "duration = \"6h\"").replace("bin = \"1m\"", "bin = \"5m\"").replace(
                "runtime_arch = \"x86_64\"",
                "runtime_arch = \"arm64\"\n[admission]\nmax_wait = \"20s\"\nqueue_limit = 40",
            );
        texts.push(("queued-6h".into(), queued));
        for (stem, text) in texts {
            let sc = scenario::load_str(&text, &stem, &dir, &[]).expect("bundled scenario");
            let agg = experiment::run(&sc, 2, RunOptions::default());
            let (svg, png) = (keep.join(format!("{stem}-timeline.svg")), keep.join(format!("{stem}-timeline.png")));
            timeline(&sc, &agg, &svg, &png).unwrap();
            assert_pictures(&svg, &png, &[&sc.name]);
        }
    }
}
