//! Time to capacity in layers: the node layer `[primary.nodes]` under the
//! workers, the pod start delay of the `k8s-hpa`/`keda` presets, node cost,
//! the warning for instant starts, and bad node input.

use std::fs;
use std::path::Path;

use tempfile::TempDir;

use crate::common::{assert_exit, num, ok, read, repo, run_ok, stderr, stdout, summary, surgesim};

/// A scenario that scales 1 → more workers at its first evaluation (15 s):
/// one call slot per worker and an offered load of 20 Erlang (arrivals 2/s,
/// calls of 10 s) that waits in the queue, against target 0.5.
fn step_scenario(pod_delay: &str, extra: &str) -> String {
    format!(
        r#"name = "layers-step"
seed = 3
duration = "5m"
bin = "1s"

[arrivals]
kind = "poisson"
rate = 2.0

[[classes]]
name = "call"
share = 1.0
duration = "10s"

[primary]
workers = 1
calls_per_worker = 1

[primary.autoscaler]
policy = "target-utilization"
target = 0.5
interval = "15s"
provision_delay = "{pod_delay}"
min = 1
max = 10

[admission]
max_wait = "5m"

{extra}
"#
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Column `name` of a CSV file as strings, one per row.
fn column(dir: &Path, file: &str, name: &str) -> Vec<String> {
    let text = String::from_utf8(read(dir, file)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let k = header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{file} has no column {name}"));
    lines.map(|l| l.split(',').nth(k).unwrap().to_string()).collect()
}

/// Start of the first time bin whose mean primary capacity exceeds one
/// worker's slot, and the first scale-up decision, both in seconds.
fn first_capacity_and_decision(out: &Path) -> (f64, f64) {
    let starts = column(out, "timeseries.csv", "t_start_s");
    let caps = column(out, "timeseries.csv", "capacity_primary_avg");
    let first = starts
        .iter()
        .zip(&caps)
        .find(|(_, c)| c.parse::<f64>().unwrap() > 1.0)
        .map(|(t, _)| t.parse::<f64>().unwrap())
        .expect("capacity grows during the run");
    let decision: f64 = column(out, "scaling.csv", "t_s")[0].parse().unwrap();
    (first, decision)
}

#[test]
fn ample_nodes_with_no_delay_change_no_output_byte() {
    for sc in ["scenarios/mechanics/autoscaler-target.toml", "scenarios/mechanics/preset-k8s-hpa.toml"] {
        let path = repo(sc).display().to_string();
        let (_t1, plain) = run_ok(&path, &["-r", "2"]);
        let (_t2, nodes) = run_ok(
            &path,
            &[
                "-r",
                "2",
                "--set",
                "primary.nodes.workers_per_node=1000000",
                "--set",
                "primary.nodes.provision_delay=0s",
            ],
        );
        for f in ["timeseries.csv", "scaling.csv", "causes.csv", "summary.txt"] {
            assert_eq!(read(&plain, f), read(&nodes, f), "{sc}: {f} differs with ample nodes");
        }
        // summary.json: the same apart from the two node metrics.
        let (a, mut b) = (summary(&plain), summary(&nodes));
        let m = b["metrics"].as_object_mut().unwrap();
        assert!(m.remove("node_seconds").is_some() && m.remove("cost_nodes").is_some());
        assert_eq!(a["metrics"].as_object().unwrap().get("node_seconds"), None);
        assert_eq!(a, b, "{sc}: summary.json differs beyond the node metrics");
    }
}

#[test]
fn new_capacity_waits_for_a_node_then_for_the_pod() {
    let tmp = TempDir::new().unwrap();
    // D = 120 s for the node, P = 20 s for the pod; one worker per node and
    // the one node full, so the scale-up waits for the node autoscaler's next
    // scan (every 10 s), the node, then the pod.
    let (d, p, scan) = (120.0, 20.0, 10.0);
    let nodes = "[primary.nodes]\nworkers_per_node = 1\nprovision_delay = \"2m\"\ninitial = 1\nmax = 20\n";
    let sc = write(tmp.path(), "nodes.toml", &step_scenario("20s", nodes));
    let (_t, out) = run_ok(&sc, &[]);
    let (first, decision) = first_capacity_and_decision(&out);
    assert_eq!(decision, 15.0, "the first evaluation scales up");
    assert!(
        first >= decision + d + p - 1.0 && first <= decision + d + p + scan,
        "first new capacity at {first} s, expected decision {decision} + D {d} + P {p} (+ at most one scan {scan})"
    );
    // The pending pods have no ready time yet when decided.
    assert_eq!(column(&out, "scaling.csv", "ready_first_s")[0], "");

    // With ample nodes ready, only the pod delay remains.
    let ample = "[primary.nodes]\nworkers_per_node = 100\nprovision_delay = \"2m\"\n";
    let sc = write(tmp.path(), "ample.toml", &step_scenario("20s", ample));
    let (_t, out) = run_ok(&sc, &[]);
    let (first, decision) = first_capacity_and_decision(&out);
    assert!(first >= decision + p - 1.0 && first <= decision + p, "first capacity at {first} s, decision {decision}");
    assert_eq!(column(&out, "scaling.csv", "ready_first_s")[0].parse::<f64>().unwrap(), decision + p);
}

#[test]
fn nodes_are_billed_and_unneeded_ones_removed_after_the_unneeded_time() {
    let tmp = TempDir::new().unwrap();
    // Fixed pool of 2 workers, 2 per node (one node needed), 3 nodes at the
    // start and min 0: two nodes are unneeded from the first scan (10 s) and
    // removed at the scan 600 s later (610 s). Billed: 3 × 610 + 1 × (1200 −
    // 610) = 2420 node-seconds; at 3.6 per node-hour that costs 2.42.
    let text = r#"name = "layers-cost"
seed = 1
duration = "20m"

[arrivals]
kind = "poisson"
rate = 0.05

[[classes]]
name = "call"
share = 1.0
duration = "5s"

[primary]
workers = 2

[primary.nodes]
workers_per_node = 2
provision_delay = "3m"
initial = 3

[cost]
primary_worker_hour = 1.0
node_hour = 3.6
"#;
    let sc = write(tmp.path(), "cost.toml", text);
    let (_t, out) = run_ok(&sc, &[]);
    let s = summary(&out);
    let node_s = num(&s, "metrics.node_seconds.mean");
    assert!((node_s - 2420.0).abs() < 1e-6, "node_seconds {node_s}");
    let cost_nodes = num(&s, "metrics.cost_nodes.mean");
    assert!((cost_nodes - 2.42).abs() < 1e-9, "cost_nodes {cost_nodes}");
    let worker_cost = 2.0 * 1200.0 / 3600.0;
    let total = num(&s, "metrics.cost_total.mean");
    assert!((total - (worker_cost + 2.42)).abs() < 1e-9, "cost_total {total}");
}

#[test]
fn preset_pod_start_is_non_zero_and_an_explicit_zero_wins() {
    let tmp = TempDir::new().unwrap();
    let base = step_scenario("0s", "").replace("policy = \"target-utilization\"", "preset = \"k8s-hpa\"");
    // No provision_delay: the preset's pod start applies.
    let sc = write(tmp.path(), "preset.toml", &base.replace("provision_delay = \"0s\"\n", ""));
    let (_t, out) = run_ok(&sc, &[]);
    let at: f64 = column(&out, "scaling.csv", "t_s")[0].parse().unwrap();
    let ready: f64 = column(&out, "scaling.csv", "ready_first_s")[0].parse().unwrap();
    assert!(ready > at, "the preset's pod start delays the first worker ({at} → {ready})");
    let v = ok(tmp.path(), &["validate", &sc]);
    assert!(!stdout(&v).contains("start instantly") && !stderr(&v).contains("start instantly"));
    // provision_delay = "0s" written out: instant, as before the preset had a default, with a warning.
    let sc = write(tmp.path(), "zero.toml", &base);
    let (_t, out) = run_ok(&sc, &[]);
    let at: f64 = column(&out, "scaling.csv", "t_s")[0].parse().unwrap();
    let ready: f64 = column(&out, "scaling.csv", "ready_first_s")[0].parse().unwrap();
    assert_eq!(ready, at);
    let v = ok(tmp.path(), &["validate", &sc]);
    let text = stdout(&v) + &stderr(&v);
    assert!(text.contains("start instantly"), "validate warns of instant starts:\n{text}");
}

#[test]
fn bad_node_input_exits_2_naming_the_field() {
    let tmp = TempDir::new().unwrap();
    let nodes = |body: &str| format!("[primary.nodes]\n{body}\n");
    let good = "workers_per_node = 2\nprovision_delay = \"1m\"\nmax = 5";
    let cases: Vec<(String, &str)> = vec![
        (nodes("workers_per_node = 0\nprovision_delay = \"1m\""), "primary.nodes.workers_per_node"),
        (nodes("workers_per_node = \"two\"\nprovision_delay = \"1m\""), "workers_per_node"),
        (nodes("provision_delay = \"1m\""), "primary.nodes.workers_per_node"),
        (nodes("workers_per_node = 2\nprovision_delay = -30"), "provision_delay"),
        (nodes("workers_per_node = 2\nprovision_delay = \"-30s\""), "provision_delay"),
        (nodes("workers_per_node = 2"), "primary.nodes.provision_delay"),
        (nodes(&format!("{good}\nmin = 6")), "primary.nodes.min"),
        (nodes(&format!("{good}\ninitial = 6")), "primary.nodes.initial"),
        (
            nodes("workers_per_node = 2\nprovision_delay = \"1m\"\nmin = 2\nmax = 5\ninitial = 1"),
            "primary.nodes.initial",
        ),
        (nodes(&format!("{good}\nmin = -1")), "primary.nodes.min"),
        (nodes(&format!("{good}\nscan_interval = \"0s\"")), "primary.nodes.scan_interval"),
        // The parse error quotes the line clipped to 26 characters before the value.
        (nodes(&format!("{good}\nscale_down_unneeded_time = \"soon\"")), "unneeded_time"),
        (nodes(&format!("{good}\nbatch = 3")), "batch"),
        (nodes(&format!("{good}\n[cost]\nnode_hour = -1.0")), "cost.node_hour"),
        ("[cost]\nnode_hour = 1.0\n".to_string(), "cost.node_hour"),
    ];
    for (i, (extra, field)) in cases.iter().enumerate() {
        let sc = write(tmp.path(), &format!("bad{i}.toml"), &step_scenario("20s", extra));
        for cmd in ["validate", "run"] {
            let out_dir = tmp.path().join(format!("out{i}")).display().to_string();
            let args: Vec<&str> =
                if cmd == "run" { vec!["run", &sc, "--out", &out_dir] } else { vec!["validate", &sc] };
            let out = surgesim(tmp.path(), &args);
            assert_exit(&args, &out, 2);
            assert!(stderr(&out).contains(field), "case {i} ({cmd}): stderr does not name {field}:\n{}", stderr(&out));
        }
    }
    // The initial workers must fit the initial nodes: 1 node × 2 < 3 workers.
    let text = step_scenario("20s", &nodes("workers_per_node = 2\nprovision_delay = \"1m\"\ninitial = 1"))
        .replace("workers = 1\n", "workers = 3\n");
    let sc = write(tmp.path(), "small.toml", &text);
    let out = surgesim(tmp.path(), &["validate", &sc]);
    assert_exit(&["validate", &sc], &out, 2);
    assert!(stderr(&out).contains("primary.nodes.initial"), "{}", stderr(&out));
}
