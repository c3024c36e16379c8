//! The sections of sweep, plan and frontier folders: the headroom or
//! frontier curves (their SVG), the grid or the planner's evidence as
//! tables (CSV columns `X_mean, X_ci_lo, X_ci_hi` shown as one interval
//! column), and the planner's answer as it printed it.

use std::fmt::Write as _;

use super::page::{figure, table, Cell};
use super::read::{Csv, Est, Folder, ReportError};
use super::{esc, provenance, svg};

/// At most this many rows of a grid or evidence table.
const MAX_ROWS: usize = 2000;

enum Column {
    Plain(usize),
    Interval { label: String, mean: usize, lo: usize, hi: usize },
}

/// The columns of a result CSV, a `mean` with its `ci_lo`/`ci_hi` merged.
fn columns(c: &Csv) -> Vec<Column> {
    let mut out = Vec::new();
    let mut used = vec![false; c.header.len()];
    for (i, h) in c.header.iter().enumerate() {
        if used[i] {
            continue;
        }
        if let Some(prefix) = h.strip_suffix("mean") {
            let lo = c.header.iter().position(|x| *x == format!("{prefix}ci_lo"));
            let hi = c.header.iter().position(|x| *x == format!("{prefix}ci_hi"));
            if let (Some(lo), Some(hi)) = (lo, hi) {
                used[lo] = true;
                used[hi] = true;
                let label = prefix.trim_end_matches('_');
                let label = if label.is_empty() { "mean" } else { label };
                out.push(Column::Interval { label: label.replace('_', " "), mean: i, lo, hi });
                continue;
            }
        }
        out.push(Column::Plain(i));
    }
    out
}

/// A result CSV as a sortable table (numbers sort by value; a `decision`
/// or `status` column is coloured).
fn csv_table(c: &Csv, id: &str) -> Result<String, ReportError> {
    let cols = columns(c);
    let numeric = |i: usize| c.rows.iter().all(|r| r[i].trim().is_empty() || r[i].trim().parse::<f64>().is_ok());
    let headers: Vec<(String, bool)> = cols
        .iter()
        .map(|col| match col {
            Column::Plain(i) => (c.header[*i].replace('_', " "), numeric(*i)),
            Column::Interval { label, .. } => (label.clone(), true),
        })
        .collect();
    let mut rows = Vec::new();
    for r in 0..c.rows.len().min(MAX_ROWS) {
        let mut cells = Vec::new();
        for col in &cols {
            cells.push(match col {
                Column::Plain(i) => {
                    let v = &c.rows[r][*i];
                    let name = c.header[*i].as_str();
                    if (name == "decision" || name == "status") && ["pass", "fail", "undecided"].contains(&v.as_str()) {
                        Cell::text(v).class(match v.as_str() {
                            "pass" => "pass",
                            "fail" => "fail",
                            _ => "undecided",
                        })
                    } else if numeric(*i) && !v.trim().is_empty() {
                        Cell::num(c.num(r, *i)?, 6)
                    } else {
                        Cell::text(v)
                    }
                }
                Column::Interval { mean, lo, hi, .. } => {
                    let (m, l, u) = (c.num(r, *mean)?, c.num(r, *lo)?, c.num(r, *hi)?);
                    Cell::est(&Est { mean: m, ci95: (l.is_finite() && u.is_finite()).then_some([l, u]), n: 0 })
                }
            });
        }
        rows.push((String::new(), cells));
    }
    let h: Vec<(&str, bool)> = headers.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    let mut s = table(id, &h, rows);
    if c.rows.len() > MAX_ROWS {
        let _ = writeln!(s, "<p>… and {} more rows in the CSV file.</p>", c.rows.len() - MAX_ROWS);
    }
    Ok(s)
}

fn plot(f: &Folder, name: &str, label: &str, caption: &str) -> Result<String, ReportError> {
    let text = f.text(name)?;
    let svg = svg::sanitize(&text, label).map_err(|reason| ReportError::Bad {
        file: f.path.join(name).display().to_string(),
        reason: format!("cannot be shown: {reason}"),
    })?;
    Ok(figure(&svg, caption))
}

/// The caption line, and a note when provenance.json is missing.
fn head(f: &Folder, txt: &str) -> Result<(String, Option<super::Provenance>), ReportError> {
    let mut s = String::new();
    let _ = writeln!(s, "<p class=\"sub\">{}</p>", esc(&f.first_line(txt)?));
    let prov = f.provenance()?;
    if let Some(p) = &prov {
        s.push_str(&provenance::scenario_files(p));
    }
    Ok((s, prov))
}

fn tail(prov: Option<&super::Provenance>) -> String {
    let version = prov.map_or("not recorded in the CSV files", |p| p.surgesim_version.as_str()).to_string();
    provenance::block(prov, &version, None, None)
}

pub fn sweep_section(f: &Folder, id: &str) -> Result<String, ReportError> {
    let (mut s, prov) = head(f, "sweep.txt")?;
    s.push_str("<h3>Headroom curves</h3>\n");
    s.push_str(&plot(
        f,
        "headroom.svg",
        "failed calls against the swept parameter",
        "Failed calls (mean, with the 95% confidence band) against the first swept parameter; one curve per value of the others.",
    )?);
    s.push_str(
        "<h3>The grid</h3>\n<p>One row per point of sweep.csv; below each mean its 95% confidence interval.</p>\n",
    );
    s.push_str(&csv_table(&f.csv("sweep.csv")?, &format!("{id}-sweep"))?);
    s.push_str(&tail(prov.as_ref()));
    Ok(s)
}

pub fn plan_section(f: &Folder, id: &str) -> Result<String, ReportError> {
    let (mut s, prov) = head(f, "plan.txt")?;
    let text = f.text("plan.txt")?;
    for line in text.lines() {
        if let Some(a) = line.strip_prefix("answer: ") {
            let _ = writeln!(s, "<p class=\"answer\">{}</p>", esc(a));
        } else if let Some(n) = line.strip_prefix("note: ") {
            let _ = writeln!(s, "<p class=\"note\">{}</p>", esc(n));
        }
    }
    s.push_str("<h3>The evidence</h3>\n<p>Every value the planner probed, in order, with the replications spent on it, the estimate and its interval, and the decision (plan.csv).</p>\n");
    s.push_str(&csv_table(&f.csv("plan.csv")?, &format!("{id}-plan"))?);
    s.push_str(&tail(prov.as_ref()));
    Ok(s)
}

pub fn frontier_section(f: &Folder, id: &str) -> Result<String, ReportError> {
    let (mut s, prov) = head(f, "frontier.txt")?;
    s.push_str("<h3>The frontier</h3>\n");
    s.push_str(&plot(
        f,
        "frontier.svg",
        "survivable surge against capacity",
        "The largest surge meeting the objective at each capacity; the band is the bisection bracket.",
    )?);
    s.push_str(&csv_table(&f.csv("frontier.csv")?, &format!("{id}-frontier"))?);
    s.push_str(
        "<h3>The evidence</h3>\n<details><summary>Every probe of the bisection (frontier-probes.csv)</summary>\n",
    );
    s.push_str(&csv_table(&f.csv("frontier-probes.csv")?, &format!("{id}-probes"))?);
    s.push_str("</details>\n");
    s.push_str(&tail(prov.as_ref()));
    Ok(s)
}
