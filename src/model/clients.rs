//! Clients that hang up and call again (`[clients]`): the calls between
//! attempts (the orbit), the retry decision (reason, attempts left, budget)
//! and its delay, and the events of a retry and of a client timeout.
//!
//! A call keeps its sequence number, class and duration across attempts;
//! its outcome is counted once, in the bin of its first arrival, with the
//! reason its last attempt failed for. Attempts and failed attempts are
//! counted at each attempt's own time. Every draw comes from the `clients`
//! stream, so without `[clients]` no other stream moves.
//!
//! A client timeout hangs up on a waiting attempt without the system
//! knowing: the attempt stays queued as an orphan and takes a worker for
//! its duration when its turn comes.
//!
//! When `on` lists `drain_timeout` (only where a drain can cut calls off),
//! a call's state is kept while it is in service on the primary (settled
//! when it ends), so that a cut-off counts as a failed attempt and may be
//! retried: the caller redials and the call starts over with its whole
//! duration. Otherwise a cut-off ends its call as it does without clients.

use std::collections::VecDeque;

use rand::Rng;

use super::primary::Tracked;
use super::record::CallOutcome;
use super::{Ev, Sim, INITIAL};
use crate::engine::EventQueue;
use crate::observe::FailReason;
use crate::rng::{stream, Stream, StreamRng};
use crate::scenario::clients::{ClientsSpec, Jitter, RetryDelay, ABANDONED, DRAIN_TIMEOUT};
use crate::time::Tick;

/// What a call carries from one attempt to the next.
#[derive(Copy, Clone, Debug)]
struct CallState {
    /// Internal time of the first attempt.
    first: Tick,
    /// Internal time of the current attempt.
    attempt: Tick,
    /// Attempts made so far.
    attempts: u32,
    /// The last retry delay, seconds (decorrelated jitter grows from it).
    prev_delay: f64,
}

/// The states of the calls not yet settled, indexed by sequence number.
///
/// Sequence numbers are given in arrival order and every arrival's state
/// is pushed as it arrives, so call `seq` is entry `seq - base`: a
/// subtraction and a bounds check where a hash map hashed the key. A
/// settled entry is emptied (`attempts == 0`) and the front trimmed past
/// the settled calls, so memory is the span from the oldest unsettled call
/// to the newest: a few attempt lifetimes (timeouts, delays, queueing) of
/// arrivals, not the run. One call that never settles holds the span open
/// (unlimited attempts in a lasting overload); a slab whose index every
/// holder of a call carried (the queue, the orbit, the failing starts, the
/// workers' lists) would bound memory by the calls in flight instead, at
/// the price of one more field in each of those and in their hot paths.
#[derive(Debug, Default)]
struct CallStates {
    /// Sequence number of the front entry.
    base: u64,
    states: VecDeque<CallState>,
}

impl CallStates {
    #[inline]
    fn index(&self, seq: u64) -> Option<usize> {
        let i = seq.checked_sub(self.base)?;
        (i < self.states.len() as u64).then_some(i as usize)
    }

    #[inline]
    fn get(&self, seq: u64) -> Option<&CallState> {
        self.index(seq).map(|i| &self.states[i]).filter(|s| s.attempts > 0)
    }

    #[inline]
    fn get_mut(&mut self, seq: u64) -> Option<&mut CallState> {
        self.index(seq).map(|i| &mut self.states[i]).filter(|s| s.attempts > 0)
    }

    /// The state of a new call, `seq` the newest so far.
    #[inline]
    fn insert(&mut self, seq: u64, st: CallState) {
        if self.states.is_empty() {
            self.base = seq;
        }
        debug_assert!(seq >= self.base + self.states.len() as u64, "calls arrive in sequence order");
        while self.base + (self.states.len() as u64) < seq {
            self.states.push_back(CallState::SETTLED);
        }
        self.states.push_back(st);
    }

    /// Call `seq` is settled: its entry empties, the front is trimmed.
    #[inline]
    fn remove(&mut self, seq: u64) {
        let Some(i) = self.index(seq) else { return };
        self.states[i].attempts = 0;
        while self.states.front().is_some_and(|s| s.attempts == 0) {
            self.states.pop_front();
            self.base += 1;
        }
    }
}

impl CallState {
    /// An emptied entry of [`CallStates`].
    const SETTLED: CallState = CallState { first: Tick::ZERO, attempt: Tick::ZERO, attempts: 0, prev_delay: 0.0 };
}

/// A call waiting to retry.
#[derive(Copy, Clone, Debug)]
struct Retrying {
    seq: u64,
    class: u16,
    duration: Tick,
}

pub(super) struct Clients<'s> {
    spec: &'s ClientsSpec,
    rng: StreamRng,
    /// Calls not yet settled, by sequence number.
    calls: CallStates,
    orbit: Vec<Option<Retrying>>,
    orbit_free: Vec<u32>,
    budget: Option<Budget>,
    /// Cut-offs are attempts (`on` lists `drain_timeout`): states are kept
    /// while calls are in service on the primary.
    hold: bool,
}

impl<'s> Clients<'s> {
    pub(super) fn new(spec: &'s ClientsSpec, seed: u64, run: u64) -> Clients<'s> {
        let budget = spec.retry.as_ref().and_then(|r| r.budget.map(|b| Budget::new(b, r.budget_window)));
        Clients {
            spec,
            rng: stream(seed, run, Stream::Clients),
            calls: CallStates::default(),
            orbit: Vec::new(),
            orbit_free: Vec::new(),
            budget,
            hold: spec.retries_cut_offs(),
        }
    }

    /// Whether a drain's cut-off is an attempt (see [`Clients::hold`]).
    #[inline]
    pub(super) fn holds(&self) -> bool {
        self.hold
    }

    pub(super) fn timeout(&self) -> Option<Tick> {
        self.spec.timeout
    }

    /// Internal time of call `seq`'s first attempt (`now` if unknown).
    #[inline]
    pub(super) fn first(&self, seq: u64, now: Tick) -> Tick {
        self.calls.get(seq).map_or(now, |c| c.first)
    }

    /// Calls waiting to retry whose first attempt was at or after `since`.
    pub(super) fn retrying_since(&self, since: Tick) -> u64 {
        self.orbit.iter().flatten().filter(|r| self.first(r.seq, Tick::ZERO) >= since).count() as u64
    }

    /// Decides whether call `seq` retries after an attempt failed at `now`
    /// for `reason`; if so, returns when, and the orbit slot.
    fn retry(&mut self, now: Tick, seq: u64, class: u16, duration: Tick, reason: usize) -> Option<(Tick, u32)> {
        let r = self.spec.retry.as_ref()?;
        let st = self.calls.get_mut(seq)?;
        if !r.on[reason] || (r.attempts > 0 && st.attempts >= r.attempts) {
            return None;
        }
        if let Some(b) = self.budget.as_mut() {
            if !b.try_retry(now) {
                return None;
            }
        }
        let k = st.attempts - 1;
        let d = match &r.delay {
            RetryDelay::Dist(d) => d.sample_secs(&mut self.rng),
            RetryDelay::Backoff { base, cap, jitter } => {
                backoff_delay(*base, *cap, *jitter, k, st.prev_delay, &mut self.rng)
            }
        };
        st.prev_delay = d;
        let entry = Some(Retrying { seq, class, duration });
        let slot = match self.orbit_free.pop() {
            Some(i) => {
                self.orbit[i as usize] = entry;
                i
            }
            None => {
                self.orbit.push(entry);
                (self.orbit.len() - 1) as u32
            }
        };
        Some((now.saturating_add(Tick::from_secs_f64(d)), slot))
    }
}

/// The delay (seconds) before retry `k` (0 for the first retry) under an
/// exponential backoff from `base` capped at `cap`; `prev` is the delay
/// before the previous retry (decorrelated jitter grows from it).
pub fn backoff_delay<R: Rng + ?Sized>(base: f64, cap: f64, jitter: Jitter, k: u32, prev: f64, rng: &mut R) -> f64 {
    let v = (base * 2f64.powi(k.min(1023) as i32)).min(cap);
    match jitter {
        Jitter::None => v,
        Jitter::Full => rng.random::<f64>() * v,
        Jitter::Equal => v / 2.0 + rng.random::<f64>() * v / 2.0,
        Jitter::Decorrelated => {
            let hi = 3.0 * prev.max(base);
            (base + rng.random::<f64>() * (hi - base)).min(cap)
        }
    }
}

/// The retry budget: a retry at `t` is allowed while the retries allowed
/// in `(t − window, t]`, this one included, are at most `fraction` × the
/// first attempts in that window.
#[derive(Debug)]
pub struct Budget {
    fraction: f64,
    window: Tick,
    firsts: VecDeque<Tick>,
    retries: VecDeque<Tick>,
}

impl Budget {
    pub fn new(fraction: f64, window: Tick) -> Budget {
        Budget { fraction, window, firsts: VecDeque::new(), retries: VecDeque::new() }
    }

    fn prune(&mut self, now: Tick) {
        let from = now.0.saturating_sub(self.window.0);
        let full = now.0 >= self.window.0;
        let old = |q: &mut VecDeque<Tick>| {
            while q.front().is_some_and(|t| full && t.0 <= from) {
                q.pop_front();
            }
        };
        old(&mut self.firsts);
        old(&mut self.retries);
    }

    /// A first attempt at `now`.
    pub fn first(&mut self, now: Tick) {
        self.firsts.push_back(now);
    }

    /// Whether a retry at `now` fits the budget; if so it is counted.
    pub fn try_retry(&mut self, now: Tick) -> bool {
        self.prune(now);
        if (self.retries.len() + 1) as f64 > self.fraction * self.firsts.len() as f64 {
            return false;
        }
        self.retries.push_back(now);
        true
    }
}

/// The attempts of a call, in the simulation.
impl Sim<'_> {
    /// Internal time of call `seq`'s first attempt; `now` without clients.
    #[inline]
    pub(super) fn first_of(&self, seq: u64, now: Tick) -> Tick {
        self.clients.as_ref().map_or(now, |c| c.first(seq, now))
    }

    /// A call's first attempt at `now` (only with clients: a test inline,
    /// the work out of line).
    #[inline(always)]
    pub(super) fn first_attempt(&mut self, now: Tick, seq: u64, class: u16) {
        if self.clients.is_some() {
            self.note_first_attempt(now, seq, class);
        }
    }

    #[inline(never)]
    fn note_first_attempt(&mut self, now: Tick, seq: u64, class: u16) {
        let Some(c) = self.clients.as_mut() else { return };
        c.calls.insert(seq, CallState { first: now, attempt: now, attempts: 1, prev_delay: 0.0 });
        if let Some(b) = c.budget.as_mut() {
            b.first(now);
        }
        if let Some(t) = self.reported(now) {
            self.obs.attempt(t, class);
        }
    }

    /// Call `seq` is settled (served, or failed for good).
    #[inline]
    pub(super) fn settled(&mut self, seq: u64) {
        if let Some(c) = self.clients.as_mut() {
            c.calls.remove(seq);
        }
    }

    /// Call `seq` started service on the primary: settled, unless cut-offs
    /// are attempts, which a drain may still make (then settled when it
    /// ends, in [`Sim::record_ended`]).
    #[inline]
    pub(super) fn started_primary(&mut self, seq: u64) {
        if let Some(c) = self.clients.as_mut().filter(|c| !c.hold) {
            c.calls.remove(seq);
        }
    }

    /// A retry is due: the call makes its next attempt.
    pub(super) fn on_retry(&mut self, now: Tick, slot: u32, q: &mut EventQueue<Ev>) {
        let c = self.clients.as_mut().expect("retries only with clients");
        let r = c.orbit[slot as usize].take().expect("a call waiting to retry");
        c.orbit_free.push(slot);
        if let Some(st) = c.calls.get_mut(r.seq) {
            st.attempts += 1;
            st.attempt = now;
        }
        // The scaler's arrival count sees every attempt.
        self.arrivals += 1;
        if let Some(t) = self.reported(now) {
            self.obs.attempt(t, r.class);
        }
        self.route::<false>(now, r.seq, r.class, r.duration, false, q);
    }

    /// The client of waiting attempt `id` hangs up; the attempt stays queued.
    pub(super) fn on_client_timeout(&mut self, now: Tick, id: u64, q: &mut EventQueue<Ev>) {
        if let Some(w) = self.waiting.orphan(id) {
            self.attempt_failed(now, w.arrival, w.seq, w.class, w.duration, ABANDONED, Some(q));
        }
    }

    /// The attempt of call `seq` made at `arrival` failed at `now` for
    /// `reason` (an index of `ATTEMPT_REASONS`): it is retried if allowed
    /// (never without `q`, at the end of the run); otherwise the call fails.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn attempt_failed(
        &mut self,
        now: Tick,
        arrival: Tick,
        seq: u64,
        class: u16,
        duration: Tick,
        reason: usize,
        q: Option<&mut EventQueue<Ev>>,
    ) {
        if let Some(t) = self.reported(arrival) {
            self.obs.attempt_failed(t, class, reason);
        }
        let c = self.clients.as_mut().expect("attempts only with clients");
        if let Some(q) = q {
            if let Some((at, slot)) = c.retry(now, seq, class, duration, reason) {
                if at < self.end {
                    q.push(at, Ev::Retry { slot });
                }
                return;
            }
        }
        let first = c.first(seq, arrival);
        c.calls.remove(seq);
        let outcome = if reason == ABANDONED {
            CallOutcome::Abandoned
        } else {
            CallOutcome::Failed(crate::observe::REASONS[reason])
        };
        self.record(seq, first, class, duration, outcome, None);
        if reason == ABANDONED {
            if let Some(t) = self.reported(first) {
                let eligible = self.eligible[class as usize];
                self.obs.abandoned(t, class, Tick(now.0 - arrival.0), eligible);
            }
        } else {
            self.fail_arrived(first, class, crate::observe::REASONS[reason]);
        }
    }

    /// The attempt of listed call `c`, in service on the primary, was cut
    /// off at `now` by its worker's drain: a failed attempt (`drain_timeout`),
    /// retried if allowed (the call starts over, its whole duration again;
    /// it is then no longer served); otherwise the call fails as
    /// `drain_timeout`, as it does without clients.
    pub(super) fn attempt_cut_off(&mut self, now: Tick, c: Tracked, q: &mut EventQueue<Ev>) {
        let cl = self.clients.as_mut().expect("attempts only with clients");
        // The state is held while a drain may cut the call off.
        let attempt = cl.calls.get(c.seq).map_or(c.arrival, |s| s.attempt);
        if let Some((at, slot)) = cl.retry(now, c.seq, c.class, c.duration, DRAIN_TIMEOUT) {
            if at < self.end {
                q.push(at, Ev::Retry { slot });
            }
            if let Some(t) = self.reported(c.arrival) {
                let start = Tick(c.end.0.saturating_sub(c.duration.0));
                self.obs.cut_off_retried(t, c.class, start.saturating_sub(attempt));
            }
        } else {
            cl.calls.remove(c.seq);
            self.record_tracked(c, CallOutcome::Failed(FailReason::DrainTimeout), now);
            if let Some(t) = self.reported(c.arrival) {
                self.obs.cut_off(t, c.class, self.eligible[c.class as usize]);
            }
        }
        if let Some(t) = self.reported(attempt) {
            self.obs.attempt_failed(t, c.class, DRAIN_TIMEOUT);
        }
    }

    /// The system's own deadlines (patience, max_wait) came for waiting
    /// attempts: each live one failed as abandoned; orphans just leave.
    pub(super) fn expire_attempts(&mut self, now: Tick, q: &mut EventQueue<Ev>) {
        let mut gone = Vec::new();
        self.waiting.expire(now, |w| gone.push(w));
        for w in gone.into_iter().filter(|w| !w.orphan) {
            self.attempt_failed(now, w.arrival, w.seq, w.class, w.duration, ABANDONED, Some(q));
        }
        if let Some(next) = self.waiting.next_deadline() {
            self.arm_abandon_timer(next, q);
        }
    }

    /// Records the calls waiting to retry at the end (as in flight), after
    /// those still waiting, when the run records.
    pub(super) fn record_retrying(&mut self) {
        let (Some(c), Some(r)) = (self.clients.as_ref(), self.record.as_mut()) else { return };
        for e in c.orbit.iter().flatten() {
            let arrival = c.first(e.seq, Tick::ZERO);
            let (seq, class, duration) = (e.seq, e.class, e.duration);
            r(super::record::CallRecord { seq, arrival, class, duration, outcome: CallOutcome::Waiting, end: None });
        }
    }

    /// An orphan (an attempt whose client hung up) takes a worker: work
    /// nobody waits for, never counted as served (nor cut off).
    pub(super) fn start_orphan(&mut self, worker: u32, now: Tick, duration: Tick, q: &mut EventQueue<Ev>) {
        self.start_primary(worker, now, now, duration, INITIAL, 0, q);
    }
}

/// `FailReason` of a turned-away attempt as an index of `ATTEMPT_REASONS`.
#[inline]
pub(super) fn reason_index(r: FailReason) -> usize {
    r as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rng() -> StreamRng {
        StreamRng::seed_from_u64(11)
    }

    /// Kolmogorov–Smirnov distance of `xs` from the CDF `f`.
    fn ks(mut xs: Vec<f64>, f: impl Fn(f64) -> f64) -> f64 {
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        xs.iter()
            .enumerate()
            .map(|(i, &x)| {
                let c = f(x);
                (c - i as f64 / n).abs().max(((i + 1) as f64 / n - c).abs())
            })
            .fold(0.0, f64::max)
    }

    /// The 0.1 % critical value of the KS distance for n draws.
    fn ks_crit(n: usize) -> f64 {
        1.95 / (n as f64).sqrt()
    }

    #[test]
    fn call_states_trim_past_settled_calls() {
        let st = |s| CallState { first: Tick::from_secs(s), attempt: Tick::from_secs(s), attempts: 1, prev_delay: 0.0 };
        let mut c = CallStates::default();
        for seq in 0..5 {
            c.insert(seq, st(seq));
        }
        c.remove(1);
        c.remove(3);
        assert_eq!((c.base, c.states.len()), (0, 5));
        assert!(c.get(1).is_none() && c.get(2).is_some_and(|s| s.first == Tick::from_secs(2)));
        c.remove(0);
        // Calls 0 and 1 are gone from the front; 3 is empty behind 2.
        assert_eq!((c.base, c.states.len()), (2, 3));
        c.remove(2);
        assert_eq!((c.base, c.states.len()), (4, 1));
        c.remove(4);
        assert!(c.states.is_empty() && c.get(4).is_none() && c.get(u64::MAX).is_none());
        // A new call after everything settled starts the span afresh.
        c.insert(9, st(9));
        assert_eq!((c.base, c.get(9).map(|s| s.first)), (9, Some(Tick::from_secs(9))));
        c.remove(7);
        assert!(c.get(9).is_some());
    }

    #[test]
    fn no_jitter_doubles_up_to_the_cap() {
        let mut r = rng();
        let d: Vec<f64> = (0..6).map(|k| backoff_delay(0.5, 5.0, Jitter::None, k, 0.0, &mut r)).collect();
        assert_eq!(d, vec![0.5, 1.0, 2.0, 4.0, 5.0, 5.0]);
    }

    #[test]
    fn full_jitter_is_uniform_up_to_the_capped_backoff() {
        let n = 20_000;
        for (k, v) in [(0u32, 0.5), (2, 2.0), (5, 5.0)] {
            let mut r = rng();
            let xs: Vec<f64> = (0..n).map(|_| backoff_delay(0.5, 5.0, Jitter::Full, k, 0.0, &mut r)).collect();
            let d = ks(xs, |x| (x / v).clamp(0.0, 1.0));
            assert!(d < ks_crit(n), "retry {k}: KS distance {d}");
        }
    }

    #[test]
    fn equal_jitter_is_uniform_on_the_upper_half() {
        let n = 20_000;
        let mut r = rng();
        let v = 4.0;
        let xs: Vec<f64> = (0..n).map(|_| backoff_delay(1.0, 10.0, Jitter::Equal, 2, 0.0, &mut r)).collect();
        assert!(xs.iter().all(|&x| (v / 2.0..=v).contains(&x)));
        let d = ks(xs, |x| ((x - v / 2.0) / (v / 2.0)).clamp(0.0, 1.0));
        assert!(d < ks_crit(n), "KS distance {d}");
    }

    #[test]
    fn decorrelated_jitter_is_uniform_from_base_to_three_times_the_last() {
        let n = 20_000;
        let mut r = rng();
        let (base, prev) = (1.0, 2.0);
        let xs: Vec<f64> = (0..n).map(|_| backoff_delay(base, 100.0, Jitter::Decorrelated, 3, prev, &mut r)).collect();
        let d = ks(xs, |x| ((x - base) / (3.0 * prev - base)).clamp(0.0, 1.0));
        assert!(d < ks_crit(n), "KS distance {d}");
        // Capped: every draw at most the cap, the mass above it at the cap.
        let capped: Vec<f64> =
            (0..1000).map(|_| backoff_delay(base, 3.0, Jitter::Decorrelated, 3, prev, &mut r)).collect();
        assert!(capped.iter().all(|&x| (base..=3.0).contains(&x)));
        assert!(capped.iter().filter(|&&x| x == 3.0).count() > 500);
    }

    #[test]
    fn budget_never_exceeds_its_fraction_over_any_window() {
        let mut r = rng();
        let window = Tick::from_secs(10);
        let mut b = Budget::new(0.2, window);
        let (mut firsts, mut retries) = (Vec::new(), Vec::new());
        let mut t = 0u64;
        for _ in 0..50_000 {
            t += (r.random::<f64>() * 400_000.0) as u64;
            let now = Tick(t);
            if r.random::<f64>() < 0.5 {
                b.first(now);
                firsts.push(t);
            } else if b.try_retry(now) {
                retries.push(t);
            }
        }
        assert!(retries.len() > 1000, "the budget allowed only {} retries", retries.len());
        // Every window of the budget's length ending at a retry.
        let count = |v: &[u64], a: u64, z: u64| v.partition_point(|&x| x <= z) - v.partition_point(|&x| x <= a);
        for &z in &retries {
            let a = z.saturating_sub(window.0);
            let (f, n) = (count(&firsts, a, z), count(&retries, a, z));
            assert!(n as f64 <= 0.2 * f as f64 + 1e-9, "{n} retries against {f} first attempts in ({a}, {z}]");
        }
    }
}
