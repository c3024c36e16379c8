//! Why calls failed: a per-bin narrative a reviewer can read, and the logs
//! behind it (`scaling.csv`, `failures.csv`, `causes.csv`).
//!
//! The narrative is told from replication 0 (the logs of one concrete
//! history; averages have no "since when").

use std::fmt::Write;

use crate::observe::{FailReason, REASONS};
use crate::report::num;
use crate::result::RunResult;
use crate::scenario::{Health, Scenario};
use crate::time::format_clock;

/// One bin's explanation.
#[derive(Clone, Debug, PartialEq)]
pub struct Cause {
    pub bin: usize,
    pub t_start_s: f64,
    pub failed: u64,
    pub failed_by: [u64; 4],
    pub text: String,
}

fn fallback_problem(sc: &Scenario) -> String {
    let Some(f) = &sc.fallback else { return "no fallback configured".into() };
    match (f.arch_mismatch(), f.health) {
        (Some((i, r)), Health::Broken { .. }) => format!("fallback start failed (image {i} ≠ runtime {r})"),
        (_, Health::Healthy) => "fallback start failed".into(),
        (_, h) => format!("fallback start failed ({})", h.describe()),
    }
}

/// Explains every bin of `run` that had failures.
pub fn explain(sc: &Scenario, run: &RunResult) -> Vec<Cause> {
    let cs = sc.clock_start as f64;
    let clock = |t: f64| format_clock(cs + t);
    let bin_s = sc.bin.as_secs_f64();
    let mut out = Vec::new();
    for (i, b) in run.bins.iter().enumerate() {
        let failed = b.counts.failed();
        if failed == 0 && b.counts.abandoned == 0 {
            continue;
        }
        let (t0, t1) = (i as f64 * bin_s, (i as f64 + 1.0) * bin_s);
        let mut parts: Vec<String> = Vec::new();
        if let Some(&(from, _)) = run.saturation.iter().find(|&&(a, z)| a < t1 && z > t0) {
            parts.push(format!("primary full since {}", clock(from)));
        }
        let up = run.end.scale_log.iter().rfind(|e| e.to > e.from && e.at.as_secs_f64() < t1);
        match up {
            Some(e) => {
                let mut s = format!(
                    "scale-up decided {} ({}→{} workers, {})",
                    clock(e.at.as_secs_f64()),
                    e.from,
                    e.to,
                    e.cause
                );
                if let Some((a, z)) = e.ready {
                    let (a, z) = (a.as_secs_f64(), z.as_secs_f64());
                    if a == z {
                        let _ = write!(s, ", ready {}", clock(a));
                    } else {
                        let _ = write!(s, ", ready {}–{}", clock(a), clock(z));
                    }
                }
                parts.push(s);
            }
            None if matches!(sc.primary.autoscaler.policy, crate::scenario::PolicyKind::None) => {
                parts.push("no autoscaler".into())
            }
            None => parts.push("no scale-up decided yet".into()),
        }
        if b.counts.failed_by[FailReason::FallbackStartFailed as usize] > 0 {
            parts.push(fallback_problem(sc));
        }
        if b.counts.failed_by[FailReason::FallbackThrottled as usize] > 0 {
            let lim = sc.fallback.as_ref().map_or(0, |f| f.max_concurrency);
            parts.push(format!("fallback at its concurrency limit (max {lim})"));
        }
        if b.counts.failed_by[FailReason::QueueFull as usize] > 0 {
            parts.push("waiting queue full".into());
        }
        if b.counts.abandoned > 0 {
            parts.push(format!("{} abandoned while waiting", b.counts.abandoned));
        }
        // With retrying clients: most attempts of the bin are retries.
        let retries = b.counts.attempts.saturating_sub(b.counts.arrived);
        if run.retries.is_some() && retries > b.counts.arrived {
            parts.push(format!("retries dominate ({retries} of {} attempts)", b.counts.attempts));
        }
        if let Some(d) = run.detection_s.filter(|&d| d < t1) {
            parts.push(format!("canary alerted {}", clock(d)));
        }
        out.push(Cause { bin: i, t_start_s: t0, failed, failed_by: b.counts.failed_by, text: parts.join("; ") });
    }
    out
}

/// The narrative for the terminal: consecutive bins with the same story
/// are merged into one line.
pub fn render(sc: &Scenario, causes: &[Cause], max_lines: usize) -> String {
    let cs = sc.clock_start as f64;
    let bin_s = sc.bin.as_secs_f64();
    let mut groups: Vec<(f64, f64, u64, &str)> = Vec::new();
    for c in causes {
        match groups.last_mut() {
            Some(g) if g.3 == c.text && (g.1 - c.t_start_s).abs() < 1e-9 => {
                g.1 = c.t_start_s + bin_s;
                g.2 += c.failed;
            }
            _ => groups.push((c.t_start_s, c.t_start_s + bin_s, c.failed, &c.text)),
        }
    }
    let mut s = String::new();
    if groups.is_empty() {
        return s;
    }
    let _ = writeln!(s, "why calls failed (replication 0):");
    for g in groups.iter().take(max_lines) {
        let _ = writeln!(s, "  {}–{}  {:>6} failed: {}", format_clock(cs + g.0), format_clock(cs + g.1), g.2, g.3);
    }
    if groups.len() > max_lines {
        let _ = writeln!(s, "  … {} more spells in causes.csv", groups.len() - max_lines);
    }
    s
}

/// `causes.csv`.
pub fn causes_csv(sc: &Scenario, causes: &[Cause]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["t_start_s".to_string(), "clock".into(), "failed".into()];
    header.extend(REASONS.iter().map(|r| format!("failed_{}", r.name())));
    header.push("cause".into());
    w.write_record(&header).expect("in-memory write");
    for c in causes {
        let mut row = vec![num(c.t_start_s), format_clock(sc.clock_start as f64 + c.t_start_s), c.failed.to_string()];
        row.extend(c.failed_by.iter().map(|v| v.to_string()));
        row.push(c.text.clone());
        w.write_record(&row).expect("in-memory write");
    }
    w.into_inner().expect("in-memory flush")
}

/// `scaling.csv`: every scaling decision of every run.
pub fn scaling_csv(sc: &Scenario, runs: &[RunResult]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["run", "t_s", "clock", "from", "to", "cause", "ready_first_s", "ready_last_s"]).expect("write");
    let cs = sc.clock_start as f64;
    for r in runs {
        for e in &r.end.scale_log {
            let t = e.at.as_secs_f64();
            let (a, z) =
                e.ready.map_or((String::new(), String::new()), |(a, z)| (num(a.as_secs_f64()), num(z.as_secs_f64())));
            w.write_record([
                r.run.to_string(),
                num(t),
                format_clock(cs + t),
                e.from.to_string(),
                e.to.to_string(),
                e.cause.to_string(),
                a,
                z,
            ])
            .expect("write");
        }
    }
    w.into_inner().expect("in-memory flush")
}

/// `failures.csv`: the failure logs of every run (bounded per run).
pub fn failures_csv(sc: &Scenario, runs: &[RunResult]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["run", "t_s", "clock", "class", "reason", "busy_primary", "capacity_primary", "fallback_busy"])
        .expect("write");
    let cs = sc.clock_start as f64;
    for r in runs {
        for f in r.end.failure_log.iter().flatten() {
            let t = f.at.as_secs_f64();
            w.write_record([
                r.run.to_string(),
                num(t),
                format_clock(cs + t),
                sc.classes[f.class as usize].name.clone(),
                f.reason.name().to_string(),
                f.busy_primary.to_string(),
                f.capacity_primary.to_string(),
                f.fallback_busy.to_string(),
            ])
            .expect("write");
        }
    }
    w.into_inner().expect("in-memory flush")
}
