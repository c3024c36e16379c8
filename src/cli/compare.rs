//! `surgesim compare`: scenarios (a base and its variants) on common random
//! numbers, side by side, with paired differences against the base.
//!
//! Every scenario runs with the base's seed and the same replication
//! indices, so replication i of each meets the same calls; the differences
//! are taken per replication, and their intervals are those of the paired
//! differences (much tighter than comparing two independent means).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;

use surgesim::experiment::{self, Aggregate, Stat};
use surgesim::model::RunOptions;
use surgesim::report::{num, sig};
use surgesim::scenario::{self, overrides::Override, Scenario};

use super::OutputArgs;

#[derive(Args)]
pub struct CompareArgs {
    /// The base scenario, then its variants (files; a variant may `extends` the base).
    #[arg(required = true, num_args = 2..)]
    pub scenarios: Vec<PathBuf>,
    #[arg(long, short = 'r', default_value_t = 20)]
    pub replications: u64,
    /// Seed for all (default: the base scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Reporting window for all: 07:00..07:15, +1d07:00..+1d07:15, 20m..35m or 1200..2100.
    #[arg(long)]
    pub window: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Also write report.html (one self-contained page) and provenance.json.
    #[arg(long)]
    pub report: bool,
    /// Write the table as Markdown here (e.g. $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// calibration.json of `surgesim calibrate`: compare at each point of its
    /// 95% confidence set (estimate and ends); "saved" becomes a range.
    /// (Writes compare.txt, compare-points.csv and compare-range.csv; with
    /// --markdown or --report, the ranges and the table at each point.)
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
}

struct Row {
    name: String,
    failed: Stat,
    eligible: Stat,
    saved: Stat,
    cost: Stat,
    cost_delta: Stat,
}

pub(super) fn paired(a: &[f64], b: &[f64]) -> Stat {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    Stat::of(&d)
}

/// `compare` without `--calibration` (with it, [`super::compare_range`]).
pub fn compare(a: CompareArgs) -> Result<ExitCode> {
    let mut overrides = Vec::new();
    if let Some(w) = &a.window {
        overrides.push(Override { path: "window".into(), value: toml::Value::String(w.clone()) });
    }
    let mut scs: Vec<Scenario> = Vec::new();
    for p in &a.scenarios {
        let sc = scenario::load(p, &overrides)?;
        surgesim::slo::SloSet::of(&sc).with_context(|| p.display().to_string())?;
        scs.push(sc);
    }
    let seed = a.seed.unwrap_or(scs[0].seed);
    for sc in scs.iter_mut() {
        sc.seed = seed;
        super::run::check_budget(sc, a.replications, a.output.max_calls)?;
    }
    let windowed = scs[0].window.is_some();
    if windowed && scs.iter().any(|s| s.window != scs[0].window) {
        bail!("the scenarios have different reporting windows: give one with --window");
    }
    super::set_threads(a.output.threads)?;
    let staged = a.output.begin(super::run::default_out(&scs[0]).join("compare"))?;
    let metric = if windowed { "window.failed" } else { "failed" };
    let eligible_metric = if windowed { "window.failed_fallback_eligible" } else { "failed_fallback_eligible" };
    let aggs: Vec<Aggregate> =
        scs.iter().map(|sc| experiment::run(sc, a.replications, RunOptions::default())).collect();
    for agg in &aggs {
        super::run::ensure_complete(agg)?;
    }
    let base_failed = aggs[0].metric_values(metric);
    let base_cost = aggs[0].metric_values("cost_total");
    let rows: Vec<Row> = scs
        .iter()
        .zip(&aggs)
        .map(|(sc, agg)| {
            let f = agg.metric_values(metric);
            let c = agg.metric_values("cost_total");
            Row {
                name: sc.name.clone(),
                failed: Stat::of(&f),
                eligible: Stat::of(&agg.metric_values(eligible_metric)),
                saved: paired(&base_failed, &f),
                cost: Stat::of(&c),
                cost_delta: paired(&c, &base_cost),
            }
        })
        .collect();
    let table = render(&scs[0], &rows, metric, a.replications, seed);
    let csv = to_csv(&rows);
    let paths: Vec<&std::path::Path> = a.scenarios.iter().map(PathBuf::as_path).collect();
    let dir = staged.finish(|st| -> Result<()> {
        st.write("compare.csv", &csv)?;
        st.write("compare.txt", table.as_bytes())?;
        super::report::attach(a.report, st, "compare", &paths, Some(seed), Some(a.replications))
    })?;
    if let Some(p) = &a.markdown {
        surgesim::report::markdown::write_compare(p, &csv, &table)?;
    }
    print!("{table}");
    println!("wrote {}", dir.display());
    Ok(ExitCode::SUCCESS)
}

fn pm(s: &Stat) -> String {
    if s.n > 1 {
        format!("{} ± {}", sig(s.mean, 5), sig(s.half_width(), 2))
    } else {
        sig(s.mean, 6)
    }
}

fn render(base: &Scenario, rows: &[Row], metric: &str, reps: u64, seed: u64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{metric} on common random numbers: seed {seed}, {reps} replications (mean ± 95% CI half-width; saved and Δcost are paired per replication against {})",
        base.name
    );
    let _ = writeln!(
        s,
        "{:<34} {:>18} {:>18} {:>18} {:>16} {:>16}",
        "scenario", "failed", "fallback-eligible", "saved vs base", "cost", "Δcost"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{:<34} {:>18} {:>18} {:>18} {:>16} {:>16}",
            r.name,
            pm(&r.failed),
            pm(&r.eligible),
            pm(&r.saved),
            pm(&r.cost),
            pm(&r.cost_delta)
        );
    }
    s
}

fn to_csv(rows: &[Row]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["scenario".to_string()];
    for m in ["failed", "failed_fallback_eligible", "saved", "cost", "cost_delta"] {
        for part in ["mean", "ci_lo", "ci_hi"] {
            header.push(format!("{m}_{part}"));
        }
    }
    w.write_record(&header).expect("in-memory write");
    for r in rows {
        let mut row = vec![r.name.clone()];
        for st in [&r.failed, &r.eligible, &r.saved, &r.cost, &r.cost_delta] {
            let [lo, hi] = st.ci95.unwrap_or([f64::NAN, f64::NAN]);
            row.extend([num(st.mean), num(lo), num(hi)]);
        }
        w.write_record(&row).expect("in-memory write");
    }
    w.into_inner().expect("in-memory flush")
}
