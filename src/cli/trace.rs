//! `surgesim trace`: writes the calls of a run as a trace CSV
//! (`arrival,duration,class,outcome,end`) that `kind = "trace"` replays to
//! the same totals and `surgesim fit` reads back.
//!
//! The run is simulated with per-call records ([`run_recording`]);
//! records settle out of arrival order (a waiting call's fate comes later),
//! so a small reorder buffer, as long as the calls in flight between the
//! oldest unsettled call and now, puts the rows back in arrival order.

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;

use surgesim::model::record::CallRecord;
use surgesim::model::{run_recording, RunOptions};
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
    let warm = sc.warmup.as_secs_f64();
    let n = output::write_with(&a.out, |buf| -> Result<u64> {
        writeln!(buf, "arrival,duration,class,outcome,end")?;
        let mut io_err = None;
        let mut n = 0u64;
        // Records by seq, from `base`: a slot is filled when its call settles.
        let mut pending: VecDeque<Option<CallRecord>> = VecDeque::new();
        let mut base = 0u64;
        let write = |r: &CallRecord, buf: &mut std::io::BufWriter<std::fs::File>| -> std::io::Result<()> {
            // Microsecond resolution: exactly the engine's ticks, so a replay is exact.
            let t = r.arrival.as_secs_f64() - warm;
            write!(
                buf,
                "{t:.6},{:.6},{},{},",
                r.duration.as_secs_f64(),
                sc.classes[r.class as usize].name,
                r.outcome.name()
            )?;
            match r.end {
                Some(e) => writeln!(buf, "{:.6}", e.as_secs_f64() - warm),
                None => writeln!(buf),
            }
        };
        let res = run_recording(&sc, a.run, RunOptions::default(), &mut |r: CallRecord| {
            let i = (r.seq - base) as usize;
            if pending.len() <= i {
                pending.resize(i + 1, None);
            }
            pending[i] = Some(r);
            while let Some(Some(front)) = pending.front() {
                if io_err.is_none() {
                    if let Err(e) = write(front, buf) {
                        io_err = Some(e);
                    }
                }
                pending.pop_front();
                base += 1;
                n += 1;
            }
        });
        if let Some(e) = res.end.arrival_error {
            bail!("{e}");
        }
        if let Some(e) = io_err {
            return Err(e).context(format!("cannot write {}", a.out.display()));
        }
        debug_assert!(pending.is_empty(), "every call settles or is still waiting at the end");
        Ok(n)
    })?;
    println!("wrote {n} calls of {} (run {}) to {}", sc.name, a.run, a.out.display());
    Ok(ExitCode::SUCCESS)
}
