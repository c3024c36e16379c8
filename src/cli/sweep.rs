//! `surgesim sweep`, `surgesim plan`, `surgesim merge` (placeholder: being written).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;

use super::ScenarioArgs;

#[derive(Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// path=FROM..TO:STEP
    #[arg(long)]
    pub vary: Vec<String>,
    #[arg(long, short = 'r', default_value_t = 1)]
    pub replications: u64,
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    #[arg(long)]
    pub vary: String,
    #[arg(long)]
    pub slo: String,
}

#[derive(Args)]
pub struct MergeArgs {
    pub parts: Vec<PathBuf>,
}

pub fn sweep(_a: SweepArgs) -> Result<ExitCode> {
    bail!("sweep is not available yet")
}

pub fn plan(_a: PlanArgs) -> Result<ExitCode> {
    bail!("plan is not available yet")
}

pub fn merge(_a: MergeArgs) -> Result<ExitCode> {
    bail!("merge is not available yet")
}
