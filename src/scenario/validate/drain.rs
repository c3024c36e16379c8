//! `[primary]` scale-down fields: which workers go (`scale_down_victim`) and
//! how long their calls may run on (`drain_grace`).
//!
//! Defaults follow Kubernetes: a ReplicaSet scaling down deletes pods that
//! are not ready first, then the most recently created/ready ones
//! (`ActivePodsWithRanks.Less` in kubernetes/kubernetes
//! `pkg/controller/controller_utils.go`; "Scaling a ReplicaSet" in the
//! ReplicaSet documentation), and a terminating pod's containers are killed
//! when `terminationGracePeriodSeconds` ends, 30 s by default (PodSpec API
//! reference; "Termination of Pods" in the Pod lifecycle documentation).

use super::ctx::{Ctx, R};
use crate::scenario::raw::RawPrimary;
use crate::scenario::Victim;
use crate::time::Tick;

/// Kubernetes' default `terminationGracePeriodSeconds`.
pub const DEFAULT_DRAIN_GRACE: Tick = Tick::from_secs(30);

pub(super) fn validate_scale_down(cx: &Ctx, p: &RawPrimary) -> R<(Victim, Option<Tick>)> {
    let victim = match p.scale_down_victim.as_deref() {
        None | Some("newest") => Victim::Newest,
        Some("least_loaded") => Victim::LeastLoaded,
        Some(other) => {
            return cx.err("primary.scale_down_victim", format!("{other:?}: expected \"newest\" or \"least_loaded\""))
        }
    };
    let grace = match p.drain_grace {
        None => Some(DEFAULT_DRAIN_GRACE),
        Some(l) => l.0,
    };
    Ok((victim, grace))
}
