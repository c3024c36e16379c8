//! A duration as a scenario writes it (`"90s"`, `"1h30m"` or a number of
//! seconds), read by serde: the one leaf type every raw table shares.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::time::{parse_duration, Tick};

/// A duration as written: `"90s"`, `"1h30m"` or a number of seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RawDur(pub Tick);

impl<'de> Deserialize<'de> for RawDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawDurVisitor)
    }
}

pub(super) struct RawDurVisitor;

impl Visitor<'_> for RawDurVisitor {
    type Value = RawDur;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a duration such as \"90s\", \"4m\", \"1h30m\" or a number of seconds")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<RawDur, E> {
        parse_duration(s).map(RawDur).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDur, E> {
        if v < 0 {
            return Err(E::custom(format!("negative duration {v}: expected a duration of at least 0s")));
        }
        if v >= 1_000_000_000_000 {
            return Err(E::custom(format!("duration {v} s out of range: expected fewer than 10^12 seconds")));
        }
        Ok(RawDur(Tick::from_secs(v as u64)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawDur, E> {
        self.visit_i64(i64::try_from(v).map_err(E::custom)?)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawDur, E> {
        if !v.is_finite() || !(0.0..1e12).contains(&v) {
            return Err(E::custom(format!("duration {v} s out of range: expected a finite number of seconds >= 0")));
        }
        Ok(RawDur(Tick::from_secs_f64(v)))
    }
}
