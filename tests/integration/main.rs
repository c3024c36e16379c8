//! The integration tests, as one test binary with a module per topic (one
//! binary links the crate once, which matters on a small machine).
//!
//! - `cli`: the `surgesim` binary end to end: bad input, determinism, output
//!   files, the output-folder rules.
//! - `hostile`: hostile input and faults: traces, `[slo]` blocks, variants,
//!   flags, memory of a long trace, interrupted runs.
//! - `mechanics`: each mechanism of the model against what it must do.
//! - `theory`: statistical tests against queueing theory.
//! - `properties`: property tests of the engine and fuzzing of the readers.
//! - `sweep`: sweeps, shards, merge, the planner and the frontier.
//! - `check`: `surgesim check` and its judge.
//! - `fit`: `surgesim fit` closed loop from a known scenario, and bad logs.
//! - `calibrate`: `surgesim calibrate` closed loop (hidden multiplier and
//!   capacity recovered), unreachable targets, unknown metrics, the
//!   incident's calibration against its header, `compare --calibration`
//!   (with its Markdown and its report).
//! - `html_report`: `surgesim report`, `--report` and the Markdown summaries.
//! - `incident`: the 07:00 incident replay and its counterfactuals.
//! - `drain`: scale-down victims and drain grace, failing fallback starts
//!   that hold a slot, `max_wait = "unlimited"` and patience with max_wait.
//! - `drain_outputs`: calls cut off by a drain in every output file and in
//!   `surgesim trace`.
//! - `digests`: the bundled scenarios' outputs against pinned digests
//!   (`digests.txt`).
//! - `inputs`: bounded input, non-regular files, messages that echo nothing
//!   from files that are not scenarios.
//! - `names`: one name per quantity across summary.json, timeseries.csv,
//!   sweep.csv and `[slo]`.
//! - `labels`: failure labels when both pools are full.
//! - `layers`: time to capacity in layers: the node layer, pod start
//!   delays of the presets, node cost, bad node input.
//! - `sweep_hardening`: check's folder walk, baselines, grid limits, merge
//!   integrity, the planner's range end.
//! - `outputs`: every file and folder surgesim writes: exchange, recovery,
//!   locks, devices, FIFOs, links, modes.
//! - `shell`: completions and the man page.
//! - `k8s_manifest`: the Kubernetes Indexed Job manifest in docs/.
//! - `scaler`: the scaler against the HPA, KEDA and the metric pipeline.
//! - `plan_multi`: the multi-knob plan against a known cheapest mix, its
//!   Pareto frontier, surge families and quantile SLOs over replications.
//! - `karpenter`: Karpenter-style node batching windows, bad input.
//! - `warm_pool`: EC2 Auto Scaling warm pools: delay by pool state, refill,
//!   reuse on scale-in, scale-in protection, bad input.
//! - `retries`: clients that hang up and retry: retrial queues against
//!   theory, conservation, the metastable scenario, bad `[clients]` input.
//! - `windows`: the reporting window as clock times, day offsets, durations
//!   or seconds, and its section of summary.json.
//! - `service_levels`: service levels, ASA and abandonment against Erlang C
//!   and Erlang A, staffing with `plan`, bins/classes/window, bad thresholds.
//!
//! `common` holds the helpers they share; fixtures stay in `tests/fixtures/`.
//! Run one topic with e.g. `cargo test --test integration theory::`.

mod common;

mod calibrate;
mod check;
mod cli;
mod digests;
mod drain;
mod drain_outputs;
mod fit;
mod hostile;
mod html_report;
mod incident;
mod inputs;
mod k8s_manifest;
mod karpenter;
mod labels;
mod layers;
mod mechanics;
mod names;
mod outputs;
mod plan_multi;
mod properties;
mod retries;
mod scaler;
mod service_levels;
mod shell;
mod sweep;
mod sweep_hardening;
mod theory;
mod warm_pool;
mod windows;
