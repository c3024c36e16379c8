//! Scenarios: what to simulate.
//!
//! Input is read in two stages (see `raw` and `validate`): serde structs as
//! close to the TOML as possible, then a checked, unit-resolved
//! [`Scenario`] that the model uses. Nothing downstream ever sees a raw
//! value, a unit string or an unchecked number.

pub mod clients;
mod error;
mod load;
pub mod overrides;
mod presets;
pub mod raw;
mod raw_dur;
mod validate;

pub use error::ScenarioError;
pub use load::{load, load_str};

use crate::arrivals::ArrivalSpec;
use crate::dist::Dist;
use crate::time::Tick;

/// A validated scenario: every number checked, every unit resolved.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    /// Clock label of t = 0, seconds after midnight.
    pub clock_start: u64,
    /// Reported span, from t = 0.
    pub duration: Tick,
    /// Width of the time-series bins.
    pub bin: Tick,
    /// Simulated before t = 0 and never reported.
    pub warmup: Tick,
    /// Reporting window `[from, to)` relative to t = 0, if any.
    pub window: Option<(Tick, Tick)>,
    /// For a family of surges, the rate at the drawn fields' means.
    pub arrivals: ArrivalSpec,
    /// A family of surges: Poisson rate fields drawn per replication
    /// (`None` when every field is a plain number).
    pub surge: Option<crate::arrivals::family::SurgeFamily>,
    pub classes: Vec<CallClass>,
    pub primary: PrimarySpec,
    pub fallback: Option<FallbackSpec>,
    pub admission: Admission,
    pub cost: CostSpec,
    /// Calls in service on the primary at the start of the warm-up.
    pub initial_calls: u64,
    /// Callers' timeouts and retries (`None`: callers neither hang up on
    /// their own nor call again).
    pub clients: Option<clients::ClientsSpec>,
    /// Raw SLO thresholds, keyed as written; checked by `slo`.
    pub slo: Vec<(String, toml::Value)>,
    /// Service-level thresholds, each with the label its metric names use
    /// (`service_level_20s`); empty when the scenario reports none.
    pub service_levels: Vec<(String, Tick)>,
    /// Warnings found while validating (e.g. an architecture mismatch).
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct CallClass {
    pub name: String,
    pub share: f64,
    pub duration: Dist,
    pub fallback_eligible: bool,
}

#[derive(Clone, Debug)]
pub struct PrimarySpec {
    /// Workers ready at t = −warmup.
    pub workers: u32,
    pub calls_per_worker: u32,
    pub autoscaler: AutoscalerSpec,
    /// The node layer under the workers; `None`: workers need no node.
    pub nodes: Option<NodesSpec>,
    /// Which ready workers a scale-down removes.
    pub scale_down_victim: Victim,
    /// How long a removed worker's calls may run on before they are cut off
    /// (`None`: until they finish).
    pub drain_grace: Option<Tick>,
}

impl PrimarySpec {
    /// Whether a scale-down can cut calls off: the drain grace is finite
    /// and something may remove workers (a policy, or KEDA's poll). Only
    /// then do outputs carry a `failed_drain_timeout` column.
    pub fn drain_can_cut(&self) -> bool {
        self.drain_grace.is_some()
            && (!matches!(self.autoscaler.policy, PolicyKind::None) || self.autoscaler.polling_interval.is_some())
    }
}

/// `[primary.nodes]`: nodes with room for `workers_per_node` workers each,
/// and a Cluster-Autoscaler-like node autoscaler.
#[derive(Clone, Debug)]
pub struct NodesSpec {
    pub workers_per_node: u32,
    /// Time from a node's launch until workers can be placed on it.
    pub provision_delay: Dist,
    /// Nodes ready at t = −warmup.
    pub initial: u32,
    pub min: u32,
    pub max: u32,
    /// How often the node autoscaler looks for pending workers and unneeded nodes.
    pub scan_interval: Tick,
    /// How long a node must have been unneeded before it is removed.
    pub scale_down_unneeded_time: Tick,
    /// Karpenter's batching window `(idle, max)`: nodes are launched when
    /// no worker has become pending for `idle`, or `max` after the first
    /// one; `None`: the Cluster Autoscaler's scans launch them.
    pub batch: Option<(Tick, Tick)>,
}

/// Which ready workers a scale-down removes (launches still provisioning
/// are cancelled first, newest first, either way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Victim {
    /// The most recently ready first, as a Kubernetes ReplicaSet does.
    Newest,
    /// The workers with the fewest calls first (ties: lowest id).
    LeastLoaded,
}

/// How the autoscaler decides.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyKind {
    /// Fixed capacity (apart from `on_detect` actions).
    None,
    /// Kubernetes-HPA-like: desired = ceil(busy / (slots per worker × target)).
    TargetUtilization { target: f64, tolerance: f64 },
    /// Utilisation thresholds add workers; an optional threshold removes.
    Step { steps: Vec<(f64, u32)>, scale_in: Option<(f64, u32)> },
    /// Only `schedule` (pre-warming) changes capacity.
    Scheduled,
}

#[derive(Clone, Debug)]
pub struct AutoscalerSpec {
    pub policy: PolicyKind,
    pub interval: Tick,
    /// Length of the utilisation window the policy sees.
    pub window: Tick,
    pub provision_delay: Dist,
    pub min: u32,
    pub max: u32,
    pub max_step_up: StepLimit,
    pub max_step_down: StepLimit,
    pub scale_up_cooldown: Tick,
    pub scale_down_cooldown: Tick,
    pub scale_down_stabilization: Tick,
    /// `(at, min)`: from `at`, the minimum becomes `min`.
    pub schedule: Vec<(Tick, u32)>,
    pub warm_pool: u32,
    /// Time from the pool to InService (by the pool's instance state).
    pub warm_pool_delay: Tick,
    /// Time to launch a replacement into the pool after an instance left
    /// it (`None`: the pool is never refilled).
    pub warm_pool_refill: Option<Tick>,
    /// Instances removed by a scale-in return to the pool.
    pub reuse_on_scale_in: bool,
    /// The first this many initial workers are never removed by a scale-in.
    pub protect_from_scale_in: u32,
    /// What the scaler measures, how often, averaged and delayed how.
    pub metric: MetricSpec,
    /// KEDA's activation loop: every `polling_interval` the pool goes
    /// 0 → 1 on an active trigger and N → 0 once `cooldown_period` has
    /// passed since the last active one; the policy then keeps ≥ 1.
    pub polling_interval: Option<Tick>,
    pub cooldown_period: Tick,
    /// EC2 instance warm-up: a worker's first `warmup` after it is ready
    /// does not count in the metric's capacity.
    pub warmup: Tick,
}

/// The scaler's metric: `kind`, scraped every `scrape_interval` (at each
/// evaluation when `None`), seen `lag` after it is scraped.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MetricSpec {
    pub kind: MetricKind,
    pub scrape_interval: Option<Tick>,
    pub lag: Tick,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MetricKind {
    /// Calls in service + waiting (the default).
    #[default]
    Concurrency,
    /// Busy slots over ready slots: at most 1, blind to calls turned away.
    Utilisation,
    /// Every arriving call per second, served or not.
    ArrivalRate,
}

/// A limit on how much one decision may change the worker count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLimit {
    pub workers: Option<u32>,
    pub percent: Option<f64>,
}

impl StepLimit {
    pub const NONE: StepLimit = StepLimit { workers: None, percent: None };

    /// The largest change allowed from `current` workers (the larger of the
    /// two limits when both are set, as an HPA `selectPolicy: Max` does).
    pub fn allowed(&self, current: u32) -> u32 {
        let by_pct = self.percent.map(|p| ((current as f64) * p / 100.0).ceil().max(1.0) as u32);
        match (self.workers, by_pct) {
            (None, None) => u32::MAX,
            (Some(w), None) => w,
            (None, Some(p)) => p,
            (Some(w), Some(p)) => w.max(p),
        }
    }

    /// The largest scale-down allowed from `current` workers: as the HPA
    /// computes it, a percent policy keeps ceil(current × (1 − p/100)),
    /// i.e. removes floor(current × p/100) (possibly none).
    pub fn allowed_down(&self, current: u32) -> u32 {
        let by_pct =
            self.percent.map(|p| (current as f64 - ((current as f64) * (1.0 - p / 100.0)).ceil()).max(0.0) as u32);
        match (self.workers, by_pct) {
            (None, None) => u32::MAX,
            (Some(w), None) => w,
            (None, Some(p)) => p,
            (Some(w), Some(p)) => w.max(p),
        }
    }
}

#[derive(Clone, Debug)]
pub struct FallbackSpec {
    pub max_concurrency: u32,
    pub cold_start: Dist,
    pub idle_timeout: Tick,
    pub provisioned_concurrency: u32,
    /// Lambda-like scaling: concurrency beyond `burst_limit` grows by
    /// `scale_rate` per `scale_interval`.
    pub burst_limit: Option<u32>,
    pub scale_rate: u32,
    pub scale_interval: Tick,
    pub image_arch: Option<String>,
    pub runtime_arch: Option<String>,
    pub health: Health,
    pub canary: Option<CanarySpec>,
    /// How long a failing start takes, holding a concurrency slot, before
    /// the call fails (`None`: it fails at once and holds nothing).
    pub start_failure_latency: Option<Dist>,
}

/// Fallback health over the run. Its times are reported times (from
/// t = 0); the model shifts them by the warm-up ([`Health::shifted`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Health {
    Healthy,
    /// Each invocation fails with probability p.
    Degraded(f64),
    /// No invocation succeeds in `[from, until)`.
    Broken {
        from: Tick,
        until: Tick,
    },
}

impl Health {
    /// The same health `by` later (for a clock that starts before t = 0).
    pub fn shifted(&self, by: Tick) -> Health {
        match *self {
            Health::Broken { from, until } => {
                Health::Broken { from: from.saturating_add(by), until: until.saturating_add(by) }
            }
            other => other,
        }
    }

    /// Whether every start fails at `t`.
    pub fn broken_at(&self, t: Tick) -> bool {
        matches!(*self, Health::Broken { from, until } if t >= from && t < until)
    }

    /// Probability that one start fails at `t` (before any fix).
    pub fn failure_probability(&self, t: Tick) -> f64 {
        match *self {
            Health::Healthy => 0.0,
            Health::Degraded(p) => p,
            Health::Broken { .. } => {
                if self.broken_at(t) {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// The first time every start fails, if ever.
    pub fn broken_since(&self) -> Option<Tick> {
        match *self {
            Health::Broken { from, .. } => Some(from),
            _ => None,
        }
    }

    /// The health as a failed start's explanation reads it.
    pub fn describe(&self) -> String {
        match *self {
            Health::Healthy => "healthy".into(),
            Health::Degraded(p) => format!("degraded: each start fails with p = {p}"),
            Health::Broken { .. } => "fallback broken".into(),
        }
    }
}

impl FallbackSpec {
    /// The image and runtime architectures, when both are given and differ.
    pub fn arch_mismatch(&self) -> Option<(&str, &str)> {
        arch_mismatch(self.image_arch.as_deref(), self.runtime_arch.as_deref())
    }
}

#[derive(Clone, Debug)]
pub struct CanarySpec {
    pub interval: Tick,
    pub offset: Tick,
    pub failures_to_alert: u32,
    pub on_detect: Vec<Action>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    pub after: Tick,
    pub primary_min: Option<u32>,
    pub stop_routing: bool,
    pub fix_fallback: bool,
}

#[derive(Clone, Debug)]
pub struct Admission {
    /// Whether a call that finds no slot may wait (else it fails at once).
    pub waits: bool,
    /// How long a caller waits before giving up (`None`: indefinitely).
    pub patience: Option<Dist>,
    /// The system's own limit on a wait (`None`: unlimited). A waiting call
    /// leaves at the earlier of its patience and this limit.
    pub max_wait: Option<Tick>,
    pub queue_limit: Option<u64>,
}

#[derive(Clone, Debug, Default)]
pub struct CostSpec {
    pub primary_worker_hour: f64,
    pub fallback_per_invocation: f64,
    pub fallback_per_second: f64,
    pub node_hour: f64,
    /// Price of one slot of `fallback.max_concurrency` for an hour of the
    /// run, used or not (capacity reserved ahead).
    pub fallback_slot_hour: f64,
    /// The slots so billed: `fallback.max_concurrency` (0 without a fallback).
    pub fallback_slots: f64,
}

/// The image and runtime architectures when both are given and name
/// different CPUs: the one place a mismatch is decided. Without an explicit
/// `health`, validation makes such a fallback broken for the whole run.
pub fn arch_mismatch<'a>(image: Option<&'a str>, runtime: Option<&'a str>) -> Option<(&'a str, &'a str)> {
    match (image, runtime) {
        (Some(i), Some(r)) if !same_arch(i, r) => Some((i, r)),
        _ => None,
    }
}

/// Whether two CPU architecture names mean the same (`aarch64` = `arm64`,
/// `amd64` = `x86` = `x86_64`), case-insensitively.
fn same_arch(a: &str, b: &str) -> bool {
    let norm = |s: &str| match s.to_ascii_lowercase().as_str() {
        "arm64" | "aarch64" => "arm64".to_string(),
        "x86_64" | "x86" | "amd64" | "x64" => "x86_64".to_string(),
        o => o.to_string(),
    };
    norm(a) == norm(b)
}

impl Scenario {
    /// Total primary slots at the start.
    pub fn initial_slots(&self) -> u64 {
        self.primary.workers as u64 * self.primary.calls_per_worker as u64
    }

    /// Class index by name.
    pub fn class_index(&self, name: &str) -> Option<usize> {
        self.classes.iter().position(|c| c.name == name)
    }

    /// Expected arrivals over warm-up and the reported span.
    pub fn expected_calls(&self) -> f64 {
        self.arrivals.expected_count(self.warmup.saturating_add(self.duration))
    }

    /// The arrival process of replication `run`: the scenario's own, or
    /// the surge drawn for `run` from its family.
    pub fn arrivals_for(&self, run: u64) -> std::borrow::Cow<'_, ArrivalSpec> {
        match &self.surge {
            None => std::borrow::Cow::Borrowed(&self.arrivals),
            Some(f) => std::borrow::Cow::Owned(ArrivalSpec::Poisson(f.draw(self.seed, run).0)),
        }
    }

    /// The values drawn for replication `run` by the family of surges
    /// (field path, value); empty without one.
    pub fn surge_draws(&self, run: u64) -> Vec<(String, f64)> {
        self.surge.as_ref().map_or_else(Vec::new, |f| f.draw(self.seed, run).1)
    }
}
