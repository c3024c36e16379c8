//! The 4-ary min-heap of entries by key that holds events pushed into the
//! bottom tier's range while it is being delivered.

use super::entry::Entry;

/// A 4-ary min-heap of entries by key: the bottom's side heap. Keys and
/// events live in parallel vectors, so a sift step reads only the four
/// children's keys (64 contiguous bytes). No allocation once grown.
#[derive(Clone, Debug)]
pub(super) struct Heap<E> {
    pub(super) keys: Vec<u128>,
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
    pub(super) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    #[inline]
    pub(super) fn peek_key(&self) -> Option<u128> {
        self.keys.first().copied()
    }

    #[inline]
    pub(super) fn push(&mut self, e: Entry<E>) {
        self.keys.push(e.key);
        self.events.push(e.event);
        self.sift_up(self.keys.len() - 1);
    }

    #[inline]
    pub(super) fn pop(&mut self) -> Option<Entry<E>> {
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
