//! Presets: defaults taken from real systems, filled in under the fields a
//! scenario sets itself (an explicit field always wins).
//!
//! | preset | models | source of the numbers |
//! | --- | --- | --- |
//! | `k8s-hpa` | Kubernetes HorizontalPodAutoscaler v2 | Kubernetes docs, "Horizontal Pod Autoscaling": `--horizontal-pod-autoscaler-sync-period` 15 s, tolerance 0.1, default `behavior`: scale-down stabilisation 300 s with 100 % per 15 s, scale-up 0 s stabilisation with the larger of 100 % or 4 pods per 15 s; pod start (`provision_delay`) below the table |
//! | `k8s-hpa` metric | the HPA's CPU metric from metrics-server | `metric = "utilisation"` (a resource metric, capped at 100 % of a pod's slots like CPU); `scrape_interval` 15 s: metrics-server `--metric-resolution` as set in its upstream manifest (kubernetes/kubernetes PR #117121 "Set metrics-server's metric-resolution to 15s"; the flag's own default is 60 s); `metric_lag` 0 |
//! | `keda` | KEDA ScaledObject (drives an HPA) | KEDA docs, "ScaledObject specification": `pollingInterval` 30 s (the activation loop, 0 ↔ 1), `cooldownPeriod` 300 s (only N → 0, counted from the last active trigger), `minReplicaCount` 0; 1 ↔ N is the HPA's, with the HPA defaults above at 15 s; the metric is the trigger's average value (`concurrency`), read by the HPA at each sync |
//! | `asg` | EC2 Auto Scaling target tracking | AWS docs, "Create a target tracking scaling policy" (metrics at 1-minute intervals), "Set the default instance warmup" (a new instance's metrics count only after the warm-up after InService; warming instances count as capacity on scale-out and block scale-in; without a default warm-up the policy falls back to the 300 s default cooldown), and "Warm pools": `interval` and `scrape_interval` 60 s, `metric = "utilisation"` (average CPU), `warmup` 300 s, no scale-in cooldown; `metric_lag` 60 s is assumed (one metric period to publish); warm pool below the table |
//! | `lambda` (fallback) | AWS Lambda | AWS docs, "Lambda scaling behavior": each function scales by 1,000 concurrent executions every 10 s, account concurrency 1,000 by default; init (cold start) typically a few hundred ms (lognormal median 400 ms, p95 1.5 s assumed); idle environments are reclaimed after minutes (10 min assumed) |
//!
//! **Pod start (`provision_delay`) for `k8s-hpa` and `keda`**: lognormal,
//! median 10 s, p95 30 s, from the decision to a ready pod on a node that
//! has room (scheduling + image pull + container start + readiness). The
//! parts: the Kubernetes scalability SLO "pod startup latency"
//! (kubernetes/community, `sig-scalability/slos/pod_startup_latency.md`) is
//! 99th percentile ≤ 5 s for stateless pods *excluding* image pull, and the
//! cluster-loader2 kubelet measurement uses the same 5 s threshold; the
//! default readiness probe `periodSeconds` is 10 s (Kubernetes docs,
//! "Configure Liveness, Readiness and Startup Probes"), so a pod is seen
//! ready up to 10 s after its container starts; image pull is assumed to
//! take a few seconds to tens of seconds (an image of some hundred MB not
//! cached on the node; pulls are serial per node by default,
//! `serializeImagePulls`, Kubernetes blog "Kubernetes 1.27: updates on
//! speeding up Pod startup"). The median and p95 are assumed from these
//! parts, not measured; a new node, when needed, is `[primary.nodes]`.
//!
//! **Warm pools (`asg`)**: AWS docs, "Warm pools for Amazon EC2 Auto
//! Scaling" and the `AWS::AutoScaling::WarmPool` / `PutWarmPool` reference:
//! the pool state is `Stopped` by default (`PoolState`; `Running` and
//! `Hibernated` are the alternatives), so `warm_pool_state = "stopped"`;
//! instances return to the pool on scale-in only with the instance reuse
//! policy `ReuseOnScaleIn`, false by default, so `reuse_on_scale_in =
//! false`; when the pool shrinks on a scale-out, new instances are launched
//! into it to keep its minimum size, so the pool refills in the background,
//! each replacement taking a cold launch (`warm_pool_refill_delay` 300 s,
//! the preset's `provision_delay`). The delays from the pool to InService
//! are assumed, not published: stopped 30 s (the instance boots from a
//! stopped EBS volume, its application already initialised), hibernated
//! 20 s (its memory is restored, no boot of the application), running 10 s
//! (only the lifecycle transition and health check). Scale-in protection
//! (`protect_from_scale_in`, "Use instance scale-in protection") is off
//! unless set.

use super::raw::{RawAutoscaler, RawDist, RawDistTable, RawDur, RawFallback, RawLimit};
use crate::time::Tick;

/// Delay from a warm pool to InService by instance state (assumed; sources
/// and reasoning in the module header).
pub const WARM_POOL_STOPPED: Tick = Tick::from_secs(30);
pub const WARM_POOL_HIBERNATED: Tick = Tick::from_secs(20);
pub const WARM_POOL_RUNNING: Tick = Tick::from_secs(10);

fn secs(s: u64) -> Option<RawDur> {
    Some(RawDur(Tick::from_secs(s)))
}

/// Pod start of the `k8s-hpa` and `keda` presets (sources in the module
/// header): lognormal, median 10 s, p95 30 s.
fn pod_start() -> RawDist {
    RawDist::Table(Box::new(RawDistTable {
        dist: "lognormal".into(),
        median: Some(RawDur(Tick::from_secs(10))),
        p95: Some(RawDur(Tick::from_secs(30))),
        ..Default::default()
    }))
}

/// `raw` with the named preset's defaults filled in.
pub fn apply_autoscaler_preset(raw: &RawAutoscaler) -> Result<RawAutoscaler, String> {
    let mut a = raw.clone();
    let Some(name) = raw.preset.as_deref() else { return Ok(a) };
    let hpa = |a: &mut RawAutoscaler| {
        a.policy.get_or_insert_with(|| "target-utilization".into());
        a.provision_delay = a.provision_delay.take().or_else(|| Some(pod_start()));
        a.interval = a.interval.or(secs(15));
        a.tolerance = a.tolerance.or(Some(0.1));
        a.scale_down_stabilization = a.scale_down_stabilization.or(secs(300));
        if a.max_step_up.is_none() && a.max_step_up_percent.is_none() {
            a.max_step_up = Some(4);
            a.max_step_up_percent = Some(100.0);
        }
        if a.max_step_down.is_none() && a.max_step_down_percent.is_none() {
            a.max_step_down_percent = Some(100.0);
        }
    };
    match name {
        "k8s-hpa" => {
            a.metric.get_or_insert_with(|| "utilisation".into());
            a.scrape_interval = a.scrape_interval.or(secs(15));
            hpa(&mut a);
        }
        "keda" => {
            a.polling_interval = a.polling_interval.or(secs(30));
            // `polling_interval = 0` keeps a single loop (no cooldown to zero).
            if a.polling_interval.is_some_and(|p| p.0 > Tick::ZERO) {
                a.cooldown_period = a.cooldown_period.or(secs(300));
            }
            a.min = a.min.or(Some(0));
            hpa(&mut a);
        }
        "asg" => {
            a.policy.get_or_insert_with(|| "target-utilization".into());
            a.interval = a.interval.or(secs(60));
            a.provision_delay = a.provision_delay.or(Some(RawDist::Fixed(RawDur(Tick::from_secs(300)))));
            a.metric.get_or_insert_with(|| "utilisation".into());
            a.scrape_interval = a.scrape_interval.or(secs(60));
            a.metric_lag = a.metric_lag.or(secs(60));
            a.warmup = a.warmup.or(secs(300));
            a.warm_pool_state.get_or_insert_with(|| "stopped".into());
            a.reuse_on_scale_in = a.reuse_on_scale_in.or(Some(false));
            a.warm_pool_refill_delay = a.warm_pool_refill_delay.or(Some(RawLimit(Some(Tick::from_secs(300)))));
        }
        other => return Err(format!("{other:?}: expected k8s-hpa, keda or asg")),
    }
    Ok(a)
}

/// `raw` with the named fallback preset's defaults filled in.
pub fn apply_fallback_preset(raw: &RawFallback) -> Result<RawFallback, String> {
    let mut f = raw.clone();
    let Some(name) = raw.preset.as_deref() else { return Ok(f) };
    match name {
        "lambda" => {
            f.max_concurrency = f.max_concurrency.or(Some(1000));
            f.burst_limit = f.burst_limit.or(Some(1000));
            f.scale_rate = f.scale_rate.or(Some(1000));
            f.scale_interval = f.scale_interval.or(secs(10));
            f.idle_timeout = f.idle_timeout.or(secs(600));
            f.cold_start = f.cold_start.or(Some(RawDist::Table(Box::new(RawDistTable {
                dist: "lognormal".into(),
                median: Some(RawDur(Tick(400_000))),
                p95: Some(RawDur(Tick(1_500_000))),
                ..Default::default()
            }))));
        }
        other => return Err(format!("{other:?}: expected lambda")),
    }
    Ok(f)
}
