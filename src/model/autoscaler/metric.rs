//! The metric pipeline between the pool and the scaler: samples scraped at
//! some interval, reported after a lag, averaged over a window.
//!
//! A sample taken at `t` becomes visible at `t + lag`; the scaler at `now`
//! averages the visible samples taken in `(now − lag − window, now − lag]`.
//! With no lag this is the plain moving window of the scaler's own samples.

use std::collections::VecDeque;

use crate::time::Tick;

#[derive(Debug)]
pub struct Pipeline {
    samples: VecDeque<(Tick, f64)>,
    window: Tick,
    lag: Tick,
}

impl Pipeline {
    pub fn new(window: Tick, lag: Tick) -> Pipeline {
        Pipeline { samples: VecDeque::new(), window, lag }
    }

    /// Records a sample taken at `t` (samples come in time order).
    pub fn push(&mut self, t: Tick, value: f64) {
        self.samples.push_back((t, value));
    }

    /// The mean the scaler sees at `now`; `None` before any sample is
    /// visible (a scaler without data holds, as an HPA does on missing
    /// metrics).
    pub fn seen(&mut self, now: Tick) -> Option<f64> {
        let (w, lag) = (self.window, self.lag);
        while self.samples.front().is_some_and(|&(t, _)| t.saturating_add(lag).saturating_add(w) <= now) {
            self.samples.pop_front();
        }
        let (mut sum, mut n) = (0.0, 0usize);
        for &(t, v) in &self.samples {
            if t.saturating_add(lag) > now {
                break;
            }
            sum += v;
            n += 1;
        }
        (n > 0).then(|| sum / n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_hides_recent_samples_and_window_drops_old_ones() {
        let s = Tick::from_secs;
        let mut p = Pipeline::new(s(30), s(20));
        for (t, v) in [(0, 1.0), (15, 2.0), (30, 3.0), (45, 4.0)] {
            p.push(s(t), v);
        }
        // At 45 s the samples up to 25 s are visible, those after 25 − 30 s.
        assert_eq!(p.seen(s(45)), Some(1.5));
        // At 65 s: visible up to 45 s, window (15, 45].
        assert_eq!(p.seen(s(65)), Some(3.5));
        assert_eq!(Pipeline::new(s(30), s(20)).seen(s(10)), None);
    }
}
