//! End-to-end tests of the `surgesim` binary: exit codes, error messages,
//! determinism, output files and the output-folder rules.
//!
//! Every invocation goes through [`surgesim`](crate::common::surgesim),
//! which fails the test if the binary panicked. Every run writes into a
//! fresh temporary folder and is started with that folder as its working
//! directory, so nothing lands in the repository (not even the default
//! `notebooks-out/`).
//!
//! Fixtures: `tests/fixtures/small.toml` (a five-minute, two-class scenario
//! with queueing), `tests/fixtures/arch-mismatch.toml` (valid, but
//! `validate` warns) and one small bad scenario per case in
//! `tests/fixtures/bad/`.

mod bad_input;
mod out_folder;
mod outputs;

use crate::common::fixture;

/// Absolute path of a fixture, as a string for the command line.
fn fx(rel: &str) -> String {
    fixture(rel)
}

fn small() -> String {
    fx("small.toml")
}
