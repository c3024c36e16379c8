//! Command-line interface: flags (clap) in, library calls, printing out.

mod bench;
mod calibrate;
mod check;
mod compare;
mod compare_range;
mod fit;
mod plan;
mod plan_mix;
mod report;
mod run;
mod shell;
mod sweep;
mod trace;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use surgesim::report::Staged;
use surgesim::scenario::{self, overrides::Override, Scenario};
use surgesim::slo::SloSet;

#[derive(Parser)]
#[command(name = "surgesim", version, about = "Deterministic simulator and capacity planner for call-arrival surges")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Simulate a scenario; print a summary table; write summary.json and timeseries.csv.
    Run(run::RunArgs),
    /// Run every scenario's [slo] block; exit 1 on any violation.
    Check(check::CheckArgs),
    /// Scenarios side by side on common random numbers: failures, saved, cost.
    Compare(compare::CompareArgs),
    /// Write the calls of a generated run as a trace CSV.
    Trace(trace::TraceArgs),
    /// Fit a scenario (rates, classes, duration laws) from a call log.
    Fit(fit::FitArgs),
    /// Parameter values that reproduce observed counts, with a 95% confidence set.
    Calibrate(calibrate::CalibrateArgs),
    /// Grid over scenario parameters, in parallel, with headroom curves.
    Sweep(sweep::SweepArgs),
    /// Cheapest value of a parameter meeting an SLO, with its evidence.
    Plan(plan::PlanArgs),
    /// One self-contained HTML page (report.html) from output folders.
    Report(report::ReportArgs),
    /// Join the outputs of sharded sweeps into the files one sweep writes.
    Merge(sweep::MergeArgs),
    /// Time the standard performance cases on this machine (calls/s, ratio to a floor loop).
    Bench(bench::BenchArgs),
    /// Parse and lint scenarios without running them.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// Write a shell completion script to stdout (bash, zsh, fish, powershell, elvish).
    Completions(shell::CompletionsArgs),
    /// Write the manual page (roff) to stdout, e.g. `surgesim man | man -l -`.
    Man(shell::ManArgs),
}

/// Flags shared by commands that load one scenario.
#[derive(Args, Clone, Debug)]
pub struct ScenarioArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override a scenario field by its dotted path, e.g. primary.workers=400.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Reporting window: clock times against clock_start (07:00..07:15,
    /// +1d07:00..+1d07:15) or offsets from the start (20m..35m, 1200..2100).
    #[arg(long)]
    pub window: Option<String>,
}

impl ScenarioArgs {
    pub fn load(&self) -> Result<Scenario> {
        let mut overrides = Vec::new();
        for s in &self.set {
            overrides.push(s.parse::<Override>().map_err(|e| anyhow::anyhow!("--set {e}"))?);
        }
        if let Some(w) = &self.window {
            overrides.push(Override { path: "window".into(), value: toml::Value::String(w.clone()) });
        }
        let mut sc = scenario::load(&self.scenario, &overrides)?;
        SloSet::of(&sc).with_context(|| self.scenario.display().to_string())?;
        if let Some(seed) = self.seed {
            sc.seed = seed;
        }
        Ok(sc)
    }
}

/// Flags shared by commands that simulate into an output folder.
#[derive(Args, Clone, Debug)]
pub struct OutputArgs {
    /// Output folder (default: notebooks-out/<scenario name>/, or the
    /// command's subfolder of it: sweep/, plan/, frontier/, compare/).
    /// Replaced as a whole when the run succeeds; one run at a time.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an output folder that surgesim did not write.
    #[arg(long)]
    pub force: bool,
    /// Worker threads (0: one per core). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Refuse runs expected to simulate more calls than this (per replication).
    #[arg(long, default_value_t = 2e10)]
    pub max_calls: f64,
}

impl OutputArgs {
    /// Takes the output folder (`--out`, else `default`) before anything
    /// is simulated: refusals and a busy folder stop the command here.
    pub fn begin(&self, default: PathBuf) -> Result<Staged> {
        Ok(Staged::begin(self.out.as_deref().unwrap_or(&default), self.force)?)
    }
}

/// Sets the size of rayon's global pool (0: one thread per core).
pub fn check_threads(threads: usize) -> Result<()> {
    if threads > 1024 {
        anyhow::bail!("--threads {threads}: at most 1024 (0 means one per core)");
    }
    Ok(())
}

pub fn set_threads(threads: usize) -> Result<()> {
    check_threads(threads)?;
    if threads > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .context("cannot configure the thread pool")?;
    }
    Ok(())
}

pub fn main() -> Result<ExitCode> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return Ok(ExitCode::from(code));
        }
    };
    match cli.cmd {
        Cmd::Run(args) => run::run(args),
        Cmd::Check(a) => check::check(a),
        Cmd::Trace(a) => trace::trace(a),
        Cmd::Fit(a) => fit::fit(a),
        Cmd::Calibrate(a) => calibrate::calibrate(a),
        Cmd::Compare(a) => match a.calibration.clone() {
            Some(c) => compare_range::compare(&a, &c),
            None => compare::compare(a),
        },
        Cmd::Sweep(a) => sweep::sweep(a),
        Cmd::Plan(a) if plan::is_mix(&a) => plan_mix::plan_mix(&a),
        Cmd::Plan(a) => plan::plan(a),
        Cmd::Merge(a) => sweep::merge(a),
        Cmd::Report(a) => report::report(a),
        Cmd::Bench(a) => bench::bench(a),
        Cmd::Validate { scenarios } => validate(&scenarios),
        Cmd::Completions(a) => shell::completions(a),
        Cmd::Man(a) => shell::man(a),
    }
}

fn validate(paths: &[PathBuf]) -> Result<ExitCode> {
    let mut bad = 0;
    for p in paths {
        let loaded = scenario::load(p, &[]).map_err(anyhow::Error::from).and_then(|sc| {
            SloSet::of(&sc).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            Ok(sc)
        });
        match loaded {
            Ok(sc) => {
                println!(
                    "{}: ok ({}; {} classes, about {:.0} calls)",
                    p.display(),
                    sc.name,
                    sc.classes.len(),
                    sc.expected_calls()
                );
                for w in &sc.warnings {
                    println!("{}: warning: {w}", p.display());
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                bad += 1;
            }
        }
    }
    if bad > 0 {
        bail!("{bad} of {} scenarios are invalid", paths.len());
    }
    Ok(ExitCode::SUCCESS)
}
