//! Markdown summaries for CI (a GitHub job summary or a pull-request
//! comment): `check --markdown` from the check report (the document
//! `check --json` writes) and `compare --markdown` from compare.csv (or,
//! with `--calibration`, from compare-range.csv and compare-points.csv), so
//! every format shows the same numbers.

use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

use super::html::compare::{rows, CompareRow};
use super::html::compare_range::{self, Points, RangeRow};
use super::html::read::{Csv, Est, ReportError};
use super::html::write_atomic;
use super::sig;

/// Escapes text for a Markdown table cell (GitHub flavour).
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The check report, as `check --json` writes it.
#[derive(Deserialize)]
pub struct CheckDoc {
    #[serde(default)]
    pub rule: String,
    pub passed: bool,
    pub scenarios: Vec<ScenarioDoc>,
}

#[derive(Deserialize)]
pub struct ScenarioDoc {
    pub scenario: String,
    #[serde(default)]
    pub file: String,
    #[serde(default)]
    pub scenario_digest: String,
    #[serde(default)]
    pub results_digest: String,
    #[serde(default)]
    pub replications: u64,
    #[serde(default)]
    pub confidence: f64,
    pub verdicts: Vec<VerdictDoc>,
    #[serde(default)]
    pub regressions: Vec<RegressionDoc>,
}

#[derive(Deserialize)]
pub struct VerdictDoc {
    pub objective: ObjectiveDoc,
    #[serde(deserialize_with = "nan_if_null")]
    pub mean: f64,
    pub ci: Option<[f64; 2]>,
    #[serde(deserialize_with = "nan_if_null")]
    pub bound: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub margin: f64,
    pub pass: bool,
}

#[derive(Deserialize)]
pub struct ObjectiveDoc {
    pub metric: String,
    pub op: String,
    pub threshold: f64,
}

#[derive(Deserialize)]
pub struct RegressionDoc {
    pub metric: String,
    #[serde(deserialize_with = "nan_if_null")]
    pub baseline: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub now: f64,
    pub tolerance: f64,
}

fn interval(mean: f64, ci: Option<[f64; 2]>) -> String {
    match ci {
        Some([l, u]) if l.is_finite() && u.is_finite() => format!("{} [{}, {}]", sig(mean, 5), sig(l, 4), sig(u, 4)),
        _ => sig(mean, 6),
    }
}

/// The check summary: a headline, then one table with every failing
/// objective first, then the regressions against the baseline, then the
/// objectives that pass.
pub fn check(doc: &CheckDoc) -> String {
    let failed: usize = doc.scenarios.iter().map(|s| s.verdicts.iter().filter(|v| !v.pass).count()).sum();
    let objectives: usize = doc.scenarios.iter().map(|s| s.verdicts.len()).sum();
    let regs: usize = doc.scenarios.iter().map(|s| s.regressions.len()).sum();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "### surgesim check: {}\n\n{} of {} objective(s) failed, {} regression(s) against the baseline, {} scenario(s) checked.\n",
        if doc.passed { "✅ PASS" } else { "❌ FAIL" },
        failed,
        objectives,
        regs,
        doc.scenarios.len()
    );
    s.push_str("| result | scenario | objective | threshold | estimate [95% CI] | bound | margin |\n");
    s.push_str("| --- | --- | --- | ---: | ---: | ---: | ---: |\n");
    let verdict_row = |s: &mut String, sc: &ScenarioDoc, v: &VerdictDoc| {
        let _ = writeln!(
            s,
            "| {} | {} | {} {} | {} | {} | {} | {} |",
            if v.pass { "✅ pass" } else { "❌ **FAIL**" },
            md(&sc.scenario),
            md(&v.objective.metric),
            md(&v.objective.op),
            md(&sig(v.objective.threshold, 6)),
            md(&interval(v.mean, v.ci)),
            md(&sig(v.bound, 6)),
            md(&sig(v.margin, 4))
        );
    };
    for sc in &doc.scenarios {
        for v in sc.verdicts.iter().filter(|v| !v.pass) {
            verdict_row(&mut s, sc, v);
        }
    }
    for sc in &doc.scenarios {
        for g in &sc.regressions {
            let _ = writeln!(
                s,
                "| ❌ **REGRESSION** | {} | {} vs baseline | {} (+{}%) | {} | {} | — |",
                md(&sc.scenario),
                md(&g.metric),
                md(&sig(g.baseline, 6)),
                md(&sig(100.0 * g.tolerance, 3)),
                md(&sig(g.now, 6)),
                md(&sig(g.now, 6))
            );
        }
    }
    for sc in &doc.scenarios {
        for v in sc.verdicts.iter().filter(|v| v.pass) {
            verdict_row(&mut s, sc, v);
        }
    }
    s.push('\n');
    if !doc.rule.is_empty() {
        let _ = writeln!(s, "Rule: {}.\n", md(&doc.rule));
    }
    s.push_str("<details><summary>Scenarios checked</summary>\n\n| scenario | file | replications | confidence | scenario SHA-256 | results SHA-256 |\n| --- | --- | ---: | ---: | --- | --- |\n");
    for sc in &doc.scenarios {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            md(&sc.scenario),
            md(&sc.file),
            sc.replications,
            md(&sig(sc.confidence, 4)),
            md(sc.scenario_digest.get(..12).unwrap_or(&sc.scenario_digest)),
            md(sc.results_digest.get(..12).unwrap_or(&sc.results_digest))
        );
    }
    s.push_str("\n</details>\n");
    s
}

/// The compare summary: the caption surgesim printed, then the table of
/// compare.csv (base first) with every mean's interval.
pub fn compare(rows: &[CompareRow], caption: &str) -> String {
    let mut s = String::new();
    let base = rows.first().map_or("", |r| r.name.as_str());
    let _ = writeln!(s, "### surgesim compare: {}\n\n{}\n", md(base), md(caption));
    s.push_str("| scenario | failed | fallback-eligible failed | saved vs base | cost | Δcost |\n");
    s.push_str("| --- | ---: | ---: | ---: | ---: | ---: |\n");
    let e = |x: &Est| md(&interval(x.mean, x.ci95));
    for (i, r) in rows.iter().enumerate() {
        let name = if i == 0 { format!("{} (base)", md(&r.name)) } else { md(&r.name) };
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} | {} | {} |",
            e(&r.failed),
            e(&r.eligible),
            e(&r.saved),
            e(&r.cost),
            e(&r.cost_delta)
        );
    }
    s
}

/// The summary of a compare over a calibration's set: the caption surgesim
/// printed, per scenario the range of failures and of calls saved over the
/// set (compare-range.csv, base first), then the comparison at each point
/// (compare-points.csv).
pub fn compare_range(ranges: &[RangeRow], points: &Points, caption: &str) -> String {
    let mut s = String::new();
    let base = ranges.first().map_or("", |r| r.name.as_str());
    let _ = writeln!(s, "### surgesim compare over a calibration's set: {}\n\n{}\n", md(base), md(caption));
    s.push_str("Ranges over the set (lowest lower to highest upper 95% bound over the points: simulation noise and calibration uncertainty):\n\n");
    s.push_str("| scenario | failed | saved vs base |\n| --- | ---: | ---: |\n");
    let range = |[lo, hi]: [f64; 2]| md(&format!("{}..{}", sig(lo, 5), sig(hi, 5)));
    for (i, r) in ranges.iter().enumerate() {
        let name = if i == 0 { format!("{} (base)", md(&r.name)) } else { md(&r.name) };
        let _ = writeln!(s, "| {name} | {} | {} |", range(r.failed), range(r.saved));
    }
    s.push_str("\nAt each point of the set (mean [95% CI]):\n\n| point |");
    for p in &points.params {
        let _ = write!(s, " {} |", md(p));
    }
    s.push_str(" scenario | failed | saved vs base |\n| --- |");
    s.push_str(&" ---: |".repeat(points.params.len()));
    s.push_str(" --- | ---: | ---: |\n");
    let e = |x: &Est| md(&interval(x.mean, x.ci95));
    for r in &points.rows {
        let _ = write!(s, "| {} |", md(&r.point));
        for v in &r.values {
            let _ = write!(s, " {} |", md(v));
        }
        let _ = writeln!(s, " {} | {} | {} |", md(&r.scenario), e(&r.failed), e(&r.saved));
    }
    s
}

/// Writes the check summary of `report_json` (the `check --json` document) to `path`.
pub fn write_check(path: &Path, report_json: &str) -> Result<(), ReportError> {
    let doc: CheckDoc = serde_json::from_str(report_json)
        .map_err(|e| ReportError::Bad { file: "the check report".into(), reason: e.to_string() })?;
    write_atomic(path, check(&doc).as_bytes())
}

/// Writes the compare summary of `compare_csv` (the bytes of compare.csv)
/// with the caption `table`'s first line to `path`.
pub fn write_compare(path: &Path, compare_csv: &[u8], table: &str) -> Result<(), ReportError> {
    let c = Csv::parse("compare.csv", compare_csv)?;
    write_atomic(path, compare(&rows(&c)?, table.lines().next().unwrap_or_default()).as_bytes())
}

/// Writes the summary of a compare over a calibration's set, from the
/// bytes of compare-range.csv and compare-points.csv, with the caption
/// `table`'s first line, to `path`.
pub fn write_compare_range(path: &Path, range_csv: &[u8], points_csv: &[u8], table: &str) -> Result<(), ReportError> {
    let ranges = compare_range::ranges(&Csv::parse("compare-range.csv", range_csv)?)?;
    let points = compare_range::points(&Csv::parse("compare-points.csv", points_csv)?)?;
    write_atomic(path, compare_range(&ranges, &points, table.lines().next().unwrap_or_default()).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table_or_inject_markup() {
        assert_eq!(md("a|b <script> *x* `y`\nz"), r"a\|b &lt;script&gt; \*x\* \`y\` z");
    }
}
