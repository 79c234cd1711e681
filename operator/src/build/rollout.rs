//! One group rolls at a time: a pure decision over the live StatefulSets.
//!
//! Within a group, `RollingUpdate` already replaces the highest ordinal first (slaves before the
//! master) and one pod at a time. Across groups the operator sets each StatefulSet's
//! `rollingUpdate.partition`: the lowest-numbered group that is still changing rolls
//! (`partition: 0`), every other group that has a change waits (`partition: replicas`, so no pod
//! is replaced) until the rolling group is settled — all pods updated and Ready. A group that is
//! unhealthy for another reason therefore also holds back the others: rolling more brokers while
//! one group is down is what the gate is there to prevent.
//!
//! Why `partition` and not `OnDelete`: with `OnDelete` the operator would have to delete pods
//! itself and track readiness between deletions; `partition` leaves pod replacement, ordering and
//! readiness waiting to the StatefulSet controller and keeps the reconcile level-triggered.

use k8s_openapi::api::apps::v1::StatefulSet;

use super::ClusterResources;
use super::labels::BROKER_GROUP;
use super::pod::TEMPLATE_HASH_ANNOTATION;

/// What the gate decided for the broker groups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RolloutPlan {
    /// The group allowed to replace pods now.
    pub rolling: Option<u32>,
    /// Groups with a change, held until `rolling` settles.
    pub held: Vec<u32>,
    /// Groups whose pod template changed in this reconcile (config or image): they roll.
    pub changed: Vec<u32>,
    /// Groups that have no StatefulSet yet.
    pub created: Vec<u32>,
}

/// Decides which group rolls and sets the `partition` of every broker StatefulSet in `desired`.
pub fn gate(desired: &mut ClusterResources, live: &[StatefulSet]) -> RolloutPlan {
    let mut plan = RolloutPlan::default();
    for sts in desired.stateful_sets.iter_mut() {
        let Some(group) = group_of(sts) else {
            continue;
        };
        let Some(current) = live.iter().find(|l| l.metadata.name == sts.metadata.name) else {
            plan.created.push(group);
            continue;
        };
        let changed = template_hash(current) != template_hash(sts);
        if changed {
            plan.changed.push(group);
        }
        if !changed && is_settled(current) {
            continue;
        }
        if plan.rolling.is_none() {
            plan.rolling = Some(group);
        } else {
            plan.held.push(group);
            hold(sts);
        }
    }
    plan
}

/// True when every pod of `sts` runs its latest template and is Ready.
pub fn is_settled(sts: &StatefulSet) -> bool {
    let replicas = sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(status) = sts.status.as_ref() else {
        return false;
    };
    status.observed_generation.unwrap_or(0) >= sts.metadata.generation.unwrap_or(0)
        && status.ready_replicas.unwrap_or(0) == replicas
        && status.updated_replicas.unwrap_or(0) == replicas
        && status.current_revision == status.update_revision
}

/// The broker group index of a StatefulSet, from its label.
pub fn group_of(sts: &StatefulSet) -> Option<u32> {
    sts.metadata
        .labels
        .as_ref()?
        .get(BROKER_GROUP)?
        .parse()
        .ok()
}

fn template_hash(sts: &StatefulSet) -> Option<&String> {
    sts.metadata
        .annotations
        .as_ref()?
        .get(TEMPLATE_HASH_ANNOTATION)
}

fn hold(sts: &mut StatefulSet) {
    if let Some(spec) = sts.spec.as_mut() {
        let replicas = spec.replicas;
        if let Some(ru) = spec
            .update_strategy
            .as_mut()
            .and_then(|u| u.rolling_update.as_mut())
        {
            ru.partition = replicas;
        }
    }
}
