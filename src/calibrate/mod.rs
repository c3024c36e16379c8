//! Calibration: the values of one to three scenario parameters at which
//! the simulated distribution of some metrics reproduces observed counts
//! (`surgesim calibrate`), with a 95 % confidence set.
//!
//! Every parameter value θ is evaluated on common random numbers: the same
//! replication indices `0..R` of the same seed, so the simulated mean is a
//! deterministic function of θ and nearby values differ by their effect,
//! not by noise. At θ each target k gives the simulated mean m_k, the
//! standard deviation s_k of one replication, and
//!
//! ```text
//! z_k(θ) = (y_k − m_k) / (s_k · √(1 + 1/R))
//! ```
//!
//! the standardised distance of the observation y_k from a fresh draw of
//! the simulation (a Gaussian prediction interval: the √(1 + 1/R) carries
//! the noise of estimating m_k from R replications). θ is in the
//! confidence set when every |z_k| is at most the Student t quantile
//! t(R − 1) at 1 − 0.025/K (Bonferroni over the K targets, so the joint
//! level is at least 95 % whatever their correlation). For counts, s_k is
//! at least 0.5 (half a call), so a distribution of one value still admits
//! its own value.
//!
//! Search ([`search`]): with one parameter and one target, bisection of
//! the CRN mean against the observation (monotone in θ), then bisection of
//! each end of the set from the estimate; otherwise nested grids.

mod render;
mod search;

pub use render::{csv_text, json_value, variant_toml};

use crate::experiment::{self, t_quantile};
use crate::model::RunOptions;
use crate::scenario::overrides::Override;
use crate::scenario::Scenario;
use crate::sweep::axis::{AxisValue, Range};
use crate::sweep::BaseScenario;

/// Most parameters calibrated at once.
pub const MAX_PARAMS: usize = 3;

/// Why a calibration could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CalibError {
    /// Bad flags or scenario (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The observations cannot be reproduced inside the ranges (exit 1).
    #[error("{0}")]
    Unreachable(String),
}

/// One observed count: `METRIC=VALUE`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Target {
    pub metric: String,
    pub observed: f64,
}

impl Target {
    /// Parses `METRIC=VALUE`; `names` are the scenario's metrics.
    pub fn parse(arg: &str, names: &[String]) -> Result<Target, CalibError> {
        let usage = |m: String| CalibError::Usage(format!("--target {arg}: {m}"));
        let (metric, value) =
            arg.split_once('=').ok_or_else(|| usage("expected METRIC=VALUE, e.g. window.failed=3028".into()))?;
        let metric = metric.trim().to_string();
        if !names.contains(&metric) {
            return Err(usage(format!("unknown metric `{metric}`; valid metrics: {}", names.join(", "))));
        }
        let observed: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| usage(format!("{:?} is not a finite number", value.trim())))?;
        Ok(Target { metric, observed })
    }
}

/// One unknown: a scenario path and its range.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Param {
    pub path: String,
    pub lo: f64,
    pub hi: f64,
    /// Both ends written as integers: the values are integers.
    pub integer: bool,
    /// When the path is a class's `share`: the other classes' share paths
    /// and their shares in the base scenario. They take `1 − x` between
    /// them in their base proportions, so the shares still sum to 1 (set
    /// by [`Param::bind`]).
    #[serde(skip)]
    pub rest: Vec<(String, f64)>,
}

impl Param {
    /// Parses `PATH=LO..HI`.
    pub fn parse(arg: &str) -> Result<Param, CalibError> {
        let r = Range::parse("--vary", arg).map_err(|e| CalibError::Usage(e.to_string()))?;
        if r.step.is_some() {
            return Err(CalibError::Usage(format!(
                "--vary {arg}: a calibration range takes no :STEP (expected PATH=LO..HI)"
            )));
        }
        let integer = matches!((r.from, r.to), (AxisValue::Int(_), AxisValue::Int(_)));
        let (lo, hi) = (r.from.as_f64(), r.to.as_f64());
        if hi <= lo {
            return Err(CalibError::Usage(format!("--vary {arg}: HI must be above LO")));
        }
        Ok(Param { path: r.path, lo, hi, integer, rest: Vec::new() })
    }

    /// Binds the parameter to the base scenario: a class's share
    /// (`classes.NAME.share` or `classes.INDEX.share`) takes its
    /// complement from the other classes, which keep their proportions.
    pub fn bind(&mut self, sc: &Scenario) -> Result<(), CalibError> {
        let parts: Vec<&str> = self.path.split('.').collect();
        let [first, class, "share"] = parts[..] else { return Ok(()) };
        if first != "classes" {
            return Ok(());
        }
        let Some(i) = sc.classes.iter().position(|c| c.name == class).or_else(|| class.parse::<usize>().ok()) else {
            return Ok(()); // the scenario's own error names it at the first evaluation
        };
        if sc.classes.len() < 2 {
            return Err(CalibError::Usage(format!(
                "--vary {}: the only class's share is 1; a share is calibrated against other classes",
                self.path
            )));
        }
        if self.lo <= 0.0 || self.hi >= 1.0 {
            return Err(CalibError::Usage(format!(
                "--vary {}: a share's range must lie strictly between 0 and 1",
                self.path
            )));
        }
        self.rest = sc
            .classes
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, c)| (format!("classes.{}.share", c.name), c.share))
            .collect();
        if self.rest.iter().all(|&(_, s)| s <= 0.0) {
            // No proportions to keep: the rest share the complement equally.
            let n = self.rest.len() as f64;
            self.rest.iter_mut().for_each(|r| r.1 = 1.0 / n);
        }
        Ok(())
    }

    /// The scenario edits that set the parameter to `x` (with a share: the
    /// other classes' shares too).
    pub fn edits(&self, x: f64) -> Vec<Override> {
        let mut e = vec![Override { path: self.path.clone(), value: self.toml(x) }];
        let total: f64 = self.rest.iter().map(|&(_, s)| s).sum();
        for (path, s) in &self.rest {
            e.push(Override { path: path.clone(), value: toml::Value::Float((1.0 - x) * s / total) });
        }
        e
    }

    /// `x` clamped to the range (and rounded for integers).
    pub fn snap(&self, x: f64) -> f64 {
        let x = x.clamp(self.lo, self.hi);
        if self.integer {
            x.round()
        } else {
            crate::sweep::axis::round12(x)
        }
    }

    pub fn toml(&self, x: f64) -> toml::Value {
        if self.integer {
            toml::Value::Integer(x.round() as i64)
        } else {
            toml::Value::Float(x)
        }
    }

    /// Smallest difference worth resolving: one unit for integers, 10⁻⁴
    /// of the range otherwise.
    pub fn resolution(&self) -> f64 {
        if self.integer {
            1.0
        } else {
            (self.hi - self.lo) * 1e-4
        }
    }
}

/// What to calibrate and how.
#[derive(Clone, Debug)]
pub struct Spec {
    pub params: Vec<Param>,
    pub targets: Vec<Target>,
    /// Replications per evaluated point (indices 0..R of the scenario's seed).
    pub replications: u64,
    /// Points per parameter of each nested grid (0: 21, 9, 7 for 1, 2, 3 parameters).
    pub grid: usize,
}

impl Spec {
    pub fn check(&self) -> Result<(), CalibError> {
        let u = |m: &str| Err(CalibError::Usage(m.into()));
        if self.params.is_empty() || self.params.len() > MAX_PARAMS {
            return u("give one to three --vary PATH=LO..HI");
        }
        if self.targets.is_empty() {
            return u("give at least one --target METRIC=VALUE");
        }
        if self.replications < 3 {
            return u("--replications must be at least 3 (the spread of the simulation is estimated from them)");
        }
        for (i, p) in self.params.iter().enumerate() {
            if self.params[..i].iter().any(|q| q.path == p.path) {
                return Err(CalibError::Usage(format!("--vary {} is given twice", p.path)));
            }
        }
        if self.grid == 1 || self.grid > 101 {
            return u("--grid must be between 2 and 101");
        }
        Ok(())
    }

    /// The t quantile every |z| is held to.
    pub fn critical(&self) -> f64 {
        let k = self.targets.len() as f64;
        t_quantile(1.0 - 0.05 / k, (self.replications - 1) as f64)
    }
}

/// One evaluated point.
#[derive(Clone, Debug)]
pub struct Eval {
    pub theta: Vec<f64>,
    /// Which step of the search asked for it.
    pub stage: &'static str,
    pub mean: Vec<f64>,
    pub sd: Vec<f64>,
    /// The 2.5 % and 97.5 % empirical quantiles of the replications.
    pub q025: Vec<f64>,
    pub q975: Vec<f64>,
    pub z: Vec<f64>,
    pub in_set: bool,
}

impl Eval {
    /// The largest |z|.
    pub fn distance(&self) -> f64 {
        self.z.iter().fold(0.0, |a, z| a.max(z.abs()))
    }

    /// Σ z²: what the grid search minimises.
    pub fn objective(&self) -> f64 {
        self.z.iter().map(|z| z * z).sum()
    }
}

/// One end of a confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct End {
    pub value: f64,
    /// The set reaches the end of the range here: it may go on beyond it.
    pub at_bound: bool,
}

/// The result.
#[derive(Clone, Debug)]
pub struct Calibration {
    pub spec: Spec,
    pub seed: u64,
    pub critical: f64,
    pub method: &'static str,
    pub estimate: Eval,
    /// Per parameter, the 95 % set's extent.
    pub ci: Vec<[End; 2]>,
    /// Points inside the set that span it (the estimate first), labelled.
    pub points: Vec<(String, Vec<f64>)>,
    /// Every evaluated point, in order.
    pub evals: Vec<Eval>,
}

/// Runs the simulation at parameter values, with a cache.
pub(crate) struct Evaluator<'a> {
    base: &'a BaseScenario,
    spec: &'a Spec,
    critical: f64,
    pub evals: Vec<Eval>,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (i, f) = (pos.floor() as usize, pos.fract());
    if i + 1 < sorted.len() {
        sorted[i] * (1.0 - f) + sorted[i + 1] * f
    } else {
        sorted[i]
    }
}

impl Evaluator<'_> {
    pub(crate) fn eval(&mut self, theta: &[f64], stage: &'static str) -> Result<Eval, CalibError> {
        let theta: Vec<f64> = self.spec.params.iter().zip(theta).map(|(p, &x)| p.snap(x)).collect();
        if let Some(e) = self.evals.iter().find(|e| e.theta == theta) {
            return Ok(e.clone());
        }
        let edits: Vec<Override> = self.spec.params.iter().zip(&theta).flat_map(|(p, &x)| p.edits(x)).collect();
        let sc = self.base.with(&edits).map_err(|e| {
            let at = edits.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            CalibError::Usage(format!("--vary at {at}: {e}"))
        })?;
        let runs = experiment::run_replications(&sc, 0, self.spec.replications, RunOptions::default());
        if let Some(e) = runs.iter().find_map(|r| r.end.arrival_error.as_ref()) {
            return Err(CalibError::Usage(format!("the trace could not be read to the end: {e}")));
        }
        let names: Vec<String> = sc.classes.iter().map(|c| c.name.clone()).collect();
        let per_run: Vec<Vec<(String, Option<f64>)>> = runs.iter().map(|r| r.metrics(&names)).collect();
        let r = self.spec.replications as f64;
        let mut e =
            Eval { theta, stage, mean: vec![], sd: vec![], q025: vec![], q975: vec![], z: vec![], in_set: true };
        for t in &self.spec.targets {
            let mut v = Vec::with_capacity(per_run.len());
            for m in &per_run {
                match m.iter().find(|(n, _)| *n == t.metric).and_then(|(_, v)| *v) {
                    Some(x) => v.push(x),
                    None => {
                        return Err(CalibError::Usage(format!(
                        "--target {}: the metric has no value in some runs (it applies only when its event happens)",
                        t.metric
                    )))
                    }
                }
            }
            let mean = v.iter().sum::<f64>() / r;
            let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (r - 1.0)).sqrt();
            let counts = v.iter().chain([&t.observed]).all(|x| x.fract() == 0.0);
            let spread = if counts { sd.max(0.5) } else { sd } * (1.0 + 1.0 / r).sqrt();
            let z = if spread > 0.0 {
                (t.observed - mean) / spread
            } else if t.observed == mean {
                0.0
            } else {
                (t.observed - mean).signum() * f64::INFINITY
            };
            v.sort_by(f64::total_cmp);
            e.q025.push(quantile(&v, 0.025));
            e.q975.push(quantile(&v, 0.975));
            e.mean.push(mean);
            e.sd.push(sd);
            e.z.push(z);
            e.in_set &= z.abs() <= self.critical;
        }
        self.evals.push(e.clone());
        Ok(e)
    }
}

/// Calibrates `spec` on `base` (the seed is the base scenario's).
pub fn calibrate(base: &BaseScenario, spec: &Spec) -> Result<Calibration, CalibError> {
    spec.check()?;
    let sc = base.scenario().map_err(|e| CalibError::Usage(e.to_string()))?;
    let names = crate::result::metric_names(&sc);
    for t in &spec.targets {
        if !names.contains(&t.metric) {
            return Err(CalibError::Usage(format!(
                "--target {}: unknown metric; valid metrics: {}",
                t.metric,
                names.join(", ")
            )));
        }
    }
    let critical = spec.critical();
    let mut ev = Evaluator { base, spec, critical, evals: Vec::new() };
    let (method, estimate, ci, points) = if spec.params.len() == 1 && spec.targets.len() == 1 {
        search::bisect(&mut ev)?
    } else {
        search::nested_grid(&mut ev)?
    };
    Ok(Calibration { spec: spec.clone(), seed: sc.seed, critical, method, estimate, ci, points, evals: ev.evals })
}

/// `x` as written in messages: integers bare, floats to 6 significant digits.
pub fn show(p: &Param, x: f64) -> String {
    if p.integer {
        format!("{}", x.round() as i64)
    } else {
        crate::fmt::sig(x, 6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_targets_parse_or_name_the_flag() {
        let p = Param::parse("primary.workers=200..480").unwrap();
        assert!(p.integer && p.lo == 200.0 && p.hi == 480.0);
        assert_eq!(p.snap(250.6), 251.0);
        assert_eq!(p.snap(900.0), 480.0);
        let m = Param::parse("arrivals.spike.multiplier=2..3.2").unwrap();
        assert!(!m.integer);
        for bad in ["x=3..2", "x=1..2:0.1", "x", "x=a..2"] {
            assert!(Param::parse(bad).unwrap_err().to_string().contains("--vary"), "{bad}");
        }
        let names = vec!["failed".to_string(), "window.failed".to_string()];
        assert_eq!(Target::parse("window.failed=3028", &names).unwrap().observed, 3028.0);
        let e = Target::parse("window.faild=3", &names).unwrap_err().to_string();
        assert!(e.contains("window.faild") && e.contains("failed, window.failed"), "{e}");
        assert!(Target::parse("failed=NaN", &names).is_err());
    }

    #[test]
    fn the_critical_value_splits_the_level_over_the_targets() {
        let t = |k: usize, r: u64| {
            let targets = vec![Target { metric: "failed".into(), observed: 1.0 }; k];
            Spec { params: vec![], targets, replications: r, grid: 0 }.critical()
        };
        // t(0.975, 19) = 2.093; t(0.9875, 19) = 2.433 (tables).
        assert!((t(1, 20) - 2.093).abs() < 1e-3 && (t(2, 20) - 2.433).abs() < 1e-3);
    }
}
