//! A piecewise-linear arrival rate λ(t) and exact inversion of its integral.
//!
//! Steps, ramps and spikes all compile to this one form: a sorted list of
//! segments, each with a start, a rate at its start and a slope. Because
//! Λ(t) = ∫λ is piecewise quadratic, the next arrival of a non-homogeneous
//! Poisson process is found exactly by solving Λ(t) − Λ(t₀) = E, E ~ Exp(1),
//! segment by segment: no thinning rejections, no bin approximation.

use crate::time::Tick;

/// One linear piece: λ(t) = `rate + slope · (t − start)` on `[start, next start)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    pub start: Tick,
    /// Calls per second at `start` (right limit).
    pub rate: f64,
    /// Change of rate per second, per second.
    pub slope: f64,
}

/// λ(t) for t ≥ 0; the last segment extends forever. Invariant: at least one
/// segment, the first starting at 0, starts strictly increasing, λ ≥ 0 and
/// finite everywhere (a negative slope only on a bounded segment).
#[derive(Clone, Debug, PartialEq)]
pub struct RateFn {
    segs: Vec<Segment>,
}

impl RateFn {
    pub fn constant(rate: f64) -> RateFn {
        RateFn { segs: vec![Segment { start: Tick::ZERO, rate, slope: 0.0 }] }
    }

    /// Builds from segments; the caller has validated the invariant.
    pub fn from_segments(segs: Vec<Segment>) -> RateFn {
        debug_assert!(!segs.is_empty() && segs[0].start == Tick::ZERO);
        RateFn { segs }
    }

    /// λ delayed by `by`, holding λ(0) over `[0, by)` (a warm-up at the
    /// starting rate).
    pub fn shifted(&self, by: Tick) -> RateFn {
        if by == Tick::ZERO {
            return self.clone();
        }
        let mut segs = vec![Segment { start: Tick::ZERO, rate: self.at(Tick::ZERO), slope: 0.0 }];
        segs.extend(self.segs.iter().map(|s| Segment { start: s.start.saturating_add(by), ..*s }));
        RateFn { segs }
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segs
    }

    fn seg_index(&self, t: Tick) -> usize {
        self.segs.partition_point(|s| s.start <= t).saturating_sub(1)
    }

    /// λ(t), the right limit at a step.
    pub fn at(&self, t: Tick) -> f64 {
        let s = &self.segs[self.seg_index(t)];
        (s.rate + s.slope * (t.0 - s.start.0) as f64 / 1e6).max(0.0)
    }

    /// λ just before t (the left limit), used when summing rate functions.
    fn left_at(&self, t: Tick) -> f64 {
        let i = self.segs.partition_point(|s| s.start < t).saturating_sub(1);
        let s = &self.segs[i];
        (s.rate + s.slope * (t.0 - s.start.0) as f64 / 1e6).max(0.0)
    }

    /// Expected number of arrivals in `[0, until)`: Λ(until).
    pub fn integral(&self, until: Tick) -> f64 {
        let mut total = 0.0;
        for (i, s) in self.segs.iter().enumerate() {
            if s.start >= until {
                break;
            }
            let end = self.segs.get(i + 1).map_or(until, |n| n.start.min(until));
            let len = (end.0 - s.start.0) as f64 / 1e6;
            total += s.rate * len + s.slope * len * len / 2.0;
        }
        total
    }

    /// The largest rate reached before `until`.
    pub fn peak(&self, until: Tick) -> f64 {
        let mut peak: f64 = 0.0;
        for (i, s) in self.segs.iter().enumerate() {
            if s.start >= until {
                break;
            }
            let end = self.segs.get(i + 1).map_or(until, |n| n.start.min(until));
            let len = (end.0 - s.start.0) as f64 / 1e6;
            peak = peak.max(s.rate).max(s.rate + s.slope * len);
        }
        peak
    }

    /// Pointwise sum of two rate functions.
    pub fn add(&self, other: &RateFn) -> RateFn {
        let mut starts: Vec<Tick> = self.segs.iter().chain(&other.segs).map(|s| s.start).collect();
        starts.sort();
        starts.dedup();
        let segs = starts
            .iter()
            .enumerate()
            .map(|(i, &start)| {
                let rate = self.at(start) + other.at(start);
                let slope = match starts.get(i + 1) {
                    Some(&end) => {
                        let len = (end.0 - start.0) as f64 / 1e6;
                        (self.left_at(end) + other.left_at(end) - rate) / len
                    }
                    None => self.segs.last().unwrap().slope + other.segs.last().unwrap().slope,
                };
                Segment { start, rate, slope }
            })
            .collect();
        RateFn { segs }
    }

    /// The first arrival strictly after `now` given an Exp(1) draw `e`, or
    /// `None` if the remaining mass of λ is less than `e` (the rate has
    /// dropped to zero for good).
    #[inline(always)]
    pub fn next_arrival(&self, now: Tick, cursor: &mut usize, e: f64) -> Option<Tick> {
        // A flat, positive segment in which the arrival lands (a constant
        // rate, a plateau of a profile, the warm-up): the general path
        // reduces to this, with the same operations on the same values.
        let i = *cursor;
        let s = &self.segs[i];
        if s.slope == 0.0 && s.rate > 0.0 {
            let dx = e / s.rate;
            let inside = match self.segs.get(i + 1) {
                None => true,
                Some(n) => n.start > now && dx < (n.start.0 - now.0) as f64 / 1e6,
            };
            if inside {
                let t = now.saturating_add(Tick::from_secs_f64(dx));
                return Some(if t <= now { Tick(now.0 + 1) } else { t });
            }
        }
        self.next_arrival_general(now, cursor, e)
    }

    /// [`RateFn::next_arrival`] across segments and along slopes.
    #[inline(never)]
    fn next_arrival_general(&self, now: Tick, cursor: &mut usize, mut e: f64) -> Option<Tick> {
        let mut i = *cursor;
        while i + 1 < self.segs.len() && self.segs[i + 1].start <= now {
            i += 1;
        }
        *cursor = i;
        let mut from = now;
        loop {
            let s = &self.segs[i];
            // The rate at `from` (a flat segment skips the division).
            let a = if s.slope == 0.0 { s.rate } else { s.rate + s.slope * ((from.0 - s.start.0) as f64 / 1e6) };
            let seg_len = self.segs.get(i + 1).map(|n| (n.start.0 - from.0) as f64 / 1e6);
            if let Some(dx) = solve(a.max(0.0), s.slope, e) {
                if seg_len.is_none_or(|l| dx < l) {
                    let t = from.saturating_add(Tick::from_secs_f64(dx));
                    // Rounding may land on `now`: arrivals are strictly later.
                    return Some(if t <= now { Tick(now.0 + 1) } else { t });
                }
            }
            let l = seg_len?;
            e -= a.max(0.0) * l + s.slope * l * l / 2.0;
            i += 1;
            from = self.segs[i].start;
            *cursor = i;
            if e <= 0.0 {
                e = f64::MIN_POSITIVE;
            }
        }
    }
}

/// Smallest x ≥ 0 with a·x + b·x²/2 = e (a ≥ 0, e > 0), if the rate stays
/// positive long enough to accumulate e.
#[inline]
fn solve(a: f64, b: f64, e: f64) -> Option<f64> {
    if b == 0.0 {
        return if a > 0.0 { Some(e / a) } else { None };
    }
    let disc = a * a + 2.0 * b * e;
    if disc < 0.0 {
        return None;
    }
    let root = disc.sqrt();
    let denom = a + root;
    if denom <= 0.0 {
        return None;
    }
    // 2e / (a + √(a² + 2be)) is the stable form of (−a + √…)/b.
    Some(2.0 * e / denom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp() -> RateFn {
        // 10/s for 60 s, ramp to 40/s over 60 s, then 40/s.
        RateFn::from_segments(vec![
            Segment { start: Tick::ZERO, rate: 10.0, slope: 0.0 },
            Segment { start: Tick::from_secs(60), rate: 10.0, slope: 0.5 },
            Segment { start: Tick::from_secs(120), rate: 40.0, slope: 0.0 },
        ])
    }

    /// The short path for flat segments gives exactly what the general
    /// path gives (time and cursor), wherever the draw lands: inside the
    /// segment, across its end, on a ramp, on a zero-rate stretch.
    #[test]
    fn short_path_agrees_with_the_general_path() {
        let r = RateFn::from_segments(vec![
            Segment { start: Tick::ZERO, rate: 10.0, slope: 0.0 },
            Segment { start: Tick::from_secs(60), rate: 10.0, slope: 0.5 },
            Segment { start: Tick::from_secs(120), rate: 40.0, slope: 0.0 },
            Segment { start: Tick::from_secs(180), rate: 0.0, slope: 0.0 },
            Segment { start: Tick::from_secs(200), rate: 25.0, slope: 0.0 },
        ]);
        let mut checked = 0;
        for step in 0..2_000u64 {
            let now = Tick(step * 110_503);
            for e in [1e-9, 0.01, 0.37, 1.0, 4.2, 60.0, 700.0, 1e4] {
                for start in 0..r.segs.len() {
                    if r.segs[start].start > now {
                        continue;
                    }
                    let (mut fast_cur, mut general_cur) = (start, start);
                    let fast = r.next_arrival(now, &mut fast_cur, e);
                    let general = r.next_arrival_general(now, &mut general_cur, e);
                    assert_eq!((fast, fast_cur), (general, general_cur), "now {now:?}, e {e}, cursor {start}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000);
    }

    #[test]
    fn integral_of_a_ramp() {
        let r = ramp();
        assert!((r.integral(Tick::from_secs(180)) - (600.0 + 1500.0 + 2400.0)).abs() < 1e-9);
        assert_eq!(r.peak(Tick::from_secs(90)), 25.0);
        assert_eq!(r.at(Tick::from_secs(90)), 25.0);
    }

    #[test]
    fn inversion_hits_the_integral_exactly() {
        let r = ramp();
        let mut cur = 0;
        // Mass 600 is used up exactly at 60 s; 600 + 1500 at 120 s.
        let t = r.next_arrival(Tick::ZERO, &mut cur, 600.0 + 1500.0).unwrap();
        assert_eq!(t, Tick::from_secs(120));
        let t = r.next_arrival(Tick::ZERO, &mut 0, 600.0 + 100.0).unwrap();
        // 10x + 0.25x² = 100 → x = (−10 + √(100 + 100)) / 0.5
        let x = (-10.0 + 200f64.sqrt()) / 0.5;
        assert!((t.as_secs_f64() - 60.0 - x).abs() < 1e-6);
    }

    /// A flat last segment: the next arrival is `e / rate` later, rounded
    /// to the tick, and never at `now` itself.
    #[test]
    fn flat_tail_inverts_directly() {
        let r = RateFn::from_segments(vec![
            Segment { start: Tick::ZERO, rate: 1.0, slope: 0.0 },
            Segment { start: Tick::from_secs(10), rate: 4.0, slope: 0.0 },
        ]);
        let mut cur = 0;
        assert_eq!(r.next_arrival(Tick::from_secs(20), &mut cur, 2.0), Some(Tick::from_secs_f64(20.5)));
        assert_eq!(cur, 1);
        assert_eq!(r.next_arrival(Tick::from_secs(20), &mut cur, 1e-9), Some(Tick(20_000_001)));
    }

    #[test]
    fn zero_rate_tail_ends_arrivals() {
        let r = RateFn::from_segments(vec![
            Segment { start: Tick::ZERO, rate: 1.0, slope: 0.0 },
            Segment { start: Tick::from_secs(10), rate: 0.0, slope: 0.0 },
        ]);
        assert_eq!(r.next_arrival(Tick::ZERO, &mut 0, 11.0), None);
    }

    #[test]
    fn sum_of_step_and_trapezoid() {
        let base = RateFn::constant(40.0);
        let spike = RateFn::from_segments(vec![
            Segment { start: Tick::ZERO, rate: 0.0, slope: 0.0 },
            Segment { start: Tick::from_secs(100), rate: 0.0, slope: 1.0 },
            Segment { start: Tick::from_secs(180), rate: 80.0, slope: 0.0 },
            Segment { start: Tick::from_secs(300), rate: 0.0, slope: 0.0 },
        ]);
        let s = base.add(&spike);
        assert_eq!(s.at(Tick::from_secs(50)), 40.0);
        assert_eq!(s.at(Tick::from_secs(140)), 80.0);
        assert_eq!(s.at(Tick::from_secs(200)), 120.0);
        assert_eq!(s.at(Tick::from_secs(400)), 40.0);
        let expect = 40.0 * 500.0 + 0.5 * 80.0 * 80.0 + 80.0 * 120.0;
        assert!((s.integral(Tick::from_secs(500)) - expect).abs() < 1e-6);
    }
}
