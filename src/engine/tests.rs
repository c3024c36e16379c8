//! Tests of the event queue: tie order, crowded buckets over finer rungs,
//! the bottom's sorts, and a sorted reference under mixed pushes and pops.

use super::bottom::{sort_into, sort_parts_into};
use super::entry::Entry;
use super::queue::{CHUNK, MAX_BUCKETS};
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
        deepest = deepest.max(q.depth());
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

    /// The bucket sort straight from a bucket's parts: entries in sequence
    /// order with times in the bucket's range, spread, clustered (crowded
    /// slots, the comparison-sort finish) or all at one tick, come out in
    /// key order, none lost.
    #[test]
    fn sort_parts_into_orders_by_key(
        times in proptest::collection::vec(0u64..1000, 2..400),
        scale in 0u32..40,
        width_shift in 0u32..=64,
        part in 1usize..20,
        base in any::<u64>(),
    ) {
        let width = if width_shift == 64 { u64::MAX } else { (1u64 << width_shift) - 1 };
        let lo = if width_shift == 64 { 0 } else { base & !width };
        let entries: Vec<Entry<usize>> = times
            .iter()
            .enumerate()
            .map(|(i, &t)| Entry { key: (((lo + ((t << scale) & width)) as u128) << 64) | i as u128, event: i })
            .collect();
        let mut want: Vec<u128> = entries.iter().map(|e| e.key).collect();
        want.sort_unstable();
        let (mut run, mut counts) = (Vec::new(), Vec::new());
        sort_parts_into(entries.chunks(part), entries.len(), lo, width_shift, &mut run, &mut counts);
        prop_assert_eq!(run.iter().map(|e| e.key).collect::<Vec<_>>(), want);
        prop_assert!(run.iter().all(|e| e.key as u64 as usize == e.event), "each key keeps its event");
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
