//! `surgesim sweep`, `surgesim plan`, `surgesim merge`: flags in, the
//! library's [`surgesim::sweep`] in the middle, files and tables out.
//!
//! Output folders are written through [`Staged`], so an interrupted sweep
//! never leaves a `sweep.csv` that looks whole. Defaults, under
//! `notebooks-out/<scenario name>/`: `sweep/` (also for `merge`),
//! `sweep-shard-K-of-N/`, `plan/` and `frontier/`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use surgesim::report::{num, plot, sig, Staged};
use surgesim::result::metric_names;
use surgesim::scenario::{overrides::Override, Scenario};
use surgesim::slo::{Objective, SloSet};
use surgesim::sweep::axis::Range;
use surgesim::sweep::curves::{curves, Curve};
use surgesim::sweep::frontier::{self, FrontierPoint, Status};
use surgesim::sweep::plan::{self, PlanSpec, Probe};
use surgesim::sweep::rows::Table;
use surgesim::sweep::runs::{metrics_for, run_points};
use surgesim::sweep::shard::{self, Part, SweepInfo};
use surgesim::sweep::{Axis, AxisValue, BaseScenario, Grid, Manifest, Shard};

use super::run::{check_budget, default_out};
use super::{set_threads, ScenarioArgs};

#[derive(Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// A numeric scenario field and its range, TO inclusive (integers stay
    /// integers when FROM, TO and STEP are). Repeat for a grid; the first
    /// varies slowest.
    #[arg(long, required = true, value_name = "PATH=FROM..TO:STEP")]
    pub vary: Vec<String>,
    /// Replications per point; every point uses indices 0..R (common random numbers).
    #[arg(long, short = 'r', default_value_t = 10)]
    pub replications: u64,
    /// Output folder (default: notebooks-out/<scenario name>/sweep/, with
    /// --shard …/sweep-shard-K-of-N/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only the points with index % N == K-1; join the parts with `surgesim merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Worker threads (0: one per core). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Replace an output folder that surgesim did not write.
    #[arg(long)]
    pub force: bool,
    /// Refuse points expected to simulate more calls than this (per replication).
    #[arg(long, default_value_t = 2e10)]
    pub max_calls: f64,
}

#[derive(Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// The parameter to choose and its range, TO inclusive.
    #[arg(long, value_name = "PATH=FROM..TO")]
    pub vary: String,
    /// Grid step of --vary (default: 1 for integer ranges, 1% of the range
    /// for float ranges; with --frontier, a tenth of the range).
    #[arg(long)]
    pub step: Option<String>,
    /// The objective, e.g. 'failure_rate<=0.001' (any metric of summary.json).
    #[arg(long)]
    pub slo: String,
    /// Two-sided confidence level of the interval judged against the SLO.
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    /// Most replications spent on one value; still undecided there counts as not met.
    #[arg(long, default_value_t = 200)]
    pub max_replications: u64,
    /// The metric improves as the parameter shrinks: find the largest value meeting the SLO.
    #[arg(long)]
    pub decreasing: bool,
    /// Survivable-surge frontier: for each --vary value, the largest value of
    /// this parameter (bisected to 1% of its range) that meets the SLO.
    #[arg(long, value_name = "PATH=FROM..TO")]
    pub frontier: Option<String>,
    /// Output folder (default: notebooks-out/<scenario name>/plan/ or …/frontier/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an output folder that surgesim did not write.
    #[arg(long)]
    pub force: bool,
    /// Worker threads (0: one per core). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Refuse values expected to simulate more calls than this (per replication).
    #[arg(long, default_value_t = 2e10)]
    pub max_calls: f64,
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
fn base(args: &ScenarioArgs) -> Result<(BaseScenario, Scenario)> {
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

fn warn(sc: &Scenario) {
    for w in &sc.warnings {
        eprintln!("warning: {w}");
    }
}

/// A progress bar on stderr, drawn only on a terminal and never in CI.
fn progress(len: Option<u64>, unit: &str) -> ProgressBar {
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

/// Writes into `staged`, dropping the staged files on error.
fn publish(staged: Staged, write: impl FnOnce(&Staged) -> Result<()>) -> Result<PathBuf> {
    if let Err(e) = write(&staged) {
        staged.abort();
        return Err(e);
    }
    Ok(staged.commit()?)
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
    if grid.len() > surgesim::sweep::grid::MAX_POINTS {
        bail!("the grid has more than {} points; use larger steps", surgesim::sweep::grid::MAX_POINTS);
    }
    let scenarios = base.load_grid(&grid)?;
    for (i, sc) in scenarios.iter().enumerate() {
        check_budget(sc, args.replications, args.max_calls).with_context(|| format!("sweep point {i}"))?;
    }
    warn(&sc0);
    set_threads(args.threads)?;
    let out = args.out.clone().unwrap_or_else(|| match shard {
        Some(s) => default_out(&sc0).join(format!("sweep-shard-{}-of-{}", s.k, s.n)),
        None => default_out(&sc0).join("sweep"),
    });
    let staged = Staged::begin(&out, args.force)?;

    let points: Vec<_> = grid
        .shard_points(shard.unwrap_or(Shard::ALL))
        .into_iter()
        .map(|p| {
            let sc = scenarios[p.index].clone();
            (p, sc)
        })
        .collect();
    drop(scenarios);
    let bar = progress(Some(points.len() as u64 * args.replications), "runs");
    let results = run_points(&points, args.replications, Default::default(), &|| bar.inc(1));
    bar.finish_and_clear();

    let mut table = Table::new(&grid.paths(), &metrics_for(&sc0));
    for r in &results {
        table.push(r);
    }
    let info = SweepInfo::new(&sc0.name, base.digest(), &grid, args.replications);
    let dir = match shard {
        Some(s) => publish(staged, |st| {
            st.write("sweep.part.csv", &table.to_csv())?;
            st.write("manifest.json", Manifest::new(info.clone(), s).to_json().as_bytes())?;
            Ok(())
        })?,
        None => publish(staged, |st| write_sweep(st, &info, &table))?,
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
    let series = to_series(curves(table, &paths, "failed"), "failed calls");
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

fn to_series(curves: Vec<Curve>, default_label: &str) -> Vec<plot::Series> {
    curves
        .into_iter()
        .map(|c| plot::Series {
            label: if c.label.is_empty() { default_label.to_string() } else { c.label },
            points: c.points.iter().map(|p| plot::CurvePoint { x: p.x, mean: p.mean, lo: p.lo, hi: p.hi }).collect(),
        })
        .collect()
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
    let dir = publish(Staged::begin(&out, args.force)?, |st| write_sweep(st, &info, &table))?;
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
    let table = Table::from_csv(&read("sweep.part.csv")?).with_context(|| format!("part {name}: sweep.part.csv"))?;
    Ok(Part { name, manifest, table })
}

// ---------------------------------------------------------------------------
// plan
// ---------------------------------------------------------------------------

/// Checks and gathers what `plan` needs before anything runs.
struct Planning {
    base: BaseScenario,
    sc0: Scenario,
    axis: Axis,
    spec: PlanSpec,
}

fn planning(args: &PlanArgs) -> Result<Planning> {
    let (base, sc0) = base(&args.scenario)?;
    let range = Range::parse("--vary", &args.vary)?;
    let step = match (&args.step, range.step) {
        (Some(s), None) => {
            AxisValue::parse(s).ok_or_else(|| anyhow!("--step {s}: not a number; expected e.g. 1 or 0.5"))?
        }
        (Some(s), Some(own)) => {
            if AxisValue::parse(s) != Some(own) {
                bail!("--vary {} has its own step {own}; --step {s} disagrees", range.arg);
            }
            own
        }
        (None, Some(own)) => own,
        (None, None) => default_step(&range, args.frontier.is_some()),
    };
    let axis = Axis::new("--vary", &range, step)?;
    let objective = Objective::parse(&args.slo, &metric_names(&sc0)).map_err(|e| anyhow!("--slo {e}"))?;
    if !(0.5..1.0).contains(&args.confidence) {
        bail!("--confidence {}: expected a level in [0.5, 1), e.g. 0.95", args.confidence);
    }
    if !(2..=100_000).contains(&args.max_replications) {
        bail!("--max-replications {}: expected 2 to 100000", args.max_replications);
    }
    let spec =
        PlanSpec { objective, confidence: args.confidence, first_batch: 8, max_replications: args.max_replications };
    Ok(Planning { base, sc0, axis, spec })
}

/// 1 (integers) or 1 % of the range (floats); a tenth of the range for a frontier.
fn default_step(r: &Range, frontier: bool) -> AxisValue {
    let width = r.to.as_f64() - r.from.as_f64();
    let parts = if frontier { 10.0 } else { 100.0 };
    match (r.from, r.to) {
        (AxisValue::Int(_), AxisValue::Int(_)) if !frontier => AxisValue::Int(1),
        (AxisValue::Int(_), AxisValue::Int(_)) => AxisValue::Int((width / parts).ceil().max(1.0) as i64),
        _ if width > 0.0 => AxisValue::Float(width / parts),
        _ => AxisValue::Float(1.0),
    }
}

pub fn plan(args: PlanArgs) -> Result<ExitCode> {
    let p = planning(&args)?;
    if let Some(f) = &args.frontier {
        return run_frontier(&args, p, f);
    }
    let Planning { base, sc0, axis, spec } = p;
    // Every value is checked up front (the ends only, on very long grids).
    let check: Vec<AxisValue> =
        if axis.len() <= 1000 { axis.values.clone() } else { vec![axis.values[0], axis.values[axis.len() - 1]] };
    for v in check {
        let sc = base.load_point(&[&axis], &[v])?;
        check_budget(&sc, spec.max_replications, args.max_calls)?;
    }
    warn(&sc0);
    set_threads(args.threads)?;
    let out = args.out.clone().unwrap_or_else(|| default_out(&sc0).join("plan"));
    let staged = Staged::begin(&out, args.force)?;

    let mut text = String::new();
    let mut say = |line: String| {
        println!("{line}");
        text.push_str(&line);
        text.push('\n');
    };
    say(format!(
        "{} — plan {} over {} ({} values, step {}) for {} at {}% confidence; metric assumed to improve as it {}",
        sc0.name,
        axis.path,
        axis.arg,
        axis.len(),
        axis.step,
        spec.objective.key,
        num(spec.confidence * 100.0),
        if args.decreasing { "shrinks" } else { "grows" }
    ));
    say(format!(
        "batches of 8 replications doubling up to {}; indices 0..n at every value (common random numbers)",
        spec.max_replications
    ));
    say(probe_header(&axis.path));
    let mut probes_n = 0;
    let outcome = plan::plan(
        &axis.values,
        args.decreasing,
        &spec,
        |v| base.load_point(&[&axis], &[v]),
        |pr| {
            probes_n += 1;
            say(probe_line(probes_n, pr));
        },
    )?;
    let answer = match outcome.answer {
        Some(v) => format!(
            "answer: {} = {v} is the {} value meeting {} with {}% confidence",
            axis.path,
            if args.decreasing { "largest" } else { "smallest" },
            spec.objective.key,
            num(spec.confidence * 100.0)
        ),
        None => format!("answer: no value in range meets the SLO ({} over {})", spec.objective.key, axis.arg),
    };
    say(answer);
    if outcome.probes.iter().any(|p| p.decision == plan::Decision::Undecided) {
        say(format!(
            "note: undecided values (interval straddling the threshold after {} replications) were treated as not met",
            spec.max_replications
        ));
    }
    let csv = probes_csv(&axis.path, None, &spec.objective.key, outcome.probes.iter().map(|p| (None, p)));
    let dir = publish(staged, |st| {
        st.write("plan.csv", &csv)?;
        st.write("plan.txt", text.as_bytes())?;
        Ok(())
    })?;
    println!("wrote {}", dir.display());
    Ok(if outcome.answer.is_some() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn probe_header(path: &str) -> String {
    format!("{:>5}  {:>14}  {:>5}  {:>12}  {:>27}  decision", "probe", path, "runs", "mean", "95% interval")
}

fn probe_line(i: usize, p: &Probe) -> String {
    let ci = p.ci.map_or("-".to_string(), |[lo, hi]| format!("[{}, {}]", sig(lo, 4), sig(hi, 4)));
    let note = if p.decision == plan::Decision::Undecided { " (treated as not met)" } else { "" };
    format!("{i:>5}  {:>14}  {:>5}  {:>12}  {ci:>27}  {}{note}", p.value, p.runs, sig(p.mean, 5), p.decision.name())
}

/// The evidence as CSV: one row per probe (with its capacity, for frontiers).
fn probes_csv<'a>(
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

// ---------------------------------------------------------------------------
// plan --frontier
// ---------------------------------------------------------------------------

fn run_frontier(args: &PlanArgs, p: Planning, stress_arg: &str) -> Result<ExitCode> {
    let Planning { base, sc0, axis, spec } = p;
    let mut stress = Range::parse("--frontier", stress_arg)?;
    if stress.step.is_some() {
        bail!("--frontier {stress_arg}: takes PATH=FROM..TO without a step (it is bisected to 1% of the range)");
    }
    if stress.to.as_f64() <= stress.from.as_f64() {
        bail!("--frontier {stress_arg}: TO must be above FROM");
    }
    if stress.path == axis.path {
        bail!("--frontier {stress_arg}: the frontier parameter must differ from --vary {}", axis.arg);
    }
    // The ends of the stress range, as an axis, so errors name --frontier.
    let ends_of = |r: &Range| {
        let width = match (r.from, r.to) {
            (AxisValue::Int(a), AxisValue::Int(b)) => AxisValue::Int(b - a),
            (a, b) => AxisValue::Float(b.as_f64() - a.as_f64()),
        };
        Axis::new("--frontier", r, width)
    };
    let mut ends = ends_of(&stress)?;
    // `1..4` on a float field (a multiplier) is a continuous range: bisect
    // it in floats. Integer bisection only for fields that take integers.
    if ends.is_int() && base.load_point(&[&ends], &[AxisValue::Float(stress.from.as_f64() + 0.5)]).is_ok() {
        stress.from = AxisValue::Float(stress.from.as_f64());
        stress.to = AxisValue::Float(stress.to.as_f64());
        ends = ends_of(&stress)?;
    }
    for v in &ends.values {
        base.load_point(&[&ends], &[*v])?;
    }
    for &x in &axis.values {
        for &f in &ends.values {
            let sc = base.load_point(&[&axis, &ends], &[x, f])?;
            check_budget(&sc, spec.max_replications, args.max_calls)?;
        }
    }
    warn(&sc0);
    set_threads(args.threads)?;
    let out = args.out.clone().unwrap_or_else(|| default_out(&sc0).join("frontier"));
    let staged = Staged::begin(&out, args.force)?;

    let bar = progress(None, "probes");
    let points = frontier::frontier(&axis.values, &stress, &spec, |x, f| {
        bar.inc(1);
        base.load_point(&[&axis, &ends], &[x, f])
    })?;
    bar.finish_and_clear();

    let text = frontier_text(&sc0, &axis, &stress, &spec, &points);
    print!("{text}");
    let csv = frontier_csv(&axis, &stress, &points);
    let evidence = probes_csv(
        &stress.path,
        Some(&axis.path),
        &spec.objective.key,
        points.iter().flat_map(|fp| fp.probes.iter().map(|p| (Some(fp.capacity), p))),
    );
    let series = vec![plot::Series {
        label: format!("largest {} meeting {}", stress.path, spec.objective.key),
        points: points
            .iter()
            .filter_map(|fp| {
                let best = fp.largest_met?;
                Some(plot::CurvePoint {
                    x: fp.capacity.as_f64(),
                    mean: best,
                    lo: best,
                    hi: fp.smallest_failed.unwrap_or(best),
                })
            })
            .collect(),
    }];
    let title = format!("{}: survivable {} vs {} ({})", sc0.name, stress.path, axis.path, spec.objective.key);
    let dir = publish(staged, |st| {
        st.write("frontier.csv", &csv)?;
        st.write("frontier-probes.csv", &evidence)?;
        st.write("frontier.txt", text.as_bytes())?;
        plot::headroom(
            &title,
            &axis.path,
            &format!("largest {} (band: bisection bracket)", stress.path),
            &series,
            &st.staging_path("frontier.svg"),
            &st.staging_path("frontier.png"),
        )?;
        Ok(())
    })?;
    println!("wrote {}", dir.display());
    let any = points.iter().any(|fp| fp.largest_met.is_some());
    Ok(if any { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn frontier_text(sc: &Scenario, axis: &Axis, stress: &Range, spec: &PlanSpec, points: &[FrontierPoint]) -> String {
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

fn frontier_csv(axis: &Axis, stress: &Range, points: &[FrontierPoint]) -> Vec<u8> {
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
