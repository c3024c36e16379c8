//! The timeline's x axis: seconds after t = 0, ticked and labelled at round
//! clock times (`06:30`, `07:00`…, with `+Nd` on later days).

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;

/// `"1 min"`, `"30 s"`, `"2 h"`…
pub(super) fn span_label(secs: f64) -> String {
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
pub(super) fn clock_label(secs: f64, with_seconds: bool) -> String {
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
pub(super) fn clock_ticks(clock_start: f64, duration: f64, max_ticks: usize) -> (Vec<f64>, bool) {
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
pub(super) struct ClockAxis {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl ClockAxis {
    /// `0..duration` ticked at `ticks`.
    pub(super) fn new(duration: f64, ticks: Vec<f64>) -> ClockAxis {
        ClockAxis { inner: (0f64..duration).into(), ticks }
    }
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
