//! `surgesim calibrate SCENARIO --target METRIC=VALUE… --vary PATH=LO..HI…`:
//! flags in, [`surgesim::calibrate`] in the middle; out, into one output
//! folder (default `notebooks-out/<scenario name>/calibrate/`):
//! `calibration.json`, `calibration.csv`, `objective.svg`/`.png` (one more
//! pair per further parameter) and `calibrated.toml`, a variant of the
//! scenario set to the estimate.
//!
//! Exit codes: 0 calibrated; 1 an observation is unreachable inside the
//! ranges (nothing is written); 2 bad input.

use std::path::{Component, Path};
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::Args;

use surgesim::calibrate::{self, show, CalibError, Calibration, Param, Spec, Target};
use surgesim::report::plot::{self, Curve, CurvePoint};
use surgesim::report::{sig, Staged};
use surgesim::result::metric_names;
use surgesim::scenario::overrides::Override;

use super::run::{check_budget, default_out};
use super::sweep::base;
use super::{set_threads, OutputArgs, ScenarioArgs};

#[derive(Args)]
pub struct CalibrateArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// An observed value of a metric of summary.json, e.g. window.failed=3028. Repeatable.
    #[arg(long = "target", required = true, value_name = "METRIC=VALUE")]
    pub targets: Vec<String>,
    /// An unknown scenario field and its range (integers when LO and HI are
    /// written as integers). One to three.
    #[arg(long = "vary", required = true, value_name = "PATH=LO..HI")]
    pub vary: Vec<String>,
    /// Replications per evaluated value (indices 0..R: common random numbers).
    #[arg(long, short = 'r', default_value_t = 20)]
    pub replications: u64,
    /// Points per parameter of each nested grid (0: 21, 9 or 7 for 1, 2 or 3
    /// parameters). Not used with one parameter and one target (bisection).
    #[arg(long, default_value_t = 0)]
    pub grid: usize,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The command line that reproduces the calibration (without --out).
fn command_line(a: &CalibrateArgs) -> String {
    let mut parts = vec!["surgesim calibrate".to_string(), a.scenario.scenario.display().to_string()];
    if let Some(s) = a.scenario.seed {
        parts.push(format!("--seed {s}"));
    }
    parts.extend(a.scenario.set.iter().map(|s| format!("--set {s}")));
    if let Some(w) = &a.scenario.window {
        parts.push(format!("--window {w}"));
    }
    parts.extend(a.targets.iter().map(|t| format!("--target {t}")));
    parts.extend(a.vary.iter().map(|v| format!("--vary {v}")));
    parts.push(format!("-r {}", a.replications));
    if a.grid > 0 {
        parts.push(format!("--grid {}", a.grid));
    }
    parts.join(" ")
}

/// `to` relative to the folder `from` (both made absolute), `/`-separated.
fn relative(to: &Path, from: &Path) -> Result<String> {
    let to = std::fs::canonicalize(to).with_context(|| to.display().to_string())?;
    let from = std::path::absolute(from)?;
    let from: Vec<Component> = from.components().filter(|c| *c != Component::CurDir).collect();
    let to_c: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to_c).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".into(); from.len() - common];
    parts.extend(to_c[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    Ok(parts.join("/"))
}

pub fn calibrate(a: CalibrateArgs) -> Result<ExitCode> {
    let (base, sc0) = base(&a.scenario)?;
    let names = metric_names(&sc0);
    let targets = a.targets.iter().map(|t| Target::parse(t, &names)).collect::<Result<Vec<_>, _>>()?;
    let mut params = a.vary.iter().map(|v| Param::parse(v)).collect::<Result<Vec<_>, _>>()?;
    for p in &mut params {
        p.bind(&sc0)?;
    }
    let spec = Spec { params, targets, replications: a.replications, grid: a.grid };
    spec.check()?;
    check_budget(&sc0, a.replications, a.output.max_calls)?;
    set_threads(a.output.threads)?;
    let staged = a.output.begin(default_out(&sc0).join("calibrate"))?;
    let c = match calibrate::calibrate(&base, &spec) {
        Ok(c) => c,
        Err(CalibError::Unreachable(msg)) => {
            staged.abort();
            eprintln!("error: {msg}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(anyhow!(e)),
    };
    let command = command_line(&a);
    let mut extra: Vec<Override> = Vec::new();
    for s in &a.scenario.set {
        extra.push(s.parse::<Override>().map_err(|e| anyhow!("--set {e}"))?);
    }
    if let Some(w) = &a.scenario.window {
        extra.push(Override { path: "window".into(), value: toml::Value::String(w.clone()) });
    }
    let out_dir = staged.final_path("");
    let extends = relative(&a.scenario.scenario, &out_dir)?;
    let json = serde_json::to_string_pretty(&calibrate::json_value(&c, &sc0.name, &command))? + "\n";
    let variant = calibrate::variant_toml(&c, &extends, &format!("{}-calibrated", sc0.name), &command, &extra);
    let dir = staged.finish(|st| -> Result<()> {
        st.write("calibration.json", json.as_bytes())?;
        st.write("calibration.csv", &calibrate::csv_text(&c))?;
        st.write("calibrated.toml", variant.as_bytes())?;
        plots(st, &c, &sc0.name)?;
        Ok(())
    })?;
    print!("{}", render(&c));
    println!("wrote {}", dir.display());
    Ok(ExitCode::SUCCESS)
}

fn render(c: &Calibration) -> String {
    let mut s = format!(
        "calibrated on common random numbers: seed {}, {} replications per value, {} values evaluated ({})\n",
        c.seed,
        c.spec.replications,
        c.evals.len(),
        c.method
    );
    for (j, p) in c.spec.params.iter().enumerate() {
        let [lo, hi] = c.ci[j];
        let mark = |e: calibrate::End| if e.at_bound { " (range end)" } else { "" };
        s.push_str(&format!(
            "  {}: {}  95% set {}{}..{}{}\n",
            p.path,
            show(p, c.estimate.theta[j]),
            show(p, lo.value),
            mark(lo),
            show(p, hi.value),
            mark(hi)
        ));
    }
    for (k, t) in c.spec.targets.iter().enumerate() {
        s.push_str(&format!(
            "  {}: observed {}, simulated {} (sd {}, 95% of runs in {}..{}), z {}\n",
            t.metric,
            surgesim::report::num(t.observed),
            sig(c.estimate.mean[k], 6),
            sig(c.estimate.sd[k], 3),
            sig(c.estimate.q025[k], 5),
            sig(c.estimate.q975[k], 5),
            sig(c.estimate.z[k], 3)
        ));
    }
    s.push_str(&format!(
        "  a value is in the 95% set when every |z| = |observed - mean| / (sd*sqrt(1+1/R)) <= {}\n",
        sig(c.critical, 4)
    ));
    s
}

fn flat(label: String, y: f64, lo: f64, hi: f64) -> Curve {
    let pt = |x| CurvePoint { x, mean: y, lo: y, hi: y };
    Curve { label, points: vec![pt(lo), pt(hi)] }
}

/// The objective against each parameter: with one parameter each target's
/// z; with more, per value of the parameter the smallest largest-|z| over
/// the points evaluated there (a profile).
fn plots(st: &Staged, c: &Calibration, name: &str) -> Result<()> {
    // |z| far from the set says nothing more: clipped, so the set stays legible.
    let clip = 3.0 * c.critical;
    let y_label = format!("z = (observed - mean) / (sd * sqrt(1 + 1/R)), clipped at ±{}", sig(clip, 3));
    let y_label = y_label.as_str();
    for (j, p) in c.spec.params.iter().enumerate() {
        let mut curves = Vec::new();
        if c.spec.params.len() == 1 {
            for (k, t) in c.spec.targets.iter().enumerate() {
                let points = c
                    .evals
                    .iter()
                    .map(|e| {
                        let z = e.z[k].clamp(-clip, clip);
                        CurvePoint { x: e.theta[0], mean: z, lo: z, hi: z }
                    })
                    .collect();
                curves.push(Curve { label: format!("z of {}", t.metric), points });
            }
        } else {
            let mut xs: Vec<f64> = c.evals.iter().map(|e| e.theta[j]).collect();
            xs.sort_by(f64::total_cmp);
            xs.dedup();
            let points = xs
                .iter()
                .map(|&x| {
                    let d =
                        c.evals.iter().filter(|e| e.theta[j] == x).map(|e| e.distance()).fold(f64::INFINITY, f64::min);
                    CurvePoint { x, mean: d, lo: d, hi: d }
                })
                .collect();
            curves.push(Curve { label: "smallest largest |z| at this value".into(), points });
        }
        curves.push(flat(format!("+{} (95% set inside)", sig(c.critical, 3)), c.critical, p.lo, p.hi));
        if c.spec.params.len() == 1 {
            curves.push(flat(format!("-{}", sig(c.critical, 3)), -c.critical, p.lo, p.hi));
        }
        let stem = if j == 0 { "objective".to_string() } else { format!("objective-{}", p.path) };
        let title = format!("Calibration of {name}: {}", p.path);
        plot::headroom(
            &title,
            &p.path,
            y_label,
            &curves,
            &st.staging_path(&format!("{stem}.svg")),
            &st.staging_path(&format!("{stem}.png")),
        )?;
    }
    Ok(())
}
