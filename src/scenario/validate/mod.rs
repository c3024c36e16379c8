//! Stage two of scenario input: checks every value and resolves units.
//!
//! Each check names the field by its dotted path, says what was found and
//! what would be valid. Nothing here panics on any input. One file per
//! section: [`classes`], [`dist`] (durations), [`arrivals`] and [`trace`],
//! [`autoscaler`] (the primary pool), [`fallback`], [`window`] (the
//! reporting window), [`report`] (service-level thresholds); the shared
//! checks are in [`ctx`] and the one CSV reader in [`columns`].

mod arrivals;
mod autoscaler;
mod classes;
mod clients;
mod columns;
mod ctx;
mod dist;
mod drain;
mod fallback;
mod nodes;
mod report;
mod trace;
mod warm_pool;
mod window;

use std::path::Path;

use self::ctx::{Ctx, R};
use self::dist::validate_dist;
use super::raw::{RawAdmission, RawCost, RawScenario};
use super::{Admission, CostSpec, Scenario};
use crate::time::{parse_clock, Tick};

/// Longest scenario name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Largest number of time-series bins a scenario may ask for.
pub const MAX_BINS: u64 = 1_000_000;

pub(crate) fn validate(raw: RawScenario, path: &str, base: &Path) -> R<Scenario> {
    let cx = Ctx { path, base };
    let mut warnings = Vec::new();

    let name = raw.name.trim().to_string();
    if name.chars().count() > MAX_NAME_CHARS {
        return cx.err("name", format!("longer than {MAX_NAME_CHARS} characters (it names the output folder)"));
    }
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

    let classes = classes::validate_classes(&cx, &raw.classes)?;
    let names: Vec<String> = classes.iter().map(|c| c.name.clone()).collect();
    let (arrivals, surge) = arrivals::validate_arrivals(&cx, &raw.arrivals, duration, warmup, &names, &mut warnings)?;
    let mut primary = autoscaler::validate_primary(&cx, &raw.primary)?;
    primary.nodes = nodes::validate_nodes(&cx, &raw.primary, &primary)?;
    nodes::warn_without_start_delay(&primary, &mut warnings);
    let fallback = match &raw.fallback {
        Some(f) => Some(fallback::validate_fallback(&cx, f, &mut warnings)?),
        None => None,
    };
    if fallback.is_none() && classes.iter().any(|c| c.fallback_eligible) {
        warnings
            .push("classes are marked fallback_eligible but there is no [fallback]: they fail like the others".into());
    }
    let mut admission = validate_admission(&cx, raw.admission.as_ref())?;
    let clients = clients::validate_clients(
        &cx,
        raw.clients.as_ref(),
        raw.report.as_ref(),
        raw.admission.as_ref(),
        &mut admission,
        &arrivals,
        primary.drain_can_cut(),
    )?;
    let mut cost = validate_cost(&cx, raw.cost.as_ref())?;
    if cost.fallback_slot_hour > 0.0 {
        match &fallback {
            Some(f) => cost.fallback_slots = f.max_concurrency as f64,
            None => return cx.err("cost.fallback_slot_hour", "prices fallback slots, but there is no [fallback]"),
        }
    }
    if cost.node_hour > 0.0 && primary.nodes.is_none() {
        return cx.err("cost.node_hour", "prices nodes, but there is no [primary.nodes] layer to bill");
    }
    let slo = raw.slo.unwrap_or_default().into_iter().collect();
    let service_levels = report::validate_service_levels(&cx, raw.report.as_ref(), admission.waits)?;
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
        surge,
        classes,
        primary,
        fallback,
        admission,
        cost,
        initial_calls,
        clients,
        slo,
        service_levels,
        warnings,
    })
}

fn parse_window(cx: &Ctx, field: &str, text: &str, clock_start: u64, duration: Tick) -> R<(Tick, Tick)> {
    window::parse_window(text, clock_start, duration).or_else(|m| cx.err(field, m))
}

fn validate_admission(cx: &Ctx, a: Option<&RawAdmission>) -> R<Admission> {
    let Some(a) = a else {
        return Ok(Admission { waits: false, patience: None, max_wait: None, queue_limit: None });
    };
    let patience = a.patience.as_ref().map(|d| validate_dist(cx, "admission.patience", d)).transpose()?;
    // max_wait: absent → no limit of the system's own (calls wait only if
    // they have a patience); "0s" → no waiting; "unlimited" → wait forever.
    let (waits, max_wait) = match (a.max_wait.map(|l| l.0), &patience) {
        (Some(Some(Tick::ZERO)), Some(_)) => {
            return cx.err("admission.max_wait", "\"0s\" means calls never wait, so `patience` would never apply; give max_wait > 0, \"unlimited\", or drop patience")
        }
        (Some(Some(Tick::ZERO)), None) => (false, None),
        (Some(limit), _) => (true, limit),
        (None, p) => (p.is_some(), None),
    };
    let queue_limit = a.queue_limit.map(|q| cx.count("admission.queue_limit", q, 0).map(u64::from)).transpose()?;
    if !waits && queue_limit.is_some() {
        return cx.err(
            "admission.queue_limit",
            "applies only when calls may wait (max_wait > 0, \"unlimited\", or patience)",
        );
    }
    Ok(Admission { waits, patience, max_wait, queue_limit })
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
        node_hour: v(c.node_hour, "node_hour")?,
        fallback_slot_hour: v(c.fallback_slot_hour, "fallback_slot_hour")?,
        fallback_slots: 0.0,
    })
}
