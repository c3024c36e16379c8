//! The one streaming pass over a call log: columns, every row's syntax,
//! time order and time zone, and the running counts the fit needs. Memory
//! is constant in the number of rows: per-bin counts (one integer a bin)
//! and per-class duration statistics ([`DurationStats`], bounded).
//!
//! Rows are read with the trace replay's own reader and row parser
//! ([`crate::arrivals::trace`]), so a log and a trace accept the same time
//! formats: seconds after the start, or RFC 3339 timestamps. Every error
//! names the line (the header is line 1) or the column, and quotes nothing
//! of the log.

use std::collections::BTreeMap;
use std::io::BufReader;
use std::path::Path;

use super::durations::DurationStats;
use super::FitError;
use crate::arrivals::trace::{is_blank, reader, TraceSpec};
use crate::input::{open_regular, RowLimit, RowTooLong};
use crate::observe::{FailReason, REASONS};
use crate::time::Tick;

/// Most distinct classes a log may have.
pub const MAX_CLASSES: usize = 64;
/// Most bins the span of a log may cover.
pub const MAX_BINS: usize = 1_000_000;

/// What the fit knows of a call's fate, from the `outcome` column.
#[derive(Copy, Clone, Debug, PartialEq)]
enum Fate {
    Served,
    /// Failed, abandoned or still waiting: its duration is not a service time.
    Unserved,
    Unknown,
}

/// Outcome names a log may use, and what they mean for the fit.
fn fate_of(name: &str) -> Option<Fate> {
    const SERVED: [&str; 3] = ["served", "served_primary", "served_fallback"];
    const UNSERVED: [&str; 2] = ["abandoned", "waiting"];
    if SERVED.iter().any(|s| s.eq_ignore_ascii_case(name)) {
        return Some(Fate::Served);
    }
    let failed = REASONS.iter().chain([&FailReason::DrainTimeout]).any(|r| r.name() == name);
    if UNSERVED.iter().any(|s| s.eq_ignore_ascii_case(name)) || failed {
        return Some(Fate::Unserved);
    }
    None
}

/// The outcome names [`fate_of`] knows, for messages.
pub fn known_outcomes() -> Vec<&'static str> {
    let mut v = vec!["served", "served_primary", "served_fallback"];
    v.extend(REASONS.iter().map(|r| r.name()));
    v.extend([FailReason::DrainTimeout.name(), "abandoned", "waiting"]);
    v
}

/// Running counts of one class.
#[derive(Clone, Debug)]
pub struct ClassAcc {
    pub name: String,
    pub calls: u64,
    pub durations: DurationStats,
    /// Calls with neither a duration nor an end.
    pub without_duration: u64,
    /// Calls not served (by `outcome`) whose duration was left out.
    pub unserved_skipped: u64,
}

/// Everything one pass over a log gathers.
#[derive(Debug)]
pub struct LogPass {
    pub rows: u64,
    pub rows_before_start: u64,
    /// Calls per bin from the start (failed calls included).
    pub bins: Vec<u64>,
    /// Unix seconds of the start, for a log of RFC 3339 times.
    pub origin_unix: Option<f64>,
    /// UTC offset of the log's timestamps, seconds.
    pub utc_offset_s: Option<i32>,
    pub classes: Vec<ClassAcc>,
    pub outcomes: BTreeMap<String, u64>,
    pub has_duration: bool,
    pub has_end: bool,
    pub has_outcome: bool,
    pub has_class: bool,
    /// Calls arrived before the start whose service reaches past it.
    pub in_flight: u64,
    /// Seconds from the start of the first and last arrival.
    pub first_t: f64,
    pub last_t: f64,
}

/// Columns of the log, by index.
struct Cols {
    arrival: usize,
    duration: Option<usize>,
    end: Option<usize>,
    outcome: Option<usize>,
    class: Option<usize>,
}

fn columns(path: &Path, headers: &csv::ByteRecord) -> Result<Cols, FitError> {
    let names: Vec<String> = headers
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    if names.iter().all(|n| n.is_empty()) {
        return Err(FitError::at(path, 1, "empty log: expected a header row such as arrival,duration,class,outcome"));
    }
    let find = |cands: &[&str]| names.iter().position(|n| cands.contains(&n.as_str()));
    let arrival = find(&["arrival", "arrival_s", "time", "t", "t_s", "timestamp"]).ok_or_else(|| {
        FitError::at(path, 1, "no `arrival` column (also accepted: arrival_s, time, t, t_s, timestamp)")
    })?;
    Ok(Cols {
        arrival,
        duration: find(&["duration", "duration_s"]),
        end: find(&["end", "end_s"]),
        outcome: find(&["outcome"]),
        class: find(&["class"]),
    })
}

/// Seconds (`None`) or the UTC offset of an RFC 3339 cell the trace parser
/// accepted (`Z` or a trailing `±HH:MM`).
fn offset_of(cell: &str) -> Option<i32> {
    if cell.parse::<f64>().is_ok() {
        return None;
    }
    let b = cell.as_bytes();
    if b.last().is_some_and(|c| c.eq_ignore_ascii_case(&b'z')) || b.len() < 6 {
        return Some(0);
    }
    let tail = &cell[cell.len() - 6..];
    let sign = if tail.starts_with('-') { -1 } else { 1 };
    let h: i32 = tail[1..3].parse().unwrap_or(0);
    let m: i32 = tail[4..6].parse().unwrap_or(0);
    Some(sign * (h * 3600 + m * 60))
}

fn cell<'r>(path: &Path, rec: &'r csv::ByteRecord, i: usize, line: u64, name: &str) -> Result<&'r str, FitError> {
    let raw = rec.get(i).ok_or_else(|| FitError::at(path, line, format!("missing the {name} column")))?;
    std::str::from_utf8(raw).map(str::trim).map_err(|_| FitError::at(path, line, format!("{name} is not valid UTF-8")))
}

/// Reads the log at `path` once. `origin`: RFC 3339 timestamp of the start
/// (for RFC 3339 logs; default: the first arrival, floored to the bin).
pub fn read_log(path: &Path, bin: Tick, origin: Option<&str>) -> Result<LogPass, FitError> {
    // A regular file only (a FIFO or device is refused unopened), each row
    // at most the input module's row limit: /dev/zero or a 1 GB line ends
    // in a clear error, not an allocation failure.
    let file = open_regular(path).map_err(|e| FitError::new(path, format!("cannot read: {e}")))?;
    let mut rdr = reader(RowLimit::new(BufReader::with_capacity(1 << 16, file), false));
    let headers = rdr.byte_headers().map_err(|e| FitError::at(path, 1, e.to_string()))?.clone();
    let cols = columns(path, &headers)?;
    let origin_arg = match origin {
        None => None,
        Some(o) => Some(
            chrono::DateTime::parse_from_rfc3339(o)
                .map_err(|e| FitError::new(path, format!("--origin: expected an RFC 3339 timestamp ({e})")))?,
        ),
    };
    let mut spec = TraceSpec {
        path: path.to_path_buf(),
        time_col: cols.arrival,
        duration_col: cols.duration,
        class_col: None,
        class_names: Vec::new(),
        origin: None,
        shift_s: 0.0,
        scale: 1.0,
        warm: Tick::ZERO,
        end: Tick::MAX,
        sorted: None,
        rows_in_span: 0,
        rows_before_start: 0,
    };
    let mut end_spec: Option<TraceSpec> = None;
    let bin_s = bin.as_secs_f64();
    let mut pass = LogPass {
        rows: 0,
        rows_before_start: 0,
        bins: Vec::new(),
        origin_unix: None,
        utc_offset_s: None,
        classes: Vec::new(),
        outcomes: BTreeMap::new(),
        has_duration: cols.duration.is_some(),
        has_end: cols.end.is_some(),
        has_outcome: cols.outcome.is_some(),
        has_class: cols.class.is_some(),
        in_flight: 0,
        first_t: 0.0,
        last_t: f64::NEG_INFINITY,
    };
    let mut first_line = 0u64;
    let mut rec = csv::ByteRecord::new();
    let mut line = 1u64;
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let long = match e.kind() {
                    csv::ErrorKind::Io(io) => RowTooLong::of(io),
                    _ => None,
                };
                return Err(match long {
                    Some(long) => FitError::at(path, long.line, long.to_string()),
                    None => FitError::at(path, line + 1, e.to_string()),
                });
            }
        }
        line = rec.position().map_or(line + 1, |p| p.line());
        if is_blank(&rec) {
            continue;
        }
        let arrival_cell = cell(path, &rec, cols.arrival, line, "arrival")?;
        let offset = offset_of(arrival_cell);
        if pass.rows == 0 {
            first_line = line;
            pass.utc_offset_s = offset;
            if offset.is_some() {
                let origin = match origin_arg {
                    Some(o) => o.timestamp() as f64 + o.timestamp_subsec_micros() as f64 / 1e6,
                    None => match chrono::DateTime::parse_from_rfc3339(arrival_cell) {
                        Ok(dt) => (dt.timestamp() as f64 / bin_s).floor() * bin_s,
                        Err(_) => {
                            return Err(FitError::at(
                                path,
                                line,
                                "arrival: expected seconds after the start or an RFC 3339 timestamp",
                            ))
                        }
                    },
                };
                spec.origin = Some(origin);
                pass.origin_unix = Some(origin);
            } else if origin_arg.is_some() {
                return Err(FitError::at(
                    path,
                    line,
                    "--origin applies to RFC 3339 arrival times; this log's are seconds after the start",
                ));
            }
            end_spec = cols.end.map(|c| TraceSpec { time_col: c, duration_col: None, ..spec.clone() });
        }
        let stamp = offset.is_some();
        // A number in a log of timestamps, or a valid timestamp in a log of
        // seconds (anything else is the row parser's to reject).
        if stamp != pass.utc_offset_s.is_some()
            && (!stamp || chrono::DateTime::parse_from_rfc3339(arrival_cell).is_ok())
        {
            let what = "mixed time formats: seconds and RFC 3339 timestamps";
            return Err(FitError::at(path, line, format!("arrival: {what} (see line {first_line})")));
        }
        let row = spec.parse_row(&rec, line).map_err(|e| FitError::at(path, e.line, e.msg))?;
        if offset != pass.utc_offset_s {
            let what = "mixed time zones: its UTC offset differs from the first row's";
            return Err(FitError::at(path, line, format!("arrival: {what} (line {first_line})")));
        }
        if row.t < pass.last_t {
            return Err(FitError::at(
                path,
                line,
                "arrival: rows out of time order (earlier than the row before); fit reads the log once and needs \
                 it sorted by arrival",
            ));
        }
        if pass.rows == 0 {
            pass.first_t = row.t;
        }
        pass.last_t = row.t;
        pass.rows += 1;
        let end = match (&end_spec, cols.end) {
            (Some(es), Some(c)) if !cell(path, &rec, c, line, "end")?.is_empty() => {
                if offset_of(cell(path, &rec, c, line, "end")?).is_some() != offset.is_some() {
                    return Err(FitError::at(path, line, "end: not in the time format of arrival"));
                }
                let e = es.parse_row(&rec, line).map_err(|_| {
                    FitError::at(path, line, "end: expected seconds after the start or an RFC 3339 timestamp")
                })?;
                if e.t < row.t {
                    return Err(FitError::at(path, line, "end: before the call's arrival"));
                }
                Some(e.t)
            }
            _ => None,
        };
        let fate = match cols.outcome {
            None => Fate::Unknown,
            Some(c) => {
                let o = cell(path, &rec, c, line, "outcome")?;
                if o.is_empty() {
                    Fate::Unknown
                } else {
                    let f = fate_of(o).ok_or_else(|| {
                        FitError::at(
                            path,
                            line,
                            format!("outcome: not a known outcome; expected one of {}", known_outcomes().join(", ")),
                        )
                    })?;
                    let key = o.to_ascii_lowercase();
                    match pass.outcomes.get_mut(&key) {
                        Some(n) => *n += 1,
                        None => {
                            pass.outcomes.insert(key, 1);
                        }
                    }
                    f
                }
            }
        };
        let class_name = match cols.class {
            Some(c) => cell(path, &rec, c, line, "class")?,
            None => "",
        };
        let class_name = if class_name.is_empty() {
            if pass.has_class {
                "unclassified"
            } else {
                "all"
            }
        } else {
            class_name
        };
        let k = match pass.classes.iter().position(|c| c.name == class_name) {
            Some(k) => k,
            None => {
                if pass.classes.len() >= MAX_CLASSES {
                    return Err(FitError::at(path, line, format!("class: more than {MAX_CLASSES} distinct classes")));
                }
                let seed = pass.classes.len() as u64;
                pass.classes.push(ClassAcc {
                    name: class_name.to_string(),
                    calls: 0,
                    durations: DurationStats::new(seed),
                    without_duration: 0,
                    unserved_skipped: 0,
                });
                pass.classes.len() - 1
            }
        };
        let acc = &mut pass.classes[k];
        acc.calls += 1;
        let duration = row.duration.or(end.map(|e| e - row.t));
        match (duration, fate) {
            (None, _) => acc.without_duration += 1,
            (Some(_), Fate::Unserved) => acc.unserved_skipped += 1,
            (Some(d), _) => acc.durations.push(d),
        }
        if row.t < 0.0 {
            pass.rows_before_start += 1;
            // Served (or of unknown fate) and still in service at the start.
            let until = end.or(if fate == Fate::Unserved { None } else { row.duration.map(|d| row.t + d) });
            if until.is_some_and(|u| u > 0.0) {
                pass.in_flight += 1;
            }
            continue;
        }
        let b = (row.t / bin_s).floor() as usize;
        if b >= MAX_BINS {
            return Err(FitError::at(
                path,
                line,
                format!("arrival: more than {MAX_BINS} bins after the start; pass a wider --bin"),
            ));
        }
        if pass.bins.len() <= b {
            pass.bins.resize(b + 1, 0);
        }
        pass.bins[b] += 1;
    }
    if pass.rows == 0 {
        return Err(FitError::at(path, line, "no calls: the log has a header but no rows"));
    }
    if pass.bins.is_empty() {
        return Err(FitError::new(path, "no calls at or after the start: every arrival is before it"));
    }
    Ok(pass)
}
