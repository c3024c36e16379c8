//! The validation context: which file is being checked, the folder its
//! relative file names resolve against, and the checks every section
//! shares (counts, finite numbers, positive durations), each failing with
//! a [`ScenarioError::Invalid`] that names the field.

use std::path::Path;

use crate::scenario::raw::RawDur;
use crate::scenario::ScenarioError;
use crate::time::Tick;

pub(crate) struct Ctx<'a> {
    /// The scenario as named in messages.
    pub path: &'a str,
    /// The folder relative file names resolve against.
    pub base: &'a Path,
}

pub(crate) type R<T> = Result<T, ScenarioError>;

impl Ctx<'_> {
    pub fn err<T>(&self, field: impl Into<String>, msg: impl Into<String>) -> R<T> {
        Err(self.invalid(field, msg))
    }

    pub fn invalid(&self, field: impl Into<String>, msg: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid { path: self.path.to_string(), field: field.into(), msg: msg.into() }
    }

    pub fn count(&self, field: &str, v: i64, min: i64) -> R<u32> {
        if v < min || v > u32::MAX as i64 {
            return self.err(field, format!("{v} is out of range: expected an integer from {min} to {}", u32::MAX));
        }
        Ok(v as u32)
    }

    pub fn finite(&self, field: &str, v: f64, lo: f64, hi: f64) -> R<f64> {
        if !v.is_finite() || v < lo || v > hi {
            return self
                .err(field, format!("{} is out of range: expected a finite number from {lo} to {hi}", short_num(v)));
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

/// `v` as written in a message: in scientific notation where the plain
/// form would run to many digits (`1e300`, not 301 of them).
pub(crate) fn short_num(v: f64) -> String {
    if v.is_finite() && v != 0.0 && !(1e-6..1e15).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}
