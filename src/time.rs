//! Simulated time: an integer tick of one microsecond.
//!
//! Time is never accumulated in floating point: every instant and every
//! duration is a [`Tick`] count. Floats appear only at the edges, when a
//! sampled duration in seconds is rounded to ticks, and in reports.

use std::fmt;

/// Ticks per second. One tick is one microsecond.
pub const TICKS_PER_SEC: u64 = 1_000_000;

/// 2⁶³ as a float: the values below it convert exactly through `i64`.
const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;

/// `x as u64` — truncating, saturating, NaN to 0 — in one conversion
/// instruction for the values below 2⁶³ (the plain `as u64` spends a
/// dozen: two conversions, a subtraction, masks and selects), the rest out
/// of line.
#[inline(always)]
pub fn truncate_u64(x: f64) -> u64 {
    // One integer comparison: the bits of a non-negative float order like
    // the float; a negative one (sign bit set) or a NaN compares above.
    if x.to_bits() < I64_LIMIT.to_bits() {
        // SAFETY: `x` is finite and in [+0, 2⁶³), so it truncates to a
        // representable `i64`, exactly as `as u64` would truncate it.
        unsafe { x.to_int_unchecked::<i64>() as u64 }
    } else {
        saturate(x)
    }
}

/// `x as u64` out of line: [`truncate_u64`]'s rare path.
#[cold]
#[inline(never)]
fn saturate(x: f64) -> u64 {
    x as u64
}

/// An instant or a span of simulated time, in microseconds.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tick(pub u64);

impl Tick {
    pub const ZERO: Tick = Tick(0);
    pub const MAX: Tick = Tick(u64::MAX);

    /// Whole seconds to ticks, saturating at [`Tick::MAX`].
    pub const fn from_secs(s: u64) -> Tick {
        Tick(s.saturating_mul(TICKS_PER_SEC))
    }

    /// Seconds (finite, non-negative) to ticks, rounded to the nearest tick
    /// and saturated at [`Tick::MAX`].
    #[inline(always)]
    pub fn from_secs_f64(s: f64) -> Tick {
        debug_assert!(s >= 0.0, "negative duration {s}");
        // Adding ½ and truncating rounds a non-negative value without a
        // libm call. Float-to-int `as` saturates (and maps NaN to 0); a
        // value below 2⁶³ — every duration the model draws — takes the
        // one-instruction signed conversion, which truncates alike.
        Tick(truncate_u64(s * TICKS_PER_SEC as f64 + 0.5))
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / TICKS_PER_SEC as f64
    }

    #[inline]
    pub fn saturating_add(self, d: Tick) -> Tick {
        Tick(self.0.saturating_add(d.0))
    }

    pub fn saturating_sub(self, d: Tick) -> Tick {
        Tick(self.0.saturating_sub(d.0))
    }
}

impl fmt::Display for Tick {
    /// `90s`, `4m`, `1h30m`, `250ms`: the shortest exact human form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if us == 0 {
            return f.write_str("0s");
        }
        if us % TICKS_PER_SEC != 0 {
            return write!(f, "{}s", fmt_secs(self.as_secs_f64()));
        }
        let mut s = us / TICKS_PER_SEC;
        let h = s / 3600;
        s %= 3600;
        let m = s / 60;
        s %= 60;
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if s > 0 {
            write!(f, "{s}s")?;
        }
        Ok(())
    }
}

fn fmt_secs(s: f64) -> String {
    let mut t = format!("{s:.6}");
    while t.ends_with('0') {
        t.pop();
    }
    if t.ends_with('.') {
        t.pop();
    }
    t
}

/// Why a duration or clock string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeParseError {
    #[error("malformed duration {0:?}: expected e.g. \"90s\", \"4m\", \"1h30m\", \"250ms\" or a number of seconds")]
    Duration(String),
    #[error("malformed clock time {0:?}: expected HH:MM or HH:MM:SS (00:00 to 23:59:59)")]
    Clock(String),
    #[error("duration {0:?} is out of range: expected less than 10^12 seconds (about 31,700 years)")]
    OutOfRange(String),
}

/// Durations must be shorter than this many seconds.
pub const MAX_DURATION_S: f64 = 1e12;

/// Parses a human duration: `"90s"`, `"4m"`, `"1h30m"`, `"250ms"`, `"1.5s"`, `"2d"`.
///
/// Units: `us`, `ms`, `s`, `m`, `h`, `d` (humantime's longer spellings are
/// accepted too). A bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Tick, TimeParseError> {
    let t = text.trim();
    let err = || TimeParseError::Duration(text.to_string());
    let range = || TimeParseError::OutOfRange(text.to_string());
    if t.is_empty() {
        return Err(err());
    }
    if let Ok(secs) = t.parse::<f64>() {
        return secs_to_tick(secs).ok_or_else(|| if secs >= MAX_DURATION_S { range() } else { err() });
    }
    // Fractional single-unit forms that humantime refuses: "1.5s", "0.5m".
    if let Some(pos) = t.find(|c: char| c.is_ascii_alphabetic()) {
        let (num, unit) = t.split_at(pos);
        if num.contains('.') {
            let value: f64 = num.parse().map_err(|_| err())?;
            let scale = match unit {
                "us" => 1e-6,
                "ms" => 1e-3,
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                "d" => 86400.0,
                _ => return Err(err()),
            };
            let secs = value * scale;
            return secs_to_tick(secs).ok_or_else(|| if secs >= MAX_DURATION_S { range() } else { err() });
        }
    }
    let d = humantime::parse_duration(t).map_err(|e| match e {
        humantime::DurationError::NumberOverflow => range(),
        _ => err(),
    })?;
    if d.as_secs_f64() >= MAX_DURATION_S {
        return Err(range());
    }
    Ok(Tick(d.as_micros() as u64))
}

fn secs_to_tick(secs: f64) -> Option<Tick> {
    if (0.0..MAX_DURATION_S).contains(&secs) {
        Some(Tick::from_secs_f64(secs))
    } else {
        None
    }
}

/// Parses a clock label `HH:MM` or `HH:MM:SS` to seconds after midnight.
pub fn parse_clock(text: &str) -> Result<u64, TimeParseError> {
    let err = || TimeParseError::Clock(text.to_string());
    let parts: Vec<&str> = text.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(err());
    }
    let mut vals = [0u64; 3];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        vals[i] = p.parse().map_err(|_| err())?;
    }
    if vals[0] > 23 || vals[1] > 59 || vals[2] > 59 {
        return Err(err());
    }
    Ok(vals[0] * 3600 + vals[1] * 60 + vals[2])
}

/// Parses `+Nd` followed by a clock label (`+1d07:00`, `+0d23:30:15`): the
/// clock time N days after the first day, as seconds after that day's midnight.
pub fn parse_day_clock(text: &str) -> Result<u64, TimeParseError> {
    let err = || TimeParseError::Clock(text.to_string());
    let rest = text.trim().strip_prefix('+').ok_or_else(err)?;
    let (days, clock) = rest.split_once('d').ok_or_else(err)?;
    if days.is_empty() || days.len() > 5 || !days.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let days: u64 = days.parse().map_err(|_| err())?;
    let secs = parse_clock(clock).map_err(|_| err())?;
    Ok(days * 86_400 + secs)
}

/// Formats seconds after the first midnight as `HH:MM:SS`, with a `+Nd`
/// prefix on later days (`+1d07:00:00`): the form [`parse_day_clock`] reads.
pub fn format_day_clock(secs: f64) -> String {
    let s = secs.max(0.0).floor() as u64;
    match s / 86_400 {
        0 => format_clock(s as f64),
        d => format!("+{d}d{}", format_clock(s as f64)),
    }
}

/// Formats seconds after midnight as `HH:MM:SS` (wrapping past 24h).
pub fn format_clock(secs: f64) -> String {
    let s = secs.max(0.0).floor() as u64 % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_human_durations() {
        assert_eq!(parse_duration("90s").unwrap(), Tick::from_secs(90));
        assert_eq!(parse_duration("4m").unwrap(), Tick::from_secs(240));
        assert_eq!(parse_duration("1h30m").unwrap(), Tick::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Tick(250_000));
        assert_eq!(parse_duration("1.5s").unwrap(), Tick(1_500_000));
        assert_eq!(parse_duration("0s").unwrap(), Tick::ZERO);
        assert_eq!(parse_duration("30").unwrap(), Tick::from_secs(30));
    }

    #[test]
    fn rejects_malformed_durations() {
        for bad in ["", "abc", "-5s", "5 parsecs", "NaN", "1.5x", "inf", "s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn durations_too_long_are_out_of_range_not_malformed() {
        for long in
            ["9999999999h", "1e12", "20000000000000s", "99999999999999999999999d", "1000000000d", "300000000000.5h"]
        {
            assert_eq!(parse_duration(long), Err(TimeParseError::OutOfRange(long.into())), "{long}");
        }
        assert!(parse_duration("11574d").is_ok(), "just under 10^12 s");
    }

    /// `truncate_u64` is `as u64` for every kind of float: signs, zeros,
    /// NaN, infinities, subnormals, around 2⁶³ and 2⁶⁴.
    #[test]
    fn truncation_matches_as_u64() {
        let mut xs = vec![0.0, -0.0, -1.0, -0.5, f64::NAN, -f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
        xs.extend([f64::MIN_POSITIVE, 5e-324, 0.999_999, 1.0, 1.5, 2.0f64.powi(53) + 2.0, f64::MAX, f64::MIN]);
        for p in [52, 53, 62, 63, 64, 65] {
            let c = 2.0f64.powi(p);
            xs.extend([c, c * (1.0 - f64::EPSILON), c * (1.0 + 2.0 * f64::EPSILON), -c]);
        }
        for x in xs {
            assert_eq!(truncate_u64(x), x as u64, "{x:e}");
        }
    }

    /// The fast conversion gives what a plain saturating `as u64` of the
    /// same rounded value gives, on both sides of 2⁶³ and at the edges
    /// (NaN is outside the contract: the debug build rejects it).
    #[test]
    fn seconds_to_ticks_matches_the_saturating_conversion() {
        let plain = |s: f64| Tick((s * TICKS_PER_SEC as f64 + 0.5) as u64);
        let mut xs = vec![0.0, 0.4e-6, 0.5e-6, 1e-6, 1.5e-6, 30.0, 31_536_000.0, f64::INFINITY, f64::MAX];
        let edge = I64_LIMIT / TICKS_PER_SEC as f64;
        for k in -3..=3 {
            xs.push(edge * (1.0 + k as f64 * f64::EPSILON));
        }
        let mut x = 1e-7;
        while x < 1e16 {
            xs.push(x);
            xs.push(x * 1.000_000_3);
            x *= 1.7;
        }
        for s in xs {
            assert_eq!(Tick::from_secs_f64(s), plain(s), "{s:e}");
        }
    }

    #[test]
    fn displays_shortest_form() {
        assert_eq!(Tick::from_secs(5400).to_string(), "1h30m");
        assert_eq!(Tick::from_secs(90).to_string(), "1m30s");
        assert_eq!(Tick(1_500_000).to_string(), "1.5s");
    }

    #[test]
    fn clock_labels() {
        assert_eq!(parse_clock("06:30").unwrap(), 6 * 3600 + 1800);
        assert_eq!(parse_clock("07:00:15").unwrap(), 7 * 3600 + 15);
        assert!(parse_clock("25:00").is_err());
        assert!(parse_clock("7").is_err());
        assert_eq!(format_clock(7.0 * 3600.0 + 65.0), "07:01:05");
    }

    #[test]
    fn day_clock_labels() {
        assert_eq!(parse_day_clock("+1d07:00").unwrap(), 86_400 + 7 * 3600);
        assert_eq!(parse_day_clock(" +0d23:30:15 ").unwrap(), 23 * 3600 + 1800 + 15);
        assert_eq!(parse_day_clock("+12d00:00").unwrap(), 12 * 86_400);
        for bad in ["07:00", "+d07:00", "+1d", "+1d25:00", "1d07:00", "+-1d07:00", "+1x07:00", "+1d07:00:00:00"] {
            assert!(parse_day_clock(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(format_day_clock(7.0 * 3600.0), "07:00:00");
        assert_eq!(format_day_clock(86_400.0 + 7.0 * 3600.0 + 0.5), "+1d07:00:00");
        assert_eq!(format_day_clock(2.0 * 86_400.0), "+2d00:00:00");
    }
}
