//! `surgesim compare BASE VARIANT… --calibration calibration.json`: the
//! comparison repeated at the points of a calibration's 95 % confidence set
//! (the estimate and the set's ends, as `calibrate` lists them under
//! `points`), each point's values applied to every scenario as `--set`
//! edits. "Saved" is then reported as a range: from the lowest lower
//! confidence bound to the highest upper one over the points, so it covers
//! both the simulation's noise (paired intervals on common random numbers)
//! and the calibration's uncertainty. `--markdown` and `--report` show the
//! ranges and the per-point table, read back from the files written.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};

use surgesim::experiment::{self, Stat};
use surgesim::model::RunOptions;
use surgesim::report::{num, sig};
use surgesim::scenario::{self, overrides::Override, Scenario};

use super::compare::{paired, CompareArgs};

/// One point of the confidence set.
struct Point {
    label: String,
    edits: Vec<Override>,
}

fn read_points(path: &Path) -> Result<Vec<Point>> {
    let shown = path.display();
    let text = surgesim::input::read_text(path).map_err(|e| anyhow!("--calibration {shown}: {e}"))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow!("--calibration {shown}: not JSON: {e}"))?;
    let points = v.get("points").and_then(|p| p.as_array()).filter(|p| !p.is_empty()).ok_or_else(|| {
        anyhow!("--calibration {shown}: no `points` list (is it a calibration.json of surgesim calibrate?)")
    })?;
    let mut out = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let label = p.get("label").and_then(|l| l.as_str()).unwrap_or("point").to_string();
        let values = p
            .get("values")
            .and_then(|v| v.as_object())
            .ok_or_else(|| anyhow!("--calibration {shown}: points[{i}].values: expected a table of path = number"))?;
        let mut edits = Vec::new();
        for (k, x) in values {
            let value = if let Some(n) = x.as_i64() {
                toml::Value::Integer(n)
            } else if let Some(f) = x.as_f64().filter(|f| f.is_finite()) {
                toml::Value::Float(f)
            } else {
                bail!("--calibration {shown}: points[{i}].values.{k}: expected a finite number");
            };
            edits.push(Override { path: k.clone(), value });
        }
        out.push(Point { label, edits });
    }
    Ok(out)
}

struct Cell {
    failed: Stat,
    saved: Stat,
}

fn bounds(s: &Stat) -> (f64, f64) {
    s.ci95.map_or((s.mean, s.mean), |[lo, hi]| (lo, hi))
}

pub fn compare(a: &CompareArgs, calibration: &Path) -> Result<ExitCode> {
    let points = read_points(calibration)?;
    let mut common = Vec::new();
    if let Some(w) = &a.window {
        common.push(Override { path: "window".into(), value: toml::Value::String(w.clone()) });
    }
    // Every scenario at every point, loaded (and checked) before anything runs.
    let mut grid: Vec<Vec<Scenario>> = Vec::new();
    let mut seed = a.seed;
    for pt in &points {
        let mut edits = common.clone();
        edits.extend(pt.edits.iter().cloned());
        let mut row = Vec::new();
        for p in &a.scenarios {
            let mut sc =
                scenario::load(p, &edits).with_context(|| format!("at the calibration point {:?}", pt.label))?;
            surgesim::slo::SloSet::of(&sc).with_context(|| p.display().to_string())?;
            let s = *seed.get_or_insert(sc.seed);
            sc.seed = s;
            super::run::check_budget(&sc, a.replications, a.output.max_calls)?;
            row.push(sc);
        }
        if row[0].window.is_some() && row.iter().any(|s| s.window != row[0].window) {
            bail!("the scenarios have different reporting windows: give one with --window");
        }
        grid.push(row);
    }
    let seed = seed.expect("at least one scenario");
    super::set_threads(a.output.threads)?;
    let staged = a.output.begin(super::run::default_out(&grid[0][0]).join("compare"))?;
    let metric = if grid[0][0].window.is_some() { "window.failed" } else { "failed" };
    let mut cells: Vec<Vec<Cell>> = Vec::new();
    for row in &grid {
        let aggs: Vec<_> = row.iter().map(|sc| experiment::run(sc, a.replications, RunOptions::default())).collect();
        for agg in &aggs {
            super::run::ensure_complete(agg)?;
        }
        let base = aggs[0].metric_values(metric);
        cells.push(
            aggs.iter()
                .map(|agg| {
                    let f = agg.metric_values(metric);
                    Cell { failed: Stat::of(&f), saved: paired(&base, &f) }
                })
                .collect(),
        );
    }
    let names: Vec<String> = grid[0].iter().map(|s| s.name.clone()).collect();
    let table = render(&names, &points, &cells, metric, a.replications, seed, calibration);
    let (csv, ranges) = to_csv(&names, &points, &cells);
    let paths: Vec<&Path> = a.scenarios.iter().map(PathBuf::as_path).collect();
    let dir = staged.finish(|st| -> Result<()> {
        st.write("compare-points.csv", &csv)?;
        st.write("compare-range.csv", &ranges)?;
        st.write("compare.txt", table.as_bytes())?;
        super::report::attach(a.report, st, "compare", &paths, Some(seed), Some(a.replications))
    })?;
    if let Some(p) = &a.markdown {
        surgesim::report::markdown::write_compare_range(p, &ranges, &csv, &table)?;
    }
    print!("{table}");
    println!("wrote {}", dir.display());
    Ok(ExitCode::SUCCESS)
}

fn range(cells: &[Vec<Cell>], i: usize, f: impl Fn(&Cell) -> &Stat) -> (f64, f64) {
    cells
        .iter()
        .map(|row| bounds(f(&row[i])))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (a, b)| (l.min(a), h.max(b)))
}

fn render(
    names: &[String],
    points: &[Point],
    cells: &[Vec<Cell>],
    metric: &str,
    reps: u64,
    seed: u64,
    calibration: &Path,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{metric} across the 95% confidence set of {} ({} points), on common random numbers: seed {seed}, {reps} replications per point",
        calibration.display(),
        points.len()
    );
    for (pt, row) in points.iter().zip(cells) {
        let at = pt.edits.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let _ = writeln!(s, "\nat {} ({at}):", pt.label);
        let _ = writeln!(s, "  {:<34} {:>18} {:>18}", "scenario", "failed", "saved vs base");
        for (n, c) in names.iter().zip(row) {
            let pm = |st: &Stat| format!("{} ± {}", sig(st.mean, 5), sig(st.half_width(), 2));
            let _ = writeln!(s, "  {:<34} {:>18} {:>18}", n, pm(&c.failed), pm(&c.saved));
        }
    }
    let _ = writeln!(
        s,
        "\nranges over the set (lowest lower to highest upper 95% bound over the points: simulation noise and calibration uncertainty):"
    );
    let _ = writeln!(s, "  {:<34} {:>22} {:>22}", "scenario", "failed", "saved vs base");
    for (i, n) in names.iter().enumerate() {
        let (fl, fh) = range(cells, i, |c| &c.failed);
        let (sl, sh) = range(cells, i, |c| &c.saved);
        let _ = writeln!(
            s,
            "  {:<34} {:>22} {:>22}",
            n,
            format!("{}..{}", sig(fl, 5), sig(fh, 5)),
            format!("{}..{}", sig(sl, 5), sig(sh, 5))
        );
    }
    s
}

/// compare-points.csv (one row per point and scenario) and compare-range.csv.
fn to_csv(names: &[String], points: &[Point], cells: &[Vec<Cell>]) -> (Vec<u8>, Vec<u8>) {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_string()];
    header.extend(points[0].edits.iter().map(|o| o.path.clone()));
    header.push("scenario".into());
    for m in ["failed", "saved"] {
        for part in ["mean", "ci_lo", "ci_hi"] {
            header.push(format!("{m}_{part}"));
        }
    }
    w.write_record(&header).expect("in-memory write");
    for (pt, row) in points.iter().zip(cells) {
        for (n, c) in names.iter().zip(row) {
            let mut r = vec![pt.label.clone()];
            r.extend(pt.edits.iter().map(|o| o.value.to_string()));
            r.push(n.clone());
            for st in [&c.failed, &c.saved] {
                let (lo, hi) = bounds(st);
                r.extend([num(st.mean), num(lo), num(hi)]);
            }
            w.write_record(&r).expect("in-memory write");
        }
    }
    let mut g = csv::Writer::from_writer(Vec::new());
    g.write_record(["scenario", "failed_lo", "failed_hi", "saved_lo", "saved_hi"]).expect("in-memory write");
    for (i, n) in names.iter().enumerate() {
        let (fl, fh) = range(cells, i, |c| &c.failed);
        let (sl, sh) = range(cells, i, |c| &c.saved);
        g.write_record([n.clone(), num(fl), num(fh), num(sl), num(sh)]).expect("in-memory write");
    }
    (w.into_inner().expect("in-memory flush"), g.into_inner().expect("in-memory flush"))
}
