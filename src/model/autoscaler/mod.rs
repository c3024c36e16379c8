//! The autoscaler: a policy recommends a worker count from what a real
//! scaler sees (a metric sampled at each evaluation, never the future);
//! the shared machinery here turns the recommendation into a decision with
//! `min`/`max`, per-step limits, cooldowns and scale-down stabilisation,
//! the way a Kubernetes HPA applies its `behavior` block.
//!
//! A policy is one file: a function from an [`Observation`] to a
//! [`Recommendation`].

pub mod metric;
mod scheduled;
mod step;
mod target;

use std::collections::VecDeque;

use crate::scenario::{AutoscalerSpec, PolicyKind};
use crate::time::Tick;
use metric::Pipeline;

/// What the scaler sees at an evaluation.
#[derive(Copy, Clone, Debug)]
pub struct Observation {
    /// Workers counted against the target (ready + provisioning).
    pub current: u32,
    pub ready: u32,
    pub calls_per_worker: u32,
    /// Mean sampled demand (calls in service + waiting) over the window.
    pub demand: f64,
    /// Whether any call arrived since the last evaluation (activation from zero).
    pub active: bool,
    /// The minimum in force (schedule and `on_detect` floors).
    pub min: u32,
}

impl Observation {
    /// Mean utilisation of ready slots (demand / capacity); infinite when
    /// there is demand but no capacity.
    pub fn utilisation(&self) -> f64 {
        let cap = self.ready as f64 * self.calls_per_worker as f64;
        if cap == 0.0 {
            if self.demand > 0.0 || self.active {
                f64::INFINITY
            } else {
                0.0
            }
        } else {
            self.demand / cap
        }
    }
}

/// A policy's wish.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Recommendation {
    Hold,
    Workers(u32),
}

fn recommend(policy: &PolicyKind, obs: &Observation) -> Recommendation {
    match policy {
        PolicyKind::None => Recommendation::Hold,
        PolicyKind::Scheduled => scheduled::recommend(obs),
        PolicyKind::TargetUtilization { target, tolerance } => target::recommend(*target, *tolerance, obs),
        PolicyKind::Step { steps, scale_in } => step::recommend(steps, *scale_in, obs),
    }
}

/// One change of the worker target, for the scaling log.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleEvent {
    /// Time of the decision.
    pub at: Tick,
    pub from: u32,
    pub to: u32,
    /// What asked for it: `policy`, `schedule`, `on_detect`, or KEDA's
    /// `activation` (0 → 1) and `cooldown` (N → 0).
    pub cause: &'static str,
    /// For a scale-up: when the first and the last new worker will be
    /// ready (unless a later scale-down cancels them).
    pub ready: Option<(Tick, Tick)>,
}

/// The scaler's state across evaluations.
#[derive(Debug)]
pub struct Scaler<'a> {
    pub spec: &'a AutoscalerSpec,
    pipeline: Pipeline,
    recs: VecDeque<(Tick, u32)>,
    last_up: Option<Tick>,
    last_change: Option<Tick>,
    /// The minimum in force: the larger of the scheduled one and the floor
    /// raised by `on_detect` actions.
    pub min: u32,
    pub max: u32,
    scheduled_min: u32,
    action_min: u32,
    /// Set while instances warm up (EC2): no scale-in meanwhile.
    pub scale_in_blocked: bool,
}

impl<'a> Scaler<'a> {
    pub fn new(spec: &'a AutoscalerSpec) -> Scaler<'a> {
        Scaler {
            spec,
            pipeline: Pipeline::new(spec.window, spec.metric.lag),
            recs: VecDeque::new(),
            last_up: None,
            last_change: None,
            min: spec.min,
            max: spec.max,
            scheduled_min: spec.min,
            action_min: 0,
            scale_in_blocked: false,
        }
    }

    /// Records a metric sample taken at `t`.
    pub fn sample(&mut self, t: Tick, value: f64) {
        self.pipeline.push(t, value);
    }

    /// The metric as the scaler sees it at `now`: the mean of the visible
    /// samples in the window (see [`metric`]).
    pub fn seen(&mut self, now: Tick) -> Option<f64> {
        self.pipeline.seen(now)
    }

    /// The lowest count the policy may choose: with KEDA's activation loop
    /// the HPA keeps at least one worker and the loop owns 0 ↔ 1.
    fn floor(&self) -> u32 {
        if self.spec.polling_interval.is_some() {
            self.min.max(1)
        } else {
            self.min
        }
    }

    /// The new worker target at `now`, or `None` to keep `obs.current`.
    pub fn evaluate(&mut self, now: Tick, obs: &Observation) -> Option<u32> {
        let cur = obs.current;
        if cur == 0 && self.spec.polling_interval.is_some() {
            // The HPA is inactive at zero replicas; activation is KEDA's.
            return None;
        }
        let lo = self.floor();
        let wish = match recommend(&self.spec.policy, obs) {
            Recommendation::Hold => cur,
            Recommendation::Workers(n) => n,
        };
        let wish = wish.clamp(lo, self.max);
        // Scale-down stabilisation: act on the highest wish in the window.
        let stab = self.spec.scale_down_stabilization;
        self.recs.push_back((now, wish));
        while self.recs.front().is_some_and(|&(t, _)| t.saturating_add(stab) <= now) {
            self.recs.pop_front();
        }
        let desired = if wish < cur { self.recs.iter().map(|r| r.1).max().unwrap_or(wish).min(cur) } else { wish };
        let since = |t: Option<Tick>| t.map_or(u64::MAX, |t| now.0 - t.0);
        let to = if desired > cur {
            if since(self.last_up) < self.spec.scale_up_cooldown.0 {
                return None;
            }
            cur + (desired - cur).min(self.spec.max_step_up.allowed(cur))
        } else if desired < cur {
            if self.scale_in_blocked || since(self.last_change) < self.spec.scale_down_cooldown.0 {
                return None;
            }
            cur - (cur - desired).min(self.spec.max_step_down.allowed_down(cur))
        } else {
            return None;
        };
        let to = to.clamp(lo, self.max);
        if to == cur {
            return None;
        }
        if to > cur {
            self.last_up = Some(now);
        }
        self.last_change = Some(now);
        Some(to)
    }

    /// A schedule entry sets the scheduled minimum (up or down); an action
    /// only raises its own floor, which a later schedule entry cannot undo.
    /// Returns the minimum now in force.
    pub fn set_min(&mut self, min: u32, from_action: bool) -> u32 {
        if from_action {
            self.action_min = self.action_min.max(min);
        } else {
            self.scheduled_min = min;
        }
        self.min = self.scheduled_min.max(self.action_min);
        self.max = self.max.max(self.min);
        self.min
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;
    use crate::scenario::StepLimit;

    fn spec(policy: PolicyKind) -> AutoscalerSpec {
        AutoscalerSpec {
            policy,
            interval: Tick::from_secs(15),
            window: Tick::from_secs(15),
            provision_delay: Dist::Deterministic { value: 60.0 },
            min: 2,
            max: 100,
            max_step_up: StepLimit::NONE,
            max_step_down: StepLimit::NONE,
            scale_up_cooldown: Tick::ZERO,
            scale_down_cooldown: Tick::ZERO,
            scale_down_stabilization: Tick::from_secs(60),
            schedule: vec![],
            warm_pool: 0,
            warm_pool_delay: Tick::ZERO,
            warm_pool_refill: None,
            reuse_on_scale_in: true,
            protect_from_scale_in: 0,
            metric: Default::default(),
            polling_interval: None,
            cooldown_period: Tick::ZERO,
            warmup: Tick::ZERO,
        }
    }

    fn obs(current: u32, demand: f64) -> Observation {
        Observation { current, ready: current, calls_per_worker: 10, demand, active: demand > 0.0, min: 2 }
    }

    #[test]
    fn target_utilisation_scales_to_ceil_demand_over_target() {
        let s = spec(PolicyKind::TargetUtilization { target: 0.5, tolerance: 0.0 });
        let mut sc = Scaler::new(&s);
        assert_eq!(sc.evaluate(Tick::ZERO, &obs(10, 101.0)), Some(21));
    }

    #[test]
    fn scale_down_waits_for_the_stabilisation_window() {
        let s = spec(PolicyKind::TargetUtilization { target: 0.5, tolerance: 0.0 });
        let mut sc = Scaler::new(&s);
        assert_eq!(sc.evaluate(Tick::ZERO, &obs(20, 100.0)), None);
        // Demand halves: the wish (10) is held back by the 20 seen 30 s ago.
        assert_eq!(sc.evaluate(Tick::from_secs(30), &obs(20, 50.0)), None);
        assert_eq!(sc.evaluate(Tick::from_secs(60), &obs(20, 50.0)), Some(10));
    }

    #[test]
    fn scheduled_follows_its_minimum_down_as_well_as_up() {
        let mut s = spec(PolicyKind::Scheduled);
        s.scale_down_stabilization = Tick::ZERO;
        let mut sc = Scaler::new(&s);
        let seen = |current, min| Observation { min, ..obs(current, 500.0) };
        sc.set_min(30, false);
        assert_eq!(sc.evaluate(Tick::ZERO, &seen(10, sc.min)), Some(30));
        sc.set_min(5, false);
        assert_eq!(sc.evaluate(Tick::from_secs(15), &seen(30, sc.min)), Some(5));
    }

    #[test]
    fn step_limits_and_bounds() {
        let mut s = spec(PolicyKind::TargetUtilization { target: 0.5, tolerance: 0.0 });
        s.max_step_up = StepLimit { workers: Some(4), percent: Some(10.0) };
        let mut sc = Scaler::new(&s);
        assert_eq!(sc.evaluate(Tick::ZERO, &obs(10, 1000.0)), Some(14));
        assert_eq!(sc.evaluate(Tick::from_secs(15), &obs(90, 10_000.0)), Some(99));
        assert_eq!(sc.evaluate(Tick::from_secs(30), &obs(99, 10_000.0)), Some(100));
    }
}
