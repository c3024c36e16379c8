//! `[arrivals]`: which process, and for Poisson its rate (a constant, a
//! schedule of points and ramps, or a rate file) plus an optional spike;
//! MMPP states; Hawkes parameters. Traces are checked in [`super::trace`].

use super::columns::{Columns, Dialect};
use super::ctx::{Ctx, R};
use super::dist::validate_dist;
use crate::arrivals::family::{schedule_rate, spike_rate, Base, Param, SchedulePoint, SpikeParams, SurgeFamily};
use crate::arrivals::{ArrivalSpec, Hawkes, Mmpp, RateFn, Segment};
use crate::scenario::raw::{RawArrivals, RawDist, RawNum, RawRate, RawRatePoint, RawSpike};
use crate::time::{parse_duration, Tick, TimeParseError};

const KINDS: &str = "expected \"poisson\", \"trace\", \"mmpp\" or \"hawkes\"";

/// The fields each kind accepts (besides `kind`).
fn allowed(kind: &str) -> &'static [&'static str] {
    match kind {
        "poisson" => &["rate", "spike", "rate_file", "interpolate"],
        "trace" => &["file", "sort", "origin", "scale", "shift"],
        "mmpp" => &["states"],
        "hawkes" => &["base_per_s", "branching", "decay"],
        _ => &[],
    }
}

pub(super) fn validate_arrivals(
    cx: &Ctx,
    a: &RawArrivals,
    duration: Tick,
    warmup: Tick,
    classes: &[String],
    warnings: &mut Vec<String>,
) -> R<(ArrivalSpec, Option<SurgeFamily>)> {
    let given = [
        ("rate", a.rate.is_some()),
        ("spike", a.spike.is_some()),
        ("rate_file", a.rate_file.is_some()),
        ("interpolate", a.interpolate.is_some()),
        ("file", a.file.is_some()),
        ("sort", a.sort.is_some()),
        ("origin", a.origin.is_some()),
        ("scale", a.scale.is_some()),
        ("shift", a.shift.is_some()),
        ("states", a.states.is_some()),
        ("base_per_s", a.base_per_s.is_some()),
        ("branching", a.branching.is_some()),
        ("decay", a.decay.is_some()),
    ];
    let ok = allowed(&a.kind);
    if ok.is_empty() {
        return cx.err("arrivals.kind", format!("{:?}: {KINDS}", a.kind));
    }
    if let Some((k, _)) = given.iter().find(|(k, g)| *g && !ok.contains(k)) {
        return cx.err(
            format!("arrivals.{k}"),
            format!("does not apply to kind = {:?}: expected {}", a.kind, ok.join(", ")),
        );
    }
    let spec = match a.kind.as_str() {
        "poisson" => return poisson(cx, a, duration),
        "trace" => super::trace::trace(cx, a, duration, warmup, classes, warnings),
        "mmpp" => {
            let states = a.states.as_deref().unwrap_or_default();
            if states.len() < 2 {
                return cx.err("arrivals.states", "an MMPP needs at least two states [{ per_s, mean_sojourn }, …]");
            }
            let mut out = Vec::new();
            for (i, s) in states.iter().enumerate() {
                let rate = cx.finite(&format!("arrivals.states[{i}].per_s"), s.per_s, 0.0, MAX_RATE)?;
                let soj = cx.positive_dur(&format!("arrivals.states[{i}].mean_sojourn"), s.mean_sojourn)?;
                out.push((rate, soj.as_secs_f64()));
            }
            let m = Mmpp { states: out };
            if m.mean_rate() <= 0.0 {
                return cx.err("arrivals.states", "every state has rate 0: no call would arrive");
            }
            Ok(ArrivalSpec::Mmpp(m))
        }
        "hawkes" => {
            let need = |v: Option<f64>, k: &str| {
                v.map_or_else(|| cx.err(format!("arrivals.{k}"), format!("missing: a Hawkes process needs `{k}`")), Ok)
            };
            let base = cx.finite("arrivals.base_per_s", need(a.base_per_s, "base_per_s")?, 1e-9, MAX_RATE)?;
            let branching = cx.finite("arrivals.branching", need(a.branching, "branching")?, 0.0, 0.99)?;
            let decay = match a.decay {
                Some(d) => cx.positive_dur("arrivals.decay", d)?,
                None => return cx.err("arrivals.decay", "missing: a Hawkes process needs `decay`"),
            };
            Ok(ArrivalSpec::Hawkes(Hawkes { base, branching, decay_s: decay.as_secs_f64() }))
        }
        _ => unreachable!("kind checked above"),
    };
    Ok((spec?, None))
}

fn poisson(cx: &Ctx, a: &RawArrivals, duration: Tick) -> R<(ArrivalSpec, Option<SurgeFamily>)> {
    let mut drawn_schedule = None;
    let base = match (&a.rate, &a.rate_file) {
        (Some(_), Some(_)) => return cx.err("arrivals.rate_file", "give either `rate` or `rate_file`, not both"),
        (None, None) => {
            return cx
                .err("arrivals.rate", "missing: a Poisson process needs a rate (calls/s), a schedule or a rate_file")
        }
        (Some(RawRate::Constant(r)), None) => RateFn::constant(cx.finite("arrivals.rate", *r, 0.0, MAX_RATE)?),
        (Some(RawRate::Schedule(points)), None) => {
            let (rate, family) = rate_schedule(cx, points)?;
            drawn_schedule = family;
            rate
        }
        (None, Some(file)) => rate_file(cx, file, a.interpolate.as_deref())?,
    };
    if a.interpolate.is_some() && a.rate_file.is_none() {
        return cx.err("arrivals.interpolate", "applies only with rate_file");
    }
    let (rate, spike_params) = match &a.spike {
        None => (base.clone(), None),
        Some(s) => {
            let (extra, params) = spike(cx, s, &base)?;
            (base.add(&extra), params)
        }
    };
    if rate.integral(duration) <= 0.0 {
        return cx.err("arrivals.rate", "the rate is zero over the whole run: no call would arrive");
    }
    // A family only when some field is drawn: plain scenarios draw nothing.
    let family = match (drawn_schedule, spike_params) {
        (None, None) => None,
        (schedule, spike) => {
            let spike = match (spike, &a.spike) {
                (Some(p), _) => Some(p),
                (None, Some(s)) => Some(fixed_spike(s)),
                (None, None) => None,
            };
            Some(SurgeFamily { base: schedule.map_or(Base::Fixed(base), Base::Schedule), spike })
        }
    };
    Ok((ArrivalSpec::Poisson(rate), family))
}

/// A number or a distribution at `field`, drawn values clipped to [lo, hi].
fn param(cx: &Ctx, field: &str, v: &RawNum, lo: f64, hi: f64) -> R<Param> {
    match v {
        RawNum::Plain(x) => Ok(Param::Fixed(cx.finite(field, *x, lo, hi)?)),
        RawNum::Table(t) => drawn(cx, field, &RawDist::Table(t.clone()), lo, hi),
    }
}

fn drawn(cx: &Ctx, field: &str, d: &RawDist, lo: f64, hi: f64) -> R<Param> {
    let dist = validate_dist(cx, field, d)?;
    Ok(Param::Drawn { field: field.to_string(), dist, lo, hi })
}

/// A duration or a distribution of durations at `field`, in seconds.
fn dur_param(cx: &Ctx, field: &str, d: Option<&RawDist>) -> R<Param> {
    const YEAR_S: f64 = 365.0 * 86_400.0;
    match d {
        None => Ok(Param::Fixed(0.0)),
        Some(RawDist::Fixed(t)) => Ok(Param::Fixed(t.0.as_secs_f64())),
        Some(table) => drawn(cx, field, table, 0.0, YEAR_S),
    }
}

/// The spike of a family whose drawn fields are all in the schedule.
fn fixed_spike(s: &RawSpike) -> SpikeParams {
    let secs = |d: Option<&RawDist>| match d {
        Some(RawDist::Fixed(t)) => t.0.as_secs_f64(),
        _ => 0.0,
    };
    SpikeParams {
        at: Param::Fixed(secs(Some(&s.at))),
        multiplier: Param::Fixed(match s.multiplier {
            RawNum::Plain(m) => m,
            RawNum::Table(_) => 1.0,
        }),
        ramp: Param::Fixed(secs(s.ramp.as_ref())),
        hold: Param::Fixed(secs(Some(&s.hold))),
        decay: Param::Fixed(secs(s.decay.as_ref())),
    }
}

/// Highest arrival rate, in calls/s, anywhere a rate is given.
pub const MAX_RATE: f64 = 1e9;

/// Most points a rate file may hold.
pub const MAX_RATE_POINTS: usize = 1_000_000;

fn rate_file(cx: &Ctx, file: &str, interpolate: Option<&str>) -> R<RateFn> {
    let linear = match interpolate {
        None | Some("step") => false,
        Some("linear") => true,
        Some(o) => return cx.err("arrivals.interpolate", format!("{o:?}: expected \"step\" or \"linear\"")),
    };
    let full = cx.base.join(file);
    let shown = full.display().to_string();
    let fail = |msg: String| cx.invalid("arrivals.rate_file", format!("{shown}: {msg}"));
    let mut cols = Columns::open(&full, Dialect::Table).map_err(fail)?;
    let (Some(tc), Some(rc)) = (cols.find(&["t_s", "t", "at", "time"]), cols.find(&["per_s", "rate"])) else {
        return Err(fail("expected columns t_s and per_s in the header (line 1)".into()));
    };
    let mut pts: Vec<(Tick, f64)> = Vec::new();
    while cols.next().map_err(fail)? {
        let line = cols.line();
        if pts.len() == MAX_RATE_POINTS {
            return Err(fail(format!("line {line}: more than {MAX_RATE_POINTS} rate points")));
        }
        // A rate file is not a scenario file: messages quote nothing of it.
        let t = cols.cell(tc, "the time").map_err(fail)?;
        let t = match (t.parse::<f64>(), parse_duration(t)) {
            (Ok(v), _) if (0.0..1e11).contains(&v) => Tick::from_secs_f64(v),
            (Ok(v), _) if v >= 1e11 => {
                return Err(fail(format!("line {line}: the time is out of range: expected under 10^11 seconds")))
            }
            (_, Ok(d)) => d,
            (_, Err(TimeParseError::OutOfRange(_))) => {
                return Err(fail(format!("line {line}: the time is out of range: expected under 10^11 seconds")))
            }
            _ => {
                return Err(fail(format!("line {line}: the time: expected seconds >= 0 or a duration such as \"90s\"")))
            }
        };
        let r = cols.cell(rc, "the rate").map_err(fail)?;
        let r = match r.parse::<f64>() {
            Ok(v) if (0.0..=MAX_RATE).contains(&v) => v,
            Ok(v) if v > MAX_RATE => {
                return Err(fail(format!("line {line}: the rate is above the limit of {MAX_RATE:e} calls/s")))
            }
            _ => return Err(fail(format!("line {line}: the rate: expected a finite number of calls/s >= 0"))),
        };
        if pts.is_empty() && t != Tick::ZERO {
            return Err(fail(format!("line {line}: the first point must be at time 0")));
        }
        if pts.last().is_some_and(|&(p, _)| p >= t) {
            return Err(fail(format!("line {line}: times must increase")));
        }
        pts.push((t, r));
    }
    if pts.is_empty() {
        return Err(fail("no rate points: expected a header t_s,per_s and at least one row".into()));
    }
    let segs = pts
        .iter()
        .enumerate()
        .map(|(i, &(t, r))| {
            let slope = match (linear, pts.get(i + 1)) {
                (true, Some(&(t2, r2))) => (r2 - r) / (t2.0 - t.0) as f64 * 1e6,
                _ => 0.0,
            };
            Segment { start: t, rate: r, slope }
        })
        .collect();
    Ok(RateFn::from_segments(segs))
}

/// The schedule's rate (drawn rates at their means) and, when some rate is
/// drawn, the schedule of the family.
fn rate_schedule(cx: &Ctx, points: &[RawRatePoint]) -> R<(RateFn, Option<Vec<SchedulePoint<Param>>>)> {
    if points.is_empty() {
        return cx.err("arrivals.rate", "empty schedule: expected at least one { at = \"0s\", per_s = … }");
    }
    let mut params: Vec<SchedulePoint<Param>> = Vec::new();
    let mut prev_end = Tick::ZERO;
    let mut prev_start = None;
    for (i, p) in points.iter().enumerate() {
        let f = |name: &str| format!("arrivals.rate[{i}].{name}");
        let per_s = param(cx, &f("per_s"), &p.per_s, 0.0, MAX_RATE)?;
        if i == 0 && p.at.0 != Tick::ZERO {
            return cx.err(f("at"), format!("the first rate point is at {}: it must be at \"0s\"", p.at.0));
        }
        if i > 0 && p.at.0 < prev_end {
            return cx.err(
                f("at"),
                format!("{} is before the previous point ends ({prev_end}): points must be in time order", p.at.0),
            );
        }
        if i > 0 && p.at.0 == prev_end && prev_start == Some(p.at.0) {
            return cx.err(f("at"), format!("two rate points at {}", p.at.0));
        }
        let ramp = match (&p.to_per_s, p.over) {
            (None, None) => {
                prev_start = Some(p.at.0);
                prev_end = p.at.0;
                None
            }
            (Some(to), Some(over)) => {
                let to = param(cx, &f("to_per_s"), to, 0.0, MAX_RATE)?;
                let over = cx.positive_dur(&f("over"), over)?;
                let end = p.at.0.saturating_add(over);
                prev_start = Some(end);
                prev_end = end;
                Some((to, over))
            }
            _ => return cx.err(f("over"), "`to_per_s` and `over` go together: give both for a ramp, or neither"),
        };
        params.push(SchedulePoint { at: p.at.0, per_s, ramp });
    }
    let nominal: Vec<SchedulePoint<f64>> = params
        .iter()
        .map(|p| SchedulePoint {
            at: p.at,
            per_s: p.per_s.nominal(),
            ramp: p.ramp.as_ref().map(|(to, over)| (to.nominal(), *over)),
        })
        .collect();
    let any_drawn = params
        .iter()
        .any(|p| matches!(p.per_s, Param::Drawn { .. }) || matches!(p.ramp, Some((Param::Drawn { .. }, _))));
    Ok((schedule_rate(&nominal), any_drawn.then_some(params)))
}

/// The spike's extra rate (drawn fields at their means) and, when some
/// field is drawn, the spike of the family.
fn spike(cx: &Ctx, s: &RawSpike, base: &RateFn) -> R<(RateFn, Option<SpikeParams>)> {
    let f = |k: &str| format!("arrivals.spike.{k}");
    let params = SpikeParams {
        at: dur_param(cx, &f("at"), Some(&s.at))?,
        multiplier: param(cx, &f("multiplier"), &s.multiplier, 1.0, 1e6)?,
        ramp: dur_param(cx, &f("ramp"), s.ramp.as_ref())?,
        hold: dur_param(cx, &f("hold"), Some(&s.hold))?,
        decay: dur_param(cx, &f("decay"), s.decay.as_ref())?,
    };
    let all = [&params.at, &params.multiplier, &params.ramp, &params.hold, &params.decay];
    if !all.iter().any(|p| matches!(p, Param::Drawn { .. })) {
        // Plain values: their exact ticks, as written.
        let t = |d: Option<&RawDist>| match d {
            Some(RawDist::Fixed(t)) => t.0,
            _ => Tick::ZERO,
        };
        let m = params.multiplier.nominal();
        let extra = spike_rate(base, t(Some(&s.at)), m, t(s.ramp.as_ref()), t(Some(&s.hold)), t(s.decay.as_ref()));
        return Ok((extra, None));
    }
    let secs = |p: &Param| Tick::from_secs_f64(p.nominal());
    let extra = spike_rate(
        base,
        secs(&params.at),
        params.multiplier.nominal(),
        secs(&params.ramp),
        secs(&params.hold),
        secs(&params.decay),
    );
    Ok((extra, Some(params)))
}
