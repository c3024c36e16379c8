//! The reporting window (`window`, `--window`): its text to offsets within
//! the run.
//!
//! Each end is a clock time read against `clock_start` — `07:00` is its first
//! time at or after `clock_start`, `+1d07:00` is 07:00 one day after the day
//! the run starts — or an offset from the start as a duration or seconds
//! (`20m`, `1200`, `+1h30m`). Both ends take the same kind of form.

use crate::time::{format_day_clock, parse_clock, parse_day_clock, parse_duration, Tick};

const FORMS: &str = "expected FROM..TO as clock times (07:00..07:15, +1d07:00..+1d07:15) \
                     or offsets from the start (20m..35m, 1200..2100)";

/// One end of the window as written.
enum End {
    /// `HH:MM[:SS]`: seconds after midnight, its first time at or after `clock_start`.
    Clock(u64),
    /// `+Nd HH:MM[:SS]`: seconds after the midnight that starts the run's first day.
    DayClock(u64),
    /// A duration or seconds from the start.
    Offset(Tick),
}

fn parse_end(text: &str, whole: &str) -> Result<End, String> {
    let t = text.trim();
    let bad = |what: &str| format!("{whole:?}: {t:?} is not {what}; {FORMS}");
    if t.contains(':') {
        if t.starts_with('+') {
            parse_day_clock(t).map(End::DayClock).map_err(|_| bad("a clock time on a day (+1d07:00)"))
        } else {
            parse_clock(t).map(End::Clock).map_err(|_| bad("a clock time (HH:MM or HH:MM:SS, 00:00 to 23:59:59)"))
        }
    } else {
        let d = t.strip_prefix('+').unwrap_or(t);
        if d.starts_with('+') {
            return Err(bad("a duration (20m, 1h30m) or seconds (1200)"));
        }
        parse_duration(d).map(End::Offset).map_err(|_| bad("a duration (20m, 1h30m) or seconds (1200)"))
    }
}

/// `"07:00..07:15"`, `"+1d07:00..+1d07:15"`, `"20m..35m"` or `"1200..2100"`
/// against `clock_start` (seconds after midnight) and the run's `duration`,
/// as `[from, to)` offsets from the start. The message names the text and
/// says what is wrong.
pub(crate) fn parse_window(text: &str, clock_start: u64, duration: Tick) -> Result<(Tick, Tick), String> {
    let (a, b) = text.split_once("..").ok_or_else(|| format!("{text:?}: {FORMS}"))?;
    let (ea, eb) = (parse_end(a, text)?, parse_end(b, text)?);
    if matches!(ea, End::Offset(_)) != matches!(eb, End::Offset(_)) {
        return Err(format!(
            "{text:?}: one end is a clock time and the other an offset from the start; give both in the same form"
        ));
    }
    let cs = clock_start;
    let start = format_day_clock(cs as f64);
    let end = format_day_clock(cs as f64 + duration.as_secs_f64());
    let covers = format!("the run covers {start}..{end} (0s..{duration} from the start)");
    let offset = |e: &End, which: &str| -> Result<Tick, String> {
        match *e {
            End::Clock(c) => Ok(Tick::from_secs((c + 86_400 - cs) % 86_400)),
            End::DayClock(s) if s < cs => Err(format!(
                "{text:?}: the window {which} {} is before clock_start ({start}); {covers}",
                format_day_clock(s as f64)
            )),
            End::DayClock(s) => Ok(Tick::from_secs(s - cs)),
            End::Offset(t) => Ok(t),
        }
    };
    let (from, to) = (offset(&ea, "start")?, offset(&eb, "end")?);
    if from >= duration {
        let when = match ea {
            End::Clock(c) if c < cs && duration.0 < Tick::from_secs(86_400).0 => {
                format!("before clock_start ({start})")
            }
            _ => format!(
                "after the run ends, at {} ({from} from the start)",
                format_day_clock(cs as f64 + from.as_secs_f64())
            ),
        };
        return Err(format!("{text:?}: the window starts {when}; {covers}"));
    }
    if to > duration {
        return Err(format!(
            "{text:?}: the window ends after the run, at {} ({to} from the start); {covers}",
            format_day_clock(cs as f64 + to.as_secs_f64())
        ));
    }
    if from >= to {
        let hint = if matches!(eb, End::Clock(_)) && duration > Tick::from_secs(86_400) {
            " (a plain HH:MM is its first time after clock_start: give a later day as +1dHH:MM)"
        } else {
            ""
        };
        return Err(format!(
            "{text:?}: the window must end after it starts; it runs from {from} to {to} from the start{hint}"
        ));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = 3600;

    fn w(text: &str, cs: u64, dur_s: u64) -> Result<(u64, u64), String> {
        parse_window(text, cs, Tick::from_secs(dur_s)).map(|(a, b)| (a.0 / 1_000_000, b.0 / 1_000_000))
    }

    #[test]
    fn every_form_names_the_same_span() {
        let cs = 6 * H + 1800; // 06:30, a 90-minute run
        for text in ["07:00..07:15", "+0d07:00..+0d07:15", "30m..45m", "1800..2700", "+30m..+45m", " 30m .. 2700 "] {
            assert_eq!(w(text, cs, 5400), Ok((1800, 2700)), "{text}");
        }
    }

    #[test]
    fn clock_times_wrap_past_midnight_and_days_count_from_the_first() {
        // 22:00 for two days: 01:00 is three hours in, +1d07:00 nine hours, +2d07:00 is past the end.
        let cs = 22 * H;
        assert_eq!(w("23:00..01:00", cs, 48 * H), Ok((H, 3 * H)));
        assert_eq!(w("+1d07:00..+1d08:00", cs, 48 * H), Ok((9 * H, 10 * H)));
        assert_eq!(w("+2d07:00..+2d08:00", cs, 48 * H), Ok((33 * H, 34 * H)));
        assert!(w("+0d07:00..+0d08:00", cs, 48 * H).unwrap_err().contains("before clock_start (22:00:00)"));
        assert!(w("+3d07:00..+3d08:00", cs, 48 * H).unwrap_err().contains("starts after the run ends"));
    }

    #[test]
    fn refuses_reversed_empty_out_of_range_and_mixed_windows() {
        let cs = 6 * H + 1800;
        let cases = [
            ("07:15..07:00", "must end after it starts"),
            ("35m..20m", "must end after it starts"),
            ("1200..1200", "must end after it starts"),
            ("06:00..07:00", "before clock_start (06:30:00)"),
            ("07:00..09:00", "ends after the run"),
            ("1h..2h", "ends after the run"),
            ("2h..3h", "starts after the run ends"),
            ("07:00..35m", "same form"),
            ("07:00", "expected FROM..TO"),
            ("7am..8am", "is not a duration"),
            ("+1x07:00..+1d07:15", "is not a clock time on a day"),
            ("25:00..26:00", "is not a clock time"),
            ("-5m..10m", "is not a duration"),
            ("++5m..10m", "is not a duration"),
        ];
        for (text, want) in cases {
            let e = w(text, cs, 5400).unwrap_err();
            assert!(e.contains(want) && e.contains(&format!("{text:?}")), "{text}: {e}");
        }
    }

    #[test]
    fn a_plain_clock_end_before_its_day_start_hints_at_the_day_form() {
        let e = w("+1d07:00..07:15", 6 * H, 48 * H).unwrap_err();
        assert!(e.contains("+1dHH:MM"), "{e}");
    }
}
