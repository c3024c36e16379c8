//! `scheduled`: only the schedule changes capacity. The policy wishes for
//! the minimum in force, so a schedule entry moves the workers down as well
//! as up (after the usual cooldowns and stabilisation); an `on_detect`
//! floor holds them up.

use super::{Observation, Recommendation};

pub fn recommend(obs: &Observation) -> Recommendation {
    Recommendation::Workers(obs.min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_minimum_whatever_the_load() {
        let o = |demand, min| Observation { current: 10, ready: 10, calls_per_worker: 10, demand, active: true, min };
        assert_eq!(recommend(&o(1000.0, 4)), Recommendation::Workers(4));
        assert_eq!(recommend(&o(0.0, 30)), Recommendation::Workers(30));
    }
}
