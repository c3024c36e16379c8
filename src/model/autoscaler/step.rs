//! `step`: utilisation thresholds add a fixed number of workers (the
//! highest threshold crossed wins); an optional low threshold removes some.

use super::{Observation, Recommendation};

pub fn recommend(steps: &[(f64, u32)], scale_in: Option<(f64, u32)>, obs: &Observation) -> Recommendation {
    let util = obs.utilisation();
    if let Some(&(_, add)) = steps.iter().rev().find(|&&(above, _)| util >= above) {
        return Recommendation::Workers(obs.current.saturating_add(add));
    }
    match scale_in {
        Some((below, remove)) if util < below => Recommendation::Workers(obs.current.saturating_sub(remove)),
        _ => Recommendation::Hold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_crossed_step_wins() {
        let steps = [(0.8, 5), (0.95, 20)];
        let o = |demand| Observation { current: 10, ready: 10, calls_per_worker: 10, demand, active: true, min: 0 };
        assert_eq!(recommend(&steps, Some((0.3, 2)), &o(85.0)), Recommendation::Workers(15));
        assert_eq!(recommend(&steps, Some((0.3, 2)), &o(99.0)), Recommendation::Workers(30));
        assert_eq!(recommend(&steps, Some((0.3, 2)), &o(50.0)), Recommendation::Hold);
        assert_eq!(recommend(&steps, Some((0.3, 2)), &o(10.0)), Recommendation::Workers(8));
    }
}
