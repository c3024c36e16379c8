//! The warm pool of an auto-scaling group (EC2 Auto Scaling): instances
//! kept initialised that reach InService in `warm_pool_delay` (set by the
//! pool's instance state) instead of a cold launch. A launch takes from the
//! pool while it has instances; each one taken is replaced in the
//! background after `warm_pool_refill` (if set); with `reuse_on_scale_in`
//! the instances a scale-in removes go back to the pool. The pool never
//! holds more than its size.

use super::{Ev, Sim};
use crate::engine::EventQueue;
use crate::time::Tick;

#[derive(Debug)]
pub(super) struct WarmPool {
    size: u32,
    /// Instances ready in the pool.
    warm: u32,
}

impl WarmPool {
    /// A full pool of `size` instances.
    pub(super) fn new(size: u32) -> WarmPool {
        WarmPool { size, warm: size }
    }

    /// A scale-in removed `n` instances: with `reuse`, they return to the pool.
    pub(super) fn scaled_in(&mut self, n: u32, reuse: bool) {
        if reuse {
            self.warm = (self.warm + n).min(self.size);
        }
    }

    /// A replacement launched into the pool is ready there.
    pub(super) fn refilled(&mut self) {
        self.warm = (self.warm + 1).min(self.size);
    }
}

impl Sim<'_> {
    /// The delay until a worker launched now is ready: from the warm pool
    /// while it has an instance (scheduling that instance's replacement),
    /// else a cold launch.
    pub(super) fn launch_delay(&mut self, now: Tick, q: &mut EventQueue<Ev>) -> Tick {
        let a = &self.sc.primary.autoscaler;
        if self.warm_pool.warm > 0 {
            self.warm_pool.warm -= 1;
            if let Some(refill) = a.warm_pool_refill {
                q.push(now.saturating_add(refill), Ev::WarmPoolRefilled);
            }
            return a.warm_pool_delay;
        }
        a.provision_delay.sample(&mut self.rng.provisioning)
    }
}
