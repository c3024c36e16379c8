//! The serverless fallback pool: one call per instance, cold starts paid by
//! the call, idle instances kept warm for `idle_timeout`, a concurrency
//! limit (optionally growing Lambda-style from a burst limit), provisioned
//! (always-warm) instances, and a health mode deciding whether a start
//! succeeds. A failing start fails the call at once, or, with
//! `start_failure_latency`, after that long, holding a concurrency slot
//! meanwhile (a function whose init fails still counts against the limit).

use std::collections::VecDeque;

use rand::Rng;

use crate::engine::EventQueue;
use crate::observe::FailReason;
use crate::rng::StreamRng;
use crate::scenario::{FallbackSpec, Health};
use crate::time::Tick;

/// An invocation that took a slot: when the call starts (or, if `fails`,
/// when its start fails), and on what instance kind.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Started {
    pub delay: Tick,
    pub provisioned: bool,
    pub cold: bool,
    /// The start is failing: the slot is held for `delay`, then the call
    /// fails ([`Fallback::end_failed_start`]).
    pub fails: bool,
}

#[derive(Debug)]
pub struct Fallback<'a> {
    spec: &'a FallbackSpec,
    /// The scenario's health on the internal clock (shifted by the warm-up).
    health: Health,
    /// Slots taken: calls in service and starts still failing.
    pub busy: u32,
    /// Starts still failing (part of `busy`).
    pub failing: u32,
    prov_busy: u32,
    /// Idle on-demand instances, by the time they became idle (oldest first).
    idle: VecDeque<Tick>,
    /// When demand first exceeded the burst limit, for Lambda-style growth.
    burst_since: Option<Tick>,
    pub routing: bool,
    fixed_at: Option<Tick>,
    pub invocations: u64,
    pub cold_starts: u64,
    pub failed_starts: u64,
    pub throttled: u64,
}

impl<'a> Fallback<'a> {
    /// The pool of `spec` on a clock whose reported t = 0 is internal `offset`.
    pub fn new(spec: &'a FallbackSpec, offset: Tick) -> Fallback<'a> {
        Fallback {
            spec,
            health: spec.health.shifted(offset),
            busy: 0,
            failing: 0,
            prov_busy: 0,
            idle: VecDeque::new(),
            burst_since: None,
            routing: true,
            fixed_at: None,
            invocations: 0,
            cold_starts: 0,
            failed_starts: 0,
            throttled: 0,
        }
    }

    fn fixed(&self, now: Tick) -> bool {
        self.fixed_at.is_some_and(|f| now >= f)
    }

    /// Whether the fallback is broken at internal time `now`.
    pub fn broken(&self, now: Tick) -> bool {
        !self.fixed(now) && self.health.broken_at(now)
    }

    /// Probability that one start fails at internal time `now`.
    pub fn failure_probability(&self, now: Tick) -> f64 {
        if self.fixed(now) {
            return 0.0;
        }
        self.health.failure_probability(now)
    }

    /// The first internal time the fallback is broken, if ever.
    pub fn broken_since(&self) -> Option<Tick> {
        self.health.broken_since()
    }

    /// A deployed fix: healthy from `now` on.
    pub fn fix(&mut self, now: Tick) {
        self.fixed_at.get_or_insert(now);
    }

    fn limit(&mut self, now: Tick) -> u32 {
        let max = self.spec.max_concurrency;
        let Some(burst) = self.spec.burst_limit else { return max };
        if self.busy < burst {
            self.burst_since = None;
            return burst.min(max);
        }
        let since = *self.burst_since.get_or_insert(now);
        let steps = (now.0 - since.0) / self.spec.scale_interval.0;
        (burst as u64 + steps * self.spec.scale_rate as u64).min(max as u64) as u32
    }

    /// Tries to start a call at `now`. `faults` decides degraded starts;
    /// `cold` samples cold-start delays.
    pub fn invoke(&mut self, now: Tick, faults: &mut StreamRng, cold: &mut StreamRng) -> Result<Started, FailReason> {
        if self.busy >= self.limit(now) {
            self.throttled += 1;
            return Err(FailReason::FallbackThrottled);
        }
        self.invocations += 1;
        let p = self.failure_probability(now);
        // Draw for every invocation so that the fault stream stays aligned
        // across configurations (common random numbers).
        let u: f64 = faults.random();
        if u < p {
            self.failed_starts += 1;
            let Some(latency) = &self.spec.start_failure_latency else {
                return Err(FailReason::FallbackStartFailed);
            };
            self.busy += 1;
            self.failing += 1;
            return Ok(Started { delay: latency.sample(cold), provisioned: false, cold: false, fails: true });
        }
        self.busy += 1;
        if self.prov_busy < self.spec.provisioned_concurrency {
            self.prov_busy += 1;
            return Ok(Started { delay: Tick::ZERO, provisioned: true, cold: false, fails: false });
        }
        self.expire(now);
        if self.idle.pop_back().is_some() {
            return Ok(Started { delay: Tick::ZERO, provisioned: false, cold: false, fails: false });
        }
        self.cold_starts += 1;
        Ok(Started { delay: self.spec.cold_start.sample(cold), provisioned: false, cold: true, fails: false })
    }

    /// A call ended at `now`; its instance goes idle (or back to the
    /// provisioned set).
    pub fn release(&mut self, now: Tick, provisioned: bool) {
        self.busy -= 1;
        if provisioned {
            self.prov_busy -= 1;
        } else {
            self.idle.push_back(now);
        }
    }

    /// A failing start ended: its slot is free again; no instance is left
    /// warm.
    pub fn end_failed_start(&mut self) {
        self.busy -= 1;
        self.failing -= 1;
    }

    fn expire(&mut self, now: Tick) {
        while self.idle.front().is_some_and(|&t| t.saturating_add(self.spec.idle_timeout) <= now) {
            self.idle.pop_front();
        }
    }

    /// Warm idle instances at `now` (provisioned ones included).
    pub fn warm_idle(&mut self, now: Tick) -> u32 {
        self.expire(now);
        self.idle.len() as u32 + self.spec.provisioned_concurrency - self.prov_busy
    }
}

/// The model's side of a failing start.
impl super::Sim<'_> {
    /// A failing fallback start ends: its slot frees and its call (or
    /// attempt) fails.
    pub(super) fn on_failing_start_end(&mut self, now: Tick, slot: u32, q: &mut EventQueue<super::Ev>) {
        if let Some(fb) = self.fallback.as_mut() {
            fb.end_failed_start();
        }
        let (arrival, class, seq, duration) = self.failing_starts[slot as usize].take().expect("a failing start");
        self.failing_free.push(slot);
        if self.clients.is_some() {
            let r = super::clients::reason_index(FailReason::FallbackStartFailed);
            self.attempt_failed(now, arrival, seq, class, duration, r, Some(q));
        } else {
            self.fail_arrived(arrival, class, FailReason::FallbackStartFailed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;
    use crate::rng::{stream, Stream};

    fn spec(health: Health) -> FallbackSpec {
        FallbackSpec {
            max_concurrency: 2,
            cold_start: Dist::Deterministic { value: 2.0 },
            idle_timeout: Tick::from_secs(60),
            provisioned_concurrency: 0,
            burst_limit: None,
            scale_rate: 0,
            scale_interval: Tick::from_secs(60),
            image_arch: None,
            runtime_arch: None,
            health,
            canary: None,
            start_failure_latency: None,
        }
    }

    #[test]
    fn cold_then_warm_then_expired() {
        let s = spec(Health::Healthy);
        let mut f = Fallback::new(&s, Tick::ZERO);
        let (mut a, mut b) = (stream(1, 0, Stream::Faults), stream(1, 0, Stream::Fallback));
        let st = f.invoke(Tick::ZERO, &mut a, &mut b).unwrap();
        assert_eq!(st.delay, Tick::from_secs(2));
        f.release(Tick::from_secs(10), false);
        assert_eq!(f.invoke(Tick::from_secs(30), &mut a, &mut b).unwrap().delay, Tick::ZERO);
        f.release(Tick::from_secs(40), false);
        assert!(f.invoke(Tick::from_secs(100), &mut a, &mut b).unwrap().cold);
        f.invoke(Tick::from_secs(100), &mut a, &mut b).unwrap();
        assert_eq!(f.invoke(Tick::from_secs(100), &mut a, &mut b), Err(FailReason::FallbackThrottled));
    }

    #[test]
    fn failing_starts_hold_a_slot_until_they_end() {
        let mut s = spec(Health::Broken { from: Tick::ZERO, until: Tick::from_secs(1000) });
        s.start_failure_latency = Some(Dist::Deterministic { value: 5.0 });
        let mut f = Fallback::new(&s, Tick::ZERO);
        let (mut a, mut b) = (stream(1, 0, Stream::Faults), stream(1, 0, Stream::Fallback));
        let st = f.invoke(Tick::ZERO, &mut a, &mut b).unwrap();
        assert!(st.fails && st.delay == Tick::from_secs(5));
        assert!(f.invoke(Tick::ZERO, &mut a, &mut b).unwrap().fails);
        assert_eq!(f.invoke(Tick::ZERO, &mut a, &mut b), Err(FailReason::FallbackThrottled));
        f.end_failed_start();
        assert_eq!((f.busy, f.failing, f.warm_idle(Tick::ZERO)), (1, 1, 0));
        assert!(f.invoke(Tick::ZERO, &mut a, &mut b).unwrap().fails);
        assert_eq!(f.failed_starts, 3);
    }

    #[test]
    fn broken_window_and_fix() {
        let s = spec(Health::Broken { from: Tick::from_secs(10), until: Tick::from_secs(20) });
        let mut f = Fallback::new(&s, Tick::from_secs(5));
        assert!(!f.broken(Tick::from_secs(14)));
        assert!(f.broken(Tick::from_secs(15)));
        assert!(!f.broken(Tick::from_secs(25)));
        f.fix(Tick::from_secs(18));
        assert!(f.broken(Tick::from_secs(17)));
        assert!(!f.broken(Tick::from_secs(18)));
    }
}
