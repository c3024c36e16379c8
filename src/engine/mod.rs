//! The event engine: a clock and an event queue, knowing nothing of calls.
//!
//! # Ordering contract
//! Events are delivered in increasing `(time, insertion sequence)` order.
//! Two events scheduled for the same tick are delivered in the order they
//! were scheduled. Nothing else (memory addresses, hash order, threads)
//! influences the order, so a run is a pure function of its inputs.
//!
//! # The queue
//! A *ladder queue* (Tang, Goh and Thng, 2005), whose cost per event does
//! not grow with the number of pending events — a day at 10,000 calls/s has
//! 300,000 calls in flight, and a heap of that size spends its time waiting
//! for cache misses. Three tiers, each holding later times than the one
//! below it:
//!
//! - **top**: an unsorted vector of far-future events (`time ≥ top_start`),
//!   appended to in O(1);
//! - **rungs**: arrays of time buckets, each rung finer than the one above
//!   it and covering the part of time the rung above has already handed
//!   down. An event is appended to its bucket in O(1) (buckets are lists of
//!   fixed-size chunks from one shared pool, so memory follows the pending
//!   events); buckets are consumed in time order, and one that holds more
//!   than [`RUN_MAX`] events is spread over a new, finer rung;
//! - **bottom**: the bucket being delivered, sorted by the packed key
//!   `(time << 64) | sequence` (a counting sort on time read straight from
//!   the bucket's chunks, each entry inserted among those of its slot),
//!   beside a small 4-ary min-heap for events pushed into its range
//!   meanwhile. This is where the exact `(time, sequence)` order
//!   is settled, so the contract holds whatever the bucket widths.
//!
//! When the bottom runs dry it is refilled from the next non-empty bucket
//! of the finest rung; when the rungs are spent, the top is spread over a
//! new first rung sized to its contents (so bucket widths follow the event
//! density). Bucket widths are powers of two (an index is a shift), and all
//! vectors are reused, so a steady run allocates nothing per event. Any
//! push is valid, even one earlier than the last pop: it lands in the tier
//! whose range holds it.
//!
//! Beside the queue sits one *stream slot* for an event source that always
//! has exactly one pending event (the next arrival): it skips the queue
//! entirely, and a pop compares the slot with the queue's minimum. The slot
//! takes a sequence number like any push, so the ordering contract holds.

mod bottom;
mod entry;
mod heap;
mod queue;
#[cfg(test)]
mod tests;

pub use queue::EventQueue;

use crate::time::Tick;

/// A model driven by the engine: it receives each event with the queue so it
/// can schedule more.
pub trait Handler {
    type Event: Clone;
    fn handle(&mut self, now: Tick, event: Self::Event, queue: &mut EventQueue<Self::Event>);
}

/// Delivers events in order until the queue is empty or the next event lies
/// at or after `until`. Returns the time the clock stopped at: `until`, or
/// the last event's time if the queue ran dry first.
pub fn run_until<H: Handler>(handler: &mut H, queue: &mut EventQueue<H::Event>, until: Tick) -> Tick {
    let mut now = Tick::ZERO;
    while let Some((t, ev)) = queue.pop_before(until) {
        debug_assert!(t >= now, "time went backwards");
        now = t;
        handler.handle(now, ev, queue);
    }
    now.max(until)
}
