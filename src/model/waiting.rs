//! The FIFO of calls waiting for a primary slot, with abandonment in O(log n)
//! and memory bounded by the calls actually waiting.
//!
//! Calls are served in arrival order from a deque; each with a deadline
//! (the earlier of arrival + patience and arrival + max_wait) also has it in
//! a min-heap; a call without one waits until served. Only the earliest deadline is ever
//! scheduled as an engine event (see the model), so served calls leave no
//! stale events behind. A served call's heap entry is dead and dropped when
//! it reaches the top, and the heap is rebuilt from the live calls when dead
//! entries outnumber them, so both structures stay O(calls waiting).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::time::Tick;

#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Waiter {
    pub arrival: Tick,
    pub duration: Tick,
    pub deadline: Option<Tick>,
    pub class: u16,
    live: bool,
    /// Its client hung up unseen (`[clients] timeout`): it still waits for
    /// a worker, but nobody is on the line.
    pub orphan: bool,
    /// The call's index in arrival order (see [`super::record`]).
    pub seq: u64,
}

#[derive(Debug, Default)]
pub struct WaitQueue {
    head_id: u64,
    q: VecDeque<Waiter>,
    deadlines: BinaryHeap<Reverse<(Tick, u64)>>,
    /// Calls still waiting.
    pub live: u64,
}

impl WaitQueue {
    /// Enqueues a call (`deadline` `None`: it never leaves unserved);
    /// returns its id.
    pub fn push(&mut self, arrival: Tick, duration: Tick, class: u16, deadline: Option<Tick>, seq: u64) -> u64 {
        let id = self.head_id + self.q.len() as u64;
        self.q.push_back(Waiter { arrival, duration, deadline, class, live: true, orphan: false, seq });
        if let Some(d) = deadline {
            self.deadlines.push(Reverse((d, id)));
        }
        self.live += 1;
        id
    }

    fn get(&self, id: u64) -> Option<&Waiter> {
        self.q.get(id.checked_sub(self.head_id)? as usize)
    }

    /// Removes and returns the longest-waiting live call.
    pub fn pop(&mut self) -> Option<Waiter> {
        while let Some(w) = self.q.pop_front() {
            self.head_id += 1;
            if w.live {
                self.live -= 1;
                self.compact();
                return Some(w);
            }
        }
        None
    }

    /// Marks waiting call `id` an orphan and returns it, if it is still
    /// waiting and not one already.
    pub fn orphan(&mut self, id: u64) -> Option<Waiter> {
        let i = id.checked_sub(self.head_id)? as usize;
        let w = self.q.get_mut(i).filter(|w| w.live && !w.orphan)?;
        w.orphan = true;
        Some(*w)
    }

    /// The earliest deadline of a call still waiting.
    pub fn next_deadline(&mut self) -> Option<Tick> {
        while let Some(&Reverse((t, id))) = self.deadlines.peek() {
            if self.get(id).is_some_and(|w| w.live) {
                return Some(t);
            }
            self.deadlines.pop();
        }
        None
    }

    /// Abandons every waiting call whose deadline is at or before `now`, in
    /// deadline order.
    pub fn expire(&mut self, now: Tick, mut f: impl FnMut(Waiter)) {
        while let Some(&Reverse((t, id))) = self.deadlines.peek() {
            if t > now {
                break;
            }
            self.deadlines.pop();
            let Some(i) = id.checked_sub(self.head_id) else { continue };
            if let Some(w) = self.q.get_mut(i as usize).filter(|w| w.live) {
                w.live = false;
                self.live -= 1;
                f(*w);
            }
        }
    }

    /// Drops dead heap entries once they outnumber the live ones.
    fn compact(&mut self) {
        if self.deadlines.len() as u64 > 2 * self.live + 64 {
            let live: Vec<_> =
                self.iter_live_ids().filter_map(|(id, w)| w.deadline.map(|d| Reverse((d, id)))).collect();
            self.deadlines = BinaryHeap::from(live);
        }
    }

    fn iter_live_ids(&self) -> impl Iterator<Item = (u64, &Waiter)> {
        self.q.iter().enumerate().filter(|(_, w)| w.live).map(move |(i, w)| (self.head_id + i as u64, w))
    }

    /// The live waiters, oldest first.
    pub fn iter_live(&self) -> impl Iterator<Item = &Waiter> {
        self.q.iter().filter(|w| w.live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_service_and_deadline_order_abandonment() {
        let mut q = WaitQueue::default();
        q.push(Tick(1), Tick(9), 0, Some(Tick(100)), 0);
        q.push(Tick(2), Tick(9), 1, Some(Tick(50)), 0);
        q.push(Tick(3), Tick(9), 2, Some(Tick(70)), 0);
        q.push(Tick(4), Tick(9), 3, None, 0);
        assert_eq!(q.next_deadline(), Some(Tick(50)));
        let mut gone = vec![];
        q.expire(Tick(60), |w| gone.push(w.class));
        assert_eq!(gone, vec![1]);
        assert_eq!(q.live, 3);
        assert_eq!(q.pop().map(|w| w.class), Some(0));
        // The served call's deadline no longer counts.
        assert_eq!(q.next_deadline(), Some(Tick(70)));
        assert_eq!(q.pop().map(|w| w.class), Some(2));
        // A call without a deadline waits until served.
        assert_eq!(q.next_deadline(), None);
        q.expire(Tick(u64::MAX), |w| gone.push(w.class));
        assert_eq!(gone, vec![1]);
        assert_eq!(q.pop().map(|w| w.class), Some(3));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn memory_stays_bounded_by_waiting_calls() {
        let mut q = WaitQueue::default();
        for i in 0..100_000u64 {
            q.push(Tick(i), Tick(1), 0, Some(Tick(i + 1_000_000)), 0);
            q.pop();
        }
        assert_eq!(q.live, 0);
        let held = q.q.len() + q.deadlines.len();
        assert!(held <= 200, "{held} records for 0 waiting calls");
    }
}
