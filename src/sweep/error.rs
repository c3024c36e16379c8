//! [`SweepError`]: why a configuration of a sweep or plan is not a valid
//! scenario.

use super::axis::AxisError;

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
    /// The grid has more points than `max` (the grid's limit,
    /// `grid::MAX_POINTS`).
    #[error("the grid has {points} points ({ranges}); at most {max} are allowed: use larger steps or fewer --vary")]
    TooLarge { points: u128, ranges: String, max: usize },
    /// The base scenario itself does not load.
    #[error(transparent)]
    Scenario(#[from] crate::scenario::ScenarioError),
}
