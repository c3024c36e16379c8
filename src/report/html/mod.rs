//! `report.html`: one self-contained page (inline CSS, inline SVG, a few
//! lines of inline script, no network) rendered from the files surgesim
//! wrote into one or more output folders, never from a new simulation.
//!
//! Each folder is read back ([`read`]), recognised by its files (a run, a
//! compare, a compare over a calibration's set, a sweep, a plan or a
//! frontier) and rendered as one section; every value taken from a file
//! is HTML-escaped, and every SVG is rebuilt through a whitelist
//! ([`svg::sanitize`]) before it is inlined.

pub mod compare;
pub mod compare_range;
pub mod page;
pub mod provenance;
pub mod read;
pub mod run;
pub mod svg;
pub mod sweep;

use std::path::Path;

pub use provenance::Provenance;
pub use read::{Folder, Kind, ReportError};

/// Name of the report inside an output folder.
pub const REPORT_FILE: &str = "report.html";

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders the page for the given output folders (in order). Every folder
/// is read completely before anything is rendered; the first problem is
/// returned and nothing is produced.
pub fn render_dirs(dirs: &[&Path]) -> Result<String, ReportError> {
    render(dirs.iter().map(|d| Folder::open(d)).collect::<Result<_, _>>()?)
}

/// Renders the page of a folder still being written (see [`crate::report::Staged`]).
pub fn render_staged(dir: &Path) -> Result<String, ReportError> {
    render(vec![Folder::detect(dir)?])
}

fn render(folders: Vec<Folder>) -> Result<String, ReportError> {
    let mut sections = Vec::new();
    for (i, f) in folders.iter().enumerate() {
        let id = format!("s{}", i + 1);
        let body = match f.kind {
            Kind::Run => run::section(f, &id)?,
            Kind::Compare => compare::section(f, &id)?,
            Kind::CompareRange => compare_range::section(f, &id)?,
            Kind::Sweep => sweep::sweep_section(f, &id)?,
            Kind::Plan => sweep::plan_section(f, &id)?,
            Kind::Frontier => sweep::frontier_section(f, &id)?,
        };
        sections.push(page::Section { id, title: f.title()?, kind: f.kind, body });
    }
    Ok(page::page(&sections))
}

/// Writes `bytes` to `path` atomically: a temporary sibling, then a rename.
/// Kept as one small function so that a shared atomic-write helper can
/// replace it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    Ok(crate::report::output::write_file(path, bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }
}
