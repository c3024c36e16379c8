//! The terminal summary: the main totals with their intervals.

use std::fmt::Write;

use crate::experiment::{Aggregate, Stat};
use crate::report::sig;
use crate::scenario::Scenario;
use crate::time::{format_clock, format_day_clock};

fn cell(s: &Stat) -> String {
    match s.ci95 {
        Some(_) if s.n > 1 => format!("{} ± {}", sig(s.mean, 5), sig(s.half_width(), 2)),
        _ => sig(s.mean, 6),
    }
}

/// The metrics of the summary table, in order (also the HTML report's).
pub const MAIN: [&str; 18] = [
    "arrived",
    "served_primary",
    "served_fallback",
    "failed",
    "failed_worker_not_available",
    "failed_fallback_start_failed",
    "failed_fallback_throttled",
    "failed_queue_full",
    "failed_drain_timeout",
    "abandoned",
    "failed_fallback_eligible",
    "failure_rate",
    "wait_mean_s",
    "wait_p95_s",
    "utilisation_primary",
    "peak_busy_primary",
    "primary_worker_seconds",
    "cost_total",
];

/// With `[clients]`: the attempts after `abandoned`, the calls still
/// retrying and the recovery after the costs.
const ATTEMPTS: [&str; 3] = ["attempts", "retries", "retry_amplification"];
const RETRY_END: [&str; 2] = ["retrying_end", "recovery_time_s"];

/// The rows of the summary table (the terminal's and the HTML report's):
/// [`MAIN`], with the service levels of thresholds `labels`, `asa_s` and
/// `abandon_rate` after `wait_p95_s` when there are thresholds, and the
/// attempt rows when the callers retry (`retries`).
pub fn summary_rows(labels: &[&str], retries: bool) -> Vec<String> {
    let mut rows = Vec::with_capacity(MAIN.len() + labels.len() + 7);
    for m in MAIN {
        rows.push(m.to_string());
        if m == "wait_p95_s" && !labels.is_empty() {
            rows.extend(labels.iter().map(|label| format!("service_level_{label}")));
            rows.extend(["asa_s".to_string(), "abandon_rate".to_string()]);
        }
        if m == "abandoned" && retries {
            rows.extend(ATTEMPTS.map(String::from));
        }
    }
    if retries {
        rows.extend(RETRY_END.map(String::from));
    }
    rows
}

/// The cell of metric `m` over `runs` runs. A metric that applies only in
/// some runs (`recovery_time_s`: only where the run recovered; a service
/// level: only where calls were accepted) says in how many.
pub fn cell_of(m: &str, s: &Stat, runs: usize) -> String {
    match s.n {
        0 => no_value(m, runs),
        n if n < runs => format!("{} ({n}/{runs} runs)", cell(s)),
        _ => cell(s),
    }
}

/// What a metric that applied in no run shows.
pub fn no_value(m: &str, runs: usize) -> String {
    if m.ends_with("recovery_time_s") {
        format!("never (0/{runs} runs)")
    } else {
        "n/a".to_string()
    }
}

/// The table printed by `surgesim run`.
pub fn render(sc: &Scenario, agg: &Aggregate) -> String {
    let mut out = String::new();
    let n = agg.runs.len();
    let _ = writeln!(
        out,
        "{} — seed {}, {} replication{}{}",
        sc.name,
        sc.seed,
        n,
        if n == 1 { "" } else { "s" },
        if n > 1 { " (mean ± 95% CI half-width)" } else { "" }
    );
    for w in &sc.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    let cs = sc.clock_start as f64;
    let window = sc.window.map(|(a, b)| {
        format!("window {}..{}", format_day_clock(cs + a.as_secs_f64()), format_day_clock(cs + b.as_secs_f64()))
    });
    let labels: Vec<&str> = sc.service_levels.iter().map(|(label, _)| label.as_str()).collect();
    let rows = summary_rows(&labels, sc.clients.is_some());
    let width = rows.iter().map(|m| m.len()).max().unwrap_or(0) + 2;
    let _ = write!(
        out,
        "{:width$}{:>22}",
        "metric",
        format!("{}..{}", format_clock(cs), format_clock(cs + sc.duration.as_secs_f64()))
    );
    if let Some(w) = &window {
        let _ = write!(out, "{w:>28}");
    }
    out.push('\n');
    for m in &rows {
        let m = m.as_str();
        let Some(s) = agg.metric(m) else { continue };
        let _ = write!(out, "{m:width$}{:>24}", cell_of(m, s, n));
        if window.is_some() {
            let ws = agg.metric(&format!("window.{m}")).map(|s| cell_of(m, s, n)).unwrap_or_default();
            let _ = write!(out, "{ws:>28}");
        }
        out.push('\n');
    }
    if let Some(d) = agg.metric("detection_time_s").filter(|d| d.n > 0) {
        let _ = writeln!(out, "canary alert at {} in {}/{} runs", format_clock(cs + d.mean), d.n, n);
    }
    out
}
