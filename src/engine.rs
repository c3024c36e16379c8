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
//!   `(time << 64) | sequence` (a counting sort on time, finished by an
//!   insertion sort), beside a small 4-ary min-heap for events pushed into
//!   its range meanwhile. This is where the exact `(time, sequence)` order
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

use crate::time::Tick;

#[derive(Clone, Debug)]
struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> Entry<E> {
    #[inline]
    fn time(&self) -> u64 {
        (self.key >> 64) as u64
    }
}

/// A bucket holding more events than this is split over a finer rung;
/// a smaller one is sorted into the bottom's run.
const RUN_MAX: u32 = 8192;
/// Most buckets in one rung.
const MAX_BUCKETS: u64 = 1024;
/// Most rungs; past this depth a bucket goes to the bottom whole.
const MAX_RUNGS: usize = 8;
/// Entries per chunk of bucket storage.
const CHUNK: usize = 8;
/// "No chunk".
const NIL: u32 = u32::MAX;

/// Storage shared by all buckets: fixed-size chunks of entries, each bucket
/// a list of chunks, spent chunks on a free list. Memory follows the number
/// of pending events, not the busiest each bucket has ever been.
#[derive(Clone, Debug)]
struct Chunks<E> {
    /// Chunk `c` is `entries[c * CHUNK..(c + 1) * CHUNK]`.
    entries: Vec<Entry<E>>,
    /// The next chunk of the same bucket, or of the free list.
    next: Vec<u32>,
    free: u32,
}

/// A bucket: a list of chunks from `head` to `tail`, `len` entries.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    head: u32,
    tail: u32,
    len: u32,
}

const EMPTY: Bucket = Bucket { head: NIL, tail: NIL, len: 0 };

impl<E: Clone> Chunks<E> {
    #[inline]
    fn push(&mut self, b: &mut Bucket, e: Entry<E>) {
        let fill = b.len as usize % CHUNK;
        if fill == 0 {
            let c = if self.free != NIL {
                let c = self.free;
                self.free = self.next[c as usize];
                self.entries[c as usize * CHUNK] = e;
                c
            } else {
                let c = u32::try_from(self.next.len()).ok().filter(|&c| c != NIL).expect("fewer than 2³² chunks");
                self.entries.extend(std::iter::repeat_n(e, CHUNK));
                self.next.push(NIL);
                c
            };
            self.next[c as usize] = NIL;
            if b.len == 0 {
                b.head = c;
            } else {
                self.next[b.tail as usize] = c;
            }
            b.tail = c;
        } else {
            self.entries[b.tail as usize * CHUNK + fill] = e;
        }
        b.len += 1;
    }

    /// Hands a bucket's entries to `f` (in insertion order) and frees its
    /// chunks.
    #[inline]
    fn drain(&mut self, b: &mut Bucket, mut f: impl FnMut(Entry<E>)) {
        let mut left = b.len as usize;
        let mut c = b.head;
        while left > 0 {
            let at = c as usize * CHUNK;
            let k = left.min(CHUNK);
            for e in &self.entries[at..at + k] {
                f(e.clone());
            }
            left -= k;
            let next = self.next[c as usize];
            self.next[c as usize] = self.free;
            self.free = c;
            c = next;
        }
        *b = EMPTY;
    }
}

/// One rung: `n` buckets of `1 << shift` ticks from `start`; buckets before
/// `cur` are spent (their events were handed down).
#[derive(Clone, Debug)]
struct Rung {
    start: u64,
    shift: u32,
    n: usize,
    cur: usize,
    /// At least `n` buckets; all empty while the rung is inactive.
    buckets: Vec<Bucket>,
}

impl Rung {
    /// Lower edge of the unspent part: events from here on belong to this
    /// rung (or above); earlier ones go below.
    #[inline]
    fn lower(&self) -> u128 {
        self.start as u128 + ((self.cur as u128) << self.shift)
    }

    #[inline]
    fn bucket(&self, time: u64) -> usize {
        ((time - self.start) >> self.shift) as usize
    }
}

/// A priority queue of events ordered by `(time, insertion sequence)`.
#[derive(Clone, Debug)]
pub struct EventQueue<E> {
    top: Vec<Entry<E>>,
    top_min: u64,
    top_max: u64,
    /// Events at or after this time go to the top.
    top_start: u128,
    /// `rungs[..active]` are in use, coarsest first; the rest keep their
    /// bucket arrays for reuse.
    rungs: Vec<Rung>,
    active: usize,
    chunks: Chunks<E>,
    /// A bucket on its way down.
    scratch: Vec<Entry<E>>,
    /// Slot counts of the counting sort.
    counts: Vec<u32>,
    bottom: Bottom<E>,
    stream: Option<Entry<E>>,
    seq: u64,
    len: usize,
}

impl<E: Clone> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Clone> EventQueue<E> {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// A queue with room for `n` pending events in its top tier.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            top: Vec::with_capacity(n),
            top_min: u64::MAX,
            top_max: 0,
            top_start: 0,
            rungs: Vec::new(),
            active: 0,
            chunks: Chunks { entries: Vec::new(), next: Vec::new(), free: NIL },
            scratch: Vec::new(),
            counts: Vec::new(),
            bottom: Bottom { run: Vec::new(), pos: 0, heap: Heap::default() },
            stream: None,
            seq: 0,
            len: 0,
        }
    }

    /// Pending events, the stream slot included.
    pub fn len(&self) -> usize {
        self.len + self.stream.is_some() as usize
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

    /// Event slots allocated across the tiers (capacity, not contents).
    /// Each tier's storage is bounded by a multiple of the peak number of
    /// pending events: the top, the sorted run and the side heap by twice
    /// it; the chunks by one per `CHUNK` events plus a part-filled one per
    /// non-empty bucket.
    pub fn allocated(&self) -> usize {
        self.top.capacity()
            + self.chunks.entries.capacity()
            + self.scratch.capacity()
            + self.bottom.run.capacity()
            + self.bottom.heap.keys.capacity()
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
        self.len += 1;
        let e = Entry { key, event };
        let t = time.0;
        if t as u128 >= self.top_start {
            self.top_min = self.top_min.min(t);
            self.top_max = self.top_max.max(t);
            self.top.push(e);
            return;
        }
        for r in &mut self.rungs[..self.active] {
            if t as u128 >= r.lower() {
                let b = r.bucket(t);
                self.chunks.push(&mut r.buckets[b], e);
                return;
            }
        }
        self.bottom.push(e);
    }

    /// The time of the next event, if any.
    #[inline]
    pub fn peek_time(&mut self) -> Option<Tick> {
        if self.bottom.is_empty() {
            self.refill();
        }
        let h = self.bottom.peek_key();
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
        self.pop_below(u128::MAX)
    }

    /// Removes and returns the next event if it lies before `until`.
    #[inline]
    pub fn pop_before(&mut self, until: Tick) -> Option<(Tick, E)> {
        self.pop_below((until.0 as u128) << 64)
    }

    /// Removes and returns the next event if its key is below `limit`; one
    /// look at the candidates (the stream slot, the sorted run, the side
    /// heap) serves both the test and the removal.
    #[inline]
    fn pop_below(&mut self, limit: u128) -> Option<(Tick, E)> {
        if self.bottom.is_empty() {
            self.refill();
        }
        let bottom = self.bottom.peek();
        if let Some(s) = &self.stream {
            if bottom.is_none_or(|(h, _)| s.key < h) {
                if s.key >= limit {
                    return None;
                }
                let e = self.stream.take().expect("checked");
                return Some((Tick(e.time()), e.event));
            }
        }
        let (key, from_run) = bottom.filter(|&(k, _)| k < limit)?;
        self.len -= 1;
        Some((Tick((key >> 64) as u64), self.bottom.take(from_run)))
    }

    /// Sorts the next bucket's events into the empty bottom, splitting
    /// crowded buckets over finer rungs and spreading the top over a new
    /// rung when the rungs are spent.
    #[cold]
    fn refill(&mut self) {
        while self.bottom.is_empty() {
            if self.active == 0 {
                if self.top.is_empty() {
                    // Nothing pending: later pushes start a new top.
                    self.top_start = 0;
                    return;
                }
                let mut top = std::mem::take(&mut self.top);
                let (lo, hi) = (self.top_min, self.top_max);
                self.top_start = self.spread(0, lo, hi, &mut top);
                self.top = top;
                self.top_min = u64::MAX;
                self.top_max = 0;
                continue;
            }
            let k = self.active - 1;
            let r = &mut self.rungs[k];
            while r.cur < r.n && r.buckets[r.cur].len == 0 {
                r.cur += 1;
            }
            if r.cur == r.n {
                self.active -= 1;
                continue;
            }
            let b = r.cur;
            r.cur += 1;
            // A finer rung must cover the rest of this bucket's range:
            // later pushes into that range land there.
            let end = (r.start as u128 + (((b + 1) as u128) << r.shift)).min(u64::MAX as u128 + 1);
            let (shift, crowded) = (r.shift, r.buckets[b].len > RUN_MAX);
            let mut out = std::mem::take(&mut self.scratch);
            self.chunks.drain(&mut self.rungs[k].buckets[b], |e| out.push(e));
            if crowded && shift > 0 && self.active < MAX_RUNGS {
                let lo = out.iter().map(Entry::time).min().expect("a non-empty bucket");
                if out.iter().any(|e| e.time() != lo) {
                    self.spread(self.active, lo, (end - 1) as u64, &mut out);
                    self.scratch = out;
                    continue;
                }
            }
            self.bottom.pos = 0;
            sort_into(&mut out, &mut self.bottom.run, &mut self.counts);
            self.scratch = out;
        }
    }

    /// Activates rung `level` over times `lo..=hi`, sized for the events of
    /// `from`, and moves them into it. Returns the end of the rung's range.
    fn spread(&mut self, level: usize, lo: u64, hi: u64, from: &mut Vec<Entry<E>>) -> u128 {
        let span = (hi - lo) as u128 + 1;
        let target = (from.len() as u64).clamp(1, MAX_BUCKETS) as u128;
        let width = span.div_ceil(target).next_power_of_two();
        let shift = width.trailing_zeros();
        let n = span.div_ceil(width) as usize;
        if self.rungs.len() <= level {
            self.rungs.push(Rung { start: 0, shift: 0, n: 0, cur: 0, buckets: Vec::new() });
        }
        let r = &mut self.rungs[level];
        if r.buckets.len() < n {
            r.buckets.resize(n, EMPTY);
        }
        r.start = lo;
        r.shift = shift;
        r.n = n;
        r.cur = 0;
        for e in from.drain(..) {
            let b = r.bucket(e.time());
            self.chunks.push(&mut r.buckets[b], e);
        }
        self.active = level + 1;
        lo as u128 + ((n as u128) << shift)
    }
}

/// Sorts `from` by key into `run` (emptying `from`): a counting sort on
/// time into about one slot per entry, then an insertion sort, which has
/// little left to do unless many entries share a slot; then it falls back
/// to a comparison sort.
fn sort_into<E: Clone>(from: &mut Vec<Entry<E>>, run: &mut Vec<Entry<E>>, counts: &mut Vec<u32>) {
    run.clear();
    let m = from.len();
    if m <= 16 {
        run.append(from);
        insertion_sort(run);
        return;
    }
    let (lo, hi) = from.iter().fold((u64::MAX, 0), |(lo, hi), e| (lo.min(e.time()), hi.max(e.time())));
    let span = (hi - lo) as u128 + 1;
    let shift = span.div_ceil(m as u128).next_power_of_two().trailing_zeros();
    let slots = (span >> shift) as usize + 1;
    counts.clear();
    counts.resize(slots + 1, 0);
    let mut crowded = 0u32;
    for e in from.iter() {
        let c = &mut counts[((e.time() - lo) >> shift) as usize + 1];
        *c += 1;
        crowded = crowded.max(*c);
    }
    if crowded > 32 {
        run.append(from);
        run.sort_unstable_by_key(|e| e.key);
        return;
    }
    for i in 1..counts.len() {
        counts[i] += counts[i - 1];
    }
    run.extend(std::iter::repeat_n(from[0].clone(), m));
    for e in from.drain(..) {
        let c = &mut counts[((e.time() - lo) >> shift) as usize];
        run[*c as usize] = e;
        *c += 1;
    }
    insertion_sort(run);
}

fn insertion_sort<E: Clone>(v: &mut [Entry<E>]) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && v[j - 1].key > v[j].key {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// The bottom tier: the bucket being delivered, sorted (`run[pos..]`), and
/// a small heap for events pushed into its range meanwhile.
#[derive(Clone, Debug)]
struct Bottom<E> {
    run: Vec<Entry<E>>,
    pos: usize,
    heap: Heap<E>,
}

impl<E: Clone> Bottom<E> {
    #[inline]
    fn is_empty(&self) -> bool {
        self.pos == self.run.len() && self.heap.is_empty()
    }

    #[inline]
    fn peek_key(&self) -> Option<u128> {
        self.peek().map(|(k, _)| k)
    }

    /// The smallest key, and whether it is the sorted run's (else the
    /// side heap's).
    #[inline]
    fn peek(&self) -> Option<(u128, bool)> {
        let r = self.run.get(self.pos).map(|e| e.key);
        match (r, self.heap.peek_key()) {
            (Some(a), Some(b)) => Some(if a < b { (a, true) } else { (b, false) }),
            (Some(a), None) => Some((a, true)),
            (None, b) => b.map(|b| (b, false)),
        }
    }

    #[inline]
    fn push(&mut self, e: Entry<E>) {
        self.heap.push(e);
    }

    /// Removes the entry [`Bottom::peek`] found, returning its event.
    #[inline]
    fn take(&mut self, from_run: bool) -> E {
        if from_run {
            self.pos += 1;
            self.run[self.pos - 1].event.clone()
        } else {
            self.heap.pop().expect("peeked").event
        }
    }
}

/// A 4-ary min-heap of entries by key: the bottom's side heap. Keys and
/// events live in parallel vectors, so a sift step reads only the four
/// children's keys (64 contiguous bytes). No allocation once grown.
#[derive(Clone, Debug)]
struct Heap<E> {
    keys: Vec<u128>,
    events: Vec<E>,
}

impl<E> Default for Heap<E> {
    fn default() -> Self {
        Heap { keys: Vec::new(), events: Vec::new() }
    }
}

const ARITY: usize = 4;

impl<E> Heap<E> {
    #[inline]
    fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    #[inline]
    fn peek_key(&self) -> Option<u128> {
        self.keys.first().copied()
    }

    #[inline]
    fn push(&mut self, e: Entry<E>) {
        self.keys.push(e.key);
        self.events.push(e.event);
        self.sift_up(self.keys.len() - 1);
    }

    #[inline]
    fn pop(&mut self) -> Option<Entry<E>> {
        let last_key = self.keys.pop()?;
        let last_event = self.events.pop().expect("parallel vectors");
        if self.keys.is_empty() {
            return Some(Entry { key: last_key, event: last_event });
        }
        let key = std::mem::replace(&mut self.keys[0], last_key);
        let event = std::mem::replace(&mut self.events[0], last_event);
        self.sift_down(0);
        Some(Entry { key, event })
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

    /// A skewed mix — a dense cloud of events and a few far outliers —
    /// crowds the first rung's buckets, so finer rungs are spawned; the
    /// order stays exact, and the bucket storage is reused, not grown.
    #[test]
    fn crowded_buckets_split_over_finer_rungs() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(3);
        let mut q = EventQueue::new();
        let mut expected = Vec::new();
        let mut seq = 0u64;
        for round in 0..3 {
            for _ in 0..20_000 {
                let t = round * 1_000_000 + rng.random_range(0..1_000_000u64);
                q.push(Tick(t), seq);
                expected.push((t, seq));
                seq += 1;
            }
            for t in [u64::MAX, u64::MAX / 2] {
                q.push(Tick(t), seq);
                expected.push((t, seq));
                seq += 1;
            }
        }
        expected.sort();
        let mut got = Vec::new();
        let mut deepest = 0;
        while let Some((t, id)) = q.pop() {
            deepest = deepest.max(q.active);
            got.push((t.0, id));
        }
        assert_eq!(got, expected);
        assert!(deepest >= 3, "finer rungs were used (deepest {deepest})");
        // Refill the emptied queue twice: the second time, the spent chunks
        // are reused and storage does not grow; it stays within one chunk
        // per CHUNK events plus a part-filled chunk per bucket.
        let mut sizes = Vec::new();
        for _ in 0..2 {
            for i in 0..expected.len() as u64 {
                q.push(Tick(i * 7), i);
            }
            let mut last = None;
            while let Some((t, id)) = q.pop() {
                assert!(last < Some((t, id)));
                last = Some((t, id));
            }
            sizes.push(q.chunks.next.len());
        }
        assert_eq!(sizes[0], sizes[1]);
        assert!(sizes[0] <= expected.len() / CHUNK + 2 * MAX_BUCKETS as usize, "{sizes:?}");
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

        /// Against a reference (a sorted set of `(time, sequence)`), with
        /// interleaved pushes and pops, times from a few ticks to the whole
        /// `u64` range, pushes earlier than the last pop, bursts at one tick
        /// (crowded buckets split over finer rungs) and the stream slot.
        #[test]
        fn matches_a_sorted_reference(
            ops in proptest::collection::vec((0u8..8, any::<u64>(), 0u32..40), 1..600),
            scale in prop_oneof![Just(8u32), Just(20), Just(40), Just(64)],
        ) {
            let mut q = EventQueue::new();
            let mut reference = std::collections::BTreeSet::new();
            let mut seq = 0u64;
            let mut stream_id: Option<u64> = None;
            let mut now = 0u64;
            let check = |got: Option<(Tick, u64)>, reference: &mut std::collections::BTreeSet<(u64, u64)>| {
                let want = reference.pop_first();
                prop_assert_eq!(got.map(|(t, id)| (t.0, id)), want);
                Ok(())
            };
            for (op, x, burst) in ops {
                let dt = if scale == 64 { x } else { x % (1u64 << scale) };
                match op {
                    // A pop bounded in time: the reference's smallest if it
                    // lies before the bound, else nothing.
                    1 => {
                        let until = now.saturating_add(dt % 1000);
                        let due = reference.first().is_some_and(|&(t, _)| t < until);
                        let got = q.pop_before(Tick(until));
                        prop_assert_eq!(got.is_some(), due);
                        if let Some((t, id)) = got {
                            if stream_id == Some(id) {
                                stream_id = None;
                            }
                            now = t.0;
                            check(got, &mut reference)?;
                        }
                    }
                    // Pops: the queue's next event is the reference's smallest.
                    0 => {
                        let got = q.pop();
                        if let Some((t, id)) = got {
                            if stream_id == Some(id) {
                                stream_id = None;
                            }
                            now = t.0;
                        }
                        check(got, &mut reference)?;
                    }
                    // A burst of events at one tick.
                    2 => {
                        let t = now.saturating_add(dt);
                        for _ in 0..burst {
                            q.push(Tick(t), seq);
                            reference.insert((t, seq));
                            seq += 1;
                        }
                    }
                    // A push earlier than the last pop.
                    3 => {
                        let t = now.saturating_sub(dt % 1000);
                        q.push(Tick(t), seq);
                        reference.insert((t, seq));
                        seq += 1;
                    }
                    // The stream slot, when it is free.
                    4 if stream_id.is_none() => {
                        let t = now.saturating_add(dt);
                        q.push_stream(Tick(t), seq);
                        reference.insert((t, seq));
                        stream_id = Some(seq);
                        seq += 1;
                    }
                    _ => {
                        let t = now.saturating_add(dt);
                        q.push(Tick(t), seq);
                        reference.insert((t, seq));
                        seq += 1;
                    }
                }
                prop_assert_eq!(q.len(), reference.len());
            }
            while !reference.is_empty() {
                let peek = q.peek_time();
                let got = q.pop();
                prop_assert_eq!(peek, got.map(|(t, _)| t));
                check(got, &mut reference)?;
            }
            prop_assert!(q.pop().is_none());
        }

        /// The bottom's sort: uniform, clustered and repeated times alike
        /// come out in key order, none lost.
        #[test]
        fn sort_into_orders_by_key(
            times in proptest::collection::vec(0u64..1000, 0..400),
            scale in 0u32..40,
            base in any::<u64>(),
        ) {
            let mut from: Vec<Entry<usize>> = times
                .iter()
                .enumerate()
                .map(|(i, &t)| Entry { key: (((base / 2).saturating_add(t << scale) as u128) << 64) | (1000 - i) as u128, event: i })
                .collect();
            let mut want: Vec<u128> = from.iter().map(|e| e.key).collect();
            want.sort_unstable();
            let (mut run, mut counts) = (Vec::new(), Vec::new());
            sort_into(&mut from, &mut run, &mut counts);
            prop_assert!(from.is_empty());
            prop_assert_eq!(run.iter().map(|e| e.key).collect::<Vec<_>>(), want);
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
