//! `surgesim sweep` and `surgesim merge`: flags in, the library's
//! [`surgesim::sweep`] in the middle, files and tables out; and the pieces
//! `plan` shares with them.
//!
//! Output folders are written through [`Staged`], so an interrupted sweep
//! never leaves a `sweep.csv` that looks whole. Defaults, under
//! `notebooks-out/<scenario name>/`: `sweep/` (also for `merge`) and
//! `sweep-shard-K-of-N/`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use surgesim::report::curves::curves;
use surgesim::report::{plot, Staged};
use surgesim::scenario::{overrides::Override, Scenario};
use surgesim::slo::SloSet;
use surgesim::sweep::rows::Table;
use surgesim::sweep::runs::{metrics_for, run_lazily};
use surgesim::sweep::shard::{self, Part, SweepInfo};
use surgesim::sweep::{Axis, BaseScenario, Grid, Manifest, Shard};

use super::run::{check_budget, default_out};
use super::{set_threads, OutputArgs, ScenarioArgs};

#[derive(Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// A numeric scenario field and its range, TO inclusive (integers stay
    /// integers when FROM, TO and STEP are). Repeat for a grid; the first
    /// varies slowest. At most 100000 points in all (the product of the
    /// ranges' value counts); a larger grid is refused before anything runs.
    #[arg(long, required = true, value_name = "PATH=FROM..TO:STEP")]
    pub vary: Vec<String>,
    /// Replications per point; every point uses indices 0..R (common random numbers).
    #[arg(long, short = 'r', default_value_t = 10)]
    pub replications: u64,
    /// Run only the points with index % N == K-1; join the parts with `surgesim merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Also write report.html (one self-contained page) and provenance.json
    /// (not for a shard: report on the merged folder).
    #[arg(long, conflicts_with = "shard")]
    pub report: bool,
}

#[derive(Args)]
pub struct MergeArgs {
    /// Part folders written by `surgesim sweep --shard K/N`, one per K.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Output folder (default: notebooks-out/<scenario name>/sweep/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an output folder that surgesim did not write.
    #[arg(long)]
    pub force: bool,
}

/// The scenario with its `--set`, `--window` and `--seed`, and the base configuration.
pub(super) fn base(args: &ScenarioArgs) -> Result<(BaseScenario, Scenario)> {
    let mut overrides = Vec::new();
    for s in &args.set {
        overrides.push(s.parse::<Override>().map_err(|e| anyhow!("--set {e}"))?);
    }
    if let Some(w) = &args.window {
        overrides.push(Override { path: "window".into(), value: toml::Value::String(w.clone()) });
    }
    let base = BaseScenario::read(&args.scenario, overrides, args.seed)?;
    let sc = base.scenario()?;
    SloSet::of(&sc).with_context(|| args.scenario.display().to_string())?;
    Ok((base, sc))
}

pub(super) fn warn(sc: &Scenario) {
    for w in &sc.warnings {
        eprintln!("warning: {w}");
    }
}

/// A progress bar on stderr, drawn only on a terminal and never in CI.
pub(super) fn progress(len: Option<u64>, unit: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
        return ProgressBar::hidden();
    }
    match len {
        Some(len) => ProgressBar::new(len).with_style(
            ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {unit} {{elapsed}} (eta {{eta}})"))
                .expect("a valid template"),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template(&format!("{{spinner}} {{pos}} {unit} {{elapsed}}")).expect("a valid template"),
        ),
    }
}

// ---------------------------------------------------------------------------
// sweep
// ---------------------------------------------------------------------------

pub fn sweep(args: SweepArgs) -> Result<ExitCode> {
    let axes: Vec<Axis> = args.vary.iter().map(|v| Axis::parse("--vary", v)).collect::<Result<_, _>>()?;
    let shard = args.shard.as_deref().map(str::parse::<Shard>).transpose().map_err(|e| anyhow!(e))?;
    let (base, sc0) = base(&args.scenario)?;
    for (i, a) in axes.iter().enumerate() {
        if axes[..i].iter().any(|b| b.path == a.path) {
            bail!("--vary {}: the path {} is varied twice", a.arg, a.path);
        }
    }
    let grid = Grid::new(axes);
    grid.check_size()?;
    // Every point is checked before anything runs; none is kept.
    base.check_axes(&grid)?;
    for i in 0..grid.len() {
        let sc = base.load_at(&grid, i)?;
        check_budget(&sc, args.replications, args.output.max_calls).with_context(|| format!("sweep point {i}"))?;
    }
    warn(&sc0);
    set_threads(args.output.threads)?;
    let staged = args.output.begin(match shard {
        Some(s) => default_out(&sc0).join(format!("sweep-shard-{}-of-{}", s.k, s.n)),
        None => default_out(&sc0).join("sweep"),
    })?;

    let shard_len = grid.shard_iter(shard.unwrap_or(Shard::ALL)).len();
    let bar = progress(Some(shard_len as u64 * args.replications), "runs");
    let metrics = metrics_for(&sc0);
    let mut table = Table::new(&grid.paths(), &metrics.iter().map(String::as_str).collect::<Vec<_>>());
    run_lazily(
        grid.shard_iter(shard.unwrap_or(Shard::ALL)),
        args.replications,
        Default::default(),
        |p| base.load_at(&grid, p.index),
        &|| bar.inc(1),
        |r| table.push(&r),
    )?;
    bar.finish_and_clear();

    let info = SweepInfo::new(&sc0.name, base.digest(), &grid, args.replications);
    let dir = match shard {
        Some(s) => staged.finish(|st| -> Result<()> {
            let csv = table.to_csv();
            st.write("sweep.part.csv", &csv)?;
            st.write("manifest.json", Manifest::new(info.clone(), s, sc0.seed, &grid, &csv).to_json().as_bytes())?;
            Ok(())
        })?,
        None => staged.finish(|st| -> Result<()> {
            write_sweep(st, &info, &table)?;
            let paths = [args.scenario.scenario.as_path()];
            super::report::attach(args.report, st, "sweep", &paths, Some(sc0.seed), Some(args.replications))
        })?,
    };
    print!("{}", table.render(&info));
    if let Some(s) = shard {
        println!("shard {s}: {} of {} points", table.rows.len(), info.points_total);
    }
    println!("wrote {}", dir.display());
    Ok(ExitCode::SUCCESS)
}

/// `sweep.csv`, `sweep.txt` and the headroom plots of a whole sweep.
fn write_sweep(st: &Staged, info: &SweepInfo, table: &Table) -> Result<()> {
    st.write("sweep.csv", &table.to_csv())?;
    st.write("sweep.txt", table.render(info).as_bytes())?;
    let paths: Vec<String> = info.grid.iter().map(|a| a.path.clone()).collect();
    let series = labelled(curves(table, &paths, "failed"), "failed calls");
    let title = format!("{}: failed calls vs {} ({} replications, 95% CI)", info.scenario, paths[0], info.replications);
    plot::headroom(
        &title,
        &paths[0],
        "failed calls (mean)",
        &series,
        &st.staging_path("headroom.svg"),
        &st.staging_path("headroom.png"),
    )?;
    Ok(())
}

/// Curves for the headroom plot: the one unlabelled curve of a single axis
/// gets `default_label`.
fn labelled(mut curves: Vec<plot::Curve>, default_label: &str) -> Vec<plot::Curve> {
    for c in curves.iter_mut().filter(|c| c.label.is_empty()) {
        c.label = default_label.to_string();
    }
    curves
}

// ---------------------------------------------------------------------------
// merge
// ---------------------------------------------------------------------------

pub fn merge(args: MergeArgs) -> Result<ExitCode> {
    let mut parts = Vec::new();
    for dir in &args.parts {
        parts.push(read_part(dir)?);
    }
    let (info, table) = shard::merge(&parts)?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("notebooks-out").join(&info.scenario).join("sweep"));
    let dir = Staged::begin(&out, args.force)?.finish(|st| write_sweep(st, &info, &table))?;
    print!("{}", table.render(&info));
    println!("merged {} parts; wrote {}", parts.len(), dir.display());
    Ok(ExitCode::SUCCESS)
}

fn read_part(dir: &Path) -> Result<Part> {
    let name = dir.display().to_string();
    let read = |file: &str| {
        let p = dir.join(file);
        std::fs::read(&p).with_context(|| {
            format!("part {name}: cannot read {file} (is this a folder written by `surgesim sweep --shard K/N`?)")
        })
    };
    let manifest = Manifest::from_json(&name, &String::from_utf8_lossy(&read("manifest.json")?))?;
    let csv = read("sweep.part.csv")?;
    let table = Table::from_csv(&csv).with_context(|| format!("part {name}: sweep.part.csv"))?;
    Ok(Part { name, manifest, table, csv_sha256: shard::sha256_hex(&csv) })
}
