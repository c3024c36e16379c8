//! The one reader of the CSV files a scenario names (traces, rate files,
//! empirical distributions): a header row whose columns are found by name,
//! then one record at a time with its line number.
//!
//! Column names match case-insensitively, trimmed, with a leading
//! byte-order mark dropped. Blank records (an empty line, spaces, `""`)
//! are skipped. Messages carry the line number and quote nothing of the
//! file. The file must be a regular file, and no row may be longer than
//! [`crate::input::MAX_ROW_BYTES`] (see [`RowLimit`]).

use std::fs::File;
use std::path::Path;

use crate::input::{open_regular, RowLimit, RowTooLong};

/// How records are split.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Rate files and empirical distributions: `\n`, `\r\n` or `\r` end a
    /// record; every record has the header's number of fields.
    Table,
    /// Traces: the reader the replay uses too (see
    /// [`crate::arrivals::trace::reader`]).
    Trace,
}

pub(crate) struct Columns {
    rdr: csv::Reader<RowLimit<File>>,
    /// Header names, normalised (trimmed, lower case, no byte-order mark).
    names: Vec<String>,
    rec: csv::ByteRecord,
    line: u64,
}

impl Columns {
    /// Opens `path` and reads its header row. The error is the reason
    /// alone; the caller names the file.
    pub fn open(path: &Path, dialect: Dialect) -> Result<Columns, String> {
        let file = open_regular(path).map_err(|e| format!("cannot read: {e}"))?;
        let mut rdr = match dialect {
            Dialect::Table => csv::ReaderBuilder::new().from_reader(RowLimit::new(file, true)),
            Dialect::Trace => crate::arrivals::trace::reader(RowLimit::new(file, false)),
        };
        let header = rdr.byte_headers().map_err(|e| describe(e, 1))?;
        let names = header
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
            .collect();
        Ok(Columns { rdr, names, rec: csv::ByteRecord::new(), line: 1 })
    }

    /// Whether the header row is empty (an empty file).
    pub fn header_is_empty(&self) -> bool {
        self.names.iter().all(String::is_empty)
    }

    /// The first column whose name is one of `names` (lower case).
    pub fn find(&self, names: &[&str]) -> Option<usize> {
        self.names.iter().position(|n| names.contains(&n.as_str()))
    }

    /// Reads the next record that is not blank; `Ok(false)` at the end.
    pub fn next(&mut self) -> Result<bool, String> {
        loop {
            match self.rdr.read_byte_record(&mut self.rec) {
                Ok(false) => return Ok(false),
                Ok(true) => {}
                Err(e) => return Err(describe(e, self.line + 1)),
            }
            self.line = self.rec.position().map_or(self.line + 1, |p| p.line());
            if !crate::arrivals::trace::is_blank(&self.rec) {
                return Ok(true);
            }
        }
    }

    /// The current record.
    pub fn record(&self) -> &csv::ByteRecord {
        &self.rec
    }

    /// The line the current record starts on (the header is line 1).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Cell `col` of the current record, trimmed; empty when the record is
    /// short. `what` names the column in the message when it is not UTF-8.
    pub fn cell(&self, col: usize, what: &str) -> Result<&str, String> {
        let raw = self.rec.get(col).unwrap_or_default();
        std::str::from_utf8(raw).map(str::trim).map_err(|_| format!("line {}: {what} is not valid UTF-8", self.line))
    }
}

/// A CSV error as a message with its line (`line` where it carries none).
fn describe(e: csv::Error, line: u64) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => {
            format!("line {}: {len} fields, but the header has {expected_len}", pos.as_ref().map_or(line, |p| p.line()))
        }
        csv::ErrorKind::Io(io) => match RowTooLong::of(io) {
            Some(long) => format!("line {}: {long}", long.line),
            None => format!("line {line}: {io}"),
        },
        _ => format!("line {line}: {e}"),
    }
}
