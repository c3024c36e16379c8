//! The model's events: what the engine's queue carries for the model.

/// The model's events. Kept small (16 bytes) so the queue stays compact.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Ev {
    Arrival,
    /// A primary call ends; `generation` tells a call cut off by a drain
    /// (its worker has moved on) from a live one.
    PrimaryEnd {
        worker: u32,
        generation: u32,
    },
    /// The drain grace of a removed worker ends: its calls still running
    /// fail as `drain_timeout`.
    DrainDeadline {
        worker: u32,
        generation: u32,
    },
    FallbackEnd {
        provisioned: bool,
    },
    /// A failing fallback start ends: the call (an entry of
    /// `failing_starts`) fails and its slot is freed.
    FallbackStartFailed {
        slot: u32,
    },
    /// The earliest patience deadline of the waiting calls; `generation`
    /// tells a superseded timer from the current one.
    AbandonTimer {
        generation: u32,
    },
    WorkerReady {
        worker: u32,
        generation: u32,
    },
    ScalerTick,
    /// A scrape of the scaler's metric (only with `scrape_interval`).
    Scrape,
    /// KEDA's activation poll (only with `polling_interval`).
    Poll,
    ScheduledMin {
        idx: u32,
    },
    Canary,
    Action {
        idx: u32,
    },
    /// A launched node of `[primary.nodes]` is ready.
    NodeReady,
    /// A call of `[clients]` makes its next attempt (an orbit slot).
    Retry {
        slot: u32,
    },
    /// The client timeout of waiting attempt `id` (`[clients] timeout`).
    ClientTimeout {
        id: u64,
    },
    /// A scan of the node autoscaler.
    NodeScan,
    /// An instance launched into the warm pool is ready there.
    WarmPoolRefilled,
    /// Karpenter's batching window may close (the latest `generation`).
    NodeBatch {
        generation: u32,
    },
}
