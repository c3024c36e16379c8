//! Streaming observation of one run: counters, time bins and a wait
//! histogram. Memory is O(bins + classes), independent of the number of
//! calls; every update is O(1) (amortised over bin boundaries).
//!
//! Outcomes (served, failed, abandoned) are counted in the bin of the call's
//! *arrival*, so a bin row reads "of the calls that arrived here, this many
//! failed", sums over bins equal the run's totals, and a reporting window
//! counts the calls that arrived in it whatever happened to them later.
//! Levels (busy, capacity, …) are time-weighted averages over each bin.

use hdrhistogram::Histogram;

use crate::time::Tick;

/// Why a call was not served.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FailReason {
    /// No primary slot, and no fallback or queue took the call.
    WorkerNotAvailable = 0,
    /// Routed to the fallback, whose start failed (broken or degraded).
    FallbackStartFailed = 1,
    /// Routed to the fallback, which was at its concurrency limit.
    FallbackThrottled = 2,
    /// The waiting queue was at `queue_limit`.
    QueueFull = 3,
    /// In service on a worker removed by a scale-down, still running when
    /// the worker's `drain_grace` ended (counted in [`Counts::drain_timeout`],
    /// not in `failed_by`).
    DrainTimeout = 4,
}

pub const REASONS: [FailReason; 4] = [
    FailReason::WorkerNotAvailable,
    FailReason::FallbackStartFailed,
    FailReason::FallbackThrottled,
    FailReason::QueueFull,
];

impl FailReason {
    /// The name used in every output file.
    pub fn name(self) -> &'static str {
        match self {
            FailReason::WorkerNotAvailable => "worker_not_available",
            FailReason::FallbackStartFailed => "fallback_start_failed",
            FailReason::FallbackThrottled => "fallback_throttled",
            FailReason::QueueFull => "queue_full",
            FailReason::DrainTimeout => "drain_timeout",
        }
    }
}

/// Most service-level thresholds one scenario may list.
pub const MAX_SERVICE_LEVELS: usize = 8;

/// What happened to the calls of one group (a run, a bin, a class, a window).
///
/// The service-level fields (`waited` and after) are kept only when the
/// observer has thresholds ([`Observer::with_service_levels`]); a call's
/// wait is the time from its arrival until its service started (primary
/// queue wait, or fallback cold start) or until it abandoned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    pub arrived: u64,
    pub served_primary: u64,
    pub served_fallback: u64,
    pub abandoned: u64,
    /// Calls turned away at once, by [`FailReason`].
    pub failed_by: [u64; 4],
    /// Failed calls (turned away or abandoned) of fallback-eligible classes.
    pub failed_fallback_eligible: u64,
    /// Calls started on the primary and cut off when their worker's drain
    /// grace ended (not counted in `served_primary`).
    pub drain_timeout: u64,
    /// Answered or abandoned calls whose wait was longer than zero.
    pub waited: u64,
    /// Answered calls (service started) whose wait was at most each
    /// threshold, in the scenario's order.
    pub answered_within: [u64; MAX_SERVICE_LEVELS],
    /// Sum of the waits of answered calls, ticks.
    pub answer_wait_sum: u128,
    /// Sum of the waits of abandoned calls, ticks.
    pub abandon_wait_sum: u128,
    /// With `[clients]`: attempts made (first and retried), counted at each
    /// attempt's own time.
    pub attempts: u64,
    /// With `[clients]`: failed attempts by reason, indexed as
    /// `scenario::clients::ATTEMPT_REASONS`, counted at each attempt's time.
    pub failed_attempts: [u64; 6],
}

impl Counts {
    /// Calls turned away at once (every reason but abandonment).
    pub fn rejected(&self) -> u64 {
        self.failed_by.iter().sum()
    }

    /// Calls not served: turned away, abandoned while waiting, or cut off
    /// by a drain.
    pub fn failed(&self) -> u64 {
        self.rejected() + self.abandoned + self.drain_timeout
    }

    /// Calls whose service started (primary or fallback), including those
    /// a drain later cut off.
    pub fn answered(&self) -> u64 {
        self.served_primary + self.served_fallback + self.drain_timeout
    }

    /// Calls not turned away at once: answered, abandoned, or still
    /// waiting at the end. The denominator of service levels and
    /// abandonment.
    pub fn accepted(&self) -> u64 {
        self.arrived - self.rejected()
    }

    pub fn add(&mut self, o: &Counts) {
        self.arrived += o.arrived;
        self.served_primary += o.served_primary;
        self.served_fallback += o.served_fallback;
        self.abandoned += o.abandoned;
        for (a, b) in self.failed_by.iter_mut().zip(o.failed_by) {
            *a += b;
        }
        self.failed_fallback_eligible += o.failed_fallback_eligible;
        self.drain_timeout += o.drain_timeout;
        self.waited += o.waited;
        for (a, b) in self.answered_within.iter_mut().zip(o.answered_within) {
            *a += b;
        }
        self.answer_wait_sum += o.answer_wait_sum;
        self.abandon_wait_sum += o.abandon_wait_sum;
        self.attempts += o.attempts;
        for (a, b) in self.failed_attempts.iter_mut().zip(o.failed_attempts) {
            *a += b;
        }
    }
}

/// Instantaneous levels between two events.
#[derive(Copy, Clone, Debug, Default)]
pub struct Levels {
    pub busy_primary: u64,
    pub capacity_primary: u64,
    pub workers_ready: u64,
    /// Provisioning + ready + draining: the workers being paid for.
    pub workers_billed: u64,
    pub fallback_busy: u64,
    pub waiting: u64,
}

/// Time integrals of [`Levels`] over a span, in level × ticks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Areas {
    pub busy_primary: u128,
    pub capacity_primary: u128,
    pub workers_ready: u128,
    pub workers_billed: u128,
    pub fallback_busy: u128,
    pub waiting: u128,
}

impl Areas {
    /// Adds another span's integrals.
    pub fn merge(&mut self, o: &Areas) {
        self.busy_primary += o.busy_primary;
        self.capacity_primary += o.capacity_primary;
        self.workers_ready += o.workers_ready;
        self.workers_billed += o.workers_billed;
        self.fallback_busy += o.fallback_busy;
        self.waiting += o.waiting;
    }
}

/// One time bin.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bin {
    pub counts: Counts,
    pub areas: Areas,
    pub peak_busy_primary: u64,
}

/// The streaming observer of one run. Times given to it are reported times
/// (t = 0 at `clock_start`); the model filters out warm-up.
#[derive(Debug)]
pub struct Observer {
    bin: u64,
    end: u64,
    pub bins: Vec<Bin>,
    pub totals: Counts,
    pub classes: Vec<Counts>,
    pub window: Option<(Tick, Tick, Counts)>,
    last: u64,
    /// The levels other than `busy_primary` as last seen, and since when
    /// each has held without being integrated: their areas grow only when
    /// they change or a bin ends, so levels that stay put cost a comparison
    /// per event. `busy_primary`, which moves with nearly every event, is
    /// integrated at once.
    held: Levels,
    since: [u64; 5],
    /// End of bin `cur` (the run's end for the last bin).
    boundary: u64,
    cur: usize,
    /// Start of bin `cur`: `cur × bin`.
    cur_start: u64,
    /// The current bin's `busy_primary` area and peak not yet written to
    /// `bins[cur]` (kept here, where an event reaches them without
    /// indexing; written when the bin ends, which the run's last
    /// `advance`, to the end, always reaches).
    cur_busy_area: u128,
    cur_peak: u64,
    pub waits: Histogram<u64>,
    pub wait_sum_us: u128,
    pub waits_n: u64,
    pub abandon_wait_sum_us: u128,
    pub peak_in_system: u64,
    pub peak_busy_primary: u64,
    /// Service-level thresholds, ticks (empty: no service-level counts).
    service_levels: Vec<u64>,
}

impl Observer {
    pub fn new(duration: Tick, bin: Tick, classes: usize, window: Option<(Tick, Tick)>) -> Observer {
        let n = duration.0.div_ceil(bin.0) as usize;
        Observer {
            bin: bin.0,
            end: duration.0,
            bins: vec![Bin::default(); n],
            totals: Counts::default(),
            classes: vec![Counts::default(); classes],
            window: window.map(|(a, b)| (a, b, Counts::default())),
            last: 0,
            held: Levels::default(),
            since: [0; 5],
            boundary: bin.0.min(duration.0),
            cur: 0,
            cur_start: 0,
            cur_busy_area: 0,
            cur_peak: 0,
            waits: Histogram::new_with_bounds(1, 400 * 86_400 * 1_000_000, 3).expect("valid histogram bounds"),
            wait_sum_us: 0,
            waits_n: 0,
            abandon_wait_sum_us: 0,
            peak_in_system: 0,
            peak_busy_primary: 0,
            service_levels: Vec::new(),
        }
    }

    /// Also counts waits against these thresholds (at most
    /// [`MAX_SERVICE_LEVELS`]; more are ignored) in every group.
    pub fn with_service_levels(mut self, thresholds: &[Tick]) -> Observer {
        self.service_levels = thresholds.iter().take(MAX_SERVICE_LEVELS).map(|t| t.0).collect();
        self
    }

    /// The bin of `t`; most outcomes are counted at the current time, in
    /// the current bin, which needs no division.
    #[inline(always)]
    fn bin_of(&self, t: Tick) -> usize {
        if t.0.wrapping_sub(self.cur_start) < self.bin {
            return self.cur;
        }
        ((t.0 / self.bin) as usize).min(self.bins.len() - 1)
    }

    /// Integrates `levels`, which held since the last call, up to `now`.
    /// Returns false if it had nothing to integrate (`now` not past the
    /// last call, or past the end): then it has not looked at `levels`.
    #[inline(always)]
    pub fn advance(&mut self, now: Tick, levels: &Levels) -> bool {
        let now = now.0.min(self.end);
        let last = self.last;
        if last >= now {
            return false;
        }
        let h = &self.held;
        let changed = (levels.capacity_primary ^ h.capacity_primary)
            | (levels.workers_ready ^ h.workers_ready)
            | (levels.workers_billed ^ h.workers_billed)
            | (levels.fallback_busy ^ h.fallback_busy)
            | (levels.waiting ^ h.waiting);
        if changed != 0 {
            self.close_changed(levels, last);
        }
        self.integrate_busy(now, last, levels.busy_primary);
        true
    }

    /// [`Observer::advance`] when the caller knows that every level but
    /// `busy_primary` is what the last `advance` that returned true saw.
    #[inline(always)]
    pub fn advance_busy(&mut self, now: Tick, busy_primary: u64) {
        let now = now.0.min(self.end);
        let last = self.last;
        if last < now {
            self.integrate_busy(now, last, busy_primary);
        }
    }

    /// Whether `levels` (all but `busy_primary`) are the levels held.
    pub fn holds(&self, levels: &Levels) -> bool {
        let h = &self.held;
        (levels.capacity_primary, levels.workers_ready, levels.workers_billed, levels.fallback_busy, levels.waiting)
            == (h.capacity_primary, h.workers_ready, h.workers_billed, h.fallback_busy, h.waiting)
    }

    #[inline(always)]
    fn integrate_busy(&mut self, now: u64, last: u64, busy_primary: u64) {
        if now < self.boundary {
            let dt = (now - last) as u128;
            self.cur_busy_area += busy_primary as u128 * dt;
            self.last = now;
        } else {
            self.cross_bins(now, busy_primary);
        }
    }

    /// The held levels that differ from `levels` close their span at
    /// `last` (which lies in the current bin) and start a new one.
    #[inline(never)]
    fn close_changed(&mut self, levels: &Levels, last: u64) {
        macro_rules! close {
            ($($f:ident $i:literal),*) => {$(
                if levels.$f != self.held.$f {
                    let dt = (last - self.since[$i]) as u128;
                    self.bins[self.cur].areas.$f += self.held.$f as u128 * dt;
                    self.held.$f = levels.$f;
                    self.since[$i] = last;
                }
            )*};
        }
        close!(capacity_primary 0, workers_ready 1, workers_billed 2, fallback_busy 3, waiting 4);
    }

    /// [`Observer::advance`] when `now` reaches the end of the current bin:
    /// every bin that ends by `now` gets the rest of every span.
    #[inline(never)]
    fn cross_bins(&mut self, now: u64, busy_primary: u64) {
        let b = &mut self.bins[self.cur];
        b.areas.busy_primary += std::mem::take(&mut self.cur_busy_area);
        b.peak_busy_primary = b.peak_busy_primary.max(self.cur_peak);
        let mut last = self.last;
        loop {
            let boundary = self.boundary;
            let seg_end = now.min(boundary);
            let dt = (seg_end - last) as u128;
            self.bins[self.cur].areas.busy_primary += busy_primary as u128 * dt;
            last = seg_end;
            if seg_end < boundary {
                break;
            }
            macro_rules! close {
                ($($f:ident $i:literal),*) => {$(
                    let dt = (boundary - self.since[$i]) as u128;
                    self.bins[self.cur].areas.$f += self.held.$f as u128 * dt;
                    self.since[$i] = boundary;
                )*};
            }
            close!(capacity_primary 0, workers_ready 1, workers_billed 2, fallback_busy 3, waiting 4);
            if self.cur + 1 >= self.bins.len() {
                break;
            }
            self.cur += 1;
            self.cur_start += self.bin;
            self.boundary = (self.cur_start + self.bin).min(self.end);
            self.bins[self.cur].peak_busy_primary = busy_primary;
        }
        self.cur_peak = self.bins[self.cur].peak_busy_primary;
        self.last = last;
    }

    /// Time integrals over the whole reported span (the sum of the bins').
    pub fn areas(&self) -> Areas {
        let mut a = Areas::default();
        for b in &self.bins {
            a.merge(&b.areas);
        }
        a
    }

    /// Notes the levels right after a change (for peaks).
    #[inline]
    pub fn peaks(&mut self, levels: &Levels) {
        self.cur_peak = self.cur_peak.max(levels.busy_primary);
        self.peak_busy_primary = self.peak_busy_primary.max(levels.busy_primary);
        let in_system = levels.busy_primary + levels.fallback_busy + levels.waiting;
        self.peak_in_system = self.peak_in_system.max(in_system);
    }

    #[inline(always)]
    fn each(&mut self, arrival: Tick, class: u16, f: impl Fn(&mut Counts)) {
        f(&mut self.totals);
        let b = self.bin_of(arrival);
        f(&mut self.bins[b].counts);
        f(&mut self.classes[class as usize]);
        if let Some((a, z, c)) = &mut self.window {
            if arrival >= *a && arrival < *z {
                f(c);
            }
        }
    }

    #[inline]
    pub fn arrived(&mut self, at: Tick, class: u16) {
        self.each(at, class, |c| c.arrived += 1);
    }

    /// An attempt (first or retried) made at `at` (with `[clients]`).
    #[inline]
    pub fn attempt(&mut self, at: Tick, class: u16) {
        self.each(at, class, |c| c.attempts += 1);
    }

    /// The attempt made at `at` failed, for reason `reason` (an index of
    /// `scenario::clients::ATTEMPT_REASONS`).
    #[inline]
    pub fn attempt_failed(&mut self, at: Tick, class: u16, reason: usize) {
        self.each(at, class, |c| c.failed_attempts[reason] += 1);
    }

    /// The service-level counts of an answered call, or with `undo` their
    /// removal (kept out of line: the common case without thresholds stays
    /// small enough to inline).
    #[inline(never)]
    fn answered(&mut self, arrival: Tick, class: u16, wait: Tick, undo: bool) {
        let w = wait.0;
        let mut within = [0u64; MAX_SERVICE_LEVELS];
        for (c, t) in within.iter_mut().zip(&self.service_levels) {
            *c = (w <= *t) as u64;
        }
        let (waited, sum) = ((w > 0) as u64, w as u128);
        self.each(arrival, class, |c| {
            if undo {
                c.waited -= waited;
                c.answer_wait_sum -= sum;
                c.answered_within.iter_mut().zip(within).for_each(|(a, b)| *a -= b);
            } else {
                c.waited += waited;
                c.answer_wait_sum += sum;
                c.answered_within.iter_mut().zip(within).for_each(|(a, b)| *a += b);
            }
        });
    }

    /// A call that arrived at `arrival` started service after `wait`.
    #[inline(always)]
    pub fn served(&mut self, arrival: Tick, class: u16, wait: Tick, on_fallback: bool) {
        if !self.service_levels.is_empty() {
            self.answered(arrival, class, wait, false);
        }
        if on_fallback {
            self.each(arrival, class, |c| c.served_fallback += 1);
        } else {
            self.each(arrival, class, |c| c.served_primary += 1);
        }
        self.wait_sum_us += wait.0 as u128;
        self.waits_n += 1;
        if wait.0 > 0 {
            self.waits.saturating_record(wait.0);
        }
    }

    /// A call that arrived at `arrival` started service on the primary at
    /// once; `count_arrival`: its arrival is counted here too (one pass
    /// over the groups instead of two).
    #[inline(always)]
    pub fn served_at_once(&mut self, arrival: Tick, class: u16, count_arrival: bool) {
        if !self.service_levels.is_empty() {
            self.answered(arrival, class, Tick::ZERO, false);
        }
        let a = count_arrival as u64;
        self.each(arrival, class, |c| {
            c.arrived += a;
            c.served_primary += 1;
        });
        self.waits_n += 1;
    }

    #[inline]
    pub fn failed(&mut self, arrival: Tick, class: u16, reason: FailReason, eligible: bool) {
        let r = reason as usize;
        self.each(arrival, class, |c| {
            c.failed_by[r] += 1;
            if eligible {
                c.failed_fallback_eligible += 1;
            }
        });
    }

    /// A call served on the primary was cut off by a drain: it counts as
    /// failed (`drain_timeout`) instead of served. Its wait stays among the
    /// waits (it did start).
    pub fn cut_off(&mut self, arrival: Tick, class: u16, eligible: bool) {
        self.each(arrival, class, |c| {
            c.served_primary -= 1;
            c.drain_timeout += 1;
            if eligible {
                c.failed_fallback_eligible += 1;
            }
        });
    }

    /// A call served on the primary was cut off by a drain and will call
    /// again (`[clients]`): it is no longer served, nor answered for the
    /// service levels (its next answer counts). Its wait stays among the
    /// waits, those of every attempt whose service started.
    pub fn cut_off_retried(&mut self, arrival: Tick, class: u16, wait: Tick) {
        if !self.service_levels.is_empty() {
            self.answered(arrival, class, wait, true);
        }
        self.each(arrival, class, |c| c.served_primary -= 1);
    }

    #[inline]
    pub fn abandoned(&mut self, arrival: Tick, class: u16, waited: Tick, eligible: bool) {
        let (sl, w) = (!self.service_levels.is_empty(), waited.0);
        self.each(arrival, class, |c| {
            c.abandoned += 1;
            if eligible {
                c.failed_fallback_eligible += 1;
            }
            if sl {
                c.waited += (w > 0) as u64;
                c.abandon_wait_sum += w as u128;
            }
        });
        self.abandon_wait_sum_us += waited.0 as u128;
    }

    /// The wait (seconds) below which a fraction `q` of served calls fall;
    /// calls served at once count as zero waits.
    pub fn wait_quantile(&self, q: f64) -> f64 {
        let zeros = self.waits_n - self.waits.len();
        let rank = (q * self.waits_n as f64).ceil() as u64;
        if self.waits_n == 0 || rank <= zeros {
            return 0.0;
        }
        let q_pos = (rank - zeros) as f64 / self.waits.len() as f64;
        self.waits.value_at_quantile(q_pos.min(1.0)) as f64 / 1e6
    }
}

#[cfg(test)]
mod tests;
