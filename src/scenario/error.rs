//! [`ScenarioError`]: why a scenario could not be loaded, naming the file
//! and, where it can, the line or the field and what would be valid; and
//! the form of a TOML parse error, which quotes the scenario's line only
//! when the text is a scenario file as written.

use crate::input::{clip_plain, clip_quoted};

/// Why a scenario could not be loaded. Every variant names the file and,
/// where it can, the line or the field and what would be valid.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    // The cause is part of the message (and deliberately not a `source`,
    // which would print it twice in an error chain).
    #[error("cannot read scenario file {path}: {reason}")]
    Read { path: String, reason: std::io::Error },
    #[error("{path}: {msg}")]
    Toml { path: String, msg: String },
    #[error("{path}: field `{field}`: {msg}")]
    Invalid { path: String, field: String, msg: String },
    #[error("{path}: --set {arg}: {msg}")]
    Override { path: String, arg: String, msg: String },
    #[error("{path}: [overrides] {arg}: {msg}")]
    VariantOverride { path: String, arg: String, msg: String },
}

/// How much of the text a TOML parse error may show.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Show {
    /// A scenario file as written: line, column and the line itself
    /// (clipped around the column).
    Line,
    /// A file not known to be a scenario (one that `extends` names): line
    /// and column, never its content.
    Position,
    /// Text surgesim put together (a variant merged with what it extends):
    /// its line numbers are no file's, so the message alone.
    Nothing,
}

/// Characters of a scenario line shown around the column of an error.
const LINE_WINDOW: usize = 80;

impl ScenarioError {
    /// A TOML parse error in `text` (read from `path`), shown as `show` allows.
    pub(crate) fn toml(path: &str, text: &str, e: &toml::de::Error, show: Show) -> ScenarioError {
        ScenarioError::Toml { path: path.to_string(), msg: toml_message(text, e, show) }
    }

    /// The error with the field or argument and every quoted value in its
    /// message cut short (see [`clip_plain`], [`clip_quoted`]): a 50 MB
    /// value in a scenario is not echoed whole.
    pub(crate) fn clipped(self) -> ScenarioError {
        use ScenarioError::*;
        match self {
            Read { .. } => self,
            // Clipped as it was made (its snippet is clipped by columns).
            Toml { .. } => self,
            Invalid { path, field, msg } => Invalid { path, field: clip_plain(&field), msg: clip_quoted(&msg) },
            Override { path, arg, msg } => Override { path, arg: clip_plain(&arg), msg: clip_quoted(&msg) },
            VariantOverride { path, arg, msg } => {
                VariantOverride { path, arg: clip_plain(&arg), msg: clip_quoted(&msg) }
            }
        }
    }
}

fn toml_message(text: &str, e: &toml::de::Error, show: Show) -> String {
    let msg = clip_quoted(e.message().trim_end());
    if e.span().is_none() && msg.contains("recursion limit") {
        // The parser gives no position for a dotted key too long: find it.
        let at = match deep_key_line(text) {
            Some(line) if show != Show::Nothing => format!("TOML parse error at line {line}: "),
            _ => String::new(),
        };
        return format!("{at}a dotted key or table name of more than {MAX_KEY_PARTS} parts is nested too deeply");
    }
    let start = match e.span() {
        Some(span) if show != Show::Nothing && text.is_char_boundary(span.start) => span.start,
        _ => return msg,
    };
    let end = e.span().map_or(start, |s| s.end.max(start));
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_no = text[..start].matches('\n').count() + 1;
    let col = text[line_start..start].chars().count() + 1;
    let head = format!("TOML parse error at line {line_no}, column {col}");
    if show == Show::Position {
        return format!("{head}: {msg}");
    }
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line: Vec<char> = text[line_start..line_end].trim_end_matches('\r').chars().collect();
    // A window of the line around the column, "…" where it was cut.
    let from = (col - 1).saturating_sub(LINE_WINDOW / 3).min(line.len());
    let to = (from + LINE_WINDOW).min(line.len());
    let mut shown: String = if from > 0 { "…".into() } else { String::new() };
    shown.extend(&line[from..to]);
    if to < line.len() {
        shown.push('…');
    }
    let lead = col - 1 - from + usize::from(from > 0);
    let span_chars = text.get(start..end.min(line_end)).map_or(1, |s| s.chars().count());
    let carets = "^".repeat(span_chars.clamp(1, (to + 1).saturating_sub(col).max(1)));
    let w = line_no.to_string().len();
    format!("{head}\n{:w$} |\n{line_no} | {shown}\n{:w$} | {}{carets}\n{msg}", "", "", " ".repeat(lead))
}

/// Parts a dotted key may have before the TOML parser refuses it.
const MAX_KEY_PARTS: usize = 79;

/// The first line whose key (before `=`) or table name (`[…]`) has more
/// than [`MAX_KEY_PARTS`] dotted parts.
fn deep_key_line(text: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let mut parts = 1;
            let mut quote = None;
            for c in line.trim_start().trim_start_matches('[').chars() {
                match (quote, c) {
                    (Some(q), c) if c == q => quote = None,
                    (Some(_), _) => {}
                    (None, '"' | '\'') => quote = Some(c),
                    (None, '.') => parts += 1,
                    (None, '=' | ']' | '#') => break,
                    _ => {}
                }
            }
            parts > MAX_KEY_PARTS
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> toml::de::Error {
        toml::from_str::<toml::Table>(text).unwrap_err()
    }

    #[test]
    fn a_scenario_line_is_shown_clipped_around_the_column() {
        let text = format!("a = 1\nb = \"{}\" x\n", "y".repeat(10_000));
        let m = toml_message(&text, &err(&text), Show::Line);
        assert!(m.starts_with("TOML parse error at line 2, column"), "{m}");
        assert!(m.len() < 400, "{} bytes:\n{m}", m.len());
        assert!(m.contains('…') && m.contains('^'), "{m}");
    }

    #[test]
    fn a_key_nested_too_deeply_is_found_by_its_line() {
        for deep in
            [format!("a = 1\n\n{} = 1\n", ["k"; 200].join(".")), format!("a = 1\n\n[{}]\n", ["k"; 90].join("."))]
        {
            let m = toml_message(&deep, &err(&deep), Show::Line);
            assert!(m.starts_with("TOML parse error at line 3: a dotted key"), "{m}");
        }
        // Dots inside quotes and values do not count.
        assert_eq!(deep_key_line(&format!("a = \"{}\"\n\"{}\" = 1\n", ".".repeat(99), ".".repeat(99))), None);
    }

    #[test]
    fn other_files_show_their_position_and_no_content() {
        let text = "root:x:0:0:root:/root:/bin/bash\n";
        let m = toml_message(text, &err(text), Show::Position);
        assert!(m.starts_with("TOML parse error at line 1, column "), "{m}");
        assert!(!m.contains("root"), "{m}");
        let m = toml_message(text, &err(text), Show::Nothing);
        assert!(!m.contains("root") && !m.contains("line"), "{m}");
    }
}
