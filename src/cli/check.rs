//! `surgesim check`: runs every scenario's `[slo]` block and reports.
//!
//! Exit 0 when every objective passes, 1 when any fails, 2 on bad input.
//! Optional outputs: JUnit XML (`--junit`), JSON (`--json`), and a baseline
//! of metrics to catch regressions that break no SLO (`--baseline`,
//! `--write-baseline`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use sha2::{Digest, Sha256};

use surgesim::experiment::{self, Aggregate};
use surgesim::model::RunOptions;
use surgesim::report::{json, output, sig};
use surgesim::result::metric_names;
use surgesim::scenario::{self, Scenario};
use surgesim::slo::{SloSet, Verdict};

#[derive(Args)]
pub struct CheckArgs {
    /// Scenario files or folders of them (*.toml, searched recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Write a JUnit XML report here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the report as Markdown here (e.g. $GITHUB_STEP_SUMMARY); failures first.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Compare with a stored baseline and flag regressions.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Record a baseline of this run's metrics here.
    #[arg(long)]
    pub write_baseline: Option<PathBuf>,
    /// Relative worsening tolerated before a baseline metric counts as a regression.
    #[arg(long, default_value_t = 0.05)]
    pub tolerance: f64,
    /// Worker threads (0: one per core). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// Metrics recorded in baselines: lower is better for all of them.
const BASELINE_METRICS: [&str; 9] = [
    "failed",
    "failure_rate",
    "failed_fallback_eligible",
    "abandoned",
    "wait_mean_s",
    "wait_p95_s",
    "peak_utilisation_primary",
    "cost_total",
    "window.failed",
];

#[derive(serde::Serialize)]
struct ScenarioReport {
    scenario: String,
    file: String,
    scenario_digest: String,
    results_digest: String,
    replications: u64,
    confidence: f64,
    verdicts: Vec<Verdict>,
    regressions: Vec<Regression>,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Regression {
    metric: String,
    baseline: f64,
    now: f64,
    tolerance: f64,
}

#[derive(serde::Serialize)]
struct Report {
    rule: &'static str,
    passed: bool,
    scenarios: Vec<ScenarioReport>,
    /// With `--baseline`: scenarios it has no entry for (not compared).
    #[serde(skip_serializing_if = "Option::is_none")]
    without_baseline: Option<usize>,
}

const RULE: &str = "an objective passes only when the confidence bound on its bad side meets the threshold \
(metric <= X: upper bound <= X; metric >= X: lower bound >= X); one replication: the estimate itself";

type Baseline = BTreeMap<String, BTreeMap<String, f64>>;

/// The scenario files among `paths`, folders searched recursively in name
/// order. Each folder and each file is visited once, however many links
/// lead to it (a symlink back to a parent folder is a cycle, not an
/// endless tree): a repeat is skipped with a note naming where it was
/// first seen.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    struct Walk {
        out: Vec<PathBuf>,
        /// Canonical path of each folder and file seen -> the path it was first seen as.
        seen: std::collections::HashMap<PathBuf, PathBuf>,
    }
    impl Walk {
        /// True the first time `p` (followed through links) is seen.
        fn first(&mut self, p: &Path, what: &'static str) -> bool {
            let key = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            match self.seen.get(&key) {
                Some(first) if what == "folder" => {
                    eprintln!("note: {} is folder {} again (a link): searched once", p.display(), first.display());
                    false
                }
                Some(first) => {
                    eprintln!("note: {} is the same file as {}: checked once", p.display(), first.display());
                    false
                }
                None => {
                    self.seen.insert(key, p.to_path_buf());
                    true
                }
            }
        }

        fn dir(&mut self, dir: &Path) -> Result<()> {
            if !self.first(dir, "folder") {
                return Ok(());
            }
            let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
                .with_context(|| format!("cannot read folder {}", dir.display()))?
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()?;
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    self.dir(&p)?;
                } else if p.extension().is_some_and(|e| e == "toml") && self.first(&p, "file") {
                    self.out.push(p);
                }
            }
            Ok(())
        }
    }
    let mut walk = Walk { out: Vec::new(), seen: Default::default() };
    for p in paths {
        if p.is_dir() {
            walk.dir(p)?;
        } else if p.exists() {
            if walk.first(p, "file") {
                walk.out.push(p.clone());
            }
        } else {
            bail!("no such file or folder: {}", p.display());
        }
    }
    Ok(walk.out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub fn check(a: CheckArgs) -> Result<ExitCode> {
    let files = collect(&a.paths)?;
    if !(0.0..10.0).contains(&a.tolerance) {
        bail!("--tolerance {}: expected a fraction such as 0.05", a.tolerance);
    }
    // Load and validate everything before running anything.
    let mut work: Vec<(PathBuf, Scenario, SloSet, String)> = Vec::new();
    for f in &files {
        let sc = scenario::load(f, &[])?;
        if sc.slo.is_empty() {
            continue;
        }
        let slo = SloSet::from_table(&sc.slo, &metric_names(&sc)).with_context(|| format!("{}", f.display()))?;
        let text = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        work.push((f.clone(), sc, slo, hex(&Sha256::digest(&text))));
    }
    if work.is_empty() {
        bail!("no scenario with an [slo] block among {} file(s)", files.len());
    }
    let baseline: Option<Baseline> = match &a.baseline {
        None => None,
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read baseline {}", p.display()))?;
            let b: Baseline =
                serde_json::from_str(&text).with_context(|| format!("{}: not a surgesim baseline", p.display()))?;
            for (scen, metrics) in &b {
                for m in metrics.keys() {
                    if !BASELINE_METRICS.contains(&m.as_str()) {
                        bail!(
                            "{}: scenario {scen}: unknown baseline metric `{m}`; valid: {}",
                            p.display(),
                            BASELINE_METRICS.join(", ")
                        );
                    }
                }
            }
            Some(b)
        }
    };
    super::set_threads(a.threads)?;
    let mut reports = Vec::new();
    let mut new_baseline = Baseline::new();
    let mut unbaselined = 0;
    for (file, sc, slo, digest) in &work {
        let agg = experiment::run(sc, slo.replications, RunOptions::default());
        super::run::ensure_complete(&agg)?;
        let verdicts: Vec<Verdict> = slo.objectives.iter().map(|o| o.judge(&agg, slo.confidence)).collect();
        let results_digest = hex(&Sha256::digest(json::to_string(sc, &agg).as_bytes()));
        let means = baseline_means(&agg);
        let regressions = match (&baseline, baseline.as_ref().and_then(|b| b.get(&sc.name))) {
            (_, Some(base)) => regressions(base, &means, a.tolerance),
            (Some(_), None) => {
                eprintln!(
                    "warning: baseline {} has no entry for scenario {} ({}): not compared",
                    a.baseline.as_deref().unwrap_or(Path::new("")).display(),
                    sc.name,
                    file.display()
                );
                unbaselined += 1;
                Vec::new()
            }
            (None, None) => Vec::new(),
        };
        new_baseline.insert(sc.name.clone(), means);
        reports.push(ScenarioReport {
            scenario: sc.name.clone(),
            file: file.display().to_string(),
            scenario_digest: digest.clone(),
            results_digest,
            replications: slo.replications,
            confidence: slo.confidence,
            verdicts,
            regressions,
        });
    }
    let passed = reports.iter().all(|r| r.verdicts.iter().all(|v| v.pass) && r.regressions.is_empty());
    let without_baseline = a.baseline.as_ref().map(|_| unbaselined);
    let report = Report { rule: RULE, passed, scenarios: reports, without_baseline };
    print!("{}", render(&report));
    if let Some(p) = &a.junit {
        write_atomic(p, junit(&report)?.as_bytes())?;
    }
    if let Some(p) = &a.json {
        write_atomic(p, (serde_json::to_string_pretty(&report)? + "\n").as_bytes())?;
    }
    if let Some(p) = &a.markdown {
        surgesim::report::markdown::write_check(p, &serde_json::to_string(&report)?)?;
    }
    if let Some(p) = &a.write_baseline {
        write_atomic(p, (serde_json::to_string_pretty(&new_baseline)? + "\n").as_bytes())?;
    }
    Ok(if passed { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn baseline_means(agg: &Aggregate) -> BTreeMap<String, f64> {
    BASELINE_METRICS.iter().filter_map(|m| agg.metric(m).filter(|s| s.n > 0).map(|s| (m.to_string(), s.mean))).collect()
}

/// Metrics worse than the baseline by more than `tol` (relative, with a
/// small absolute floor so that 0 → tiny noise is not flagged). Lower is
/// better for every baseline metric; an improvement is never flagged.
fn regressions(base: &BTreeMap<String, f64>, now: &BTreeMap<String, f64>, tol: f64) -> Vec<Regression> {
    let mut out = Vec::new();
    for (m, &b) in base {
        let Some(&n) = now.get(m) else { continue };
        let allowed = b + tol * b.abs().max(1e-9);
        if n > allowed + 1e-12 {
            out.push(Regression { metric: m.clone(), baseline: b, now: n, tolerance: tol });
        }
    }
    out
}

fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<28} {:<34} {:>12} {:>26} {:>12}  result",
        "scenario", "objective", "threshold", "estimate [interval]", "margin"
    );
    for sc in &r.scenarios {
        for v in &sc.verdicts {
            let interval = match v.ci {
                Some([lo, hi]) => format!("{} [{}, {}]", sig(v.mean, 4), sig(lo, 4), sig(hi, 4)),
                None => sig(v.mean, 6),
            };
            let _ = writeln!(
                s,
                "{:<28} {:<34} {:>12} {:>26} {:>12}  {}",
                sc.scenario,
                format!("{} {}", v.objective.label(), v.objective.op),
                sig(v.objective.threshold, 6),
                interval,
                sig(v.margin, 4),
                if v.pass { "pass" } else { "FAIL" }
            );
        }
        for g in &sc.regressions {
            let _ = writeln!(
                s,
                "{:<28} {:<34} {:>12} {:>26} {:>12}  REGRESSION",
                sc.scenario,
                format!("{} vs baseline", g.metric),
                sig(g.baseline, 6),
                sig(g.now, 6),
                sig(g.baseline - g.now, 4)
            );
        }
        let _ = writeln!(
            s,
            "{:<28} scenario {} results {} ({} replications)",
            "",
            &sc.scenario_digest[..12],
            &sc.results_digest[..12],
            sc.replications
        );
    }
    let failed: usize = r.scenarios.iter().map(|s| s.verdicts.iter().filter(|v| !v.pass).count()).sum();
    let regs: usize = r.scenarios.iter().map(|s| s.regressions.len()).sum();
    let _ = writeln!(s, "rule: {}", r.rule);
    let _ = write!(
        s,
        "{}: {} objective(s) failed, {} regression(s), {} scenario(s) checked",
        if r.passed { "PASS" } else { "FAIL" },
        failed,
        regs,
        r.scenarios.len()
    );
    match r.without_baseline {
        Some(n) => {
            let _ = writeln!(s, ", {n} without a baseline entry");
        }
        None => s.push('\n'),
    }
    s
}

fn junit(r: &Report) -> Result<String> {
    use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};
    let mut report = JReport::new("surgesim check");
    for sc in &r.scenarios {
        let mut suite = TestSuite::new(sc.scenario.clone());
        for v in &sc.verdicts {
            let name = format!("{} {} {}", v.objective.label(), v.objective.op, v.objective.threshold);
            let status = if v.pass {
                TestCaseStatus::success()
            } else {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                st.set_message(format!(
                    "{} = {} (bound {}) violates {} {} by {}",
                    v.objective.label(),
                    sig(v.mean, 6),
                    sig(v.bound, 6),
                    v.objective.op,
                    v.objective.threshold,
                    sig(-v.margin, 4)
                ));
                st
            };
            let mut case = TestCase::new(name, status);
            case.set_classname(sc.file.clone());
            suite.add_test_case(case);
        }
        for g in &sc.regressions {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            st.set_message(format!("{} regressed from {} to {}", g.metric, sig(g.baseline, 6), sig(g.now, 6)));
            let mut case = TestCase::new(format!("{} baseline", g.metric), st);
            case.set_classname(sc.file.clone());
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().context("cannot serialise the JUnit report")
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(output::write_file(path, bytes)?)
}
