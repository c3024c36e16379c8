//! EC2 Auto Scaling warm pools: the delay to InService by pool state,
//! background refill, `reuse_on_scale_in`, scale-in protection, and bad
//! input. Deterministic: trace arrivals with fixed durations and the
//! `scheduled` policy, whose launches happen at the schedule's instants, so
//! each expected time follows from the documented rules alone.

use std::fs;

use surgesim::experiment;
use surgesim::model::RunOptions;
use surgesim::result::RunResult;
use surgesim::scenario;
use tempfile::TempDir;

use crate::common::{assert_exit, stderr, surgesim};

/// The pool delays the README documents for each state (the asg preset's
/// assumptions): stopped 30 s, hibernated 20 s, running 10 s.
const DOCUMENTED: [(&str, f64); 3] = [("stopped", 30.0), ("hibernated", 20.0), ("running", 10.0)];

/// Loads `toml` with `calls.csv` beside it and returns run 0.
fn run(toml: &str, calls: &str) -> RunResult {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("calls.csv"), format!("arrival,duration\n{calls}")).unwrap();
    let sc = scenario::load_str(toml, "pool.toml", dir.path(), &[]).unwrap_or_else(|e| panic!("{e}\n---\n{toml}"));
    experiment::run(&sc, 1, RunOptions::default()).runs.remove(0)
}

/// One worker, a cold launch of 300 s, a pool of `pool` instances, and a
/// scheduled minimum `schedule` (launches happen at its instants).
fn scheduled(pool: u32, schedule: &str, autoscaler: &str, primary: &str) -> String {
    format!(
        "name = \"pool\"\nseed = 1\nduration = \"15m\"\nbin = \"10s\"\n\
         [arrivals]\nkind = \"trace\"\nfile = \"calls.csv\"\n\
         [[classes]]\nname = \"call\"\nshare = 1.0\nduration = \"10s\"\n\
         [primary]\nworkers = 1\ncalls_per_worker = 1\n{primary}\n\
         [primary.autoscaler]\npolicy = \"scheduled\"\nmin = 1\nmax = 10\ninterval = \"10s\"\n\
         provision_delay = \"300s\"\nwarm_pool = {pool}\nschedule = [{schedule}]\n{autoscaler}"
    )
}

/// (decision time, first ready time) of each scale-up, in seconds.
fn ups(r: &RunResult) -> Vec<(f64, f64)> {
    r.end
        .scale_log
        .iter()
        .filter(|e| e.to > e.from)
        .map(|e| (e.at.as_secs_f64(), e.ready.expect("a scale-up has ready times").0.as_secs_f64()))
        .collect()
}

#[test]
fn capacity_from_the_pool_arrives_after_its_state_delay() {
    for (state, delay) in DOCUMENTED {
        let toml = scheduled(1, "{ at = \"60s\", min = 2 }", &format!("warm_pool_state = {state:?}"), "");
        let r = run(&toml, "1,1\n");
        assert_eq!(ups(&r), [(60.0, 60.0 + delay)], "state {state}");
    }
    // An explicit delay wins over the state's; a launch beyond the pool is cold.
    let toml =
        scheduled(1, "{ at = \"60s\", min = 3 }", "warm_pool_state = \"running\"\nwarm_pool_delay = \"45s\"", "");
    let r = run(&toml, "1,1\n");
    let e = r.end.scale_log.iter().find(|e| e.to > e.from).unwrap();
    let (a, b) = e.ready.unwrap();
    assert_eq!((a.as_secs_f64(), b.as_secs_f64()), (105.0, 360.0), "one from the pool, one cold");
}

/// Launches at 10 s (from the pool), 50 s (pool empty: cold) and 200 s.
/// With a refill of 100 s the pool has an instance again from 110 s, so the
/// launch at 200 s is warm (ready 230 s); without refill it is cold (500 s).
#[test]
fn the_pool_refills_in_the_background() {
    let schedule = "{ at = \"10s\", min = 2 }, { at = \"50s\", min = 3 }, { at = \"200s\", min = 4 }";
    let state = "warm_pool_state = \"stopped\"\n";
    let refilled = run(&scheduled(1, schedule, &format!("{state}warm_pool_refill_delay = \"100s\""), ""), "1,1\n");
    assert_eq!(ups(&refilled), [(10.0, 40.0), (50.0, 350.0), (200.0, 230.0)]);
    let never = run(&scheduled(1, schedule, &format!("{state}warm_pool_refill_delay = \"unlimited\""), ""), "1,1\n");
    assert_eq!(ups(&never), [(10.0, 40.0), (50.0, 350.0), (200.0, 500.0)]);
    // A refill that takes longer than the gap is not there in time.
    let slow = run(&scheduled(1, schedule, &format!("{state}warm_pool_refill_delay = \"195s\""), ""), "1,1\n");
    assert_eq!(ups(&slow), [(10.0, 40.0), (50.0, 350.0), (200.0, 500.0)]);
}

/// A launch at 10 s takes the only pool instance (ready 40 s); the minimum
/// drops at 100 s, so the policy removes that worker at its next evaluation;
/// at 300 s a launch finds the pool holding it again only with
/// `reuse_on_scale_in` (ready 330 s), else it is cold (600 s).
#[test]
fn reuse_on_scale_in_returns_instances_to_the_pool() {
    let schedule = "{ at = \"10s\", min = 2 }, { at = \"100s\", min = 1 }, { at = \"300s\", min = 2 }";
    for (reuse, want) in [(true, 330.0), (false, 600.0)] {
        let extra = format!("warm_pool_state = \"stopped\"\nreuse_on_scale_in = {reuse}");
        let r = run(&scheduled(1, schedule, &extra, ""), "1,1\n");
        let downs = r.end.scale_log.iter().filter(|e| e.to < e.from).count();
        assert_eq!(downs, 1, "reuse {reuse}: one scale-in between the launches");
        assert_eq!(ups(&r), [(10.0, 40.0), (300.0, want)], "reuse {reuse}");
    }
}

/// Three single-slot workers; calls of 1000 s at 0 and 1 s land on the most
/// recently freed workers, 2 then 1 (workers start ready in id order); at
/// 10 s a step policy sees 2/3 < 0.9 and removes 2 workers; a drain grace of
/// 30 s cuts off the calls of removed busy workers. `least_loaded` takes the
/// idle worker 0 and then worker 1 (the lower id of two with one call):
/// one call cut. Protecting the first initial worker leaves 1 and 2 as
/// victims: two calls cut. Protecting all three: none removed, none cut.
#[test]
fn protected_instances_are_never_scale_in_victims() {
    for (protect, cut) in [(0, 1), (1, 2), (3, 0)] {
        let toml = format!(
            "name = \"protect\"\nseed = 1\nduration = \"2m\"\nbin = \"1m\"\n\
             [arrivals]\nkind = \"trace\"\nfile = \"calls.csv\"\n\
             [[classes]]\nname = \"call\"\nshare = 1.0\nduration = \"1000s\"\n\
             [primary]\nworkers = 3\ncalls_per_worker = 1\nscale_down_victim = \"least_loaded\"\ndrain_grace = \"30s\"\n\
             [primary.autoscaler]\npolicy = \"step\"\nsteps = [ {{ above = 0.99, add = 1 }} ]\n\
             scale_in = {{ below = 0.9, remove = 2 }}\ninterval = \"10s\"\nmin = 1\nmax = 3\n\
             protect_from_scale_in = {protect}\n"
        );
        let r = run(&toml, "0,1000\n1,1000\n");
        assert_eq!(r.totals.drain_timeout, cut, "protect {protect}");
        if protect == 3 {
            let ready = r.areas.workers_ready as f64 / 120e6;
            assert_eq!(ready, 3.0, "every worker protected: all three stay ready throughout");
        }
    }
}

#[test]
fn bad_warm_pool_input_exits_2_naming_the_field() {
    let tmp = TempDir::new().unwrap();
    fs::write(tmp.path().join("calls.csv"), "arrival,duration\n1,1\n").unwrap();
    let cases = [
        ("warm_pool_state = \"frozen\"", "primary.autoscaler.warm_pool_state"),
        ("warm_pool_state = 3", "warm_pool_state"),
        ("warm_pool_refill_delay = -3", "warm_pool_refill_delay"),
        ("warm_pool_refill_delay = \"soon\"", "warm_pool_refill_delay"),
        ("reuse_on_scale_in = \"yes\"", "reuse_on_scale_in"),
        ("protect_from_scale_in = 2", "primary.autoscaler.protect_from_scale_in"),
        ("protect_from_scale_in = -1", "protect_from_scale_in"),
    ];
    for (i, (line, field)) in cases.iter().enumerate() {
        let path = tmp.path().join(format!("bad{i}.toml"));
        fs::write(&path, scheduled(1, "{ at = \"60s\", min = 2 }", line, "")).unwrap();
        let args = ["validate", path.to_str().unwrap()];
        let out = surgesim(tmp.path(), &args);
        assert_exit(&args, &out, 2);
        let err = stderr(&out);
        assert!(
            err.contains(&format!("bad{i}.toml")) && err.contains(field),
            "{line}: stderr does not name {field}: {err}"
        );
    }
}
