//! Karpenter-style node provisioning (`[primary.nodes] scaler =
//! "karpenter"`): nodes for the workers that became pending within one
//! batching window are launched together when it closes (after
//! `batch_idle_duration` without a new pending worker, or
//! `batch_max_duration` after the first), and bad input.
//!
//! Deterministic: the `scheduled` policy launches workers at the schedule's
//! instants; one worker per node; nodes take 60 s, workers 0.5 s once
//! placed. The times below follow from those rules alone.

use std::fs;
use std::path::Path;

use surgesim::experiment;
use surgesim::model::RunOptions;
use surgesim::result::RunResult;
use surgesim::scenario;
use tempfile::TempDir;

use crate::common::{assert_exit, stderr, surgesim};

fn toml(schedule: &str, nodes_extra: &str) -> String {
    format!(
        "name = \"karpenter\"\nseed = 1\nduration = \"100s\"\nbin = \"100ms\"\n\
         [arrivals]\nkind = \"poisson\"\nrate = 0.0001\n\
         [[classes]]\nname = \"call\"\nshare = 1.0\nduration = \"1s\"\n\
         [primary]\nworkers = 1\ncalls_per_worker = 1\n\
         [primary.autoscaler]\npolicy = \"scheduled\"\nmin = 1\nmax = 60\ninterval = \"1000s\"\n\
         provision_delay = \"0.5s\"\nschedule = [{schedule}]\n\
         [primary.nodes]\nworkers_per_node = 1\nprovision_delay = \"60s\"\ninitial = 1\nmax = 60\n\
         scaler = \"karpenter\"\n{nodes_extra}"
    )
}

fn run(text: &str) -> RunResult {
    let sc = scenario::load_str(text, "k.toml", Path::new("."), &[]).unwrap_or_else(|e| panic!("{e}\n---\n{text}"));
    experiment::run(&sc, 1, RunOptions::default()).runs.remove(0)
}

/// (time in s, workers ready from then on) at each change, from 100 ms bins.
fn ready_steps(r: &RunResult) -> Vec<(f64, u64)> {
    let mut out = Vec::new();
    let mut last = u64::MAX;
    for (i, b) in r.bins.iter().enumerate() {
        let avg = b.areas.workers_ready as f64 / 100_000.0;
        assert_eq!(avg.fract(), 0.0, "bin {i}: changes fall on bin edges in this case");
        if avg as u64 != last {
            last = avg as u64;
            out.push((i as f64 / 10.0, last));
        }
    }
    out
}

#[test]
fn workers_pending_within_one_window_get_their_nodes_together() {
    // Pending at 10 s and 10.5 s: the window closes at 11.5 s (1 s idle),
    // both nodes are ready at 71.5 s, their workers at 72 s. Pending at
    // 30 s: a window of its own, closing at 31 s: ready at 91.5 s.
    let sc = toml("{ at = \"10s\", min = 2 }, { at = \"10.5s\", min = 3 }, { at = \"30s\", min = 4 }", "");
    assert_eq!(ready_steps(&run(&sc)), [(0.0, 1), (72.0, 3), (91.5, 4)]);
}

#[test]
fn a_window_closes_at_its_maximum_duration() {
    // A worker becomes pending every 0.3 s from 10.1 s (40 of them, the last
    // at 21.8 s), never 1 s apart: the first window closes at its 10 s
    // maximum, 20.1 s, holding those pending at 10.1..=20.0 s (34 workers,
    // ready at 20.1 + 60 + 0.5); the next opens at 20.3 s and closes 1 s
    // after the last, at 22.8 s (6 workers, ready at 83.3 s).
    let schedule: Vec<String> =
        (0..40).map(|k| format!("{{ at = \"{:.1}s\", min = {} }}", 10.1 + 0.3 * k as f64, k + 2)).collect();
    let sc = toml(&schedule.join(", "), "");
    assert_eq!(ready_steps(&run(&sc)), [(0.0, 1), (80.6, 35), (83.3, 41)]);
    // A longer idle duration and a shorter maximum: windows of 2 s at most.
    let sc = toml(&schedule.join(", "), "batch_idle_duration = \"2s\"\nbatch_max_duration = \"2s\"\n");
    let steps = ready_steps(&run(&sc));
    // The first window closes at 10.1 + 2 s, holding 10.1..=11.9 s: 7 workers.
    assert_eq!(steps[1], (72.6, 8));
}

#[test]
fn bad_karpenter_input_exits_2_naming_the_field() {
    let tmp = TempDir::new().unwrap();
    let cases = [
        ("scaler = \"carpenter\"", "primary.nodes.scaler"),
        ("batch_idle_duration = \"-1s\"", "batch_idle_duration"),
        ("batch_idle_duration = \"0s\"", "primary.nodes.batch_idle_duration"),
        ("batch_idle_duration = \"20s\"", "primary.nodes.batch_idle_duration"),
        ("batch_max_duration = true", "batch_max_duration"),
    ];
    for (i, (line, field)) in cases.iter().enumerate() {
        let text = toml("{ at = \"10s\", min = 2 }", line).replace("scaler = \"karpenter\"\nscaler", "scaler");
        let path = tmp.path().join(format!("bad{i}.toml"));
        fs::write(&path, text).unwrap();
        let args = ["validate", path.to_str().unwrap()];
        let out = surgesim(tmp.path(), &args);
        assert_exit(&args, &out, 2);
        let err = stderr(&out);
        assert!(
            err.contains(&format!("bad{i}.toml")) && err.contains(field),
            "{line}: stderr does not name {field}: {err}"
        );
    }
    // Batch fields belong to Karpenter.
    let text = toml("{ at = \"10s\", min = 2 }", "batch_max_duration = \"5s\"").replace("scaler = \"karpenter\"\n", "");
    let path = tmp.path().join("ca.toml");
    fs::write(&path, text).unwrap();
    let args = ["validate", path.to_str().unwrap()];
    let out = surgesim(tmp.path(), &args);
    assert_exit(&args, &out, 2);
    assert!(stderr(&out).contains("primary.nodes.batch_max_duration"), "{}", stderr(&out));
}
