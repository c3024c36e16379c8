//! `surgesim plan` (the cheapest value of a parameter meeting an SLO) and
//! `plan --frontier` (the survivable-surge frontier): flags in, the
//! library's [`surgesim::sweep::plan`] and [`surgesim::sweep::frontier`] in
//! the middle, the renderers of [`surgesim::report::plan`] out.
//!
//! With several `--vary`, several `--slo` or `--minimize`, the multi-knob
//! plan of [`super::plan_mix`] runs instead.
//!
//! Default output folders, under `notebooks-out/<scenario name>/`: `plan/`
//! and `frontier/`.

use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use clap::Args;

use surgesim::report::plan::{frontier_csv, frontier_text, probe_header, probe_line, probes_csv};
use surgesim::report::{num, plot};
use surgesim::result::metric_names;
use surgesim::scenario::Scenario;
use surgesim::slo::Objective;
use surgesim::sweep::axis::Range;
use surgesim::sweep::frontier;
use surgesim::sweep::plan::{self, PlanSpec};
use surgesim::sweep::{Axis, AxisValue, BaseScenario, Grid};

use super::run::{check_budget, default_out};
use super::sweep::{base, progress, warn};
use super::{set_threads, OutputArgs, ScenarioArgs};

#[derive(Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// The parameter to choose and its range, TO inclusive. Repeat it, with
    /// --minimize, for the cheapest combination of several parameters
    /// (each PATH=FROM..TO:STEP; without STEP, 1 for integers, 1% of the
    /// range for floats).
    #[arg(long, value_name = "PATH=FROM..TO", required = true)]
    pub vary: Vec<String>,
    /// Grid step of --vary (default: 1 for integer ranges, 1% of the range
    /// for float ranges; with --frontier, a tenth of the range). TO is
    /// always probed when needed, even where the step does not land on it.
    #[arg(long)]
    pub step: Option<String>,
    /// The objective, e.g. 'failure_rate<=0.001' (any metric of summary.json),
    /// or a quantile over replications, 'p95(window.failed)<=100'. Repeat it,
    /// with --minimize, to meet several at once.
    #[arg(long, required = true)]
    pub slo: Vec<String>,
    /// Multi-knob plan: the metric to minimise (e.g. cost_total) over the
    /// combinations of every --vary that meet every --slo.
    #[arg(long, value_name = "METRIC")]
    pub minimize: Option<String>,
    /// With --minimize: also run the whole grid and write the frontier of
    /// the minimised metric against METRIC (pareto.csv, pareto.svg/.png).
    #[arg(long, value_name = "METRIC")]
    pub pareto: Option<String>,
    /// Replications of each combination of the --pareto grid.
    #[arg(long, default_value_t = 8)]
    pub pareto_replications: u64,
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
    #[command(flatten)]
    pub output: OutputArgs,
    /// Also write report.html (one self-contained page) and provenance.json.
    #[arg(long)]
    pub report: bool,
}

/// Checks and gathers what `plan` needs before anything runs.
struct Planning {
    base: BaseScenario,
    sc0: Scenario,
    axis: Axis,
    spec: PlanSpec,
}

fn planning(args: &PlanArgs) -> Result<Planning> {
    let (base, sc0) = base(&args.scenario)?;
    let range = Range::parse("--vary", &args.vary[0])?;
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
    // TO is always a candidate, even off the step grid (10..30 with --step 100).
    let axis = Axis::new("--vary", &range, step)?.ending_at_to();
    let objective = Objective::parse(&args.slo[0], &metric_names(&sc0)).map_err(|e| anyhow!("--slo {e}"))?;
    check_levels(args)?;
    let spec =
        PlanSpec { objective, confidence: args.confidence, first_batch: 8, max_replications: args.max_replications };
    Ok(Planning { base, sc0, axis, spec })
}

/// Checks --confidence and --max-replications.
pub(super) fn check_levels(args: &PlanArgs) -> Result<()> {
    if !(0.5..1.0).contains(&args.confidence) {
        bail!("--confidence {}: expected a level in [0.5, 1), e.g. 0.95", args.confidence);
    }
    if !(2..=100_000).contains(&args.max_replications) {
        bail!("--max-replications {}: expected 2 to 100000", args.max_replications);
    }
    Ok(())
}

/// 1 (integers) or 1 % of the range (floats); a tenth of the range for a frontier.
pub(super) fn default_step(r: &Range, frontier: bool) -> AxisValue {
    let width = r.to.as_f64() - r.from.as_f64();
    let parts = if frontier { 10.0 } else { 100.0 };
    match (r.from, r.to) {
        (AxisValue::Int(_), AxisValue::Int(_)) if !frontier => AxisValue::Int(1),
        (AxisValue::Int(_), AxisValue::Int(_)) => AxisValue::Int((width / parts).ceil().max(1.0) as i64),
        _ if width > 0.0 => AxisValue::Float(width / parts),
        _ => AxisValue::Float(1.0),
    }
}

/// Whether `args` ask for the multi-knob plan of [`super::plan_mix`].
pub(super) fn is_mix(args: &PlanArgs) -> bool {
    args.vary.len() > 1 || args.minimize.is_some() || args.pareto.is_some()
}

/// The one-knob plan (the multi-knob one: [`super::plan_mix`]).
pub fn plan(args: PlanArgs) -> Result<ExitCode> {
    if args.slo.len() > 1 {
        bail!("--slo given {} times: several objectives need --minimize METRIC (e.g. cost_total)", args.slo.len());
    }
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
        check_budget(&sc, spec.max_replications, args.output.max_calls)?;
    }
    warn(&sc0);
    set_threads(args.output.threads)?;
    let staged = args.output.begin(default_out(&sc0).join("plan"))?;

    let mut text = String::new();
    let mut say = |line: String| {
        println!("{line}");
        text.push_str(&line);
        text.push('\n');
    };
    say(format!(
        "{} — plan {} over {} ({} values, step {}{}) for {} at {}% confidence; metric assumed to improve as it {}",
        sc0.name,
        axis.path,
        axis.arg,
        axis.len(),
        axis.step,
        if axis.to_off_step() { format!(", and TO {}", axis.to) } else { String::new() },
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
    let dir = staged.finish(|st| -> Result<()> {
        st.write("plan.csv", &csv)?;
        st.write("plan.txt", text.as_bytes())?;
        let paths = [args.scenario.scenario.as_path()];
        super::report::attach(args.report, st, "plan", &paths, Some(sc0.seed), None)
    })?;
    println!("wrote {}", dir.display());
    Ok(if outcome.answer.is_some() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

// ---------------------------------------------------------------------------
// plan --frontier
// ---------------------------------------------------------------------------

fn run_frontier(args: &PlanArgs, p: Planning, stress_arg: &str) -> Result<ExitCode> {
    let Planning { base, sc0, axis, spec } = p;
    // Every capacity is bisected: as many as a sweep's points at most.
    Grid::new(vec![axis.clone()]).check_size()?;
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
            check_budget(&sc, spec.max_replications, args.output.max_calls)?;
        }
    }
    warn(&sc0);
    set_threads(args.output.threads)?;
    let staged = args.output.begin(default_out(&sc0).join("frontier"))?;

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
    let curve = plot::Curve {
        label: format!("largest {} meeting {}", stress.path, spec.objective.key),
        points: points
            .iter()
            .filter_map(|fp| Some(plot::CurvePoint::bracket(fp.capacity.as_f64(), fp.largest_met?, fp.smallest_failed)))
            .collect(),
    };
    let title = format!("{}: survivable {} vs {} ({})", sc0.name, stress.path, axis.path, spec.objective.key);
    let dir = staged.finish(|st| -> Result<()> {
        st.write("frontier.csv", &csv)?;
        st.write("frontier-probes.csv", &evidence)?;
        st.write("frontier.txt", text.as_bytes())?;
        plot::frontier(
            &title,
            &axis.path,
            &stress.path,
            &curve,
            &st.staging_path("frontier.svg"),
            &st.staging_path("frontier.png"),
        )?;
        let paths = [args.scenario.scenario.as_path()];
        super::report::attach(args.report, st, "plan", &paths, Some(sc0.seed), None)
    })?;
    println!("wrote {}", dir.display());
    let any = points.iter().any(|fp| fp.largest_met.is_some());
    Ok(if any { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
