//! `surgesim report DIR…`: one self-contained HTML page from output
//! folders; and `--report` on the commands that write a folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use surgesim::report::html::{self, provenance, Provenance, REPORT_FILE};
use surgesim::report::Staged;

#[derive(Args)]
pub struct ReportArgs {
    /// Output folders of run, compare (also with --calibration), sweep, plan or frontier (one section each, in order).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where to write the page (default: DIR/report.html for one folder, ./report.html for several).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn report(a: ReportArgs) -> Result<ExitCode> {
    let dirs: Vec<&Path> = a.dirs.iter().map(PathBuf::as_path).collect();
    let page = html::render_dirs(&dirs)?;
    let out = a.out.clone().unwrap_or_else(|| match dirs.as_slice() {
        [one] => one.join(REPORT_FILE),
        _ => PathBuf::from(REPORT_FILE),
    });
    html::write_atomic(&out, page.as_bytes())?;
    println!("wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// With `enabled`: records provenance.json (the scenario files, the command
/// line, the date) and renders report.html into the staged folder, after
/// its other files are written; without it, does nothing (the folder keeps
/// exactly the files it had).
pub fn attach(
    enabled: bool,
    staged: &Staged,
    command: &str,
    scenarios: &[&Path],
    seed: Option<u64>,
    replications: Option<u64>,
) -> Result<()> {
    if !enabled {
        return Ok(());
    }
    let prov = Provenance::new(command, scenarios, seed, replications).context("cannot record the scenario files")?;
    staged.write(provenance::FILE, prov.to_json().as_bytes())?;
    let dir = staged.staging_path("");
    let page = html::render_staged(&dir)?;
    staged.write(REPORT_FILE, page.as_bytes())?;
    Ok(())
}
