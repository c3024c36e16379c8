//! Trace files: empty, truncated, non-UTF-8, CRLF, out of order, absurd
//! values, RFC 3339 times; the bad ones exit 2 naming the file and the line,
//! the odd but valid ones replay as documented.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

use super::{check_bad, column, fixtures};
use crate::common::{assert_exit, entries, stderr, stdout, summary, surgesim, total};

/// A folder holding `trace.toml` (the fixture, with `arrivals_extra`
/// appended to its final [arrivals] table) and the trace `x.csv`.
struct TraceDir {
    tmp: TempDir,
}

impl TraceDir {
    fn new(csv: &[u8], arrivals_extra: &str) -> TraceDir {
        let tmp = TempDir::new().unwrap();
        let mut text = fs::read_to_string(fixtures().join("trace.toml")).unwrap();
        text.push_str(arrivals_extra);
        text.push('\n');
        fs::write(tmp.path().join("trace.toml"), text).unwrap();
        fs::write(tmp.path().join("x.csv"), csv).unwrap();
        TraceDir { tmp }
    }

    fn path(&self) -> &Path {
        self.tmp.path()
    }

    fn scenario(&self) -> String {
        self.path().join("trace.toml").display().to_string()
    }

    fn inputs(&self) -> BTreeSet<String> {
        entries(self.path())
    }

    /// `surgesim run trace.toml --out out` (exit 0 asserted); the summary.
    fn run_ok(&self, extra: &[&str]) -> Value {
        let sc = self.scenario();
        let out_dir = self.path().join("out");
        let _ = fs::remove_dir_all(&out_dir);
        let mut args = vec!["run", sc.as_str(), "--out"];
        let o = out_dir.display().to_string();
        args.push(&o);
        args.extend_from_slice(extra);
        let out = surgesim(self.path(), &args);
        assert_exit(&args, &out, 0);
        summary(&out_dir)
    }
}

/// A trace that the scenario must reject: the case id, the CSV bytes, lines
/// appended to [arrivals], and what stderr must contain (besides the file).
struct BadTrace {
    id: &'static str,
    csv: &'static [u8],
    extra: &'static str,
    expect: &'static [&'static str],
}

const fn bt(id: &'static str, csv: &'static [u8], expect: &'static [&'static str]) -> BadTrace {
    BadTrace { id, csv, extra: "", expect }
}

const BAD_TRACES: &[BadTrace] = &[
    bt("empty file", b"", &["`arrivals.file`", "empty file"]),
    bt("header only", b"arrival,duration,class\n", &["`arrivals.file`", "no calls"]),
    bt("header only, CRLF, blank lines", b"arrival\r\n\r\n\r\n", &["`arrivals.file`", "no calls"]),
    bt("missing arrival column", b"start,duration\n1,20\n", &["line 1", "no arrival column"]),
    bt("non-UTF-8 header only", b"\xffarrival\n1\n", &["line 1", "no arrival column"]),
    bt("non-UTF-8 arrival", b"arrival,class\n1,a\n\xff\xfe,b\n", &["line 3", "arrival is not valid UTF-8"]),
    bt("non-UTF-8 class", b"arrival,class\n1,a\n2,\xc3\x28\n", &["line 3", "class is not valid UTF-8"]),
    bt("non-UTF-8 duration", b"arrival,duration\n1,20\n2,2\xe2\x82\n", &["line 3", "duration is not valid UTF-8"]),
    bt(
        "truncated last line (no duration field)",
        b"arrival,duration\n1,20\n2",
        &["line 3", "missing the duration column"],
    ),
    bt("truncated last line (half a number)", b"arrival,duration\n1,20\n2,1e", &["line 3", "duration"]),
    bt("out of order", b"arrival\n1\n5\n3\n", &["line 4", "out of time order", "sort = true"]),
    bt("out of order, CRLF", b"arrival\r\n1\r\n5\r\n3\r\n", &["line 4", "out of time order"]),
    bt("duration of three years (seconds)", b"arrival,duration\n1,20\n2,94608000\n", &["line 3", "out of range"]),
    bt("duration of three years (unit)", b"arrival,duration\n1,20\n2,3y\n", &["line 3", "out of range"]),
    bt("negative duration", b"arrival,duration\n1,-5\n", &["line 2", "out of range"]),
    bt("NaN duration", b"arrival,duration\n1,NaN\n", &["line 2", "out of range"]),
    bt("NaN arrival", b"arrival\n1\nNaN\n", &["line 3", "out of range"]),
    bt("inf arrival", b"arrival\n1\ninf\n", &["line 3", "out of range"]),
    bt("-inf arrival", b"arrival\n-inf\n", &["line 2", "out of range"]),
    bt("arrival overflowing to inf", b"arrival\n1e400\n", &["line 2", "out of range"]),
    bt("arrival of 10^12 s", b"arrival\n1000000000000\n", &["line 2", "out of range"]),
    bt("empty arrival", b"arrival,class\n1,a\n,b\n", &["line 3", "expected seconds after clock_start"]),
    bt("unknown class", b"arrival,class\n1,a\n2,zzz\n", &["line 3", "unknown class", "\"a\", \"b\""]),
    bt("class differing in case", b"arrival,class\n1,A\n", &["line 2", "unknown class"]),
    bt("RFC 3339 without origin", b"arrival\n2025-07-25T07:00:30Z\n", &["line 2", "origin"]),
    bt("RFC 3339 without offset", b"arrival\n2025-07-25T07:00:30\n", &["line 2", "RFC 3339"]),
    bt("unterminated quote", b"arrival,class\n1,a\n\"2,b\n3,a\n", &["line 3", "expected seconds after clock_start"]),
    BadTrace {
        id: "malformed origin",
        csv: b"arrival\n2025-07-25T07:00:30Z\n",
        extra: "origin = \"yesterday\"",
        expect: &["`arrivals.origin`", "yesterday"],
    },
    BadTrace {
        id: "out of order after sorting was refused",
        csv: b"arrival\n1\n5\n3\n",
        extra: "sort = false",
        expect: &["line 4", "out of time order"],
    },
    BadTrace {
        id: "trace file that does not exist",
        csv: b"arrival\n1\n",
        extra: "file = \"no-such-trace.csv\"",
        expect: &["`arrivals.file`", "no-such-trace.csv", "cannot read"],
    },
    BadTrace {
        id: "trace file that is a folder",
        csv: b"arrival\n1\n",
        extra: "file = \".\"",
        expect: &["`arrivals.file`"],
    },
];

/// Writes `extra` as a second `file = …` would be a TOML error, so cases
/// that name another file replace the fixture's line instead.
fn trace_dir_for(c: &BadTrace) -> TraceDir {
    if let Some(rest) = c.extra.strip_prefix("file = ") {
        let d = TraceDir::new(c.csv, "");
        let p = d.path().join("trace.toml");
        let text = fs::read_to_string(&p).unwrap().replace("file = \"x.csv\"", &format!("file = {rest}"));
        fs::write(p, text).unwrap();
        d
    } else {
        TraceDir::new(c.csv, c.extra)
    }
}

/// What stderr must contain for a bad trace: the case's strings, the
/// scenario file, and the trace file unless the case names another file
/// (or fails on a field before the trace is read).
fn trace_expect(c: &BadTrace) -> Vec<&'static str> {
    let mut expect = c.expect.to_vec();
    expect.push("trace.toml");
    if !c.extra.starts_with("file =") && !c.extra.starts_with("origin =") {
        expect.push("x.csv");
    }
    expect
}

#[test]
fn bad_traces_exit_2_naming_the_file_and_line() {
    assert!(BAD_TRACES.len() >= 25);
    let failures: Vec<String> = BAD_TRACES
        .iter()
        .filter_map(|c| {
            let d = trace_dir_for(c);
            let sc = d.scenario();
            check_bad(c.id, d.path(), &["run", &sc], &trace_expect(c), &d.inputs())
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} bad traces failed:\n\n{}",
        failures.len(),
        BAD_TRACES.len(),
        failures.join("\n")
    );
}

#[test]
fn a_trace_over_max_calls_is_refused() {
    let d = TraceDir::new(b"arrival\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "");
    let sc = d.scenario();
    let f = check_bad(
        "trace over --max-calls",
        d.path(),
        &["run", &sc, "--max-calls", "10"],
        &["hostile-trace", "1.200e1", "--max-calls"],
        &d.inputs(),
    );
    assert!(f.is_none(), "{}", f.unwrap());
}

/// `validate` and `trace` refuse the same traces with the same message.
#[test]
fn validate_and_trace_reject_bad_traces_too() {
    for c in BAD_TRACES.iter().filter(|c| c.id.starts_with("non-UTF-8 arrival") || c.id == "out of order") {
        let d = trace_dir_for(c);
        let sc = d.scenario();
        let v = check_bad(c.id, d.path(), &["validate", &sc], &trace_expect(c), &d.inputs());
        assert!(v.is_none(), "{}", v.unwrap());
        let out_csv = d.path().join("copy.csv").display().to_string();
        let t = check_bad(c.id, d.path(), &["trace", &sc, "-o", &out_csv], &trace_expect(c), &d.inputs());
        assert!(t.is_none(), "{}", t.unwrap());
    }
}

#[test]
fn extra_columns_are_ignored() {
    let d = TraceDir::new(b"id,arrival,note,duration,class,more\n7,1,x,20,a,\n8,2,\"y, z\",,b,1\n9,3,,5,b,\n", "");
    let s = d.run_ok(&[]);
    assert_eq!(total(&s, "arrived"), 3.0);
    assert_eq!(s["classes"]["a"]["arrived"], 1.0);
    assert_eq!(total(&s, "served_primary"), 3.0);
}

#[test]
fn rows_with_more_fields_than_the_header_are_accepted() {
    let d = TraceDir::new(b"arrival,duration\n1,20,extra\n2,20,more,fields\n", "");
    assert_eq!(total(&d.run_ok(&[]), "arrived"), 2.0);
}

/// CRLF (and old-Mac CR) line endings replay to the same results as LF.
#[test]
fn crlf_line_endings_give_the_same_totals_as_lf() {
    let lf: &[u8] = b"arrival,duration,class\n1,20,a\n2.5,,b\n2.5,40,a\n30,1m,b\n200,5,a\n";
    let crlf: Vec<u8> = String::from_utf8_lossy(lf).replace('\n', "\r\n").into_bytes();
    let cr: Vec<u8> = String::from_utf8_lossy(lf).replace('\n', "\r").into_bytes();
    let a = TraceDir::new(lf, "").run_ok(&[]);
    assert_eq!(total(&a, "arrived"), 5.0);
    let b = TraceDir::new(&crlf, "").run_ok(&[]);
    assert_eq!(a["totals"], b["totals"], "CRLF totals differ from LF");
    assert_eq!(a["classes"], b["classes"], "CRLF classes differ from LF");
    assert_eq!(a["metrics"], b["metrics"], "CRLF metrics differ from LF");
    // Bare CR line ends (classic Mac) are documented as unsupported: the
    // file is one line, refused with a message, never misread.
    let d = TraceDir::new(&cr, "");
    let sc = d.scenario();
    let out = surgesim(d.path(), &["validate", sc.as_str()]);
    assert_exit(&["validate", "CR trace"], &out, 2);
}

#[test]
fn a_byte_order_mark_and_blank_lines_are_accepted() {
    let d = TraceDir::new(b"\xef\xbb\xbfArrival,Duration\n\n1,20\n\n\n2,20\n", "");
    assert_eq!(total(&d.run_ok(&[]), "arrived"), 2.0);
}

/// The documented behaviour of a short row: an *empty* duration field means
/// "sample it" (accepted); a *missing* field is a truncated row (rejected
/// with its line, see BAD_TRACES).
#[test]
fn an_empty_duration_field_is_sampled() {
    let d = TraceDir::new(b"arrival,duration,class\n1,20,a\n2,,a\n3,\"\",b\n", "");
    let s = d.run_ok(&[]);
    assert_eq!(total(&s, "arrived"), 3.0);
    assert_eq!(total(&s, "served_primary"), 3.0);
}

#[test]
fn duplicate_timestamps_are_accepted() {
    let d = TraceDir::new(b"arrival\n1\n1\n1\n1.000000\n2\n2\n", "");
    let s = d.run_ok(&[]);
    assert_eq!(total(&s, "arrived"), 6.0);
    assert_eq!(column(&d.path().join("out"), "arrivals")[0], 6.0);
}

#[test]
fn out_of_order_rows_are_accepted_with_sort() {
    let rows = b"arrival,class\n100,a\n5,b\n250,a\n5,a\n61,b\n";
    let d = TraceDir::new(rows, "sort = true");
    let s = d.run_ok(&[]);
    assert_eq!(total(&s, "arrived"), 5.0);
    assert_eq!(column(&d.path().join("out"), "arrivals"), vec![2.0, 2.0, 0.0, 0.0, 1.0]);
}

/// Rows before the run are skipped, counted and reported by `validate`;
/// rows after the end are never read.
#[test]
fn rows_before_the_run_are_skipped_with_a_warning() {
    let d = TraceDir::new(b"arrival\n-100\n-0.5\n0\n1\n299.999999\n300\n1e9\n", "");
    let sc = d.scenario();
    let args = ["validate", sc.as_str()];
    let out = surgesim(d.path(), &args);
    assert_exit(&args, &out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("warning") && text.contains("2 rows before the start"),
        "no warning about skipped rows:\n{text}"
    );
    let s = d.run_ok(&[]);
    assert_eq!(total(&s, "arrived"), 3.0, "rows at 0, 1 and 299.999999 s are in the run");
}

#[test]
fn rfc3339_times_with_origin_are_accepted() {
    let rows = b"timestamp,class\n2025-07-25T06:59:00Z,a\n2025-07-25T07:00:30Z,a\n2025-07-25T09:02:10+02:00,b\n2025-07-25T07:04:59.5Z,b\n";
    let d = TraceDir::new(rows, "origin = \"2025-07-25T07:00:00Z\"");
    let s = d.run_ok(&[]);
    assert_eq!(total(&s, "arrived"), 3.0, "the row at 06:59 lies before the run");
    assert_eq!(column(&d.path().join("out"), "arrivals"), vec![1.0, 0.0, 1.0, 0.0, 1.0]);
}

/// CRLF line numbers are exact; a file with bare CR line ends (one long
/// line to the reader) is rejected on line 1 for its header.
#[test]
fn crlf_line_numbers_are_exact() {
    let mut failures = Vec::new();
    for (name, eol) in [("CRLF", "\r\n"), ("CR", "\r")] {
        for bad_line in [2, 3, 7] {
            let bad_line = if eol == "\r" { 1 } else { bad_line };
            let mut csv = format!("arrival{eol}");
            for i in 2..bad_line {
                csv.push_str(&format!("{i}{eol}"));
            }
            csv.push_str(&format!("zz{eol}1000{eol}"));
            let d = TraceDir::new(csv.as_bytes(), "");
            let sc = d.scenario();
            let want = format!("line {bad_line}:");
            if let Some(f) = check_bad(name, d.path(), &["validate", &sc], &[&want], &d.inputs()) {
                failures.push(f);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Regression found by the trace fuzzer (`properties::fuzz_traces`): a
/// record that is one blank field (a line of spaces, or `""`) passed
/// validation as a blank line but stopped the replay, so `validate` said ok
/// and `run` exited 2 after simulating. Both now skip it.
#[test]
fn a_blank_record_is_treated_alike_by_validation_and_replay() {
    let mut failures = Vec::new();
    for (name, csv) in
        [("spaces", &b"arrival\n1\n   \n3\n"[..]), ("quoted empty field", &b"arrival\n0.000,y\n\"\""[..])]
    {
        let d = TraceDir::new(csv, "");
        let sc = d.scenario();
        let v = surgesim(d.path(), &["validate", sc.as_str()]);
        let out_dir = d.path().join("out").display().to_string();
        let r = surgesim(d.path(), &["run", sc.as_str(), "--out", out_dir.as_str()]);
        if v.status.code() != r.status.code() || r.status.code() != Some(0) {
            failures.push(format!(
                "[{name}] validate exit {:?}, run exit {:?}:\n--- validate\n{}{}--- run\n{}",
                v.status.code(),
                r.status.code(),
                stdout(&v),
                stderr(&v),
                stderr(&r)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
