//! The ladder queue: the top tier, the rungs of time buckets over a shared
//! chunk pool, and the refill that hands the next bucket to the bottom tier;
//! the public [`EventQueue`] with its stream slot.

use super::bottom::{sort_into, sort_parts_into, Bottom};
use super::entry::Entry;
use super::heap::Heap;
use crate::time::Tick;

/// A bucket holding more events than this is split over a finer rung;
/// a smaller one is sorted into the bottom's run.
const RUN_MAX: u32 = 8192;
/// Most buckets in one rung.
pub(super) const MAX_BUCKETS: u64 = 1024;
const _: () = assert!(MAX_BUCKETS.is_power_of_two(), "bucket indices are masked with it");
/// Most rungs; past this depth a bucket goes to the bottom whole.
const MAX_RUNGS: usize = 8;
/// Entries per chunk of bucket storage.
pub(super) const CHUNK: usize = 8;
/// "No chunk".
const NIL: u32 = u32::MAX;

/// Storage shared by all buckets: fixed-size chunks of entries, each bucket
/// a list of chunks, spent chunks on a free list. Memory follows the number
/// of pending events, not the busiest each bucket has ever been.
#[derive(Clone, Debug)]
pub(super) struct Chunks<E> {
    /// Chunk `c` is `entries[c * CHUNK..(c + 1) * CHUNK]`.
    entries: Vec<Entry<E>>,
    /// The next chunk of the same bucket (stale after its last one: a
    /// bucket ends where its count says), or of the free list.
    pub(super) next: Vec<u32>,
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
    #[inline(always)]
    fn push(&mut self, b: &mut Bucket, key: u128, event: E) {
        let fill = b.len as usize % CHUNK;
        if fill == 0 {
            self.push_new_chunk(b, Entry { key, event });
        } else {
            let slot = &mut self.entries[b.tail as usize * CHUNK + fill];
            slot.key = key;
            slot.event = event;
            b.len += 1;
        }
    }

    /// [`Chunks::push`] when the bucket's last chunk is full (or it has
    /// none): one push in `CHUNK`, kept out of the inlined path.
    #[inline(never)]
    fn push_new_chunk(&mut self, b: &mut Bucket, e: Entry<E>) {
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
        if b.len == 0 {
            b.head = c;
        } else {
            self.next[b.tail as usize] = c;
        }
        b.tail = c;
        b.len += 1;
    }

    /// A bucket's entries in insertion order, as slices of its chunks.
    #[inline]
    fn parts<'a>(&'a self, b: &Bucket) -> impl Iterator<Item = &'a [Entry<E>]> + Clone + 'a {
        let (mut left, mut c) = (b.len as usize, b.head);
        std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            let at = c as usize * CHUNK;
            let k = left.min(CHUNK);
            left -= k;
            let part = &self.entries[at..at + k];
            c = self.next[c as usize];
            Some(part)
        })
    }

    /// Frees a bucket's chunks, leaving it empty.
    #[inline]
    fn free(&mut self, b: &mut Bucket) {
        let mut left = b.len as usize;
        let mut c = b.head;
        while left > 0 {
            left = left.saturating_sub(CHUNK);
            let next = self.next[c as usize];
            self.next[c as usize] = self.free;
            self.free = c;
            c = next;
        }
        *b = EMPTY;
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

/// A time bound of up to 2⁶⁴, clamped to `u64::MAX`.
#[inline]
fn clamp(t: u128) -> u64 {
    t.min(u64::MAX as u128) as u64
}

/// One rung: `n` buckets of `1 << shift` ticks from `start`; buckets before
/// `cur` are spent (their events were handed down).
#[derive(Clone, Debug)]
struct Rung {
    start: u64,
    shift: u32,
    n: usize,
    cur: usize,
    /// `start + cur × 2^shift`, kept up to date with `cur` (a push
    /// compares with it), at most `u64::MAX` (see `EventQueue::top_start`).
    low: u64,
    /// `MAX_BUCKETS` buckets, the first `n` in use; all empty while the
    /// rung is spare. A fixed size, so a bucket index masked to it needs no
    /// bounds check.
    buckets: Box<[Bucket; MAX_BUCKETS as usize]>,
}

impl Rung {
    /// Lower edge of the unspent part: events from here on belong to this
    /// rung (or above); earlier ones go below.
    #[inline]
    fn lower(&self) -> u64 {
        self.low
    }

    /// Makes bucket `cur` the first unspent one.
    #[inline]
    fn set_cur(&mut self, cur: usize) {
        self.cur = cur;
        self.low = clamp(self.start as u128 + ((cur as u128) << self.shift));
    }

    #[inline]
    fn bucket(&self, time: u64) -> usize {
        let b = ((time - self.start) >> self.shift) as usize;
        debug_assert!(b < self.n, "a time past the rung");
        // A no-op (`n ≤ MAX_BUCKETS`) that lets the compiler drop the
        // bounds check.
        b & (MAX_BUCKETS as usize - 1)
    }
}

/// A priority queue of events ordered by `(time, insertion sequence)`.
#[derive(Clone, Debug)]
pub struct EventQueue<E> {
    top: Vec<Entry<E>>,
    top_min: u64,
    top_max: u64,
    /// Events at or after this time go to the top: the end of the first
    /// rung's range, clamped to `u64::MAX`. So a push at `u64::MAX` always
    /// goes to the top, which keeps the order: events at that time reach
    /// the tiers below only when the top is spread, which happens once they
    /// are empty. (And a rung's clamped lower edge is compared only with
    /// earlier times, for which the clamp changes nothing.)
    top_start: u64,
    /// The rungs in use, coarsest first.
    rungs: Vec<Rung>,
    /// Spent rungs, keeping their bucket arrays for reuse.
    spare: Vec<Rung>,
    pub(super) chunks: Chunks<E>,
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
            spare: Vec::new(),
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

    /// The rungs in use.
    #[cfg(test)]
    pub(super) fn depth(&self) -> usize {
        self.rungs.len()
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
    #[inline(always)]
    pub fn push(&mut self, time: Tick, event: E) {
        let key = self.key(time);
        self.len += 1;
        let t = time.0;
        if t >= self.top_start {
            self.top_min = self.top_min.min(t);
            self.top_max = self.top_max.max(t);
            self.top.push(Entry { key, event });
            return;
        }
        // Most pushes land in the first (coarsest) rung.
        if let Some(r) = self.rungs.first_mut() {
            if t >= r.lower() {
                let b = r.bucket(t);
                self.chunks.push(&mut r.buckets[b], key, event);
                return;
            }
        }
        self.push_below(t, Entry { key, event });
    }

    /// [`EventQueue::push`] below the first rung: into a finer rung or the
    /// bottom.
    #[inline(never)]
    fn push_below(&mut self, t: u64, e: Entry<E>) {
        for r in self.rungs.iter_mut().skip(1) {
            if t >= r.lower() {
                let b = r.bucket(t);
                self.chunks.push(&mut r.buckets[b], e.key, e.event);
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
    #[inline(always)]
    fn pop_below(&mut self, limit: u128) -> Option<(Tick, E)> {
        if self.bottom.is_empty() {
            self.refill();
        }
        let heap_key = self.bottom.heap.peek_key();
        if let Some(r) = self.bottom.run.get(self.bottom.pos) {
            let key = r.key;
            // The common case: the sorted run holds the bottom's minimum.
            if heap_key.is_none_or(|h| key < h) {
                if self.stream.as_ref().is_some_and(|s| s.key < key) {
                    return self.pop_stream(limit);
                }
                if key >= limit {
                    return None;
                }
                let event = r.event.clone();
                self.bottom.pos += 1;
                self.len -= 1;
                return Some((Tick((key >> 64) as u64), event));
            }
        }
        // The side heap's minimum, or nothing below the stream slot.
        match heap_key {
            Some(h) if self.stream.as_ref().is_none_or(|s| h < s.key) => {
                if h >= limit {
                    return None;
                }
                self.len -= 1;
                Some((Tick((h >> 64) as u64), self.bottom.take(false)))
            }
            _ => self.pop_stream(limit),
        }
    }

    /// Removes and returns the stream slot's event if there is one below
    /// `limit`.
    #[inline(always)]
    fn pop_stream(&mut self, limit: u128) -> Option<(Tick, E)> {
        if self.stream.as_ref()?.key >= limit {
            return None;
        }
        let e = self.stream.take().expect("checked");
        Some((Tick(e.time()), e.event))
    }

    /// Sorts the next bucket's events into the empty bottom, splitting
    /// crowded buckets over finer rungs and spreading the top over a new
    /// rung when the rungs are spent.
    #[cold]
    #[inline(never)]
    fn refill(&mut self) {
        while self.bottom.is_empty() {
            if self.rungs.is_empty() {
                if self.top.is_empty() {
                    // Nothing pending: later pushes start a new top.
                    self.top_start = 0;
                    return;
                }
                let mut top = std::mem::take(&mut self.top);
                let (lo, hi) = (self.top_min, self.top_max);
                self.top_start = clamp(self.spread(lo, hi, &mut top));
                self.top = top;
                self.top_min = u64::MAX;
                self.top_max = 0;
                continue;
            }
            let k = self.rungs.len() - 1;
            let deeper = k + 1 < MAX_RUNGS;
            let r = &mut self.rungs[k];
            while r.cur < r.n && r.buckets[r.cur].len == 0 {
                r.cur += 1;
            }
            if r.cur == r.n {
                let spent = self.rungs.pop().expect("a rung");
                self.spare.push(spent);
                continue;
            }
            let b = r.cur;
            r.set_cur(b + 1);
            // A finer rung must cover the rest of this bucket's range:
            // later pushes into that range land there.
            let end = (r.start as u128 + (((b + 1) as u128) << r.shift)).min(u64::MAX as u128 + 1);
            let (shift, len) = (r.shift, r.buckets[b].len);
            let crowded = len > RUN_MAX;
            let split = crowded && shift > 0 && deeper;
            if !split && len >= 2 {
                // The bucket's range: every entry in it has a time there.
                let lo = (r.start as u128 + ((b as u128) << shift)) as u64;
                let mut bucket = std::mem::replace(&mut r.buckets[b], EMPTY);
                let parts = self.chunks.parts(&bucket);
                self.bottom.pos = 0;
                sort_parts_into(parts, len as usize, lo, shift, &mut self.bottom.run, &mut self.counts);
                self.chunks.free(&mut bucket);
                continue;
            }
            let mut out = std::mem::take(&mut self.scratch);
            self.chunks.drain(&mut self.rungs[k].buckets[b], |e| out.push(e));
            if split {
                let lo = out.iter().map(Entry::time).min().expect("a non-empty bucket");
                if out.iter().any(|e| e.time() != lo) {
                    self.spread(lo, (end - 1) as u64, &mut out);
                    self.scratch = out;
                    continue;
                }
            }
            self.bottom.pos = 0;
            sort_into(&mut out, &mut self.bottom.run, &mut self.counts);
            self.scratch = out;
        }
    }

    /// Adds a finest rung over times `lo..=hi`, sized for the events of
    /// `from`, and moves them into it. Returns the end of the rung's range.
    fn spread(&mut self, lo: u64, hi: u64, from: &mut Vec<Entry<E>>) -> u128 {
        let span = (hi - lo) as u128 + 1;
        let target = (from.len() as u64).clamp(1, MAX_BUCKETS) as u128;
        let width = span.div_ceil(target).next_power_of_two();
        let shift = width.trailing_zeros();
        let n = span.div_ceil(width) as usize;
        let mut r = self.spare.pop().unwrap_or_else(|| Rung {
            start: 0,
            shift: 0,
            n: 0,
            cur: 0,
            low: 0,
            buckets: Box::new([EMPTY; MAX_BUCKETS as usize]),
        });
        debug_assert!(n <= MAX_BUCKETS as usize);
        r.start = lo;
        r.shift = shift;
        r.n = n;
        r.set_cur(0);
        for e in from.drain(..) {
            let b = r.bucket(e.time());
            self.chunks.push(&mut r.buckets[b], e.key, e.event);
        }
        self.rungs.push(r);
        lo as u128 + ((n as u128) << shift)
    }
}
