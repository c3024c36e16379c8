//! `timeseries.csv`: one row per bin. Counts are of calls that *arrived* in
//! the bin; `*_avg` columns are time-weighted averages over the bin. With
//! several runs every cell is the mean over runs, so sums over bins equal
//! the means in `summary.json`.

use crate::experiment::Aggregate;
use crate::observe::REASONS;
use crate::report::num;
use crate::scenario::Scenario;
use crate::time::{format_clock, TICKS_PER_SEC};

/// The column names, in order.
pub fn columns() -> Vec<String> {
    let mut c: Vec<String> =
        ["t_start_s", "t_end_s", "clock", "arrivals", "served_primary", "served_fallback", "failed"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    c.extend(REASONS.iter().map(|r| format!("failed_{}", r.name())));
    c.extend(
        [
            "abandoned",
            "failed_fallback_eligible",
            "busy_primary_avg",
            "capacity_primary_avg",
            "headroom_avg",
            "workers_ready_avg",
            "workers_billed_avg",
            "fallback_busy_avg",
            "waiting_avg",
            "peak_busy_primary",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    c
}

/// The bytes of `timeseries.csv`.
pub fn to_csv(sc: &Scenario, agg: &Aggregate) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(columns()).expect("in-memory write");
    let n = agg.runs.len().max(1) as f64;
    let bin = sc.bin.0;
    let end = sc.duration.0;
    for (i, b) in agg.bin_sums().iter().enumerate() {
        let t0 = i as u64 * bin;
        let t1 = (t0 + bin).min(end);
        let span = (t1 - t0) as f64 / TICKS_PER_SEC as f64;
        let avg = |area: u128| area as f64 / TICKS_PER_SEC as f64 / span / n;
        let c = &b.counts;
        let mean = |v: u64| num(v as f64 / n);
        let mut row = vec![
            num(t0 as f64 / 1e6),
            num(t1 as f64 / 1e6),
            format_clock(sc.clock_start as f64 + t0 as f64 / 1e6),
            mean(c.arrived),
            mean(c.served_primary),
            mean(c.served_fallback),
            mean(c.failed()),
        ];
        row.extend(REASONS.iter().map(|r| mean(c.failed_by[*r as usize])));
        let a = &b.areas;
        row.extend([
            mean(c.abandoned),
            mean(c.failed_fallback_eligible),
            num(avg(a.busy_primary)),
            num(avg(a.capacity_primary)),
            num(avg(a.capacity_primary) - avg(a.busy_primary)),
            num(avg(a.workers_ready)),
            num(avg(a.workers_billed)),
            num(avg(a.fallback_busy)),
            num(avg(a.waiting)),
            num(b.peak_busy_primary as f64 / n),
        ]);
        w.write_record(&row).expect("in-memory write");
    }
    w.into_inner().expect("in-memory flush")
}
