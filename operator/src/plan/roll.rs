//! A roll: one group at a time, and only while every other group is healthy: every
//! pod ready, every slave caught up.
//!
//! Within the rolling group:
//!
//! 1. writes come off the group on every name server (HOLD), when another group of the spec
//!    takes writes on every name server, the spec lets this group take them and the change
//!    restarts or stops a member (a slave more only starts one: writes stay on); then the
//!    clients' route refresh is waited out, so producers have moved to the other groups and a
//!    SYNC_MASTER never answers SLAVE_NOT_AVAILABLE for lack of a restarting slave — and then
//!    until the group's master stores no more sends, for clients that refresh late. With no
//!    other group to take them, writes stay on: a lone group cannot roll without refusing
//!    sends (a restarting slave of a SYNC_MASTER, a restarting master), and the roll goes on
//!    as gently as it can;
//! 2. ordinals beyond the spec stop, highest first;
//! 3. slaves, highest ordinal first: each started or restarted, then waited on until ready and
//!    caught up before the next;
//! 4. the master, only once every slave is ready and caught up; then the slaves are waited on
//!    again (they reconnect to the restarted master);
//! 5. writes come back (RELEASE) once the whole group is ready and caught up.
//!
//! A master that restarts registers its own permissions again, which gives writes back early;
//! the driver's memory (`writes_held_since`) says the group is still rolling, so step 1 takes
//! them off again at once.

use super::namesrv::ordinal;
use super::{Action, Group, Policy, Snapshot, Step, Wait, caught_up};

/// The step of the rolling group, or `None` when no group of the spec has a change.
pub fn next(snapshot: &Snapshot, policy: &Policy) -> Option<Step> {
    let rolling = snapshot
        .kept()
        .find(|g| g.changed() || g.writes_held_since.is_some())?;
    if let Some(other) = snapshot
        .kept()
        .find(|g| g.index != rolling.index && !g.healthy(policy))
    {
        return Some(Step::Wait(Wait::OtherGroupUnhealthy {
            rolling: rolling.index,
            unhealthy: other.index,
        }));
    }
    let others_take_writes = snapshot
        .kept()
        .any(|g| g.index != rolling.index && g.writable_by_spec && g.writes.all());
    if others_take_writes
        && rolling.writable_by_spec
        // A roll that took writes off keeps them off until the group settles.
        && (rolling.writes_held_since.is_some() || !only_starts(rolling))
        && let Some(step) = hold(rolling, snapshot.now, policy)
    {
        return Some(step);
    }
    if let Some(step) = members(rolling, policy) {
        return Some(step);
    }
    rolling
        .writes_held_since
        .map(|_| Step::Act(Action::ReleaseWrites(rolling.index)))
}

/// The group's change only starts members (a slave more): every member that runs, runs its
/// spec. Starting a slave restarts nothing and a SYNC_MASTER waits only for its best slave
/// (Apache's `isSlaveOK`), so the group keeps taking writes.
fn only_starts(group: &Group) -> bool {
    group.members.len() <= group.desired.len()
        && group
            .members
            .iter()
            .zip(&group.desired)
            .all(|(member, hash)| {
                member
                    .running
                    .as_ref()
                    .is_none_or(|running| running == hash)
            })
}

/// Writes off the rolling group and the route refresh waited out.
fn hold(group: &Group, now: u64, policy: &Policy) -> Option<Step> {
    let Some(since) = group.writes_held_since else {
        return Some(Step::Act(Action::HoldWrites(group.index)));
    };
    if !group.writes.none() {
        return Some(Step::Act(Action::HoldWrites(group.index)));
    }
    let waited = now.saturating_sub(since);
    if waited < policy.route_refresh {
        return Some(Step::Wait(Wait::RoutesRefresh {
            group: group.index,
            left: policy.route_refresh - waited,
        }));
    }
    // A client that has not refreshed (a longer poll interval, a stalled timer) still sends
    // here: restarting now would refuse its sends.
    (group.sends_arriving != Some(false))
        .then_some(Step::Wait(Wait::SendsStillArriving(group.index)))
}

/// Ordinals beyond the spec, then slaves highest first, then the master.
fn members(group: &Group, policy: &Policy) -> Option<Step> {
    let g = group.index;
    for m in (group.desired.len()..group.members.len()).rev() {
        if group.members[m].running.is_some() {
            return Some(Step::Act(Action::StopMember {
                group: g,
                member: ordinal(m),
            }));
        }
    }
    for m in (1..group.desired.len()).rev() {
        let member = ordinal(m);
        let Some(slave) = group.member(member).filter(|s| s.running.is_some()) else {
            return Some(Step::Act(Action::StartMember { group: g, member }));
        };
        if slave.running.as_ref() != Some(&group.desired[m]) {
            return Some(Step::Act(Action::RestartMember { group: g, member }));
        }
        if !slave.ready {
            return Some(Step::Wait(Wait::MemberNotReady { group: g, member }));
        }
        if !caught_up(slave, policy) {
            return Some(Step::Wait(Wait::SlaveBehind {
                group: g,
                member,
                behind: slave.behind,
            }));
        }
    }
    let hash = group.desired.first()?;
    let Some(master) = group.member(0).filter(|s| s.running.is_some()) else {
        return Some(Step::Act(Action::StartMember {
            group: g,
            member: 0,
        }));
    };
    if master.running.as_ref() != Some(hash) {
        return Some(Step::Act(Action::RestartMember {
            group: g,
            member: 0,
        }));
    }
    (!master.ready).then_some(Step::Wait(Wait::MemberNotReady {
        group: g,
        member: 0,
    }))
}
