//! The bottom tier of the ladder queue: the bucket being delivered, sorted
//! by packed key (counting sort with insertion within a slot), beside the
//! side heap.

use super::entry::Entry;
use super::heap::Heap;

/// Sorts `from` by key into `run` (emptying `from`): a counting sort on
/// time into about one slot per entry, then an insertion sort, which has
/// little left to do unless many entries share a slot; then it falls back
/// to a comparison sort.
pub(super) fn sort_into<E: Clone>(from: &mut Vec<Entry<E>>, run: &mut Vec<Entry<E>>, counts: &mut Vec<u32>) {
    let m = from.len();
    if m <= 16 {
        run.clear();
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
        run.clear();
        run.append(from);
        run.sort_unstable_by_key(|e| e.key);
        return;
    }
    for i in 1..counts.len() {
        counts[i] += counts[i - 1];
    }
    // Every slot of `run[..m]` is written below: stale entries left by the
    // previous bucket need no clearing, only room.
    if run.len() < m {
        run.resize(m, from[0].clone());
    } else {
        run.truncate(m);
    }
    for e in from.drain(..) {
        let c = &mut counts[((e.time() - lo) >> shift) as usize];
        run[*c as usize] = e;
        *c += 1;
    }
    insertion_sort(run);
}

/// Sorts the `m` entries of `parts` (slices of entries in increasing
/// sequence order, all with times in `lo..lo + 2^width_shift`) by key into
/// `run`: a stable counting sort on time into two to four slots per entry,
/// read straight from the parts, each entry inserted by time among those
/// already in its slot (so equal times stay in sequence order). Should a
/// slot be crowded (an entry more than 32 places out of order), a
/// comparison sort finishes the job.
pub(super) fn sort_parts_into<'a, E: Clone + 'a, I>(
    parts: I,
    m: usize,
    lo: u64,
    width_shift: u32,
    run: &mut Vec<Entry<E>>,
    counts: &mut Vec<u32>,
) where
    I: Iterator<Item = &'a [Entry<E>]> + Clone,
{
    debug_assert!(m >= 2);
    // 2^k slots, k = ⌊log₂ m⌋ + 2: two to four per entry. Fewer entries
    // share a slot, so the insertion within a slot, a branch the processor
    // cannot predict, is rarely needed; a longer prefix sum is cheaper than
    // the mispredictions (one to two slots per entry: fewer instructions,
    // but slower on the loss model; four to eight: slower still, the slot
    // counts outgrowing the cache). The shift is below 64 either way.
    let k = (usize::BITS - m.leading_zeros() + 1).min(width_shift);
    let shift = width_shift - k;
    let slots = 1usize << k;
    counts.clear();
    counts.resize(2 * slots, 0);
    // The next free place of each slot, and where it starts.
    let (counts, starts) = counts.split_at_mut(slots);
    let starts = &mut starts[..slots];
    // Every time lies in the range, so its slot is below `slots`; the mask
    // only lets the compiler see it (no bounds check in the loops).
    let slot = |e: &Entry<E>| {
        debug_assert!((e.time() - lo) >> shift < slots as u64, "a time outside the range");
        ((e.time() - lo) >> shift) as usize & (slots - 1)
    };
    for part in parts.clone() {
        for e in part {
            counts[slot(e)] += 1;
        }
    }
    let mut at = 0u32;
    for c in counts.iter_mut() {
        let n = *c;
        *c = at;
        at += n;
    }
    starts.copy_from_slice(counts);
    // Every slot of `run[..m]` is written below: stale entries left by the
    // previous bucket need no clearing, only room.
    if run.len() < m {
        let first = parts.clone().next().expect("m ≥ 2 entries")[0].clone();
        run.resize(m, first);
    } else {
        run.truncate(m);
    }
    let run = &mut run[..m];
    let mut crowded = false;
    for part in parts {
        for e in part {
            let s = slot(e);
            let c = counts[s] as usize;
            counts[s] += 1;
            let (start, t) = (starts[s] as usize, e.time());
            let mut j = c;
            while j > start && run[j - 1].time() > t {
                if c - j == 32 {
                    crowded = true;
                    break;
                }
                run[j] = run[j - 1].clone();
                j -= 1;
            }
            run[j] = e.clone();
        }
    }
    if crowded {
        run.sort_unstable_by_key(|e| e.key);
    }
}

fn insertion_sort<E: Clone>(v: &mut [Entry<E>]) {
    for i in 1..v.len() {
        // After the counting sort most entries are already in place.
        if v[i - 1].key <= v[i].key {
            continue;
        }
        let e = v[i].clone();
        let mut j = i;
        while j > 0 && v[j - 1].key > e.key {
            v[j] = v[j - 1].clone();
            j -= 1;
        }
        v[j] = e;
    }
}

/// The bottom tier: the bucket being delivered, sorted (`run[pos..]`), and
/// a small heap for events pushed into its range meanwhile.
#[derive(Clone, Debug)]
pub(super) struct Bottom<E> {
    pub(super) run: Vec<Entry<E>>,
    pub(super) pos: usize,
    pub(super) heap: Heap<E>,
}

impl<E: Clone> Bottom<E> {
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.pos == self.run.len() && self.heap.is_empty()
    }

    #[inline]
    pub(super) fn peek_key(&self) -> Option<u128> {
        self.peek().map(|(k, _)| k)
    }

    /// The smallest key, and whether it is the sorted run's (else the
    /// side heap's).
    #[inline]
    pub(super) fn peek(&self) -> Option<(u128, bool)> {
        let r = self.run.get(self.pos).map(|e| e.key);
        match (r, self.heap.peek_key()) {
            (Some(a), Some(b)) => Some(if a < b { (a, true) } else { (b, false) }),
            (Some(a), None) => Some((a, true)),
            (None, b) => b.map(|b| (b, false)),
        }
    }

    #[inline]
    pub(super) fn push(&mut self, e: Entry<E>) {
        self.heap.push(e);
    }

    /// Removes the entry [`Bottom::peek`] found, returning its event.
    #[inline(always)]
    pub(super) fn take(&mut self, from_run: bool) -> E {
        if from_run {
            self.pos += 1;
            self.run[self.pos - 1].event.clone()
        } else {
            self.take_from_heap()
        }
    }

    /// [`Bottom::take`] from the side heap: the less common case, out of line.
    #[inline(never)]
    fn take_from_heap(&mut self) -> E {
        self.heap.pop().expect("peeked").event
    }
}
