//! Fitting a scenario from a call log (`surgesim fit`).
//!
//! A log has one row per call: `arrival` (seconds after the start, or RFC
//! 3339), optional `duration` or `end`, optional `outcome`, optional
//! `class`. One streaming pass ([`read`]) gathers per-bin counts and
//! per-class duration statistics in constant memory; then:
//!
//! - the arrival rate per bin (failed calls included: they arrived too),
//!   with its Poisson standard error √count / bin, and a piecewise-constant
//!   rate by PELT on the bin counts ([`segment`]);
//! - per class: its share of calls (Wilson 95 % interval) and its duration
//!   law ([`durations`]): empirical, lognormal and gamma (MLE), the one
//!   with the smaller Kolmogorov–Smirnov distance used. Only calls with a
//!   duration (or an end) that were not failed count: a failed call's
//!   duration is not a service time, and since whether a call fails does
//!   not depend on how long it would have lasted, leaving them out does
//!   not bias the law. How many were left out is reported;
//! - the calls in flight at the start: rows before it whose end (or
//!   arrival + duration) lies after it.
//!
//! [`Fit`] is the one result: `fit.json` is it serialised, the scenario
//! ([`render::scenario_toml`]) and the plot are drawn from it.

pub mod durations;
pub mod read;
pub mod render;
pub mod segment;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::time::Tick;
use durations::{DurationFit, Z975};

/// A log that cannot be fitted: the file, the line when there is one, and
/// what was expected. Messages quote nothing of the log.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {}{msg}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct FitError {
    pub path: String,
    pub line: Option<u64>,
    pub msg: String,
}

impl FitError {
    pub fn new(path: &Path, msg: impl Into<String>) -> FitError {
        FitError { path: path.display().to_string(), line: None, msg: msg.into() }
    }
    pub fn at(path: &Path, line: u64, msg: impl Into<String>) -> FitError {
        FitError { path: path.display().to_string(), line: Some(line), msg: msg.into() }
    }
}

/// How to fit.
#[derive(Clone, Debug)]
pub struct FitOptions {
    /// Width of the rate bins.
    pub bin: Tick,
    /// Clock label of the start, seconds after midnight (default: the
    /// start's time of day for RFC 3339 logs, else midnight).
    pub clock_start: Option<u64>,
    /// RFC 3339 timestamp of the start, for RFC 3339 logs (default: the
    /// first arrival, floored to the bin).
    pub origin: Option<String>,
}

/// The rate in one bin.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BinRate {
    pub t_start_s: f64,
    pub calls: u64,
    /// calls / bin width.
    pub per_s: f64,
    /// Poisson standard error, √calls / bin width.
    pub se_per_s: f64,
    /// The segmented rate over this bin.
    pub fitted_per_s: f64,
}

/// One segment of the piecewise-constant rate.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SegmentRate {
    pub from_s: f64,
    pub to_s: f64,
    pub calls: u64,
    pub per_s: f64,
    pub se_per_s: f64,
}

/// The arrival-rate profile.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RateFit {
    /// The segmentation method, in words.
    pub method: String,
    /// Penalty per change point (on the −2·log-likelihood scale).
    pub penalty: f64,
    pub bins: Vec<BinRate>,
    pub segments: Vec<SegmentRate>,
}

/// One class.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ClassFit {
    pub name: String,
    /// Calls of the class (every outcome, rows before the start included).
    pub calls: u64,
    pub share: f64,
    /// Wilson score 95 % interval of the share.
    pub share_ci95: [f64; 2],
    /// Calls with neither a duration nor an end (not in the duration fit).
    pub without_duration: u64,
    /// Calls failed, abandoned or still waiting (by `outcome`), whose
    /// duration was left out of the fit.
    pub unserved_skipped: u64,
    pub durations: DurationFit,
}

/// Calls in service at the start.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct InFlight {
    pub calls: u64,
    pub method: String,
}

/// Everything `surgesim fit` estimates; `fit.json` is this serialised.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Fit {
    /// The log, as given on the command line.
    pub log: String,
    pub surgesim_version: &'static str,
    /// Calls in the log.
    pub rows: u64,
    /// Calls that arrived before the start (not in the rates).
    pub rows_before_start: u64,
    pub bin_s: f64,
    /// Span fitted: whole bins from the start to the last arrival.
    pub span_s: f64,
    /// RFC 3339 timestamp of the start (RFC 3339 logs only).
    pub origin: Option<String>,
    /// Clock label of the start, `HH:MM:SS`.
    pub clock_start: String,
    pub rate: RateFit,
    pub classes: Vec<ClassFit>,
    /// Calls by `outcome`, as written in the log (absent without the column).
    pub outcomes: BTreeMap<String, u64>,
    /// `None` when the log has neither ends nor durations.
    pub in_flight_at_start: Option<InFlight>,
    /// Where the fit came from: columns found.
    pub columns: Vec<&'static str>,
}

/// Wilson score interval for `k` successes in `n` trials at z.
pub fn wilson(k: u64, n: u64, z: f64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let den = 1.0 + z * z / n;
    let mid = (p + z * z / (2.0 * n)) / den;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / den;
    [(mid - half).max(0.0), (mid + half).min(1.0)]
}

/// Reads the log at `path` once and fits it.
pub fn fit_log(path: &Path, opts: &FitOptions) -> Result<Fit, FitError> {
    if opts.bin == Tick::ZERO {
        return Err(FitError::new(path, "--bin must be longer than 0s"));
    }
    let pass = read::read_log(path, opts.bin, opts.origin.as_deref())?;
    let bin_s = opts.bin.as_secs_f64();
    let segs = segment::pelt(&pass.bins);
    let seg_rates: Vec<SegmentRate> = segs
        .iter()
        .map(|s| {
            let w = (s.to_bin - s.from_bin) as f64 * bin_s;
            SegmentRate {
                from_s: s.from_bin as f64 * bin_s,
                to_s: s.to_bin as f64 * bin_s,
                calls: s.calls,
                per_s: s.calls as f64 / w,
                se_per_s: (s.calls as f64).sqrt() / w,
            }
        })
        .collect();
    let mut bins = Vec::with_capacity(pass.bins.len());
    for (s, r) in segs.iter().zip(&seg_rates) {
        for b in s.from_bin..s.to_bin {
            let c = pass.bins[b];
            bins.push(BinRate {
                t_start_s: b as f64 * bin_s,
                calls: c,
                per_s: c as f64 / bin_s,
                se_per_s: (c as f64).sqrt() / bin_s,
                fitted_per_s: r.per_s,
            });
        }
    }
    let n = pass.bins.len();
    let rate = RateFit {
        method: format!(
            "PELT on Poisson counts per {} bin, penalty 2·ln({n}) = {:.2} per change point (BIC)",
            opts.bin,
            segment::penalty(n)
        ),
        penalty: segment::penalty(n),
        bins,
        segments: seg_rates,
    };
    let total: u64 = pass.classes.iter().map(|c| c.calls).sum();
    let classes = pass
        .classes
        .iter()
        .map(|c| ClassFit {
            name: c.name.clone(),
            calls: c.calls,
            share: c.calls as f64 / total as f64,
            share_ci95: wilson(c.calls, total, Z975),
            without_duration: c.without_duration,
            unserved_skipped: c.unserved_skipped,
            durations: c.durations.finish(),
        })
        .collect();
    let in_flight_at_start = (pass.has_end || pass.has_duration).then(|| InFlight {
        calls: pass.in_flight,
        method: format!(
            "calls arrived before the start ({} rows) still in service at it: {}",
            pass.rows_before_start,
            if pass.has_end { "end after the start" } else { "arrival + duration after the start" }
        ),
    });
    let offset = pass.utc_offset_s.unwrap_or(0);
    let origin = pass.origin_unix.and_then(|o| {
        let dt = chrono::DateTime::from_timestamp(o.floor() as i64, ((o - o.floor()) * 1e9) as u32)?;
        Some(dt.with_timezone(&chrono::FixedOffset::east_opt(offset)?).to_rfc3339())
    });
    let clock = opts.clock_start.unwrap_or_else(|| {
        pass.origin_unix.map_or(0, |o| ((o.floor() as i64 + offset as i64).rem_euclid(86_400)) as u64)
    });
    let mut columns = vec!["arrival"];
    for (has, name) in [
        (pass.has_duration, "duration"),
        (pass.has_end, "end"),
        (pass.has_outcome, "outcome"),
        (pass.has_class, "class"),
    ] {
        if has {
            columns.push(name);
        }
    }
    Ok(Fit {
        log: path.display().to_string(),
        surgesim_version: env!("CARGO_PKG_VERSION"),
        rows: pass.rows,
        rows_before_start: pass.rows_before_start,
        bin_s,
        span_s: n as f64 * bin_s,
        origin,
        clock_start: crate::time::format_clock(clock as f64),
        rate,
        classes,
        outcomes: pass.outcomes,
        in_flight_at_start,
        columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_by_hand() {
        // k = 50, n = 100, z = 2: centre 0.5, half 2·√(0.0025 + 0.0001)/1.04.
        let [lo, hi] = wilson(50, 100, 2.0);
        let half = 2.0 * (0.0026f64).sqrt() / 1.04;
        assert!((lo - (0.5 - half)).abs() < 1e-12 && (hi - (0.5 + half)).abs() < 1e-12);
        assert_eq!(wilson(0, 0, 2.0), [0.0, 1.0]);
    }
}
