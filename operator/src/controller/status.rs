//! Pure status computation: what the operator observed, as conditions and counts.
//!
//! `lastTransitionTime` is the only clock-derived field and changes only when a condition's
//! status changes, so an unchanged cluster produces an identical status and server-side apply of
//! it is a no-op (no self-triggered reconcile loop).

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

use crate::build::rollout::{self, RolloutPlan};
use crate::build::{external, labels, names};
use crate::crd::{ConditionType, GroupStatus, RocketCluster, RocketClusterStatus};
use crate::validate::{InvalidSpec, ValidatedCluster};

/// A condition to set: type, status, reason, message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// Condition type.
    pub type_: ConditionType,
    /// `True` or `False`.
    pub status: bool,
    /// CamelCase reason.
    pub reason: &'static str,
    /// Sentence for humans.
    pub message: String,
}

/// Status after an apply pass: `stateful_sets` are the objects the API server returned (or the
/// live ones where an apply failed), `failures` what it refused (`Degraded`, reason
/// `ApplyFailed`).
pub fn reconciled(
    cluster: &ValidatedCluster,
    stateful_sets: &[StatefulSet],
    plan: &RolloutPlan,
    failures: &[String],
    old: Option<&RocketClusterStatus>,
    now: Timestamp,
) -> RocketClusterStatus {
    let namesrv_name = names::namesrv(cluster);
    let namesrv = stateful_sets
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(namesrv_name.as_str()));
    let namesrv_ready = ready(namesrv);
    let groups: Vec<GroupStatus> = (0..cluster.groups())
        .map(|g| {
            let name = names::broker_group(cluster, g);
            let sts = stateful_sets
                .iter()
                .find(|s| s.metadata.name.as_deref() == Some(name.as_str()));
            GroupStatus {
                name,
                replicas: i32::try_from(cluster.pods_per_group()).unwrap_or(0),
                ready_replicas: ready(sts),
                updated_replicas: sts
                    .and_then(|s| s.status.as_ref())
                    .and_then(|s| s.updated_replicas)
                    .unwrap_or(0),
            }
        })
        .collect();

    let mut missing = Vec::new();
    if namesrv_ready < cluster.spec.name_server.replicas {
        missing.push(format!(
            "name servers {namesrv_ready}/{} ready",
            cluster.spec.name_server.replicas
        ));
    }
    for g in &groups {
        if g.ready_replicas < g.replicas {
            missing.push(format!(
                "{} {}/{} ready",
                g.name, g.ready_replicas, g.replicas
            ));
        }
    }
    let available = if missing.is_empty() {
        Wanted {
            type_: ConditionType::Available,
            status: true,
            reason: "AllReplicasReady",
            message: "every name server and broker pod is ready".to_owned(),
        }
    } else {
        Wanted {
            type_: ConditionType::Available,
            status: false,
            reason: "ReplicasNotReady",
            message: missing.join(", "),
        }
    };

    let unsettled: Vec<&str> = stateful_sets
        .iter()
        .filter(|s| !rollout::is_settled(s))
        .filter_map(|s| s.metadata.name.as_deref())
        .collect();
    let progressing = if let Some(group) = plan.rolling {
        let mut message = format!(
            "rolling {} (slaves before master)",
            names::broker_group(cluster, group)
        );
        if !plan.held.is_empty() {
            let held: Vec<_> = plan
                .held
                .iter()
                .map(|g| names::broker_group(cluster, *g))
                .collect();
            message.push_str(&format!("; waiting: {}", held.join(", ")));
        }
        Wanted {
            type_: ConditionType::Progressing,
            status: true,
            reason: "RollingUpdate",
            message,
        }
    } else if !unsettled.is_empty() {
        Wanted {
            type_: ConditionType::Progressing,
            status: true,
            reason: "PodsStarting",
            message: format!("waiting for {}", unsettled.join(", ")),
        }
    } else {
        Wanted {
            type_: ConditionType::Progressing,
            status: false,
            reason: "Settled",
            message: "every pod runs the current configuration".to_owned(),
        }
    };
    let wanted = [
        available,
        progressing,
        if failures.is_empty() {
            Wanted {
                type_: ConditionType::Degraded,
                status: false,
                reason: "ReconcileSucceeded",
                message: "the spec is valid and every child object is applied".to_owned(),
            }
        } else {
            Wanted {
                type_: ConditionType::Degraded,
                status: true,
                reason: "ApplyFailed",
                message: format!(
                    "not applied (every other child object is): {}",
                    failures.join("; ")
                ),
            }
        },
        not_paused(),
    ];
    RocketClusterStatus {
        observed_generation: cluster.generation,
        conditions: conditions(&wanted, old, cluster.generation, now),
        name_server_address: Some(names::namesrv_addr(cluster)),
        name_server_ready_replicas: namesrv_ready,
        broker_groups: cluster.spec.broker.groups,
        selector: Some(labels::broker_pods(&cluster.name)),
        groups,
        // Filled in by `with_lifecycle` and `with_namesrv_list`.
        synced_groups: None,
        drains: Vec::new(),
        brokers_name_server_address: None,
        roll: None,
        // Filled in by `with_external`.
        external_addresses: Vec::new(),
        external_name_server_address: None,
    }
}

/// The pods reachable from outside, with what their live Services told (`observed`).
pub fn with_external(
    status: &mut RocketClusterStatus,
    cluster: &ValidatedCluster,
    observed: &external::Observed,
) {
    let (entries, namesrv_addr) = external::status(cluster, observed);
    status.external_addresses = entries;
    status.external_name_server_address = namesrv_addr;
}

/// The group lifecycle's memory into `status`, and `Progressing` saying what a drain or a
/// topic sync waits for.
pub fn with_lifecycle(
    status: &mut RocketClusterStatus,
    outcome: &super::lifecycle::Outcome,
    old: Option<&RocketClusterStatus>,
    generation: Option<i64>,
    now: Timestamp,
) {
    status.synced_groups = outcome.synced_groups.clone();
    status.drains = outcome.drains.clone();
    status.roll = outcome.roll.clone();
    let Some(waiting) = &outcome.waiting else {
        return;
    };
    if let Some(roll) = status.roll.as_mut() {
        roll.message = format!("waiting for {waiting}");
    }
    let reason = match outcome.reason {
        "" if outcome.drains.is_empty() => "SyncingTopics",
        "" => "Draining",
        reason => reason,
    };
    progressing(status, reason, waiting, old, generation, now);
}

/// The brokers' name-server list into `status`, and `Progressing` saying what giving them a new
/// one waits for (unless a drain or a topic sync already says what the cluster waits for).
pub fn with_namesrv_list(
    status: &mut RocketClusterStatus,
    outcome: &super::namesrvs::Outcome,
    remembered: String,
    old: Option<&RocketClusterStatus>,
    generation: Option<i64>,
    now: Timestamp,
) {
    status.brokers_name_server_address = Some(outcome.remember.clone().unwrap_or(remembered));
    let Some(waiting) = &outcome.waiting else {
        return;
    };
    if has_condition(Some(status), ConditionType::Progressing, "Draining").is_some()
        || has_condition(Some(status), ConditionType::Progressing, "SyncingTopics").is_some()
    {
        return;
    }
    progressing(status, "ChangingNameServers", waiting, old, generation, now);
}

/// `Progressing` set to `reason`, waiting for `waiting`.
fn progressing(
    status: &mut RocketClusterStatus,
    reason: &'static str,
    waiting: &str,
    old: Option<&RocketClusterStatus>,
    generation: Option<i64>,
    now: Timestamp,
) {
    let wanted = [Wanted {
        type_: ConditionType::Progressing,
        status: true,
        reason,
        message: format!("waiting for {waiting}"),
    }];
    let previous = old.map(|o| o.conditions.as_slice()).unwrap_or_default();
    let merged = merge(previous, &wanted, generation, now);
    let progressing = ConditionType::Progressing.as_str();
    if let (Some(new), Some(slot)) = (
        merged.into_iter().find(|c| c.type_ == progressing),
        status
            .conditions
            .iter_mut()
            .find(|c| c.type_ == progressing),
    ) {
        *slot = new;
    }
}

/// Status of a cluster whose spec failed validation: `Degraded` with every problem, the rest of
/// the previous status kept.
pub fn invalid(
    cluster: &RocketCluster,
    error: &InvalidSpec,
    old: Option<&RocketClusterStatus>,
    now: Timestamp,
) -> RocketClusterStatus {
    let generation = cluster.metadata.generation;
    let mut status = old.cloned().unwrap_or_default();
    status.observed_generation = generation;
    let wanted = [
        Wanted {
            type_: ConditionType::Degraded,
            status: true,
            reason: "InvalidSpec",
            message: format!("the spec was not applied: {error}"),
        },
        not_paused(),
    ];
    status.conditions = merge(&status.conditions, &wanted, generation, now);
    status
}

/// Status of a paused cluster: `ReconciliationPaused` set, the rest of the previous status kept.
pub fn paused(
    cluster: &RocketCluster,
    old: Option<&RocketClusterStatus>,
    now: Timestamp,
) -> RocketClusterStatus {
    let generation = cluster.metadata.generation;
    let mut status = old.cloned().unwrap_or_default();
    let wanted = [Wanted {
        type_: ConditionType::ReconciliationPaused,
        status: true,
        reason: "PausedBySpec",
        message: "spec.clusterOperation.reconciliationPaused is true: no child object is changed"
            .to_owned(),
    }];
    status.conditions = merge(&status.conditions, &wanted, generation, now);
    status
}

/// True when `status` has condition `type_` with status `True` and reason `reason`.
pub fn has_condition(
    status: Option<&RocketClusterStatus>,
    type_: ConditionType,
    reason: &str,
) -> Option<String> {
    status?
        .conditions
        .iter()
        .find(|c| c.type_ == type_.as_str() && c.status == "True" && c.reason == reason)
        .map(|c| c.message.clone())
}

fn not_paused() -> Wanted {
    Wanted {
        type_: ConditionType::ReconciliationPaused,
        status: false,
        reason: "Reconciling",
        message: "the operator applies the spec".to_owned(),
    }
}

fn ready(sts: Option<&StatefulSet>) -> i32 {
    sts.and_then(|s| s.status.as_ref())
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0)
}

fn conditions(
    wanted: &[Wanted],
    old: Option<&RocketClusterStatus>,
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let previous = old.map(|o| o.conditions.as_slice()).unwrap_or_default();
    merge(previous, wanted, generation, now)
}

/// `previous` with each `wanted` condition replaced; `lastTransitionTime` kept unless the status
/// flips. Conditions keep a fixed order (Available, Progressing, Degraded, ReconciliationPaused).
fn merge(
    previous: &[Condition],
    wanted: &[Wanted],
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let order = [
        ConditionType::Available,
        ConditionType::Progressing,
        ConditionType::Degraded,
        ConditionType::ReconciliationPaused,
    ];
    order
        .iter()
        .filter_map(|t| {
            let old = previous.iter().find(|c| c.type_ == t.as_str());
            match wanted.iter().find(|w| w.type_ == *t) {
                None => old.cloned(),
                Some(w) => {
                    let status = if w.status { "True" } else { "False" };
                    let last_transition_time = match old {
                        Some(o) if o.status == status => o.last_transition_time.clone(),
                        _ => Time(now),
                    };
                    Some(Condition {
                        type_: t.as_str().to_owned(),
                        status: status.to_owned(),
                        reason: w.reason.to_owned(),
                        message: w.message.clone(),
                        observed_generation: generation,
                        last_transition_time,
                    })
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::build;
    use crate::build::tests::validated;
    use k8s_openapi::api::apps::v1::StatefulSetStatus;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).expect("valid timestamp")
    }

    fn with_ready(mut sets: Vec<StatefulSet>, ready: i32) -> Vec<StatefulSet> {
        for s in &mut sets {
            let replicas = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            s.status = Some(StatefulSetStatus {
                replicas,
                ready_replicas: Some(ready.min(replicas)),
                updated_replicas: Some(replicas),
                ..StatefulSetStatus::default()
            });
        }
        sets
    }

    #[test]
    fn all_pods_ready_makes_the_cluster_available_and_settled() {
        let c = validated("spec: {broker: {groups: 2, replicasPerGroup: 1}}");
        let sets = with_ready(build(&c).stateful_sets, 9);
        let s = reconciled(&c, &sets, &RolloutPlan::default(), &[], None, at(100));
        let summary: Vec<_> = s
            .conditions
            .iter()
            .map(|c| (c.type_.as_str(), c.status.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("Available", "True"),
                ("Progressing", "False"),
                ("Degraded", "False"),
                ("ReconciliationPaused", "False")
            ]
        );
        assert_eq!(s.groups[1].ready_replicas, 2);
        assert_eq!(s.broker_groups, 2);
        assert_eq!(s.observed_generation, Some(1));
    }

    #[test]
    fn unready_pods_are_named_in_the_available_message() {
        let c = validated("spec: {broker: {replicasPerGroup: 1}}");
        let sets = with_ready(build(&c).stateful_sets, 1);
        let s = reconciled(&c, &sets, &RolloutPlan::default(), &[], None, at(100));
        assert_eq!(s.conditions[0].status, "False");
        assert_eq!(
            s.conditions[0].message,
            "name servers 1/2 ready, demo-broker-0 1/2 ready"
        );
    }

    #[test]
    fn transition_time_is_kept_while_a_condition_keeps_its_status() {
        let c = validated("spec: {}");
        let sets = with_ready(build(&c).stateful_sets, 9);
        let first = reconciled(&c, &sets, &RolloutPlan::default(), &[], None, at(100));
        let second = reconciled(
            &c,
            &sets,
            &RolloutPlan::default(),
            &[],
            Some(&first),
            at(200),
        );
        assert_eq!(first, second);
        let unready = with_ready(build(&c).stateful_sets, 0);
        let third = reconciled(
            &c,
            &unready,
            &RolloutPlan::default(),
            &[],
            Some(&second),
            at(300),
        );
        assert_eq!(third.conditions[0].last_transition_time, Time(at(300)));
        assert_eq!(third.conditions[2].last_transition_time, Time(at(100)));
    }

    #[test]
    fn a_refused_child_sets_degraded_naming_it_while_the_rest_is_reported() {
        let c = validated("spec: {}");
        let sets = with_ready(build(&c).stateful_sets, 9);
        let failures = ["failed to apply StatefulSet demo-broker-0: Forbidden: spec: updates to statefulset spec for fields other than ... are forbidden".to_owned()];
        let s = reconciled(&c, &sets, &RolloutPlan::default(), &failures, None, at(100));
        let degraded = &s.conditions[2];
        assert_eq!(
            (degraded.status.as_str(), degraded.reason.as_str()),
            ("True", "ApplyFailed")
        );
        assert!(
            degraded.message.contains("StatefulSet demo-broker-0"),
            "{}",
            degraded.message
        );
        assert_eq!(
            s.conditions[0].status, "True",
            "readiness is still reported"
        );
        assert_eq!(s.observed_generation, Some(1));
    }
}
