//! `surgesim bench`: the standard performance cases on this machine, with
//! the engine's ratio to a hand-written floor loop measured at the same
//! moment. Prints a table; writes nothing.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;

use surgesim::bench::{self, HOLD_OPS};
use surgesim::scenario::Scenario;

#[derive(Args)]
pub struct BenchArgs {
    /// Timed runs per case; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Only the event queue and the loss model against its floor.
    #[arg(long)]
    pub quick: bool,
    /// Also run 24 hours at 10,000 calls/s (864 million calls, once).
    #[arg(long)]
    pub day: bool,
    /// Threads for the parallel half of the sweep case (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// Points and replications of the sweep case.
const SWEEP_POINTS: usize = 16;
const SWEEP_REPS: u64 = 5;

fn row(case: &str, work: &str, secs: f64, rate: &str, note: &str) {
    println!("{case:<46} {work:>18} {secs:>9.3} s {rate:>16}  {note}");
}

fn per_sec(n: f64, secs: f64, unit: &str) -> String {
    format!("{:.2} M {unit}/s", n / secs / 1e6)
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Times one replication of `sc` and prints its row.
fn scenario_case(case: &str, sc: &Scenario, repeat: usize) {
    let calls = sc.expected_calls().round();
    let secs = bench::median_secs(|| bench::run_once(sc), repeat);
    row(case, &format!("{} calls", thousands(calls as u64)), secs, &per_sec(calls, secs, "calls"), "");
}

pub fn bench(a: BenchArgs) -> Result<ExitCode> {
    if a.repeat == 0 || a.repeat > 1000 {
        bail!("--repeat {}: expected 1 to 1000 timed runs per case", a.repeat);
    }
    super::check_threads(a.threads)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = if a.threads == 0 { cores } else { a.threads };
    println!(
        "surgesim {} bench: one core per case except the sweep's parallel half; median of {} run(s); {cores} core(s) available",
        env!("CARGO_PKG_VERSION"),
        a.repeat
    );
    println!("{:<46} {:>18} {:>11} {:>16}  note", "case", "work", "time", "rate");

    let (initial, incs) = bench::hold_workload();
    let ops = HOLD_OPS as f64;
    let q = bench::median_secs(
        || {
            black_box(bench::hold_engine(&initial, &incs));
        },
        a.repeat,
    );
    let h = bench::median_secs(
        || {
            black_box(bench::hold_binary_heap(&initial, &incs));
        },
        a.repeat,
    );
    let work = format!("{} ops", thousands(HOLD_OPS as u64));
    row("event queue, hold model, 6,000 pending", &work, q, &per_sec(ops, q, "ops"), "");
    row("  std BinaryHeap, same model", &work, h, &per_sec(ops, h, "ops"), "reference");

    let sc = bench::loss_scenario();
    let calls = bench::loss_calls();
    // Engine and floor alternate, so their ratio compares runs made at
    // nearly the same moment (the median of the pairs' ratios).
    let (engine, floor, ratio) = bench::paired_medians(
        || bench::run_once(&sc),
        || {
            black_box(bench::floor_loss(calls, 1));
        },
        a.repeat,
    );
    let reference = bench::median_secs(
        || {
            black_box(bench::floor_loss_reference(calls, 1));
        },
        a.repeat,
    );
    let work = format!("{} calls", thousands(calls));
    let ratio = format!("engine speed / floor speed = {ratio:.2}");
    row("loss model, 6,000 Erlang, full engine", &work, engine, &per_sec(calls as f64, engine, "calls"), &ratio);
    row("  floor: the same model, fastest plain loop", &work, floor, &per_sec(calls as f64, floor, "calls"), "");
    row(
        "  earlier floor: binary heap, PCG-64",
        &work,
        reference,
        &per_sec(calls as f64, reference, "calls"),
        "reference",
    );
    if a.quick {
        return Ok(ExitCode::SUCCESS);
    }

    scenario_case("spike-3x (bundled), 1 replication", &bench::spike_scenario(), a.repeat);
    scenario_case("incident-2025-07-25 (bundled), 1 replication", &bench::incident_scenario(&[]), a.repeat);
    scenario_case("  the same, customers redialling (retries)", &bench::incident_retry_scenario(), a.repeat);
    scenario_case("1 h at 10,000 calls/s, 300,000 in flight", &bench::scale_scenario(1), a.repeat);

    let points = bench::sweep_points(SWEEP_POINTS);
    let runs = SWEEP_POINTS as u64 * SWEEP_REPS;
    let calls: f64 = points.iter().map(|(_, sc)| sc.expected_calls()).sum::<f64>() * SWEEP_REPS as f64;
    let mut results = Vec::new();
    let one = bench::median_secs(|| results = bench::run_sweep(&points, SWEEP_REPS, 1), a.repeat);
    let first = std::mem::take(&mut results);
    let many = bench::median_secs(|| results = bench::run_sweep(&points, SWEEP_REPS, threads), a.repeat);
    let same = first.iter().zip(&results).all(|(x, y)| x.per_run == y.per_run);
    let work = format!("{runs} runs");
    row(
        &format!("sweep, {SWEEP_POINTS} points x {SWEEP_REPS} replications, 1 thread"),
        &work,
        one,
        &per_sec(calls, one, "calls"),
        "",
    );
    row(
        &format!("  the same on {threads} thread(s)"),
        &work,
        many,
        &per_sec(calls, many, "calls"),
        &format!("speed-up {:.2}; results {}", one / many, if same { "identical" } else { "DIFFER" }),
    );
    if !same {
        bail!("the sweep's results differ between 1 and {threads} threads");
    }

    if a.day {
        let sc = bench::scale_scenario(24);
        let calls = sc.expected_calls();
        let start = Instant::now();
        bench::run_once(&sc);
        let secs = start.elapsed().as_secs_f64();
        row(
            "24 h at 10,000 calls/s",
            &format!("{} calls", thousands(calls.round() as u64)),
            secs,
            &per_sec(calls, secs, "calls"),
            "once",
        );
    }
    Ok(ExitCode::SUCCESS)
}
