//! The event engine: a clock and an event queue, knowing nothing of calls.
//!
//! # Ordering contract
//! Events are delivered in increasing `(time, insertion sequence)` order.
//! Two events scheduled for the same tick are delivered in the order they
//! were scheduled. Nothing else (memory addresses, hash order, threads)
//! influences the order, so a run is a pure function of its inputs.
//!
//! The queue is a 4-ary min-heap over a packed `u128` key
//! `(time << 64) | sequence`: one comparison per step, shallower than a
//! binary heap, and no allocation once it has grown to the peak number of
//! pending events. Push and pop are O(log₄ n), moving a hole rather than
//! swapping. Beside the heap sits one *stream slot* for an event source that
//! always has exactly one pending event (the next arrival): it skips the
//! heap entirely, and a pop compares the slot with the heap's top. The slot
//! takes a sequence number like any push, so the ordering contract holds.

use crate::time::Tick;

#[derive(Clone, Debug)]
struct Entry<E> {
    key: u128,
    event: E,
}

/// A priority queue of events ordered by `(time, insertion sequence)`.
///
/// Keys and events live in two parallel vectors: a sift step reads only
/// the four children's keys (64 contiguous bytes) and the events just
/// follow, which keeps a large queue (hundreds of thousands of calls in
/// flight) friendlier to the cache.
#[derive(Clone, Debug)]
pub struct EventQueue<E> {
    keys: Vec<u128>,
    events: Vec<E>,
    stream: Option<Entry<E>>,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

const ARITY: usize = 4;

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue { keys: Vec::new(), events: Vec::new(), stream: None, seq: 0 }
    }

    pub fn with_capacity(n: usize) -> Self {
        EventQueue { keys: Vec::with_capacity(n), events: Vec::with_capacity(n), stream: None, seq: 0 }
    }

    pub fn len(&self) -> usize {
        self.keys.len() + self.stream.is_some() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn key(&mut self, time: Tick) -> u128 {
        let key = ((time.0 as u128) << 64) | self.seq as u128;
        self.seq += 1;
        key
    }

    /// Schedules the stream's next event. The stream holds one event at a
    /// time: push the next only after the previous one has been popped.
    #[inline]
    pub fn push_stream(&mut self, time: Tick, event: E) {
        debug_assert!(self.stream.is_none(), "the stream slot holds one event");
        let key = self.key(time);
        self.stream = Some(Entry { key, event });
    }

    /// Schedules `event` at `time`, after every event already scheduled there.
    #[inline]
    pub fn push(&mut self, time: Tick, event: E) {
        let key = self.key(time);
        self.keys.push(key);
        self.events.push(event);
        self.sift_up(self.keys.len() - 1);
    }

    /// The time of the next event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<Tick> {
        let h = self.keys.first().copied();
        let s = self.stream.as_ref().map(|e| e.key);
        let k = match (h, s) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(Tick((k >> 64) as u64))
    }

    /// Removes and returns the next event.
    #[inline]
    pub fn pop(&mut self) -> Option<(Tick, E)> {
        if let Some(s) = &self.stream {
            if self.keys.first().is_none_or(|&h| s.key < h) {
                let e = self.stream.take().expect("checked");
                return Some((Tick((e.key >> 64) as u64), e.event));
            }
        }
        self.pop_heap()
    }

    #[inline]
    fn pop_heap(&mut self) -> Option<(Tick, E)> {
        let last_key = self.keys.pop()?;
        let last_event = self.events.pop().expect("parallel vectors");
        if self.keys.is_empty() {
            return Some((Tick((last_key >> 64) as u64), last_event));
        }
        let top_key = std::mem::replace(&mut self.keys[0], last_key);
        let top_event = std::mem::replace(&mut self.events[0], last_event);
        self.sift_down(0);
        Some((Tick((top_key >> 64) as u64), top_event))
    }

    #[inline]
    fn sift_up(&mut self, mut i: usize) {
        let key = self.keys[i];
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if self.keys[parent] <= key {
                break;
            }
            self.keys[i] = self.keys[parent];
            self.events.swap(i, parent);
            i = parent;
        }
        self.keys[i] = key;
    }

    #[inline]
    fn sift_down(&mut self, mut i: usize) {
        let n = self.keys.len();
        let key = self.keys[i];
        loop {
            let first = i * ARITY + 1;
            if first >= n {
                break;
            }
            let end = (first + ARITY).min(n);
            let mut best = first;
            let mut best_key = self.keys[first];
            for (c, &k) in self.keys[first + 1..end].iter().enumerate() {
                if k < best_key {
                    best = first + 1 + c;
                    best_key = k;
                }
            }
            if key <= best_key {
                break;
            }
            self.keys[i] = best_key;
            self.events.swap(i, best);
            i = best;
        }
        self.keys[i] = key;
    }
}

/// A model driven by the engine: it receives each event with the queue so it
/// can schedule more.
pub trait Handler {
    type Event;
    fn handle(&mut self, now: Tick, event: Self::Event, queue: &mut EventQueue<Self::Event>);
}

/// Delivers events in order until the queue is empty or the next event lies
/// at or after `until`. Returns the time the clock stopped at: `until`, or
/// the last event's time if the queue ran dry first.
pub fn run_until<H: Handler>(handler: &mut H, queue: &mut EventQueue<H::Event>, until: Tick) -> Tick {
    let mut now = Tick::ZERO;
    while let Some(t) = queue.peek_time() {
        if t >= until {
            return until;
        }
        let (t, ev) = queue.pop().expect("peeked");
        debug_assert!(t >= now, "time went backwards");
        now = t;
        handler.handle(now, ev, queue);
    }
    now.max(until)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ties_keep_insertion_order() {
        let mut q = EventQueue::new();
        q.push(Tick(5), 'a');
        q.push(Tick(3), 'b');
        q.push(Tick(5), 'c');
        q.push(Tick(3), 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['b', 'd', 'a', 'c']);
    }

    proptest! {
        #[test]
        fn pops_in_time_then_sequence_order(times in proptest::collection::vec(0u64..50, 0..300)) {
            let mut q = EventQueue::new();
            for (i, &t) in times.iter().enumerate() {
                q.push(Tick(t), i);
            }
            let mut expected: Vec<(u64, usize)> = times.iter().enumerate().map(|(i, &t)| (t, i)).collect();
            expected.sort();
            let got: Vec<(u64, usize)> = std::iter::from_fn(|| q.pop().map(|(t, e)| (t.0, e))).collect();
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn interleaved_push_pop_never_goes_back(ops in proptest::collection::vec((0u64..20, any::<bool>()), 1..400)) {
            let mut q = EventQueue::new();
            let mut now = 0u64;
            for (dt, pop) in ops {
                if pop {
                    if let Some((t, _)) = q.pop() {
                        prop_assert!(t.0 >= now);
                        now = t.0;
                    }
                } else {
                    q.push(Tick(now + dt), ());
                }
            }
        }
    }
}
