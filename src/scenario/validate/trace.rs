//! `[arrivals] kind = "trace"`: the trace file, its `scale`, `shift` and
//! `origin`, checked in one streaming pass (columns, every row, time
//! order, the rows in the run's span); with `sort = true` the sorted rows.

use std::path::Path;
use std::sync::Arc;

use super::columns::{Columns, Dialect};
use super::ctx::{Ctx, R};
use crate::arrivals::{Arrival, ArrivalSpec, TraceSpec};
use crate::scenario::raw::RawArrivals;
use crate::time::{parse_duration, Tick};

/// A signed duration: "-5m", "90s", "-1.5s".
fn signed_secs(text: &str) -> Option<f64> {
    let t = text.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let s = parse_duration(body).ok()?.as_secs_f64();
    Some(if neg { -s } else { s })
}

pub(super) fn trace(
    cx: &Ctx,
    a: &RawArrivals,
    duration: Tick,
    warm: Tick,
    classes: &[String],
    warnings: &mut Vec<String>,
) -> R<ArrivalSpec> {
    let Some(file) = &a.file else {
        return cx.err("arrivals.file", "missing: a trace needs the CSV file of calls");
    };
    let path = cx.base.join(file);
    let scale = cx.finite("arrivals.scale", a.scale.unwrap_or(1.0), 0.0, 1000.0)?;
    let shift_s = match &a.shift {
        None => 0.0,
        Some(s) => match signed_secs(s) {
            Some(v) => v,
            None => {
                return cx
                    .err("arrivals.shift", format!("{s:?}: expected a signed duration such as \"-5m\" or \"30s\""))
            }
        },
    };
    let origin = match &a.origin {
        None => None,
        Some(o) => match chrono::DateTime::parse_from_rfc3339(o) {
            Ok(dt) => Some(dt.timestamp() as f64 + dt.timestamp_subsec_micros() as f64 / 1e6),
            Err(e) => return cx.err("arrivals.origin", format!("{o:?}: expected an RFC 3339 timestamp ({e})")),
        },
    };
    let mut spec = TraceSpec {
        path: path.clone(),
        time_col: 0,
        duration_col: None,
        class_col: None,
        class_names: classes.to_vec(),
        origin,
        shift_s,
        scale,
        warm,
        end: warm.saturating_add(duration),
        sorted: None,
        rows_in_span: 0,
        rows_before_start: 0,
    };
    scan_trace(cx, &mut spec, a.sort.unwrap_or(false), &path)?;
    if spec.rows_before_start > 0 {
        warnings.push(format!(
            "{}: {} rows before the start of the run (warm-up included) were skipped",
            path.display(),
            spec.rows_before_start
        ));
    }
    Ok(ArrivalSpec::Trace(spec))
}

/// Most rows a trace with `sort = true` may hold (they are sorted in memory).
pub const MAX_SORTED_ROWS: usize = 50_000_000;

/// One streaming pass over the trace: columns, every row's syntax, time
/// order (or sorting), and the row count in the run's span.
fn scan_trace(cx: &Ctx, spec: &mut TraceSpec, sort: bool, path: &Path) -> R<()> {
    let shown = path.display().to_string();
    let fail = |msg: String| cx.invalid("arrivals.file", format!("{shown}: {msg}"));
    let mut cols = Columns::open(path, Dialect::Trace).map_err(fail)?;
    if cols.header_is_empty() {
        return Err(fail("empty file: expected a header row such as arrival,duration,class".into()));
    }
    spec.time_col = match cols.find(&["arrival", "arrival_s", "time", "t", "t_s", "timestamp"]) {
        Some(c) => c,
        None => return Err(fail("line 1: no arrival column (arrival, time, t or timestamp) in the header".into())),
    };
    spec.duration_col = cols.find(&["duration", "duration_s"]);
    spec.class_col = cols.find(&["class"]);
    let mut last = Tick::ZERO;
    let mut rows = 0u64;
    let mut all: Vec<Arrival> = Vec::new();
    while cols.next().map_err(fail)? {
        let line = cols.line();
        rows += 1;
        let row = spec.parse_row(cols.record(), line).or_else(|e| cx.err("arrivals.file", e.to_string()))?;
        let Some(t) = spec.internal(row.t) else {
            spec.rows_before_start += 1;
            continue;
        };
        if sort {
            if all.len() == MAX_SORTED_ROWS {
                return Err(fail(format!(
                    "line {line}: more than {MAX_SORTED_ROWS} rows to sort in memory: sort the file and drop `sort = true`"
                )));
            }
            all.push(Arrival { time: t, class: row.class, duration: row.duration.map(Tick::from_secs_f64) });
            continue;
        }
        if t < last {
            return Err(fail(format!(
                "line {line}: arrivals out of time order (set `sort = true` in [arrivals] to sort the trace)"
            )));
        }
        last = t;
        if t < spec.end {
            spec.rows_in_span += 1;
        }
    }
    if rows == 0 {
        return Err(fail("no calls: the trace has a header but no rows".into()));
    }
    if sort {
        all.sort_by_key(|a| a.time);
        all.retain(|a| a.time < spec.end);
        spec.rows_in_span = all.len() as u64;
        spec.sorted = Some(Arc::new(all));
    }
    Ok(())
}
