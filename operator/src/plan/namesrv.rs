//! Name servers first: start the missing, restart the changed one at a time, tell every broker
//! the new list, then stop the ones beyond the spec.
//!
//! Brokers learn a new list from the driver (UPDATE_BROKER_CONFIG `namesrvAddr`, which the
//! broker applies at once and registers with), never from a restart, so adding or removing a
//! name server restarts no broker. Removed name servers stop only after every broker has been
//! given the list without them.

use super::{Action, Snapshot, Step, Wait};

/// The name-server step, or `None` when the name servers are as the spec asks.
pub fn next(snapshot: &Snapshot) -> Option<Step> {
    let desired = &snapshot.namesrv_desired;
    for (i, _) in desired.iter().enumerate() {
        if snapshot.namesrvs.get(i).is_none_or(|n| n.running.is_none()) {
            return Some(Step::Act(Action::StartNamesrv(ordinal(i))));
        }
    }
    for (i, _) in desired.iter().enumerate() {
        if !snapshot.namesrvs[i].ready {
            return Some(Step::Wait(Wait::NamesrvNotReady(ordinal(i))));
        }
    }
    for (i, hash) in desired.iter().enumerate() {
        if snapshot.namesrvs[i].running.as_ref() != Some(hash) {
            return Some(Step::Act(Action::RestartNamesrv(ordinal(i))));
        }
    }
    for group in &snapshot.groups {
        for (m, member) in group.members.iter().enumerate() {
            if member.running.is_some() && !member.namesrvs_current {
                return Some(Step::Act(Action::TellNamesrvs {
                    group: group.index,
                    member: ordinal(m),
                }));
            }
        }
    }
    let beyond = snapshot
        .namesrvs
        .iter()
        .enumerate()
        .skip(desired.len())
        .rev()
        .find(|(_, n)| n.running.is_some());
    beyond.map(|(i, _)| Step::Act(Action::StopNamesrv(ordinal(i))))
}

/// Ordinals are small (validation caps every count far below `u32::MAX`).
pub(super) fn ordinal(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}
