//! `[primary.nodes]`: the node layer under the workers, and the warning for
//! a scaling policy whose new workers start instantly.
//!
//! Defaults follow the Kubernetes Cluster Autoscaler (FAQ and flags:
//! `--scan-interval` 10 s, `--scale-down-unneeded-time` 10 min), and, with
//! `scaler = "karpenter"`, Karpenter's batching window (karpenter.sh,
//! "Settings": `BATCH_IDLE_DURATION` 1 s, `BATCH_MAX_DURATION` 10 s).

use super::ctx::{Ctx, R};
use super::dist::validate_dist;
use crate::dist::Dist;
use crate::scenario::raw::RawPrimary;
use crate::scenario::{NodesSpec, PolicyKind, PrimarySpec};
use crate::time::Tick;

/// Cluster Autoscaler `--scan-interval` default.
pub const SCAN_INTERVAL: Tick = Tick::from_secs(10);
/// Cluster Autoscaler `--scale-down-unneeded-time` default.
pub const SCALE_DOWN_UNNEEDED_TIME: Tick = Tick::from_secs(600);

/// Karpenter `--batch-idle-duration` default.
pub const BATCH_IDLE_DURATION: Tick = Tick::from_secs(1);
/// Karpenter `--batch-max-duration` default.
pub const BATCH_MAX_DURATION: Tick = Tick::from_secs(10);

/// The node layer, if `[primary.nodes]` is given.
pub(super) fn validate_nodes(cx: &Ctx, raw: &RawPrimary, p: &PrimarySpec) -> R<Option<NodesSpec>> {
    let Some(n) = &raw.nodes else { return Ok(None) };
    let f = |k: &str| format!("primary.nodes.{k}");
    let wpn = match n.workers_per_node {
        Some(w) => cx.count(&f("workers_per_node"), w, 1).map_err(|_| {
            cx.invalid(
                f("workers_per_node"),
                format!("{w}: a node must have room for at least one worker (expected an integer ≥ 1)"),
            )
        })?,
        None => return cx.err(f("workers_per_node"), "missing: how many workers fit on one node (an integer ≥ 1)"),
    };
    let provision_delay = match &n.provision_delay {
        Some(d) => validate_dist(cx, &f("provision_delay"), d)?,
        None => return cx.err(f("provision_delay"), "missing: time from a node's launch until it takes workers"),
    };
    // Nodes needed to hold `w` workers.
    let nodes_for = |w: u32| (w as u64).div_ceil(wpn as u64).min(u32::MAX as u64) as u32;
    let min = match n.min {
        Some(m) => cx.count(&f("min"), m, 0)?,
        None => 0,
    };
    let max = match n.max {
        Some(m) => cx.count(&f("max"), m, 1)?,
        // Room for the autoscaler's max workers (and the initial nodes, if given).
        None => nodes_for(p.autoscaler.max.max(p.workers))
            .max(1)
            .max(n.initial.unwrap_or(0).clamp(0, u32::MAX as i64) as u32),
    };
    if min > max {
        return cx.err(f("min"), format!("min ({min}) exceeds max ({max})"));
    }
    let initial = match n.initial {
        Some(i) => cx.count(&f("initial"), i, 0)?,
        None => nodes_for(p.workers).clamp(min, max),
    };
    if initial < min || initial > max {
        return cx.err(f("initial"), format!("{initial} lies outside min = {min}, max = {max}"));
    }
    if (initial as u64) * (wpn as u64) < p.workers as u64 {
        return cx.err(
            f("initial"),
            format!(
                "{initial} nodes × {wpn} workers per node do not hold the {} initial workers (primary.workers)",
                p.workers
            ),
        );
    }
    let scan_interval = match n.scan_interval {
        Some(d) => cx.positive_dur(&f("scan_interval"), d)?,
        None => SCAN_INTERVAL,
    };
    let scale_down_unneeded_time = n.scale_down_unneeded_time.map_or(SCALE_DOWN_UNNEEDED_TIME, |d| d.0);
    let karpenter = match n.scaler.as_deref() {
        None | Some("cluster_autoscaler") => false,
        Some("karpenter") => true,
        Some(other) => {
            return cx.err(f("scaler"), format!("{other:?}: expected \"cluster_autoscaler\" or \"karpenter\""))
        }
    };
    for (k, v) in [("batch_idle_duration", n.batch_idle_duration), ("batch_max_duration", n.batch_max_duration)] {
        if v.is_some() && !karpenter {
            return cx.err(f(k), "applies only with scaler = \"karpenter\"");
        }
    }
    let batch = if karpenter {
        let idle = n.batch_idle_duration.map(|d| cx.positive_dur(&f("batch_idle_duration"), d)).transpose()?;
        let max = n.batch_max_duration.map(|d| cx.positive_dur(&f("batch_max_duration"), d)).transpose()?;
        let (idle, max) = (idle.unwrap_or(BATCH_IDLE_DURATION), max.unwrap_or(BATCH_MAX_DURATION));
        if idle > max {
            return cx.err(f("batch_idle_duration"), "exceeds batch_max_duration");
        }
        Some((idle, max))
    } else {
        None
    };
    Ok(Some(NodesSpec {
        workers_per_node: wpn,
        provision_delay,
        initial,
        min,
        max,
        scan_interval,
        scale_down_unneeded_time,
        batch,
    }))
}

/// A scaling policy whose new workers are ready the instant they are asked
/// for (no start delay, no warm pool delay, no node layer) is optimistic.
pub(super) fn warn_without_start_delay(p: &PrimarySpec, warnings: &mut Vec<String>) {
    let a = &p.autoscaler;
    let scales = !matches!(a.policy, PolicyKind::None);
    let instant = matches!(a.provision_delay, Dist::Deterministic { value } if value == 0.0);
    if scales && instant && p.nodes.is_none() {
        warnings.push(
            "primary.autoscaler: new workers start instantly (provision_delay = 0 and no [primary.nodes]); \
             real workers take scheduling, image pull and readiness time, so capacity arrives sooner here than in production"
                .into(),
        );
    }
}
