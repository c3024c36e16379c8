//! Bad `[clients]` and `[report]` input: exit 2 with a message naming the
//! field, never a panic.

use std::fs;

use tempfile::TempDir;

use crate::common::{assert_exit, assert_no_panic, stderr, surgesim};

const BASE: &str = r#"
name = "bad-clients"
duration = "10m"
[arrivals]
kind = "poisson"
rate = 1.0
[[classes]]
name = "all"
share = 1.0
duration = "30s"
[primary]
workers = 2
"#;

fn rejects(extra: &str, field: &str) {
    let tmp = TempDir::new().unwrap();
    let path = tmp.path().join("s.toml");
    fs::write(&path, format!("{BASE}\n{extra}\n")).unwrap();
    let p = path.display().to_string();
    let args = ["validate", p.as_str()];
    let out = surgesim(tmp.path(), &args);
    assert_no_panic(&args, &out);
    assert_exit(&args, &out, 2);
    let err = stderr(&out);
    assert!(err.contains(field), "{extra:?}: the message does not name {field}:\n{err}");
}

#[test]
fn wrong_types() {
    rejects("[clients]\ntimeout = true", "timeout");
    rejects(
        "[clients]\ntimeout = \"10s\"\nretry = { attempts = \"three\", on = [\"abandoned\"], delay = \"1s\" }",
        "attempts",
    );
    rejects("[clients]\nretry = { on = \"abandoned\", delay = \"1s\" }", "on");
}

#[test]
fn negative_delays_and_timeouts() {
    rejects("[clients]\ntimeout = -5", "timeout");
    rejects("[clients]\nretry = { on = [\"worker_not_available\"], delay = -1 }", "clients.retry.delay");
    rejects(
        "[clients]\nretry = { on = [\"worker_not_available\"], delay = { backoff = \"exponential\", base = \"-1s\", cap = \"1m\" } }",
        "clients.retry.delay",
    );
}

#[test]
fn unknown_reason_in_on() {
    rejects("[clients]\nretry = { on = [\"worker_not_available\", \"busy\"], delay = \"1s\" }", "clients.retry.on.1");
    rejects("[clients]\nretry = { on = [\"drain_timeout\", \"drain\"], delay = \"1s\" }", "clients.retry.on.1");
    // No scaler removes workers here, so no drain ever cuts a call off.
    rejects("[clients]\nretry = { on = [\"drain_timeout\"], delay = \"1s\" }", "clients.retry.on");
}

#[test]
fn budget_outside_the_unit_interval() {
    rejects(
        "[clients]\nretry = { on = [\"worker_not_available\"], delay = \"1s\", budget = 1.5 }",
        "clients.retry.budget",
    );
    rejects(
        "[clients]\nretry = { on = [\"worker_not_available\"], delay = \"1s\", budget = -0.1 }",
        "clients.retry.budget",
    );
}

#[test]
fn contradictions() {
    // attempts without on
    rejects("[clients]\nretry = { attempts = 3, delay = \"1s\" }", "clients.retry.on");
    // a budget without retries
    rejects(
        "[clients]\nretry = { attempts = 1, on = [\"worker_not_available\"], delay = \"1s\", budget = 0.1 }",
        "clients.retry.budget",
    );
    // jitter without backoff
    rejects(
        "[clients]\nretry = { on = [\"worker_not_available\"], delay = { dist = \"exponential\", mean = \"1s\", jitter = \"full\" } }",
        "clients.retry.delay.jitter",
    );
    // retry on hang-ups that never happen
    rejects("[clients]\nretry = { on = [\"abandoned\"], delay = \"1s\" }", "clients.retry.on");
    // a timeout where calls never wait
    rejects("[admission]\nmax_wait = \"0s\"\n[clients]\ntimeout = \"10s\"", "clients.timeout");
    // a recovery threshold without clients, or outside (0, 1]
    rejects("[report]\nrecovered_below = 0.05", "report.recovered_below");
    rejects("[clients]\ntimeout = \"10s\"\n[report]\nrecovered_below = 2", "report.recovered_below");
    rejects("[clients]", "clients");
}
