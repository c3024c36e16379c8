//! Stage one of scenario input: serde structs as close to the TOML as
//! possible. Unknown fields are errors (`deny_unknown_fields`); units are
//! still strings here. [`super::validate`] turns these into typed values.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::time::{parse_duration, Tick};

use super::clients::RawClients;
pub use super::raw_dur::RawDur;
use super::raw_dur::RawDurVisitor;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub clock_start: Option<String>,
    pub duration: RawDur,
    #[serde(default)]
    pub bin: Option<RawDur>,
    /// Simulated before `clock_start`, never reported.
    #[serde(default)]
    pub warmup: Option<RawDur>,
    /// Reporting window `"HH:MM..HH:MM"` read against `clock_start`.
    #[serde(default)]
    pub window: Option<String>,
    pub arrivals: RawArrivals,
    pub classes: Vec<RawClass>,
    pub primary: RawPrimary,
    #[serde(default)]
    pub fallback: Option<RawFallback>,
    #[serde(default)]
    pub admission: Option<RawAdmission>,
    #[serde(default)]
    pub cost: Option<RawCost>,
    #[serde(default)]
    pub slo: Option<BTreeMap<String, toml::Value>>,
    /// State at the start of the warm-up (or of the run without one).
    #[serde(default)]
    pub initial: Option<RawInitial>,
    /// Callers' timeouts and retries.
    #[serde(default)]
    pub clients: Option<RawClients>,
    /// What the outputs report beyond the defaults.
    #[serde(default)]
    pub report: Option<RawReport>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    /// Waits for the service-level metrics: durations (`"20s"`) or seconds.
    #[serde(default)]
    pub service_level_thresholds: Option<Vec<toml::Value>>,
    /// With `[clients]`: the failure rate per bin below which the system
    /// counts as recovered (`recovery_time_s`).
    #[serde(default)]
    pub recovered_below: Option<f64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInitial {
    /// Calls already in service on the primary at the start.
    #[serde(default)]
    pub calls_in_flight: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArrivals {
    pub kind: String,
    /// A constant rate (calls/s) or a schedule of rate points.
    #[serde(default)]
    pub rate: Option<RawRate>,
    #[serde(default)]
    pub spike: Option<RawSpike>,
    /// Poisson: a CSV of `t_s,per_s` rate points instead of `rate`.
    #[serde(default)]
    pub rate_file: Option<String>,
    /// How `rate_file` points are joined: "step" (default) or "linear".
    #[serde(default)]
    pub interpolate: Option<String>,
    /// Trace: the CSV of calls.
    #[serde(default)]
    pub file: Option<String>,
    /// Trace: sort rows by time (reads the whole trace into memory).
    #[serde(default)]
    pub sort: Option<bool>,
    /// Trace: RFC 3339 timestamp of `clock_start`, for RFC 3339 arrival times.
    #[serde(default)]
    pub origin: Option<String>,
    /// Trace: ×k by thinning (k < 1) or superposition (k > 1).
    #[serde(default)]
    pub scale: Option<f64>,
    /// Trace: moves every row by this signed duration, e.g. "-5m".
    #[serde(default)]
    pub shift: Option<String>,
    /// MMPP: the states, visited cyclically.
    #[serde(default)]
    pub states: Option<Vec<RawMmppState>>,
    /// Hawkes: background rate μ (calls/s).
    #[serde(default)]
    pub base_per_s: Option<f64>,
    /// Hawkes: branching ratio n in [0, 1).
    #[serde(default)]
    pub branching: Option<f64>,
    /// Hawkes: decay time τ of the excitation.
    #[serde(default)]
    pub decay: Option<RawDur>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMmppState {
    pub per_s: f64,
    pub mean_sojourn: RawDur,
}

#[derive(Clone, Debug)]
pub enum RawRate {
    Constant(f64),
    Schedule(Vec<RawRatePoint>),
    /// A constant rate drawn once per replication.
    Drawn(Box<RawDistTable>),
}

impl<'de> Deserialize<'de> for RawRate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawRate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("calls per second, a list of { at, per_s, to_per_s?, over? }, or a distribution table")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawRate, E> {
                Ok(RawRate::Constant(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawRate, E> {
                Ok(RawRate::Constant(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawRate, E> {
                Ok(RawRate::Constant(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<RawRate, A::Error> {
                Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(RawRate::Schedule)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawRate, A::Error> {
                Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|t| RawRate::Drawn(Box::new(t)))
            }
        }
        d.deserialize_any(V)
    }
}

/// From `at` the rate is `per_s`; with `to_per_s` and `over` it ramps
/// linearly to `to_per_s` and then holds it until the next point.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRatePoint {
    pub at: RawDur,
    pub per_s: RawNum,
    #[serde(default)]
    pub to_per_s: Option<RawNum>,
    #[serde(default)]
    pub over: Option<RawDur>,
}

/// A surge on top of the base rate: from `at` the rate rises over `ramp` to
/// `multiplier` × the base rate at `at`, holds for `hold`, and falls back
/// over `decay`. Each field may also be a distribution, drawn once per
/// replication (a family of surges).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpike {
    pub at: RawDist,
    pub multiplier: RawNum,
    #[serde(default)]
    pub ramp: Option<RawDist>,
    pub hold: RawDist,
    #[serde(default)]
    pub decay: Option<RawDist>,
}

/// A plain number, or a distribution table `{ dist = "...", ... }` drawn
/// once per replication (its duration-like fields read as plain numbers).
#[derive(Clone, Debug)]
pub enum RawNum {
    Plain(f64),
    Table(Box<RawDistTable>),
}

impl<'de> Deserialize<'de> for RawNum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawNum;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, or a table such as { dist = \"lognormal\", median = 2.5, p95 = 4 }")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawNum, E> {
                Ok(RawNum::Plain(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawNum, E> {
                Ok(RawNum::Plain(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawNum, E> {
                Ok(RawNum::Plain(v))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawNum, A::Error> {
                Deserialize::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| RawNum::Table(Box::new(t)))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    pub name: String,
    pub share: f64,
    pub duration: RawDist,
    #[serde(default)]
    pub fallback_eligible: bool,
}

/// A distribution: either a plain duration (deterministic) or a table
/// `{ dist = "...", ... }`.
#[derive(Clone, Debug)]
pub enum RawDist {
    Fixed(RawDur),
    Table(Box<RawDistTable>),
}

impl<'de> Deserialize<'de> for RawDist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawDist;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"30s\", or a table such as { dist = \"exponential\", mean = \"3m\" }")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawDist, E> {
                parse_duration(s).map(|t| RawDist::Fixed(RawDur(t))).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDist, E> {
                de::value::I64Deserializer::new(v).deserialize_any(RawDurVisitor).map(RawDist::Fixed)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawDist, E> {
                de::value::U64Deserializer::new(v).deserialize_any(RawDurVisitor).map(RawDist::Fixed)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawDist, E> {
                de::value::F64Deserializer::new(v).deserialize_any(RawDurVisitor).map(RawDist::Fixed)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawDist, A::Error> {
                Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|t| RawDist::Table(Box::new(t)))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDistTable {
    pub dist: String,
    pub mean: Option<RawDur>,
    pub median: Option<RawDur>,
    pub p95: Option<RawDur>,
    pub mu: Option<f64>,
    pub sigma: Option<f64>,
    pub shape: Option<f64>,
    pub scale: Option<RawDur>,
    pub value: Option<RawDur>,
    pub min: Option<RawDur>,
    pub max: Option<RawDur>,
    pub file: Option<String>,
    pub column: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrimary {
    pub workers: i64,
    #[serde(default = "one")]
    pub calls_per_worker: i64,
    #[serde(default)]
    pub autoscaler: Option<RawAutoscaler>,
    // Scale-down: which workers go, and how long their calls may run on.
    pub scale_down_victim: Option<String>,
    pub drain_grace: Option<RawLimit>,
    /// The node layer under the workers, if modelled.
    #[serde(default)]
    pub nodes: Option<RawNodes>,
}

/// `[primary.nodes]`: the machines the workers (pods) run on, and a node
/// autoscaler in the manner of the Kubernetes Cluster Autoscaler.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNodes {
    pub workers_per_node: Option<i64>,
    pub provision_delay: Option<RawDist>,
    pub initial: Option<i64>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub scan_interval: Option<RawDur>,
    pub scale_down_unneeded_time: Option<RawDur>,
    /// `cluster_autoscaler` (default) or `karpenter`.
    pub scaler: Option<String>,
    pub batch_idle_duration: Option<RawDur>,
    pub batch_max_duration: Option<RawDur>,
}

fn one() -> i64 {
    1
}

/// Every policy's fields in one table; validation rejects the fields that
/// do not apply to the chosen policy.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAutoscaler {
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub preset: Option<String>,
    pub target: Option<f64>,
    pub tolerance: Option<f64>,
    pub interval: Option<RawDur>,
    pub window: Option<RawDur>,
    pub provision_delay: Option<RawDist>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub max_step_up: Option<i64>,
    pub max_step_up_percent: Option<f64>,
    pub max_step_down: Option<i64>,
    pub max_step_down_percent: Option<f64>,
    pub scale_up_cooldown: Option<RawDur>,
    pub scale_down_cooldown: Option<RawDur>,
    pub scale_down_stabilization: Option<RawDur>,
    pub steps: Option<Vec<RawStep>>,
    pub scale_in: Option<RawScaleIn>,
    pub schedule: Option<Vec<RawScheduled>>,
    /// Warm pool of an auto-scaling group: stopped instances that start in
    /// `warm_pool_delay` instead of `provision_delay`.
    pub warm_pool: Option<i64>,
    pub warm_pool_delay: Option<RawDur>,
    /// `stopped`, `running` or `hibernated`: the pool's instance state.
    pub warm_pool_state: Option<String>,
    /// Time to launch a replacement into the pool (`unlimited`: none).
    pub warm_pool_refill_delay: Option<RawLimit>,
    /// Instances return to the pool on scale-in.
    pub reuse_on_scale_in: Option<bool>,
    /// This many of the initial workers are never scale-in victims.
    pub protect_from_scale_in: Option<i64>,
    // What the scaler sees, KEDA's activation loop and EC2 warm-up.
    pub metric: Option<String>,
    pub scrape_interval: Option<RawDur>,
    pub metric_lag: Option<RawDur>,
    pub polling_interval: Option<RawDur>,
    pub cooldown_period: Option<RawDur>,
    pub warmup: Option<RawDur>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub above: f64,
    pub add: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScaleIn {
    pub below: f64,
    pub remove: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScheduled {
    pub at: RawDur,
    pub min: i64,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFallback {
    #[serde(default)]
    pub preset: Option<String>,
    pub max_concurrency: Option<i64>,
    pub cold_start: Option<RawDist>,
    pub idle_timeout: Option<RawDur>,
    pub provisioned_concurrency: Option<i64>,
    /// Lambda-like scaling: concurrency may grow by `scale_rate` instances
    /// per `scale_interval` beyond the burst limit.
    pub burst_limit: Option<i64>,
    pub scale_rate: Option<i64>,
    pub scale_interval: Option<RawDur>,
    pub image_arch: Option<String>,
    pub runtime_arch: Option<String>,
    pub health: Option<RawHealth>,
    pub canary: Option<RawCanary>,
    pub start_failure_latency: Option<RawDist>,
}

#[derive(Clone, Debug)]
pub enum RawHealth {
    Mode(String),
    Table(RawHealthTable),
}

impl<'de> Deserialize<'de> for RawHealth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawHealth;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"healthy\", \"broken\", { degraded = P } or { broken_from = T, broken_until = T }")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawHealth, E> {
                Ok(RawHealth::Mode(s.to_string()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawHealth, A::Error> {
                Deserialize::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawHealth::Table)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealthTable {
    pub degraded: Option<f64>,
    pub broken_from: Option<RawDur>,
    pub broken_until: Option<RawDur>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCanary {
    pub interval: RawDur,
    #[serde(default)]
    pub offset: Option<RawDur>,
    #[serde(default)]
    pub failures_to_alert: Option<i64>,
    #[serde(default)]
    pub on_detect: Option<RawActions>,
}

#[derive(Clone, Debug)]
pub struct RawActions(pub Vec<RawAction>);

impl<'de> Deserialize<'de> for RawActions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawActions;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an action table { after, primary_min, stop_routing, fix_fallback } or a list of them")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawActions, A::Error> {
                Deserialize::deserialize(de::value::MapAccessDeserializer::new(map)).map(|a| RawActions(vec![a]))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<RawActions, A::Error> {
                Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(RawActions)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAction {
    #[serde(default)]
    pub after: Option<RawDur>,
    pub primary_min: Option<i64>,
    pub stop_routing: Option<bool>,
    pub fix_fallback: Option<bool>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmission {
    #[serde(default)]
    pub max_wait: Option<RawLimit>,
    #[serde(default)]
    pub patience: Option<RawDist>,
    #[serde(default)]
    pub queue_limit: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    pub primary_worker_hour: Option<f64>,
    pub fallback_per_invocation: Option<f64>,
    pub fallback_per_second: Option<f64>,
    /// Price of one node for an hour (with `[primary.nodes]`).
    pub node_hour: Option<f64>,
    /// Price of one slot of `fallback.max_concurrency` for an hour.
    pub fallback_slot_hour: Option<f64>,
}

// ---------------------------------------------------------------------------
// Limits that may be lifted: `max_wait`, `drain_grace`.
// ---------------------------------------------------------------------------

/// A duration or `"unlimited"` (`None`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RawLimit(pub Option<Tick>);

impl<'de> Deserialize<'de> for RawLimit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawLimit;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"unlimited\" or a duration such as \"90s\", \"4m\", \"1h30m\" or a number of seconds")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawLimit, E> {
                if s.trim() == "unlimited" {
                    return Ok(RawLimit(None));
                }
                RawDurVisitor.visit_str(s).map(|d| RawLimit(Some(d.0)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawLimit, E> {
                RawDurVisitor.visit_i64(v).map(|d| RawLimit(Some(d.0)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawLimit, E> {
                RawDurVisitor.visit_u64(v).map(|d| RawLimit(Some(d.0)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawLimit, E> {
                RawDurVisitor.visit_f64(v).map(|d| RawLimit(Some(d.0)))
            }
        }
        d.deserialize_any(V)
    }
}
