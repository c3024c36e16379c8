//! The primary worker pool: workers with `calls_per_worker` slots each and a
//! lifecycle provisioning → ready → draining → gone.
//!
//! Admission takes any ready worker with a free slot in O(1): ready workers
//! with spare slots sit in an indexed set (a vector plus positions), and the
//! most recently freed one is used first. Worker ids are recycled, and a
//! generation number per id (bumped at launch and when a worker goes) lets
//! a stale event be recognised and ignored: the "ready" of a cancelled
//! launch, or the end of a call cut off when its worker's drain grace ran
//! out.
//!
//! A scale-down cancels launches first (newest first), then removes ready
//! workers: the most recently ready (`newest`, as a Kubernetes ReplicaSet
//! does) or the least loaded. A removed worker drains: it takes no calls and
//! finishes those it has, until its grace ends ([`Primary::cut_off`]).
//! When calls can be cut off, each worker also lists its calls
//! ([`Tracked`]), so that the cut-off calls can be counted, and a recording
//! run hands over a call's record only when it ends or is cut off.

use super::record::{CallOutcome, CallRecord};
use super::{Ev, Sim, INITIAL};
use crate::engine::EventQueue;
use crate::observe::FailReason;
use crate::scenario::Victim;
use crate::time::Tick;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum WState {
    Provisioning,
    Ready,
    Draining,
    Gone,
}

const NOT_FREE: u32 = u32::MAX;

/// A call in service, as listed per worker when calls can be cut off.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Tracked {
    pub end: Tick,
    pub arrival: Tick,
    /// The call's index in arrival order (for its record).
    pub seq: u64,
    pub duration: Tick,
    pub class: u16,
}

/// One worker id's record, kept together: a call's end touches its
/// load, generation, state and place in the free set at once (one cache
/// line instead of four arrays).
#[derive(Copy, Clone, Debug)]
struct Worker {
    load: u32,
    generation: u32,
    /// Position in `free`, or [`NOT_FREE`].
    free_pos: u32,
    state: WState,
}

#[derive(Clone, Debug)]
pub struct Primary {
    cpw: u32,
    workers: Vec<Worker>,
    free: Vec<u32>,
    spare_ids: Vec<u32>,
    /// Ids in provisioning, oldest first (cancelled from the back).
    provisioning_ids: Vec<u32>,
    victim: Victim,
    /// Order in which workers became ready (larger: more recent).
    ready_seq: Vec<u64>,
    next_seq: u64,
    /// Per worker, its calls, when `tracking`.
    calls: Vec<Vec<Tracked>>,
    tracking: bool,
    /// The listed call the last [`Primary::release`] ended.
    ended: Option<Tracked>,
    /// Workers `0..protected` (initial ones) are never scale-down victims.
    protected: u32,
    /// Bumped whenever `ready`, `draining` or the provisioning list may
    /// have changed: the same version means the same worker counts.
    version: u64,
    pub ready: u32,
    pub draining: u32,
    /// Calls in service on the primary (on ready and draining workers).
    pub busy: u64,
}

impl Primary {
    /// A pool with `ready` workers ready at once, removing `victim` workers
    /// first; `tracking`: list each worker's calls (see [`Primary::note`]).
    pub fn new(ready: u32, calls_per_worker: u32, victim: Victim, tracking: bool) -> Primary {
        let mut p = Primary {
            victim,
            ready_seq: Vec::new(),
            next_seq: 0,
            calls: Vec::new(),
            tracking,
            ended: None,
            protected: 0,
            version: 0,
            cpw: calls_per_worker,
            workers: Vec::new(),
            free: Vec::new(),
            spare_ids: Vec::new(),
            provisioning_ids: Vec::new(),
            ready: 0,
            draining: 0,
            busy: 0,
        };
        for _ in 0..ready {
            let (id, g) = p.launch_one();
            p.make_ready(id, g);
        }
        p
    }

    /// Protects the first `n` initial workers from scale-down (scale-in
    /// protection): a scale-down never removes them.
    pub fn with_protected(mut self, n: u32) -> Primary {
        self.protected = n;
        self
    }

    pub fn calls_per_worker(&self) -> u32 {
        self.cpw
    }

    pub fn provisioning(&self) -> u32 {
        self.provisioning_ids.len() as u32
    }

    /// Slots on ready workers.
    pub fn capacity(&self) -> u64 {
        self.ready as u64 * self.cpw as u64
    }

    /// Workers counted against the autoscaler's target: ready + provisioning.
    pub fn target_count(&self) -> u32 {
        self.ready + self.provisioning()
    }

    /// Workers being paid for.
    pub fn billed(&self) -> u32 {
        self.ready + self.provisioning() + self.draining
    }

    /// See the field: changes whenever the worker counts may have.
    #[inline]
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn has_free_slot(&self) -> bool {
        !self.free.is_empty()
    }

    #[inline(always)]
    fn free_insert(&mut self, w: u32) {
        self.workers[w as usize].free_pos = self.free.len() as u32;
        self.free.push(w);
    }

    fn free_remove(&mut self, w: u32) {
        let pos = self.workers[w as usize].free_pos;
        if pos == NOT_FREE {
            return;
        }
        let last = *self.free.last().expect("non-empty free set");
        self.free.swap_remove(pos as usize);
        if last != w {
            self.workers[last as usize].free_pos = pos;
        }
        self.workers[w as usize].free_pos = NOT_FREE;
    }

    /// The current generation of worker `w` (carried by its calls' end
    /// events).
    #[inline]
    pub fn generation(&self, w: u32) -> u32 {
        self.workers[w as usize].generation
    }

    /// Whether calls are listed per worker.
    pub fn tracking(&self) -> bool {
        self.tracking
    }

    /// Lists a call admitted on `w` (only when tracking).
    pub fn note(&mut self, w: u32, call: Tracked) {
        self.calls[w as usize].push(call);
    }

    /// The listed call the last release ended, if any (taken once).
    pub fn take_ended(&mut self) -> Option<Tracked> {
        self.ended.take()
    }

    /// The listed calls still in service.
    pub fn in_service(&self) -> impl Iterator<Item = &Tracked> {
        self.calls.iter().flatten()
    }

    /// Takes a slot on a ready worker; returns the worker.
    #[inline]
    pub fn try_admit(&mut self) -> Option<u32> {
        let &w = self.free.last()?;
        let l = &mut self.workers[w as usize].load;
        *l += 1;
        self.busy += 1;
        if *l == self.cpw {
            self.free.pop();
            self.workers[w as usize].free_pos = NOT_FREE;
        }
        Some(w)
    }

    /// A call on worker `w` (of generation `generation`) ended at `now`.
    /// Returns true if a slot became free for a new call (the worker is
    /// ready, not draining). The end of a call that was cut off is ignored.
    #[inline(always)]
    pub fn release(&mut self, w: u32, generation: u32, now: Tick) -> bool {
        let i = w as usize;
        if self.workers[i].generation != generation {
            return false;
        }
        if self.tracking {
            let list = &mut self.calls[i];
            let k = list.iter().position(|c| c.end == now).expect("a listed call ends");
            self.ended = Some(list.swap_remove(k));
        }
        self.workers[i].load -= 1;
        self.busy -= 1;
        match self.workers[i].state {
            WState::Ready => {
                if self.workers[i].load + 1 == self.cpw {
                    self.free_insert(w);
                }
                true
            }
            WState::Draining => {
                if self.workers[i].load == 0 {
                    self.retire(w);
                    self.draining -= 1;
                    self.version += 1;
                }
                false
            }
            s => unreachable!("call ended on a worker in state {s:?}"),
        }
    }

    fn launch_one(&mut self) -> (u32, u32) {
        let id = match self.spare_ids.pop() {
            Some(id) => id,
            None => {
                self.workers.push(Worker { load: 0, generation: 0, free_pos: NOT_FREE, state: WState::Gone });
                self.ready_seq.push(0);
                self.calls.push(Vec::new());
                (self.workers.len() - 1) as u32
            }
        };
        let i = id as usize;
        self.version += 1;
        self.workers[i].state = WState::Provisioning;
        self.workers[i].generation = self.workers[i].generation.wrapping_add(1);
        self.provisioning_ids.push(id);
        (id, self.workers[i].generation)
    }

    /// Starts provisioning `n` workers; returns `(id, generation)` for each,
    /// to be passed to [`Primary::make_ready`] when its delay has passed.
    pub fn launch(&mut self, n: u32) -> Vec<(u32, u32)> {
        (0..n).map(|_| self.launch_one()).collect()
    }

    /// A provisioned worker becomes ready. Returns false (and does nothing)
    /// if that launch was cancelled meanwhile.
    pub fn make_ready(&mut self, id: u32, generation: u32) -> bool {
        let i = id as usize;
        if self.workers[i].state != WState::Provisioning || self.workers[i].generation != generation {
            return false;
        }
        let pos = self.provisioning_ids.iter().position(|&x| x == id).expect("listed while provisioning");
        self.provisioning_ids.remove(pos);
        self.version += 1;
        self.workers[i].state = WState::Ready;
        self.ready_seq[i] = self.next_seq;
        self.next_seq += 1;
        self.ready += 1;
        if self.cpw > 0 {
            self.free_insert(id);
        }
        true
    }

    fn retire(&mut self, w: u32) {
        let i = w as usize;
        self.workers[i].state = WState::Gone;
        self.workers[i].generation = self.workers[i].generation.wrapping_add(1);
        self.spare_ids.push(w);
    }

    /// Removes `n` workers from the target count: cancels the newest
    /// launches first, then drains ready workers in victim order (an idle
    /// one goes at once; a busy one finishes its calls and takes no more).
    /// Returns `(cancelled, drained)`; the busy drained workers are appended
    /// to `draining` as `(id, generation)`, for [`Primary::cut_off`].
    pub fn scale_down(&mut self, n: u32, draining: &mut Vec<(u32, u32)>) -> (u32, u32) {
        self.version += 1;
        let mut left = n;
        let mut cancelled = 0;
        while left > 0 {
            let Some(id) = self.provisioning_ids.pop() else { break };
            self.retire(id);
            left -= 1;
            cancelled += 1;
        }
        if left == 0 {
            return (cancelled, 0);
        }
        let mut ready: Vec<u32> = (self.protected..self.workers.len() as u32)
            .filter(|&w| self.workers[w as usize].state == WState::Ready)
            .collect();
        match self.victim {
            Victim::Newest => ready.sort_by_key(|&w| std::cmp::Reverse(self.ready_seq[w as usize])),
            Victim::LeastLoaded => ready.sort_by_key(|&w| (self.workers[w as usize].load, w)),
        }
        let mut drained = 0;
        for w in ready.into_iter().take(left as usize) {
            self.free_remove(w);
            self.ready -= 1;
            drained += 1;
            if self.workers[w as usize].load == 0 {
                self.retire(w);
            } else {
                self.workers[w as usize].state = WState::Draining;
                self.draining += 1;
                draining.push((w, self.workers[w as usize].generation));
            }
        }
        (cancelled, drained)
    }

    /// Whether launch `(id, generation)` is still provisioning (not
    /// cancelled, not yet ready).
    pub fn is_provisioning(&self, id: u32, generation: u32) -> bool {
        let i = id as usize;
        self.workers[i].state == WState::Provisioning && self.workers[i].generation == generation
    }

    /// The drain grace of worker `w` (drained at `generation`) ended: its
    /// calls still running are cut off and it goes. Passes each cut-off
    /// call to `f` when tracking; returns how many were cut off (0 if the
    /// worker had already gone).
    pub fn cut_off(&mut self, w: u32, generation: u32, mut f: impl FnMut(Tracked)) -> u32 {
        let i = w as usize;
        if self.workers[i].state != WState::Draining || self.workers[i].generation != generation {
            return 0;
        }
        let n = self.workers[i].load;
        for call in self.calls[i].drain(..) {
            f(call);
        }
        self.busy -= n as u64;
        self.workers[i].load = 0;
        self.draining -= 1;
        self.version += 1;
        self.retire(w);
        n
    }

    /// Largest number of worker records held (for memory accounting).
    pub fn records(&self) -> usize {
        self.workers.len()
    }
}

/// Starting, ending and cutting off calls on workers, in the simulation.
impl Sim<'_> {
    /// A call on the primary ends: its slot frees (or its draining worker
    /// goes, perhaps leaving room on its node).
    #[inline(always)]
    pub(super) fn on_primary_end(&mut self, now: Tick, worker: u32, generation: u32, q: &mut EventQueue<Ev>) {
        let freed = self.primary.release(worker, generation, now);
        if self.record.is_some() || self.clients.as_ref().is_some_and(|c| c.holds()) {
            self.record_ended();
        }
        if freed {
            if self.waiting.live > 0 {
                self.pull_waiting(now, q);
            }
        } else if self.nodes.is_some() {
            // A draining worker may have left its node's place free.
            self.place_pending(now, q);
        }
    }

    /// Schedules the end of call `seq`, admitted on `worker` at `now`, and
    /// hands over its record: at once, or (when calls can be cut off) when
    /// it ends, is cut off or the run ends.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_primary(
        &mut self,
        worker: u32,
        now: Tick,
        arrival: Tick,
        duration: Tick,
        class: u16,
        seq: u64,
        q: &mut EventQueue<Ev>,
    ) {
        let end = now.saturating_add(duration);
        q.push(end, Ev::PrimaryEnd { worker, generation: self.primary.generation(worker) });
        if self.primary.tracking() {
            self.primary.note(worker, Tracked { end, arrival, seq, duration, class });
            return;
        }
        if let (Some(r), true) = (self.record.as_mut(), class != INITIAL) {
            r(CallRecord { seq, arrival, class, duration, outcome: CallOutcome::ServedPrimary, end: Some(end) });
        }
    }

    /// Hands over the record of a listed call, unless it was in service at
    /// the start (never an arrival).
    pub(super) fn record_tracked(&mut self, c: Tracked, outcome: CallOutcome, end: Tick) {
        if let (Some(r), true) = (self.record.as_mut(), c.class != INITIAL) {
            let Tracked { seq, arrival, class, duration, .. } = c;
            r(CallRecord { seq, arrival, class, duration, outcome, end: Some(end) });
        }
    }

    /// After a release: the record of the listed call it ended, which is
    /// settled now (with clients, a drain could have cut it off until now).
    pub(super) fn record_ended(&mut self) {
        if let Some(c) = self.primary.take_ended() {
            if c.class != INITIAL {
                self.settled(c.seq);
            }
            self.record_tracked(c, CallOutcome::ServedPrimary, c.end);
        }
    }

    /// At the end of a recording run: the records of the listed calls still
    /// in service.
    pub(super) fn record_in_service(&mut self) {
        let calls: Vec<Tracked> = self.primary.in_service().copied().collect();
        for c in calls {
            self.record_tracked(c, CallOutcome::ServedPrimary, c.end);
        }
    }

    /// The drain grace of `worker` ended at `now`: its calls still running
    /// fail as `drain_timeout`, ending now (with clients that redial after a
    /// cut-off, each is a failed attempt, perhaps retried).
    pub(super) fn on_drain_deadline(&mut self, now: Tick, worker: u32, generation: u32, q: &mut EventQueue<Ev>) {
        let mut cut = Vec::new();
        self.primary.cut_off(worker, generation, |c| cut.push(c));
        for c in cut {
            // Calls in service at the start (class INITIAL) were never counted.
            if c.class == INITIAL {
                continue;
            }
            if self.clients.as_ref().is_some_and(|c| c.holds()) {
                self.attempt_cut_off(now, c, q);
                continue;
            }
            self.record_tracked(c, CallOutcome::Failed(FailReason::DrainTimeout), now);
            if let Some(t) = self.reported(c.arrival) {
                self.obs.cut_off(t, c.class, self.eligible[c.class as usize]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_fill_and_free() {
        let mut p = Primary::new(2, 2, Victim::LeastLoaded, false);
        assert_eq!(p.capacity(), 4);
        let ws: Vec<u32> = (0..4).map(|_| p.try_admit().unwrap()).collect();
        assert!(p.try_admit().is_none());
        assert!(p.release(ws[0], p.generation(ws[0]), Tick::ZERO));
        assert_eq!(p.try_admit(), Some(ws[0]));
        assert_eq!(p.busy, 4);
    }

    #[test]
    fn draining_workers_finish_calls_but_take_none() {
        let mut p = Primary::new(2, 1, Victim::LeastLoaded, false);
        let w = p.try_admit().unwrap();
        let g = p.generation(w);
        let mut busy = vec![];
        assert_eq!(p.scale_down(2, &mut busy), (0, 2));
        assert_eq!(busy, vec![(w, g)]);
        assert_eq!((p.ready, p.draining, p.capacity()), (0, 1, 0));
        assert!(p.try_admit().is_none());
        assert!(!p.release(w, g, Tick::ZERO));
        assert_eq!((p.draining, p.billed()), (0, 0));
    }

    #[test]
    fn cancelled_launches_never_become_ready() {
        let mut p = Primary::new(1, 1, Victim::LeastLoaded, false);
        let l = p.launch(2);
        assert_eq!(p.target_count(), 3);
        assert_eq!(p.scale_down(1, &mut vec![]), (1, 0));
        // The newest launch was cancelled; its id may be reused with a new generation.
        assert!(!p.make_ready(l[1].0, l[1].1));
        assert!(p.make_ready(l[0].0, l[0].1));
        let again = p.launch(1);
        assert_eq!(again[0].0, l[1].0);
        assert!(!p.make_ready(l[1].0, l[1].1));
        assert!(p.make_ready(again[0].0, again[0].1));
        assert_eq!(p.ready, 3);
    }

    #[test]
    fn newest_victims_are_the_most_recently_ready() {
        let mut p = Primary::new(2, 1, Victim::Newest, true);
        let l = p.launch(2);
        // Ready in the order: 0, 1 (initial), then the second launch, then the first.
        assert!(p.make_ready(l[1].0, l[1].1));
        assert!(p.make_ready(l[0].0, l[0].1));
        let mut busy = vec![];
        assert_eq!(p.scale_down(2, &mut busy), (0, 2));
        assert!(busy.is_empty());
        // The two initial workers remain.
        let mut left: Vec<u32> = (0..2).filter_map(|_| p.try_admit()).collect();
        left.sort();
        assert_eq!(left, vec![0, 1]);
    }

    #[test]
    fn cut_off_ends_the_calls_of_a_draining_worker() {
        let mut p = Primary::new(1, 2, Victim::Newest, true);
        let w = p.try_admit().unwrap();
        let call = |end, arrival, class| Tracked {
            end: Tick(end),
            arrival: Tick(arrival),
            seq: 0,
            duration: Tick(end),
            class,
        };
        p.note(w, call(100, 1, 3));
        p.try_admit().unwrap();
        p.note(w, call(50, 2, 4));
        let g = p.generation(w);
        let mut busy = vec![];
        p.scale_down(1, &mut busy);
        assert!(!p.release(w, g, Tick(50)) && p.busy == 1);
        assert_eq!(p.take_ended().map(|c| c.class), Some(4));
        let mut cut = vec![];
        assert_eq!(p.cut_off(w, g, |c| cut.push((c.arrival, c.class))), 1);
        assert_eq!((cut, p.busy, p.draining, p.billed()), (vec![(Tick(1), 3)], 0, 0, 0));
        // The cut-off call's end is stale now; so is a second deadline.
        assert!(!p.release(w, g, Tick(100)));
        assert_eq!(p.cut_off(w, g, |_| ()), 0);
    }
}
