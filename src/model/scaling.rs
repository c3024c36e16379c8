//! The scaler's view of the pool and its evaluation loops: the metric
//! scraped from the pool (`concurrency`, `utilisation` or `arrival_rate`),
//! the policy's evaluation tick, KEDA's activation poll (0 ↔ 1 and the
//! cooldown to zero) and EC2 instance warm-up; and moving the worker
//! target once decided (launches, the warm pool, cancels and drains).
//!
//! Unconfigured, a sample of busy + waiting is taken at each evaluation,
//! exactly as before these features existed; nothing here runs per call.

use std::collections::VecDeque;

use super::autoscaler::{Observation, ScaleEvent};
use super::nodes::Pending;
use super::{Ev, Sim, SCALE_LOG_LIMIT};
use crate::engine::EventQueue;
use crate::scenario::{MetricKind, Scenario};
use crate::time::Tick;

/// What the scaler loops remember between their events.
#[derive(Debug, Default)]
pub(super) struct View {
    /// When the last sample was scraped and the arrival count then.
    last_scrape: Tick,
    arrivals_at_scrape: u64,
    arrivals_at_tick: u64,
    arrivals_at_poll: u64,
    /// The last poll that found the trigger active (KEDA).
    last_active: Tick,
    /// When the poll last activated the pool from zero: the HPA acts from
    /// its next sync on, whichever event comes first at that instant.
    activated_at: Option<Tick>,
    /// Ready times of workers still warming up, oldest first.
    warming: VecDeque<Tick>,
    /// Mean call duration (s): turns an arrival rate into slots.
    mean_duration: f64,
}

impl View {
    pub(super) fn new(sc: &Scenario) -> View {
        let total: f64 = sc.classes.iter().map(|c| c.share).sum();
        let mean = sc.classes.iter().map(|c| c.share * c.duration.mean()).sum::<f64>() / total.max(f64::MIN_POSITIVE);
        View { mean_duration: mean, ..View::default() }
    }
}

/// Schedules the first events of the loops that are configured.
pub(super) fn schedule_loops(sc: &Scenario, q: &mut EventQueue<Ev>) {
    let a = &sc.primary.autoscaler;
    if !matches!(a.policy, crate::scenario::PolicyKind::None) {
        q.push(a.interval, Ev::ScalerTick);
        if let Some(s) = a.metric.scrape_interval {
            q.push(s, Ev::Scrape);
        }
    }
    if let Some(p) = a.polling_interval {
        q.push(p, Ev::Poll);
    }
}

impl Sim<'_> {
    /// Takes one sample of the metric at `now`.
    fn scrape(&mut self, now: Tick) {
        let v = match self.scaler.spec.metric.kind {
            MetricKind::Concurrency => (self.primary.busy + self.waiting.live) as f64,
            MetricKind::Utilisation => {
                let cap = self.primary.capacity();
                if cap == 0 {
                    0.0
                } else {
                    (self.primary.busy as f64 / cap as f64).min(1.0)
                }
            }
            MetricKind::ArrivalRate => {
                let dt = (now.0 - self.view.last_scrape.0) as f64 / Tick::from_secs(1).0 as f64;
                let n = self.arrivals - self.view.arrivals_at_scrape;
                if dt > 0.0 {
                    n as f64 / dt
                } else {
                    0.0
                }
            }
        };
        self.view.last_scrape = now;
        self.view.arrivals_at_scrape = self.arrivals;
        self.scaler.sample(now, v);
    }

    pub(super) fn on_scrape(&mut self, now: Tick, q: &mut EventQueue<Ev>) {
        if self.view.last_scrape != now {
            self.scrape(now);
        }
        let s = self.scaler.spec.metric.scrape_interval.expect("scrapes only when configured");
        q.push(now.saturating_add(s), Ev::Scrape);
    }

    /// A worker became ready at `now`: it warms up before it counts.
    pub(super) fn on_worker_ready(&mut self, now: Tick) {
        if self.scaler.spec.warmup > Tick::ZERO {
            self.view.warming.push_back(now);
        }
    }

    pub(super) fn on_scaler_tick(&mut self, now: Tick, q: &mut EventQueue<Ev>) {
        let spec = self.scaler.spec;
        if self.view.activated_at == Some(now) {
            q.push(now.saturating_add(spec.interval), Ev::ScalerTick);
            return;
        }
        match spec.metric.scrape_interval {
            None => self.scrape(now),
            // A scrape due now is taken first, whichever event comes first.
            Some(s) if now.0 % s.0 == 0 && self.view.last_scrape != now => self.scrape(now),
            Some(_) => {}
        }
        let mut ready = self.primary.ready;
        if spec.warmup > Tick::ZERO {
            while self.view.warming.front().is_some_and(|&t| t.saturating_add(spec.warmup) <= now) {
                self.view.warming.pop_front();
            }
            ready -= (self.view.warming.len() as u32).min(ready);
            self.scaler.scale_in_blocked = !self.view.warming.is_empty();
        }
        let cpw = self.primary.calls_per_worker();
        let Some(seen) = self.scaler.seen(now) else {
            q.push(now.saturating_add(spec.interval), Ev::ScalerTick);
            return;
        };
        let demand = match spec.metric.kind {
            MetricKind::Concurrency => seen,
            MetricKind::Utilisation => seen * ready as f64 * cpw as f64,
            MetricKind::ArrivalRate => seen * self.view.mean_duration,
        };
        let obs = Observation {
            current: self.primary.target_count(),
            ready,
            calls_per_worker: cpw,
            demand,
            active: self.arrivals > self.view.arrivals_at_tick,
            min: self.scaler.min,
        };
        self.view.arrivals_at_tick = self.arrivals;
        if let Some(to) = self.scaler.evaluate(now, &obs) {
            self.set_target(now, to, "policy", q);
        }
        q.push(now.saturating_add(spec.interval), Ev::ScalerTick);
    }

    /// KEDA's poll: activate from zero on an active trigger; return to zero
    /// once `cooldown_period` has passed since the last active one.
    pub(super) fn on_poll(&mut self, now: Tick, q: &mut EventQueue<Ev>) {
        let active = self.arrivals > self.view.arrivals_at_poll || self.primary.busy + self.waiting.live > 0;
        self.view.arrivals_at_poll = self.arrivals;
        let cur = self.primary.target_count();
        let spec = self.scaler.spec;
        if active {
            self.view.last_active = now;
            if cur == 0 {
                self.view.activated_at = Some(now);
                self.set_target(now, 1, "activation", q);
            }
        } else if cur > 0 && self.scaler.min == 0 && now.0 - self.view.last_active.0 >= spec.cooldown_period.0 {
            self.set_target(now, 0, "cooldown", q);
        }
        q.push(now.saturating_add(spec.polling_interval.expect("polls only when configured")), Ev::Poll);
    }
}

/// Acting on the scaler's decisions: moving the worker target.
impl Sim<'_> {
    /// Moves the worker target to `to`: launches (after the provisioning
    /// delay, or the warm pool's) or cancels and drains.
    pub(super) fn set_target(&mut self, now: Tick, to: u32, cause: &'static str, q: &mut EventQueue<Ev>) {
        let cur = self.primary.target_count();
        if to == cur {
            return;
        }
        let mut ready: Option<(Tick, Tick)> = None;
        if to > cur {
            for (worker, generation) in self.primary.launch(to - cur) {
                let delay = self.launch_delay(now, q);
                if let Some(nodes) = self.nodes.as_mut() {
                    nodes.add_pending(Pending { worker, generation, delay });
                    continue;
                }
                let at = now.saturating_add(delay);
                ready = Some(ready.map_or((at, at), |(a, b)| (a.min(at), b.max(at))));
                q.push(at, Ev::WorkerReady { worker, generation });
            }
        } else {
            let mut busy = Vec::new();
            let (_, drained) = self.primary.scale_down(cur - to, &mut busy);
            if let Some(grace) = self.sc.primary.drain_grace {
                for (worker, generation) in busy {
                    q.push(now.saturating_add(grace), Ev::DrainDeadline { worker, generation });
                }
            }
            self.warm_pool.scaled_in(drained, self.sc.primary.autoscaler.reuse_on_scale_in);
        }
        if self.nodes.is_some() {
            ready = self.place_pending(now, q);
        }
        if self.scale_log.len() < SCALE_LOG_LIMIT {
            self.scale_log.push(ScaleEvent { at: now, from: cur, to, cause, ready });
        }
    }

    pub(super) fn raise_to_min(&mut self, now: Tick, cause: &'static str, q: &mut EventQueue<Ev>) {
        let min = self.scaler.min;
        if self.primary.target_count() < min {
            self.set_target(now, min, cause, q);
        }
    }
}
