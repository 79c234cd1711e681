//! Which pods of a broker group may take a new template: a pure decision over the live
//! StatefulSets, applied through each StatefulSet's `rollingUpdate.partition` (pods at or above
//! the partition are replaced with the update revision, highest ordinal first).
//!
//! - A group whose template changed is applied with `partition: replicas`: no pod is replaced
//!   and a pod that restarts on its own comes back with the template (and ConfigMap) it had.
//!   The change planner then lowers the partition one pod at a time, once the group's writes
//!   are off and, for the master, once every slave has caught up
//!   ([`crate::controller::roll`]).
//! - A group whose template did not change keeps the partition the planner set.
//! - A new group starts at `partition: 0`.
//!
//! `rolling` and `held` say which group the roll works on and which wait, for the status.

use k8s_openapi::api::apps::v1::StatefulSet;

use super::ClusterResources;
use super::labels::BROKER_GROUP;
use super::pod::TEMPLATE_HASH_ANNOTATION;

/// What the gate decided for the broker groups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RolloutPlan {
    /// The group a roll works on now: the first that changed or is not settled.
    pub rolling: Option<u32>,
    /// Groups with a change, waiting for `rolling` to settle.
    pub held: Vec<u32>,
    /// Groups whose pod template changed in this reconcile (config or image): they roll.
    pub changed: Vec<u32>,
    /// Groups that have no StatefulSet yet.
    pub created: Vec<u32>,
}

/// Sets the `partition` of every broker StatefulSet in `desired` and says which group rolls.
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
            set_partition(sts, replicas(sts));
        } else {
            let kept = partition(current).unwrap_or(0).min(replicas(sts));
            set_partition(sts, kept);
        }
        if !changed && is_settled(current) {
            continue;
        }
        if plan.rolling.is_none() {
            plan.rolling = Some(group);
        } else if changed {
            plan.held.push(group);
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

fn replicas(sts: &StatefulSet) -> i32 {
    sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// The `rollingUpdate.partition` of `sts`.
pub fn partition(sts: &StatefulSet) -> Option<i32> {
    sts.spec
        .as_ref()?
        .update_strategy
        .as_ref()?
        .rolling_update
        .as_ref()?
        .partition
}

fn set_partition(sts: &mut StatefulSet, partition: i32) {
    if let Some(ru) = sts
        .spec
        .as_mut()
        .and_then(|s| s.update_strategy.as_mut())
        .and_then(|u| u.rolling_update.as_mut())
    {
        ru.partition = Some(partition);
    }
}
