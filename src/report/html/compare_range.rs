//! The section of a compare folder over a calibration's confidence set
//! (`compare --calibration`): per scenario the range of failures and of
//! calls saved over the set (compare-range.csv), a bar chart of the calls
//! saved at the set's first point with that range as whiskers, and the
//! comparison at each point (compare-points.csv).

use std::fmt::Write as _;

use super::compare::{name_cell, preamble, row_class};
use super::page::{figure, table, Cell};
use super::read::{Csv, Est, Folder, ReportError};
use super::{provenance, svg};

/// One row of compare-range.csv: a scenario's lowest lower and highest
/// upper 95 % bound over the points.
pub struct RangeRow {
    pub name: String,
    pub failed: [f64; 2],
    pub saved: [f64; 2],
}

/// One row of compare-points.csv: a scenario at one point of the set.
pub struct PointRow {
    pub point: String,
    /// The point's values, one per parameter, as written.
    pub values: Vec<String>,
    pub scenario: String,
    pub failed: Est,
    pub saved: Est,
}

/// compare-points.csv: the calibrated parameters (the columns between
/// `point` and `scenario`) and the rows.
pub struct Points {
    pub params: Vec<String>,
    pub rows: Vec<PointRow>,
}

fn no_rows(c: &Csv) -> ReportError {
    ReportError::Bad { file: c.file.clone(), reason: "no scenario rows".into() }
}

/// The rows of compare-range.csv, base first.
pub fn ranges(c: &Csv) -> Result<Vec<RangeRow>, ReportError> {
    let name = c.col("scenario")?;
    let (fl, fh) = (c.col("failed_lo")?, c.col("failed_hi")?);
    let (sl, sh) = (c.col("saved_lo")?, c.col("saved_hi")?);
    if c.rows.is_empty() {
        return Err(no_rows(c));
    }
    (0..c.rows.len())
        .map(|r| {
            Ok(RangeRow {
                name: c.rows[r][name].clone(),
                failed: [c.num(r, fl)?, c.num(r, fh)?],
                saved: [c.num(r, sl)?, c.num(r, sh)?],
            })
        })
        .collect()
}

/// The rows of compare-points.csv, point by point, base first at each.
pub fn points(c: &Csv) -> Result<Points, ReportError> {
    let point = c.col("point")?;
    let scenario = c.col("scenario")?;
    if scenario <= point {
        return Err(ReportError::Bad {
            file: c.file.clone(),
            reason: "column `scenario` before `point` (written by another version of surgesim?)".into(),
        });
    }
    if c.rows.is_empty() {
        return Err(no_rows(c));
    }
    let rows = (0..c.rows.len())
        .map(|r| {
            Ok(PointRow {
                point: c.rows[r][point].clone(),
                values: c.rows[r][point + 1..scenario].to_vec(),
                scenario: c.rows[r][scenario].clone(),
                failed: Est::from_csv(c, r, "failed")?,
                saved: Est::from_csv(c, r, "saved")?,
            })
        })
        .collect::<Result<_, ReportError>>()?;
    Ok(Points { params: c.header[point + 1..scenario].to_vec(), rows })
}

/// A parameter's value: a number where it is one.
fn value_cell(v: &str) -> Cell {
    match v.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Cell::num(x, 6),
        _ => Cell::text(v),
    }
}

pub fn section(f: &Folder, id: &str) -> Result<String, ReportError> {
    let ranges = ranges(&f.csv("compare-range.csv")?)?;
    let pts = points(&f.csv("compare-points.csv")?)?;
    let prov = f.provenance()?;
    let mut s = preamble(f, prov.as_ref())?;
    s.push_str("<h3>Ranges over the confidence set</h3>\n");
    let _ = writeln!(
        s,
        "<p>The comparison is repeated at each point of the calibration's 95% confidence set, every scenario on common random numbers. Each range runs from the lowest lower to the highest upper 95% bound over the points, so it holds both the simulation's noise and the calibration's uncertainty. <em>Saved</em> is the base's failed calls minus the scenario's, paired per replication.</p>"
    );
    let base = ranges[0].name.clone();
    let trs = ranges
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                row_class(i),
                vec![
                    name_cell(i, &r.name),
                    Cell::num(r.failed[0], 5),
                    Cell::num(r.failed[1], 5),
                    Cell::num(r.saved[0], 5),
                    Cell::num(r.saved[1], 5),
                ],
            )
        })
        .collect();
    s.push_str(&table(
        &format!("{id}-range"),
        &[
            ("scenario", false),
            ("failed: low", true),
            ("failed: high", true),
            ("saved vs base: low", true),
            ("saved vs base: high", true),
        ],
        trs,
    ));
    let first = pts.rows[0].point.clone();
    let bars: Vec<(String, Est)> = ranges[1..]
        .iter()
        .filter_map(|r| {
            let at = pts.rows.iter().find(|p| p.point == first && p.scenario == r.name)?;
            Some((r.name.clone(), Est { mean: at.saved.mean, ci95: Some(r.saved), n: 0 }))
        })
        .collect();
    if !bars.is_empty() {
        let chart = svg::bar_chart(
            &format!("Calls saved against {base}"),
            &format!("failed calls saved (mean at the {first}; whiskers: range over the set)"),
            &bars,
        );
        s.push_str(&figure(
            &chart,
            &format!("Bars: mean calls saved at the {first}; whiskers: the range over the confidence set."),
        ));
    }
    s.push_str("<h3>At each point of the set</h3>\n");
    let mut headers: Vec<(&str, bool)> = vec![("point", false)];
    headers.extend(pts.params.iter().map(|p| (p.as_str(), true)));
    headers.extend([("scenario", false), ("failed", true), ("saved vs base", true)]);
    let trs = pts
        .rows
        .iter()
        .map(|r| {
            let mut cells = vec![Cell::text(&r.point)];
            cells.extend(r.values.iter().map(|v| value_cell(v)));
            cells.extend([Cell::text(&r.scenario), Cell::est(&r.failed), Cell::est(&r.saved)]);
            (String::new(), cells)
        })
        .collect();
    s.push_str(&table(&format!("{id}-points"), &headers, trs));
    let version =
        prov.as_ref().map_or("not recorded in compare-range.csv", |p| p.surgesim_version.as_str()).to_string();
    s.push_str(&provenance::block(prov.as_ref(), &version, None, None));
    Ok(s)
}
