//! `[clients]` and `[report]`: callers that hang up and call again, as they
//! are written (raw serde structs) and once checked (specs the model uses).
//!
//! A client `timeout` is the caller's, invisible to the system: the hung-up
//! attempt stays in the queue and takes a worker when its turn comes
//! (work nobody waits for), unlike `admission.patience`, whose hang-ups
//! leave the queue (Erlang-A). `retry` calls again after a delay drawn from
//! a distribution or an exponential backoff with jitter (the rules of
//! "Exponential Backoff And Jitter", AWS Architecture Blog, 2015), at most
//! `attempts` times in all, within a retry `budget` (a fraction of first
//! attempts over a sliding window, as Finagle's `RetryBudget` does). A call
//! a drain cut off in service may be retried too (`drain_timeout`): the
//! caller redials and the call starts over, its whole duration again.

use serde::Deserialize;

use super::raw_dur::RawDur;
use crate::dist::Dist;
use crate::time::Tick;

/// Why an attempt failed: the reasons of [`crate::observe::FailReason`]
/// a call is turned away for, then `abandoned` (a hang-up while waiting)
/// and `drain_timeout` (cut off in service when its worker's drain grace
/// ended; only when `on` lists it, see [`ClientsSpec::retries_cut_offs`]).
pub const ATTEMPT_REASONS: [&str; 6] =
    ["worker_not_available", "fallback_start_failed", "fallback_throttled", "queue_full", "abandoned", "drain_timeout"];

/// Index of `abandoned` in [`ATTEMPT_REASONS`].
pub const ABANDONED: usize = 4;

/// Index of `drain_timeout` in [`ATTEMPT_REASONS`].
pub const DRAIN_TIMEOUT: usize = 5;

/// Finagle `RetryBudget`'s default window (`ttl` = 10 s; twitter/finagle,
/// `com.twitter.finagle.service.RetryBudget`).
pub const DEFAULT_BUDGET_WINDOW: Tick = Tick::from_secs(10);

/// Default of `[report] recovered_below`: a bin counts as recovered when
/// fewer than 1 % of its attempts fail.
pub const DEFAULT_RECOVERED_BELOW: f64 = 0.01;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClients {
    #[serde(default)]
    pub timeout: Option<RawDur>,
    #[serde(default)]
    pub retry: Option<RawRetry>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    #[serde(default)]
    pub attempts: Option<i64>,
    #[serde(default)]
    pub on: Option<Vec<String>>,
    /// A distribution of durations, or a backoff table (told apart by its
    /// `backoff` key, so both are read after the fact).
    #[serde(default)]
    pub delay: Option<toml::Value>,
    #[serde(default)]
    pub budget: Option<f64>,
    #[serde(default)]
    pub budget_window: Option<RawDur>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackoff {
    pub backoff: String,
    pub base: RawDur,
    pub cap: RawDur,
    #[serde(default)]
    pub jitter: Option<String>,
}

/// Checked `[clients]`.
#[derive(Clone, Debug)]
pub struct ClientsSpec {
    /// The caller hangs up on an attempt still waiting after this.
    pub timeout: Option<Tick>,
    pub retry: Option<RetrySpec>,
    /// When the arrival rate is back to its base after the surge (reported
    /// time), if the process has one surge.
    pub surge_end: Option<Tick>,
    /// `[report] recovered_below`.
    pub recovered_below: f64,
}

impl ClientsSpec {
    /// Whether a drain's cut-off is an attempt that may be retried (`on`
    /// lists `drain_timeout`, which validation allows only where a drain
    /// can cut calls off). Otherwise a cut-off ends its call, as without
    /// clients, and is no failed attempt.
    pub fn retries_cut_offs(&self) -> bool {
        self.retry.as_ref().is_some_and(|r| r.on[DRAIN_TIMEOUT])
    }
}

#[derive(Clone, Debug)]
pub struct RetrySpec {
    /// Most attempts per call, the first included; 0: unlimited.
    pub attempts: u32,
    /// Which attempt failures are retried, indexed as [`ATTEMPT_REASONS`].
    pub on: [bool; 6],
    pub delay: RetryDelay,
    /// Retries may be at most this fraction of the first attempts made
    /// within the last `budget_window`.
    pub budget: Option<f64>,
    pub budget_window: Tick,
}

#[derive(Clone, Debug)]
pub enum RetryDelay {
    Dist(Dist),
    /// Retry k (k = 0 for the first) backs off from `min(cap, base·2^k)`,
    /// seconds, by the jitter rule.
    Backoff {
        base: f64,
        cap: f64,
        jitter: Jitter,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Jitter {
    /// Exactly `min(cap, base·2^k)`.
    None,
    /// Uniform on `[0, min(cap, base·2^k)]`.
    Full,
    /// `v/2` plus uniform on `[0, v/2]`, `v = min(cap, base·2^k)`.
    Equal,
    /// `min(cap, uniform on [base, 3 × the previous delay])`, the first from `base`.
    Decorrelated,
}
