//! The standard performance cases, shared by `surgesim bench` and the
//! criterion benches (`cargo bench --bench engine`), so both measure the
//! same work.
//!
//! - the event queue alone, in the classic hold model, beside std's
//!   `BinaryHeap`;
//! - the M/M/c/c loss model (λ = 200/s, mean 30 s, c = 5,800) through the
//!   full engine, beside the *floor*: the same model as a minimal
//!   hand-written loop, timed at the same moment so their ratio is
//!   comparable across machines;
//! - the bundled `spike-3x` and incident scenarios, one replication;
//! - an hour at 10,000 calls/s (300,000 calls in flight: the scale case);
//! - a sweep of the incident over primary workers, on 1 thread and on all.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use rand::SeedableRng;
use rand_distr::{Distribution, Exp1};
use rand_pcg::Pcg64Mcg;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::engine::EventQueue;
use crate::experiment::simulate;
use crate::model::{Ev, RunOptions};
use crate::scenario::{self, overrides::Override, Scenario};
use crate::sweep::axis::AxisValue;
use crate::sweep::grid::Point;
use crate::sweep::runs::{run_points, PointResult};
use crate::time::{truncate_u64, Tick};

/// Pending events in the hold model.
pub const HOLD_PENDING: usize = 6000;
/// Pop-push steps per hold measurement.
pub const HOLD_OPS: usize = 1_000_000;

/// Calls per second, mean service (s) and slots of the loss model, for the
/// floor loop; the engine reads the same model from `benches/loss-6000.toml`
/// (a test checks they agree).
pub const LOSS_RATE: f64 = 200.0;
pub const LOSS_MEAN_S: f64 = 30.0;
pub const LOSS_SLOTS: usize = 5800;

const LOSS: &str = include_str!("../benches/loss-6000.toml");
const DAY: &str = include_str!("../benches/day-10k.toml");
const SPIKE: &str = include_str!("../scenarios/spike-3x.toml");
const INCIDENT: &str = include_str!("../scenarios/incident-2025-07-25.toml");

fn set(path: &str, value: toml::Value) -> Override {
    Override { path: path.into(), value }
}

fn text(s: &str) -> toml::Value {
    toml::Value::String(s.into())
}

fn exp_ticks(rng: &mut Pcg64Mcg, mean_s: f64) -> u64 {
    let e: f64 = Exp1.sample(rng);
    (e * mean_s * 1e6) as u64
}

/// The hold model's initial pending times and its increments, drawn up
/// front so a measurement times the queue alone.
pub fn hold_workload() -> (Vec<u64>, Vec<u64>) {
    let mut rng = Pcg64Mcg::seed_from_u64(1);
    let initial = (0..HOLD_PENDING).map(|_| exp_ticks(&mut rng, LOSS_MEAN_S)).collect();
    let incs = (0..HOLD_OPS).map(|_| exp_ticks(&mut rng, LOSS_MEAN_S)).collect();
    (initial, incs)
}

/// The engine's queue in the hold model: each step pops the earliest event
/// and pushes it back an increment later. Returns the last time popped.
pub fn hold_engine(initial: &[u64], incs: &[u64]) -> u64 {
    let mut q: EventQueue<Ev> = EventQueue::with_capacity(initial.len() + 1);
    for (w, &t) in initial.iter().enumerate() {
        q.push(Tick(t), Ev::PrimaryEnd { worker: w as u32, generation: 0 });
    }
    let mut last = 0;
    for &inc in incs {
        let (t, ev) = q.pop().expect("the hold model keeps the queue full");
        q.push(Tick(t.0 + inc), ev);
        last = t.0;
    }
    last
}

/// The same hold model on std's `BinaryHeap` of `(time, sequence)`.
pub fn hold_binary_heap(initial: &[u64], incs: &[u64]) -> u64 {
    let mut h: BinaryHeap<Reverse<(u64, u64)>> = BinaryHeap::with_capacity(initial.len() + 1);
    let mut seq = 0u64;
    for &t in initial {
        h.push(Reverse((t, seq)));
        seq += 1;
    }
    let mut last = 0;
    for &inc in incs {
        let Reverse((t, _)) = h.pop().expect("full");
        h.push(Reverse((t + inc, seq)));
        seq += 1;
        last = t;
    }
    last
}

/// The loss model as a scenario (`benches/loss-6000.toml`, shortened to
/// 30 minutes after a 5-minute warm-up that fills the system): one class,
/// single-slot workers, no autoscaler.
pub fn loss_scenario() -> Scenario {
    let short = [set("duration", text("30m")), set("warmup", text("5m")), set("bin", text("30s"))];
    scenario::load_str(LOSS, "benches/loss-6000.toml", Path::new("benches"), &short)
        .expect("the loss model is a valid scenario")
}

/// Calls the loss model simulates per run, warm-up included.
pub fn loss_calls() -> u64 {
    loss_scenario().expected_calls().round() as u64
}

/// The floor: the loss model as the fastest plain loop we know. Arrivals
/// are generated inline, in integer ticks; the departure times of the calls
/// in service sit in a 4-ary min-heap of `u64`s; the generator is
/// xoshiro256++ and exponential draws are rand_distr's ziggurat (`Exp1`);
/// floats become ticks by [`truncate_u64`] (one conversion instruction).
/// An admitted call that finds a departure due takes its place at the root
/// (one sift-down instead of a pop and a push). Returns the number of
/// blocked calls.
pub fn floor_loss(calls: u64, seed: u64) -> u64 {
    const ARRIVAL_MEAN: f64 = 1e6 / LOSS_RATE;
    const SERVICE_MEAN: f64 = LOSS_MEAN_S * 1e6;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut heap = DepartureHeap::with_capacity(LOSS_SLOTS);
    let mut now = 0u64;
    let mut blocked = 0;
    for _ in 0..calls {
        let e: f64 = Exp1.sample(&mut rng);
        now += truncate_u64(e * ARRIVAL_MEAN);
        if heap.min() <= now {
            let s: f64 = Exp1.sample(&mut rng);
            heap.replace_min(now + truncate_u64(s * SERVICE_MEAN));
            while heap.min() <= now {
                heap.pop_min();
            }
        } else if heap.len() < LOSS_SLOTS {
            let s: f64 = Exp1.sample(&mut rng);
            heap.push(now + truncate_u64(s * SERVICE_MEAN));
        } else {
            blocked += 1;
        }
    }
    blocked
}

/// The floor of earlier versions, kept as a reference row: the same model
/// on std's binary heap, with PCG-64 and the arrival clock in seconds.
pub fn floor_loss_reference(calls: u64, seed: u64) -> u64 {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut busy: BinaryHeap<Reverse<u64>> = BinaryHeap::with_capacity(LOSS_SLOTS + 1);
    let mut now_s = 0.0f64;
    let mut blocked = 0;
    for _ in 0..calls {
        let e: f64 = Exp1.sample(&mut rng);
        now_s += e / LOSS_RATE;
        let now = (now_s * 1e6) as u64;
        while busy.peek().is_some_and(|&Reverse(d)| d <= now) {
            busy.pop();
        }
        if busy.len() < LOSS_SLOTS {
            busy.push(Reverse(now + exp_ticks(&mut rng, LOSS_MEAN_S)));
        } else {
            blocked += 1;
        }
    }
    blocked
}

/// The floor's 4-ary min-heap of departure times. `min()` of an empty heap
/// is `u64::MAX`, so the loop needs no emptiness test.
struct DepartureHeap {
    t: Vec<u64>,
}

impl DepartureHeap {
    fn with_capacity(n: usize) -> Self {
        DepartureHeap { t: Vec::with_capacity(n) }
    }

    #[inline]
    fn len(&self) -> usize {
        self.t.len()
    }

    #[inline]
    fn min(&self) -> u64 {
        self.t.first().copied().unwrap_or(u64::MAX)
    }

    #[inline]
    fn push(&mut self, x: u64) {
        let mut i = self.t.len();
        self.t.push(x);
        while i > 0 {
            let p = (i - 1) / 4;
            if self.t[p] <= x {
                break;
            }
            self.t[i] = self.t[p];
            i = p;
        }
        self.t[i] = x;
    }

    #[inline]
    fn pop_min(&mut self) {
        let last = self.t.pop().expect("pop_min of a non-empty heap");
        if !self.t.is_empty() {
            self.replace_min(last);
        }
    }

    /// Replaces the minimum by `x`: down the path of smallest children to
    /// a leaf, then up to `x`'s place (a new departure is as likely as any
    /// pending one to be among the latest, so it usually belongs low).
    #[inline]
    fn replace_min(&mut self, x: u64) {
        let t = &mut self.t[..];
        let n = t.len();
        let mut i = 0;
        loop {
            let c = 4 * i + 1;
            if c + 3 < n {
                let (a, b) = if t[c] <= t[c + 1] { (c, t[c]) } else { (c + 1, t[c + 1]) };
                let (d, e) = if t[c + 2] <= t[c + 3] { (c + 2, t[c + 2]) } else { (c + 3, t[c + 3]) };
                let m = if b <= e { a } else { d };
                t[i] = t[m];
                i = m;
            } else {
                let Some(m) = (c..n).min_by_key(|&k| t[k]) else { break };
                t[i] = t[m];
                i = m;
            }
        }
        while i > 0 {
            let p = (i - 1) / 4;
            if t[p] <= x {
                break;
            }
            t[i] = t[p];
            i = p;
        }
        t[i] = x;
    }
}

/// The bundled `spike-3x` scenario.
pub fn spike_scenario() -> Scenario {
    scenario::load_str(SPIKE, "scenarios/spike-3x.toml", Path::new("scenarios"), &[])
        .expect("the bundled scenario is valid")
}

/// The bundled incident scenario, with `overrides`.
pub fn incident_scenario(overrides: &[Override]) -> Scenario {
    scenario::load_str(INCIDENT, "scenarios/incident-2025-07-25.toml", Path::new("scenarios"), overrides)
        .expect("the bundled scenario is valid")
}

/// The incident with its customers redialling, as in
/// `scenarios/incident-2025-07-25/customers-retry.toml`: `[clients]` on.
pub fn incident_retry_scenario() -> Scenario {
    let retry = "clients.retry={ attempts = 3, on = [\"worker_not_available\", \"fallback_start_failed\"], \
                 delay = { dist = \"exponential\", mean = \"2m\" } }";
    incident_scenario(&[retry.parse().expect("a valid override")])
}

/// `benches/day-10k.toml` cut to `hours`: 10,000 calls/s of 30 s calls with
/// ample capacity, about 300,000 calls in flight.
pub fn scale_scenario(hours: u32) -> Scenario {
    let span = [set("duration", text(&format!("{hours}h")))];
    scenario::load_str(DAY, "benches/day-10k.toml", Path::new("benches"), &span).expect("a valid scenario")
}

/// The sweep case: the incident with 1,200 primary workers and the
/// autoscaler's minimum at `points` values from 360 in steps of 45.
pub fn sweep_points(points: usize) -> Vec<(Point, Scenario)> {
    (0..points)
        .map(|i| {
            let min = 360 + 45 * i as i64;
            let int = toml::Value::Integer;
            let point = Point { index: i, values: vec![AxisValue::Int(min)] };
            (point, incident_scenario(&[set("primary.workers", int(1200)), set("primary.autoscaler.min", int(min))]))
        })
        .collect()
}

/// Runs the sweep case on a pool of `threads` threads.
pub fn run_sweep(points: &[(Point, Scenario)], replications: u64, threads: usize) -> Vec<PointResult> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
    pool.install(|| run_points(points, replications, RunOptions::default(), &|| ()))
}

/// Median wall-clock seconds of `runs` calls of `f`.
pub fn median_secs(mut f: impl FnMut(), runs: usize) -> f64 {
    let mut t: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// `f` and `g` timed alternately, `runs` times each (after one untimed run
/// of each): their median wall-clock seconds, and the median of the
/// pairwise ratios `g / f` — each pair timed at nearly the same moment, so
/// the ratio holds steady while the machine's speed drifts.
pub fn paired_medians(mut f: impl FnMut(), mut g: impl FnMut(), runs: usize) -> (f64, f64, f64) {
    f();
    g();
    let time = |h: &mut dyn FnMut()| {
        let s = Instant::now();
        h();
        s.elapsed().as_secs_f64()
    };
    let pairs: Vec<(f64, f64)> = (0..runs.max(1)).map(|_| (time(&mut f), time(&mut g))).collect();
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (
        median(pairs.iter().map(|p| p.0).collect()),
        median(pairs.iter().map(|p| p.1).collect()),
        median(pairs.iter().map(|p| p.1 / p.0).collect()),
    )
}

/// One simulated run of `sc`, its result kept from being optimised away.
pub fn run_once(sc: &Scenario) {
    black_box(simulate(sc, 0, RunOptions::default()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;

    /// The floor's heap hands back departures in order, whatever mix of
    /// pushes, root replacements and pops built it.
    #[test]
    fn departure_heap_pops_in_order() {
        use rand::Rng;
        let mut rng = Pcg64Mcg::seed_from_u64(5);
        let mut heap = DepartureHeap::with_capacity(0);
        let mut reference = Vec::new();
        for _ in 0..5000 {
            let x = rng.random_range(0..1000u64);
            match rng.random_range(0..3) {
                0 if !reference.is_empty() => {
                    reference.sort_unstable();
                    assert_eq!(heap.min(), reference.remove(0));
                    heap.replace_min(x);
                    reference.push(x);
                }
                1 if !reference.is_empty() => {
                    reference.sort_unstable();
                    assert_eq!(heap.min(), reference.remove(0));
                    heap.pop_min();
                }
                _ => {
                    heap.push(x);
                    reference.push(x);
                }
            }
            assert_eq!(heap.len(), reference.len());
        }
        reference.sort_unstable();
        for want in reference {
            assert_eq!(heap.min(), want);
            heap.pop_min();
        }
        assert_eq!(heap.min(), u64::MAX);
    }

    /// The fast floor and the reference floor block the same share of
    /// calls: over 12 seeds each, their mean blocked counts agree within
    /// 4 standard errors of the difference (the errors estimated from the
    /// spread across seeds), and both sit near Erlang B's 3.73 % for
    /// 6,000 Erlang on 5,800 slots (less the first ~100 s of filling up).
    #[test]
    fn floors_block_alike() {
        let calls = 420_000;
        let stats = |f: fn(u64, u64) -> u64| {
            let xs: Vec<f64> = (1..=12).map(|seed| f(calls, seed) as f64).collect();
            let m = xs.iter().sum::<f64>() / xs.len() as f64;
            let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64;
            (m, v / xs.len() as f64)
        };
        let (fast, fast_var) = stats(floor_loss);
        let (reference, reference_var) = stats(floor_loss_reference);
        let se = (fast_var + reference_var).sqrt();
        assert!((fast - reference).abs() < 4.0 * se, "fast {fast}, reference {reference}, se {se}");
        let share = fast / calls as f64;
        assert!((0.030..0.0373).contains(&share), "blocked share {share}");
    }

    /// The floor loop and the engine model the same system.
    #[test]
    fn floor_constants_match_the_loss_scenario() {
        let sc = loss_scenario();
        assert_eq!(sc.initial_slots(), LOSS_SLOTS as u64);
        assert_eq!(sc.expected_calls().round() as u64, (LOSS_RATE * 35.0 * 60.0) as u64);
        assert_eq!(sc.classes.len(), 1);
        match &sc.classes[0].duration {
            Dist::Exponential { mean } => assert_eq!(*mean, LOSS_MEAN_S),
            d => panic!("expected exponential durations, got {d:?}"),
        }
    }
}
