//! `[fallback]`: the serverless fallback pool, its health over the run
//! (including an architecture mismatch) and its canary.

use super::ctx::{Ctx, R};
use super::dist::validate_dist;
use crate::dist::Dist;
use crate::input::clip_plain;
use crate::scenario::raw::{RawFallback, RawHealth};
use crate::scenario::{arch_mismatch, Action, CanarySpec, FallbackSpec, Health};
use crate::time::Tick;

pub(super) fn validate_fallback(cx: &Ctx, raw: &RawFallback, warnings: &mut Vec<String>) -> R<FallbackSpec> {
    let f = |k: &str| format!("fallback.{k}");
    let fb = &crate::scenario::presets::apply_fallback_preset(raw).or_else(|m| cx.err(f("preset"), m))?;
    let max_concurrency = match fb.max_concurrency {
        Some(m) => cx.count(&f("max_concurrency"), m, 1)?,
        None => return cx.err(f("max_concurrency"), "missing: the fallback pool needs max_concurrency"),
    };
    let cold_start = match &fb.cold_start {
        Some(d) => validate_dist(cx, &f("cold_start"), d)?,
        None => Dist::Deterministic { value: 0.0 },
    };
    let provisioned_concurrency =
        fb.provisioned_concurrency.map(|p| cx.count(&f("provisioned_concurrency"), p, 0)).transpose()?.unwrap_or(0);
    if provisioned_concurrency > max_concurrency {
        return cx.err(
            f("provisioned_concurrency"),
            format!("{provisioned_concurrency} exceeds max_concurrency ({max_concurrency})"),
        );
    }
    let burst_limit = fb.burst_limit.map(|b| cx.count(&f("burst_limit"), b, 1)).transpose()?;
    let scale_rate = fb.scale_rate.map(|b| cx.count(&f("scale_rate"), b, 0)).transpose()?.unwrap_or(0);
    let scale_interval = match fb.scale_interval {
        Some(d) => cx.positive_dur(&f("scale_interval"), d)?,
        None => Tick::from_secs(60),
    };
    let mut health = match &fb.health {
        None => Health::Healthy,
        Some(RawHealth::Mode(m)) => match m.as_str() {
            "healthy" => Health::Healthy,
            "broken" => Health::Broken { from: Tick::ZERO, until: Tick::MAX },
            other => return cx.err(f("health"), format!("{other:?}: expected \"healthy\", \"broken\", {{ degraded = P }} or {{ broken_from = T, broken_until = T }}")),
        },
        Some(RawHealth::Table(t)) => match (t.degraded, t.broken_from, t.broken_until) {
            (Some(p), None, None) => Health::Degraded(cx.finite(&f("health.degraded"), p, 0.0, 1.0)?),
            (None, from, until) if from.is_some() || until.is_some() => {
                let from = from.map_or(Tick::ZERO, |d| d.0);
                let until = until.map_or(Tick::MAX, |d| d.0);
                if until <= from {
                    return cx.err(f("health.broken_until"), "must be later than broken_from");
                }
                Health::Broken { from, until }
            }
            _ => return cx.err(f("health"), "expected { degraded = P } or { broken_from = T, broken_until = T }, not both"),
        },
    };
    if let Some((img, rt)) = arch_mismatch(fb.image_arch.as_deref(), fb.runtime_arch.as_deref()) {
        warnings.push(if fb.health.is_none() {
            format!(
                "fallback.image_arch {} ≠ fallback.runtime_arch {}: every fallback start fails (broken) until fixed",
                clip_plain(img),
                clip_plain(rt)
            )
        } else {
            format!(
                "fallback.image_arch {} ≠ fallback.runtime_arch {}: starts fail while fallback.health says broken",
                clip_plain(img),
                clip_plain(rt)
            )
        });
        if fb.health.is_none() {
            health = Health::Broken { from: Tick::ZERO, until: Tick::MAX };
        }
    }
    let canary = match &fb.canary {
        None => None,
        Some(c) => {
            let interval = cx.positive_dur(&f("canary.interval"), c.interval)?;
            let failures_to_alert =
                c.failures_to_alert.map(|n| cx.count(&f("canary.failures_to_alert"), n, 1)).transpose()?.unwrap_or(1);
            let mut on_detect = Vec::new();
            for (i, a) in c.on_detect.as_ref().map(|a| a.0.as_slice()).unwrap_or_default().iter().enumerate() {
                let field = format!("fallback.canary.on_detect[{i}]");
                let primary_min = a.primary_min.map(|m| cx.count(&format!("{field}.primary_min"), m, 1)).transpose()?;
                let act = Action {
                    after: a.after.map_or(Tick::ZERO, |d| d.0),
                    primary_min,
                    stop_routing: a.stop_routing.unwrap_or(false),
                    fix_fallback: a.fix_fallback.unwrap_or(false),
                };
                if act.primary_min.is_none() && !act.stop_routing && !act.fix_fallback {
                    return cx.err(
                        field,
                        "an action needs at least one of primary_min, stop_routing = true, fix_fallback = true",
                    );
                }
                on_detect.push(act);
            }
            Some(CanarySpec { interval, offset: c.offset.map_or(Tick::ZERO, |d| d.0), failures_to_alert, on_detect })
        }
    };
    Ok(FallbackSpec {
        max_concurrency,
        cold_start,
        idle_timeout: fb.idle_timeout.map_or(Tick::from_secs(600), |d| d.0),
        provisioned_concurrency,
        burst_limit,
        scale_rate,
        scale_interval,
        image_arch: fb.image_arch.clone(),
        runtime_arch: fb.runtime_arch.clone(),
        health,
        canary,
        start_failure_latency: fb
            .start_failure_latency
            .as_ref()
            .map(|d| validate_dist(cx, &f("start_failure_latency"), d))
            .transpose()?,
    })
}
