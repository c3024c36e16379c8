//! Clients that hang up and retry (`[clients]`): retrial queues against
//! theory, conservation of calls and attempts, the metastable scenario and
//! its variants, and bad input.

mod drain;
mod input;
mod metastable;
mod theory;

use std::path::Path;

use surgesim::experiment::{self, Aggregate};
use surgesim::model::RunOptions;
use surgesim::scenario::{self, Scenario};

/// A scenario from TOML text (relative files resolve against the repo).
pub fn scenario(text: &str) -> Scenario {
    scenario::load_str(text, "t.toml", Path::new(env!("CARGO_MANIFEST_DIR")), &[]).expect("a valid scenario")
}

/// `reps` runs of `sc`, aggregated.
pub fn runs(sc: &Scenario, reps: u64) -> Aggregate {
    Aggregate::new(sc, experiment::run_replications(sc, 0, reps, RunOptions::default()))
}

/// Metric `name` of every run.
pub fn values(agg: &Aggregate, name: &str) -> Vec<f64> {
    agg.metric_values(name)
}

/// Mean and standard error of `xs`.
pub fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}
