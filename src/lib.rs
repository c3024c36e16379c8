//! # surgesim
//!
//! A deterministic discrete-event simulator and capacity planner for
//! call-arrival surges: what fails, how much, and what would have saved it.
//!
//! Data flows one way:
//!
//! ```text
//! scenario (TOML) ─parse+validate─▶ Scenario ─▶ model + engine ─▶ observe ─▶ RunResult ─▶ report
//!                                                    ▲
//!                                  experiment (replications in parallel)
//! ```
//!
//! ## Ordering contract
//! The engine delivers events in increasing `(time, insertion sequence)`
//! order; time is an integer number of microseconds ([`time::Tick`]). Every
//! random stream derives from `(scenario seed, run index, stream name)`
//! ([`rng`]). A run is therefore a pure function of its scenario and run
//! index, and results are byte-identical under any thread count.
//!
//! ## Example
//! ```
//! use surgesim::{experiment, model::RunOptions, scenario};
//! let sc = scenario::load_str(r#"
//!     name = "tiny"
//!     duration = "10m"
//!     [arrivals]
//!     kind = "poisson"
//!     rate = 2.0
//!     [[classes]]
//!     name = "all"
//!     share = 1.0
//!     duration = { dist = "exponential", mean = "30s" }
//!     [primary]
//!     workers = 100
//! "#, "tiny.toml", std::path::Path::new("."), &[]).unwrap();
//! let agg = experiment::run(&sc, 2, RunOptions::default());
//! assert_eq!(agg.mean("failed"), 0.0);
//! assert!(agg.mean("arrived") > 1000.0);
//! ```

pub mod arrivals;
pub mod bench;
pub mod calibrate;
pub mod dist;
pub mod engine;
pub mod experiment;
pub mod fit;
pub mod fmt;
pub mod input;
pub mod model;
pub mod observe;
pub mod report;
pub mod result;
pub mod rng;
pub mod scenario;
pub mod slo;
pub mod sweep;
pub mod time;
