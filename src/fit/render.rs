//! The fitted scenario as TOML text, drawn from a [`Fit`]. Every estimate
//! carries a comment with its value, method and sample size; what a log
//! cannot tell (capacity, scaler, fallback eligibility, a class without
//! durations) is a `# PLACEHOLDER` with a value that validates.

use std::fmt::Write;

use super::durations::DurationFit;
use super::{ClassFit, Fit};
use crate::fmt::sig;
use crate::time::Tick;

/// Mean duration assumed for a class without durations (a placeholder).
const PLACEHOLDER_MEAN_S: f64 = 180.0;

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A float as TOML (always with a decimal point or exponent).
fn f(v: f64) -> String {
    format!("{v:?}")
}

fn secs(v: f64) -> String {
    format!("{} s", sig(v, 4))
}

/// Mean duration (seconds) of a class's chosen law, if it has one.
fn mean_s(d: &DurationFit) -> Option<f64> {
    match d.chosen {
        "lognormal" => d.lognormal.as_ref().map(|l| (l.mu + l.sigma * l.sigma / 2.0).exp()),
        "gamma" => d.gamma.as_ref().map(|g| g.shape * g.scale_s),
        "deterministic" => d.empirical.as_ref().map(|e| e.mean_s),
        _ => None,
    }
}

/// The `duration = …` line of a class, with its comment lines above.
fn duration_lines(c: &ClassFit, out: &mut String) {
    let d = &c.durations;
    let used = format!(
        "{} calls with a duration (left out: {} without one, {} not served{})",
        d.n,
        c.without_duration,
        c.unserved_skipped,
        if d.zeros > 0 { format!(", {} of zero length", d.zeros) } else { String::new() }
    );
    let emp = d.empirical.as_ref().map(|e| {
        format!(
            "# empirical (sample of {}): median {} (95% CI {} to {}), mean {}, p95 {}",
            d.sample,
            secs(e.median_s),
            secs(e.median_ci95[0]),
            secs(e.median_ci95[1]),
            secs(e.mean_s),
            secs(e.p95_s)
        )
    });
    let ks_note = format!("KS distance on a seeded sample of {} values", d.sample);
    let ln = d.lognormal.as_ref().map(|l| {
        format!(
            "# lognormal by MLE: mu = {}, sigma = {} (median {}), {ks_note}: {}",
            sig(l.mu, 5),
            sig(l.sigma, 4),
            secs(l.median_s),
            sig(l.ks, 3)
        )
    });
    let ga = d.gamma.as_ref().map(|g| {
        format!(
            "# gamma by MLE: shape = {}, scale = {} (median {}), {ks_note}: {}",
            sig(g.shape, 4),
            secs(g.scale_s),
            secs(g.median_s),
            sig(g.ks, 3)
        )
    });
    let _ = writeln!(out, "# duration from {used}");
    for l in [emp, ln, ga].into_iter().flatten() {
        let _ = writeln!(out, "{l}");
    }
    match d.chosen {
        "lognormal" | "gamma" => {
            let _ = writeln!(out, "# used: {} (the smaller KS distance; the other is reported above)", d.chosen);
        }
        _ => {}
    }
    let line = match (d.chosen, &d.lognormal, &d.gamma) {
        ("lognormal", Some(l), _) => {
            format!("duration = {{ dist = \"lognormal\", mu = {}, sigma = {} }}", f(l.mu), f(l.sigma))
        }
        ("gamma", _, Some(g)) => {
            format!("duration = {{ dist = \"gamma\", shape = {}, scale = {} }}", f(g.shape), f(g.scale_s))
        }
        ("deterministic", _, _) if d.empirical.as_ref().is_some_and(|e| e.mean_s > 0.0) => {
            let v = d.empirical.as_ref().map_or(0.0, |e| e.mean_s);
            format!("duration = {}   # every duration in the log is {}", f(v), secs(v))
        }
        _ => format!(
            "duration = {{ dist = \"exponential\", mean = \"{}\" }}   # PLACEHOLDER: no usable durations in the log",
            Tick::from_secs_f64(PLACEHOLDER_MEAN_S)
        ),
    };
    let _ = writeln!(out, "{line}");
}

/// The scenario TOML for `fit`, named `name`.
pub fn scenario_toml(fit: &Fit, name: &str) -> String {
    let mut o = String::new();
    let w = &mut o;
    let _ = writeln!(w, "# Fitted by `surgesim fit` {} from {} calls of {}.", fit.surgesim_version, fit.rows, fit.log);
    let _ = writeln!(
        w,
        "# Every estimate says its value, method and sample size (fit.json beside this file has them all)."
    );
    let _ =
        writeln!(w, "# PLACEHOLDER marks what a log cannot tell: replace it, or calibrate it against observed counts.");
    let _ = writeln!(w, "name = {}", q(name));
    let _ = writeln!(w, "description = {}", q(&format!("fitted from {}", fit.log)));
    let _ = writeln!(w, "seed = 1");
    let origin = fit.origin.as_deref().map(|o| format!(", the log's {o}")).unwrap_or_default();
    let _ = writeln!(w, "clock_start = {}   # the start{origin}", q(&fit.clock_start));
    let bins = fit.rate.bins.len();
    let _ = writeln!(
        w,
        "duration = \"{}\"   # {bins} bins from the start to the last arrival",
        Tick::from_secs_f64(fit.span_s)
    );
    let _ = writeln!(w, "bin = \"{}\"", Tick::from_secs_f64(fit.bin_s));
    let _ = writeln!(w, "\n[arrivals]\nkind = \"poisson\"");
    let calls: u64 = fit.rate.segments.iter().map(|s| s.calls).sum();
    let _ = writeln!(
        w,
        "# piecewise-constant rate of {calls} calls (failed ones included), {} segment{}: {}",
        fit.rate.segments.len(),
        if fit.rate.segments.len() == 1 { "" } else { "s" },
        fit.rate.method
    );
    let _ = writeln!(w, "rate = [");
    for s in &fit.rate.segments {
        let _ = writeln!(
            w,
            "  {{ at = \"{}\", per_s = {} }},   # {}/s ± {} (SE), {} calls in {}",
            Tick::from_secs_f64(s.from_s),
            f(s.per_s),
            sig(s.per_s, 4),
            sig(s.se_per_s, 2),
            s.calls,
            Tick::from_secs_f64(s.to_s - s.from_s)
        );
    }
    let _ = writeln!(w, "]");
    let total: u64 = fit.classes.iter().map(|c| c.calls).sum();
    let mut shares: Vec<f64> = fit.classes.iter().map(|c| c.share).collect();
    // Shares as written sum to 1 exactly: the last takes the remainder.
    if let Some((last, rest)) = shares.split_last_mut() {
        *last = (1.0 - rest.iter().sum::<f64>()).max(0.0);
    }
    for (c, share) in fit.classes.iter().zip(shares) {
        let _ = writeln!(w, "\n[[classes]]\nname = {}", q(&c.name));
        let _ = writeln!(
            w,
            "share = {}   # {} of {total} calls (every outcome); 95% CI {} to {} (Wilson)",
            f(share),
            c.calls,
            sig(c.share_ci95[0], 4),
            sig(c.share_ci95[1], 4)
        );
        duration_lines(c, w);
        let _ = writeln!(
            w,
            "fallback_eligible = false   # PLACEHOLDER: a log does not say which calls a fallback may take"
        );
    }
    // Capacity is not in a log: offer the busiest segment's load with 25 % headroom.
    let peak = fit.rate.segments.iter().map(|s| s.per_s).fold(0.0, f64::max);
    let mean: f64 =
        fit.classes.iter().map(|c| c.share * mean_s(&c.durations).unwrap_or(PLACEHOLDER_MEAN_S)).sum::<f64>();
    let load = peak * mean;
    let in_flight = fit.in_flight_at_start.as_ref().map_or(0, |i| i.calls);
    let workers = ((load * 1.25).ceil() as u64).max(in_flight).clamp(1, u32::MAX as u64 / 2);
    if let Some(i) = &fit.in_flight_at_start {
        let _ = writeln!(w, "\n[initial]\ncalls_in_flight = {}   # {}", i.calls, i.method);
    }
    let _ = writeln!(w, "\n[primary]");
    let _ = writeln!(
        w,
        "# PLACEHOLDER: capacity is not in a log. This is 1.25 × the busiest segment's offered load \
         (Little's law: {}/s × mean duration {} = {} calls in service)",
        sig(peak, 4),
        secs(mean),
        sig(load, 4)
    );
    let _ = writeln!(w, "workers = {workers}   # PLACEHOLDER");
    let _ = writeln!(w, "calls_per_worker = 1   # PLACEHOLDER");
    let _ = writeln!(w, "\n[primary.autoscaler]");
    let _ = writeln!(w, "policy = \"none\"   # PLACEHOLDER: the scaler's settings are not in a log");
    o
}
