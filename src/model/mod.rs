//! The domain model: calls, the primary pool, the autoscaler, the fallback
//! pool, canaries, all driven by the engine.
//!
//! A run is [`simulate`]`(scenario, run index)`: a pure function. Internal
//! time starts at the beginning of the warm-up; scenario times (and
//! everything reported) are relative to `clock_start`, i.e. shifted by the
//! warm-up.
//!
//! Routing of an arriving call: a free primary slot; else, for an eligible
//! class with routing on, the fallback (a failed start fails the call, a
//! throttled one falls through); else the waiting queue when calls may
//! wait; else failure: `fallback_throttled` when the fallback throttled the
//! call (the refusal its logs show), `worker_not_available` when it was not
//! tried. With `[clients]`, each such routing is one attempt of a call, and
//! a failed attempt may be retried ([`clients`]).

pub mod autoscaler;
pub mod calls;
mod canary;
pub mod clients;
mod event;
pub mod fallback;
pub mod nodes;
pub mod outcome;
pub mod primary;
pub mod record;
mod scaling;
mod waiting;
mod warm_pool;

use rand::Rng;

use crate::arrivals::{Arrival, ArrivalSpec};
use crate::engine::{run_until, EventQueue, Handler};
use crate::observe::{FailReason, Levels, Observer};
use crate::rng::{stream, Stream, StreamRng};
use crate::scenario::Scenario;
use crate::time::Tick;
use autoscaler::{ScaleEvent, Scaler};
use calls::{Call, CallSource};
use canary::Canary;
use clients::{reason_index, Clients};
pub use event::Ev;
use fallback::Fallback;
use nodes::Nodes;
pub use outcome::{CallFailure, Outcome, FAILURE_LOG_LIMIT};
use primary::Primary;
use record::{CallOutcome, CallRecord, Recorder};
use waiting::WaitQueue;

/// Saturation spells separated by less than this are merged.
const SATURATION_GAP: Tick = Tick::from_secs(60);

/// The class recorded for calls already in service at the start, which
/// were never counted as arrivals.
const INITIAL: u16 = u16::MAX;

/// Largest number of scaling decisions kept in a run's log.
pub const SCALE_LOG_LIMIT: usize = 10_000;

/// Options of one run that are not part of the scenario.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Keep a log of failed calls (bounded by [`FAILURE_LOG_LIMIT`]).
    pub failure_log: bool,
}

struct Rngs {
    patience: StreamRng,
    faults: StreamRng,
    fallback: StreamRng,
    provisioning: StreamRng,
    nodes: StreamRng,
}

struct Sim<'s> {
    sc: &'s Scenario,
    warm: Tick,
    end: Tick,
    calls: CallSource<'s>,
    next: Option<Arrival>,
    rng: Rngs,
    eligible: Vec<bool>,
    primary: Primary,
    scaler: Scaler<'s>,
    fallback: Option<Fallback<'s>>,
    /// The node layer, if configured.
    nodes: Option<Nodes<'s>>,
    waiting: WaitQueue,
    /// When the abandonment timer is set for, if it is.
    abandon_timer: Option<Tick>,
    abandon_generation: u32,
    obs: Observer,
    /// What the levels other than `busy_primary` depend on, as the
    /// observer last took them ([`Sim::level_key`]).
    observed_key: [u64; 3],
    /// Calls arrived so far, turned away or not.
    arrivals: u64,
    view: scaling::View,
    canary: Canary<'s>,
    scale_log: Vec<ScaleEvent>,
    /// Start of the current spell in which arriving calls find the primary full.
    saturated_since: Option<Tick>,
    saturation: Vec<(Tick, Tick)>,
    warm_pool: warm_pool::WarmPool,
    fallback_cold_starts: u64,
    failure_log: Option<Vec<CallFailure>>,
    failures_dropped: u64,
    peak_pending_events: usize,
    /// Calls arrived so far (warm-up included): the next call's `seq`.
    calls_seen: u64,
    record: Option<Recorder<'s>>,
    /// Calls whose fallback start is failing: (internal arrival, class,
    /// seq, duration); freed entries are `None` and listed in `failing_free`.
    failing_starts: Vec<Option<(Tick, u16, u64, Tick)>>,
    failing_free: Vec<u32>,
    /// Timeouts and retries, with `[clients]`.
    clients: Option<Clients<'s>>,
    /// None of `[clients]`, patience, `max_wait`, per-call records or
    /// per-worker call lists: an arrival's routing skips their tests
    /// (`route::<true>`). Fixed for the run.
    plain: bool,
}

impl<'s> Sim<'s> {
    #[inline]
    fn levels(&self) -> Levels {
        Levels {
            busy_primary: self.primary.busy,
            capacity_primary: self.primary.capacity(),
            workers_ready: self.primary.ready as u64,
            workers_billed: self.primary.billed() as u64,
            fallback_busy: self.fallback.as_ref().map_or(0, |f| f.busy as u64),
            waiting: self.waiting.live,
        }
    }

    /// What every level but `busy_primary` is a function of: the primary's
    /// worker-count version, the fallback's and the queue's occupancy. An
    /// unchanged key means unchanged levels, so the observer may skip
    /// comparing them.
    #[inline(always)]
    fn level_key(&self) -> [u64; 3] {
        [self.primary.version(), self.fallback.as_ref().map_or(0, |f| f.busy as u64), self.waiting.live]
    }

    /// Reported time of internal `t`, if `t` is past the warm-up.
    #[inline]
    fn reported(&self, t: Tick) -> Option<Tick> {
        t.0.checked_sub(self.warm.0).map(Tick)
    }

    #[inline(always)]
    fn schedule_next_arrival(&mut self, q: &mut EventQueue<Ev>) {
        self.next = None;
        if let Some(a) = self.calls.next_arrival() {
            if a.time < self.end {
                q.push_stream(a.time, Ev::Arrival);
                self.next = Some(a);
            }
        }
    }

    /// Hands a record to the recorder, if the run records.
    #[inline]
    fn record(&mut self, seq: u64, arrival: Tick, class: u16, duration: Tick, outcome: CallOutcome, end: Option<Tick>) {
        if let Some(r) = self.record.as_mut() {
            r(CallRecord { seq, arrival, class, duration, outcome, end });
        }
    }

    fn fail(&mut self, now: Tick, seq: u64, class: u16, duration: Tick, reason: FailReason, q: &mut EventQueue<Ev>) {
        if self.clients.is_some() {
            return self.attempt_failed(now, now, seq, class, duration, reason_index(reason), Some(q));
        }
        self.record(seq, now, class, duration, CallOutcome::Failed(reason), None);
        self.fail_arrived(now, class, reason);
    }

    /// A call that arrived at internal time `arrival` fails now.
    fn fail_arrived(&mut self, arrival: Tick, class: u16, reason: FailReason) {
        let Some(t) = self.reported(arrival) else { return };
        let eligible = self.eligible[class as usize];
        self.obs.failed(t, class, reason, eligible);
        if let Some(log) = &mut self.failure_log {
            if log.len() < FAILURE_LOG_LIMIT {
                log.push(CallFailure {
                    at: t,
                    class,
                    reason,
                    busy_primary: self.primary.busy,
                    capacity_primary: self.primary.capacity(),
                    fallback_busy: self.fallback.as_ref().map_or(0, |f| f.busy),
                });
            } else {
                self.failures_dropped += 1;
            }
        }
    }

    #[inline(always)]
    fn on_arrival(&mut self, now: Tick, q: &mut EventQueue<Ev>) {
        let a = self.next.expect("an arrival event has its arrival");
        self.schedule_next_arrival(q);
        self.arrivals += 1;
        self.calls_seen += 1;
        let Call { class, duration, .. } = self.calls.complete(a);
        let seq = self.calls_seen - 1;
        if self.plain {
            self.route::<true>(now, seq, class, duration, true, q);
        } else {
            self.first_attempt(now, seq, class);
            self.route::<false>(now, seq, class, duration, true, q);
        }
    }

    /// Routes an attempt of call `seq` made at `now`; `arrival`: it is the
    /// call's arrival, which the observer counts here. `PLAIN`: the run has
    /// none of the mechanisms `Sim::plain` lists, and this instance of the
    /// same code leaves out their tests.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn route<const PLAIN: bool>(
        &mut self,
        now: Tick,
        seq: u64,
        class: u16,
        duration: Tick,
        arrival: bool,
        q: &mut EventQueue<Ev>,
    ) {
        let adm = &self.sc.admission;
        // The call leaves the queue at the earlier of its caller's patience
        // and the system's limit (`None`: it waits until served).
        let wait_limit = if PLAIN {
            None
        } else {
            match (adm.patience.as_ref().map(|p| p.sample(&mut self.rng.patience)), adm.max_wait) {
                (Some(p), Some(m)) => Some(p.min(m)),
                (p, m) => p.or(m),
            }
        };
        // Outcomes count in the bin of the call's first attempt.
        let first = if PLAIN { now } else { self.first_of(seq, now) };
        let rep = self.reported(first);
        if let Some(w) = self.primary.try_admit() {
            if let Some(since) = self.saturated_since.take() {
                if self.saturation.len() < SCALE_LOG_LIMIT {
                    self.saturation.push((since, now));
                }
            }
            if PLAIN {
                // No list of calls per worker, no records, no clients.
                let end = now.saturating_add(duration);
                q.push(end, Ev::PrimaryEnd { worker: w, generation: self.primary.generation(w) });
            } else {
                self.start_primary(w, now, first, duration, class, seq, q);
                self.started_primary(seq);
            }
            if let Some(t) = rep {
                // An arrival's first attempt: `first` is `now`, so the
                // arrival and the service count in one group pass.
                self.obs.served_at_once(t, class, arrival);
                let l = self.levels();
                self.obs.peaks(&l);
            }
            return;
        }
        if arrival {
            if let Some(t) = rep {
                self.obs.arrived(t, class);
            }
        }
        if self.saturated_since.is_none() {
            // Spells closer than a minute apart are one spell: near
            // saturation a slot frees now and then without relieving it.
            let reopen = self.saturation.last().is_some_and(|&(_, end)| now.0 - end.0 < SATURATION_GAP.0);
            self.saturated_since = Some(if reopen { self.saturation.pop().expect("checked").0 } else { now });
        }
        let mut throttled = false;
        if self.eligible[class as usize] {
            if let Some(fb) = self.fallback.as_mut().filter(|f| f.routing) {
                match fb.invoke(now, &mut self.rng.faults, &mut self.rng.fallback) {
                    Ok(st) if st.fails => {
                        // The call's fate is settled now; it fails when the start does.
                        if self.clients.is_none() {
                            let reason = CallOutcome::Failed(FailReason::FallbackStartFailed);
                            self.record(seq, now, class, duration, reason, None);
                        }
                        let entry = Some((now, class, seq, duration));
                        let slot = match self.failing_free.pop() {
                            Some(i) => {
                                self.failing_starts[i as usize] = entry;
                                i
                            }
                            None => {
                                self.failing_starts.push(entry);
                                (self.failing_starts.len() - 1) as u32
                            }
                        };
                        q.push(now.saturating_add(st.delay), Ev::FallbackStartFailed { slot });
                        if rep.is_some() {
                            let l = self.levels();
                            self.obs.peaks(&l);
                        }
                        return;
                    }
                    Ok(st) => {
                        if st.cold && rep.is_some() {
                            self.fallback_cold_starts += 1;
                        }
                        let end = now.saturating_add(st.delay).saturating_add(duration);
                        q.push(end, Ev::FallbackEnd { provisioned: st.provisioned });
                        self.record(seq, first, class, duration, CallOutcome::ServedFallback, Some(end));
                        self.settled(seq);
                        if let Some(t) = rep {
                            self.obs.served(t, class, st.delay, true);
                            let l = self.levels();
                            self.obs.peaks(&l);
                        }
                        return;
                    }
                    Err(FailReason::FallbackThrottled) => throttled = true,
                    Err(reason) => return self.fail(now, seq, class, duration, reason, q),
                }
            }
        }
        if self.sc.admission.waits {
            if self.sc.admission.queue_limit.is_some_and(|lim| self.waiting.live >= lim) {
                return self.fail(now, seq, class, duration, FailReason::QueueFull, q);
            }
            let deadline = wait_limit.map(|p| now.saturating_add(p));
            let id = self.waiting.push(now, duration, class, deadline, seq);
            if let Some(t) = self.clients.as_ref().and_then(Clients::timeout) {
                let at = now.saturating_add(t);
                if deadline.is_none_or(|d| at < d) {
                    q.push(at, Ev::ClientTimeout { id });
                }
            }
            if let Some(deadline) = deadline {
                if self.abandon_timer.is_none_or(|t| deadline < t) {
                    self.arm_abandon_timer(deadline, q);
                }
            }
            if rep.is_some() {
                let l = self.levels();
                self.obs.peaks(&l);
            }
            return;
        }
        let reason = if throttled { FailReason::FallbackThrottled } else { FailReason::WorkerNotAvailable };
        self.fail(now, seq, class, duration, reason, q);
    }

    /// Schedules the abandonment timer at `at`, superseding any earlier one.
    fn arm_abandon_timer(&mut self, at: Tick, q: &mut EventQueue<Ev>) {
        self.abandon_generation = self.abandon_generation.wrapping_add(1);
        self.abandon_timer = Some(at);
        q.push(at, Ev::AbandonTimer { generation: self.abandon_generation });
    }

    /// Moves waiting calls onto free primary slots.
    fn pull_waiting(&mut self, now: Tick, q: &mut EventQueue<Ev>) {
        while self.primary.has_free_slot() {
            let Some(w) = self.waiting.pop() else { return };
            let worker = self.primary.try_admit().expect("a free slot");
            if w.orphan {
                self.start_orphan(worker, now, w.duration, q);
                continue;
            }
            let first = self.first_of(w.seq, w.arrival);
            self.start_primary(worker, now, first, w.duration, w.class, w.seq, q);
            self.started_primary(w.seq);
            if let Some(t) = self.reported(first) {
                self.obs.served(t, w.class, Tick(now.0 - w.arrival.0), false);
            }
        }
    }
}

impl Handler for Sim<'_> {
    type Event = Ev;

    #[inline(always)]
    fn handle(&mut self, now: Tick, ev: Ev, q: &mut EventQueue<Ev>) {
        if now > self.warm {
            let t = Tick(now.0 - self.warm.0);
            let key = self.level_key();
            if key == self.observed_key {
                debug_assert!(self.obs.holds(&self.levels()), "a level changed but not its key");
                self.obs.advance_busy(t, self.primary.busy);
            } else {
                let l = self.levels();
                if self.obs.advance(t, &l) {
                    self.observed_key = key;
                }
            }
        }
        match ev {
            Ev::Arrival => self.on_arrival(now, q),
            Ev::PrimaryEnd { worker, generation } => self.on_primary_end(now, worker, generation, q),
            Ev::FallbackEnd { provisioned } => {
                if let Some(fb) = self.fallback.as_mut() {
                    fb.release(now, provisioned);
                }
            }
            Ev::DrainDeadline { worker, generation } => self.on_drain_deadline(now, worker, generation, q),
            Ev::FallbackStartFailed { slot } => self.on_failing_start_end(now, slot, q),
            Ev::AbandonTimer { generation } => {
                if generation == self.abandon_generation && self.clients.is_some() {
                    self.abandon_timer = None;
                    self.expire_attempts(now, q);
                } else if generation == self.abandon_generation {
                    self.abandon_timer = None;
                    let (warm, eligible, obs) = (self.warm, &self.eligible, &mut self.obs);
                    let rec = &mut self.record;
                    self.waiting.expire(now, |w| {
                        if let Some(r) = rec.as_mut() {
                            r(CallRecord::waited(&w, CallOutcome::Abandoned, None));
                        }
                        if let Some(t) = w.arrival.0.checked_sub(warm.0) {
                            obs.abandoned(Tick(t), w.class, Tick(now.0 - w.arrival.0), eligible[w.class as usize]);
                        }
                    });
                    if let Some(next) = self.waiting.next_deadline() {
                        self.arm_abandon_timer(next, q);
                    }
                }
            }
            Ev::WorkerReady { worker, generation } => {
                if self.primary.make_ready(worker, generation) {
                    self.on_worker_ready(now);
                    self.pull_waiting(now, q);
                }
            }
            Ev::ScalerTick => self.on_scaler_tick(now, q),
            Ev::Scrape => self.on_scrape(now, q),
            Ev::Poll => self.on_poll(now, q),
            Ev::ScheduledMin { idx } => {
                let (_, min) = self.sc.primary.autoscaler.schedule[idx as usize];
                self.scaler.set_min(min, false);
                self.raise_to_min(now, "schedule", q);
            }
            Ev::Canary => self.on_canary(now, q),
            Ev::Action { idx } => self.on_action(now, idx, q),
            Ev::NodeReady => self.on_node_ready(now, q),
            Ev::NodeScan => self.on_node_scan(now, q),
            Ev::WarmPoolRefilled => self.warm_pool.refilled(),
            Ev::NodeBatch { generation } => self.on_node_batch(now, generation, q),
            Ev::Retry { slot } => self.on_retry(now, slot, q),
            Ev::ClientTimeout { id } => self.on_client_timeout(now, id, q),
        }
        if q.len() > self.peak_pending_events {
            self.peak_pending_events = q.len();
        }
    }
}

/// Simulates run `run` of `sc` (its random streams derive from the
/// scenario seed and `run`). `experiment::simulate` collects the outcome
/// into a `RunResult`.
pub fn run(sc: &Scenario, run: u64, opts: RunOptions) -> Outcome {
    run_with(sc, &sc.arrivals_for(run).shifted(sc.warmup), run, opts, None)
}

/// [`run`], handing a [`CallRecord`] of every call that arrives (warm-up
/// included) to `record`; calls still waiting at the end come last.
pub fn run_recording(sc: &Scenario, run: u64, opts: RunOptions, record: Recorder<'_>) -> Outcome {
    run_with(sc, &sc.arrivals_for(run).shifted(sc.warmup), run, opts, Some(record))
}

fn run_with<'s>(
    sc: &'s Scenario,
    arrivals: &'s ArrivalSpec,
    run: u64,
    opts: RunOptions,
    record: Option<Recorder<'s>>,
) -> Outcome {
    let seed = sc.seed;
    let warm = sc.warmup;
    let end = warm.saturating_add(sc.duration);
    let a = &sc.primary.autoscaler;
    let mut sim = Sim {
        sc,
        warm,
        end,
        calls: CallSource::new(sc, arrivals, run),
        next: None,
        rng: Rngs {
            patience: stream(seed, run, Stream::Patience),
            faults: stream(seed, run, Stream::Faults),
            fallback: stream(seed, run, Stream::Fallback),
            provisioning: stream(seed, run, Stream::Provisioning),
            nodes: stream(seed, run, Stream::Nodes),
        },
        eligible: sc.classes.iter().map(|c| c.fallback_eligible).collect(),
        // Calls are listed per worker only when a drain may cut them off.
        primary: Primary::new(
            sc.primary.workers,
            sc.primary.calls_per_worker,
            sc.primary.scale_down_victim,
            sc.primary.drain_can_cut(),
        )
        .with_protected(a.protect_from_scale_in),
        scaler: Scaler::new(a),
        fallback: sc.fallback.as_ref().map(|f| Fallback::new(f, warm)),
        nodes: sc.primary.nodes.as_ref().map(|n| Nodes::new(n, warm)),
        waiting: WaitQueue::default(),
        abandon_timer: None,
        abandon_generation: 0,
        obs: Observer::new(sc.duration, sc.bin, sc.classes.len(), sc.window)
            .with_service_levels(&sc.service_levels.iter().map(|s| s.1).collect::<Vec<_>>()),
        // No version is u64::MAX: the first event compares every level.
        observed_key: [u64::MAX; 3],
        arrivals: 0,
        view: scaling::View::new(sc),
        canary: Canary::new(sc, run),
        scale_log: Vec::new(),
        saturated_since: None,
        saturation: Vec::new(),
        warm_pool: warm_pool::WarmPool::new(a.warm_pool),
        fallback_cold_starts: 0,
        failure_log: opts.failure_log.then(Vec::new),
        failures_dropped: 0,
        peak_pending_events: 0,
        calls_seen: 0,
        record,
        failing_starts: Vec::new(),
        failing_free: Vec::new(),
        clients: sc.clients.as_ref().map(|c| Clients::new(c, seed, run)),
        plain: false,
    };
    sim.plain = sim.clients.is_none()
        && sc.admission.patience.is_none()
        && sc.admission.max_wait.is_none()
        && sim.record.is_none()
        && !sim.primary.tracking();
    // The queue's header (its sequence, length and sorted run's position,
    // written on every event) lives on the heap: on the stack, whose offset
    // within a page is random per process, it now and then shared its
    // address modulo 4 KiB with data the loop reads, and that process ran
    // 15 % slower (docs/performance.md, row 43).
    let mut q = Box::new(EventQueue::with_capacity(sc.initial_slots().min(1 << 20) as usize + 16));
    if sc.initial_calls > 0 {
        // Calls already in service: durations drawn afresh from the class
        // mix (an approximation of their residual time; a warm-up settles it).
        let mut rng = stream(seed, run, Stream::Initial);
        let cum = calls::cumulative_shares(sc);
        for _ in 0..sc.initial_calls {
            let k = calls::pick_class(&cum, rng.random()) as usize;
            let d = sc.classes[k].duration.sample(&mut rng);
            let worker = sim.primary.try_admit().expect("validated: initial calls fit the initial slots");
            sim.start_primary(worker, Tick::ZERO, Tick::ZERO, d, INITIAL, u64::MAX, &mut q);
        }
    }
    sim.schedule_next_arrival(&mut q);
    scaling::schedule_loops(sc, &mut q);
    for (idx, &(at, _)) in a.schedule.iter().enumerate() {
        q.push(warm.saturating_add(at), Ev::ScheduledMin { idx: idx as u32 });
    }
    sim.canary.schedule_first(warm, &mut q);
    if let Some(n) = &sc.primary.nodes {
        q.push(n.scan_interval, Ev::NodeScan);
    }
    run_until(&mut sim, &mut q, end);
    // Starts still failing when the run ends: their calls' outcome is
    // settled, so they count as failed (arrivals = served + failed +
    // abandoned + waiting at the end).
    for (arrival, class, seq, duration) in std::mem::take(&mut sim.failing_starts).into_iter().flatten() {
        if sim.clients.is_some() {
            let r = reason_index(FailReason::FallbackStartFailed);
            sim.attempt_failed(end, arrival, seq, class, duration, r, None);
        } else {
            sim.fail_arrived(arrival, class, FailReason::FallbackStartFailed);
        }
    }
    if sim.record.is_some() {
        sim.record_in_service();
    }
    sim.record_left();
    let l = sim.levels();
    sim.obs.advance(sc.duration, &l);
    if let Some(n) = sim.nodes.as_mut() {
        n.account(end);
    }
    sim.into_outcome(q.allocated())
}
