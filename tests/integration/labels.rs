//! Failure labels as an operator reads them: which reason a call that finds
//! the primary full ends with, depending on what refused it last.
//!
//! One primary slot and one fallback instance, every call an hour long in a
//! ten-minute run: after the first two calls both pools stay full, so every
//! later call is turned away, and who turned it away is known by
//! construction.

use std::path::Path;

use surgesim::experiment::simulate;
use surgesim::model::RunOptions;
use surgesim::observe::FailReason;
use surgesim::result::RunResult;
use surgesim::scenario;

/// Both pools full for good: 1 slot, a fallback of concurrency 1, calls of
/// one hour arriving at 1/s for ten minutes. `admission` is appended as is.
fn both_full(admission: &str) -> RunResult {
    let text = format!(
        r#"
name = "both-full"
duration = "10m"
seed = 11
[arrivals]
kind = "poisson"
rate = 1.0
[[classes]]
name = "eligible"
share = 0.5
duration = "1h"
fallback_eligible = true
[[classes]]
name = "other"
share = 0.5
duration = "1h"
[primary]
workers = 1
[fallback]
max_concurrency = 1
{admission}
"#
    );
    let sc = scenario::load_str(&text, "both-full.toml", Path::new("."), &[]).expect("a valid scenario");
    simulate(&sc, 0, RunOptions { failure_log: true })
}

const ELIGIBLE: u16 = 0;

#[test]
fn an_eligible_call_the_full_fallback_throttles_fails_as_fallback_throttled() {
    let r = both_full("");
    let log = r.end.failure_log.as_ref().expect("the failure log was asked for");
    assert!(log.len() > 100, "about 600 calls arrive and all but two fail; {} failed", log.len());
    assert_eq!(r.end.failures_dropped, 0);
    for f in log {
        // The primary is full at every failure; the fallback at every
        // failure of an eligible call (it would have taken the call else).
        assert_eq!((f.busy_primary, f.capacity_primary), (1, 1), "{f:?}");
        if f.class == ELIGIBLE {
            assert_eq!(f.fallback_busy, 1, "{f:?}");
            assert_eq!(f.reason.name(), "fallback_throttled", "{f:?}");
        } else {
            assert_eq!(f.reason.name(), "worker_not_available", "{f:?}");
        }
    }
    let (eligible, other) = (&r.classes[0], &r.classes[1]);
    assert!(eligible.failed_by[FailReason::FallbackThrottled as usize] > 0);
    assert_eq!(eligible.failed_by[FailReason::WorkerNotAvailable as usize], 0);
    assert_eq!(other.failed_by[FailReason::FallbackThrottled as usize], 0);
    assert!(other.failed_by[FailReason::WorkerNotAvailable as usize] > 0);
    // One call holds the primary slot, one the fallback instance; nothing else is served.
    assert_eq!(r.totals.served_primary + r.totals.served_fallback, 2);
    assert_eq!(r.totals.failed(), r.totals.arrived - 2);
}

#[test]
fn a_throttled_call_that_may_wait_is_not_labelled_throttled() {
    // With a queue, the throttled call waits instead; a full queue turns it
    // away as queue_full, whichever class it is.
    let r = both_full("[admission]\nmax_wait = \"20m\"\nqueue_limit = 5");
    let log = r.end.failure_log.as_ref().expect("the failure log was asked for");
    assert!(!log.is_empty());
    for f in log {
        assert_eq!(f.reason.name(), "queue_full", "{f:?}");
    }
    assert_eq!(r.end.waiting_end, 5);
}

/// The README's routing paragraph names the same label the code uses.
#[test]
fn the_readme_routing_paragraph_agrees() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README.md");
    let routing = readme
        .split("\n\n")
        .find(|p| p.contains("Routing: a free primary slot"))
        .expect("the README describes routing");
    assert!(routing.contains("`fallback_throttled`"), "{routing}");
    assert!(routing.contains("`worker_not_available`"), "{routing}");
}
