//! What identifies a sweep, whole or sharded: the scenario and its digest,
//! the grid's axes, the replications and the surgesim version. Rows
//! (`sweep.csv`) and part manifests both carry it.

use serde::{Deserialize, Serialize};

use super::grid::Grid;

/// One axis of the grid, as recorded in manifests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AxisSpec {
    pub path: String,
    /// As written: `path=FROM..TO:STEP`.
    pub arg: String,
    pub values: usize,
}

/// What identifies a sweep, whole or sharded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepInfo {
    pub scenario: String,
    /// See [`super::BaseScenario::digest`].
    pub scenario_digest: String,
    pub grid: Vec<AxisSpec>,
    pub points_total: usize,
    pub replications: u64,
    pub surgesim_version: String,
}

impl SweepInfo {
    pub fn new(scenario: &str, digest: String, grid: &Grid, replications: u64) -> SweepInfo {
        SweepInfo {
            scenario: scenario.to_string(),
            scenario_digest: digest,
            grid: grid
                .axes
                .iter()
                .map(|a| AxisSpec { path: a.path.clone(), arg: a.arg.clone(), values: a.len() })
                .collect(),
            points_total: grid.len(),
            replications,
            surgesim_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}
