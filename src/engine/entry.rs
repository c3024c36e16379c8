//! The queue's entry: an event with its packed key `(time << 64) | sequence`.

/// A pending event and its packed key `(time << 64) | sequence`.
#[derive(Clone, Debug)]
pub(super) struct Entry<E> {
    pub(super) key: u128,
    pub(super) event: E,
}

impl<E> Entry<E> {
    #[inline]
    pub(super) fn time(&self) -> u64 {
        (self.key >> 64) as u64
    }
}
