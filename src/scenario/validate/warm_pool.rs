//! EC2 Auto Scaling warm pool fields of `[primary.autoscaler]`: the pool's
//! instance state and its delay to InService, and scale-in protection.
//!
//! Without a preset, an unset field keeps the model these fields refine:
//! one `warm_pool_delay`, instances returned to the pool on scale-in, no
//! refill. The `asg` preset sets AWS's defaults (see `presets.rs`).

use super::ctx::{Ctx, R};
use crate::scenario::raw::RawAutoscaler;
use crate::time::Tick;

/// Delay from the pool to InService for each instance state, used when
/// `warm_pool_delay` is not set (sources in `presets.rs`).
pub fn state_delay(state: &str) -> Option<Tick> {
    match state {
        "stopped" => Some(crate::scenario::presets::WARM_POOL_STOPPED),
        "hibernated" => Some(crate::scenario::presets::WARM_POOL_HIBERNATED),
        "running" => Some(crate::scenario::presets::WARM_POOL_RUNNING),
        _ => None,
    }
}

/// `warm_pool_delay`, or the default of `warm_pool_state`.
pub(super) fn pool_delay(cx: &Ctx, a: &RawAutoscaler) -> R<Tick> {
    let state = match a.warm_pool_state.as_deref() {
        None => None,
        Some(s) => match state_delay(s) {
            Some(d) => Some(d),
            None => {
                return cx.err(
                    "primary.autoscaler.warm_pool_state",
                    format!("{s:?}: expected \"stopped\", \"running\" or \"hibernated\""),
                )
            }
        },
    };
    Ok(a.warm_pool_delay.map(|d| d.0).or(state).unwrap_or(Tick::ZERO))
}

/// `protect_from_scale_in`: at most the initial workers.
pub(super) fn protected(cx: &Ctx, a: &RawAutoscaler, workers: i64) -> R<u32> {
    let Some(n) = a.protect_from_scale_in else { return Ok(0) };
    let field = "primary.autoscaler.protect_from_scale_in";
    let n = cx.count(field, n, 0)?;
    if n as i64 > workers {
        return cx.err(field, format!("{n} protected, but only {workers} workers at the start"));
    }
    Ok(n)
}
