//! `surgesim trace`: writes the calls of a generated run as a trace CSV
//! (`arrival,duration,class`) that `kind = "trace"` replays to the same
//! totals.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use surgesim::model::calls::for_each_call;
use surgesim::report::output;

use super::ScenarioArgs;

#[derive(Args)]
pub struct TraceArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Which replication's calls to write.
    #[arg(long, default_value_t = 0)]
    pub run: u64,
    /// The CSV file to write.
    #[arg(long, short = 'o')]
    pub out: PathBuf,
    #[arg(long, default_value_t = 2e10)]
    pub max_calls: f64,
}

pub fn trace(a: TraceArgs) -> Result<ExitCode> {
    let sc = a.scenario.load()?;
    super::run::check_budget(&sc, 1, a.max_calls)?;
    let n = output::write_with(&a.out, |buf| -> Result<u64> {
        writeln!(buf, "arrival,duration,class")?;
        let mut io_err = None;
        // Microsecond resolution: exactly the engine's ticks, so a replay is exact.
        let n = for_each_call(&sc, a.run, |t, c| {
            if io_err.is_none() {
                if let Err(e) =
                    writeln!(buf, "{t:.6},{:.6},{}", c.duration.as_secs_f64(), sc.classes[c.class as usize].name)
                {
                    io_err = Some(e);
                }
            }
        })?;
        if let Some(e) = io_err {
            return Err(e).context(format!("cannot write {}", a.out.display()));
        }
        Ok(n)
    })?;
    println!("wrote {n} calls of {} (run {}) to {}", sc.name, a.run, a.out.display());
    Ok(ExitCode::SUCCESS)
}
