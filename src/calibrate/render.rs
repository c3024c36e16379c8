//! The files of a calibration: `calibration.json`, `calibration.csv` (every
//! evaluated point) and the calibrated scenario as a variant
//! (`extends` + `[overrides]`).

use serde_json::{json, Map, Value};

use super::{show, Calibration};
use crate::fmt::num;
use crate::scenario::overrides::Override;

/// `calibration.json`. `command` is the command line that made it.
pub fn json_value(c: &Calibration, scenario: &str, command: &str) -> Value {
    let mut params = Map::new();
    for (j, p) in c.spec.params.iter().enumerate() {
        let [lo, hi] = c.ci[j];
        params.insert(
            p.path.clone(),
            json!({
                "estimate": c.estimate.theta[j],
                "ci95": [lo.value, hi.value],
                "ci95_at_range_end": [lo.at_bound, hi.at_bound],
                "range": [p.lo, p.hi],
                "integer": p.integer,
            }),
        );
    }
    let targets: Vec<Value> = c
        .spec
        .targets
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let e = &c.estimate;
            json!({
                "metric": t.metric,
                "observed": t.observed,
                "simulated_mean": e.mean[k],
                "simulated_sd": e.sd[k],
                "simulated_q025": e.q025[k],
                "simulated_q975": e.q975[k],
                "z": e.z[k],
            })
        })
        .collect();
    let points: Vec<Value> = c
        .points
        .iter()
        .map(|(label, theta)| {
            let mut values = Map::new();
            for (p, &x) in c.spec.params.iter().zip(theta) {
                values.insert(p.path.clone(), p.toml_json(x));
                for o in p.edits(x).into_iter().skip(1) {
                    values.insert(o.path, json!(o.value.as_float()));
                }
            }
            json!({ "label": label, "values": values })
        })
        .collect();
    json!({
        "scenario": scenario,
        "command": command,
        "seed": c.seed,
        "replications": c.spec.replications,
        "method": c.method,
        "confidence_set": format!(
            "values at which every target's |z| = |observed - mean| / (sd * sqrt(1 + 1/R)) is at most {} \
             (Student t, {} df, two-sided 95 % split over {} targets)",
            crate::fmt::sig(c.critical, 5),
            c.spec.replications - 1,
            c.spec.targets.len()
        ),
        "critical_z": c.critical,
        "parameters": params,
        "targets": targets,
        "points": points,
        "evaluations": c.evals.len(),
    })
}

impl super::Param {
    fn toml_json(&self, x: f64) -> Value {
        if self.integer {
            json!(x.round() as i64)
        } else {
            json!(x)
        }
    }
}

/// `calibration.csv`: one row per evaluated point, in order.
pub fn csv_text(c: &Calibration) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["stage".to_string()];
    header.extend(c.spec.params.iter().map(|p| p.path.clone()));
    for t in &c.spec.targets {
        for part in ["mean", "sd", "q025", "q975", "z"] {
            header.push(format!("{}_{part}", t.metric));
        }
    }
    header.extend(["max_abs_z".into(), "in_set".into()]);
    w.write_record(&header).expect("in-memory write");
    for e in &c.evals {
        let mut row = vec![e.stage.to_string()];
        row.extend(c.spec.params.iter().zip(&e.theta).map(|(p, &x)| show_exact(p.integer, x)));
        for k in 0..c.spec.targets.len() {
            row.extend([num(e.mean[k]), num(e.sd[k]), num(e.q025[k]), num(e.q975[k]), num(e.z[k])]);
        }
        row.extend([num(e.distance()), e.in_set.to_string()]);
        w.write_record(&row).expect("in-memory write");
    }
    w.into_inner().expect("in-memory flush")
}

fn show_exact(integer: bool, x: f64) -> String {
    if integer {
        format!("{}", x.round() as i64)
    } else {
        num(x)
    }
}

/// The calibrated scenario: a variant of `extends` (a path relative to the
/// variant's folder) setting every parameter to its estimate.
/// `extra` are edits the calibration ran with (`--set`, `--window`); they
/// come first.
pub fn variant_toml(c: &Calibration, extends: &str, name: &str, command: &str, extra: &[Override]) -> String {
    let mut s = String::new();
    s.push_str("# Calibrated by:\n#   ");
    s.push_str(command);
    s.push('\n');
    for (j, p) in c.spec.params.iter().enumerate() {
        let [lo, hi] = c.ci[j];
        s.push_str(&format!(
            "# {}: estimate {}, 95 % confidence set {}..{}\n",
            p.path,
            show(p, c.estimate.theta[j]),
            show(p, lo.value),
            show(p, hi.value)
        ));
    }
    for (k, t) in c.spec.targets.iter().enumerate() {
        s.push_str(&format!(
            "# {}: observed {}, simulated {} ± {} (mean ± sd of {} replications)\n",
            t.metric,
            num(t.observed),
            crate::fmt::sig(c.estimate.mean[k], 6),
            crate::fmt::sig(c.estimate.sd[k], 3),
            c.spec.replications
        ));
    }
    let q = |v: &str| toml::Value::String(v.to_string()).to_string();
    s.push_str(&format!("extends = {}\nname = {}\n\n[overrides]\n", q(extends), q(name)));
    for o in extra {
        s.push_str(&format!("{} = {}\n", q(&o.path), o.value));
    }
    for (p, &x) in c.spec.params.iter().zip(&c.estimate.theta) {
        for o in p.edits(x) {
            s.push_str(&format!("{} = {}\n", q(&o.path), o.value));
        }
    }
    s
}
