//! `target-utilization`: the Kubernetes HPA rule.
//!
//! desired = ceil(current × utilisation / target), which with utilisation =
//! demand / (ready × slots) is ceil(demand / (slots × target)); no change
//! while utilisation / target is within `tolerance` of 1.

use super::{Observation, Recommendation};

pub fn recommend(target: f64, tolerance: f64, obs: &Observation) -> Recommendation {
    let util = obs.utilisation();
    if util.is_infinite() {
        // Demand but no ready capacity: activate from zero, else wait for
        // the workers already provisioning.
        return if obs.current == 0 { Recommendation::Workers(1) } else { Recommendation::Hold };
    }
    if obs.ready > 0 && (util / target - 1.0).abs() <= tolerance {
        return Recommendation::Hold;
    }
    let desired = (obs.demand / (obs.calls_per_worker as f64 * target)).ceil();
    Recommendation::Workers(desired.min(u32::MAX as f64) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_band_holds() {
        let o = Observation { current: 10, ready: 10, calls_per_worker: 10, demand: 74.0, active: true, min: 0 };
        assert_eq!(recommend(0.7, 0.1, &o), Recommendation::Hold);
        assert_eq!(recommend(0.7, 0.0, &o), Recommendation::Workers(11));
    }

    #[test]
    fn activates_from_zero() {
        let o = Observation { current: 0, ready: 0, calls_per_worker: 10, demand: 0.0, active: true, min: 0 };
        assert_eq!(recommend(0.7, 0.1, &o), Recommendation::Workers(1));
    }
}
