//! Tests of the streaming observer: areas split across bins, levels that
//! rarely change, outcomes in the arrival's bin, service levels, quantiles.

use super::*;

#[test]
fn areas_split_across_bins() {
    let mut o = Observer::new(Tick::from_secs(10), Tick::from_secs(4), 1, None);
    let l = Levels { busy_primary: 2, capacity_primary: 5, ..Default::default() };
    o.advance(Tick::from_secs(9), &l);
    o.advance(Tick::from_secs(20), &Levels { busy_primary: 1, ..l });
    let secs = |a: u128| a as f64 / 1e6;
    assert_eq!(o.bins.len(), 3);
    assert_eq!(secs(o.bins[0].areas.busy_primary), 8.0);
    assert_eq!(secs(o.bins[1].areas.busy_primary), 8.0);
    // 1 s at 2 then 1 s at 1 (the run ends at 10 s).
    assert_eq!(secs(o.bins[2].areas.busy_primary), 3.0);
    assert_eq!(secs(o.areas().busy_primary), 19.0);
}

/// Levels that change rarely are integrated when they change and at
/// bin ends: the areas are the same as integrating every span.
#[test]
fn rarely_changing_levels_split_across_bins() {
    let mut o = Observer::new(Tick::from_secs(10), Tick::from_secs(4), 1, None);
    let l = |capacity_primary, fallback_busy| Levels { capacity_primary, fallback_busy, ..Default::default() };
    o.advance(Tick::from_secs(3), &l(5, 1));
    o.advance(Tick::from_secs(6), &l(7, 1));
    o.advance(Tick::from_secs(9), &l(7, 0));
    o.advance(Tick::from_secs(20), &l(2, 0));
    let secs = |a: u128| a as f64 / 1e6;
    // Capacity 5 over [0, 3), 7 over [3, 9), 2 over [9, 10).
    let cap: Vec<f64> = o.bins.iter().map(|b| secs(b.areas.capacity_primary)).collect();
    assert_eq!(cap, vec![5.0 * 3.0 + 7.0, 7.0 * 4.0, 7.0 + 2.0]);
    // Fallback 1 over [0, 6).
    let fb: Vec<f64> = o.bins.iter().map(|b| secs(b.areas.fallback_busy)).collect();
    assert_eq!(fb, vec![4.0, 2.0, 0.0]);
}

#[test]
fn outcomes_land_in_the_arrival_bin_and_window() {
    let win = Some((Tick::from_secs(4), Tick::from_secs(8)));
    let mut o = Observer::new(Tick::from_secs(10), Tick::from_secs(4), 2, win);
    o.arrived(Tick::from_secs(5), 1);
    o.failed(Tick::from_secs(5), 1, FailReason::FallbackStartFailed, true);
    o.arrived(Tick::from_secs(1), 0);
    o.served(Tick::from_secs(1), 0, Tick::ZERO, false);
    assert_eq!(o.bins[1].counts.failed_by[1], 1);
    assert_eq!(o.bins[0].counts.served_primary, 1);
    assert_eq!(o.window.as_ref().unwrap().2.failed_fallback_eligible, 1);
    assert_eq!(o.window.as_ref().unwrap().2.arrived, 1);
    assert_eq!(o.classes[1].failed(), 1);
}

#[test]
fn service_levels_count_waits_at_most_each_threshold() {
    let sl = [Tick::from_secs(20), Tick::from_secs(5)];
    let mut o = Observer::new(Tick::from_secs(100), Tick::from_secs(50), 1, None).with_service_levels(&sl);
    for (w, fallback) in [(0, false), (5, false), (20, true), (21, false)] {
        o.arrived(Tick::ZERO, 0);
        o.served(Tick::ZERO, 0, Tick::from_secs(w), fallback);
    }
    o.arrived(Tick::from_secs(60), 0);
    o.abandoned(Tick::from_secs(60), 0, Tick::from_secs(3), false);
    let t = &o.totals;
    assert_eq!((t.answered(), t.waited), (4, 4));
    assert_eq!(t.answered_within[..2], [3, 2]);
    assert_eq!(t.answer_wait_sum, 46_000_000);
    assert_eq!(t.abandon_wait_sum, 3_000_000);
    assert_eq!(o.bins[1].counts.waited, 1);
    // Without thresholds none of it is kept.
    let mut o = Observer::new(Tick::from_secs(10), Tick::from_secs(10), 1, None);
    o.served(Tick::ZERO, 0, Tick::from_secs(3), false);
    assert_eq!((o.totals.waited, o.totals.answer_wait_sum), (0, 0));
}

#[test]
fn quantiles_count_zero_waits() {
    let mut o = Observer::new(Tick::from_secs(10), Tick::from_secs(10), 1, None);
    for i in 0..10u64 {
        let w = if i < 8 { Tick::ZERO } else { Tick::from_secs(i) };
        o.served(Tick::ZERO, 0, w, false);
    }
    assert_eq!(o.wait_quantile(0.5), 0.0);
    assert_eq!(o.wait_quantile(0.8), 0.0);
    assert!((o.wait_quantile(0.9) - 8.0).abs() < 0.01);
    assert!((o.wait_quantile(1.0) - 9.0).abs() < 0.01);
}
