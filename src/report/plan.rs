//! What `surgesim plan` writes and prints: the probe table (`plan.txt`,
//! `plan.csv`, `frontier-probes.csv`) and the survivable-surge frontier
//! (`frontier.txt`, `frontier.csv`).

use crate::report::{num, sig};
use crate::scenario::Scenario;
use crate::sweep::axis::Range;
use crate::sweep::frontier::{FrontierPoint, Status};
use crate::sweep::plan::{self, PlanSpec, Probe};
use crate::sweep::{Axis, AxisValue};

/// The header of [`probe_line`]'s table.
pub fn probe_header(path: &str) -> String {
    format!("{:>5}  {:>14}  {:>5}  {:>12}  {:>27}  decision", "probe", path, "runs", "mean", "95% interval")
}

/// One probe of a plan, as a line of the terminal table and `plan.txt`.
pub fn probe_line(i: usize, p: &Probe) -> String {
    let ci = p.ci.map_or("-".to_string(), |[lo, hi]| format!("[{}, {}]", sig(lo, 4), sig(hi, 4)));
    let note = if p.decision == plan::Decision::Undecided { " (treated as not met)" } else { "" };
    format!("{i:>5}  {:>14}  {:>5}  {:>12}  {ci:>27}  {}{note}", p.value, p.runs, sig(p.mean, 5), p.decision.name())
}

/// The evidence as CSV: one row per probe (with its capacity, for frontiers).
pub fn probes_csv<'a>(
    path: &str,
    capacity_path: Option<&str>,
    objective: &str,
    probes: impl Iterator<Item = (Option<AxisValue>, &'a Probe)>,
) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = vec!["probe"];
    header.extend(capacity_path);
    header.extend([path, "runs", "mean", "ci_lo", "ci_hi", "objective", "decision"]);
    w.write_record(&header).expect("in-memory write");
    for (i, (cap, p)) in probes.enumerate() {
        let [lo, hi] = p.ci.unwrap_or([f64::NAN, f64::NAN]);
        let mut row = vec![(i + 1).to_string()];
        row.extend(cap.map(|c| c.to_string()));
        row.extend([
            p.value.to_string(),
            p.runs.to_string(),
            num(p.mean),
            num(lo),
            num(hi),
            objective.to_string(),
            p.decision.name().to_string(),
        ]);
        w.write_record(&row).expect("in-memory write");
    }
    w.into_inner().expect("in-memory flush")
}

/// The frontier as a table (`frontier.txt` and the terminal).
pub fn frontier_text(sc: &Scenario, axis: &Axis, stress: &Range, spec: &PlanSpec, points: &[FrontierPoint]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} — survivable-surge frontier: largest {} in {}..{} meeting {} at {}% confidence, for each {} in {}",
        sc.name,
        stress.path,
        stress.from,
        stress.to,
        spec.objective.key,
        num(spec.confidence * 100.0),
        axis.path,
        axis.arg
    );
    let _ = writeln!(
        s,
        "{:>14}  {:>14}  {:>25}  {:>6}  {:>6}  status",
        axis.path, "largest met", "bracket", "probes", "runs"
    );
    for fp in points {
        let best = fp.largest_met.map_or("none".to_string(), num);
        let bracket =
            format!("[{}, {}]", fp.largest_met.map_or("-".into(), num), fp.smallest_failed.map_or("-".into(), num));
        let status = match fp.status {
            Status::Found => "found".to_string(),
            Status::AboveRange => format!("meets the SLO even at {} (frontier at or above)", stress.to),
            Status::BelowRange => format!("fails already at {}", stress.from),
        };
        let _ = writeln!(
            s,
            "{:>14}  {best:>14}  {bracket:>25}  {:>6}  {:>6}  {status}",
            fp.capacity,
            fp.probes.len(),
            fp.runs()
        );
    }
    s
}

/// The frontier as CSV (`frontier.csv`): one row per capacity value.
pub fn frontier_csv(axis: &Axis, stress: &Range, points: &[FrontierPoint]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let max_col = format!("{}_max", stress.path);
    w.write_record([axis.path.as_str(), &max_col, "bracket_lo", "bracket_hi", "status", "probes", "runs"])
        .expect("in-memory write");
    for fp in points {
        let opt = |v: Option<f64>| v.map_or(String::new(), num);
        w.write_record([
            fp.capacity.to_string(),
            opt(fp.largest_met),
            opt(fp.largest_met),
            opt(fp.smallest_failed),
            fp.status.name().to_string(),
            fp.probes.len().to_string(),
            fp.runs().to_string(),
        ])
        .expect("in-memory write");
    }
    w.into_inner().expect("in-memory flush")
}
