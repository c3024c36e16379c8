//! Reproducible random streams.
//!
//! Every random stream of a run is derived from `(scenario seed, run index,
//! stream name)` and nothing else: not the clock, not the thread, not the
//! order in which runs execute. Arrivals, call classes, durations, patience
//! and faults draw from separate streams, so two configurations compared on
//! one seed meet the same calls (common random numbers).
//!
//! The generator is PCG-64 (MCG variant) from `rand_pcg`, whose output is
//! specified and stable across versions and platforms, unlike `StdRng`.

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

/// The generator every stream uses.
pub type StreamRng = Pcg64Mcg;

/// Named streams of one run.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stream {
    Arrivals,
    Classes,
    Durations,
    Patience,
    Faults,
    Fallback,
    Provisioning,
    Canary,
    Initial,
    /// Node provisioning delays of `[primary.nodes]`.
    Nodes,
    /// Retry delays of `[clients]`.
    Clients,
}

impl Stream {
    /// The stable name hashed into the stream's seed. Never change these:
    /// doing so changes every published result.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Arrivals => "arrivals",
            Stream::Classes => "classes",
            Stream::Durations => "durations",
            Stream::Patience => "patience",
            Stream::Faults => "faults",
            Stream::Fallback => "fallback",
            Stream::Provisioning => "provisioning",
            Stream::Canary => "canary",
            Stream::Initial => "initial",
            Stream::Nodes => "nodes",
            Stream::Clients => "clients",
        }
    }
}

/// The generator of `stream` in run `run` of a scenario seeded with `seed`.
pub fn stream(seed: u64, run: u64, stream: Stream) -> StreamRng {
    stream_named(seed, run, stream.name())
}

/// As [`stream`], for a stream named at run time (e.g. one per call class).
pub fn stream_named(seed: u64, run: u64, name: &str) -> StreamRng {
    let mut h = fnv1a(name.as_bytes());
    h = splitmix(h ^ splitmix(seed));
    h = splitmix(h ^ splitmix(run.wrapping_add(0x9E37_79B9_7F4A_7C15)));
    StreamRng::seed_from_u64(h)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// SplitMix64 finaliser: a bijective avalanche of 64 bits.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: u64 = stream(7, 0, Stream::Arrivals).random();
        let b: u64 = stream(7, 0, Stream::Arrivals).random();
        let c: u64 = stream(7, 1, Stream::Arrivals).random();
        let d: u64 = stream(7, 0, Stream::Durations).random();
        let e: u64 = stream(8, 0, Stream::Arrivals).random();
        assert_eq!(a, b);
        assert!(a != c && a != d && a != e && c != d);
    }

    #[test]
    fn stream_values_are_version_stable() {
        const PINNED: u64 = 3_424_767_043_193_395_442;
        // A change here changes every published result: bump the major version.
        let v: u64 = stream(20250725, 0, Stream::Arrivals).random();
        assert_eq!(v, PINNED, "the arrivals stream of (20250725, 0) changed");
    }
}
