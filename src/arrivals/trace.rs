//! Trace replay: calls read from a CSV file, streaming, in constant memory.
//!
//! Columns (header row required, names case-insensitive):
//! - `arrival` (also `time`, `t`, `arrival_s`, `timestamp`): seconds after
//!   `clock_start` (negative = during warm-up), or an RFC 3339 timestamp;
//! - `duration` (also `duration_s`), optional: seconds, or `"90s"`-style;
//!   when present it is used instead of sampling;
//! - `class`, optional: a class name of the scenario.
//!
//! Other columns are ignored. Rows must be in time order unless the
//! scenario sets `sort = true` (which reads the whole trace into memory).
//! Rows before the warm-up are skipped and counted; rows after the run are
//! not read. `scale = k` thins (k < 1) or superposes (k > 1: each row
//! repeated ⌊k⌋ times plus once more with probability frac(k)), and
//! `shift` moves every row in time.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use rand::Rng;

use super::Arrival;
use crate::input::{open_regular, RowLimit, RowTooLong};
use crate::time::{parse_duration, Tick, TimeParseError};

/// Longest call duration a trace may carry.
pub const MAX_TRACE_DURATION_S: f64 = 30.0 * 86_400.0;

/// A validated trace source.
#[derive(Clone, Debug)]
pub struct TraceSpec {
    pub path: PathBuf,
    pub time_col: usize,
    pub duration_col: Option<usize>,
    pub class_col: Option<usize>,
    pub class_names: Vec<String>,
    /// Unix seconds of `clock_start` for RFC 3339 timestamps.
    pub origin: Option<f64>,
    /// Seconds added to every row.
    pub shift_s: f64,
    pub scale: f64,
    /// Internal time of reported t = 0 (the warm-up).
    pub warm: Tick,
    pub end: Tick,
    /// The whole trace, sorted, when the scenario asked for sorting.
    pub sorted: Option<Arc<Vec<Arrival>>>,
    /// Rows in the run's span (counted at validation), for budgets.
    pub rows_in_span: u64,
    pub rows_before_start: u64,
}

/// Why a trace row was rejected: its line and what was expected. A trace
/// is not a scenario file: messages quote nothing of it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: line {line}: {msg}")]
pub struct TraceError {
    pub path: String,
    pub line: u64,
    pub msg: String,
}

/// The CSV reader every trace pass uses. Records end at `\n` only, so a
/// CRLF file's `\r` stays at the end of the last field (fields are
/// trimmed) and line numbers count exactly; a file with bare `\r` line
/// ends is one long line and is rejected for its header.
pub fn reader<R: std::io::Read>(r: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new().flexible(true).terminator(csv::Terminator::Any(b'\n')).from_reader(r)
}

/// A record that is one blank field (an empty line, spaces, `""`) is not a
/// call; both the validation pass and the replay skip it.
pub fn is_blank(rec: &csv::ByteRecord) -> bool {
    rec.len() == 1 && rec.get(0).is_some_and(|f| f.iter().all(u8::is_ascii_whitespace))
}

/// A parsed row: reported time in seconds, optional duration and class.
pub(crate) struct Row {
    pub t: f64,
    pub duration: Option<f64>,
    pub class: Option<u16>,
}

impl TraceSpec {
    fn err(&self, line: u64, msg: impl Into<String>) -> TraceError {
        TraceError { path: self.path.display().to_string(), line, msg: msg.into() }
    }

    /// Parses one record (line numbers are 1-based, the header is line 1).
    pub(crate) fn parse_row(&self, rec: &csv::ByteRecord, line: u64) -> Result<Row, TraceError> {
        let field = |i: usize, name: &str| -> Result<&str, TraceError> {
            let raw = rec.get(i).ok_or_else(|| self.err(line, format!("missing the {name} column")))?;
            std::str::from_utf8(raw).map(str::trim).map_err(|_| self.err(line, format!("{name} is not valid UTF-8")))
        };
        let ts = field(self.time_col, "arrival")?;
        let t = match ts.parse::<f64>() {
            Ok(v) if v.is_finite() && v.abs() < 1e11 => v,
            Ok(_) => {
                return Err(self.err(line, "arrival out of range: expected a finite number of seconds, under 10^11"))
            }
            Err(_) => match chrono::DateTime::parse_from_rfc3339(ts) {
                Ok(dt) => {
                    let unix = dt.timestamp() as f64 + dt.timestamp_subsec_micros() as f64 / 1e6;
                    match self.origin {
                        Some(o) => unix - o,
                        None => {
                            return Err(self.err(
                                line,
                                "RFC 3339 arrival times need `origin` in [arrivals] (the timestamp of clock_start)",
                            ))
                        }
                    }
                }
                Err(_) => {
                    return Err(self.err(line, "arrival: expected seconds after clock_start or an RFC 3339 timestamp"))
                }
            },
        } + self.shift_s;
        let duration = match self.duration_col {
            None => None,
            Some(c) => {
                let d = field(c, "duration")?;
                if d.is_empty() {
                    None
                } else {
                    let secs = match d.parse::<f64>() {
                        Ok(v) => v,
                        Err(_) => match parse_duration(d) {
                            Ok(t) => t.as_secs_f64(),
                            Err(TimeParseError::OutOfRange(_)) => f64::INFINITY,
                            Err(_) => {
                                return Err(self
                                    .err(line, "duration: expected a number of seconds or a duration such as \"90s\""))
                            }
                        },
                    };
                    if !(0.0..=MAX_TRACE_DURATION_S).contains(&secs) {
                        return Err(self.err(line, "duration out of range: expected 0 to 30 days"));
                    }
                    Some(secs)
                }
            }
        };
        let class = match self.class_col {
            None => None,
            Some(c) => {
                let name = field(c, "class")?;
                if name.is_empty() {
                    None
                } else {
                    let idx = self.class_names.iter().position(|n| n == name).ok_or_else(|| {
                        self.err(line, format!("unknown class: expected one of {:?}", self.class_names))
                    })?;
                    Some(idx as u16)
                }
            }
        };
        Ok(Row { t, duration, class })
    }

    /// Internal time of a row, or `None` if it lies before the warm-up.
    pub(crate) fn internal(&self, t_s: f64) -> Option<Tick> {
        let internal = t_s + self.warm.as_secs_f64();
        if internal < 0.0 {
            None
        } else {
            Some(Tick::from_secs_f64(internal))
        }
    }

    pub fn start(&self) -> TraceState<'_> {
        let reader = if self.sorted.is_some() {
            None
        } else {
            open_regular(&self.path).ok().map(|f| reader(RowLimit::new(f, false)))
        };
        let error = if self.sorted.is_none() && reader.is_none() {
            Some(self.err(0, "cannot open the trace (it was readable when the scenario was validated)"))
        } else {
            None
        };
        TraceState {
            spec: self,
            reader,
            rec: csv::ByteRecord::new(),
            line: 1,
            idx: 0,
            pending: None,
            copies_left: 0,
            last: Tick::ZERO,
            error,
        }
    }
}

/// The running state of a trace within one run.
#[derive(Debug)]
pub struct TraceState<'a> {
    spec: &'a TraceSpec,
    reader: Option<csv::Reader<RowLimit<File>>>,
    rec: csv::ByteRecord,
    line: u64,
    idx: usize,
    pending: Option<Arrival>,
    copies_left: u32,
    last: Tick,
    /// The first read error, if any (the run then stops taking arrivals).
    pub error: Option<TraceError>,
}

impl TraceState<'_> {
    fn read(&mut self) -> Option<Arrival> {
        let spec = self.spec;
        if let Some(all) = &spec.sorted {
            let a = all.get(self.idx).copied();
            self.idx += 1;
            return a;
        }
        loop {
            let reader = self.reader.as_mut()?;
            match reader.read_byte_record(&mut self.rec) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(e) => {
                    let long = match e.kind() {
                        csv::ErrorKind::Io(io) => RowTooLong::of(io),
                        _ => None,
                    };
                    self.error = Some(match long {
                        Some(long) => spec.err(long.line, long.to_string()),
                        None => spec.err(self.line + 1, e.to_string()),
                    });
                    return None;
                }
            }
            self.line = self.rec.position().map_or(self.line + 1, |p| p.line());
            if is_blank(&self.rec) {
                continue;
            }
            let row = match spec.parse_row(&self.rec, self.line) {
                Ok(r) => r,
                Err(e) => {
                    self.error = Some(e);
                    return None;
                }
            };
            let Some(time) = spec.internal(row.t) else { continue };
            if time < self.last {
                self.error =
                    Some(spec.err(
                        self.line,
                        "arrivals out of time order (set `sort = true` in [arrivals] to sort the trace)",
                    ));
                return None;
            }
            self.last = time;
            if time >= spec.end {
                return None;
            }
            return Some(Arrival { time, class: row.class, duration: row.duration.map(Tick::from_secs_f64) });
        }
    }

    /// The next arrival, applying `scale` with draws from `rng`.
    pub fn next<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<Arrival> {
        loop {
            if self.copies_left > 0 {
                self.copies_left -= 1;
                return self.pending;
            }
            let a = self.read()?;
            let k = self.spec.scale;
            if k == 1.0 {
                return Some(a);
            }
            let whole = k.floor() as u32;
            let extra = rng.random::<f64>() < k - k.floor();
            let n = whole + extra as u32;
            if n == 0 {
                continue;
            }
            self.pending = Some(a);
            self.copies_left = n - 1;
            return Some(a);
        }
    }
}
