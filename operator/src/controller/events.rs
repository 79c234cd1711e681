//! Events that explain what the operator did and why (`kubectl describe rocketcluster`).
//!
//! Choosing an event is pure; publishing is best effort: a failure to publish is logged and does
//! not fail the reconcile.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder};

use super::status::has_condition;
use crate::build::names;
use crate::build::rollout::RolloutPlan;
use crate::crd::{ConditionType, RocketClusterStatus};
use crate::validate::ValidatedCluster;

/// Warning event for an invalid spec, unless the previous status already reported the same
/// problems.
pub fn invalid_spec(old: Option<&RocketClusterStatus>, new: &RocketClusterStatus) -> Option<Event> {
    let message = has_condition(Some(new), ConditionType::Degraded, "InvalidSpec")?;
    if has_condition(old, ConditionType::Degraded, "InvalidSpec").as_ref() == Some(&message) {
        return None;
    }
    Some(Event {
        type_: EventType::Warning,
        reason: "InvalidSpec".to_owned(),
        note: Some(truncate(message)),
        action: "Validate".to_owned(),
        secondary: None,
    })
}

/// Warning event for children the API server refused, unless the previous status already
/// reported the same.
pub fn apply_failed(old: Option<&RocketClusterStatus>, new: &RocketClusterStatus) -> Option<Event> {
    let message = has_condition(Some(new), ConditionType::Degraded, "ApplyFailed")?;
    if has_condition(old, ConditionType::Degraded, "ApplyFailed").as_ref() == Some(&message) {
        return None;
    }
    Some(Event {
        type_: EventType::Warning,
        reason: "ApplyFailed".to_owned(),
        note: Some(truncate(message)),
        action: "Apply".to_owned(),
        secondary: None,
    })
}

/// One event for the StatefulSets recreated for their volumes: which claims grew, and that
/// the pods kept running.
pub fn storage_grown(recreated: &[crate::build::volumes::Recreate]) -> Option<Event> {
    if recreated.is_empty() {
        return None;
    }
    let parts: Vec<String> = recreated
        .iter()
        .map(|r| match r.claims.first() {
            Some(first) => format!(
                "expanded claims {} to {}; recreated StatefulSet {} keeping its pods",
                r.claims
                    .iter()
                    .map(|c| c.claim.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                first.size.0,
                r.stateful_set
            ),
            None => format!(
                "recreated StatefulSet {} with its new volumes, keeping its pods",
                r.stateful_set
            ),
        })
        .collect();
    Some(Event {
        type_: EventType::Normal,
        reason: "StorageExpanded".to_owned(),
        note: Some(truncate(parts.join("; "))),
        action: "Expand".to_owned(),
        secondary: None,
    })
}

/// Events of the group lifecycle: a drain started (writes off), a new group given the
/// cluster's topics.
pub fn lifecycle(outcome: &super::lifecycle::Outcome) -> Vec<Event> {
    let mut events = Vec::new();
    if !outcome.held.is_empty() {
        events.push(Event {
            type_: EventType::Normal,
            reason: "DrainStarted".to_owned(),
            note: Some(truncate(format!(
                "took writes off {} on every name server; deleted once its consumers have consumed everything on it",
                outcome.held.join(", ")
            ))),
            action: "Drain".to_owned(),
            secondary: None,
        });
    }
    if !outcome.roll_held.is_empty() {
        events.push(Event {
            type_: EventType::Normal,
            reason: "WritesHeld".to_owned(),
            note: Some(truncate(format!(
                "took writes off {} on every name server for its roll: other groups take the sends while its pods restart",
                outcome.roll_held.join(", ")
            ))),
            action: "Roll".to_owned(),
            secondary: None,
        });
    }
    if !outcome.released.is_empty() {
        events.push(Event {
            type_: EventType::Normal,
            reason: "WritesReleased".to_owned(),
            note: Some(truncate(format!(
                "gave writes back to {}: every pod runs the new template, ready and caught up",
                outcome.released.join(", ")
            ))),
            action: "Roll".to_owned(),
            secondary: None,
        });
    }
    if !outcome.synced.is_empty() {
        events.push(Event {
            type_: EventType::Normal,
            reason: "TopicsSynced".to_owned(),
            note: Some(truncate(format!(
                "gave {} the topics and subscription groups of a live master",
                outcome.synced.join(", ")
            ))),
            action: "Sync".to_owned(),
            secondary: None,
        });
    }
    events
}

/// Event for brokers given a new name-server list.
pub fn namesrvs_given(outcome: &super::namesrvs::Outcome) -> Option<Event> {
    if outcome.told.is_empty() {
        return None;
    }
    Some(Event {
        type_: EventType::Normal,
        reason: "NameServersGiven".to_owned(),
        note: Some(truncate(format!(
            "gave {} the name-server list {} (no restart)",
            outcome.told.join(", "),
            outcome.remember.as_deref().unwrap_or("of the spec")
        ))),
        action: "UpdateBrokerConfig".to_owned(),
        secondary: None,
    })
}

/// Event for entering the paused state, unless already paused.
pub fn paused(old: Option<&RocketClusterStatus>) -> Option<Event> {
    if has_condition(old, ConditionType::ReconciliationPaused, "PausedBySpec").is_some() {
        return None;
    }
    Some(Event {
        type_: EventType::Normal,
        reason: "ReconciliationPaused".to_owned(),
        note: Some("spec.clusterOperation.reconciliationPaused is true: child objects are left as they are".to_owned()),
        action: "Pause".to_owned(),
        secondary: None,
    })
}

/// Events for what an apply changed: created groups, rolling restarts, removed groups.
pub fn after_apply(
    cluster: &ValidatedCluster,
    live: &[StatefulSet],
    plan: &RolloutPlan,
    removed: &[String],
) -> Vec<Event> {
    let mut out = Vec::new();
    let group_names = |groups: &[u32]| {
        groups
            .iter()
            .map(|g| names::broker_group(cluster, *g))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let namesrv = names::namesrv(cluster);
    if !live
        .iter()
        .any(|s| s.metadata.name.as_deref() == Some(namesrv.as_str()))
    {
        out.push(normal(
            "NameServersCreated",
            "Create",
            format!(
                "created {namesrv} with {} name servers",
                cluster.name_servers()
            ),
        ));
    }
    if !plan.created.is_empty() {
        out.push(normal(
            "GroupsCreated",
            "Create",
            format!(
                "created broker groups {} ({} pods each)",
                group_names(&plan.created),
                cluster.pods_per_group()
            ),
        ));
    }
    if !plan.changed.is_empty() {
        let first = plan
            .rolling
            .map(|g| names::broker_group(cluster, g))
            .unwrap_or_default();
        out.push(normal(
            "RollingRestart",
            "Roll",
            format!(
                "the rendered config or image of {} changed: rolling one group at a time, slaves before master, starting with {first}",
                group_names(&plan.changed)
            ),
        ));
    }
    if !removed.is_empty() {
        out.push(normal(
            "GroupsRemoved",
            "Delete",
            format!(
                "deleted broker groups {} (spec.broker.groups is {}); their volumes follow pvcRetention.whenDeleted",
                removed.join(", "),
                cluster.groups()
            ),
        ));
    }
    out
}

/// Publishes `event` about `reference`; failures are logged, not returned.
pub async fn publish(recorder: &Recorder, event: &Event, reference: &ObjectReference) {
    if let Err(error) = recorder.publish(event, reference).await {
        tracing::warn!(%error, reason = %event.reason, "failed to publish event");
    }
}

fn normal(reason: &str, action: &str, note: String) -> Event {
    Event {
        type_: EventType::Normal,
        reason: reason.to_owned(),
        note: Some(truncate(note)),
        action: action.to_owned(),
        secondary: None,
    }
}

/// Event notes are limited to 1 kB.
fn truncate(mut note: String) -> String {
    if note.len() > 1000 {
        let mut cut = 1000;
        while !note.is_char_boundary(cut) {
            cut -= 1;
        }
        note.truncate(cut);
        note.push('…');
    }
    note
}
