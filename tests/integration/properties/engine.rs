//! Engine invariants on random small scenarios: conservation, bins, bounds,
//! ordering, determinism across runs and threads, and a written trace
//! replaying to the identical run; then the regressions found by the
//! properties, kept as plain tests.

use std::fmt::Write as _;
use std::path::Path;

use proptest::prelude::*;
use tempfile::TempDir;

use surgesim::experiment;
use surgesim::experiment::simulate;
use surgesim::model::calls::for_each_call;
use surgesim::model::RunOptions;
use surgesim::observe::{Areas, FailReason, REASONS};
use surgesim::result::RunResult;
use surgesim::scenario::overrides::Override;
use surgesim::scenario::{load_str, PolicyKind, Scenario};

use super::generated::*;
use super::{config, load, sum, LOG};
use crate::common::fixtures;

/// Checks every invariant of one run.
fn check_run(p: &ScenarioP, sc: &Scenario, r: &RunResult) -> Result<(), TestCaseError> {
    let t = &r.totals;
    // Conservation: every call that arrived in the reported span was
    // served (primary or fallback), turned away (for one of the reasons),
    // abandoned, cut off by a drain, or is still waiting at the end.
    let turned_away: u64 = t.failed_by.iter().sum();
    prop_assert_eq!(
        t.arrived,
        t.served_primary + t.served_fallback + turned_away + t.abandoned + t.drain_timeout + r.end.waiting_end,
        "conservation: {:?}",
        t
    );
    prop_assert!(t.failed_fallback_eligible <= t.failed());
    prop_assert_eq!(&sum(&r.classes), t, "classes do not add up to the totals");
    if let Some(w) = &r.window {
        prop_assert!(w.arrived <= t.arrived && w.failed() <= t.failed());
    }

    // Bins: contiguous, covering the run, adding up to the totals.
    let (bin, dur) = (sc.bin.0, sc.duration.0);
    prop_assert_eq!(r.bins.len() as u64, dur.div_ceil(bin));
    prop_assert_eq!(&sum(r.bins.iter().map(|b| &b.counts)), t, "bins do not add up to the totals");
    let mut areas = Areas::default();
    let cpw = sc.primary.calls_per_worker as u128;
    for (i, b) in r.bins.iter().enumerate() {
        let a = &b.areas;
        let width = ((i as u64 + 1) * bin).min(dur) as u128 - i as u128 * bin as u128;
        prop_assert!(a.busy_primary <= a.workers_billed * cpw, "bin {}: busy above billed workers' slots", i);
        prop_assert_eq!(a.capacity_primary, a.workers_ready * cpw, "bin {}: capacity is not ready × cpw", i);
        prop_assert!(a.workers_ready <= a.workers_billed, "bin {}", i);
        if p.fixed_capacity() {
            prop_assert!(a.busy_primary <= a.capacity_primary, "bin {}: busy above capacity", i);
            let slots = sc.primary.workers as u128 * cpw;
            prop_assert_eq!(a.capacity_primary, slots * width, "bin {}: capacity area is not slots × width", i);
        }
        let fb_max = sc.fallback.as_ref().map_or(0, |f| f.max_concurrency) as u128;
        prop_assert!(a.fallback_busy <= fb_max * width, "bin {}: fallback above its concurrency", i);
        match (&p.admission, sc.admission.queue_limit) {
            (AdmissionP::Immediate, _) => prop_assert_eq!(a.waiting, 0),
            (_, Some(lim)) => prop_assert!(a.waiting <= lim as u128 * width, "bin {}: queue above its limit", i),
            _ => {}
        }
        areas.busy_primary += a.busy_primary;
        areas.capacity_primary += a.capacity_primary;
        areas.workers_ready += a.workers_ready;
        areas.workers_billed += a.workers_billed;
        areas.fallback_busy += a.fallback_busy;
        areas.waiting += a.waiting;
    }
    prop_assert_eq!(&areas, &r.areas, "bin areas do not add up to the run's");

    // Mechanisms that are absent leave no trace.
    if sc.fallback.is_none() {
        prop_assert_eq!(t.served_fallback, 0);
        prop_assert_eq!(t.failed_by[FailReason::FallbackStartFailed as usize], 0);
        prop_assert_eq!(t.failed_by[FailReason::FallbackThrottled as usize], 0);
    }
    if !sc.classes.iter().any(|c| c.fallback_eligible) {
        prop_assert_eq!(t.failed_fallback_eligible, 0);
        prop_assert_eq!(t.served_fallback, 0);
    }
    if matches!(p.admission, AdmissionP::Immediate) {
        prop_assert_eq!(t.abandoned, 0);
        prop_assert_eq!(r.end.waiting_end, 0);
        prop_assert_eq!(t.failed_by[FailReason::QueueFull as usize], 0);
    }
    if matches!(sc.primary.autoscaler.policy, PolicyKind::None) && p.fixed_capacity() {
        prop_assert!(r.end.scale_log.is_empty());
    }

    // Time never goes backwards.
    for w in r.end.scale_log.windows(2) {
        prop_assert!(w[0].at <= w[1].at, "scale log out of order: {:?}", w);
    }
    for e in &r.end.scale_log {
        if let Some((first, last)) = e.ready {
            prop_assert!(e.at <= first && first <= last, "scale event ready before it was decided: {:?}", e);
        }
    }
    for (a, b) in &r.saturation {
        prop_assert!(a <= b, "saturation spell ends before it starts: {:?}", r.saturation);
    }
    for w in r.saturation.windows(2) {
        prop_assert!(w[0].1 <= w[1].0, "saturation spells overlap or are out of order: {:?}", r.saturation);
    }
    if let Some(log) = &r.end.failure_log {
        for w in log.windows(2) {
            prop_assert!(w[0].at <= w[1].at, "failure log out of order");
        }
        prop_assert_eq!(log.len() as u64 + r.end.failures_dropped, turned_away, "failure log vs calls turned away");
        // The log and the counters are kept apart: when nothing was
        // dropped, they agree call for call on class and reason.
        if r.end.failures_dropped == 0 {
            let mut by = vec![[0u64; REASONS.len()]; r.classes.len()];
            for f in log {
                by[f.class as usize][f.reason as usize] += 1;
            }
            for (k, c) in r.classes.iter().enumerate() {
                prop_assert_eq!(by[k], c.failed_by, "class {}: failure log vs failed_by", k);
            }
        }
    }
    let q = [r.wait_p50_s, r.wait_p90_s, r.wait_p95_s, r.wait_p99_s, r.wait_max_s];
    prop_assert!(q.windows(2).all(|w| w[0] <= w[1]), "wait quantiles not monotone: {:?}", q);
    prop_assert!(r.end.arrival_error.is_none());
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    /// Conservation, bins, bounds and ordering on every run; the same
    /// scenario and seed simulated twice give identical results.
    #[test]
    fn engine_invariants_hold(p in scenario_p()) {
        let text = p.toml();
        let sc = load(&text, Path::new("."));
        let r = simulate(&sc, 0, LOG);
        check_run(&p, &sc, &r).map_err(|e| TestCaseError::fail(format!("{e}\n--- scenario\n{text}")))?;
        let again = simulate(&sc, 0, LOG);
        prop_assert_eq!(format!("{r:?}"), format!("{again:?}"), "a second run differs\n{}", text);
        // Another replication is another run, with the same invariants.
        let r1 = simulate(&sc, 1, LOG);
        check_run(&p, &sc, &r1).map_err(|e| TestCaseError::fail(format!("run 1: {e}\n--- scenario\n{text}")))?;
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// Replications in a one-thread and a two-thread pool, and one by one,
    /// give bit-identical results.
    #[test]
    fn results_do_not_depend_on_threads(p in scenario_p()) {
        let text = p.toml();
        let sc = load(&text, Path::new("."));
        let pool = |n| rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
        let one = pool(1).install(|| experiment::run(&sc, 3, RunOptions::default()));
        let two = pool(2).install(|| experiment::run(&sc, 3, RunOptions::default()));
        prop_assert_eq!(format!("{one:?}"), format!("{two:?}"), "1 vs 2 threads\n{}", text);
        for (i, r) in one.runs.iter().enumerate() {
            let alone = simulate(&sc, i as u64, RunOptions::default());
            prop_assert_eq!(format!("{r:?}"), format!("{alone:?}"), "run {} alone differs\n{}", i, text);
        }
    }

    /// The calls of a run written as a trace (as `surgesim trace` writes
    /// them) replay to the identical run.
    #[test]
    fn a_written_trace_replays_to_the_same_run(p in scenario_p()) {
        let text = p.toml();
        let sc = load(&text, Path::new("."));
        let mut csv = String::from("arrival,duration,class\n");
        let n = for_each_call(&sc, 0, |t, c| {
            let _ = writeln!(csv, "{t:.6},{:.6},{}", c.duration.as_secs_f64(), sc.classes[c.class as usize].name);
        })
        .unwrap();
        prop_assume!(n > 0);
        let dir = TempDir::new().unwrap();
        std::fs::write(dir.path().join("calls.csv"), csv).unwrap();
        let replay_text = p.toml_with(Some("[arrivals]\nkind = \"trace\"\nfile = \"calls.csv\"\n"));
        let replay = load(&replay_text, dir.path());
        let (a, b) = (simulate(&sc, 0, LOG), simulate(&replay, 0, LOG));
        prop_assert_eq!(format!("{a:?}"), format!("{b:?}"), "the replay differs\n{}", text);
    }
}

// ---------------------------------------------------------------------------
// Regressions found by the properties, kept as plain tests
// ---------------------------------------------------------------------------

/// The property harness itself: a generated scenario validates and runs.
#[test]
fn a_generated_scenario_loads_and_runs() {
    let p = ScenarioP {
        seed: 1,
        duration: 120,
        bin: 61,
        warmup: 30,
        rate: 5.0,
        ramp: Some((0.5, 10.0, 10)),
        classes: vec![
            ClassP { weight: 1, duration: DurP::Fixed(20.0), eligible: true },
            ClassP { weight: 2, duration: DurP::LogNormal { median: 10.0, p95: 30.0 }, eligible: false },
        ],
        workers: 5,
        calls_per_worker: 2,
        admission: AdmissionP::MaxWait { secs: 5, limit: Some(3) },
        scaler: Some(ScalerP {
            step: false,
            target: 0.7,
            min_pick: 0,
            max_extra: 5,
            interval: 15,
            delay: 30,
            exponential_delay: true,
            cooldown: 60,
        }),
        fallback: Some(FallbackP {
            max_concurrency: 3,
            cold_start_ms: 500,
            provisioned_pick: 1,
            health: HealthP::Degraded(0.3),
            canary: Some(CanaryP {
                interval: 20,
                failures: 1,
                after: 5,
                primary_min: Some(8),
                stop_routing: false,
                fix: false,
            }),
        }),
        window: Some((0.25, 0.5)),
        initial: Some(0.5),
    };
    let text = p.toml();
    let sc = load(&text, Path::new("."));
    let r = simulate(&sc, 0, LOG);
    check_run(&p, &sc, &r).unwrap();
    assert!(r.totals.arrived > 0 && r.window.is_some());
}

/// A seed above i64::MAX (the largest TOML integer) is refused however the
/// scenario is loaded: from text, from a file, or with a `--set`.
#[test]
fn load_and_load_str_agree_on_large_seeds() {
    let fixture = fixtures().join("hostile/ok.toml");
    let text = std::fs::read_to_string(fixture).unwrap().replace("seed = 3", "seed = 18446744073709551615");
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("big-seed.toml");
    std::fs::write(&file, &text).unwrap();
    let from_text = load_str(&text, "big-seed.toml", dir.path(), &[]).map(|s| s.seed).map_err(|e| e.to_string());
    let from_file = surgesim::scenario::load(&file, &[]).map(|s| s.seed).map_err(|e| e.to_string());
    let set: Override = "primary.workers=30".parse().unwrap();
    let with_set = load_str(&text, "big-seed.toml", dir.path(), &[set]).map(|s| s.seed).map_err(|e| e.to_string());
    for (how, r) in [("load_str", &from_text), ("load", &from_file), ("--set", &with_set)] {
        let e = r.as_ref().expect_err(how);
        assert!(e.contains("seed") || e.contains("line 3"), "{how}: {e}");
    }
}
