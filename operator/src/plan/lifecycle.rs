//! Groups that come and go: a new group is started and given the cluster's topics and
//! subscription groups before it counts as synced; a removed group is drained — writes off on
//! every name server, the clients' route refresh waited out, every consumer group done with
//! it — before it is deleted.
//!
//! A drain deletes a group with messages left only when the user forces it (the driver's
//! `force` annotation or flag) or set a drain timeout and it has passed since writes came
//! off; an unmeasured count is never taken for zero.

use super::namesrv::ordinal;
use super::{Action, Policy, Snapshot, Step, Wait};

/// The step of the first group of the spec that is not started or not synced yet.
pub fn next_new_group(snapshot: &Snapshot) -> Option<Step> {
    for group in snapshot.kept() {
        if group.synced {
            continue;
        }
        let sources: Vec<_> = snapshot
            .kept()
            .filter(|g| g.index != group.index && g.synced)
            .collect();
        if sources.is_empty() {
            // A new cluster, or every group is new: there is nothing to copy.
            return Some(Step::Act(Action::MarkSynced(group.index)));
        }
        if let Some(m) = (0..group.desired.len()).find(|&m| {
            group
                .member(ordinal(m))
                .is_none_or(|member| member.running.is_none())
        }) {
            return Some(Step::Act(Action::StartMember {
                group: group.index,
                member: ordinal(m),
            }));
        }
        if !group.member(0).is_some_and(|m| m.ready) {
            return Some(Step::Wait(Wait::MemberNotReady {
                group: group.index,
                member: 0,
            }));
        }
        let Some(source) = sources
            .iter()
            .find(|g| g.member(0).is_some_and(|m| m.ready))
        else {
            return Some(Step::Wait(Wait::NoSyncSource(group.index)));
        };
        return Some(match group.metadata_missing {
            None => Step::Wait(Wait::MetadataUnknown(group.index)),
            Some(0) => Step::Act(Action::MarkSynced(group.index)),
            Some(_) => Step::Act(Action::SyncMetadata {
                from: source.index,
                to: group.index,
            }),
        });
    }
    None
}

/// The step of the highest removed group still running.
pub fn next_removed_group(snapshot: &Snapshot, policy: &Policy) -> Option<Step> {
    let group = snapshot.removed().max_by_key(|g| g.index)?;
    if !group.writes.none() || group.writes_held_since.is_none() {
        return Some(Step::Act(Action::HoldWrites(group.index)));
    }
    let since = group.writes_held_since.unwrap_or(snapshot.now);
    let waited = snapshot.now.saturating_sub(since);
    if waited < policy.route_refresh {
        return Some(Step::Wait(Wait::RoutesRefresh {
            group: group.index,
            left: policy.route_refresh - waited,
        }));
    }
    let timed_out = policy.drain_timeout.is_some_and(|t| waited >= t);
    if group.messages_left == Some(0) || group.force_delete || timed_out {
        return Some(Step::Act(Action::DeleteGroup(group.index)));
    }
    Some(Step::Wait(Wait::Draining {
        group: group.index,
        messages_left: group.messages_left,
    }))
}
