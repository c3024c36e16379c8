//! `[primary]` and its `[primary.autoscaler]`: pool size, slots per
//! worker, the scaling policy and its limits, presets applied first.

use super::ctx::{Ctx, R};
use super::dist::validate_dist;
use crate::dist::Dist;
use crate::scenario::raw::{RawAutoscaler, RawPrimary};
use crate::scenario::{AutoscalerSpec, MetricKind, MetricSpec, PolicyKind, PrimarySpec, StepLimit};
use crate::time::Tick;

pub(super) fn validate_primary(cx: &Ctx, p: &RawPrimary) -> R<PrimarySpec> {
    let calls_per_worker = cx.count("primary.calls_per_worker", p.calls_per_worker, 1)?;
    let a = p.autoscaler.as_ref();
    let autoscaler = validate_autoscaler(cx, a, p.workers)?;
    // Zero workers only for a scaler that may scale from zero (min = 0).
    let scales = !matches!(autoscaler.policy, PolicyKind::None);
    let min_workers = if scales && autoscaler.min == 0 { 0 } else { 1 };
    let workers = cx.count("primary.workers", p.workers, min_workers)?;
    // Pools are held per worker and per slot: bound them so a typo cannot
    // exhaust memory.
    const MAX_SLOTS: u64 = 100_000_000;
    if autoscaler.max.max(workers) as u64 * calls_per_worker as u64 > MAX_SLOTS {
        return cx.err(
            if autoscaler.max > workers { "primary.autoscaler.max" } else { "primary.workers" },
            format!(
                "{} workers × {calls_per_worker} calls exceeds the limit of {MAX_SLOTS} slots",
                autoscaler.max.max(workers)
            ),
        );
    }
    if workers < autoscaler.min || workers > autoscaler.max {
        return cx.err(
            "primary.workers",
            format!(
                "{workers} lies outside the autoscaler's bounds min = {}, max = {}",
                autoscaler.min, autoscaler.max
            ),
        );
    }
    let (scale_down_victim, drain_grace) = super::drain::validate_scale_down(cx, p)?;
    Ok(PrimarySpec { workers, calls_per_worker, autoscaler, nodes: None, scale_down_victim, drain_grace })
}

fn validate_autoscaler(cx: &Ctx, a: Option<&RawAutoscaler>, workers: i64) -> R<AutoscalerSpec> {
    let empty = RawAutoscaler::default();
    let raw = a.unwrap_or(&empty);
    let a =
        &crate::scenario::presets::apply_autoscaler_preset(raw).or_else(|m| cx.err("primary.autoscaler.preset", m))?;
    let f = |k: &str| format!("primary.autoscaler.{k}");
    let policy_name = a.policy.as_deref().unwrap_or("none");
    let applies: &[&str] = match policy_name {
        "none" => &[],
        "target-utilization" => {
            &["target", "tolerance", "max_step_up", "max_step_up_percent", "max_step_down", "max_step_down_percent"]
        }
        "step" => {
            &["steps", "scale_in", "max_step_up", "max_step_up_percent", "max_step_down", "max_step_down_percent"]
        }
        "scheduled" => &[],
        other => {
            return cx.err(f("policy"), format!("{other:?}: expected none, target-utilization, step or scheduled"))
        }
    };
    let specific = [
        ("target", a.target.is_some()),
        ("tolerance", a.tolerance.is_some()),
        ("steps", a.steps.is_some()),
        ("scale_in", a.scale_in.is_some()),
        ("max_step_up", a.max_step_up.is_some()),
        ("max_step_up_percent", a.max_step_up_percent.is_some()),
        ("max_step_down", a.max_step_down.is_some()),
        ("max_step_down_percent", a.max_step_down_percent.is_some()),
    ];
    if a.preset.is_none() {
        if let Some((k, _)) = specific.iter().find(|(k, g)| *g && !applies.contains(k)) {
            return cx.err(f(k), format!("does not apply to policy = {policy_name:?}"));
        }
    }
    let policy = match policy_name {
        "none" => PolicyKind::None,
        "target-utilization" => PolicyKind::TargetUtilization {
            target: cx.finite(
                &f("target"),
                a.target
                    .map_or_else(|| cx.err(f("target"), "missing: target-utilization needs a target in (0, 1]"), Ok)?,
                1e-6,
                1.0,
            )?,
            tolerance: cx.finite(&f("tolerance"), a.tolerance.unwrap_or(0.0), 0.0, 0.99)?,
        },
        "step" => {
            let raw_steps = a.steps.as_deref().unwrap_or_default();
            if raw_steps.is_empty() {
                return cx.err(f("steps"), "missing: the step policy needs steps = [{ above = 0.8, add = 10 }, …]");
            }
            let mut steps = Vec::new();
            for (i, s) in raw_steps.iter().enumerate() {
                let above = cx.finite(&format!("{}[{i}].above", f("steps")), s.above, 0.0, 10.0)?;
                if steps.last().is_some_and(|&(p, _)| p >= above) {
                    return cx.err(format!("{}[{i}].above", f("steps")), "thresholds must increase");
                }
                steps.push((above, cx.count(&format!("{}[{i}].add", f("steps")), s.add, 1)?));
            }
            let scale_in = match &a.scale_in {
                Some(s) => Some((
                    cx.finite(&f("scale_in.below"), s.below, 0.0, 1.0)?,
                    cx.count(&f("scale_in.remove"), s.remove, 1)?,
                )),
                None => None,
            };
            PolicyKind::Step { steps, scale_in }
        }
        "scheduled" => PolicyKind::Scheduled,
        _ => unreachable!(),
    };
    let fixed = matches!(policy, PolicyKind::None);
    let min = match a.min {
        Some(m) => cx.count(&f("min"), m, 0)?,
        None if fixed => workers.clamp(0, u32::MAX as i64) as u32,
        None => 1.min(workers.max(0) as u32),
    };
    let max = match a.max {
        Some(m) => cx.count(&f("max"), m, 1)?,
        None if fixed => workers.clamp(1, u32::MAX as i64) as u32,
        None => {
            return cx.err(f("max"), format!("missing: policy {policy_name:?} needs an upper bound `max` on workers"))
        }
    };
    if min > max {
        return cx.err(f("min"), format!("min ({min}) exceeds max ({max})"));
    }
    let interval = match a.interval {
        Some(d) => cx.positive_dur(&f("interval"), d)?,
        None => Tick::from_secs(15),
    };
    let provision_delay = match &a.provision_delay {
        Some(d) => validate_dist(cx, &f("provision_delay"), d)?,
        None => Dist::Deterministic { value: 0.0 },
    };
    let mut schedule = Vec::new();
    for (i, s) in a.schedule.as_deref().unwrap_or_default().iter().enumerate() {
        let m = cx.count(&format!("{}[{i}].min", f("schedule")), s.min, 0)?;
        if m > max {
            return cx.err(format!("{}[{i}].min", f("schedule")), format!("{m} exceeds max ({max})"));
        }
        if schedule.last().is_some_and(|&(t, _)| t > s.at.0) {
            return cx.err(format!("{}[{i}].at", f("schedule")), "schedule entries must be in time order");
        }
        schedule.push((s.at.0, m));
    }
    if matches!(policy, PolicyKind::Scheduled) && schedule.is_empty() {
        return cx
            .err(f("schedule"), "missing: the scheduled policy needs schedule = [{ at = \"25m\", min = 600 }, …]");
    }
    let step_limit = |w: Option<i64>, p: Option<f64>, kw: &str, kp: &str| -> R<StepLimit> {
        Ok(StepLimit {
            workers: w.map(|w| cx.count(&f(kw), w, 1)).transpose()?,
            percent: p.map(|p| cx.finite(&f(kp), p, 0.01, 10_000.0)).transpose()?,
        })
    };
    let metric = MetricSpec {
        kind: match a.metric.as_deref() {
            None | Some("concurrency") => MetricKind::Concurrency,
            Some("utilisation") => MetricKind::Utilisation,
            Some("arrival_rate") => MetricKind::ArrivalRate,
            Some(other) => {
                return cx.err(f("metric"), format!("{other:?}: expected utilisation, concurrency or arrival_rate"))
            }
        },
        scrape_interval: a.scrape_interval.map(|d| cx.positive_dur(&f("scrape_interval"), d)).transpose()?,
        lag: a.metric_lag.map_or(Tick::ZERO, |d| d.0),
    };
    // `polling_interval = 0` turns the activation loop off.
    let polling_interval = a.polling_interval.map(|d| d.0).filter(|d| *d > Tick::ZERO);
    if a.cooldown_period.is_some() && polling_interval.is_none() {
        return cx.err(f("cooldown_period"), "applies only with a polling_interval (the activation loop)");
    }
    if polling_interval.is_some() && min > 0 {
        return cx
            .err(f("polling_interval"), format!("the activation loop scales to zero: it needs min = 0, not {min}"));
    }
    Ok(AutoscalerSpec {
        metric,
        polling_interval,
        cooldown_period: a.cooldown_period.map_or(Tick::ZERO, |d| d.0),
        warmup: a.warmup.map_or(Tick::ZERO, |d| d.0),
        policy,
        interval,
        window: a.window.map_or(interval, |w| w.0.max(Tick(1))),
        provision_delay,
        min,
        max,
        max_step_up: step_limit(a.max_step_up, a.max_step_up_percent, "max_step_up", "max_step_up_percent")?,
        max_step_down: step_limit(a.max_step_down, a.max_step_down_percent, "max_step_down", "max_step_down_percent")?,
        scale_up_cooldown: a.scale_up_cooldown.map_or(Tick::ZERO, |d| d.0),
        scale_down_cooldown: a.scale_down_cooldown.map_or(Tick::ZERO, |d| d.0),
        scale_down_stabilization: a.scale_down_stabilization.map_or(Tick::ZERO, |d| d.0),
        schedule,
        warm_pool: a.warm_pool.map(|w| cx.count(&f("warm_pool"), w, 0)).transpose()?.unwrap_or(0),
        warm_pool_delay: super::warm_pool::pool_delay(cx, a)?,
        warm_pool_refill: a.warm_pool_refill_delay.and_then(|l| l.0),
        reuse_on_scale_in: a.reuse_on_scale_in.unwrap_or(true),
        protect_from_scale_in: super::warm_pool::protected(cx, a, workers)?,
    })
}
