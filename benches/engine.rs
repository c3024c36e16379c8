//! Engine benchmarks (criterion). `cargo bench --bench engine`.
//!
//! The cases live in [`surgesim::bench`], shared with `surgesim bench`:
//! - `event_queue`: the engine's queue alone, in the classic hold model
//!   (6,000 pending; each step pops the earliest event and pushes it back an
//!   exponential increment later), std's `BinaryHeap` alongside;
//! - `loss_model`: M/M/c/c at 6,000 Erlang (λ = 200/s, mean 30 s, 5,800
//!   slots) through the full engine, and the same model as the fastest
//!   plain loop (the floor) and as the earlier binary-heap loop. The
//!   engine's speed as a fraction of the floor's on this machine is
//!   printed before the measurements;
//! - `scenario`: the bundled `spike-3x` and incident scenarios, and an hour
//!   at 10,000 calls/s (300,000 calls in flight), one replication each;
//! - `sweep`: the incident over 16 values of the autoscaler's minimum × 5
//!   replications, on 1 thread and on 2.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use surgesim::bench;

/// Ten samples over `secs` seconds of measurement: enough to compare, short
/// enough that the whole bench takes a few minutes.
fn configure<'a>(c: &'a mut Criterion, name: &str, secs: u64) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(secs));
    g
}

fn event_queue(c: &mut Criterion) {
    let (initial, incs) = bench::hold_workload();
    let mut g = configure(c, "event_queue", 4);
    g.throughput(Throughput::Elements(incs.len() as u64));
    g.bench_function("hold_6000_engine", |b| b.iter(|| black_box(bench::hold_engine(&initial, &incs))));
    g.bench_function("hold_6000_std_binary_heap", |b| b.iter(|| black_box(bench::hold_binary_heap(&initial, &incs))));
    g.finish();
}

fn loss_model(c: &mut Criterion) {
    let sc = bench::loss_scenario();
    let calls = bench::loss_calls();
    if std::env::args().any(|a| a == "--bench") {
        // The engine's cost relative to the floor, on this machine, now.
        let engine = bench::median_secs(|| bench::run_once(&sc), 5);
        let floor = bench::median_secs(
            || {
                black_box(bench::floor_loss(calls, 1));
            },
            5,
        );
        println!(
            "loss_model: {calls} calls per run; engine {:.2} M calls/s, floor {:.2} M calls/s, \
             engine speed / floor speed = {:.2}",
            calls as f64 / engine / 1e6,
            calls as f64 / floor / 1e6,
            floor / engine,
        );
    }
    let mut g = configure(c, "loss_model", 4);
    g.throughput(Throughput::Elements(calls));
    g.bench_function("engine_mmcc_6000_erlang", |b| b.iter(|| bench::run_once(&sc)));
    g.bench_function("floor", |b| b.iter(|| black_box(bench::floor_loss(calls, 1))));
    g.bench_function("floor_reference_binary_heap", |b| b.iter(|| black_box(bench::floor_loss_reference(calls, 1))));
    g.finish();
}

fn scenarios(c: &mut Criterion) {
    let mut g = configure(c, "scenario", 8);
    for (name, sc) in [("spike-3x", bench::spike_scenario()), ("incident", bench::incident_scenario(&[]))] {
        g.throughput(Throughput::Elements(sc.expected_calls().round() as u64));
        g.bench_function(name, |b| b.iter(|| bench::run_once(&sc)));
    }
    g.finish();
    // 4 s a run: the fewest samples criterion takes.
    let sc = bench::scale_scenario(1);
    let mut g = c.benchmark_group("scale");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(45));
    g.throughput(Throughput::Elements(sc.expected_calls().round() as u64));
    g.bench_function("hour_10k_calls_per_s", |b| b.iter(|| bench::run_once(&sc)));
    g.finish();
}

fn sweep(c: &mut Criterion) {
    let points = bench::sweep_points(16);
    let calls: f64 = points.iter().map(|(_, sc)| sc.expected_calls()).sum::<f64>() * 5.0;
    let mut g = configure(c, "sweep", 15);
    g.throughput(Throughput::Elements(calls.round() as u64));
    for threads in [1, 2] {
        g.bench_function(format!("incident_16x5_{threads}_threads"), |b| {
            b.iter(|| black_box(bench::run_sweep(&points, 5, threads)))
        });
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    event_queue(&mut c);
    loss_model(&mut c);
    scenarios(&mut c);
    sweep(&mut c);
    c.final_summary();
}
