//! Property tests (proptest) of the engine and of the input readers.
//!
//! * Engine invariants on random small scenarios (generated as TOML text
//!   from random parameters, a few minutes each): conservation of calls,
//!   per-bin capacity bounds, bins adding up to the totals, determinism
//!   (same scenario and seed twice; one thread or two), time never going
//!   backwards, and a written trace replaying to the identical run.
//! * Fuzzing of the readers: arbitrary and mutated scenario texts,
//!   `--set` overrides and trace files must never panic (errors are fine);
//!   what validates must also run without panicking, and a trace that
//!   validates must replay to its end.
//!
//! Each test runs a bounded number of cases (see [`config`]); set
//! `PROPTEST_CASES` for long runs, e.g. `PROPTEST_CASES=1000000 cargo test
//! --test integration properties::fuzz_` (the test profile keeps debug
//! assertions and overflow checks). See docs/fuzzing.md.

mod engine;
mod fuzz_scenarios;
mod fuzz_traces;
mod generated;

use std::path::Path;

use proptest::prelude::*;

use surgesim::model::RunOptions;
use surgesim::observe::Counts;
use surgesim::scenario::{load_str, Scenario};

/// `default_cases` cases, unless `PROPTEST_CASES` says otherwise. Failures
/// are not persisted to files (regressions found are kept as plain tests).
fn config(default_cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = default_cases;
    }
    c.failure_persistence = None;
    c
}

fn load(text: &str, base: &Path) -> Scenario {
    load_str(text, "prop.toml", base, &[]).unwrap_or_else(|e| panic!("a generated scenario was rejected: {e}\n{text}"))
}

/// Sum of counts.
fn sum<'a>(it: impl IntoIterator<Item = &'a Counts>) -> Counts {
    let mut c = Counts::default();
    for x in it {
        c.add(x);
    }
    c
}

/// Runs keep their failure log, so that it can be checked too.
const LOG: RunOptions = RunOptions { failure_log: true };
