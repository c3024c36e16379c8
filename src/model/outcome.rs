//! What one simulated run hands back: the observer with its counts, bins
//! and integrals, and the logs the model kept (scaling decisions,
//! saturation spells, failed calls), every time already reported (relative
//! to t = 0). `experiment::simulate` collects it into a `RunResult`.

pub use super::autoscaler::ScaleEvent;
use super::nodes::Nodes;
use super::Sim;
use crate::observe::{FailReason, Observer};
use crate::time::Tick;

/// Largest number of failed calls kept in a run's failure log.
pub const FAILURE_LOG_LIMIT: usize = 100_000;

/// One failed call, for the optional failure log.
#[derive(Clone, Debug, PartialEq)]
pub struct CallFailure {
    /// Reported time of the arrival.
    pub at: Tick,
    pub class: u16,
    pub reason: FailReason,
    pub busy_primary: u64,
    pub capacity_primary: u64,
    pub fallback_busy: u32,
}

/// Everything a finished run measured, as the model leaves it.
pub struct Outcome {
    pub obs: Observer,
    /// What passes unchanged into the run's result.
    pub end: RunEnd,
    /// Reported seconds the canary raised its alert (negative: during the warm-up).
    pub detected_at: Option<f64>,
    /// Reported seconds the fallback became broken.
    pub broken_since: Option<f64>,
    /// Spells `[from, to)` in which arriving calls found the primary full.
    pub saturation: Vec<(Tick, Tick)>,
    /// With `[clients]`: calls waiting to retry at the end (first arrival
    /// in the reported span).
    pub retrying_end: Option<u64>,
}

/// What the model knows at the end of a run beyond the observer's counts.
#[derive(Clone, Debug)]
pub struct RunEnd {
    /// Calls still waiting at the end (arrived in the reported span).
    pub waiting_end: u64,
    /// Calls in service at the end (any arrival time).
    pub in_service_end: u64,
    pub fallback_cold_starts: u64,
    /// Scaling decisions, at reported times.
    pub scale_log: Vec<ScaleEvent>,
    pub failure_log: Option<Vec<CallFailure>>,
    pub failures_dropped: u64,
    /// Largest number of pending events: bounded by calls in flight.
    pub peak_pending_events: usize,
    /// Event slots the queue held allocated at the end: linear in the peak
    /// of pending events, never in the total of calls.
    pub queue_slots: usize,
    pub worker_records: usize,
    /// Billed node-seconds of the reported span with `[primary.nodes]`;
    /// `None` without a node layer.
    pub node_seconds: Option<f64>,
    /// A trace read error that ended the arrivals early (the run is invalid).
    pub arrival_error: Option<String>,
}

/// The outcome is the simulation's state, its times made relative to the
/// reported start.
impl Sim<'_> {
    pub(super) fn into_outcome(self, queue_slots: usize) -> Outcome {
        let warm = self.warm;
        let rep = |t: Tick| t.saturating_sub(warm);
        let signed = |t: Tick| t.as_secs_f64() - warm.as_secs_f64();
        // Orphans (their callers gone) are no calls of anyone's any more.
        let waiting_end =
            self.waiting.iter_live().filter(|w| !w.orphan && self.first_of(w.seq, w.arrival) >= warm).count() as u64;
        let retrying_end = self.clients.as_ref().map(|c| c.retrying_since(warm));
        let end = RunEnd {
            waiting_end,
            in_service_end: self.primary.busy + self.fallback.as_ref().map_or(0, |f| (f.busy - f.failing) as u64),
            fallback_cold_starts: self.fallback_cold_starts,
            scale_log: self
                .scale_log
                .into_iter()
                .map(|e| ScaleEvent { at: rep(e.at), ready: e.ready.map(|(a, b)| (rep(a), rep(b))), ..e })
                .collect(),
            failure_log: self.failure_log,
            failures_dropped: self.failures_dropped,
            peak_pending_events: self.peak_pending_events,
            queue_slots,
            worker_records: self.primary.records(),
            node_seconds: self.nodes.as_ref().map(Nodes::node_seconds),
            arrival_error: self.calls.error().map(|e| e.to_string()),
        };
        Outcome {
            end,
            detected_at: self.canary.detected_at.map(signed),
            broken_since: self.fallback.as_ref().and_then(|f| f.broken_since()).map(signed),
            saturation: {
                let mut spells = self.saturation;
                if let Some(since) = self.saturated_since {
                    spells.push((since, self.end));
                }
                spells.into_iter().filter(|&(_, b)| b > warm).map(|(a, b)| (rep(a), rep(b))).collect()
            },
            retrying_end,
            obs: self.obs,
        }
    }
}
