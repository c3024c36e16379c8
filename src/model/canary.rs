//! The canary: a synthetic probe of the fallback every `interval` (phase
//! set by `offset`; probes run through the warm-up too). Each probe fails
//! with the fallback's start-failure probability at that moment, drawn from
//! its own stream; `failures_to_alert` consecutive failures raise the alert
//! once, probing stops, and the `on_detect` actions follow, each `after` its
//! delay: raise the primary minimum, stop routing to the fallback, deploy a
//! fix.

use rand::Rng;

use super::{Ev, Sim};
use crate::engine::EventQueue;
use crate::rng::{stream, Stream, StreamRng};
use crate::scenario::{CanarySpec, Scenario};
use crate::time::Tick;

/// The canary's state within one run.
pub(super) struct Canary<'s> {
    spec: Option<&'s CanarySpec>,
    rng: StreamRng,
    /// Consecutive failed probes.
    fails: u32,
    /// Internal time the alert was raised, if it was.
    pub(super) detected_at: Option<Tick>,
}

impl<'s> Canary<'s> {
    pub(super) fn new(sc: &'s Scenario, run: u64) -> Canary<'s> {
        Canary {
            spec: sc.fallback.as_ref().and_then(|f| f.canary.as_ref()),
            rng: stream(sc.seed, run, Stream::Canary),
            fails: 0,
            detected_at: None,
        }
    }

    /// Schedules the first probe. Probes fall at clock_start + offset +
    /// k·interval (k may be negative: they run during the warm-up `warm`).
    pub(super) fn schedule_first(&self, warm: Tick, q: &mut EventQueue<Ev>) {
        if let Some(c) = self.spec {
            let phase = Tick((warm.0 + c.offset.0) % c.interval.0);
            q.push(if phase > Tick::ZERO { phase } else { c.interval }, Ev::Canary);
        }
    }
}

impl Sim<'_> {
    /// One probe at `now`.
    pub(super) fn on_canary(&mut self, now: Tick, q: &mut EventQueue<Ev>) {
        let (Some(fb), Some(spec)) = (&self.fallback, self.canary.spec) else { return };
        let c = &mut self.canary;
        let u: f64 = c.rng.random();
        if u < fb.failure_probability(now) {
            c.fails += 1;
        } else {
            c.fails = 0;
        }
        if c.fails >= spec.failures_to_alert && c.detected_at.is_none() {
            c.detected_at = Some(now);
            for (idx, a) in spec.on_detect.iter().enumerate() {
                q.push(now.saturating_add(a.after), Ev::Action { idx: idx as u32 });
            }
        }
        if c.detected_at.is_none() {
            q.push(now.saturating_add(spec.interval), Ev::Canary);
        }
    }

    /// The `on_detect` action `idx`, due at `now`.
    pub(super) fn on_action(&mut self, now: Tick, idx: u32, q: &mut EventQueue<Ev>) {
        let Some(spec) = self.canary.spec else { return };
        let a = &spec.on_detect[idx as usize];
        if let Some(m) = a.primary_min {
            self.scaler.set_min(m, true);
            self.raise_to_min(now, "on_detect", q);
        }
        if let Some(fb) = self.fallback.as_mut() {
            if a.stop_routing {
                fb.routing = false;
            }
            if a.fix_fallback {
                fb.fix(now);
            }
        }
    }
}
