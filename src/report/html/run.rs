//! The section of a run folder: the scenario in brief, the key figures and
//! the summary table with intervals (summary.json), the window minute by
//! minute (timeseries.csv), the timeline (timeline.svg), why calls failed
//! (causes.csv), the scaling decisions (scaling.csv) and the provenance.

use std::fmt::Write as _;

use super::page::{card, figure, table, Cell};
use super::read::{clock_secs, Est, Folder, ReportError, Summary};
use super::{esc, provenance, svg};
use crate::report::table::{no_value, summary_rows};
use crate::report::{num, sig};
use crate::time::{format_clock, parse_duration};

/// At most this many rows of a per-bin or per-decision table.
const MAX_ROWS: usize = 240;

pub fn section(f: &Folder, id: &str) -> Result<String, ReportError> {
    let sm: Summary = f.json("summary.json")?;
    let prov = f.provenance()?;
    let mut s = String::new();
    if !sm.description.is_empty() {
        let _ = writeln!(s, "<p class=\"sub\">{}</p>", esc(&sm.description));
    }
    for w in &sm.warnings {
        let _ = writeln!(s, "<p class=\"note\">warning: {}</p>", esc(w));
    }
    s.push_str(&key_figures(&sm));
    s.push_str("<h3>The scenario in brief</h3>\n");
    s.push_str(&brief(&sm));
    if let Some(p) = &prov {
        s.push_str(&provenance::scenario_files(p));
    }
    s.push_str(&summary_table(&sm, id));
    s.push_str(&window(f, &sm, id)?);
    let svg_text = f.text("timeline.svg")?;
    let label = format!("{}: timeline", sm.scenario);
    let plot = svg::sanitize(&svg_text, &label).map_err(|reason| bad(f, "timeline.svg", reason))?;
    s.push_str("<h3>Timeline</h3>\n");
    s.push_str(&figure(
        &plot,
        &format!(
            "Arrivals, primary capacity and busy slots, failures per bin; mean of {} replication(s).",
            sm.replications
        ),
    ));
    s.push_str(&causes(f, id)?);
    if f.has("scaling.csv") {
        s.push_str(&scaling(f, &sm, id)?);
    }
    s.push_str(&classes(&sm, id));
    s.push_str(&provenance::block(prov.as_ref(), &sm.surgesim_version, Some(sm.seed), Some(sm.replications as u64)));
    Ok(s)
}

fn bad(f: &Folder, name: &str, reason: String) -> ReportError {
    ReportError::Bad { file: f.path.join(name).display().to_string(), reason: format!("cannot be shown: {reason}") }
}

fn metric(sm: &Summary, name: &str) -> Option<Est> {
    sm.metrics.get(name).copied()
}

fn key_figures(sm: &Summary) -> String {
    let pre = if sm.window.is_some() { "window." } else { "" };
    let scope = match &sm.window {
        Some(w) => format!("calls that arrived in the window {}–{}", w.from_clock, w.to_clock),
        None => "calls that arrived in the reported span".to_string(),
    };
    let mut s = format!(
        "<p>Key figures, {} (mean of {} replication(s), 95% confidence intervals):</p><div class=\"cards\">",
        esc(&scope),
        sm.replications
    );
    let items = [
        ("arrived", "calls arrived"),
        ("failed", "calls failed"),
        ("failure_rate", "failure rate"),
        ("failed_fallback_eligible", "failed, fallback-eligible"),
    ];
    for (m, name) in items {
        if let Some(e) = metric(sm, &format!("{pre}{m}")) {
            s.push_str(&card(name, &e, m.starts_with("failed") && e.mean > 0.0, 5));
        }
    }
    if let Some(e) = metric(sm, "cost_total") {
        s.push_str(&card("cost (whole run)", &e, false, 5));
    }
    s.push_str("</div>\n");
    s
}

fn brief(sm: &Summary) -> String {
    let cs = clock_secs(&sm.clock_start).unwrap_or(0.0);
    let mut facts: Vec<(&str, String)> = vec![
        ("scenario", sm.scenario.clone()),
        (
            "reported span",
            format!("{} – {} ({} s)", sm.clock_start, format_clock(cs + sm.duration_s), num(sm.duration_s)),
        ),
        ("warm-up", format!("{} s simulated before {} and not reported", num(sm.warmup_s), sm.clock_start)),
        ("time bins", format!("{} s", num(sm.bin_s))),
    ];
    if let Some(w) = &sm.window {
        facts.push((
            "reporting window",
            format!("{} – {} (calls that arrived in it, whatever happened to them later)", w.from_clock, w.to_clock),
        ));
    }
    let classes: Vec<String> = sm
        .classes
        .iter()
        .map(|(n, t)| format!("{n} ({} of the arrivals)", pct(t.arrived / sm.totals.arrived)))
        .collect();
    facts.push(("call classes", classes.join(", ")));
    facts.push(("seed, replications", format!("{}, {}", sm.seed, sm.replications)));
    dl(&facts)
}

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{}%", sig(100.0 * x, 3))
    } else {
        "-".into()
    }
}

pub fn dl(facts: &[(&str, String)]) -> String {
    let mut s = String::from("<dl class=\"facts\">");
    for (k, v) in facts {
        let _ = write!(s, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
    }
    s.push_str("</dl>\n");
    s
}

/// The service-level thresholds' labels of a run (`20s` of
/// `service_level_20s`), shortest threshold first.
fn service_level_labels(sm: &Summary) -> Vec<&str> {
    let mut labels: Vec<&str> =
        sm.metrics.keys().filter_map(|k| k.strip_prefix("service_level_")).filter(|l| !l.starts_with("all_")).collect();
    labels.sort_by_key(|l| (parse_duration(l).map_or(u64::MAX, |t| t.0), l.to_string()));
    labels
}

fn summary_table(sm: &Summary, id: &str) -> String {
    let cs = clock_secs(&sm.clock_start).unwrap_or(0.0);
    let span = format!("{}..{}", sm.clock_start, format_clock(cs + sm.duration_s));
    let win = sm.window.as_ref().map(|w| format!("window {}..{}", w.from_clock, w.to_clock));
    let mut headers = vec![("metric", false), (span.as_str(), true)];
    if let Some(w) = &win {
        headers.push((w.as_str(), true));
    }
    let mut rows = Vec::new();
    let runs = sm.replications;
    let cell = |m: &str, e: &Est| match e.n {
        0 => Cell::text(&no_value(m, runs)),
        n if n < runs => {
            let mut c = Cell::est(e);
            let _ = write!(c.html, "<span class=\"ci\">({n}/{runs} runs)</span>");
            c
        }
        _ => Cell::est(e),
    };
    for m in summary_rows(&service_level_labels(sm), metric(sm, "attempts").is_some()) {
        let m = m.as_str();
        let Some(e) = metric(sm, m) else { continue };
        let mut cells = vec![Cell::text(m), cell(m, &e)];
        if win.is_some() {
            cells.push(metric(sm, &format!("window.{m}")).map_or_else(|| Cell::text(""), |w| cell(m, &w)));
        }
        rows.push((format!(" data-metric=\"{}\"", esc(m)), cells));
    }
    format!(
        "<h3>Summary</h3>\n<p>Mean of {} replication(s); below each mean its {}% confidence interval.</p>\n{}",
        sm.replications,
        num(sm.confidence * 100.0),
        table(&format!("{id}-summary"), &headers, rows)
    )
}

fn window(f: &Folder, sm: &Summary, id: &str) -> Result<String, ReportError> {
    let Some(w) = &sm.window else { return Ok(String::new()) };
    let (a, b, wt) = (&w.from_clock, &w.to_clock, &w.totals);
    let mut s = String::from("<h3>The window</h3>\n");
    let _ = writeln!(
        s,
        "<p>Of the {} calls that arrived between {} and {} (mean of the replications), {} failed ({}); {} of the failed calls were eligible for the fallback; {} were served by the primary and {} by the fallback.</p>",
        esc(&sig(wt.arrived, 6)),
        esc(a),
        esc(b),
        esc(&sig(wt.failed, 6)),
        esc(&pct(wt.failure_rate)),
        esc(&sig(wt.failed_fallback_eligible, 6)),
        esc(&sig(wt.served_primary, 6)),
        esc(&sig(wt.served_fallback, 6))
    );
    let (lo, hi) = (w.from_s, w.to_s);
    let ts = f.csv("timeseries.csv")?;
    let t0 = ts.col("t_start_s")?;
    let cols = [
        ("arrivals", "arrivals"),
        ("failed", "failed"),
        ("failed_fallback_eligible", "fallback-eligible failed"),
        ("served_fallback", "served by fallback"),
        ("busy_primary_avg", "busy primary slots"),
        ("capacity_primary_avg", "primary capacity"),
    ];
    let idx: Vec<Option<usize>> = cols.iter().map(|(c, _)| ts.col(c).ok()).collect();
    let clock = ts.col("clock")?;
    let mut rows = Vec::new();
    for r in 0..ts.rows.len() {
        let t = ts.num(r, t0)?;
        if t < lo || t >= hi {
            continue;
        }
        let mut cells = vec![Cell::text(&ts.rows[r][clock])];
        for i in &idx {
            cells.push(match i {
                Some(i) => Cell::num(ts.num(r, *i)?, 5),
                None => Cell::text(""),
            });
        }
        rows.push((String::new(), cells));
        if rows.len() == MAX_ROWS {
            break;
        }
    }
    if !rows.is_empty() {
        let mut headers = vec![("bin start", false)];
        headers.extend(cols.iter().map(|(_, h)| (*h, true)));
        s.push_str("<p>Bin by bin (timeseries.csv, mean of the replications):</p>\n");
        s.push_str(&table(&format!("{id}-window"), &headers, rows));
    }
    Ok(s)
}

fn causes(f: &Folder, id: &str) -> Result<String, ReportError> {
    let c = f.csv("causes.csv")?;
    let mut s = String::from("<h3>Why calls failed</h3>\n");
    if c.rows.is_empty() {
        s.push_str("<p>No call failed in replication 0.</p>\n");
        return Ok(s);
    }
    let clock = c.col("clock")?;
    let failed = c.col("failed")?;
    let cause = c.col("cause")?;
    // The failure reasons with a count anywhere in the file, in file order.
    let reasons: Vec<usize> = (0..c.header.len())
        .filter(|&i| i != failed && c.header[i].starts_with("failed_"))
        .filter(|&i| (0..c.rows.len()).any(|r| c.num(r, i).is_ok_and(|v| v > 0.0)))
        .collect();
    let mut headers: Vec<(String, bool)> = vec![("bin start".into(), false), ("failed".into(), true)];
    headers.extend(reasons.iter().map(|&i| (c.header[i]["failed_".len()..].replace('_', " "), true)));
    headers.push(("cause".into(), false));
    let mut rows = Vec::new();
    for r in c.rows.iter().enumerate().take(MAX_ROWS).map(|(i, _)| i) {
        let mut cells = vec![Cell::text(&c.rows[r][clock]), Cell::num(c.num(r, failed)?, 6)];
        for &i in &reasons {
            cells.push(Cell::num(c.num(r, i)?, 6));
        }
        cells.push(Cell::text(&c.rows[r][cause]).class("t"));
        rows.push((String::new(), cells));
    }
    let h: Vec<(&str, bool)> = headers.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    s.push_str(
        "<p>Replication 0, every bin with a failure, with the state of the system that explains it (causes.csv).</p>\n",
    );
    s.push_str(&table(&format!("{id}-causes"), &h, rows));
    if c.rows.len() > MAX_ROWS {
        let _ = writeln!(s, "<p>… and {} more bins in causes.csv.</p>", c.rows.len() - MAX_ROWS);
    }
    Ok(s)
}

fn scaling(f: &Folder, sm: &Summary, id: &str) -> Result<String, ReportError> {
    let c = f.csv("scaling.csv")?;
    let [run, t, clock, from, to, cause, r1, r2] =
        ["run", "t_s", "clock", "from", "to", "cause", "ready_first_s", "ready_last_s"].map(|n| c.col(n));
    let (run, t, clock, from, to, cause, r1, r2) = (run?, t?, clock?, from?, to?, cause?, r1?, r2?);
    let cs = clock_secs(&sm.clock_start).unwrap_or(0.0);
    let mut rows = Vec::new();
    let mut others = 0usize;
    for r in 0..c.rows.len() {
        if c.num(r, run)? != 0.0 {
            others += 1;
            continue;
        }
        if rows.len() == MAX_ROWS {
            others += 1;
            continue;
        }
        let (a, b, ts) = (c.num(r, r1)?, c.num(r, r2)?, c.num(r, t)?);
        let ready = if !a.is_finite() {
            String::from("-")
        } else if a == b || !b.is_finite() {
            format!("{} (+{} s)", format_clock(cs + a), num(a - ts))
        } else {
            format!("{}–{} (+{}–{} s)", format_clock(cs + a), format_clock(cs + b), num(a - ts), num(b - ts))
        };
        let (x, y) = (c.num(r, from)?, c.num(r, to)?);
        rows.push((
            String::new(),
            vec![
                Cell::text(&c.rows[r][clock]),
                Cell::num(x, 6),
                Cell::num(y, 6),
                Cell { html: esc(&format!("{:+}", y - x)), v: Some(y - x), class: "n" },
                Cell::text(&c.rows[r][cause]),
                Cell::text(&ready),
            ],
        ));
    }
    let mut s = String::from("<h3>Scaling decisions</h3>\n");
    s.push_str("<p>Replication 0: when the autoscaler decided, the target in workers, why, and when the new workers were ready (scaling.csv).</p>\n");
    s.push_str(&table(
        &format!("{id}-scaling"),
        &[("decided", false), ("from", true), ("to", true), ("change", true), ("cause", false), ("ready", false)],
        rows,
    ));
    if others > 0 {
        let _ = writeln!(s, "<p>{others} more decisions (other replications) in scaling.csv.</p>");
    }
    Ok(s)
}

fn classes(sm: &Summary, id: &str) -> String {
    let rows = sm
        .classes
        .iter()
        .map(|(n, t)| {
            (
                String::new(),
                vec![
                    Cell::text(n),
                    Cell::num(t.arrived, 6),
                    Cell::num(t.served_primary, 6),
                    Cell::num(t.served_fallback, 6),
                    Cell::num(t.failed, 6),
                    Cell::num(t.failed_fallback_eligible, 6),
                    Cell::num(t.failure_rate, 4),
                ],
            )
        })
        .collect();
    format!(
        "<h3>Per call class</h3>\n<p>Means over the reported span.</p>\n{}",
        table(
            &format!("{id}-classes"),
            &[
                ("class", false),
                ("arrived", true),
                ("served primary", true),
                ("served fallback", true),
                ("failed", true),
                ("fallback-eligible failed", true),
                ("failure rate", true),
            ],
            rows,
        )
    )
}
