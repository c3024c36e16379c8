//! The FIFO of calls waiting for a primary slot, with O(1) abandonment.
//!
//! Each waiting call has an id (its position in the arrival order of the
//! queue); an abandonment event carries the id and marks the entry dead in
//! place. Dead entries are skipped when they reach the head, so serving and
//! abandoning are both O(1) amortised and no search is ever needed.

use std::collections::VecDeque;

use crate::time::Tick;

#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Waiter {
    pub arrival: Tick,
    pub duration: Tick,
    pub class: u16,
    live: bool,
}

#[derive(Debug, Default)]
pub struct WaitQueue {
    head_id: u64,
    q: VecDeque<Waiter>,
    /// Calls still waiting (dead entries excluded).
    pub live: u64,
}

impl WaitQueue {
    /// Enqueues a call; returns its id for the abandonment event.
    pub fn push(&mut self, arrival: Tick, duration: Tick, class: u16) -> u64 {
        let id = self.head_id + self.q.len() as u64;
        self.q.push_back(Waiter { arrival, duration, class, live: true });
        self.live += 1;
        id
    }

    /// Removes and returns the longest-waiting live call.
    pub fn pop(&mut self) -> Option<Waiter> {
        while let Some(w) = self.q.pop_front() {
            self.head_id += 1;
            if w.live {
                self.live -= 1;
                return Some(w);
            }
        }
        None
    }

    /// Abandons call `id` if it is still waiting.
    pub fn abandon(&mut self, id: u64) -> Option<Waiter> {
        let i = id.checked_sub(self.head_id)? as usize;
        let w = self.q.get_mut(i)?;
        if !w.live {
            return None;
        }
        w.live = false;
        self.live -= 1;
        Some(*w)
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
    fn fifo_with_abandonment() {
        let mut q = WaitQueue::default();
        let a = q.push(Tick(1), Tick(9), 0);
        let b = q.push(Tick(2), Tick(9), 1);
        let c = q.push(Tick(3), Tick(9), 2);
        assert_eq!(q.abandon(b).map(|w| w.class), Some(1));
        assert_eq!(q.abandon(b), None);
        assert_eq!(q.live, 2);
        assert_eq!(q.pop().map(|w| w.class), Some(0));
        assert_eq!(q.abandon(a), None, "served calls cannot abandon");
        assert_eq!(q.pop().map(|w| w.class), Some(2));
        assert_eq!(q.abandon(c), None);
        assert_eq!(q.pop(), None);
        assert_eq!(q.live, 0);
    }
}
