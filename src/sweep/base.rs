//! The base scenario of a sweep: the file as written, the `--set` edits
//! and the seed, from which every configuration is loaded.
//!
//! A configuration is the base plus one `path=value` edit per axis, applied
//! to the TOML tree *before* validation (see [`crate::scenario::overrides`]),
//! so a varied value is checked exactly as if it were written in the file:
//! an unknown path or a value of the wrong type is an error naming the
//! `--vary` that produced it.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::axis::{Axis, AxisValue};
use super::error::SweepError;
use super::grid::Grid;
use crate::scenario::{self, overrides::Override, Scenario, ScenarioError};

/// Where the scenario comes from.
#[derive(Clone, Debug)]
enum Source {
    /// A file, loaded by [`scenario::load`] (so `extends` variants work).
    File(PathBuf),
    /// Text, with the name shown in messages and the folder relative file
    /// references resolve against.
    Text { shown: String, dir: PathBuf },
}

/// A scenario plus the edits every configuration shares.
#[derive(Clone, Debug)]
pub struct BaseScenario {
    source: Source,
    /// The scenario text as written (for the digest).
    text: String,
    overrides: Vec<Override>,
    seed: Option<u64>,
}

impl BaseScenario {
    /// The scenario file at `path` (validated by [`BaseScenario::scenario`]).
    pub fn read(path: &Path, overrides: Vec<Override>, seed: Option<u64>) -> Result<BaseScenario, ScenarioError> {
        let text = crate::input::read_text(path)
            .map_err(|reason| ScenarioError::Read { path: path.display().to_string(), reason })?;
        Ok(BaseScenario { source: Source::File(path.to_path_buf()), text, overrides, seed })
    }

    /// A scenario given as text; `shown` names it in messages and `dir` is
    /// the folder relative file references resolve against.
    pub fn from_text(
        text: String,
        shown: String,
        dir: PathBuf,
        overrides: Vec<Override>,
        seed: Option<u64>,
    ) -> BaseScenario {
        BaseScenario { source: Source::Text { shown, dir }, text, overrides, seed }
    }

    /// The base configuration.
    pub fn scenario(&self) -> Result<Scenario, ScenarioError> {
        self.with(&[])
    }

    /// The base with `edits` applied after the `--set` edits.
    pub fn with(&self, edits: &[Override]) -> Result<Scenario, ScenarioError> {
        let mut all = self.overrides.clone();
        all.extend_from_slice(edits);
        let mut sc = match &self.source {
            Source::File(path) => scenario::load(path, &all)?,
            Source::Text { shown, dir } => scenario::load_str(&self.text, shown, dir, &all)?,
        };
        if let Some(seed) = self.seed {
            sc.seed = seed;
        }
        Ok(sc)
    }

    /// The configuration with `axes[i]` set to `values[i]`; errors name
    /// the axes' flags and ranges.
    pub fn load_point(&self, axes: &[&Axis], values: &[AxisValue]) -> Result<Scenario, SweepError> {
        let edits: Vec<Override> =
            axes.iter().zip(values).map(|(a, v)| Override { path: a.path.clone(), value: v.to_toml() }).collect();
        self.with(&edits).map_err(|e| {
            let msg = match e {
                ScenarioError::Override { msg, .. } => msg,
                ScenarioError::Invalid { field, msg, .. } => format!("field `{field}`: {msg}"),
                other => other.to_string(),
            };
            let ranges = axes.iter().map(|a| format!("{} {}", a.flag, a.arg)).collect::<Vec<_>>().join(" ");
            let at = edits.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            SweepError::Point { ranges, at, msg }
        })
    }

    /// Loads every point of `grid`, in index order (see
    /// [`BaseScenario::check_axes`] for the order of the checks). Holds
    /// every configuration at once: for large grids, check with
    /// [`BaseScenario::check_axes`] and load with [`BaseScenario::load_at`].
    pub fn load_grid(&self, grid: &Grid) -> Result<Vec<Scenario>, SweepError> {
        self.check_axes(grid)?;
        (0..grid.len()).map(|i| self.load_at(grid, i)).collect()
    }

    /// With several axes, checks each axis alone at each of its values, so
    /// an error names the one `--vary` at fault before any combination is
    /// tried. (With one axis, its values are the points.)
    pub fn check_axes(&self, grid: &Grid) -> Result<(), SweepError> {
        if grid.axes.len() > 1 {
            for axis in &grid.axes {
                for v in &axis.values {
                    self.load_point(&[axis], &[*v])?;
                }
            }
        }
        Ok(())
    }

    /// The configuration of point `index` of `grid`.
    pub fn load_at(&self, grid: &Grid, index: usize) -> Result<Scenario, SweepError> {
        let axes: Vec<&Axis> = grid.axes.iter().collect();
        self.load_point(&axes, &grid.point(index).values)
    }

    /// A digest of what decides the runs: the scenario text, the `--set`
    /// edits and the seed. Parts of one sweep share it. (Files the scenario
    /// refers to — traces, rate files, the scenario an `extends` names —
    /// are not included.)
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"surgesim-sweep-v1\n");
        h.update(self.text.as_bytes());
        for o in &self.overrides {
            h.update(format!("\n--set {o}").as_bytes());
        }
        h.update(format!("\n--seed {:?}", self.seed).as_bytes());
        let bytes = h.finalize();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
