//! `[[classes]]`: names, shares (summing to 1) and call durations.

use super::ctx::{Ctx, R};
use super::dist::validate_dist;
use crate::scenario::raw::RawClass;
use crate::scenario::CallClass;

pub(super) fn validate_classes(cx: &Ctx, classes: &[RawClass]) -> R<Vec<CallClass>> {
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
