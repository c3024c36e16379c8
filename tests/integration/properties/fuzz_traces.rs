//! Fuzzing the trace reader: arbitrary bytes and traces built from edge-case
//! cells, headers and line endings never panic; a trace that validates
//! replays to its end, row for row.

use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::sample::Index;
use tempfile::TempDir;

use surgesim::arrivals::ArrivalSpec;
use surgesim::experiment::simulate;
use surgesim::result::RunResult;
use surgesim::scenario::{load_str, Scenario};

use super::{config, sum, LOG};

/// Trace options appended to `[arrivals]`.
#[derive(Clone, Debug)]
struct TraceOpts {
    sort: Option<bool>,
    origin: bool,
    scale: Option<f64>,
    shift: Option<&'static str>,
    warmup: u32,
}

fn trace_opts() -> impl Strategy<Value = TraceOpts> {
    (
        proptest::option::of(any::<bool>()),
        any::<bool>(),
        proptest::option::of(prop::sample::select(vec![0.0, 0.5, 1.0, 2.5, 1000.0])),
        proptest::option::of(prop::sample::select(vec!["-1m", "30s", "0s", "-100000d"])),
        prop_oneof![Just(0u32), 1u32..=120],
    )
        .prop_map(|(sort, origin, scale, shift, warmup)| TraceOpts { sort, origin, scale, shift, warmup })
}

fn trace_scenario(o: &TraceOpts) -> String {
    let mut s = format!(
        "name = \"fuzz-trace\"\nduration = \"5m\"\nbin = \"1m\"\nwarmup = {}\n\
         [[classes]]\nname = \"a\"\nshare = 0.5\nduration = \"30s\"\n\
         [[classes]]\nname = \"b\"\nshare = 0.5\nduration = {{ dist = \"exponential\", mean = \"20s\" }}\n\
         [primary]\nworkers = 3\ncalls_per_worker = 2\n[admission]\nmax_wait = \"5s\"\n\
         [arrivals]\nkind = \"trace\"\nfile = \"x.csv\"\n",
        o.warmup
    );
    if let Some(v) = o.sort {
        let _ = writeln!(s, "sort = {v}");
    }
    if o.origin {
        s.push_str("origin = \"2025-07-25T07:00:00Z\"\n");
    }
    if let Some(k) = o.scale {
        let _ = writeln!(s, "scale = {k:?}");
    }
    if let Some(sh) = o.shift {
        let _ = writeln!(s, "shift = \"{sh}\"");
    }
    s
}

/// Edge-case tokens for trace cells: every path of the row parser.
fn cell() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(vec![
        "",
        " ",
        "0",
        "1",
        "1.5",
        "-1",
        "-0",
        "59.999999",
        "299.999999",
        "300",
        "1e9",
        "1e11",
        "1e400",
        "-1e400",
        "NaN",
        "nan",
        "inf",
        "-inf",
        "0x10",
        "1_000",
        "90s",
        "1h",
        "3y",
        "30d",
        "31d",
        "-5s",
        "a",
        "b",
        "A",
        "zzz",
        "\"1\"",
        "\"2,b\"",
        "\"\"",
        "\"",
        "2025-07-25T07:00:30Z",
        "2025-07-25T07:04:59.999999+00:00",
        "2025-07-25T06:00:00Z",
        "2025-07-25T07:00:30",
        "1970-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "\u{feff}",
        "é",
        "\u{0}",
        "\t",
    ]);
    prop_oneof![
        6 => tokens.prop_map(str::to_string),
        2 => (0u32..400_000).prop_map(|ms| format!("{}.{:03}", ms / 1000, ms % 1000)),
        1 => "[ -~]{0,8}",
    ]
}

#[derive(Clone, Debug)]
struct RowP {
    /// Arrival in ms (rows are sorted by it unless the trace is shuffled).
    ms: u32,
    duration: &'static str,
    class: &'static str,
    /// Replace the cell at this index with an edge-case token.
    corrupt: Option<(Index, String)>,
    /// 0: drop the last cell; 1: add a cell; otherwise as many as the header.
    shape: u8,
    eol: &'static str,
}

fn row_p() -> impl Strategy<Value = RowP> {
    (
        0u32..400_000,
        prop::sample::select(vec!["", "20", "0", "1.5", "90s", "2m", "0.000001"]),
        prop::sample::select(vec!["a", "b", ""]),
        prop::option::weighted(0.15, (any::<Index>(), cell())),
        0u8..16,
        prop::sample::select(vec!["\n", "\n", "\n", "\r\n", "\r\n", "\r", "\n\n", "\n  \n"]),
    )
        .prop_map(|(ms, duration, class, corrupt, shape, eol)| RowP { ms, duration, class, corrupt, shape, eol })
}

/// A CSV text: a header with an arrival column somewhere (sometimes none),
/// and rows mostly valid and in order, some cells replaced by edge cases,
/// some rows short or long, mixed line endings; times as seconds or as
/// RFC 3339 timestamps.
fn trace_text() -> impl Strategy<Value = Vec<u8>> {
    let arrival = prop::sample::select(vec![
        "arrival",
        "Arrival",
        " time ",
        "t",
        "t_s",
        "timestamp",
        "arrival_s",
        "\u{feff}arrival",
        "start",
    ]);
    let other = prop::sample::select(vec!["duration", "duration_s", "class", "CLASS", "extra", "", "arrival"]);
    (
        arrival,
        prop::collection::vec(other, 0..4),
        any::<Index>(),
        prop::collection::vec(row_p(), 0..12),
        0u8..10,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(arrival, others, pos, mut rows, order, rfc3339, final_eol)| {
            let mut header: Vec<&str> = others;
            let at = pos.index(header.len() + 1);
            header.insert(at, arrival);
            let lower: Vec<String> =
                header.iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase()).collect();
            if order < 8 {
                rows.sort_by_key(|r| r.ms);
            }
            let mut s = header.join(",");
            s.push('\n');
            let n = rows.len();
            for (i, r) in rows.into_iter().enumerate() {
                let time = if rfc3339 {
                    format!("2025-07-25T07:{:02}:{:02}.{:03}Z", r.ms / 60_000, r.ms / 1000 % 60, r.ms % 1000)
                } else {
                    format!("{}.{:03}", r.ms / 1000, r.ms % 1000)
                };
                let mut cells: Vec<String> = lower
                    .iter()
                    .enumerate()
                    .map(|(j, h)| match h.as_str() {
                        _ if j == at => time.clone(),
                        "duration" | "duration_s" => r.duration.to_string(),
                        "class" => r.class.to_string(),
                        _ => "x".to_string(),
                    })
                    .collect();
                if let Some((k, tok)) = &r.corrupt {
                    let k = k.index(cells.len());
                    cells[k] = tok.clone();
                }
                match r.shape {
                    0 => {
                        cells.pop();
                    }
                    1 => cells.push("y".into()),
                    _ => {}
                }
                s.push_str(&cells.join(","));
                if i + 1 < n || final_eol {
                    s.push_str(r.eol);
                }
            }
            s.into_bytes()
        })
}

/// Loads the trace scenario over `bytes` (no panic allowed); if it
/// validates, replays it (no panic allowed) and checks that a validated
/// trace replays to its end and, without warm-up or scaling, that the
/// replay counts exactly the rows validation counted.
fn check_trace(bytes: &[u8], o: &TraceOpts) -> Result<(), TestCaseError> {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("x.csv"), bytes).unwrap();
    let Ok(sc) = load_str(&trace_scenario(o), "fuzz-trace.toml", dir.path(), &[]) else { return Ok(()) };
    let ArrivalSpec::Trace(spec) = &sc.arrivals else { panic!("not a trace") };
    let r = simulate(&sc, 0, LOG);
    prop_assert!(
        r.end.arrival_error.is_none(),
        "a validated trace did not replay to its end: {:?}",
        r.end.arrival_error
    );
    if o.warmup == 0 && spec.scale == 1.0 {
        prop_assert_eq!(r.totals.arrived, spec.rows_in_span, "replay and validation count different rows");
    }
    check_trace_run(&sc, &r)
}

fn check_trace_run(sc: &Scenario, r: &RunResult) -> Result<(), TestCaseError> {
    let t = &r.totals;
    prop_assert_eq!(t.arrived, t.served_primary + t.served_fallback + t.failed() + r.end.waiting_end);
    prop_assert_eq!(&sum(r.bins.iter().map(|b| &b.counts)), t);
    prop_assert_eq!(r.bins.len() as u64, sc.duration.0.div_ceil(sc.bin.0));
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    /// Arbitrary bytes as a trace never panic validation or replay.
    #[test]
    fn fuzz_trace_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048), o in trace_opts()) {
        let mut with_header = b"arrival,duration,class\n".to_vec();
        with_header.extend_from_slice(&bytes);
        check_trace(&bytes, &o)?;
        check_trace(&with_header, &o)?;
    }

    /// Traces built from edge-case cells, headers and line endings: no
    /// panic; a trace that validates replays to its end, row for row.
    #[test]
    fn fuzz_trace_structured(bytes in trace_text(), o in trace_opts()) {
        check_trace(&bytes, &o)?;
    }
}
