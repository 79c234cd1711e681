//! Rolls of broker groups, driven by the change planner ([`crate::plan::roll`]) over the
//! StatefulSets' `rollingUpdate.partition`: a group whose template changed is applied with
//! every pod held ([`crate::build::rollout::gate`]); the planner then takes its writes off
//! while another group takes them, waits out the clients' route refresh and the last sends,
//! and lowers the partition one pod at a time — slaves highest first, each ready and caught up
//! before the next, then the master — and gives the writes back once the group is settled.
//!
//! ```text
//! live StatefulSet (template hash, updateRevision) + pod (controller-revision-hash)
//!     ──running (pure)──▶ Member.running: the desired hash or PREVIOUS
//! RestartMember{g, m} ──▶ partition m on group g's StatefulSet: the StatefulSet controller
//!                         replaces pod m with the update revision
//! HoldWrites / ReleaseWrites ──▶ admin API; status.roll remembers since when writes are off
//! ```

use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::jiff::Timestamp;

use super::admin::ClusterAdmin;
use super::apply::PodSeen;
use crate::build::names;
use crate::build::pod::TEMPLATE_HASH_ANNOTATION;
use crate::build::rollout::group_of;
use crate::crd::RollStatus;
use crate::plan::{Millis, Policy, Snapshot, Wait};
use crate::validate::ValidatedCluster;

/// What a pod of an earlier template is shown running.
pub const PREVIOUS: &str = "previous";
/// How long the last sends are watched for on a held group's master.
pub const SENDS_WINDOW: Duration = Duration::from_secs(2);

/// The template hash group `g`'s pods should run: its desired StatefulSet's.
pub fn desired_hash(desired: &[StatefulSet], g: u32) -> Option<String> {
    desired
        .iter()
        .find(|s| group_of(s) == Some(g))
        .and_then(template_hash)
}

/// The template hash a StatefulSet carries.
pub fn template_hash(sts: &StatefulSet) -> Option<String> {
    sts.metadata
        .annotations
        .as_ref()?
        .get(TEMPLATE_HASH_ANNOTATION)
        .cloned()
}

/// What `pod` runs: `desired` when it was made from the update revision of a live StatefulSet
/// whose template is the desired one (and whose status is current), else [`PREVIOUS`].
pub fn running(live: Option<&StatefulSet>, desired: &str, pod: &PodSeen) -> String {
    let current = live.is_some_and(|sts| {
        let status = sts.status.as_ref();
        template_hash(sts).as_deref() == Some(desired)
            && status.and_then(|s| s.observed_generation) >= sts.metadata.generation
            && status.and_then(|s| s.update_revision.as_ref()).is_some()
            && status.and_then(|s| s.update_revision.as_ref()) == pod.revision.as_ref()
    });
    if current {
        desired.to_owned()
    } else {
        PREVIOUS.to_owned()
    }
}

/// The group a roll works on: the first group of the spec that runs something other than its
/// spec, or whose writes are still held.
pub fn rolling(snap: &Snapshot) -> Option<u32> {
    snap.kept()
        .find(|g| g.changed() || g.writes_held_since.is_some())
        .map(|g| g.index)
}

/// When writes came off group `name`, as remembered.
pub fn held_since(memory: Option<&RollStatus>, name: &str) -> Option<Millis> {
    memory
        .filter(|m| m.name == name)
        .and_then(|m| m.writes_held_since.as_deref()?.parse::<Timestamp>().ok())
        .and_then(|t| u64::try_from(t.as_millisecond()).ok())
}

/// The `Progressing` reason of a wait.
pub fn reason(snap: &Snapshot, wait: &Wait) -> &'static str {
    let group = match *wait {
        Wait::Draining { .. } => return "Draining",
        Wait::MetadataUnknown(_) | Wait::NoSyncSource(_) => return "SyncingTopics",
        Wait::NamesrvNotReady(_) => return "RollingUpdate",
        Wait::RoutesRefresh { group, .. } | Wait::MemberNotReady { group, .. } => group,
        Wait::SlaveBehind { group, .. }
        | Wait::SendsStillArriving(group)
        | Wait::OtherGroupUnhealthy { rolling: group, .. } => group,
    };
    match snap.group(group) {
        Some(g) if g.index >= snap.desired_groups => "Draining",
        Some(g) if !g.synced => "SyncingTopics",
        _ => "RollingUpdate",
    }
}

/// Fills in what a roll needs of the admin API: every group's writes, how far the rolling
/// group's slaves are behind its master, and, once its writes are off and the route refresh
/// is over, whether its master still stores sends (watched for [`SENDS_WINDOW`]).
pub async fn measure(
    admin: &dyn ClusterAdmin,
    cluster: &ValidatedCluster,
    snap: &mut Snapshot,
    policy: &Policy,
) {
    let Some(r) = rolling(snap) else {
        return;
    };
    let namesrvs = names::namesrv_hosts(cluster);
    let desired = snap.desired_groups;
    for group in snap.groups.iter_mut().filter(|g| g.index < desired) {
        group.writes = admin
            .writes(&namesrvs, &names::broker_group(cluster, group.index))
            .await;
    }
    let addr = |m: u32| {
        format!(
            "{}:{}",
            names::broker_pod_dns(cluster, r, m),
            names::BROKER_PORT
        )
    };
    let now = snap.now;
    let Some(group) = snap.groups.iter_mut().find(|g| g.index == r) else {
        return;
    };
    let master = admin.runtime(&addr(0)).await;
    for m in 1..group.members.len() {
        let Some(member) = group.members.get_mut(m) else {
            continue;
        };
        if member.running.is_none() || !member.ready {
            continue;
        }
        let slave = admin
            .runtime(&addr(u32::try_from(m).unwrap_or(u32::MAX)))
            .await;
        member.behind = match (
            master.and_then(|x| x.max_offset),
            slave.and_then(|x| x.max_offset),
        ) {
            (Some(master), Some(slave)) => Some(master.saturating_sub(slave)),
            _ => None,
        };
    }
    let refreshed = group
        .writes_held_since
        .is_some_and(|since| now.saturating_sub(since) >= policy.route_refresh);
    if refreshed && group.writes.none() {
        let before = master.and_then(|x| x.puts_today);
        tokio::time::sleep(SENDS_WINDOW).await;
        let after = admin.runtime(&addr(0)).await.and_then(|x| x.puts_today);
        group.sends_arriving = match (before, after) {
            (Some(before), Some(after)) => Some(after != before),
            _ => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::StatefulSetStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    fn live(hash: &str, generation: i64, observed: i64, update: &str) -> StatefulSet {
        StatefulSet {
            metadata: ObjectMeta {
                generation: Some(generation),
                annotations: Some([(TEMPLATE_HASH_ANNOTATION.to_owned(), hash.to_owned())].into()),
                ..ObjectMeta::default()
            },
            status: Some(StatefulSetStatus {
                observed_generation: Some(observed),
                update_revision: Some(update.to_owned()),
                ..StatefulSetStatus::default()
            }),
            ..StatefulSet::default()
        }
    }

    fn pod(revision: &str) -> PodSeen {
        PodSeen {
            ready: true,
            revision: Some(revision.to_owned()),
        }
    }

    #[test]
    fn a_pod_runs_the_spec_only_when_made_from_the_update_revision_of_the_desired_template() {
        let sts = live("h2", 3, 3, "rev-2");
        assert_eq!(running(Some(&sts), "h2", &pod("rev-2")), "h2");
        assert_eq!(running(Some(&sts), "h2", &pod("rev-1")), PREVIOUS);
        // The live template is not the desired one yet (applied in this pass).
        assert_eq!(running(Some(&sts), "h3", &pod("rev-2")), PREVIOUS);
        // The StatefulSet controller has not seen the latest generation: its revision is old.
        let stale = live("h2", 4, 3, "rev-2");
        assert_eq!(running(Some(&stale), "h2", &pod("rev-2")), PREVIOUS);
        assert_eq!(running(None, "h2", &pod("rev-2")), PREVIOUS);
        let unlabelled = PodSeen {
            ready: true,
            revision: None,
        };
        assert_eq!(running(Some(&sts), "h2", &unlabelled), PREVIOUS);
    }

    #[test]
    fn writes_held_are_remembered_for_the_named_group_only() {
        let memory = RollStatus {
            name: "demo-broker-1".into(),
            writes_held_since: Some("2027-01-15T08:00:00Z".into()),
            message: String::new(),
        };
        assert_eq!(
            held_since(Some(&memory), "demo-broker-1"),
            Some(1_800_000_000_000)
        );
        assert_eq!(held_since(Some(&memory), "demo-broker-0"), None);
        assert_eq!(held_since(None, "demo-broker-1"), None);
    }
}
