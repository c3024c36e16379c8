//! `[clients]` (timeouts and retries) and `[report]` into
//! [`ClientsSpec`], rejecting contradictions: a retry table without `on`,
//! a budget or attempts that allow no retry, jitter on a plain
//! distribution, a timeout where calls never wait, a retry on a hang-up or
//! a drain's cut-off that cannot happen.

use super::ctx::{short_num, Ctx, R};
use super::dist::validate_dist;
use crate::arrivals::ArrivalSpec;
use crate::scenario::clients::{
    ClientsSpec, Jitter, RawBackoff, RawClients, RawRetry, RetryDelay, RetrySpec, ABANDONED, ATTEMPT_REASONS,
    DEFAULT_BUDGET_WINDOW, DEFAULT_RECOVERED_BELOW, DRAIN_TIMEOUT,
};
use crate::scenario::raw::RawReport;
use crate::scenario::raw::{RawAdmission, RawDist};
use crate::scenario::Admission;
use crate::time::Tick;

pub(super) fn validate_clients(
    cx: &Ctx,
    c: Option<&RawClients>,
    report: Option<&RawReport>,
    raw_adm: Option<&RawAdmission>,
    admission: &mut Admission,
    arrivals: &ArrivalSpec,
    drain_can_cut: bool,
) -> R<Option<ClientsSpec>> {
    let Some(c) = c else {
        if report.is_some_and(|r| r.recovered_below.is_some()) {
            return cx.err("report.recovered_below", "applies only with [clients] (it measures recovery from retries)");
        }
        return Ok(None);
    };
    let recovered_below = match report.and_then(|r| r.recovered_below) {
        None => DEFAULT_RECOVERED_BELOW,
        Some(v) if v.is_finite() && v > 0.0 && v <= 1.0 => v,
        Some(v) => return cx.err("report.recovered_below", format!("{}: expected a fraction in (0, 1]", short_num(v))),
    };
    let timeout = match c.timeout {
        None => None,
        Some(t) => {
            let t = cx.positive_dur("clients.timeout", t)?;
            if raw_adm.and_then(|a| a.max_wait).is_some_and(|l| l.0 == Some(Tick::ZERO)) {
                return cx.err(
                    "clients.timeout",
                    "calls never wait (admission.max_wait = \"0s\"), so no caller could hang up on a waiting call",
                );
            }
            // A caller with a timeout waits for it: the system queues.
            admission.waits = true;
            Some(t)
        }
    };
    let retry = match &c.retry {
        None => None,
        Some(r) => Some(validate_retry(cx, r, timeout.is_some() || admission_abandons(admission), drain_can_cut)?),
    };
    if timeout.is_none() && retry.is_none() {
        return cx.err("clients", "empty: give `timeout`, `retry`, or both");
    }
    Ok(Some(ClientsSpec { timeout, retry, surge_end: surge_end(arrivals), recovered_below }))
}

fn admission_abandons(a: &Admission) -> bool {
    a.waits && (a.patience.is_some() || a.max_wait.is_some())
}

fn validate_retry(cx: &Ctx, r: &RawRetry, may_abandon: bool, may_cut: bool) -> R<RetrySpec> {
    let attempts = match r.attempts {
        None => 0,
        Some(n) => cx.count("clients.retry.attempts", n, 0)?,
    };
    let Some(names) = &r.on else {
        return cx.err("clients.retry.on", "missing: which failures are retried, e.g. on = [\"abandoned\"]");
    };
    if attempts == 1 {
        let field = if r.budget.is_some() { "clients.retry.budget" } else { "clients.retry.attempts" };
        return cx.err(field, "attempts = 1 allows no retry (attempts counts the first; 0 means unlimited)");
    }
    let mut on = [false; ATTEMPT_REASONS.len()];
    for (i, n) in names.iter().enumerate() {
        match ATTEMPT_REASONS.iter().position(|r| r == n) {
            Some(k) => on[k] = true,
            None => {
                return cx.err(
                    format!("clients.retry.on.{i}"),
                    format!("{n:?}: expected one of {}", ATTEMPT_REASONS.join(", ")),
                )
            }
        }
    }
    if !on.iter().any(|&b| b) {
        let field = if r.budget.is_some() { "clients.retry.budget" } else { "clients.retry.on" };
        return cx.err(field, "no reason to retry on: list at least one failure reason in `on`");
    }
    if on[ABANDONED] && !may_abandon {
        return cx.err(
            "clients.retry.on",
            "\"abandoned\": no attempt ever hangs up (give clients.timeout or admission.patience/max_wait)",
        );
    }
    if on[DRAIN_TIMEOUT] && !may_cut {
        return cx.err(
            "clients.retry.on",
            "\"drain_timeout\": no drain ever cuts a call off (give primary.drain_grace a duration and a scaler that removes workers)",
        );
    }
    let Some(delay) = &r.delay else {
        return cx.err(
            "clients.retry.delay",
            "missing: a distribution such as \"2s\", or { backoff = \"exponential\", base, cap, jitter }",
        );
    };
    let delay = validate_delay(cx, delay)?;
    let budget = match r.budget {
        None => None,
        Some(b) if b.is_finite() && (0.0..=1.0).contains(&b) => Some(b),
        Some(b) => return cx.err("clients.retry.budget", format!("{}: expected a fraction in [0, 1]", short_num(b))),
    };
    let budget_window = match r.budget_window {
        None => DEFAULT_BUDGET_WINDOW,
        Some(w) => {
            if budget.is_none() {
                return cx.err("clients.retry.budget_window", "applies only with a `budget`");
            }
            cx.positive_dur("clients.retry.budget_window", w)?
        }
    };
    Ok(RetrySpec { attempts, on, delay, budget, budget_window })
}

fn validate_delay(cx: &Ctx, v: &toml::Value) -> R<RetryDelay> {
    const F: &str = "clients.retry.delay";
    let table = v.as_table();
    if table.is_some_and(|t| t.contains_key("backoff")) {
        let b: RawBackoff =
            v.clone().try_into().map_err(|e: toml::de::Error| cx.invalid(F, e.message().to_string()))?;
        if b.backoff != "exponential" {
            return cx.err(format!("{F}.backoff"), format!("{:?}: expected \"exponential\"", b.backoff));
        }
        let base = cx.positive_dur(&format!("{F}.base"), b.base)?.as_secs_f64();
        let cap = cx.positive_dur(&format!("{F}.cap"), b.cap)?.as_secs_f64();
        if cap < base {
            return cx.err(format!("{F}.cap"), format!("cap ({cap} s) is below base ({base} s)"));
        }
        let jitter = match b.jitter.as_deref() {
            None | Some("none") => Jitter::None,
            Some("full") => Jitter::Full,
            Some("equal") => Jitter::Equal,
            Some("decorrelated") => Jitter::Decorrelated,
            Some(o) => {
                return cx.err(
                    format!("{F}.jitter"),
                    format!("{o:?}: expected \"none\", \"full\", \"equal\" or \"decorrelated\""),
                )
            }
        };
        return Ok(RetryDelay::Backoff { base, cap, jitter });
    }
    for k in ["jitter", "base", "cap"] {
        if table.is_some_and(|t| t.contains_key(k)) {
            return cx.err(format!("{F}.{k}"), "applies only to a backoff: add backoff = \"exponential\"");
        }
    }
    let d: RawDist = v.clone().try_into().map_err(|e: toml::de::Error| cx.invalid(F, e.message().to_string()))?;
    Ok(RetryDelay::Dist(validate_dist(cx, F, &d)?))
}

/// When a Poisson rate is back at its starting value after rising above
/// it: the start of its last segment, if that segment is flat at the
/// starting rate and an earlier one differed.
pub(crate) fn surge_end(a: &ArrivalSpec) -> Option<Tick> {
    let ArrivalSpec::Poisson(r) = a else { return None };
    let segs = r.segments();
    let (first, last) = (segs.first()?, segs.last()?);
    let base = first.rate;
    let close = |x: f64| (x - base).abs() <= 1e-9 * base.abs().max(1.0);
    if segs.len() < 2 || last.slope != 0.0 || !close(last.rate) {
        return None;
    }
    Some(last.start)
}
