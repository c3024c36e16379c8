//! `surgesim fit LOG.csv -o SCENARIO.toml`: a scenario fitted from a call
//! log, with `fit.json` and `fit.svg`/`fit.png` beside it. Nothing is
//! written unless the whole log was read and the scenario validates.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;

use surgesim::fit::{self, render, FitOptions};
use surgesim::report::{output, plot, sig};
use surgesim::time::{parse_clock, parse_duration};

#[derive(Args)]
pub struct FitArgs {
    /// The call log (CSV): arrival, and optionally duration or end, outcome, class.
    pub log: PathBuf,
    /// The scenario file to write; fit.json and fit.svg go beside it.
    #[arg(long, short = 'o')]
    pub out: PathBuf,
    /// Width of the rate bins.
    #[arg(long, default_value = "1m")]
    pub bin: String,
    /// Clock label of the start, HH:MM (default: the start's time of day, or 00:00 for seconds).
    #[arg(long)]
    pub clock_start: Option<String>,
    /// RFC 3339 timestamp of the start, for RFC 3339 logs (default: the first arrival, floored to the bin).
    #[arg(long)]
    pub origin: Option<String>,
    /// Scenario name (default: fit- and the log's file stem).
    #[arg(long)]
    pub name: Option<String>,
}

pub fn fit(a: FitArgs) -> Result<ExitCode> {
    let bin = parse_duration(&a.bin).map_err(|e| anyhow::anyhow!("--bin: {e}"))?;
    if bin.as_secs_f64() < 1e-3 {
        bail!("--bin {}: expected at least 1ms", a.bin);
    }
    let clock_start = match &a.clock_start {
        None => None,
        Some(c) => Some(parse_clock(c).map_err(|e| anyhow::anyhow!("--clock-start: {e}"))?),
    };
    let opts = FitOptions { bin, clock_start, origin: a.origin.clone() };
    let result = fit::fit_log(&a.log, &opts)?;
    let stem = a.log.file_stem().map_or_else(|| "log".into(), |s| s.to_string_lossy().into_owned());
    let name = a.name.clone().unwrap_or_else(|| format!("fit-{stem}"));
    let text = render::scenario_toml(&result, &name);
    let dir = a.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // The scenario must be one `surgesim validate` accepts.
    let sc = surgesim::scenario::load_str(&text, &a.out.display().to_string(), dir, &[])
        .context("the fitted scenario does not validate (a bug: please report it with the log's shape)")?;
    let json = serde_json::to_string_pretty(&result)? + "\n";
    let (json_path, svg, png) = (dir.join("fit.json"), dir.join("fit.svg"), dir.join("fit.png"));
    // Every file is written through report::output (each atomically); the
    // scenario last, so it exists only when its companions do.
    plot::fit_figure(&result, &svg, &png)?;
    output::write_file(&json_path, json.as_bytes())?;
    output::write_file(&a.out, text.as_bytes())?;

    println!("{}: {} calls, {} bins of {}", a.log.display(), result.rows, result.rate.bins.len(), bin);
    for s in &result.rate.segments {
        println!(
            "  rate from {:>8}: {:>10}/s ± {} ({} calls)",
            surgesim::time::Tick::from_secs_f64(s.from_s).to_string(),
            sig(s.per_s, 4),
            sig(s.se_per_s, 2),
            s.calls
        );
    }
    for c in &result.classes {
        let d = &c.durations;
        let ks = |k: Option<f64>| k.map_or("-".to_string(), |v| sig(v, 3));
        println!(
            "  class {}: share {} ({} calls); duration {} from {} calls (KS lognormal {}, gamma {})",
            c.name,
            sig(c.share, 4),
            c.calls,
            d.chosen,
            d.n,
            ks(d.lognormal.as_ref().map(|l| l.ks)),
            ks(d.gamma.as_ref().map(|g| g.ks))
        );
    }
    if let Some(i) = &result.in_flight_at_start {
        println!("  in flight at the start: {}", i.calls);
    }
    println!("wrote {} ({}), {}, {}", a.out.display(), sc.name, json_path.display(), svg.display());
    println!("placeholders to fill or calibrate: primary.workers, primary.calls_per_worker, primary.autoscaler, fallback_eligible");
    Ok(ExitCode::SUCCESS)
}
