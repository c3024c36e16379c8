//! The section of a compare folder: the counterfactual table (compare.csv:
//! failures, saved calls and Δcost paired against the base, with their
//! intervals), a bar chart of the calls each variant saves, and the
//! scenarios' own descriptions when provenance.json recorded them.

use std::fmt::Write as _;

use super::page::{figure, table, Cell};
use super::read::{Csv, Est, Folder, ReportError};
use super::{esc, provenance, svg, Provenance};

/// One row of compare.csv.
pub struct CompareRow {
    pub name: String,
    pub failed: Est,
    pub eligible: Est,
    pub saved: Est,
    pub cost: Est,
    pub cost_delta: Est,
}

/// The rows of compare.csv, base first.
pub fn rows(c: &Csv) -> Result<Vec<CompareRow>, ReportError> {
    let name = c.col("scenario")?;
    if c.rows.is_empty() {
        return Err(ReportError::Bad { file: c.file.clone(), reason: "no scenario rows".into() });
    }
    (0..c.rows.len())
        .map(|r| {
            Ok(CompareRow {
                name: c.rows[r][name].clone(),
                failed: Est::from_csv(c, r, "failed")?,
                eligible: Est::from_csv(c, r, "failed_fallback_eligible")?,
                saved: Est::from_csv(c, r, "saved")?,
                cost: Est::from_csv(c, r, "cost")?,
                cost_delta: Est::from_csv(c, r, "cost_delta")?,
            })
        })
        .collect()
}

/// The start of a compare section: compare.txt's first line, and the
/// scenario files when provenance was recorded.
pub fn preamble(f: &Folder, prov: Option<&Provenance>) -> Result<String, ReportError> {
    let caption = f.first_line("compare.txt")?;
    let mut s = String::new();
    let _ = writeln!(s, "<p class=\"sub\">{}</p>", esc(&caption));
    if let Some(p) = prov {
        s.push_str("<h3>The scenarios</h3>\n");
        s.push_str(&provenance::scenario_files(p));
    }
    Ok(s)
}

/// The attributes of table row `i`: the first scenario is the base.
pub fn row_class(i: usize) -> String {
    if i == 0 {
        " class=\"base\"".to_string()
    } else {
        String::new()
    }
}

/// The name cell of row `i`, the base marked.
pub fn name_cell(i: usize, name: &str) -> Cell {
    Cell::text(&if i == 0 { format!("{name} (base)") } else { name.to_string() })
}

pub fn section(f: &Folder, id: &str) -> Result<String, ReportError> {
    let rows = rows(&f.csv("compare.csv")?)?;
    let prov = f.provenance()?;
    let mut s = preamble(f, prov.as_ref())?;
    s.push_str("<h3>Counterfactuals</h3>\n");
    let _ = writeln!(
        s,
        "<p>Every scenario meets the same calls (common random numbers). <em>Saved</em> is the base's failed calls minus the variant's, and <em>Δcost</em> the variant's cost minus the base's, both paired per replication; below each mean its 95% confidence interval.</p>"
    );
    let base = rows[0].name.clone();
    let trs = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                row_class(i),
                vec![
                    name_cell(i, &r.name),
                    Cell::est(&r.failed),
                    Cell::est(&r.eligible),
                    Cell::est(&r.saved),
                    Cell::est(&r.cost),
                    Cell::est(&r.cost_delta),
                ],
            )
        })
        .collect();
    s.push_str(&table(
        &format!("{id}-compare"),
        &[
            ("scenario", false),
            ("failed", true),
            ("fallback-eligible failed", true),
            ("saved vs base", true),
            ("cost", true),
            ("Δcost", true),
        ],
        trs,
    ));
    if rows.len() > 1 {
        let bars: Vec<(String, Est)> = rows[1..].iter().map(|r| (r.name.clone(), r.saved)).collect();
        let chart = svg::bar_chart(
            &format!("Calls saved against {base}"),
            "failed calls saved (mean; whiskers: 95% confidence interval)",
            &bars,
        );
        s.push_str(&figure(
            &chart,
            "Bars: mean calls saved per variant; whiskers: the 95% interval of the paired difference.",
        ));
    }
    let version = prov.as_ref().map_or("not recorded in compare.csv", |p| p.surgesim_version.as_str()).to_string();
    s.push_str(&provenance::block(prov.as_ref(), &version, None, None));
    Ok(s)
}
