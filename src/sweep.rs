//! Sweeps and capacity planning: many configurations of one scenario.
//!
//! This module owns everything between "a scenario file plus some ranges"
//! and "rows of numbers": it knows nothing of flags, terminals or folders
//! (the CLI reads and writes files; `report` draws plots and reads the
//! headroom curves back from `sweep.csv`).
//!
//! - [`axis`]: one `path=FROM..TO:STEP` range and its values, integers kept
//!   integers, floats free of accumulated drift.
//! - [`grid`]: the cartesian product of axes (first axis slowest) and the
//!   deterministic split of its points into shards.
//! - [`info`]: what identifies a sweep (scenario digest, grid,
//!   replications, version), written with its rows and part manifests.
//! - [`base`]: the scenario as written plus `--set` edits, from which every
//!   configuration is loaded and validated like the file itself.
//! - [`runs`]: every (point, replication) pair in one parallel iterator;
//!   per-run values of the sweep metrics and their means and intervals.
//! - [`rows`]: `sweep.csv` — rendering, reading back, and joining parts.
//! - [`shard`]: `--shard K/N`, the part manifest and the checks of `merge`.
//! - [`plan`]: the smallest value meeting an objective, by bisection with
//!   batched replications.
//! - [`frontier`]: the largest surge each capacity survives.
//! - [`mix`]: the cheapest combination of several parameters meeting
//!   several objectives, and the cost–metric Pareto frontier.
//!
//! # Common random numbers
//! Every configuration uses the same seed and the same replication indices
//! `0..R`. Since every random stream derives from (seed, replication,
//! stream name), replication `r` of every configuration sees the same
//! arrivals and the same call durations: differences between
//! configurations are differences of configuration, not of luck.
//!
//! # Determinism
//! Results are gathered in (point, replication) order whatever thread
//! finished first, and every number is rendered with [`crate::fmt::num`]
//! (the shortest form that reads back exactly), so `sweep.csv` is
//! byte-identical under any thread count and under any sharding.

pub mod axis;
pub mod base;
mod error;
pub mod frontier;
pub mod grid;
pub mod info;
pub mod mix;
pub mod plan;
pub mod rows;
pub mod runs;
pub mod shard;

pub use axis::{Axis, AxisError, AxisValue};
pub use base::BaseScenario;
pub use error::SweepError;
pub use grid::{Grid, Point, Shard};
pub use info::{AxisSpec, SweepInfo};
pub use shard::{Manifest, MergeError};
