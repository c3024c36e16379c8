//! Bounded reading of input files: every file surgesim reads (scenarios,
//! the scenarios they extend, traces, rate files, empirical
//! distributions) must be a regular file, is read within a size or row
//! limit, and is quoted in messages only in a clipped form.
//!
//! Regular files only, because an input may be read more than once (the
//! trace at validation and at every replication, a sweep's files at every
//! point): a FIFO would hang on its second reading, a device such as
//! `/dev/zero` never ends.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Largest scenario file (and file it extends), in bytes.
pub const MAX_TEXT_BYTES: u64 = 16 << 20;

/// Longest row of a CSV input (a trace, rate file or empirical
/// distribution), in bytes; a quoted field spanning lines counts whole.
pub const MAX_ROW_BYTES: u64 = 1 << 20;

/// Longest value quoted in a message, in characters.
pub const MAX_SHOWN_CHARS: usize = 60;

/// Opens `path` for reading if it is a regular file (symbolic links
/// followed); a folder, FIFO, socket or device is refused unopened.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let kind = std::fs::metadata(path)?.file_type();
    if !kind.is_file() {
        return Err(not_regular(kind.is_dir()));
    }
    let file = File::open(path)?;
    // The path may have been replaced between the two looks.
    if !file.metadata()?.is_file() {
        return Err(not_regular(false));
    }
    Ok(file)
}

fn not_regular(dir: bool) -> io::Error {
    let what = if dir { "a folder" } else { "not a regular file (a FIFO, socket or device)" };
    io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: input files must be regular files"))
}

/// The text of the regular file `path`, at most [`MAX_TEXT_BYTES`] long.
pub fn read_text(path: &Path) -> io::Result<String> {
    let mut bytes = Vec::new();
    open_regular(path)?.take(MAX_TEXT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_TEXT_BYTES {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("larger than {} MiB", MAX_TEXT_BYTES >> 20)));
    }
    String::from_utf8(bytes).map_err(|e| {
        io::Error::new(io::ErrorKind::InvalidData, format!("not UTF-8 text (at byte {})", e.utf8_error().valid_up_to()))
    })
}

/// `s` cut to [`MAX_SHOWN_CHARS`] characters, ending in "…" where it was
/// longer.
pub fn clip_plain(s: &str) -> String {
    if s.chars().count() <= MAX_SHOWN_CHARS {
        return s.to_string();
    }
    let head: String = s.chars().take(MAX_SHOWN_CHARS - 1).collect();
    head + "…"
}

/// `s` quoted as `{:?}` does, cut as [`clip_plain`] cuts.
pub fn clip(s: &str) -> String {
    format!("{:?}", clip_plain(s))
}

/// `msg` with every quoted (`"…"`) or back-ticked span longer than
/// [`MAX_SHOWN_CHARS`] cut short with "…", for messages that quote input
/// (a library's parse error, say).
pub fn clip_quoted(msg: &str) -> String {
    let chars: Vec<char> = msg.chars().collect();
    let mut out = String::with_capacity(msg.len().min(4096));
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        out.push(c);
        i += 1;
        if c != '"' && c != '`' {
            continue;
        }
        // The span up to the closing mark (a `\"` inside a quote is
        // escaped), or to the end of the line when there is none.
        let mut j = i;
        while j < chars.len() && chars[j] != c && chars[j] != '\n' {
            j += if c == '"' && chars[j] == '\\' { 2 } else { 1 };
        }
        let end = j.min(chars.len());
        let span = &chars[i..end];
        if span.len() > MAX_SHOWN_CHARS {
            out.extend(&span[..MAX_SHOWN_CHARS - 1]);
            out.push('…');
        } else {
            out.extend(span);
        }
        if end < chars.len() && chars[end] == c {
            out.push(c);
            i = end + 1;
        } else {
            i = end;
        }
    }
    out
}

/// A row of a CSV input was longer than [`MAX_ROW_BYTES`] (the message
/// leaves the line to the caller, which names the file too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowTooLong {
    /// The line the row starts on (1-based).
    pub line: u64,
}

impl fmt::Display for RowTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a row longer than {} bytes (1 MiB): not a CSV file of this kind", MAX_ROW_BYTES)
    }
}

impl std::error::Error for RowTooLong {}

impl RowTooLong {
    /// The [`RowTooLong`] inside an I/O error, if that is what it is.
    pub fn of(e: &io::Error) -> Option<RowTooLong> {
        e.get_ref().and_then(|inner| inner.downcast_ref::<RowTooLong>()).copied()
    }
}

/// Where a CSV scan stands within a row.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Field {
    Start,
    Plain,
    Quoted,
    /// A `"` inside a quoted field: the end of the quote, or the first
    /// half of `""`.
    QuoteInQuoted,
}

/// A reader that fails with [`RowTooLong`] as soon as a CSV row grows past
/// [`MAX_ROW_BYTES`], so a CSV parser on top never buffers more than that
/// (a file of one endless line, or an unterminated quote, included).
///
/// It follows the rows as the `csv` crate splits them with its default
/// quoting (`"` opens a quote only at the start of a field; `""` inside
/// one is a quote character): rows end at `\n`, and at `\r` too when
/// `cr_ends_rows`.
#[derive(Debug)]
pub struct RowLimit<R> {
    inner: R,
    cr_ends_rows: bool,
    state: Field,
    row_len: u64,
    line: u64,
    row_line: u64,
    failed: Option<RowTooLong>,
}

impl<R: Read> RowLimit<R> {
    pub fn new(inner: R, cr_ends_rows: bool) -> RowLimit<R> {
        RowLimit { inner, cr_ends_rows, state: Field::Start, row_len: 0, line: 1, row_line: 1, failed: None }
    }

    fn end_row(&mut self, newline: bool) {
        if newline {
            self.line += 1;
        }
        self.state = Field::Start;
        self.row_len = 0;
        self.row_line = self.line;
    }

    fn scan(&mut self, bytes: &[u8]) -> Result<(), RowTooLong> {
        for &b in bytes {
            if self.row_len == 0 {
                self.row_line = self.line;
            }
            self.row_len += 1;
            match (self.state, b) {
                (Field::Quoted, b'"') => self.state = Field::QuoteInQuoted,
                (Field::Quoted, b'\n') => self.line += 1,
                (Field::Quoted, _) => {}
                (_, b'\n') => self.end_row(true),
                (_, b'\r') if self.cr_ends_rows => self.end_row(false),
                (_, b',') => self.state = Field::Start,
                (Field::Start, b'"') | (Field::QuoteInQuoted, b'"') => self.state = Field::Quoted,
                _ => self.state = Field::Plain,
            }
            if self.row_len > MAX_ROW_BYTES {
                return Err(RowTooLong { line: self.row_line });
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for RowLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.failed {
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
        let n = self.inner.read(buf)?;
        if let Err(e) = self.scan(&buf[..n]) {
            self.failed = Some(e);
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(bytes: &[u8], cr: bool) -> Result<usize, Option<RowTooLong>> {
        let mut out = Vec::new();
        RowLimit::new(bytes, cr).read_to_end(&mut out).map_err(|e| RowTooLong::of(&e))
    }

    #[test]
    fn rows_up_to_the_limit_pass_and_longer_ones_fail_with_their_line() {
        let row = vec![b'1'; MAX_ROW_BYTES as usize - 1];
        let mut ok = b"a\n".to_vec();
        ok.extend(&row);
        ok.push(b'\n');
        assert!(drain(&ok, false).is_ok());
        let mut long = b"a\n\n".to_vec();
        long.extend(&row);
        long.extend(b"22\n");
        assert_eq!(drain(&long, false), Err(Some(RowTooLong { line: 3 })));
    }

    #[test]
    fn a_quoted_field_spanning_lines_counts_as_one_row() {
        // An unterminated quote: every later line belongs to its field.
        let mut text = b"a\n\"x\n".to_vec();
        while (text.len() as u64) < MAX_ROW_BYTES + 10 {
            text.extend(b"1,2\n");
        }
        assert_eq!(drain(&text, false), Err(Some(RowTooLong { line: 2 })));
        // Closed quotes (with "" inside) end where csv ends them.
        let mut text = Vec::new();
        while (text.len() as u64) < 3 * MAX_ROW_BYTES {
            text.extend(b"\"a \"\"b\"\"\nc\",2\n");
        }
        assert!(drain(&text, false).is_ok());
        // A quote inside a plain field is a plain character.
        let mut text = Vec::new();
        while (text.len() as u64) < 3 * MAX_ROW_BYTES {
            text.extend(b"a\"b,2\n");
        }
        assert!(drain(&text, false).is_ok());
    }

    #[test]
    fn carriage_returns_end_rows_only_when_asked() {
        let mut text = Vec::new();
        while (text.len() as u64) < MAX_ROW_BYTES + 10 {
            text.extend(b"1,2\r");
        }
        assert!(drain(&text, true).is_ok());
        assert_eq!(drain(&text, false), Err(Some(RowTooLong { line: 1 })));
    }

    #[test]
    fn clipping_keeps_short_values_and_cuts_long_ones() {
        assert_eq!(clip("abc"), "\"abc\"");
        assert_eq!(clip_plain(&"é".repeat(60)), "é".repeat(60));
        assert_eq!(clip_plain(&"é".repeat(61)).chars().count(), MAX_SHOWN_CHARS);
        let long = "x".repeat(1000);
        let c = clip(&long);
        assert_eq!(c.chars().count(), MAX_SHOWN_CHARS + 2);
        assert!(c.ends_with("…\""));
        let msg = format!("invalid value \"{long}\" for `{long}`, expected \"a\\\"b\"");
        let m = clip_quoted(&msg);
        assert!(m.len() < 200, "{m}");
        assert!(m.contains("expected \"a\\\"b\""), "{m}");
        assert_eq!(m.matches('…').count(), 2, "{m}");
        // A quote left open on one line does not swallow the next.
        let m = clip_quoted(&format!("x = \"abc\ninvalid \"{long}\""));
        assert!(m.starts_with("x = \"abc\ninvalid \"x") && m.len() < 100, "{m}");
    }
}
