//! Stage two of scenario input: checks every value and resolves units.
//!
//! Each check names the field by its dotted path, says what was found and
//! what would be valid. Nothing here panics on any input.

use std::path::Path;

use super::raw::*;
use super::*;
use crate::time::{format_clock, parse_clock, Tick};

/// Largest number of time-series bins a scenario may ask for.
pub const MAX_BINS: u64 = 1_000_000;

pub(super) struct Ctx<'a> {
    pub path: &'a str,
    pub base: &'a Path,
}

pub(super) type R<T> = Result<T, ScenarioError>;

impl Ctx<'_> {
    pub fn err<T>(&self, field: impl Into<String>, msg: impl Into<String>) -> R<T> {
        Err(ScenarioError::Invalid { path: self.path.to_string(), field: field.into(), msg: msg.into() })
    }

    pub fn count(&self, field: &str, v: i64, min: i64) -> R<u32> {
        if v < min || v > u32::MAX as i64 {
            return self.err(field, format!("{v} is out of range: expected an integer from {min} to {}", u32::MAX));
        }
        Ok(v as u32)
    }

    pub fn finite(&self, field: &str, v: f64, lo: f64, hi: f64) -> R<f64> {
        if !v.is_finite() || v < lo || v > hi {
            return self.err(field, format!("{v} is out of range: expected a finite number from {lo} to {hi}"));
        }
        Ok(v)
    }

    pub fn positive_dur(&self, field: &str, d: RawDur) -> R<Tick> {
        if d.0 == Tick::ZERO {
            return self.err(field, "must be longer than 0s");
        }
        Ok(d.0)
    }
}

pub(super) fn validate(raw: RawScenario, path: &str, base: &Path) -> R<Scenario> {
    let cx = Ctx { path, base };
    let mut warnings = Vec::new();

    let name = raw.name.trim().to_string();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) || name.starts_with('.')
    {
        return cx.err(
            "name",
            format!("{:?}: expected letters, digits, '-', '_' or '.' (it names the output folder)", raw.name),
        );
    }
    if raw.seed > i64::MAX as u64 {
        return cx.err("seed", format!("{}: expected an integer from 0 to {}", raw.seed, i64::MAX));
    }
    let duration = cx.positive_dur("duration", raw.duration)?;
    let bin = match raw.bin {
        Some(b) => cx.positive_dur("bin", b)?,
        None => Tick(duration.0.div_ceil(60)).max(Tick::from_secs(1)),
    };
    let bins = duration.0.div_ceil(bin.0);
    if bins > MAX_BINS {
        return cx.err(
            "bin",
            format!("{bin} over {duration} makes {bins} bins; at most {MAX_BINS} are allowed: widen `bin`"),
        );
    }
    let clock_start = match &raw.clock_start {
        Some(s) => parse_clock(s).or_else(|e| cx.err("clock_start", e.to_string()))?,
        None => 0,
    };
    let warmup = raw.warmup.map_or(Tick::ZERO, |w| w.0);
    let window = match &raw.window {
        Some(w) => Some(parse_window(&cx, "window", w, clock_start, duration)?),
        None => None,
    };

    let classes = validate_classes(&cx, &raw.classes)?;
    let names: Vec<String> = classes.iter().map(|c| c.name.clone()).collect();
    let arrivals = super::arrivals_cfg::validate_arrivals(&cx, &raw.arrivals, duration, warmup, &names, &mut warnings)?;
    let primary = validate_primary(&cx, &raw.primary)?;
    let fallback = match &raw.fallback {
        Some(f) => Some(validate_fallback(&cx, f, &mut warnings)?),
        None => None,
    };
    if fallback.is_none() && classes.iter().any(|c| c.fallback_eligible) {
        warnings
            .push("classes are marked fallback_eligible but there is no [fallback]: they fail like the others".into());
    }
    let admission = validate_admission(&cx, raw.admission.as_ref())?;
    let cost = validate_cost(&cx, raw.cost.as_ref())?;
    let slo = raw.slo.unwrap_or_default().into_iter().collect();
    let initial_calls = match raw.initial.as_ref().and_then(|i| i.calls_in_flight) {
        None => 0,
        Some(n) => {
            let n = cx.count("initial.calls_in_flight", n, 0)? as u64;
            let slots = primary.workers as u64 * primary.calls_per_worker as u64;
            if n > slots {
                return cx
                    .err("initial.calls_in_flight", format!("{n} calls do not fit the {slots} initial primary slots"));
            }
            n
        }
    };

    Ok(Scenario {
        name,
        description: raw.description,
        seed: raw.seed,
        clock_start,
        duration,
        bin,
        warmup,
        window,
        arrivals,
        classes,
        primary,
        fallback,
        admission,
        cost,
        initial_calls,
        slo,
        warnings,
    })
}

/// `"07:00..07:15"` against `clock_start`, as offsets within the run.
pub(crate) fn parse_window_str(text: &str, clock_start: u64, duration: Tick) -> Result<(Tick, Tick), String> {
    let (a, b) = text.split_once("..").ok_or_else(|| format!("{text:?}: expected HH:MM..HH:MM, e.g. 07:00..07:15"))?;
    let off = |s: &str| -> Result<Tick, String> {
        let c = parse_clock(s).map_err(|e| e.to_string())?;
        Ok(Tick::from_secs((c + 86_400 - clock_start) % 86_400))
    };
    let (from, to) = (off(a)?, off(b)?);
    let end = format_clock((clock_start + duration.0 / 1_000_000) as f64);
    if from >= to {
        return Err(format!("{text:?}: the window must end after it starts"));
    }
    if to > duration {
        return Err(format!("{text:?} lies outside the run, which covers {}..{end}", format_clock(clock_start as f64)));
    }
    Ok((from, to))
}

fn parse_window(cx: &Ctx, field: &str, text: &str, clock_start: u64, duration: Tick) -> R<(Tick, Tick)> {
    parse_window_str(text, clock_start, duration).or_else(|m| cx.err(field, m))
}

fn validate_classes(cx: &Ctx, classes: &[RawClass]) -> R<Vec<CallClass>> {
    if classes.is_empty() {
        return cx.err("classes", "no call classes: expected at least one [[classes]] with name, share and duration");
    }
    if classes.len() > u16::MAX as usize {
        return cx.err("classes", format!("{} classes: at most {} are supported", classes.len(), u16::MAX));
    }
    let mut out = Vec::with_capacity(classes.len());
    for (i, c) in classes.iter().enumerate() {
        let f = |name: &str| format!("classes[{i}].{name}");
        if c.name.trim().is_empty() {
            return cx.err(f("name"), "empty class name");
        }
        if classes[..i].iter().any(|o| o.name == c.name) {
            return cx.err(f("name"), format!("duplicate class name {:?}", c.name));
        }
        let share = cx.finite(&f("share"), c.share, 0.0, 1.0)?;
        let duration = validate_dist(cx, &f("duration"), &c.duration)?;
        out.push(CallClass { name: c.name.clone(), share, duration, fallback_eligible: c.fallback_eligible });
    }
    let sum: f64 = out.iter().map(|c| c.share).sum();
    if (sum - 1.0).abs() > 1e-6 {
        return cx.err("classes[*].share", format!("shares sum to {sum}; they must sum to 1"));
    }
    Ok(out)
}

/// Validates a distribution of durations at `field`.
fn validate_dist(cx: &Ctx, field: &str, d: &RawDist) -> R<Dist> {
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

/// Reads one column of seconds from a CSV file (with a header row).
fn read_empirical(cx: &Ctx, field: &str, file: &str, column: Option<&str>) -> R<Vec<f64>> {
    let full = cx.base.join(file);
    let shown = full.display().to_string();
    let fail = |msg: String| cx.err(format!("{field}.file"), format!("{shown}: {msg}"));
    let mut rdr = match csv::ReaderBuilder::new().trim(csv::Trim::All).from_path(&full) {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot read: {e}")),
    };
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => return fail(e.to_string()),
    };
    let col = match column {
        None => 0,
        Some(name) => match headers.iter().position(|h| h == name) {
            Some(i) => i,
            None => {
                return fail(format!("no column {name:?}; the header has {:?}", headers.iter().collect::<Vec<_>>()))
            }
        },
    };
    let mut values = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => return fail(format!("line {line}: {e}")),
        };
        let cell = rec.get(col).unwrap_or("");
        match cell.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => values.push(v),
            _ => return fail(format!("line {line}: {cell:?} is not a duration in seconds (a finite number >= 0)")),
        }
    }
    if values.is_empty() {
        return fail("no values: expected a header row and at least one row of seconds".into());
    }
    Ok(values)
}

fn validate_primary(cx: &Ctx, p: &RawPrimary) -> R<PrimarySpec> {
    let calls_per_worker = cx.count("primary.calls_per_worker", p.calls_per_worker, 1)?;
    let a = p.autoscaler.as_ref();
    let autoscaler = validate_autoscaler(cx, a, p.workers)?;
    // Zero workers only for a scaler that may scale from zero (min = 0).
    let scales = !matches!(autoscaler.policy, PolicyKind::None);
    let min_workers = if scales && autoscaler.min == 0 { 0 } else { 1 };
    let workers = cx.count("primary.workers", p.workers, min_workers)?;
    // Pools are held per worker and per slot: bound them so a typo cannot
    // exhaust memory.
    const MAX_SLOTS: u64 = 100_000_000;
    if autoscaler.max.max(workers) as u64 * calls_per_worker as u64 > MAX_SLOTS {
        return cx.err(
            if autoscaler.max > workers { "primary.autoscaler.max" } else { "primary.workers" },
            format!(
                "{} workers × {calls_per_worker} calls exceeds the limit of {MAX_SLOTS} slots",
                autoscaler.max.max(workers)
            ),
        );
    }
    if workers < autoscaler.min || workers > autoscaler.max {
        return cx.err(
            "primary.workers",
            format!(
                "{workers} lies outside the autoscaler's bounds min = {}, max = {}",
                autoscaler.min, autoscaler.max
            ),
        );
    }
    Ok(PrimarySpec { workers, calls_per_worker, autoscaler })
}

fn validate_autoscaler(cx: &Ctx, a: Option<&RawAutoscaler>, workers: i64) -> R<AutoscalerSpec> {
    let empty = RawAutoscaler::default();
    let raw = a.unwrap_or(&empty);
    let a = &super::presets::apply_autoscaler_preset(raw).or_else(|m| cx.err("primary.autoscaler.preset", m))?;
    let f = |k: &str| format!("primary.autoscaler.{k}");
    let policy_name = a.policy.as_deref().unwrap_or("none");
    let applies: &[&str] = match policy_name {
        "none" => &[],
        "target-utilization" => {
            &["target", "tolerance", "max_step_up", "max_step_up_percent", "max_step_down", "max_step_down_percent"]
        }
        "step" => {
            &["steps", "scale_in", "max_step_up", "max_step_up_percent", "max_step_down", "max_step_down_percent"]
        }
        "scheduled" => &[],
        other => {
            return cx.err(f("policy"), format!("{other:?}: expected none, target-utilization, step or scheduled"))
        }
    };
    let specific = [
        ("target", a.target.is_some()),
        ("tolerance", a.tolerance.is_some()),
        ("steps", a.steps.is_some()),
        ("scale_in", a.scale_in.is_some()),
        ("max_step_up", a.max_step_up.is_some()),
        ("max_step_up_percent", a.max_step_up_percent.is_some()),
        ("max_step_down", a.max_step_down.is_some()),
        ("max_step_down_percent", a.max_step_down_percent.is_some()),
    ];
    if a.preset.is_none() {
        if let Some((k, _)) = specific.iter().find(|(k, g)| *g && !applies.contains(k)) {
            return cx.err(f(k), format!("does not apply to policy = {policy_name:?}"));
        }
    }
    let policy = match policy_name {
        "none" => PolicyKind::None,
        "target-utilization" => PolicyKind::TargetUtilization {
            target: cx.finite(
                &f("target"),
                a.target
                    .map_or_else(|| cx.err(f("target"), "missing: target-utilization needs a target in (0, 1]"), Ok)?,
                1e-6,
                1.0,
            )?,
            tolerance: cx.finite(&f("tolerance"), a.tolerance.unwrap_or(0.0), 0.0, 0.99)?,
        },
        "step" => {
            let raw_steps = a.steps.as_deref().unwrap_or_default();
            if raw_steps.is_empty() {
                return cx.err(f("steps"), "missing: the step policy needs steps = [{ above = 0.8, add = 10 }, …]");
            }
            let mut steps = Vec::new();
            for (i, s) in raw_steps.iter().enumerate() {
                let above = cx.finite(&format!("{}[{i}].above", f("steps")), s.above, 0.0, 10.0)?;
                if steps.last().is_some_and(|&(p, _)| p >= above) {
                    return cx.err(format!("{}[{i}].above", f("steps")), "thresholds must increase");
                }
                steps.push((above, cx.count(&format!("{}[{i}].add", f("steps")), s.add, 1)?));
            }
            let scale_in = match &a.scale_in {
                Some(s) => Some((
                    cx.finite(&f("scale_in.below"), s.below, 0.0, 1.0)?,
                    cx.count(&f("scale_in.remove"), s.remove, 1)?,
                )),
                None => None,
            };
            PolicyKind::Step { steps, scale_in }
        }
        "scheduled" => PolicyKind::Scheduled,
        _ => unreachable!(),
    };
    let fixed = matches!(policy, PolicyKind::None);
    let min = match a.min {
        Some(m) => cx.count(&f("min"), m, 0)?,
        None if fixed => workers.clamp(0, u32::MAX as i64) as u32,
        None => 1.min(workers.max(0) as u32),
    };
    let max = match a.max {
        Some(m) => cx.count(&f("max"), m, 1)?,
        None if fixed => workers.clamp(1, u32::MAX as i64) as u32,
        None => {
            return cx.err(f("max"), format!("missing: policy {policy_name:?} needs an upper bound `max` on workers"))
        }
    };
    if min > max {
        return cx.err(f("min"), format!("min ({min}) exceeds max ({max})"));
    }
    let interval = match a.interval {
        Some(d) => cx.positive_dur(&f("interval"), d)?,
        None => Tick::from_secs(15),
    };
    let provision_delay = match &a.provision_delay {
        Some(d) => validate_dist(cx, &f("provision_delay"), d)?,
        None => Dist::Deterministic { value: 0.0 },
    };
    let mut schedule = Vec::new();
    for (i, s) in a.schedule.as_deref().unwrap_or_default().iter().enumerate() {
        let m = cx.count(&format!("{}[{i}].min", f("schedule")), s.min, 0)?;
        if m > max {
            return cx.err(format!("{}[{i}].min", f("schedule")), format!("{m} exceeds max ({max})"));
        }
        if schedule.last().is_some_and(|&(t, _)| t > s.at.0) {
            return cx.err(format!("{}[{i}].at", f("schedule")), "schedule entries must be in time order");
        }
        schedule.push((s.at.0, m));
    }
    if matches!(policy, PolicyKind::Scheduled) && schedule.is_empty() {
        return cx
            .err(f("schedule"), "missing: the scheduled policy needs schedule = [{ at = \"25m\", min = 600 }, …]");
    }
    let step_limit = |w: Option<i64>, p: Option<f64>, kw: &str, kp: &str| -> R<StepLimit> {
        Ok(StepLimit {
            workers: w.map(|w| cx.count(&f(kw), w, 1)).transpose()?,
            percent: p.map(|p| cx.finite(&f(kp), p, 0.01, 10_000.0)).transpose()?,
        })
    };
    Ok(AutoscalerSpec {
        policy,
        interval,
        window: a.window.map_or(interval, |w| w.0.max(Tick(1))),
        provision_delay,
        min,
        max,
        max_step_up: step_limit(a.max_step_up, a.max_step_up_percent, "max_step_up", "max_step_up_percent")?,
        max_step_down: step_limit(a.max_step_down, a.max_step_down_percent, "max_step_down", "max_step_down_percent")?,
        scale_up_cooldown: a.scale_up_cooldown.map_or(Tick::ZERO, |d| d.0),
        scale_down_cooldown: a.scale_down_cooldown.map_or(Tick::ZERO, |d| d.0),
        scale_down_stabilization: a.scale_down_stabilization.map_or(Tick::ZERO, |d| d.0),
        schedule,
        warm_pool: a.warm_pool.map(|w| cx.count(&f("warm_pool"), w, 0)).transpose()?.unwrap_or(0),
        warm_pool_delay: a.warm_pool_delay.map_or(Tick::ZERO, |d| d.0),
    })
}

fn validate_fallback(cx: &Ctx, raw: &RawFallback, warnings: &mut Vec<String>) -> R<FallbackSpec> {
    let f = |k: &str| format!("fallback.{k}");
    let fb = &super::presets::apply_fallback_preset(raw).or_else(|m| cx.err(f("preset"), m))?;
    let max_concurrency = match fb.max_concurrency {
        Some(m) => cx.count(&f("max_concurrency"), m, 1)?,
        None => return cx.err(f("max_concurrency"), "missing: the fallback pool needs max_concurrency"),
    };
    let cold_start = match &fb.cold_start {
        Some(d) => validate_dist(cx, &f("cold_start"), d)?,
        None => Dist::Deterministic { value: 0.0 },
    };
    let provisioned_concurrency =
        fb.provisioned_concurrency.map(|p| cx.count(&f("provisioned_concurrency"), p, 0)).transpose()?.unwrap_or(0);
    if provisioned_concurrency > max_concurrency {
        return cx.err(
            f("provisioned_concurrency"),
            format!("{provisioned_concurrency} exceeds max_concurrency ({max_concurrency})"),
        );
    }
    let burst_limit = fb.burst_limit.map(|b| cx.count(&f("burst_limit"), b, 1)).transpose()?;
    let scale_rate = fb.scale_rate.map(|b| cx.count(&f("scale_rate"), b, 0)).transpose()?.unwrap_or(0);
    let scale_interval = match fb.scale_interval {
        Some(d) => cx.positive_dur(&f("scale_interval"), d)?,
        None => Tick::from_secs(60),
    };
    let mut health = match &fb.health {
        None => Health::Healthy,
        Some(RawHealth::Mode(m)) => match m.as_str() {
            "healthy" => Health::Healthy,
            "broken" => Health::Broken { from: Tick::ZERO, until: Tick::MAX },
            other => return cx.err(f("health"), format!("{other:?}: expected \"healthy\", \"broken\", {{ degraded = P }} or {{ broken_from = T, broken_until = T }}")),
        },
        Some(RawHealth::Table(t)) => match (t.degraded, t.broken_from, t.broken_until) {
            (Some(p), None, None) => Health::Degraded(cx.finite(&f("health.degraded"), p, 0.0, 1.0)?),
            (None, from, until) if from.is_some() || until.is_some() => {
                let from = from.map_or(Tick::ZERO, |d| d.0);
                let until = until.map_or(Tick::MAX, |d| d.0);
                if until <= from {
                    return cx.err(f("health.broken_until"), "must be later than broken_from");
                }
                Health::Broken { from, until }
            }
            _ => return cx.err(f("health"), "expected { degraded = P } or { broken_from = T, broken_until = T }, not both"),
        },
    };
    if let Some((img, rt)) = super::arch_mismatch(fb.image_arch.as_deref(), fb.runtime_arch.as_deref()) {
        warnings.push(if fb.health.is_none() {
            format!("fallback.image_arch {img} ≠ fallback.runtime_arch {rt}: every fallback start fails (broken) until fixed")
        } else {
            format!("fallback.image_arch {img} ≠ fallback.runtime_arch {rt}: starts fail while fallback.health says broken")
        });
        if fb.health.is_none() {
            health = Health::Broken { from: Tick::ZERO, until: Tick::MAX };
        }
    }
    let canary = match &fb.canary {
        None => None,
        Some(c) => {
            let interval = cx.positive_dur(&f("canary.interval"), c.interval)?;
            let failures_to_alert =
                c.failures_to_alert.map(|n| cx.count(&f("canary.failures_to_alert"), n, 1)).transpose()?.unwrap_or(1);
            let mut on_detect = Vec::new();
            for (i, a) in c.on_detect.as_ref().map(|a| a.0.as_slice()).unwrap_or_default().iter().enumerate() {
                let field = format!("fallback.canary.on_detect[{i}]");
                let primary_min = a.primary_min.map(|m| cx.count(&format!("{field}.primary_min"), m, 1)).transpose()?;
                let act = Action {
                    after: a.after.map_or(Tick::ZERO, |d| d.0),
                    primary_min,
                    stop_routing: a.stop_routing.unwrap_or(false),
                    fix_fallback: a.fix_fallback.unwrap_or(false),
                };
                if act.primary_min.is_none() && !act.stop_routing && !act.fix_fallback {
                    return cx.err(
                        field,
                        "an action needs at least one of primary_min, stop_routing = true, fix_fallback = true",
                    );
                }
                on_detect.push(act);
            }
            Some(CanarySpec { interval, offset: c.offset.map_or(Tick::ZERO, |d| d.0), failures_to_alert, on_detect })
        }
    };
    Ok(FallbackSpec {
        max_concurrency,
        cold_start,
        idle_timeout: fb.idle_timeout.map_or(Tick::from_secs(600), |d| d.0),
        provisioned_concurrency,
        burst_limit,
        scale_rate,
        scale_interval,
        image_arch: fb.image_arch.clone(),
        runtime_arch: fb.runtime_arch.clone(),
        health,
        canary,
    })
}

fn validate_admission(cx: &Ctx, a: Option<&RawAdmission>) -> R<Admission> {
    let Some(a) = a else {
        return Ok(Admission { patience: None, queue_limit: None });
    };
    let patience = match (&a.max_wait, &a.patience) {
        (Some(_), Some(_)) => {
            return cx.err("admission.patience", "give either max_wait (fixed) or patience (a distribution), not both")
        }
        (Some(w), None) if w.0 == Tick::ZERO => None,
        (Some(w), None) => Some(Dist::Deterministic { value: w.0.as_secs_f64() }),
        (None, Some(d)) => Some(validate_dist(cx, "admission.patience", d)?),
        (None, None) => None,
    };
    let queue_limit = a.queue_limit.map(|q| cx.count("admission.queue_limit", q, 0).map(u64::from)).transpose()?;
    if patience.is_none() && queue_limit.is_some() {
        return cx.err("admission.queue_limit", "applies only when calls may wait (max_wait > 0 or patience)");
    }
    Ok(Admission { patience, queue_limit })
}

fn validate_cost(cx: &Ctx, c: Option<&RawCost>) -> R<CostSpec> {
    let Some(c) = c else { return Ok(CostSpec::default()) };
    let v = |x: Option<f64>, k: &str| {
        x.map(|x| cx.finite(&format!("cost.{k}"), x, 0.0, 1e12)).transpose().map(Option::unwrap_or_default)
    };
    Ok(CostSpec {
        primary_worker_hour: v(c.primary_worker_hour, "primary_worker_hour")?,
        fallback_per_invocation: v(c.fallback_per_invocation, "fallback_per_invocation")?,
        fallback_per_second: v(c.fallback_per_second, "fallback_per_second")?,
    })
}
