//! The grid: the cartesian product of the axes, the first axis varying
//! slowest, and its deterministic split into shards.
//!
//! Point `i` has the mixed-radix digits of `i` (last axis fastest), so a
//! point's index and values depend only on the axes, never on a shard or a
//! thread: that is what lets `merge` reassemble a sharded sweep exactly.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::axis::{Axis, AxisValue};
use super::error::SweepError;

/// Largest number of points a grid may have (the product of the axes'
/// lengths). `sweep --help` states it; a larger grid is refused before
/// anything is loaded. Setup and the runs are lazy (a point is computed
/// from its index, and scenarios are loaded a block at a time), so memory
/// grows with the rows of the table, not with the scenarios.
pub const MAX_POINTS: usize = 100_000;

/// One configuration: its index in the grid and a value per axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub index: usize,
    pub values: Vec<AxisValue>,
}

/// Axes in the order given (invariant: at least one, each non-empty).
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub axes: Vec<Axis>,
}

impl Grid {
    pub fn new(axes: Vec<Axis>) -> Grid {
        debug_assert!(!axes.is_empty() && axes.iter().all(|a| !a.is_empty()));
        Grid { axes }
    }

    /// Number of points (saturating; see [`MAX_POINTS`]).
    pub fn len(&self) -> usize {
        self.axes.iter().fold(1usize, |n, a| n.saturating_mul(a.len()))
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Refuses a grid of more than [`MAX_POINTS`] points, naming the
    /// size of each axis.
    pub fn check_size(&self) -> Result<(), SweepError> {
        let total: u128 = self.axes.iter().fold(1u128, |n, a| n.saturating_mul(a.len() as u128));
        if total <= MAX_POINTS as u128 {
            return Ok(());
        }
        let sizes = self.axes.iter().map(|a| format!("{} {} ({} values)", a.flag, a.arg, a.len()));
        Err(SweepError::TooLarge { points: total, ranges: sizes.collect::<Vec<_>>().join(" × "), max: MAX_POINTS })
    }

    /// The point with index `index` (< [`Grid::len`]).
    pub fn point(&self, index: usize) -> Point {
        let mut rest = index;
        let mut values = vec![AxisValue::Int(0); self.axes.len()];
        for (slot, axis) in values.iter_mut().zip(&self.axes).rev() {
            *slot = axis.values[rest % axis.len()];
            rest /= axis.len();
        }
        Point { index, values }
    }

    /// Every point, in index order.
    pub fn points(&self) -> Vec<Point> {
        (0..self.len()).map(|i| self.point(i)).collect()
    }

    /// The points of one shard: indices with `index % N == K − 1`.
    pub fn shard_points(&self, shard: Shard) -> Vec<Point> {
        self.shard_iter(shard).collect()
    }

    /// The points of one shard, computed one at a time.
    pub fn shard_iter(&self, shard: Shard) -> impl ExactSizeIterator<Item = Point> + '_ {
        (shard.k - 1..self.len()).step_by(shard.n).map(|i| self.point(i))
    }

    /// A digest of every value of every axis, in order (hex sha-256):
    /// two grids with the same digest have the same points.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"surgesim-grid-v1\n");
        for a in &self.axes {
            h.update(format!("{}\n", a.path).as_bytes());
            for v in &a.values {
                let kind = if matches!(v, AxisValue::Int(_)) { 'i' } else { 'f' };
                h.update(format!("{kind}{v}\n").as_bytes());
            }
            h.update(b"\n");
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The paths of the axes, in order.
    pub fn paths(&self) -> Vec<String> {
        self.axes.iter().map(|a| a.path.clone()).collect()
    }
}

/// Shard `k` of `n` (1 ≤ k ≤ n).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Shard {
    pub k: usize,
    pub n: usize,
}

impl Shard {
    /// The whole grid as one shard.
    pub const ALL: Shard = Shard { k: 1, n: 1 };

    pub fn contains(self, index: usize) -> bool {
        index % self.n == self.k - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `K/N` with 1 ≤ K ≤ N.
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {s}: expected K/N with 1 <= K <= N, e.g. 1/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (usize, usize) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_axis_varies_slowest_and_shards_partition_the_points() {
        let g =
            Grid::new(vec![Axis::parse("--vary", "a=1..2:1").unwrap(), Axis::parse("--vary", "b=10..30:10").unwrap()]);
        assert_eq!(g.len(), 6);
        let p: Vec<(i64, i64)> = g
            .points()
            .iter()
            .map(|p| match (p.values[0], p.values[1]) {
                (AxisValue::Int(a), AxisValue::Int(b)) => (a, b),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(p, [(1, 10), (1, 20), (1, 30), (2, 10), (2, 20), (2, 30)]);
        let mut seen: Vec<usize> =
            (1..=4).flat_map(|k| g.shard_points(Shard { k, n: 4 }).into_iter().map(|p| p.index)).collect();
        seen.sort();
        assert_eq!(seen, (0..6).collect::<Vec<_>>());
    }
}
