//! Conservation of calls on random-ish scenarios (every outcome exercised),
//! and the event queue's size bounded by the calls in flight.

use std::fmt::Write as _;

use surgesim::experiment;
use surgesim::model::RunOptions;
use surgesim::observe::{Areas, Counts};
use surgesim::result::RunResult;
use surgesim::scenario::Scenario;

use super::{deterministic, exponential, load, lognormal, rejected, Single, MEAN_S};

/// SplitMix64: a tiny deterministic generator for scenario shapes.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[(self.next() % xs.len() as u64) as usize]
    }

    fn coin(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// A scenario mixing classes, service laws, loads, queueing with and without
/// abandonment, queue limits, a fallback in various health, an autoscaler,
/// a spike and a reporting window.
fn random_scenario(i: u64) -> String {
    let mut g = Mix(0x5eed_0000 + i);
    let duration_min = g.pick(&[20u64, 30, 45]);
    let mut s = String::new();
    writeln!(s, "name = \"conservation-{i}\"\nseed = {}\nclock_start = \"08:00\"", 1000 + i).unwrap();
    writeln!(s, "duration = \"{duration_min}m\"\nbin = {:?}", g.pick(&["1m", "7m", "10m"])).unwrap();
    writeln!(s, "warmup = {:?}", g.pick(&["0s", "5m", "15m"])).unwrap();
    if g.coin(0.5) {
        writeln!(s, "window = \"08:05..08:13\"").unwrap();
    }
    let rate = 2.0 + 18.0 * g.unit();
    writeln!(s, "[arrivals]\nkind = \"poisson\"\nrate = {rate:.3}").unwrap();
    if g.coin(0.5) {
        let m = g.pick(&[1.5, 2.0, 3.0]);
        writeln!(s, "spike = {{ at = \"8m\", multiplier = {m:?}, ramp = \"1m\", hold = \"5m\", decay = \"2m\" }}")
            .unwrap();
    }
    let shares: &[&str] = g.pick(&[&["1.0"][..], &["0.3", "0.7"], &["0.25", "0.5", "0.25"]]);
    let mut mean_service = 0.0;
    for (k, share) in shares.iter().enumerate() {
        let m = 10.0 + 110.0 * g.unit();
        mean_service += share.parse::<f64>().unwrap() * m;
        let dist = match g.next() % 5 {
            0 => exponential(m.round()),
            1 => format!("{{ dist = \"lognormal\", median = \"{:.0}s\", p95 = \"{:.0}s\" }}", m, 3.0 * m),
            2 => deterministic(m.round()),
            3 => format!("{{ dist = \"gamma\", shape = 2.0, mean = \"{:.0}s\" }}", m),
            _ => format!("{{ dist = \"uniform\", min = \"{:.0}s\", max = \"{:.0}s\" }}", m / 2.0, 1.5 * m),
        };
        writeln!(
            s,
            "[[classes]]\nname = \"k{k}\"\nshare = {share}\nduration = {dist}\nfallback_eligible = {}",
            g.coin(0.6)
        )
        .unwrap();
    }
    let load = g.pick(&[0.7, 1.0, 1.3]);
    let slots = (rate * mean_service / load).ceil() as u32;
    let cpw = g.pick(&[1u32, 4, 10]);
    let workers = slots.div_ceil(cpw).max(1);
    writeln!(s, "[primary]\nworkers = {workers}\ncalls_per_worker = {cpw}").unwrap();
    match g.next() % 5 {
        0 | 1 => {}
        2 | 3 => writeln!(
            s,
            "[primary.autoscaler]\npolicy = \"target-utilization\"\ntarget = 0.7\ninterval = \"30s\"\n\
             provision_delay = \"2m\"\nmin = {}\nmax = {}",
            workers.div_ceil(2),
            workers * 3
        )
        .unwrap(),
        _ => writeln!(
            s,
            "[primary.autoscaler]\npolicy = \"step\"\nsteps = [{{ above = 0.8, add = {} }}]\n\
             scale_in = {{ below = 0.4, remove = 1 }}\ninterval = \"20s\"\n\
             provision_delay = {{ dist = \"uniform\", min = \"30s\", max = \"3m\" }}\nmin = 1\nmax = {}",
            workers.div_ceil(4),
            workers * 2
        )
        .unwrap(),
    }
    if g.coin(0.6) {
        let health =
            g.pick(&["\"healthy\"", "{ degraded = 0.3 }", "{ broken_from = \"10m\", broken_until = \"20m\" }"]);
        let cold = g.pick(&["\"2s\"", "{ dist = \"lognormal\", median = \"1s\", p95 = \"5s\" }"]);
        // A large pool, or a small one that throttles.
        let max_concurrency = g.pick(&[slots / 5 + 1, slots / 50 + 1]);
        writeln!(
            s,
            "[fallback]\nmax_concurrency = {max_concurrency}\ncold_start = {cold}\nidle_timeout = \"2m\"\n\
             health = {health}"
        )
        .unwrap();
        if g.coin(0.5) {
            writeln!(s, "burst_limit = {}\nscale_rate = 5\nscale_interval = \"30s\"", max_concurrency / 4 + 1).unwrap();
        }
        if health.contains("broken") && g.coin(0.7) {
            let action = g.pick(&["stop_routing = true", "fix_fallback = true"]);
            writeln!(s, "[fallback.canary]\ninterval = \"1m\"\non_detect = {{ after = \"2m\", {action} }}").unwrap();
        }
    }
    match g.next() % 4 {
        0 => {}
        1 => writeln!(s, "[admission]\nmax_wait = \"30s\"").unwrap(),
        2 => writeln!(s, "[admission]\npatience = {}\nqueue_limit = {}", exponential(60.0), slots / 10 + 1).unwrap(),
        _ => writeln!(s, "[admission]\npatience = {}", lognormal(120.0, 1.0)).unwrap(),
    }
    s
}

fn assert_counts_le(what: &str, part: &Counts, whole: &Counts) {
    let p = [part.arrived, part.served_primary, part.served_fallback, part.abandoned, part.failed_fallback_eligible];
    let w =
        [whole.arrived, whole.served_primary, whole.served_fallback, whole.abandoned, whole.failed_fallback_eligible];
    assert!(p.iter().zip(&w).all(|(a, b)| a <= b), "{what}: {part:?} exceeds {whole:?}");
    assert!(part.failed_by.iter().zip(&whole.failed_by).all(|(a, b)| a <= b), "{what}: {part:?} exceeds {whole:?}");
}

fn outcomes(c: &Counts) -> u64 {
    c.served_primary + c.served_fallback + rejected(c) + c.abandoned + c.drain_timeout
}

fn check_conservation(name: &str, sc: &Scenario, r: &RunResult) {
    let what = format!("{name} run {}", r.run);
    let t = &r.totals;
    // Every call that arrived in the reported span was served, failed,
    // abandoned, or is still waiting.
    assert_eq!(
        t.arrived,
        outcomes(t) + r.end.waiting_end,
        "{what}: arrived {} ≠ served_primary {} + served_fallback {} + turned away {} + abandoned {} + cut off by a drain {} + waiting_end {}",
        t.arrived,
        t.served_primary,
        t.served_fallback,
        rejected(t),
        t.abandoned,
        t.drain_timeout,
        r.end.waiting_end
    );
    assert!(
        t.failed_fallback_eligible <= rejected(t) + t.abandoned + t.drain_timeout,
        "{what}: more failures of eligible calls than failures: {t:?}"
    );
    // Classes partition the totals; each class conserves its calls, and
    // their calls still waiting add up to waiting_end.
    assert_eq!(r.classes.len(), sc.classes.len());
    let mut sum = Counts::default();
    let mut still_waiting = 0;
    for (k, c) in r.classes.iter().enumerate() {
        assert!(c.arrived >= outcomes(c), "{what}: class {k}: more outcomes than arrivals: {c:?}");
        still_waiting += c.arrived - outcomes(c);
        if !sc.classes[k].fallback_eligible {
            assert_eq!(c.failed_fallback_eligible, 0, "{what}: class {k} is not eligible");
            assert_eq!(c.served_fallback, 0, "{what}: class {k} is not eligible but used the fallback");
        }
        sum.add(c);
    }
    assert_eq!(&sum, t, "{what}: classes do not sum to the totals");
    assert_eq!(still_waiting, r.end.waiting_end, "{what}: per-class calls still waiting ≠ waiting_end");
    // Bins partition the totals (counts by arrival) and the areas (time).
    let mut sum = Counts::default();
    let mut areas = Areas::default();
    for b in &r.bins {
        sum.add(&b.counts);
        let (o, a) = (&mut areas, &b.areas);
        o.busy_primary += a.busy_primary;
        o.capacity_primary += a.capacity_primary;
        o.workers_ready += a.workers_ready;
        o.workers_billed += a.workers_billed;
        o.fallback_busy += a.fallback_busy;
        o.waiting += a.waiting;
    }
    assert_eq!(&sum, t, "{what}: bins do not sum to the totals");
    assert_eq!(areas, r.areas, "{what}: bin areas do not sum to the run's areas");
    assert_eq!(r.bins.len() as u64, sc.duration.0.div_ceil(sc.bin.0), "{what}: bin count");
    // The window is a subset of the calls.
    if let Some(w) = &r.window {
        assert_counts_le(&format!("{what}: window"), w, t);
        assert!(w.arrived >= outcomes(w), "{what}: window has more outcomes than arrivals");
    }
}

/// `RunEnd::peak_pending_events` is documented as "bounded by calls in
/// flight" (src/model/outcome.rs), and DESIGN.md wants memory to grow with
/// calls in flight, never with total calls: calls that waited and were
/// served leave no stale abandonment events behind.
#[test]
fn pending_events_bounded_by_calls_in_flight() {
    let sc = Single {
        name: "pending",
        seed: 601,
        duration: "5h",
        warmup: "0s",
        rate: 95.0 / MEAN_S,
        service: exponential(MEAN_S),
        workers: 100,
        calls_per_worker: 1,
        admission: Some("max_wait = \"1000h\""),
    };
    let sc = load(&sc.toml());
    let r = surgesim::experiment::simulate(&sc, 0, RunOptions::default());
    // One end or abandonment event per call in the system, the next
    // arrival, and a few periodic events.
    let bound = r.peak_in_flight as usize + 16;
    assert!(
        r.end.peak_pending_events <= bound,
        "peak pending events {} > peak calls in flight {} + 16 ({} calls arrived, {} served)",
        r.end.peak_pending_events,
        r.peak_in_flight,
        r.totals.arrived,
        r.totals.served_primary
    );
    // The queue's storage, counted in slots: each tier is bounded by a
    // multiple of the peak pending events (src/engine/queue.rs, `allocated`): top,
    // sorted run, scratch and side heap by 2x each (vector doubling), the
    // chunks by 2 x (1 + CHUNK = 8) x; plus the initial reservation of one
    // slot per primary slot and 16.
    let slots_bound = 26 * r.end.peak_pending_events + 100 + 16;
    assert!(
        r.end.queue_slots <= slots_bound,
        "the queue holds {} slots for a peak of {} pending events (bound {slots_bound})",
        r.end.queue_slots,
        r.end.peak_pending_events
    );
    assert!(
        r.end.queue_slots * 10 < r.totals.arrived as usize,
        "the queue's storage ({} slots) grows with total calls ({})",
        r.end.queue_slots,
        r.totals.arrived
    );
}

#[test]
fn conservation_on_random_scenarios() {
    let mut seen = Counts::default();
    let (mut waiting_end, mut scale_events, mut windows) = (0, 0, 0);
    for i in 0..40 {
        let text = random_scenario(i);
        let sc = load(&text);
        let agg = experiment::run(&sc, 2, RunOptions::default());
        for r in &agg.runs {
            check_conservation(&sc.name, &sc, r);
            seen.add(&r.totals);
            waiting_end += r.end.waiting_end;
            scale_events += r.end.scale_log.len();
            windows += r.window.is_some() as usize;
        }
    }
    println!(
        "conservation: all scenarios together: {seen:?}, waiting at the end {waiting_end}, \
         scaling decisions {scale_events}, runs with a window {windows}"
    );
    // The scenarios must exercise every outcome, or the identities above
    // would hold trivially.
    let names = ["worker_not_available", "fallback_start_failed", "fallback_throttled", "queue_full"];
    for (reason, n) in names.iter().zip(seen.failed_by) {
        assert!(n > 0, "no scenario produced a failure {reason}");
    }
    assert!(seen.served_fallback > 0 && seen.abandoned > 0 && waiting_end > 0, "{seen:?}, waiting {waiting_end}");
    assert!(scale_events > 0 && windows > 0, "no autoscaling ({scale_events}) or no window ({windows})");
}
