//! Distributions of durations (`"30s"`, `{ dist = "lognormal", … }`, an
//! empirical CSV of seconds) into [`Dist`].

use super::columns::{Columns, Dialect};
use super::ctx::{Ctx, R};
use crate::dist::Dist;
use crate::scenario::raw::{RawDist, RawDur};

/// Validates a distribution of durations at `field`.
pub(super) fn validate_dist(cx: &Ctx, field: &str, d: &RawDist) -> R<Dist> {
    let t = match d {
        RawDist::Fixed(v) => return Ok(Dist::Deterministic { value: v.0.as_secs_f64() }),
        RawDist::Table(t) => t,
    };
    let secs = |d: Option<RawDur>| d.map(|d| d.0.as_secs_f64());
    let allowed: &[&str] = match t.dist.as_str() {
        "exponential" => &["mean"],
        "lognormal" => &["median", "p95", "mu", "sigma", "mean"],
        "gamma" => &["shape", "scale", "mean"],
        "deterministic" => &["value"],
        "uniform" => &["min", "max"],
        "empirical" => &["file", "column"],
        other => {
            return cx.err(
                format!("{field}.dist"),
                format!("{other:?}: expected one of exponential, lognormal, gamma, deterministic, uniform, empirical"),
            )
        }
    };
    let given: [(&str, bool); 12] = [
        ("mean", t.mean.is_some()),
        ("median", t.median.is_some()),
        ("p95", t.p95.is_some()),
        ("mu", t.mu.is_some()),
        ("sigma", t.sigma.is_some()),
        ("shape", t.shape.is_some()),
        ("scale", t.scale.is_some()),
        ("value", t.value.is_some()),
        ("min", t.min.is_some()),
        ("max", t.max.is_some()),
        ("file", t.file.is_some()),
        ("column", t.column.is_some()),
    ];
    if let Some((k, _)) = given.iter().find(|(k, g)| *g && !allowed.contains(k)) {
        return cx.err(
            format!("{field}.{k}"),
            format!("does not apply to dist = {:?}: expected {}", t.dist, allowed.join(", ")),
        );
    }
    let need = |v: Option<f64>, k: &str| -> R<f64> {
        match v {
            Some(x) => Ok(x),
            None => cx.err(format!("{field}.{k}"), format!("missing: dist = {:?} needs `{k}`", t.dist)),
        }
    };
    let pos = |v: f64, k: &str| -> R<f64> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            cx.err(format!("{field}.{k}"), format!("{v}: expected a finite value > 0"))
        }
    };
    Ok(match t.dist.as_str() {
        "exponential" => Dist::Exponential { mean: pos(need(secs(t.mean), "mean")?, "mean")? },
        "lognormal" => {
            if let (Some(mu), Some(sigma)) = (t.mu, t.sigma) {
                if t.median.is_some() || t.p95.is_some() || t.mean.is_some() {
                    return cx.err(
                        field.to_string(),
                        "give either mu and sigma, or median and p95 (or mean and p95), not both",
                    );
                }
                cx.finite(&format!("{field}.mu"), mu, -50.0, 50.0)?;
                Dist::LogNormal { mu, sigma: pos(sigma, "sigma")? }
            } else {
                let p95 = pos(need(secs(t.p95), "p95")?, "p95")?;
                let median = match (secs(t.median), secs(t.mean)) {
                    (Some(m), None) => pos(m, "median")?,
                    (None, Some(mean)) => {
                        // mean = exp(mu + s²/2), p95 = exp(mu + z s): solve s.
                        let mean = pos(mean, "mean")?;
                        let z = crate::dist::Z95;
                        let c = (p95 / mean).ln();
                        let disc = z * z - 2.0 * c;
                        if disc < 0.0 || p95 <= mean {
                            return cx.err(
                                format!("{field}.p95"),
                                "no lognormal has this mean and p95: p95 must exceed the mean, and not by too much",
                            );
                        }
                        let sigma = z - disc.sqrt();
                        (mean.ln() - sigma * sigma / 2.0).exp()
                    }
                    _ => {
                        return cx
                            .err(field.to_string(), "lognormal needs median and p95, mean and p95, or mu and sigma")
                    }
                };
                if p95 <= median {
                    return cx
                        .err(format!("{field}.p95"), format!("p95 ({p95} s) must exceed the median ({median} s)"));
                }
                Dist::lognormal_from_quantiles(median, p95)
            }
        }
        "gamma" => {
            let shape = pos(need(t.shape, "shape")?, "shape")?;
            let scale = match (secs(t.scale), secs(t.mean)) {
                (Some(s), None) => pos(s, "scale")?,
                (None, Some(m)) => pos(m, "mean")? / shape,
                _ => return cx.err(field.to_string(), "gamma needs shape and either scale or mean"),
            };
            Dist::gamma(shape, scale)
        }
        "deterministic" => Dist::Deterministic { value: need(secs(t.value), "value")? },
        "uniform" => {
            let lo = need(secs(t.min), "min")?;
            let hi = need(secs(t.max), "max")?;
            if hi < lo {
                return cx.err(format!("{field}.max"), format!("max ({hi} s) is below min ({lo} s)"));
            }
            Dist::Uniform { lo, hi }
        }
        "empirical" => {
            let file = t
                .file
                .as_deref()
                .map_or_else(|| cx.err(format!("{field}.file"), "missing: the CSV file of observed durations"), Ok)?;
            Dist::Empirical { values: read_empirical(cx, field, file, t.column.as_deref())? }
        }
        _ => unreachable!("checked above"),
    })
}

/// Most values an empirical distribution may hold (they are kept in memory).
pub const MAX_EMPIRICAL_VALUES: usize = 10_000_000;

/// Reads one column of seconds from a CSV file (with a header row): the
/// column named `column`, or the first.
fn read_empirical(cx: &Ctx, field: &str, file: &str, column: Option<&str>) -> R<Vec<f64>> {
    let full = cx.base.join(file);
    let shown = full.display().to_string();
    let fail = |msg: String| cx.invalid(format!("{field}.file"), format!("{shown}: {msg}"));
    let mut cols = Columns::open(&full, Dialect::Table).map_err(fail)?;
    let col = match column {
        None => 0,
        Some(name) => match cols.find(&[name.trim().to_ascii_lowercase().as_str()]) {
            Some(i) => i,
            None => return Err(fail(format!("no column {name:?} in the header (line 1)"))),
        },
    };
    let mut values = Vec::new();
    while cols.next().map_err(fail)? {
        let line = cols.line();
        if values.len() == MAX_EMPIRICAL_VALUES {
            return Err(fail(format!("line {line}: more than {MAX_EMPIRICAL_VALUES} values")));
        }
        let cell = cols.cell(col, "the duration").map_err(fail)?;
        match cell.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => values.push(v),
            // Not a scenario file: the message quotes nothing of it.
            _ => return Err(fail(format!("line {line}: not a duration in seconds (a finite number >= 0)"))),
        }
    }
    if values.is_empty() {
        return Err(fail("no values: expected a header row and at least one row of seconds".into()));
    }
    Ok(values)
}
