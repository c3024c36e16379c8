//! Service-level objectives: thresholds on metrics, judged on confidence
//! intervals.
//!
//! # The rule
//! An objective `metric <= threshold` passes only when the *upper* bound of
//! the metric's 95 % confidence interval over the replications is at or
//! below the threshold (`>=`: the lower bound at or above). With a single
//! replication there is no interval and the point estimate is judged. So a
//! pass means "met, with 95 % confidence", never "met on average".
//!
//! # Syntax
//! In a scenario's `[slo]` table: `max_<metric> = X` (metric ≤ X) and
//! `min_<metric> = X` (metric ≥ X), where `<metric>` is any name of
//! `summary.json`'s `metrics` (dots allowed inside quotes:
//! `"max_window.failed" = 100`). `max_failed_calls` is an alias of
//! `max_failed`. Two reserved keys: `replications` (default 20) and
//! `confidence` (default 0.95). On the command line: `failure_rate<=0.001`.
//!
//! # Quantiles over replications
//! `p95(window.failed) <= 100` (in `[slo]`: `"max_p95(window.failed)" =
//! 100`) bounds the 95th percentile of the metric *over replications*:
//! with a family of surges (one drawn per replication) it reads "met in
//! 95 % of the surges". Any `pQ` with 0 < Q < 100 (`p50`, `p99.9`).
//! With the run values sorted, `x(1) <= … <= x(n)`, and `q = Q/100`:
//! - the estimate is the order statistic `x(⌈n·q⌉)` (the inverse of the
//!   empirical distribution function);
//! - the interval at confidence `c` (α = 1 − c) is `[x(l), x(u)]`, the
//!   distribution-free interval of the quantile from the binomial law:
//!   with B ~ Binomial(n, q), `u` is the smallest index with
//!   P(B ≤ u − 1) ≥ 1 − α/2 and `l` the largest with P(B ≥ l) ≥ 1 − α/2,
//!   so each side holds with probability at least 1 − α/2 (exactly for
//!   continuous metrics, at least for counts with ties);
//! - with too few runs for an index (u > n, or l < 1) that bound is
//!   infinite: `p95 <= X` needs n ≥ ln(α/2)/ln(q) runs (72 at 95 %) before
//!   it can pass.

use std::fmt;

use crate::experiment::{t_quantile, Aggregate};
use crate::input::{clip_plain, clip_quoted};
use crate::result::metric_names;
use crate::scenario::Scenario;

/// Comparison of an objective.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Op {
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = ">=")]
    AtLeast,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::AtMost => "<=",
            Op::AtLeast => ">=",
        })
    }
}

/// One objective.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Objective {
    /// As written (`max_failure_rate`, `failure_rate<=0.001`).
    pub key: String,
    pub metric: String,
    /// `pQ(metric)`: the quantile q = Q/100 of the metric over
    /// replications is judged instead of its mean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantile: Option<f64>,
    pub op: Op,
    pub threshold: f64,
}

/// The objectives of a scenario and how to judge them.
#[derive(Clone, Debug, PartialEq)]
pub struct SloSet {
    pub objectives: Vec<Objective>,
    pub replications: u64,
    pub confidence: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SloError {
    #[error("[slo] `{}`: unknown metric `{}`; valid metrics: {valid}", clip_plain(.key), clip_plain(.metric))]
    UnknownMetric { key: String, metric: String, valid: String },
    #[error("[slo] `{}`: {}", clip_plain(.key), clip_quoted(.msg))]
    Malformed { key: String, msg: String },
}

fn number(key: &str, v: &toml::Value) -> Result<f64, SloError> {
    let x = match v {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(f) => *f,
        other => {
            return Err(SloError::Malformed {
                key: key.into(),
                msg: format!("{} is not a number: expected e.g. 0.001", clip_plain(&other.to_string())),
            })
        }
    };
    if !x.is_finite() {
        return Err(SloError::Malformed { key: key.into(), msg: format!("{x} is not a finite number") });
    }
    Ok(x)
}

fn check_metric(key: &str, metric: &str, valid: &[String]) -> Result<(), SloError> {
    if valid.iter().any(|v| v == metric) {
        Ok(())
    } else {
        Err(SloError::UnknownMetric { key: key.into(), metric: metric.into(), valid: valid.join(", ") })
    }
}

impl SloSet {
    /// The `[slo]` block of `sc`, checked against the metrics its runs
    /// produce. Every command that loads a scenario checks it so (a block
    /// that `check` refuses is refused by `validate` and `run` too).
    pub fn of(sc: &Scenario) -> Result<SloSet, SloError> {
        SloSet::from_table(&sc.slo, &metric_names(sc))
    }

    /// Parses a scenario's `[slo]` entries against the metric names its
    /// runs produce.
    pub fn from_table(entries: &[(String, toml::Value)], valid: &[String]) -> Result<SloSet, SloError> {
        let mut set = SloSet { objectives: Vec::new(), replications: 20, confidence: 0.95 };
        // `max_window.failed = 3` written unquoted is a nested table in TOML.
        let mut flat: Vec<(String, toml::Value)> = Vec::new();
        for (key, v) in entries {
            flatten(key, v, &mut flat);
        }
        for (key, v) in &flat {
            match key.as_str() {
                "replications" => {
                    let n = number(key, v)?;
                    if !(1.0..=10_000.0).contains(&n) || n.fract() != 0.0 {
                        return Err(SloError::Malformed {
                            key: key.clone(),
                            msg: format!("{n}: expected an integer from 1 to 10000"),
                        });
                    }
                    set.replications = n as u64;
                }
                "confidence" => {
                    let c = number(key, v)?;
                    if !(0.5..1.0).contains(&c) {
                        return Err(SloError::Malformed {
                            key: key.clone(),
                            msg: format!("{c}: expected a level in [0.5, 1)"),
                        });
                    }
                    set.confidence = c;
                }
                _ => {
                    let (op, metric) = if let Some(m) = key.strip_prefix("max_") {
                        (Op::AtMost, m)
                    } else if let Some(m) = key.strip_prefix("min_") {
                        (Op::AtLeast, m)
                    } else {
                        return Err(SloError::Malformed {
                            key: key.clone(),
                            msg: "expected max_<metric>, min_<metric>, replications or confidence".into(),
                        });
                    };
                    let (quantile, metric) = split_quantile(key, metric)?;
                    let metric = if metric == "failed_calls" { "failed" } else { metric };
                    check_metric(key, metric, valid)?;
                    set.objectives.push(Objective {
                        key: key.clone(),
                        metric: metric.into(),
                        quantile,
                        op,
                        threshold: number(key, v)?,
                    });
                }
            }
        }
        Ok(set)
    }
}

/// `p95(window.failed)` → (Some(0.95), "window.failed"); a plain metric
/// name is returned as it is.
fn split_quantile<'a>(key: &str, text: &'a str) -> Result<(Option<f64>, &'a str), SloError> {
    let t = text.trim();
    let Some((head, rest)) = t.split_once('(') else { return Ok((None, t)) };
    let bad = |msg: String| SloError::Malformed { key: key.into(), msg };
    let Some(inner) = rest.strip_suffix(')') else {
        return Err(bad(format!("{t:?}: expected pQ(METRIC), e.g. p95(window.failed)")));
    };
    let q = head
        .trim()
        .strip_prefix('p')
        .and_then(|p| p.parse::<f64>().ok())
        .filter(|q| q.is_finite() && *q > 0.0 && *q < 100.0)
        .ok_or_else(|| {
            bad(format!("{t:?}: expected pQ(METRIC) with 0 < Q < 100, e.g. p95(window.failed) or p99.9(failed)"))
        })?;
    Ok((Some(q / 100.0), inner.trim()))
}

fn flatten(key: &str, v: &toml::Value, out: &mut Vec<(String, toml::Value)>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                flatten(&format!("{key}.{k}"), v, out);
            }
        }
        v => out.push((key.to_string(), v.clone())),
    }
}

impl Objective {
    /// Parses `metric<=X` / `metric>=X` (also `<`, `>` read as `<=`, `>=`).
    pub fn parse(expr: &str, valid: &[String]) -> Result<Objective, SloError> {
        let bad = |msg: &str| SloError::Malformed { key: expr.into(), msg: msg.into() };
        let (metric, op, rest) = if let Some((m, r)) = expr.split_once("<=") {
            (m, Op::AtMost, r)
        } else if let Some((m, r)) = expr.split_once(">=") {
            (m, Op::AtLeast, r)
        } else if let Some((m, r)) = expr.split_once('<') {
            (m, Op::AtMost, r)
        } else if let Some((m, r)) = expr.split_once('>') {
            (m, Op::AtLeast, r)
        } else {
            return Err(bad("expected METRIC<=VALUE or METRIC>=VALUE, e.g. failure_rate<=0.001"));
        };
        let (quantile, metric) = split_quantile(expr, metric)?;
        check_metric(expr, metric, valid)?;
        let threshold: f64 = rest.trim().parse().map_err(|_| bad(&format!("{:?} is not a number", rest.trim())))?;
        if !threshold.is_finite() {
            return Err(bad("the threshold must be finite"));
        }
        Ok(Objective { key: expr.into(), metric: metric.into(), quantile, op, threshold })
    }

    /// What is judged: the metric, or `p95(metric)`.
    pub fn label(&self) -> String {
        match self.quantile {
            Some(q) => format!("p{}({})", crate::fmt::num(q * 100.0), self.metric),
            None => self.metric.clone(),
        }
    }

    /// Judges the objective on `agg` at `confidence`.
    pub fn judge(&self, agg: &Aggregate, confidence: f64) -> Verdict {
        self.judge_values(&agg.metric_values(&self.metric), confidence)
    }

    /// Judges the objective on the metric's values, one per replication
    /// (runs where it did not apply left out). For `pQ(metric)` the
    /// verdict's `mean` is the quantile's estimate (see the module notes).
    pub fn judge_values(&self, values: &[f64], confidence: f64) -> Verdict {
        let n = values.len();
        let (mean, lo, hi) = match self.quantile {
            Some(q) => quantile_interval(values, q, confidence),
            None => {
                let mean = if n == 0 { f64::NAN } else { values.iter().sum::<f64>() / n as f64 };
                let half = if n >= 2 {
                    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
                    t_quantile(confidence, (n - 1) as f64) * var.sqrt() / (n as f64).sqrt()
                } else {
                    0.0
                };
                (mean, mean - half, mean + half)
            }
        };
        let (bound, margin) = match self.op {
            Op::AtMost => (hi, self.threshold - hi),
            Op::AtLeast => (lo, lo - self.threshold),
        };
        // A metric that applied to no run (e.g. a detection time) fails.
        let pass = n > 0 && margin >= 0.0;
        Verdict {
            objective: self.clone(),
            mean,
            ci: if n >= 2 || (n == 1 && self.quantile.is_some()) { Some([lo, hi]) } else { None },
            bound,
            margin,
            runs: n,
            pass,
        }
    }
}

/// The 1-based indices `(estimate, l, u)` of the order statistics that
/// estimate and bound the `q` quantile of `n` runs at `confidence` (see
/// the module notes); `l` is 0 and `u` is n + 1 where no order statistic
/// reaches the confidence.
pub fn quantile_indices(n: usize, q: f64, confidence: f64) -> (usize, usize, usize) {
    use statrs::distribution::{Binomial, DiscreteCDF};
    if n == 0 {
        return (0, 0, 1);
    }
    let est = ((n as f64 * q).ceil() as usize).clamp(1, n);
    let need = 1.0 - (1.0 - confidence) / 2.0;
    let b = Binomial::new(q, n as u64).expect("0 < q < 1");
    // P(B <= k - 1) grows with k: the first k reaching `need`.
    let u = (1..=n).find(|&k| b.cdf(k as u64 - 1) >= need).unwrap_or(n + 1);
    // P(B >= k) = 1 - P(B <= k - 1) shrinks with k: the last k reaching it.
    let l = (1..=n).rev().find(|&k| 1.0 - b.cdf(k as u64 - 1) >= need).unwrap_or(0);
    (est, l, u)
}

/// Estimate and interval of the `q` quantile of `values`.
fn quantile_interval(values: &[f64], q: f64, confidence: f64) -> (f64, f64, f64) {
    let mut x = values.to_vec();
    x.sort_by(f64::total_cmp);
    let n = x.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let (est, l, u) = quantile_indices(n, q, confidence);
    let lo = if l >= 1 { x[l - 1] } else { f64::NEG_INFINITY };
    let hi = if u <= n { x[u - 1] } else { f64::INFINITY };
    (x[est - 1], lo, hi)
}

/// The judgement of one objective.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Verdict {
    pub objective: Objective,
    pub mean: f64,
    /// Confidence interval of the mean (absent with fewer than 2 runs).
    pub ci: Option<[f64; 2]>,
    /// The interval bound that was compared with the threshold.
    pub bound: f64,
    /// How far the bound is on the good side of the threshold (negative: violated).
    pub margin: f64,
    pub runs: usize,
    pub pass: bool,
}

impl Verdict {
    /// Whether even the interval's good-side bound lies on the bad side of
    /// the threshold: more runs would not make it pass.
    pub fn clearly_fails(&self) -> bool {
        self.ci.is_some_and(|[lo, hi]| match self.objective.op {
            Op::AtMost => lo > self.objective.threshold,
            Op::AtLeast => hi < self.objective.threshold,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Vec<String> {
        ["failed", "failure_rate", "window.failed"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_table_entries_and_aliases() {
        let entries = vec![
            ("max_failed_calls".to_string(), toml::Value::Integer(0)),
            ("min_failure_rate".to_string(), toml::Value::Float(0.5)),
            ("max_window.failed".to_string(), toml::Value::Integer(3)),
            ("replications".to_string(), toml::Value::Integer(5)),
        ];
        let s = SloSet::from_table(&entries, &valid()).unwrap();
        assert_eq!(s.replications, 5);
        assert_eq!(s.objectives[0].metric, "failed");
        assert_eq!(s.objectives[1].op, Op::AtLeast);
        assert_eq!(s.objectives[2].metric, "window.failed");
    }

    #[test]
    fn unknown_metrics_and_malformed_thresholds_are_errors() {
        let e = SloSet::from_table(&[("max_faild".into(), toml::Value::Integer(0))], &valid()).unwrap_err();
        assert!(e.to_string().contains("faild") && e.to_string().contains("failure_rate"));
        assert!(SloSet::from_table(&[("max_failed".into(), toml::Value::String("x".into()))], &valid()).is_err());
        assert!(SloSet::from_table(&[("failed".into(), toml::Value::Integer(1))], &valid()).is_err());
        assert!(Objective::parse("failure_rate<=abc", &valid()).is_err());
        assert!(Objective::parse("nope<=1", &valid()).is_err());
        let o = Objective::parse(" failure_rate <= 0.001 ", &valid()).unwrap();
        assert_eq!((o.op, o.threshold), (Op::AtMost, 0.001));
    }

    fn objective(op: Op, threshold: f64) -> Objective {
        Objective { key: "k".into(), metric: "failed".into(), quantile: None, op, threshold }
    }

    /// Five replications 1, 2, 3, 4, 5: mean 3, sample SD √2.5, standard
    /// error √0.5, and t(0.975, 4 df) = 2.776445105 from the tables, so the
    /// 95 % interval is 3 ± 1.963243.
    const FIVE: [f64; 5] = [1.0, 2.0, 3.0, 4.0, 5.0];
    const HALF: f64 = 2.776_445_105 * 0.707_106_781_186_547_5;

    #[track_caller]
    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }

    #[test]
    fn at_most_is_judged_on_the_upper_bound_not_the_mean() {
        // The mean (3) meets `<= 4`; the upper bound (4.96) does not.
        let v = objective(Op::AtMost, 4.0).judge_values(&FIVE, 0.95);
        assert!(!v.pass);
        close(v.mean, 3.0);
        close(v.bound, 3.0 + HALF);
        close(v.margin, 4.0 - (3.0 + HALF));
        let [lo, hi] = v.ci.unwrap();
        close(lo, 3.0 - HALF);
        close(hi, 3.0 + HALF);
        assert_eq!(v.runs, 5);
        // Above the upper bound it passes, with that margin.
        let v = objective(Op::AtMost, 5.0).judge_values(&FIVE, 0.95);
        assert!(v.pass);
        close(v.margin, 5.0 - (3.0 + HALF));
    }

    #[test]
    fn at_least_is_judged_on_the_lower_bound_not_the_mean() {
        // The mean (3) meets `>= 2`; the lower bound (1.04) does not.
        let v = objective(Op::AtLeast, 2.0).judge_values(&FIVE, 0.95);
        assert!(!v.pass);
        close(v.bound, 3.0 - HALF);
        close(v.margin, (3.0 - HALF) - 2.0);
        let v = objective(Op::AtLeast, 1.0).judge_values(&FIVE, 0.95);
        assert!(v.pass);
        close(v.margin, (3.0 - HALF) - 1.0);
    }

    #[test]
    fn a_bound_exactly_on_the_threshold_passes() {
        // Identical values: no spread, the bound is the value itself.
        let v = objective(Op::AtMost, 2.5).judge_values(&[2.5, 2.5, 2.5], 0.95);
        assert!(v.pass && v.margin == 0.0 && v.bound == 2.5);
        let v = objective(Op::AtLeast, 2.5).judge_values(&[2.5, 2.5, 2.5], 0.95);
        assert!(v.pass && v.margin == 0.0);
    }

    #[test]
    fn a_higher_confidence_widens_the_interval() {
        // t(0.995, 4 df) = 4.604094871 from the tables.
        let v = objective(Op::AtMost, 5.0).judge_values(&FIVE, 0.99);
        close(v.bound, 3.0 + 4.604_094_871 * 0.707_106_781_186_547_5);
        assert!(!v.pass, "met at 95 %, not at 99 %");
    }

    #[test]
    fn one_replication_is_judged_on_its_value_and_none_fails() {
        let v = objective(Op::AtMost, 4.0).judge_values(&[4.0], 0.95);
        assert!(v.pass && v.ci.is_none() && v.bound == 4.0 && v.runs == 1);
        assert!(!objective(Op::AtMost, 4.0).judge_values(&[4.5], 0.95).pass);
        let v = objective(Op::AtMost, 4.0).judge_values(&[], 0.95);
        assert!(!v.pass && v.runs == 0 && v.ci.is_none(), "a metric that applied to no run fails");
    }

    /// The binomial law worked out here, term by term (not with statrs).
    fn binom_cdf(n: usize, q: f64, k: usize) -> f64 {
        let mut c = 1.0; // C(n, 0)
        let mut sum = 0.0;
        for j in 0..=k.min(n) {
            if j > 0 {
                c *= (n - j + 1) as f64 / j as f64;
            }
            sum += c * q.powi(j as i32) * (1.0 - q).powi((n - j) as i32);
        }
        sum
    }

    #[test]
    fn quantile_order_statistics() {
        // p95 at 95 %: the upper bound is x(n) once 1 − 0.95^n ≥ 0.975,
        // i.e. from n = 72 (1 − 0.95^71 = 0.9738, 1 − 0.95^72 = 0.9751).
        assert_eq!(quantile_indices(71, 0.95, 0.95).2, 72, "no upper bound with 71 runs");
        assert_eq!(quantile_indices(72, 0.95, 0.95).2, 72);
        // The estimate is x(⌈nq⌉): the 19th of 20 for p95, the 10th of 20 for p50.
        assert_eq!(quantile_indices(20, 0.95, 0.95).0, 19);
        assert_eq!(quantile_indices(20, 0.5, 0.95).0, 10);
        assert_eq!(quantile_indices(21, 0.5, 0.95).0, 11);
        // Every (n, q): u is the first index with P(B ≤ u−1) ≥ 0.975 and l
        // the last with P(B ≥ l) ≥ 0.975.
        for (n, q) in [(50, 0.5), (200, 0.9), (300, 0.95), (30, 0.2)] {
            let (_, l, u) = quantile_indices(n, q, 0.95);
            assert!(binom_cdf(n, q, u - 1) >= 0.975 && binom_cdf(n, q, u - 2) < 0.975, "u {u} for {n}, {q}");
            assert!(1.0 - binom_cdf(n, q, l - 1) >= 0.975 && 1.0 - binom_cdf(n, q, l) < 0.975, "l {l} for {n}, {q}");
        }
    }

    #[test]
    fn quantile_objectives_parse_and_judge_on_the_order_statistic() {
        let o = Objective::parse("p95(window.failed) <= 100", &valid()).unwrap();
        assert_eq!(
            (o.quantile, o.metric.as_str(), o.label()),
            (Some(0.95), "window.failed", "p95(window.failed)".into())
        );
        let s = SloSet::from_table(&[("max_p99.9(failed)".into(), toml::Value::Integer(3))], &valid()).unwrap();
        assert!((s.objectives[0].quantile.unwrap() - 0.999).abs() < 1e-12);
        for bad in ["p0(failed)<=1", "p100(failed)<=1", "q95(failed)<=1", "p95(failed<=1", "p95(nope)<=1"] {
            assert!(Objective::parse(bad, &valid()).is_err(), "{bad}");
        }
        // 100 runs 1..=100: p95 estimate x(95) = 95; the upper bound is
        // x(u) with u from the binomial law (above).
        let xs: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let (_, l, u) = quantile_indices(100, 0.95, 0.95);
        let v = o.judge_values(&xs, 0.95);
        assert_eq!(v.mean, 95.0);
        assert_eq!(v.ci, Some([l as f64, u as f64]));
        assert_eq!(v.bound, u as f64);
        // Too few runs: the bound is infinite and `<=` cannot pass.
        let v = o.judge_values(&xs[..50], 0.95);
        assert!(!v.pass && v.bound.is_infinite());
    }
}
