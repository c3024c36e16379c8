//! Per-call records: what happened to each call of a run, for
//! `surgesim trace`. Opt-in: a run records only when given a callback
//! ([`super::simulate_recording`]); without one the model keeps no record
//! and its results are unchanged.
//!
//! A record is handed over when the call's fate is settled (at once for a
//! call served or turned away on arrival, later for a call that waits, and
//! at its end for a primary call a drain could cut off), so
//! records come out of arrival order; `seq` (the call's index in arrival
//! order, warm-up included) lets a writer put them back in order.

use crate::observe::FailReason;
use crate::time::Tick;

/// What happened to a call.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    ServedPrimary,
    ServedFallback,
    /// Turned away at once, or (`drain_timeout`) started on the primary and
    /// cut off when its worker's drain grace ended.
    Failed(FailReason),
    /// Gave up while waiting.
    Abandoned,
    /// Still waiting when the run ended.
    Waiting,
}

impl CallOutcome {
    /// The name written in the `outcome` column of a trace.
    pub fn name(self) -> &'static str {
        match self {
            CallOutcome::ServedPrimary => "served_primary",
            CallOutcome::ServedFallback => "served_fallback",
            CallOutcome::Failed(r) => r.name(),
            CallOutcome::Abandoned => "abandoned",
            CallOutcome::Waiting => "waiting",
        }
    }
}

/// One call and its fate. Times are internal (from the start of the warm-up).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct CallRecord {
    /// Index of the call in arrival order, from 0.
    pub seq: u64,
    pub arrival: Tick,
    pub class: u16,
    /// The service time the call asked for (drawn or from the trace).
    pub duration: Tick,
    pub outcome: CallOutcome,
    /// When service ended (after any wait and fallback start), for served
    /// calls; the cut-off, for a call cut off by a drain.
    pub end: Option<Tick>,
}

impl CallRecord {
    /// The record of a call that waited.
    pub(super) fn waited(w: &super::waiting::Waiter, outcome: CallOutcome, end: Option<Tick>) -> CallRecord {
        CallRecord { seq: w.seq, arrival: w.arrival, class: w.class, duration: w.duration, outcome, end }
    }
}

/// The callback a recording run hands each record to.
pub type Recorder<'r> = &'r mut dyn FnMut(CallRecord);
