//! `surgesim plan --vary P1=… --vary P2=… --slo … [--slo …] --minimize
//! METRIC [--pareto METRIC]`: the cheapest combination of several
//! parameters meeting every objective ([`surgesim::sweep::mix::search`]),
//! with its evidence table, and the cost–metric Pareto frontier of the grid
//! ([`surgesim::sweep::mix::pareto`]). Writes `plan.txt`, `plan.csv` and,
//! with `--pareto`, `pareto.csv`, `pareto.svg` and `pareto.png` under
//! `notebooks-out/<scenario name>/plan/`.

use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};

use surgesim::report::mix::{pareto_csv, probe_header, probe_line, probes_csv};
use surgesim::report::{num, plot, sig};
use surgesim::result::metric_names;
use surgesim::slo::{Objective, Op};
use surgesim::sweep::axis::Range;
use surgesim::sweep::mix::{self, MixSpec};
use surgesim::sweep::{Axis, Grid};

use super::plan::{check_levels, default_step, PlanArgs};
use super::run::{check_budget, default_out};
use super::set_threads;
use super::sweep::{base, progress, warn};

pub fn plan_mix(args: &PlanArgs) -> Result<ExitCode> {
    if args.frontier.is_some() {
        bail!("--frontier applies to a single --vary without --minimize");
    }
    if args.decreasing {
        bail!("--decreasing applies to a single --vary: the multi-knob plan assumes every parameter helps as it grows");
    }
    if args.step.is_some() {
        bail!("--step applies to a single --vary; give each --vary its own step, PATH=FROM..TO:STEP");
    }
    let Some(minimize) = &args.minimize else {
        let what = if args.pareto.is_some() { "--pareto".to_string() } else { format!("{} --vary", args.vary.len()) };
        bail!("{what}: a multi-knob plan needs --minimize METRIC, e.g. --minimize cost_total");
    };
    let (base, sc0) = base(&args.scenario)?;
    let names = metric_names(&sc0);
    let known = |flag: &str, m: &str| -> Result<()> {
        if names.iter().any(|n| n == m) {
            Ok(())
        } else {
            bail!("{flag} {m}: unknown metric; valid metrics: {}", names.join(", "))
        }
    };
    known("--minimize", minimize)?;
    if let Some(m) = &args.pareto {
        known("--pareto", m)?;
    }
    let mut axes: Vec<Axis> = Vec::new();
    for arg in &args.vary {
        let range = Range::parse("--vary", arg)?;
        let step = range.step.unwrap_or_else(|| default_step(&range, false));
        let axis = Axis::new("--vary", &range, step)?.ending_at_to();
        if let Some(a) = axes.iter().find(|a| a.path == axis.path) {
            bail!("--vary {arg}: {} is already varied by --vary {}", axis.path, a.arg);
        }
        axes.push(axis);
    }
    let objectives: Vec<Objective> = args
        .slo
        .iter()
        .map(|s| Objective::parse(s, &names).map_err(|e| anyhow!("--slo {e}")))
        .collect::<Result<_>>()?;
    check_levels(args)?;
    if args.pareto.is_some() && !(2..=10_000).contains(&args.pareto_replications) {
        bail!("--pareto-replications {}: expected 2 to 10000", args.pareto_replications);
    }
    let grid = Grid::new(axes.clone());
    grid.check_size()?;
    base.check_axes(&grid)?;
    // The cheapest and the dearest corners: budgets and combined validity.
    for i in [0, grid.len() - 1] {
        let sc = base.load_at(&grid, i)?;
        check_budget(&sc, args.max_replications.max(args.pareto_replications), args.output.max_calls)?;
    }
    let spec = MixSpec {
        objectives,
        minimize: minimize.clone(),
        confidence: args.confidence,
        first_batch: 8,
        max_replications: args.max_replications,
    };
    warn(&sc0);
    set_threads(args.output.threads)?;
    let staged = args.output.begin(default_out(&sc0).join("plan"))?;

    let mut text = String::new();
    let mut say = |line: String| {
        println!("{line}");
        text.push_str(&line);
        text.push('\n');
    };
    let slos = spec.objectives.iter().map(|o| o.key.clone()).collect::<Vec<_>>().join(", ");
    say(format!(
        "{} — plan: least {} over {} meeting {} at {}% confidence; every metric assumed to improve, and {} to grow, as any parameter grows",
        sc0.name,
        spec.minimize,
        axes.iter().map(|a| format!("{} ({} values)", a.arg, a.len())).collect::<Vec<_>>().join(" × "),
        slos,
        num(spec.confidence * 100.0),
        spec.minimize
    ));
    say(format!(
        "bisection on {} for each combination of the others; batches of 8 replications doubling up to {}; indices 0..n everywhere (common random numbers)",
        axes[axes.len() - 1].path,
        spec.max_replications
    ));
    say(probe_header(&axes, &spec));
    let mut probes_n = 0;
    let outcome = mix::search(
        &axes,
        &spec,
        |v| {
            let refs: Vec<&Axis> = axes.iter().collect();
            base.load_point(&refs, v)
        },
        |p| {
            probes_n += 1;
            // The answer is known only at the end: marked in plan.csv and below.
            say(probe_line(probes_n, &axes, p, false));
        },
    )?;
    let runs: u64 = outcome.probes.iter().map(|p| p.runs).sum();
    say(format!(
        "searched {} combination(s) of the outer parameters ({} pruned by cost): {} probes, {} runs",
        outcome.combinations,
        outcome.pruned,
        outcome.probes.len(),
        runs
    ));
    match outcome.answer {
        Some(i) => {
            let p = &outcome.probes[i];
            let at = axes.iter().zip(&p.values).map(|(a, v)| format!("{} = {v}", a.path)).collect::<Vec<_>>();
            say(format!(
                "answer: {} ({} {}) is the cheapest combination meeting every objective with {}% confidence (probe {})",
                at.join(", "),
                spec.minimize,
                sig(p.cost.mean, 6),
                num(spec.confidence * 100.0),
                i + 1
            ));
        }
        None => say("answer: no combination in range meets every objective".into()),
    }
    if outcome.probes.iter().any(|p| p.decision == surgesim::sweep::plan::Decision::Undecided) {
        say(format!(
            "note: undecided combinations (an interval straddling a threshold after {} replications) were treated as not met",
            spec.max_replications
        ));
    }

    let pareto = match &args.pareto {
        None => None,
        Some(metric) => {
            let lower_better = !spec.objectives.iter().any(|o| &o.metric == metric && o.op == Op::AtLeast);
            let bar = progress(None, "runs");
            let points = mix::pareto(
                &grid,
                args.pareto_replications,
                &spec.minimize,
                metric,
                lower_better,
                spec.confidence,
                |v| {
                    let refs: Vec<&Axis> = axes.iter().collect();
                    base.load_point(&refs, v)
                },
            )?;
            bar.finish_and_clear();
            say(format!(
                "pareto: {} of {} combinations on the frontier of {} against {} ({} better; {} replications each):",
                points.iter().filter(|p| p.on_frontier).count(),
                points.len(),
                spec.minimize,
                metric,
                if lower_better { "lower" } else { "higher" },
                args.pareto_replications
            ));
            let mut front: Vec<&mix::ParetoPoint> = points.iter().filter(|p| p.on_frontier).collect();
            front.sort_by(|a, b| a.cost.mean.total_cmp(&b.cost.mean));
            for p in front {
                let at = axes.iter().zip(&p.values).map(|(a, v)| format!("{}={v}", a.path)).collect::<Vec<_>>();
                say(format!(
                    "  {} {:>10}  {} {:>12}  {}",
                    spec.minimize,
                    sig(p.cost.mean, 6),
                    metric,
                    sig(p.metric.mean, 5),
                    at.join(" ")
                ));
            }
            Some((metric.clone(), points))
        }
    };

    let csv = probes_csv(&axes, &spec, &outcome);
    let paths: Vec<String> = axes.iter().map(|a| a.path.clone()).collect();
    let dir = staged.finish(|st| -> Result<()> {
        st.write("plan.csv", &csv)?;
        st.write("plan.txt", text.as_bytes())?;
        if let Some((metric, points)) = &pareto {
            st.write("pareto.csv", &pareto_csv(&axes, &spec.minimize, metric, points))?;
            let title = format!("{}: {} against {}", sc0.name, spec.minimize, metric);
            plot::pareto(
                &title,
                &paths,
                &spec.minimize,
                metric,
                points,
                &st.staging_path("pareto.svg"),
                &st.staging_path("pareto.png"),
            )?;
        }
        let files = [args.scenario.scenario.as_path()];
        super::report::attach(args.report, st, "plan", &files, Some(sc0.seed), None)
    })?;
    println!("wrote {}", dir.display());
    Ok(if outcome.answer.is_some() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
