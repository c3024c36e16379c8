//! `surgesim run`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;

use surgesim::experiment::{self, Aggregate};
use surgesim::model::RunOptions;
use surgesim::report::{causes, json, plot, table, timeseries, Staged};
use surgesim::scenario::Scenario;

use super::{set_threads, OutputArgs, ScenarioArgs};

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Independent replications (run i uses the streams of (seed, i)).
    #[arg(long, short = 'r', default_value_t = 1)]
    pub replications: u64,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Also write failures.csv: each failed call (at most 100,000 per run).
    #[arg(long)]
    pub failure_log: bool,
    /// Also write report.html (one self-contained page) and provenance.json.
    #[arg(long)]
    pub report: bool,
}

/// Refuses work beyond the stated budgets before anything runs.
pub fn check_budget(sc: &Scenario, replications: u64, max_calls: f64) -> Result<()> {
    if replications == 0 {
        bail!("--replications must be at least 1");
    }
    if replications > 100_000 {
        bail!("--replications {replications} is more than 100000");
    }
    if !max_calls.is_finite() || max_calls < 0.0 {
        bail!("--max-calls {max_calls}: expected a finite number of calls >= 0");
    }
    let calls = sc.expected_calls() + sc.initial_calls as f64;
    if calls > max_calls {
        bail!(
            "scenario {} would simulate about {calls:.3e} calls per replication, over the budget of {max_calls:.3e}; \
             shorten `duration`, lower the rate, or raise --max-calls",
            sc.name
        );
    }
    Ok(())
}

/// Fails if any run stopped early on a trace read error.
pub fn ensure_complete(agg: &Aggregate) -> Result<()> {
    if let Some(e) = agg.runs.iter().find_map(|r| r.end.arrival_error.as_ref()) {
        bail!("the trace could not be read to the end: {e}");
    }
    Ok(())
}

pub fn default_out(sc: &Scenario) -> PathBuf {
    PathBuf::from("notebooks-out").join(&sc.name)
}

pub fn run(args: RunArgs) -> Result<ExitCode> {
    let sc = args.scenario.load()?;
    check_budget(&sc, args.replications, args.output.max_calls)?;
    set_threads(args.output.threads)?;
    let staged = args.output.begin(default_out(&sc))?;
    let agg = experiment::run(&sc, args.replications, RunOptions { failure_log: args.failure_log });
    ensure_complete(&agg)?;
    let paths = [args.scenario.scenario.as_path()];
    let dir = staged.finish(|st| -> Result<()> {
        write_outputs(st, &sc, &agg)?;
        super::report::attach(args.report, st, "run", &paths, Some(sc.seed), Some(args.replications))
    })?;
    print!("{}", render(&sc, &agg));
    println!("wrote {}", dir.display());
    Ok(ExitCode::SUCCESS)
}

pub fn write_outputs(staged: &Staged, sc: &Scenario, agg: &Aggregate) -> Result<()> {
    staged.write("summary.json", json::to_string(sc, agg).as_bytes())?;
    staged.write("timeseries.csv", &timeseries::to_csv(sc, agg))?;
    staged.write("summary.txt", render(sc, agg).as_bytes())?;
    if agg.runs.iter().any(|r| !r.end.scale_log.is_empty()) {
        staged.write("scaling.csv", &causes::scaling_csv(sc, &agg.runs))?;
    }
    if agg.runs.iter().any(|r| r.end.failure_log.is_some()) {
        staged.write("failures.csv", &causes::failures_csv(sc, &agg.runs))?;
    }
    if let Some(r0) = agg.runs.first() {
        staged.write("causes.csv", &causes::causes_csv(sc, &causes::explain(sc, r0)))?;
    }
    plot::timeline(sc, agg, &staged.staging_path("timeline.svg"), &staged.staging_path("timeline.png"))?;
    Ok(())
}

/// The terminal report: the table, then why calls failed.
pub fn render(sc: &Scenario, agg: &Aggregate) -> String {
    let mut s = table::render(sc, agg);
    if let Some(r0) = agg.runs.first() {
        s.push_str(&causes::render(sc, &causes::explain(sc, r0), 12));
    }
    s
}
