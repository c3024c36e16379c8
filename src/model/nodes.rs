//! The node layer under the primary workers (`[primary.nodes]`): nodes
//! with room for `workers_per_node` workers each, and a node autoscaler in
//! the manner of the Kubernetes Cluster Autoscaler.
//!
//! A launched worker (a pod) first waits, *pending*, for a node with room;
//! once placed it takes its own start delay (the autoscaler's
//! `provision_delay`, drawn at launch). Every `scan_interval` the node
//! autoscaler adds nodes for the pending workers that the nodes already on
//! their way will not hold, up to `max`, each ready after the node
//! `provision_delay`; and it removes nodes that have been unneeded for
//! `scale_down_unneeded_time` while no worker is pending, down to `min`.
//!
//! With `scaler = "karpenter"` nodes are launched on batches instead of
//! scans: the first worker to become pending opens a batching window,
//! which closes once no worker has become pending for its idle duration,
//! or at its maximum duration; at the close, nodes are launched for the
//! pending workers the nodes on their way will not hold (the scans then
//! only remove unneeded nodes).
//!
//! Workers are fungible, so room is counted, not packed: the workers on
//! nodes (ready, draining, and placed but still starting) need
//! `ceil(on_nodes / workers_per_node)` nodes, and any more are unneeded (the
//! Cluster Autoscaler would move their pods and remove them). Nodes are
//! billed from launch to removal. Nothing here runs on a call's path.

use std::collections::VecDeque;

use super::{Ev, Sim};
use crate::engine::EventQueue;
use crate::scenario::NodesSpec;
use crate::time::Tick;

/// A worker launched but not yet on a node.
#[derive(Copy, Clone, Debug)]
pub struct Pending {
    pub worker: u32,
    pub generation: u32,
    /// Its own start delay, counted from its placement.
    pub delay: Tick,
}

/// What one scan decided.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanDecision {
    /// Nodes to launch now.
    pub launch: u32,
    /// Nodes removed now.
    pub removed: u32,
}

#[derive(Debug)]
pub struct Nodes<'a> {
    pub spec: &'a NodesSpec,
    pub ready: u32,
    pub provisioning: u32,
    pub pending: VecDeque<Pending>,
    /// When each currently unneeded node became unneeded, oldest first.
    unneeded_since: Vec<Tick>,
    /// Node-ticks billed after `warm` (the reported span).
    area: u128,
    /// A worker became pending since the batching window last looked.
    new_pending: bool,
    /// Start of the open batching window, if one is open.
    batch_start: Option<Tick>,
    /// Tells the latest close event of the window from superseded ones.
    batch_generation: u32,
    last: Tick,
    warm: Tick,
}

impl<'a> Nodes<'a> {
    pub fn new(spec: &'a NodesSpec, warm: Tick) -> Nodes<'a> {
        Nodes {
            spec,
            ready: spec.initial,
            provisioning: 0,
            pending: VecDeque::new(),
            unneeded_since: Vec::new(),
            new_pending: false,
            batch_start: None,
            batch_generation: 0,
            area: 0,
            last: Tick::ZERO,
            warm,
        }
    }

    /// Adds the billed node-time up to `now` (reported part only).
    pub fn account(&mut self, now: Tick) {
        let from = self.last.max(self.warm);
        if now > from {
            self.area += (self.ready + self.provisioning) as u128 * (now.0 - from.0) as u128;
        }
        self.last = self.last.max(now);
    }

    /// Billed node-seconds of the reported span (after [`Nodes::account`] at the end).
    pub fn node_seconds(&self) -> f64 {
        self.area as f64 / crate::time::TICKS_PER_SEC as f64
    }

    /// Free worker places on ready nodes, given the workers on nodes.
    pub fn room(&self, on_nodes: u32) -> u32 {
        (self.ready as u64 * self.spec.workers_per_node as u64).saturating_sub(on_nodes as u64).min(u32::MAX as u64)
            as u32
    }

    /// A launched worker waits for a node.
    pub fn add_pending(&mut self, p: Pending) {
        self.pending.push_back(p);
        self.new_pending = true;
    }

    /// Nodes to launch for the pending workers that the nodes on their way
    /// and the room on ready nodes will not hold, up to `max`.
    fn launch_for_pending(&mut self, on_nodes: u32) -> u32 {
        let wpn = self.spec.workers_per_node as u64;
        let pending = self.pending.len() as u64;
        let upcoming = self.provisioning as u64 * wpn + self.room(on_nodes) as u64;
        if pending <= upcoming {
            return 0;
        }
        let need = (pending - upcoming).div_ceil(wpn);
        let headroom = self.spec.max.saturating_sub(self.ready + self.provisioning) as u64;
        let launch = need.min(headroom) as u32;
        self.provisioning += launch;
        launch
    }

    /// A launched node became ready.
    pub fn node_ready(&mut self, now: Tick) {
        self.account(now);
        self.provisioning -= 1;
        self.ready += 1;
    }

    /// One scan of the node autoscaler at `now`, with `on_nodes` workers on
    /// nodes and the (live) pending workers in `self.pending`. Launching is
    /// left to the caller (it draws the delays); removal is done here.
    pub fn scan(&mut self, now: Tick, on_nodes: u32) -> ScanDecision {
        self.account(now);
        let wpn = self.spec.workers_per_node as u64;
        let pending = self.pending.len() as u64;
        let mut d = ScanDecision::default();
        if self.spec.batch.is_none() {
            d.launch = self.launch_for_pending(on_nodes);
        }
        let unneeded = if pending > 0 {
            0
        } else {
            let needed = (on_nodes as u64).div_ceil(wpn).max(self.spec.min as u64);
            (self.ready as u64).saturating_sub(needed) as usize
        };
        self.unneeded_since.truncate(unneeded);
        while self.unneeded_since.len() < unneeded {
            self.unneeded_since.push(now);
        }
        let due = self
            .unneeded_since
            .iter()
            .take_while(|&&t| t.saturating_add(self.spec.scale_down_unneeded_time) <= now)
            .count();
        if due > 0 {
            self.unneeded_since.drain(..due);
            self.ready -= due as u32;
            d.removed = due as u32;
        }
        d
    }
}

/// The node layer's events in the simulation.
impl Sim<'_> {
    /// Drops cancelled launches from the pending workers and places as
    /// many of the rest as the ready nodes have room for, oldest first;
    /// each becomes ready after its own start delay. Returns the first and
    /// last ready time of those placed.
    #[cold]
    #[inline(never)]
    pub(super) fn place_pending(&mut self, now: Tick, q: &mut EventQueue<Ev>) -> Option<(Tick, Tick)> {
        let nodes = self.nodes.as_mut()?;
        let primary = &self.primary;
        nodes.pending.retain(|p| primary.is_provisioning(p.worker, p.generation));
        let on_nodes = primary.billed() - nodes.pending.len() as u32;
        let mut room = nodes.room(on_nodes);
        let mut ready: Option<(Tick, Tick)> = None;
        while room > 0 {
            let Some(p) = nodes.pending.pop_front() else { break };
            let at = now.saturating_add(p.delay);
            ready = Some(ready.map_or((at, at), |(a, b)| (a.min(at), b.max(at))));
            q.push(at, Ev::WorkerReady { worker: p.worker, generation: p.generation });
            room -= 1;
        }
        if let (Some((idle, max)), true) = (nodes.spec.batch, nodes.new_pending) {
            nodes.new_pending = false;
            if !nodes.pending.is_empty() {
                // A worker became pending: the window opens, or stays open
                // for another idle duration (never past its maximum).
                let start = *nodes.batch_start.get_or_insert(now);
                nodes.batch_generation = nodes.batch_generation.wrapping_add(1);
                let close = now.saturating_add(idle).min(start.saturating_add(max));
                q.push(close, Ev::NodeBatch { generation: nodes.batch_generation });
            }
        }
        ready
    }

    /// Karpenter's batching window closes: nodes are launched for the
    /// pending workers (a superseded close event is ignored).
    #[cold]
    #[inline(never)]
    pub(super) fn on_node_batch(&mut self, now: Tick, generation: u32, q: &mut EventQueue<Ev>) {
        if self.nodes.as_ref().is_none_or(|n| n.batch_generation != generation) {
            return;
        }
        self.place_pending(now, q);
        let Some(nodes) = self.nodes.as_mut() else { return };
        nodes.batch_start = None;
        nodes.account(now);
        let on_nodes = self.primary.billed() - nodes.pending.len() as u32;
        for _ in 0..nodes.launch_for_pending(on_nodes) {
            let delay = nodes.spec.provision_delay.sample(&mut self.rng.nodes);
            q.push(now.saturating_add(delay), Ev::NodeReady);
        }
    }

    /// A scan of the node autoscaler: launches nodes for pending workers,
    /// removes unneeded ones, and schedules the next scan.
    /// A launched node is ready: pending workers may be placed on it.
    #[cold]
    #[inline(never)]
    pub(super) fn on_node_ready(&mut self, now: Tick, q: &mut EventQueue<Ev>) {
        if let Some(nodes) = self.nodes.as_mut() {
            nodes.node_ready(now);
            self.place_pending(now, q);
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn on_node_scan(&mut self, now: Tick, q: &mut EventQueue<Ev>) {
        self.place_pending(now, q);
        let Some(nodes) = self.nodes.as_mut() else { return };
        let on_nodes = self.primary.billed() - nodes.pending.len() as u32;
        let d = nodes.scan(now, on_nodes);
        for _ in 0..d.launch {
            let delay = nodes.spec.provision_delay.sample(&mut self.rng.nodes);
            q.push(now.saturating_add(delay), Ev::NodeReady);
        }
        q.push(now.saturating_add(nodes.spec.scan_interval), Ev::NodeScan);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;

    fn spec() -> NodesSpec {
        NodesSpec {
            workers_per_node: 4,
            provision_delay: Dist::Deterministic { value: 60.0 },
            initial: 2,
            min: 1,
            max: 5,
            scan_interval: Tick::from_secs(10),
            scale_down_unneeded_time: Tick::from_secs(600),
            batch: None,
        }
    }

    fn pend(n: u32) -> VecDeque<Pending> {
        (0..n).map(|w| Pending { worker: w, generation: 1, delay: Tick::ZERO }).collect()
    }

    #[test]
    fn scale_up_covers_pending_beyond_nodes_on_their_way_up_to_max() {
        let s = spec();
        let mut n = Nodes::new(&s, Tick::ZERO);
        // 8 places, all taken; 9 pending need ceil(9 / 4) = 3 nodes.
        n.pending = pend(9);
        assert_eq!(n.scan(Tick::from_secs(10), 8).launch, 3);
        // Those 3 nodes (12 places) cover 9 pending: nothing more next scan.
        assert_eq!(n.scan(Tick::from_secs(20), 8).launch, 0);
        // 20 pending: 8 more places needed = 2 nodes, but max 5 allows none.
        n.pending = pend(20);
        assert_eq!(n.scan(Tick::from_secs(30), 8).launch, 0);
    }

    #[test]
    fn unneeded_nodes_go_after_the_unneeded_time_down_to_min() {
        let s = spec();
        let mut n = Nodes::new(&s, Tick::ZERO);
        // No workers: both nodes unneeded above min 1, so one may go.
        assert_eq!(n.scan(Tick::ZERO, 0).removed, 0);
        assert_eq!(n.scan(Tick::from_secs(590), 0).removed, 0);
        assert_eq!(n.scan(Tick::from_secs(600), 0).removed, 1);
        assert_eq!(n.ready, 1);
        // Billed: 2 nodes for 600 s.
        assert_eq!(n.node_seconds(), 1200.0);
    }

    #[test]
    fn a_node_needed_again_restarts_its_unneeded_clock() {
        let s = spec();
        let mut n = Nodes::new(&s, Tick::ZERO);
        n.scan(Tick::ZERO, 4);
        n.scan(Tick::from_secs(300), 5);
        assert_eq!(n.scan(Tick::from_secs(600), 4).removed, 0);
        assert_eq!(n.scan(Tick::from_secs(1190), 4).removed, 0);
        assert_eq!(n.scan(Tick::from_secs(1200), 4).removed, 1);
    }
}
