//! Scaling decisions and the capacity they imply: a scaling log replayed
//! worker by worker, checked bin by bin against timeseries.csv, and the
//! scaler's bounds and cooldowns.

use surgesim::result::RunResult;

use super::{Csv, EPS};

/// One scaling decision, from scaling.csv or a run's scale log.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub at: f64,
    pub from: u32,
    pub to: u32,
    pub cause: String,
    pub ready: Option<(f64, f64)>,
}

pub fn decisions(r: &RunResult) -> Vec<Decision> {
    r.end
        .scale_log
        .iter()
        .map(|e| Decision {
            at: e.at.as_secs_f64(),
            from: e.from,
            to: e.to,
            cause: e.cause.to_string(),
            ready: e.ready.map(|(a, b)| (a.as_secs_f64(), b.as_secs_f64())),
        })
        .collect()
}

/// How launched workers become ready: a deterministic provisioning delay,
/// and a warm pool whose instances start in `warm_delay`.
pub struct Provisioning {
    pub delay: f64,
    pub warm_pool: u32,
    pub warm_delay: f64,
}

impl Provisioning {
    pub fn fixed(delay: f64) -> Provisioning {
        Provisioning { delay, warm_pool: 0, warm_delay: 0.0 }
    }
}

/// A piecewise-constant count over time: `(from time, value)` points.
pub struct Steps(Vec<(f64, f64)>);

impl Steps {
    pub fn at(&self, t: f64) -> f64 {
        self.0.iter().take_while(|p| p.0 <= t).last().map_or(f64::NAN, |p| p.1)
    }

    /// Time average over `[a, b)`.
    pub fn avg(&self, a: f64, b: f64) -> f64 {
        let mut area = 0.0;
        for (i, &(t, v)) in self.0.iter().enumerate() {
            let end = self.0.get(i + 1).map_or(f64::INFINITY, |p| p.0);
            let (lo, hi) = (t.max(a), end.min(b));
            if hi > lo {
                area += v * (hi - lo);
            }
        }
        area / (b - a)
    }

    /// Largest value taken anywhere in `[a, b]`.
    pub fn max_on(&self, a: f64, b: f64) -> f64 {
        let mut m = self.at(a);
        for &(t, v) in &self.0 {
            if t > a && t <= b {
                m = m.max(v);
            }
        }
        m
    }
}

/// The worker target (ready + provisioning) over time: `initial`, then the
/// `to` of each decision from its time on.
pub fn target_steps(initial: u32, log: &[Decision]) -> Steps {
    let mut s = vec![(f64::NEG_INFINITY, initial as f64)];
    s.extend(log.iter().map(|d| (d.at, d.to as f64)));
    Steps(s)
}

/// Replays a scaling log worker by worker, the way the model documents it:
/// a scale-up launches `to − from` workers, each ready after the warm-pool
/// delay while the warm pool lasts and after the provisioning delay
/// otherwise; a scale-down cancels the newest launches first, then removes
/// ready workers at once (drained workers take no calls), which refill the
/// warm pool. Launches due at a decision's instant are ready before it
/// (the provisioning delays used here are at least one evaluation interval,
/// so their events were queued first).
///
/// Returns the ready-worker count over time, and for each decision the
/// `(first, last)` ready times it should log. Asserts that each decision's
/// `from` is the replayed ready + provisioning count.
pub fn replay(initial: u32, p: &Provisioning, log: &[Decision]) -> (Steps, Vec<Option<(f64, f64)>>) {
    let mut ready = initial as i64;
    let mut provisioning: Vec<f64> = Vec::new(); // ready times, in launch order
    let mut warm_left = p.warm_pool;
    let mut steps = vec![(f64::NEG_INFINITY, ready as f64)];
    let mut predicted = Vec::new();
    let flush = |upto: f64, ready: &mut i64, provisioning: &mut Vec<f64>, steps: &mut Vec<(f64, f64)>| loop {
        let next = provisioning
            .iter()
            .enumerate()
            .filter(|(_, &t)| t <= upto)
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, &t)| (i, t));
        let Some((i, t)) = next else { break };
        provisioning.remove(i);
        *ready += 1;
        steps.push((t, *ready as f64));
    };
    for d in log {
        flush(d.at, &mut ready, &mut provisioning, &mut steps);
        assert_eq!(
            d.from as i64,
            ready + provisioning.len() as i64,
            "decision {d:?}: `from` should be ready ({ready}) + provisioning ({})",
            provisioning.len()
        );
        if d.to > d.from {
            let (mut first, mut last) = (f64::INFINITY, f64::NEG_INFINITY);
            for _ in d.from..d.to {
                let delay = if warm_left > 0 {
                    warm_left -= 1;
                    p.warm_delay
                } else {
                    p.delay
                };
                provisioning.push(d.at + delay);
                first = first.min(d.at + delay);
                last = last.max(d.at + delay);
            }
            predicted.push(Some((first, last)));
        } else {
            let mut n = d.from - d.to;
            while n > 0 && provisioning.pop().is_some() {
                n -= 1;
            }
            ready -= n as i64;
            warm_left = (warm_left + n).min(p.warm_pool);
            steps.push((d.at, ready as f64));
            predicted.push(None);
        }
    }
    flush(f64::INFINITY, &mut ready, &mut provisioning, &mut steps);
    (Steps(steps), predicted)
}

/// Checks timeseries.csv against a scaling log:
/// - every scale-up logs the ready times the replay predicts;
/// - in every bin, workers_ready_avg equals the replayed ready count's
///   average (capacity appears exactly when the delay has passed, never
///   before) and capacity_primary_avg is `cpw` × that;
/// - independently of the replay: the ready count in a bin never exceeds
///   the largest target at any time one provisioning delay (the shortest
///   possible one) earlier, nor the largest target in the bin itself.
pub fn check_capacity_follows_log(ts: &Csv, log: &[Decision], initial: u32, cpw: u32, p: &Provisioning) {
    let (ready, predicted) = replay(initial, p, log);
    for (d, want) in log.iter().zip(&predicted) {
        assert_eq!(&d.ready, want, "decision {d:?}: logged ready times differ from the replay");
    }
    let target = target_steps(initial, log);
    let shortest = if p.warm_pool > 0 { p.delay.min(p.warm_delay) } else { p.delay };
    for i in 0..ts.len() {
        let (a, b) = (ts.f(i, "t_start_s"), ts.f(i, "t_end_s"));
        let got = ts.f(i, "workers_ready_avg");
        let want = ready.avg(a, b);
        assert!(
            (got - want).abs() < EPS,
            "bin [{a}, {b}): workers_ready_avg {got}, replay of the scaling log gives {want}"
        );
        let cap = ts.f(i, "capacity_primary_avg");
        assert!((cap - cpw as f64 * got).abs() < EPS * cpw as f64, "bin [{a}, {b}): capacity {cap} ≠ {cpw} × {got}");
        let bound = target.max_on(a - shortest, b - shortest).min(target.max_on(a, b));
        assert!(
            got <= bound + EPS,
            "bin [{a}, {b}): {got} workers ready, but at most {bound} were decided {shortest} s (the provisioning delay) earlier"
        );
    }
}

/// Asserts the scaler's bounds and cooldowns on a log.
pub fn check_bounds_and_cooldowns(log: &[Decision], min: u32, max: u32, up_cooldown: f64, down_cooldown: f64) {
    for d in log {
        assert!((min..=max).contains(&d.to), "decision {d:?} leaves [min {min}, max {max}]");
    }
    let policy: Vec<&Decision> = log.iter().filter(|d| d.cause == "policy").collect();
    for w in policy.windows(2) {
        let (prev, d) = (w[0], w[1]);
        if d.to > d.from {
            if let Some(last_up) = policy.iter().rev().find(|e| e.at < d.at && e.to > e.from) {
                assert!(
                    d.at - last_up.at >= up_cooldown,
                    "scale-up {d:?} only {} s after {last_up:?}",
                    d.at - last_up.at
                );
            }
        } else {
            assert!(d.at - prev.at >= down_cooldown, "scale-down {d:?} only {} s after {prev:?}", d.at - prev.at);
        }
    }
}

/// Smallest gap between consecutive policy scale-ups.
pub fn min_up_gap(log: &[Decision]) -> f64 {
    let ups: Vec<f64> = log.iter().filter(|d| d.cause == "policy" && d.to > d.from).map(|d| d.at).collect();
    ups.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min)
}

/// Smallest gap between a policy scale-down and the policy change before it.
pub fn min_down_gap(log: &[Decision]) -> f64 {
    let policy: Vec<&Decision> = log.iter().filter(|d| d.cause == "policy").collect();
    policy.windows(2).filter(|w| w[1].to < w[1].from).map(|w| w[1].at - w[0].at).fold(f64::INFINITY, f64::min)
}
