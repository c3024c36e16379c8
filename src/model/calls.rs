//! Where calls come from: an arrival process plus the class and duration
//! draws that complete each call. The model and `surgesim trace` both use
//! this one source, so a written trace replays to the same calls.

use rand::Rng;

use crate::arrivals::{Arrival, ArrivalSpec, ArrivalState, TraceError};
use crate::rng::{stream, Stream, StreamRng};
use crate::scenario::Scenario;
use crate::time::Tick;

/// One call: internal arrival time, class and service duration.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Call {
    pub time: Tick,
    pub class: u16,
    pub duration: Tick,
}

pub struct CallSource<'s> {
    sc: &'s Scenario,
    arrivals: ArrivalState<'s>,
    arrivals_rng: StreamRng,
    classes_rng: StreamRng,
    durations_rng: StreamRng,
    cum_share: Vec<f64>,
}

impl<'s> CallSource<'s> {
    /// The calls of run `run`; `arrivals` is the scenario's process with
    /// the warm-up applied (see [`ArrivalSpec::shifted`]).
    pub fn new(sc: &'s Scenario, arrivals: &'s ArrivalSpec, run: u64) -> CallSource<'s> {
        let cum_share = cumulative_shares(sc);
        CallSource {
            sc,
            arrivals: arrivals.start(),
            arrivals_rng: stream(sc.seed, run, Stream::Arrivals),
            classes_rng: stream(sc.seed, run, Stream::Classes),
            durations_rng: stream(sc.seed, run, Stream::Durations),
            cum_share,
        }
    }

    /// The next arrival (time, and class/duration if the process knows them).
    #[inline]
    pub fn next_arrival(&mut self) -> Option<Arrival> {
        self.arrivals.next(&mut self.arrivals_rng)
    }

    /// Completes an arrival into a call: draws the class and the duration
    /// the process did not give. With several classes the class stream is
    /// drawn for every call (even traced ones) so streams stay aligned; with
    /// one class it is never read, so it is not drawn.
    #[inline]
    pub fn complete(&mut self, a: Arrival) -> Call {
        let class = if self.cum_share.len() == 1 {
            0
        } else {
            let u: f64 = self.classes_rng.random();
            a.class.unwrap_or_else(|| pick_class(&self.cum_share, u))
        };
        let duration = match a.duration {
            Some(d) => d,
            None => self.sc.classes[class as usize].duration.sample(&mut self.durations_rng),
        };
        Call { time: a.time, class, duration }
    }

    /// A trace read error that ended the arrivals early, if any.
    pub fn error(&self) -> Option<&TraceError> {
        self.arrivals.error()
    }
}

/// Cumulative class shares, the last one made infinite so that every
/// uniform draw lands in a class despite rounding.
pub fn cumulative_shares(sc: &Scenario) -> Vec<f64> {
    let mut acc = 0.0;
    let mut cum: Vec<f64> = sc
        .classes
        .iter()
        .map(|c| {
            acc += c.share;
            acc
        })
        .collect();
    if let Some(last) = cum.last_mut() {
        *last = f64::INFINITY;
    }
    cum
}

/// The class a uniform draw `u` in [0, 1) selects.
#[inline]
pub fn pick_class(cum_share: &[f64], u: f64) -> u16 {
    if cum_share.len() == 1 {
        return 0;
    }
    cum_share.iter().position(|&c| u < c).unwrap_or(cum_share.len() - 1) as u16
}

/// Calls `f` with every call of run `run` that arrives before the end of
/// the run (warm-up included), in order. Times passed are reported times in
/// seconds (negative during the warm-up).
pub fn for_each_call(sc: &Scenario, run: u64, mut f: impl FnMut(f64, &Call)) -> Result<u64, TraceError> {
    let arrivals = sc.arrivals_for(run).shifted(sc.warmup);
    let mut src = CallSource::new(sc, &arrivals, run);
    let end = sc.warmup.saturating_add(sc.duration);
    let mut n = 0;
    while let Some(a) = src.next_arrival() {
        if a.time >= end {
            break;
        }
        let c = src.complete(a);
        f(c.time.as_secs_f64() - sc.warmup.as_secs_f64(), &c);
        n += 1;
    }
    match src.error() {
        Some(e) => Err(e.clone()),
        None => Ok(n),
    }
}
