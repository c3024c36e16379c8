//! Families of surges: a Poisson rate whose spike fields (`at`,
//! `multiplier`, `ramp`, `hold`, `decay`) or schedule rates (`per_s`,
//! `to_per_s`) are distributions, drawn once per replication.
//!
//! # Streams
//! Each drawn field has its own random stream, named after the field
//! (`surge:arrivals.spike.multiplier`) and derived like every stream from
//! `(seed, replication)` ([`crate::rng::stream_named`]): replication `r`
//! draws the same surge under any thread count and in any configuration
//! (common random numbers across a sweep or a plan), and making one more
//! field random changes no other field's draws. A scenario whose fields
//! are all plain numbers has no family and draws nothing.
//!
//! # Ranges
//! A draw outside the field's range is clipped to it: a multiplier to
//! [1, 10⁶], a rate to [0, 10⁹] calls/s, a duration or time to
//! [0 s, 1 year]. The times of schedule points (`at`, `over`) are never
//! drawn, so the schedule's order is checked once, when it is loaded.
//!
//! The builders [`spike_rate`] and [`schedule_rate`] are the only code
//! that turns spike and schedule values into a rate, for plain values at
//! load time and for drawn ones at each replication.

use super::rate::{RateFn, Segment};
use crate::dist::Dist;
use crate::rng::stream_named;
use crate::time::Tick;

/// One numeric field: a plain value or a distribution.
#[derive(Clone, Debug)]
pub enum Param {
    Fixed(f64),
    Drawn {
        /// Dotted path of the field, e.g. `arrivals.spike.multiplier`.
        field: String,
        dist: Dist,
        /// The field's range: draws are clipped to it.
        lo: f64,
        hi: f64,
    },
}

impl Param {
    /// The value used where one number must stand for the family (budgets,
    /// headroom, the scenario's nominal rate): the distribution's mean,
    /// clipped to the range.
    pub fn nominal(&self) -> f64 {
        match self {
            Param::Fixed(v) => *v,
            Param::Drawn { dist, lo, hi, .. } => dist.mean().clamp(*lo, *hi),
        }
    }

    fn draw(&self, seed: u64, run: u64, out: &mut Vec<(String, f64)>) -> f64 {
        match self {
            Param::Fixed(v) => *v,
            Param::Drawn { field, dist, lo, hi } => {
                let mut rng = stream_named(seed, run, &format!("surge:{field}"));
                let v = dist.sample_secs(&mut rng).clamp(*lo, *hi);
                out.push((field.clone(), v));
                v
            }
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Param::Fixed(_) => None,
            Param::Drawn { field, .. } => Some(field),
        }
    }
}

/// One schedule point: from `at`, `per_s`, or a ramp to `to` over `over`.
#[derive(Clone, Debug)]
pub struct SchedulePoint<T> {
    pub at: Tick,
    pub per_s: T,
    pub ramp: Option<(T, Tick)>,
}

/// A spike's fields; times in seconds.
#[derive(Clone, Debug)]
pub struct SpikeParams {
    pub at: Param,
    pub multiplier: Param,
    pub ramp: Param,
    pub hold: Param,
    pub decay: Param,
}

/// The base rate of a family.
#[derive(Clone, Debug)]
pub enum Base {
    /// A constant or a rate file: the same in every replication.
    Fixed(RateFn),
    Schedule(Vec<SchedulePoint<Param>>),
}

/// A rate with drawn fields.
#[derive(Clone, Debug)]
pub struct SurgeFamily {
    pub base: Base,
    pub spike: Option<SpikeParams>,
}

fn tick(secs: f64) -> Tick {
    Tick::from_secs_f64(secs)
}

impl SurgeFamily {
    /// The rate of replication `run` and the values drawn for it (field,
    /// value), in field order.
    pub fn draw(&self, seed: u64, run: u64) -> (RateFn, Vec<(String, f64)>) {
        let mut drawn = Vec::new();
        let base = match &self.base {
            Base::Fixed(r) => r.clone(),
            Base::Schedule(points) => {
                let pts: Vec<SchedulePoint<f64>> = points
                    .iter()
                    .map(|p| SchedulePoint {
                        at: p.at,
                        per_s: p.per_s.draw(seed, run, &mut drawn),
                        ramp: p.ramp.as_ref().map(|(to, over)| (to.draw(seed, run, &mut drawn), *over)),
                    })
                    .collect();
                schedule_rate(&pts)
            }
        };
        let rate = match &self.spike {
            None => base,
            Some(s) => {
                let at = tick(s.at.draw(seed, run, &mut drawn));
                let m = s.multiplier.draw(seed, run, &mut drawn);
                let ramp = tick(s.ramp.draw(seed, run, &mut drawn));
                let hold = tick(s.hold.draw(seed, run, &mut drawn));
                let decay = tick(s.decay.draw(seed, run, &mut drawn));
                base.add(&spike_rate(&base, at, m, ramp, hold, decay))
            }
        };
        (rate, drawn)
    }

    /// The drawn fields, in the order [`SurgeFamily::draw`] reports them.
    pub fn fields(&self) -> Vec<String> {
        let mut out: Vec<&Param> = Vec::new();
        if let Base::Schedule(points) = &self.base {
            for p in points {
                out.push(&p.per_s);
                out.extend(p.ramp.as_ref().map(|(to, _)| to));
            }
        }
        if let Some(s) = &self.spike {
            out.extend([&s.at, &s.multiplier, &s.ramp, &s.hold, &s.decay]);
        }
        out.into_iter().filter_map(|p| p.field().map(String::from)).collect()
    }
}

/// The rate of a validated schedule (times in order, rates in range).
pub fn schedule_rate(points: &[SchedulePoint<f64>]) -> RateFn {
    let mut segs = Vec::new();
    for p in points {
        match p.ramp {
            None => segs.push(Segment { start: p.at, rate: p.per_s, slope: 0.0 }),
            Some((to, over)) => {
                let slope = (to - p.per_s) / over.as_secs_f64();
                segs.push(Segment { start: p.at, rate: p.per_s, slope });
                segs.push(Segment { start: p.at.saturating_add(over), rate: to, slope: 0.0 });
            }
        }
    }
    // A point may start exactly where the previous ramp ends: keep the later.
    segs.dedup_by(|later, earlier| {
        if later.start == earlier.start {
            *earlier = *later;
            true
        } else {
            false
        }
    });
    RateFn::from_segments(segs)
}

/// The extra rate of a spike on `base`: from `at` it rises over `ramp` to
/// (`m` − 1) × the base rate at `at`, holds for `hold` and falls over `decay`.
pub fn spike_rate(base: &RateFn, at: Tick, m: f64, ramp: Tick, hold: Tick, decay: Tick) -> RateFn {
    let extra = (m - 1.0) * base.at(at);
    let mut segs = vec![Segment { start: Tick::ZERO, rate: 0.0, slope: 0.0 }];
    let mut t = at;
    let mut push = |start: Tick, rate: f64, slope: f64| {
        if segs.last().is_some_and(|l| l.start == start) {
            segs.pop();
        }
        segs.push(Segment { start, rate, slope });
    };
    if ramp > Tick::ZERO {
        push(t, 0.0, extra / ramp.as_secs_f64());
        t = t.saturating_add(ramp);
    }
    push(t, extra, 0.0);
    t = t.saturating_add(hold);
    if decay > Tick::ZERO {
        push(t, extra, -extra / decay.as_secs_f64());
        t = t.saturating_add(decay);
    }
    push(t, 0.0, 0.0);
    RateFn::from_segments(segs)
}
