//! What the multi-knob `surgesim plan` writes and prints: the evidence
//! table (`plan.txt`, `plan.csv`) and the cost–metric Pareto frontier
//! (`pareto.csv`).

use crate::report::{num, sig};
use crate::sweep::mix::{MixOutcome, MixProbe, MixSpec, ParetoPoint};
use crate::sweep::Axis;

fn interval(mean: f64, ci: Option<[f64; 2]>) -> String {
    match ci {
        Some([lo, hi]) => format!("{} [{}, {}]", sig(mean, 4), sig(lo, 4), sig(hi, 4)),
        None => sig(mean, 4),
    }
}

/// The header of [`probe_line`]'s table.
pub fn probe_header(axes: &[Axis], spec: &MixSpec) -> String {
    let mut s = format!("{:>5}", "probe");
    for a in axes {
        s += &format!("  {:>w$}", a.path, w = a.path.len().max(6));
    }
    s += &format!("  {:>5}  {:>26}", "runs", spec.minimize);
    for o in &spec.objectives {
        s += &format!("  {:>30}", format!("{} {} {}", o.label(), o.op, num(o.threshold)));
    }
    s + "  decision"
}

/// One probe as a line of the terminal table and `plan.txt`.
pub fn probe_line(i: usize, axes: &[Axis], p: &MixProbe, answer: bool) -> String {
    let mut s = format!("{i:>5}");
    for (a, v) in axes.iter().zip(&p.values) {
        s += &format!("  {:>w$}", v.to_string(), w = a.path.len().max(6));
    }
    s += &format!("  {:>5}  {:>26}", p.runs, interval(p.cost.mean, p.cost.ci95));
    for v in &p.verdicts {
        s += &format!("  {:>30}", interval(v.mean, v.ci));
    }
    s += &format!("  {}", p.decision.name());
    if p.decision == crate::sweep::plan::Decision::Undecided {
        s += " (treated as not met)";
    }
    if p.pruned {
        s += "; pruned: the cheapest value already costs no less than the best answer";
    }
    if answer {
        s += "; ANSWER";
    }
    s
}

/// The evidence as CSV (`plan.csv`): one row per probe.
pub fn probes_csv(axes: &[Axis], spec: &MixSpec, out: &MixOutcome) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["probe".into()];
    header.extend(axes.iter().map(|a| a.path.clone()));
    header.push("runs".into());
    for suffix in ["mean", "ci_lo", "ci_hi"] {
        header.push(format!("{}_{suffix}", spec.minimize));
    }
    for o in &spec.objectives {
        let label = o.label();
        header.extend([format!("{label}_estimate"), format!("{label}_ci_lo"), format!("{label}_ci_hi")]);
        header.push(format!("{label}_pass"));
    }
    header.extend(["decision".into(), "role".into()]);
    w.write_record(&header).expect("in-memory write");
    for (i, p) in out.probes.iter().enumerate() {
        let mut row = vec![(i + 1).to_string()];
        row.extend(p.values.iter().map(|v| v.to_string()));
        row.push(p.runs.to_string());
        let [lo, hi] = p.cost.ci95.unwrap_or([f64::NAN; 2]);
        row.extend([num(p.cost.mean), num(lo), num(hi)]);
        for v in &p.verdicts {
            let [lo, hi] = v.ci.unwrap_or([f64::NAN; 2]);
            row.extend([num(v.mean), num(lo), num(hi), v.pass.to_string()]);
        }
        row.push(p.decision.name().into());
        let role = if out.answer == Some(i) {
            "answer"
        } else if p.pruned {
            "pruned"
        } else {
            ""
        };
        row.push(role.into());
        w.write_record(&row).expect("in-memory write");
    }
    w.into_inner().expect("in-memory flush")
}

/// The Pareto grid as CSV (`pareto.csv`): one row per combination.
pub fn pareto_csv(axes: &[Axis], minimize: &str, metric: &str, points: &[ParetoPoint]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = axes.iter().map(|a| a.path.clone()).collect();
    header.push("runs".into());
    for m in [minimize, metric] {
        for suffix in ["mean", "ci_lo", "ci_hi"] {
            header.push(format!("{m}_{suffix}"));
        }
    }
    header.push("on_frontier".into());
    w.write_record(&header).expect("in-memory write");
    for p in points {
        let mut row: Vec<String> = p.values.iter().map(|v| v.to_string()).collect();
        row.push(p.cost.n.min(p.metric.n).to_string());
        for s in [&p.cost, &p.metric] {
            let [lo, hi] = s.ci95.unwrap_or([f64::NAN; 2]);
            row.extend([num(s.mean), num(lo), num(hi)]);
        }
        row.push(p.on_frontier.to_string());
        w.write_record(&row).expect("in-memory write");
    }
    w.into_inner().expect("in-memory flush")
}
