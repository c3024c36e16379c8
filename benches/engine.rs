//! Engine benchmarks (criterion). `cargo bench --bench engine`.
//!
//! - `event_queue`: the engine's [`EventQueue`] alone, in the classic hold
//!   model: ~6000 pending events, each step pops the earliest and pushes it
//!   back an exponential increment later (std's `BinaryHeap` alongside, as a
//!   reference).
//! - `loss_model`: M/M/c/c at 6000 Erlang (λ = 200/s, mean 30 s, 5800
//!   slots) through the full engine ([`simulate`]), and the same loss model
//!   as a hand-written minimal loop (a `BinaryHeap` of departure times): the
//!   floor. Both report calls/s; the engine's ratio to the floor on this
//!   machine is printed before the measurements.
//! - `scenario`: the bundled `scenarios/spike-3x.toml`, one replication.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use rand::SeedableRng;
use rand_distr::{Distribution, Exp1};
use rand_pcg::Pcg64Mcg;
use surgesim::engine::EventQueue;
use surgesim::model::{simulate, Ev, RunOptions};
use surgesim::scenario::{self, Scenario};
use surgesim::time::Tick;

const PENDING: usize = 6000;
const HOLD_OPS: usize = 100_000;

/// Calls per second, mean service (s) and slots of the loss model.
const RATE: f64 = 200.0;
const MEAN_S: f64 = 30.0;
const SLOTS: usize = 5800;
const WARMUP_S: f64 = 300.0;
const DURATION_S: f64 = 1800.0;

/// Ten samples over `secs` seconds of measurement: enough to compare, short
/// enough that the whole bench takes well under a minute.
fn configure<'a>(c: &'a mut Criterion, name: &str, secs: u64) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(secs));
    g
}

fn exp_ticks(rng: &mut Pcg64Mcg, mean_s: f64) -> u64 {
    let e: f64 = Exp1.sample(rng);
    (e * mean_s * 1e6) as u64
}

fn event_queue(c: &mut Criterion) {
    let mut rng = Pcg64Mcg::seed_from_u64(1);
    // Increments drawn up front, so the loop measures the queue alone.
    let incs: Vec<u64> = (0..HOLD_OPS).map(|_| exp_ticks(&mut rng, MEAN_S)).collect();
    let mut g = configure(c, "event_queue", 4);
    g.throughput(Throughput::Elements(HOLD_OPS as u64));

    let mut q: EventQueue<Ev> = EventQueue::with_capacity(PENDING + 1);
    for w in 0..PENDING {
        q.push(Tick(exp_ticks(&mut rng, MEAN_S)), Ev::PrimaryEnd { worker: w as u32 });
    }
    g.bench_function("hold_6000_engine", |b| {
        b.iter(|| {
            for &inc in &incs {
                let (t, ev) = q.pop().expect("the hold model keeps the queue full");
                q.push(Tick(t.0 + inc), ev);
            }
            black_box(q.peek_time())
        })
    });

    let mut h: BinaryHeap<Reverse<(u64, u64)>> = BinaryHeap::with_capacity(PENDING + 1);
    let mut seq = 0u64;
    for _ in 0..PENDING {
        h.push(Reverse((exp_ticks(&mut rng, MEAN_S), seq)));
        seq += 1;
    }
    g.bench_function("hold_6000_std_binary_heap", |b| {
        b.iter(|| {
            for &inc in &incs {
                let Reverse((t, _)) = h.pop().expect("full");
                h.push(Reverse((t + inc, seq)));
                seq += 1;
            }
            black_box(h.peek().map(|r| r.0))
        })
    });
    g.finish();
}

fn loss_scenario() -> Scenario {
    let text = format!(
        "name = \"loss-6000\"\nseed = 1\nduration = \"{DURATION_S}s\"\nwarmup = \"{WARMUP_S}s\"\n\
         [arrivals]\nkind = \"poisson\"\nrate = {RATE:?}\n\
         [[classes]]\nname = \"all\"\nshare = 1.0\nduration = {{ dist = \"exponential\", mean = \"{MEAN_S}s\" }}\n\
         [primary]\nworkers = {SLOTS}\ncalls_per_worker = 1\n"
    );
    scenario::load_str(&text, "loss-6000.toml", Path::new("."), &[]).expect("a valid scenario")
}

/// The floor: the same M/M/c/c loss model as a minimal loop. Arrivals are
/// generated inline; departures sit in a binary heap and are retired before
/// each arrival. Returns the number of blocked calls.
fn floor_loss(calls: u64, seed: u64) -> u64 {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut busy: BinaryHeap<Reverse<u64>> = BinaryHeap::with_capacity(SLOTS + 1);
    let mut now_s = 0.0f64;
    let mut blocked = 0;
    for _ in 0..calls {
        let e: f64 = Exp1.sample(&mut rng);
        now_s += e / RATE;
        let now = (now_s * 1e6) as u64;
        while busy.peek().is_some_and(|&Reverse(d)| d <= now) {
            busy.pop();
        }
        if busy.len() < SLOTS {
            busy.push(Reverse(now + exp_ticks(&mut rng, MEAN_S)));
        } else {
            blocked += 1;
        }
    }
    blocked
}

fn median_secs(mut f: impl FnMut(), runs: usize) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[runs / 2]
}

fn loss_model(c: &mut Criterion) {
    let sc = loss_scenario();
    let calls = sc.expected_calls().round() as u64;
    if std::env::args().any(|a| a == "--bench") {
        // The engine's cost relative to the floor, on this machine.
        let engine = median_secs(
            || {
                black_box(simulate(&sc, 0, RunOptions::default()));
            },
            5,
        );
        let floor = median_secs(
            || {
                black_box(floor_loss(calls, 1));
            },
            5,
        );
        let r = simulate(&sc, 0, RunOptions::default());
        let blocked = floor_loss(calls, 1);
        println!(
            "loss_model: {calls} calls per run; engine {:.2} M calls/s, floor {:.2} M calls/s, \
             engine time / floor time = {:.2} (blocking: engine {:.4} after warm-up, floor {:.4} incl. fill)",
            calls as f64 / engine / 1e6,
            calls as f64 / floor / 1e6,
            engine / floor,
            r.totals.failed() as f64 / r.totals.arrived as f64,
            blocked as f64 / calls as f64
        );
    }
    let mut g = configure(c, "loss_model", 4);
    g.throughput(Throughput::Elements(calls));
    g.bench_function("engine_mmcc_6000_erlang", |b| b.iter(|| black_box(simulate(&sc, 0, RunOptions::default()))));
    g.bench_function("floor_binary_heap", |b| b.iter(|| black_box(floor_loss(calls, 1))));
    g.finish();
}

fn scenario_bench(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/spike-3x.toml");
    let sc = scenario::load(&path, &[]).expect("the bundled scenario loads");
    let mut g = configure(c, "scenario", 8);
    g.throughput(Throughput::Elements(sc.expected_calls().round() as u64));
    g.bench_function("spike-3x", |b| b.iter(|| black_box(simulate(&sc, 0, RunOptions::default()))));
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    event_queue(&mut c);
    loss_model(&mut c);
    scenario_bench(&mut c);
    c.final_summary();
}
