//! Sweeps and capacity planning: many configurations of one scenario.
//!
//! This module owns everything between "a scenario file plus some ranges"
//! and "rows of numbers": it knows nothing of flags, terminals or folders
//! (the CLI reads and writes files; `report` draws plots).
//!
//! - [`axis`]: one `path=FROM..TO:STEP` range and its values, integers kept
//!   integers, floats free of accumulated drift.
//! - [`grid`]: the cartesian product of axes (first axis slowest) and the
//!   deterministic split of its points into shards.
//! - [`base`]: the scenario as written plus `--set` edits, from which every
//!   configuration is loaded and validated like the file itself.
//! - [`runs`]: every (point, replication) pair in one parallel iterator;
//!   per-run values of the sweep metrics and their means and intervals.
//! - [`rows`]: `sweep.csv` — rendering, reading back, and joining parts.
//! - [`shard`]: `--shard K/N`, the part manifest and the checks of `merge`.
//! - [`curves`]: headroom curves (failures against the first axis).
//! - [`plan`]: the smallest value meeting an objective, by bisection with
//!   batched replications.
//! - [`frontier`]: the largest surge each capacity survives.
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
//! finished first, and every number is rendered with [`crate::report::num`]
//! (the shortest form that reads back exactly), so `sweep.csv` is
//! byte-identical under any thread count and under any sharding.

pub mod axis;
pub mod base;
pub mod curves;
pub mod frontier;
pub mod grid;
pub mod plan;
pub mod rows;
pub mod runs;
pub mod shard;

pub use axis::{Axis, AxisError, AxisValue};
pub use base::BaseScenario;
pub use grid::{Grid, Point};
pub use shard::{Manifest, MergeError, Shard};

/// Why a configuration of a sweep or plan is not a valid scenario.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Axis(#[from] AxisError),
    /// A value of a range makes the scenario invalid (unknown path, wrong
    /// type, out of bounds). `ranges` names the flags and ranges at fault
    /// (`--vary primary.workers=300..600:50`), `at` the values.
    #[error("{ranges}: at {at}: {msg}")]
    Point { ranges: String, at: String, msg: String },
    /// The grid has more points than [`grid::MAX_POINTS`].
    #[error("the grid has {points} points ({ranges}); at most {max} are allowed: use larger steps or fewer --vary", max = grid::MAX_POINTS)]
    TooLarge { points: u128, ranges: String },
    /// The base scenario itself does not load.
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
}
