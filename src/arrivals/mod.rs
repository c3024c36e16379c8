//! Arrival processes: where calls come from.
//!
//! Each process yields arrivals in non-decreasing time order from its own
//! random stream. A process may also carry a call's class and duration (a
//! replayed trace does); otherwise the model samples them.

pub mod bursty;
pub mod family;
pub mod rate;
pub mod trace;

use rand::Rng;
use rand_distr::{Distribution, Exp1};

use crate::time::Tick;
pub use bursty::{Hawkes, Mmpp};
pub use rate::{RateFn, Segment};
pub use trace::{TraceError, TraceSpec};

/// One arriving call as the process sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arrival {
    pub time: Tick,
    /// Class index, when the process knows it.
    pub class: Option<u16>,
    /// Service duration, when the process knows it.
    pub duration: Option<Tick>,
}

/// A validated arrival process.
#[derive(Clone, Debug)]
pub enum ArrivalSpec {
    /// Non-homogeneous Poisson with a piecewise-linear rate.
    Poisson(RateFn),
    /// Calls replayed from a CSV file.
    Trace(TraceSpec),
    /// Markov-modulated Poisson process.
    Mmpp(Mmpp),
    /// Self-exciting Hawkes process.
    Hawkes(Hawkes),
}

impl ArrivalSpec {
    /// Expected arrivals in `[0, until)`, for budgets and reports.
    pub fn expected_count(&self, until: Tick) -> f64 {
        match self {
            ArrivalSpec::Poisson(r) => r.integral(until),
            ArrivalSpec::Trace(t) => t.rows_in_span as f64 * t.scale.max(1.0),
            ArrivalSpec::Mmpp(m) => m.mean_rate() * until.as_secs_f64(),
            ArrivalSpec::Hawkes(h) => h.mean_rate() * until.as_secs_f64(),
        }
    }

    /// The arrival rate at the start, calls per second: λ(0) for a Poisson
    /// rate, the mean rate of a stationary bursty process, and for a trace
    /// the average rate over the reported `span`.
    pub fn starting_rate(&self, span: Tick) -> f64 {
        match self {
            ArrivalSpec::Poisson(rate) => rate.at(Tick::ZERO),
            ArrivalSpec::Mmpp(m) => m.mean_rate(),
            ArrivalSpec::Hawkes(h) => h.mean_rate(),
            trace @ ArrivalSpec::Trace(_) => trace.expected_count(span) / span.as_secs_f64().max(f64::MIN_POSITIVE),
        }
    }

    /// The same process delayed by a warm-up of length `by`.
    pub fn shifted(&self, by: Tick) -> ArrivalSpec {
        match self {
            ArrivalSpec::Poisson(r) => ArrivalSpec::Poisson(r.shifted(by)),
            // A trace carries its own times (warm-up included); the bursty
            // processes are stationary.
            other => other.clone(),
        }
    }

    /// A fresh generator for one run.
    pub fn start(&self) -> ArrivalState<'_> {
        match self {
            ArrivalSpec::Poisson(rate) => ArrivalState::Poisson { rate, cursor: 0, now: Tick::ZERO },
            ArrivalSpec::Trace(t) => ArrivalState::Trace(Box::new(t.start())),
            ArrivalSpec::Mmpp(m) => ArrivalState::Mmpp(bursty::MmppState::new(m)),
            ArrivalSpec::Hawkes(h) => ArrivalState::Hawkes(bursty::HawkesState::new(h)),
        }
    }
}

/// The running state of an arrival process within one run.
#[derive(Debug)]
pub enum ArrivalState<'a> {
    Poisson { rate: &'a RateFn, cursor: usize, now: Tick },
    Trace(Box<trace::TraceState<'a>>),
    Mmpp(bursty::MmppState<'a>),
    Hawkes(bursty::HawkesState<'a>),
}

impl ArrivalState<'_> {
    /// The next arrival, or `None` when the process has ended. A Poisson
    /// process is drawn inline; the others out of line.
    #[inline(always)]
    pub fn next<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<Arrival> {
        if let ArrivalState::Poisson { rate, cursor, now } = self {
            let e: f64 = Exp1.sample(rng);
            let t = rate.next_arrival(*now, cursor, e)?;
            *now = t;
            return Some(Arrival { time: t, class: None, duration: None });
        }
        self.next_other(rng)
    }

    /// [`ArrivalState::next`] of every process but the Poisson one.
    #[inline(never)]
    fn next_other<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<Arrival> {
        match self {
            ArrivalState::Poisson { rate, cursor, now } => {
                let e: f64 = Exp1.sample(rng);
                let t = rate.next_arrival(*now, cursor, e)?;
                *now = t;
                Some(Arrival { time: t, class: None, duration: None })
            }
            ArrivalState::Trace(t) => t.next(rng),
            ArrivalState::Mmpp(m) => m.next(rng).map(|time| Arrival { time, class: None, duration: None }),
            ArrivalState::Hawkes(h) => h.next(rng).map(|time| Arrival { time, class: None, duration: None }),
        }
    }

    /// A trace read error that stopped the arrivals, if any.
    pub fn error(&self) -> Option<&TraceError> {
        match self {
            ArrivalState::Trace(t) => t.error.as_ref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Stream};

    /// Counts in fixed windows of a ramped process match Λ (worked out from
    /// the segments) within 4 standard errors (Poisson: variance = mean).
    #[test]
    fn poisson_counts_follow_the_rate() {
        let rate = RateFn::from_segments(vec![
            Segment { start: Tick::ZERO, rate: 50.0, slope: 0.0 },
            Segment { start: Tick::from_secs(100), rate: 50.0, slope: 1.0 },
            Segment { start: Tick::from_secs(200), rate: 150.0, slope: 0.0 },
        ]);
        let spec = ArrivalSpec::Poisson(rate.clone());
        let mut counts = [0u64; 3];
        let reps = 200;
        for run in 0..reps {
            let mut st = spec.start();
            let mut rng = stream(3, run, Stream::Arrivals);
            while let Some(a) = st.next(&mut rng) {
                if a.time >= Tick::from_secs(300) {
                    break;
                }
                counts[(a.time.0 / 100_000_000) as usize] += 1;
            }
        }
        // Λ per window, by hand: 50/s for 100 s; a ramp from 50 to 150/s
        // over 100 s (the mean, 100/s, for 100 s); 150/s for 100 s.
        for (k, (&c, per_run)) in counts.iter().zip([5_000.0, 10_000.0, 15_000.0]).enumerate() {
            let expect = per_run * reps as f64;
            let se = expect.sqrt();
            assert!((c as f64 - expect).abs() < 4.0 * se, "window {k}: {c} vs {expect}");
        }
    }
}
