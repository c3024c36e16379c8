//! `sweep.csv` (and a shard's `sweep.part.csv`): one row per point.
//!
//! Columns: `point`, one column per varied path (named by the path),
//! `headroom_pct` (see [`super::runs::headroom_pct`]), then for each sweep
//! metric `<m>_mean,<m>_ci_lo,<m>_ci_hi` (the 95 % Student-t interval of
//! the mean over the replications; empty with a single replication).
//!
//! Every file of this shape, whole or part, is written by
//! [`Table::to_csv`] from cells that are strings, and `merge` reads the
//! cells back as the same strings: that is why a merged `sweep.csv` is
//! byte-identical to the one an unsharded sweep writes.

use std::fmt::Write;

use super::info::SweepInfo;
use super::runs::PointResult;
use crate::fmt::{num, sig};

/// A `sweep.csv` as cells.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    /// Rows in point order; cell 0 is the point index.
    pub rows: Vec<Vec<String>>,
}

/// Why a `sweep.csv`-shaped file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RowsError {
    #[error("{0}")]
    Csv(#[from] csv::Error),
    #[error("row {row}: {msg}")]
    Row { row: usize, msg: String },
}

impl Table {
    /// An empty table for a grid over `paths` reporting `metrics`.
    pub fn new(paths: &[String], metrics: &[&str]) -> Table {
        let mut header = vec!["point".to_string()];
        header.extend(paths.iter().cloned());
        header.push("headroom_pct".into());
        for m in metrics {
            header.extend(["mean", "ci_lo", "ci_hi"].map(|s| format!("{m}_{s}")));
        }
        Table { header, rows: Vec::new() }
    }

    /// Appends the row of one point.
    pub fn push(&mut self, r: &PointResult) {
        let mut row = vec![r.point.index.to_string()];
        row.extend(r.point.values.iter().map(ToString::to_string));
        row.push(num(r.headroom_pct));
        for s in &r.stats {
            let [lo, hi] = s.ci95.unwrap_or([f64::NAN, f64::NAN]);
            row.extend([num(s.mean), num(lo), num(hi)]);
        }
        self.rows.push(row);
    }

    /// The CSV bytes.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.header).expect("in-memory write");
        for r in &self.rows {
            w.write_record(r).expect("in-memory write");
        }
        w.into_inner().expect("in-memory flush")
    }

    /// Reads CSV bytes written by [`Table::to_csv`].
    pub fn from_csv(bytes: &[u8]) -> Result<Table, RowsError> {
        let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
        let header: Vec<String> = r.headers()?.iter().map(str::to_string).collect();
        let mut rows = Vec::new();
        for (i, rec) in r.records().enumerate() {
            let row: Vec<String> = rec?.iter().map(str::to_string).collect();
            if row.first().and_then(|c| c.parse::<usize>().ok()).is_none() {
                return Err(RowsError::Row { row: i + 1, msg: "the first cell is not a point index".into() });
            }
            rows.push(row);
        }
        Ok(Table { header, rows })
    }

    /// The point index of each row.
    pub fn indices(&self) -> Vec<usize> {
        self.rows.iter().map(|r| r[0].parse().unwrap_or(usize::MAX)).collect()
    }

    /// Index of a column.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// A cell as a number (NaN when empty or absent).
    pub fn number(&self, row: usize, col: usize) -> f64 {
        self.rows[row].get(col).and_then(|c| c.parse().ok()).unwrap_or(f64::NAN)
    }

    /// The terminal table: the varied values, headroom and the main
    /// metrics (mean ± 95 % half-width when there are intervals).
    pub fn render(&self, info: &SweepInfo) -> String {
        let mut out = String::new();
        let n = info.replications;
        let _ = writeln!(
            out,
            "{} — sweep of {} points × {} replication{} (common random numbers{})",
            info.scenario,
            info.points_total,
            n,
            if n == 1 { "" } else { "s" },
            if n > 1 { "; mean ± 95% CI half-width" } else { "" }
        );
        let paths: Vec<&str> = info.grid.iter().map(|a| a.path.as_str()).collect();
        let shown = ["failed", "failure_rate", "wait_p95_s", "utilisation_primary", "cost_total"];
        let mut cols: Vec<(String, Vec<String>)> = Vec::new();
        let mut simple = |name: &str, title: &str| {
            if let Some(c) = self.column(name) {
                cols.push((title.to_string(), self.rows.iter().map(|r| r[c].clone()).collect()));
            }
        };
        simple("point", "point");
        for p in &paths {
            simple(p, p);
        }
        if let Some(c) = self.column("headroom_pct") {
            let cells = (0..self.rows.len()).map(|r| sig(self.number(r, c), 3)).collect();
            cols.push(("headroom_%".into(), cells));
        }
        for m in shown {
            let (Some(mean), Some(lo), Some(hi)) = (
                self.column(&format!("{m}_mean")),
                self.column(&format!("{m}_ci_lo")),
                self.column(&format!("{m}_ci_hi")),
            ) else {
                continue;
            };
            let cells = (0..self.rows.len())
                .map(|r| {
                    let (m, l, h) = (self.number(r, mean), self.number(r, lo), self.number(r, hi));
                    if l.is_nan() || h.is_nan() {
                        sig(m, 5)
                    } else {
                        format!("{} ± {}", sig(m, 4), sig((h - l) / 2.0, 2))
                    }
                })
                .collect();
            cols.push((m.to_string(), cells));
        }
        let widths: Vec<usize> =
            cols.iter().map(|(t, cells)| cells.iter().map(String::len).chain([t.len()]).max().unwrap_or(0)).collect();
        for (i, (t, _)) in cols.iter().enumerate() {
            let _ = write!(out, "{}{:>w$}", if i == 0 { "" } else { "  " }, t, w = widths[i]);
        }
        out.push('\n');
        for r in 0..self.rows.len() {
            for (i, (_, cells)) in cols.iter().enumerate() {
                let _ = write!(out, "{}{:>w$}", if i == 0 { "" } else { "  " }, cells[r], w = widths[i]);
            }
            out.push('\n');
        }
        out
    }
}
