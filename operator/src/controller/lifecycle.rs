//! Groups that come and go, driven by the change planner ([`crate::plan`]) over the
//! Kubernetes and admin APIs: a group removed from the spec (`spec.broker.groups` lowered, or
//! `kubectl scale`) is drained — writes off on every name server, the clients' route refresh
//! waited out, its consumers done with it — before its children are deleted; a group added is
//! given the topics and subscription groups of a live master before it counts as synced.
//!
//! ```text
//! live StatefulSets + pods (ready) + status memory (drains, syncedGroups) + admin API
//!     ──snapshot (pure)──▶ Snapshot ──plan::next──▶ HoldWrites | DeleteGroup | SyncMetadata |
//!                                                   MarkSynced | Wait ──▶ status, events
//! ```
//!
//! Rolls go through the same planner ([`super::roll`]): a pod runs its spec when it was made
//! from the update revision of its group's desired template, and a restart is the StatefulSet's
//! partition lowered to that pod. Name servers are the StatefulSet's to roll (one at a time,
//! each ready before the next): the snapshot shows them running their spec.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::jiff::Timestamp;

use super::admin::ClusterAdmin;
use super::apply::PodSeen;
use super::roll;
use crate::build::names;
use crate::build::rollout::{group_of, is_settled};
use crate::crd::{DrainStatus, RocketCluster, RocketClusterStatus, RollStatus};
use crate::plan::{self, Action, Group, Member, Namesrv, Policy, Snapshot, Step, Wait, Writes};
use crate::validate::ValidatedCluster;

/// Annotation on a RocketCluster that deletes groups being removed without waiting for their
/// consumers.
pub const FORCE_DRAIN_ANNOTATION: &str = "rocketmq.rs/force-drain";
/// Hash the name servers (rolled by their StatefulSet) and the pods of a group with no
/// template to compare with are shown running.
const AS_SPEC: &str = "spec";
/// How many steps one reconcile takes at most.
const MAX_STEPS: usize = 8;
/// When to look again while a drain or a sync waits.
pub const WAIT_REQUEUE: Duration = Duration::from_secs(5);

/// What one reconcile's lifecycle pass did and found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Groups drained and now to be deleted (their children).
    pub delete: Vec<u32>,
    /// The memory to write back to the status.
    pub drains: Vec<DrainStatus>,
    pub synced_groups: Option<Vec<String>>,
    /// What the planner waits for, in words; `None` when nothing is under way.
    pub waiting: Option<String>,
    /// Notes for events: groups whose writes came off, groups given metadata.
    pub held: Vec<String>,
    pub synced: Vec<String>,
    /// The roll under way, to remember in the status.
    pub roll: Option<RollStatus>,
    /// Partitions to set: (group, ordinal) — that pod's turn to take the new template.
    pub partitions: Vec<(u32, u32)>,
    /// Groups whose roll ended in this pass: their older ConfigMaps can go.
    pub finished: Vec<u32>,
    /// Groups whose writes came off, and came back, for their roll.
    pub roll_held: Vec<String>,
    pub released: Vec<String>,
    /// The `Progressing` reason of `waiting`.
    pub reason: &'static str,
}

/// What the driver reads besides the admin API.
pub struct Observed<'a> {
    pub cluster: &'a ValidatedCluster,
    pub live: &'a [StatefulSet],
    /// The StatefulSets as built for the spec.
    pub desired: &'a [StatefulSet],
    /// Pods of the cluster, by name.
    pub pods: &'a BTreeMap<String, PodSeen>,
    pub old: Option<&'a RocketClusterStatus>,
    pub force: bool,
    pub now: Timestamp,
}

/// Whether this reconcile has group lifecycle work: a removed group still there, a group of
/// the spec not known to be synced, a group whose template changed or whose pods are not all
/// updated and ready, or a roll remembered. Without it no pod list and no admin call is made.
pub fn has_work(
    cluster: &ValidatedCluster,
    live: &[StatefulSet],
    desired: &[StatefulSet],
    old: Option<&RocketClusterStatus>,
) -> bool {
    let live_groups: Vec<u32> = live.iter().filter_map(group_of).collect();
    if live_groups.iter().any(|g| *g >= cluster.groups()) {
        return true;
    }
    if old.is_some_and(|s| s.roll.is_some()) {
        return true;
    }
    let rolling = live.iter().any(|l| {
        group_of(l).is_some_and(|g| {
            g < cluster.groups()
                && (!is_settled(l) || roll::desired_hash(desired, g) != roll::template_hash(l))
        })
    });
    if rolling {
        return true;
    }
    let synced = synced_names(cluster, live, old);
    (0..cluster.groups()).any(|g| !synced.contains(&names::broker_group(cluster, g)))
}

/// The synced groups remembered; a status without the field counts every running group.
fn synced_names(
    cluster: &ValidatedCluster,
    live: &[StatefulSet],
    old: Option<&RocketClusterStatus>,
) -> Vec<String> {
    let remembered: Vec<String> = match old.and_then(|s| s.synced_groups.clone()) {
        Some(names) => names,
        None => live
            .iter()
            .filter_map(group_of)
            .filter(|g| *g < cluster.groups())
            .map(|g| names::broker_group(cluster, g))
            .collect(),
    };
    let spec: Vec<String> = (0..cluster.groups())
        .map(|g| names::broker_group(cluster, g))
        .collect();
    if !remembered.iter().any(|n| spec.contains(n)) {
        // No group of the spec has the cluster's topics yet (a new cluster): nothing to copy.
        return spec;
    }
    remembered
        .into_iter()
        .filter(|n| spec.contains(n))
        .collect()
}

/// The memory a reconcile without lifecycle work keeps: the synced groups of the spec.
pub fn remembered(
    cluster: &ValidatedCluster,
    live: &[StatefulSet],
    old: Option<&RocketClusterStatus>,
) -> Option<Vec<String>> {
    Some(synced_names(cluster, live, old))
}

/// Whether the cluster carries the force annotation.
pub fn forced(cluster: &RocketCluster) -> bool {
    cluster
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(FORCE_DRAIN_ANNOTATION))
        .is_some_and(|v| v == "true")
}

/// The planner's policy from the spec.
pub fn policy(cluster: &ValidatedCluster) -> Policy {
    Policy {
        drain_timeout: cluster
            .spec
            .cluster_operation
            .drain_timeout_seconds
            .and_then(|s| u64::try_from(s).ok())
            .map(|s| s.saturating_mul(1000)),
        ..Policy::default()
    }
}

fn millis(t: Timestamp) -> u64 {
    u64::try_from(t.as_millisecond()).unwrap_or(0)
}

/// The snapshot of the groups, without what only the admin API tells (writes of removed
/// groups, messages left, metadata missing).
pub fn snapshot(o: &Observed<'_>, synced: &[String], drains: &[DrainStatus]) -> Snapshot {
    let cluster = o.cluster;
    let live_groups: Vec<u32> = o.live.iter().filter_map(group_of).collect();
    let count = live_groups
        .iter()
        .map(|g| g + 1)
        .max()
        .unwrap_or(0)
        .max(cluster.groups());
    let mut groups = Vec::new();
    for g in 0..count {
        let name = names::broker_group(cluster, g);
        let kept = g < cluster.groups();
        let is_synced = synced.contains(&name);
        let pods = o
            .live
            .iter()
            .find(|s| group_of(s) == Some(g))
            .and_then(|s| s.spec.as_ref()?.replicas)
            .map_or(0, |r| u32::try_from(r).unwrap_or(0))
            .max(if kept { cluster.pods_per_group() } else { 0 });
        let live = o.live.iter().find(|s| group_of(s) == Some(g));
        let desired_hash = roll::desired_hash(o.desired, g).unwrap_or_else(|| AS_SPEC.to_owned());
        // Without a roll under way, a pod missing for a moment (the StatefulSet recreates it)
        // is shown running; a new group's pods run only once they exist.
        let at_rest =
            live.is_some_and(|l| roll::template_hash(l).as_deref() == Some(&desired_hash));
        let members: Vec<Member> = (0..pods)
            .map(|m| {
                let pod = o.pods.get(&names::broker_pod(cluster, g, m));
                let ready = pod.is_some_and(|p| p.ready);
                let running = match pod {
                    Some(pod) if kept => Some(roll::running(live, &desired_hash, pod)),
                    Some(_) => Some(AS_SPEC.to_owned()),
                    None => (kept && is_synced && at_rest).then(|| desired_hash.clone()),
                };
                Member {
                    running,
                    ready,
                    // Ready means replicating within a bounded lag; the rolling group's
                    // slaves are measured exactly ([`roll::measure`]).
                    behind: ready.then_some(0),
                    namesrvs_current: true,
                }
            })
            .collect();
        if !kept && members.iter().all(|m| m.running.is_none()) && !live_groups.contains(&g) {
            continue;
        }
        let held = drains
            .iter()
            .find(|d| d.name == name)
            .and_then(|d| d.writes_held_since.as_deref()?.parse::<Timestamp>().ok())
            .map(millis);
        groups.push(Group {
            index: g,
            desired: if kept {
                vec![desired_hash; cluster.pods_per_group() as usize]
            } else {
                Vec::new()
            },
            members,
            writes: Writes { on: 1, of: 1 },
            writable_by_spec: true,
            writes_held_since: if kept {
                roll::held_since(o.old.and_then(|s| s.roll.as_ref()), &name)
            } else {
                held
            },
            synced: is_synced,
            metadata_missing: None,
            messages_left: None,
            force_delete: o.force,
            // Measured only when a roll waits on it.
            sends_arriving: None,
        });
    }
    let namesrvs = usize::try_from(cluster.name_servers()).unwrap_or(0);
    Snapshot {
        namesrvs: vec![
            Namesrv {
                running: Some(AS_SPEC.to_owned()),
                ready: true,
            };
            namesrvs
        ],
        namesrv_desired: vec![AS_SPEC.to_owned(); namesrvs],
        groups,
        desired_groups: cluster.groups(),
        now: millis(o.now),
    }
}

/// Address of group `g`'s master (its own node port under `externalAccess` NodePort).
fn master(cluster: &ValidatedCluster, g: u32) -> String {
    format!(
        "{}:{}",
        names::broker_pod_dns(cluster, g, 0),
        crate::build::external::broker_listen_port(cluster, g, 0)
    )
}

/// Fills in what the admin API tells: writes and messages left of removed groups, metadata
/// missing on new groups with a ready master.
async fn measure(admin: &dyn ClusterAdmin, cluster: &ValidatedCluster, s: &mut Snapshot) {
    let namesrvs = names::namesrv_hosts(cluster);
    let source = s
        .kept()
        .find(|g| g.synced && g.member(0).is_some_and(|m| m.ready))
        .map(|g| g.index);
    let desired = s.desired_groups;
    for group in &mut s.groups {
        let name = names::broker_group(cluster, group.index);
        if group.index >= desired {
            group.writes = admin.writes(&namesrvs, &name).await;
            if group.member(0).is_some_and(|m| m.running.is_some()) {
                group.messages_left = admin.messages_left(&master(cluster, group.index)).await;
            }
        } else if !group.synced
            && group.member(0).is_some_and(|m| m.ready)
            && let Some(source) = source
        {
            group.metadata_missing = admin
                .missing_metadata(&master(cluster, source), &master(cluster, group.index))
                .await;
        }
    }
}

/// One reconcile's lifecycle pass: observe, then take planner steps until one waits.
pub async fn run(admin: &dyn ClusterAdmin, o: &Observed<'_>) -> Outcome {
    let cluster = o.cluster;
    let mut out = Outcome {
        synced_groups: Some(synced_names(cluster, o.live, o.old)),
        drains: o.old.map(|s| s.drains.clone()).unwrap_or_default(),
        ..Outcome::default()
    };
    let namesrvs = names::namesrv_hosts(cluster);
    let policy = policy(cluster);
    let synced = out.synced_groups.clone().unwrap_or_default();
    let mut snap = snapshot(o, &synced, &out.drains);
    measure(admin, cluster, &mut snap).await;
    roll::measure(admin, cluster, &mut snap, &policy).await;
    remember_roll(
        &mut out,
        cluster,
        &snap,
        o.old.and_then(|s| s.roll.as_ref()),
    );
    // Removed groups this pass sees; drains of groups no longer there are finished.
    out.drains.retain(|d| {
        snap.removed()
            .any(|g| names::broker_group(cluster, g.index) == d.name)
    });
    for _ in 0..MAX_STEPS {
        let step = plan::next(&snap, &policy);
        let Step::Act(action) = step else {
            if let Step::Wait(wait) = &step {
                out.waiting = Some(describe(cluster, wait));
                out.reason = roll::reason(&snap, wait);
                note_drain(&mut out, cluster, &snap, wait);
            }
            break;
        };
        match action {
            Action::HoldWrites(g) if g < snap.desired_groups => {
                let name = names::broker_group(cluster, g);
                if let Err(error) = admin.hold_writes(&namesrvs, &name).await {
                    out.waiting = Some(format!("cannot take writes off {name}: {error}"));
                    out.reason = "RollingUpdate";
                    break;
                }
                if let Some(memory) = out.roll.as_mut().filter(|r| r.name == name)
                    && memory.writes_held_since.is_none()
                {
                    memory.writes_held_since = Some(o.now.to_string());
                    out.roll_held.push(name.clone());
                }
                if let Some(group) = snap.groups.iter_mut().find(|x| x.index == g) {
                    group.writes.on = 0;
                    group.writes_held_since.get_or_insert(snap.now);
                }
            }
            Action::ReleaseWrites(g) => {
                let name = names::broker_group(cluster, g);
                if let Err(error) = admin.release_writes(&namesrvs, &name).await {
                    out.waiting = Some(format!("cannot give writes back to {name}: {error}"));
                    out.reason = "RollingUpdate";
                    break;
                }
                out.released.push(name.clone());
                if let Some(memory) = out.roll.as_mut().filter(|r| r.name == name) {
                    memory.writes_held_since = None;
                }
                // The next group's roll starts in the next pass, with its own memory.
                break;
            }
            Action::RestartMember { group, member } => {
                out.partitions.push((group, member));
                out.waiting = Some(format!(
                    "pod {} to restart with the new template",
                    names::broker_pod(cluster, group, member)
                ));
                out.reason = "RollingUpdate";
                break;
            }
            Action::HoldWrites(g) => {
                let name = names::broker_group(cluster, g);
                if let Err(error) = admin.hold_writes(&namesrvs, &name).await {
                    out.waiting = Some(format!("cannot take writes off {name}: {error}"));
                    drain_entry(&mut out, &name).message = out.waiting.clone().unwrap_or_default();
                    break;
                }
                let entry = drain_entry(&mut out, &name);
                let first = entry.writes_held_since.is_none();
                if first {
                    entry.writes_held_since = Some(o.now.to_string());
                }
                entry.message = "writes taken off on every name server".to_owned();
                if first {
                    out.held.push(name.clone());
                }
                if let Some(group) = snap.groups.iter_mut().find(|x| x.index == g) {
                    group.writes.on = 0;
                    group.writes_held_since.get_or_insert(snap.now);
                }
            }
            Action::DeleteGroup(g) => {
                out.delete.push(g);
                let name = names::broker_group(cluster, g);
                out.drains.retain(|d| d.name != name);
                snap.groups.retain(|x| x.index != g);
            }
            Action::SyncMetadata { from, to } => {
                let result = admin
                    .sync_metadata(&master(cluster, from), &master(cluster, to))
                    .await;
                let name = names::broker_group(cluster, to);
                match result {
                    Ok(()) => out.synced.push(name),
                    Err(error) => {
                        out.waiting =
                            Some(format!("cannot give {name} the cluster's topics: {error}"));
                    }
                }
                // Measured again next pass.
                break;
            }
            Action::MarkSynced(g) => {
                let name = names::broker_group(cluster, g);
                if let Some(list) = out.synced_groups.as_mut()
                    && !list.contains(&name)
                {
                    list.push(name);
                }
                if let Some(group) = snap.groups.iter_mut().find(|x| x.index == g) {
                    group.synced = true;
                }
            }
            // Pods are the StatefulSets' to start and stop: wait for them.
            Action::StartMember { group, member } | Action::StopMember { group, member } => {
                out.waiting = Some(format!(
                    "pod {} to start",
                    names::broker_pod(cluster, group, member)
                ));
                out.reason =
                    if group < snap.desired_groups && snap.group(group).is_some_and(|g| g.synced) {
                        "RollingUpdate"
                    } else {
                        "SyncingTopics"
                    };
                break;
            }
            Action::StartNamesrv(_)
            | Action::RestartNamesrv(_)
            | Action::StopNamesrv(_)
            | Action::TellNamesrvs { .. } => break,
        }
    }
    out
}

/// The roll under way into the outcome: the group the planner rolls now (its writes-held time
/// kept while it is the same group); a remembered group no longer rolling has finished.
fn remember_roll(
    out: &mut Outcome,
    cluster: &ValidatedCluster,
    snap: &Snapshot,
    old: Option<&RollStatus>,
) {
    let now = roll::rolling(snap).map(|g| names::broker_group(cluster, g));
    if let Some(old) = old
        && now.as_deref() != Some(old.name.as_str())
        && let Some(g) = snap
            .kept()
            .find(|g| names::broker_group(cluster, g.index) == old.name)
    {
        out.finished.push(g.index);
    }
    out.roll = now.map(|name| match old {
        Some(old) if old.name == name => old.clone(),
        _ => RollStatus {
            name,
            ..RollStatus::default()
        },
    });
}

fn drain_entry<'a>(out: &'a mut Outcome, name: &str) -> &'a mut DrainStatus {
    if let Some(i) = out.drains.iter().position(|d| d.name == name) {
        return &mut out.drains[i];
    }
    out.drains.push(DrainStatus {
        name: name.to_owned(),
        ..DrainStatus::default()
    });
    let last = out.drains.len() - 1;
    &mut out.drains[last]
}

/// A drain's wait into its status entry.
fn note_drain(out: &mut Outcome, cluster: &ValidatedCluster, snap: &Snapshot, wait: &Wait) {
    let (group, left) = match *wait {
        Wait::Draining {
            group,
            messages_left,
        } => (group, messages_left),
        Wait::RoutesRefresh { group, .. } if group >= snap.desired_groups => (group, None),
        _ => return,
    };
    let name = names::broker_group(cluster, group);
    let message = describe(cluster, wait);
    let entry = drain_entry(out, &name);
    entry.messages_left = left.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    entry.message = message;
}

/// A wait in words.
pub fn describe(cluster: &ValidatedCluster, wait: &Wait) -> String {
    let group = |g: u32| names::broker_group(cluster, g);
    match *wait {
        Wait::RoutesRefresh { group: g, left } => format!(
            "clients to refresh their routes away from {} ({} s left)",
            group(g),
            left.div_ceil(1000)
        ),
        Wait::Draining {
            group: g,
            messages_left: Some(n),
        } => format!(
            "consumers to consume the {n} messages left on {} (annotate the RocketCluster {FORCE_DRAIN_ANNOTATION}=true to delete it now)",
            group(g)
        ),
        Wait::Draining { group: g, .. } => {
            format!("{} to report its consumers' progress", group(g))
        }
        Wait::MemberNotReady { group: g, member } => {
            format!("pod {} to be ready", names::broker_pod(cluster, g, member))
        }
        Wait::SlaveBehind {
            group: g,
            member,
            behind: Some(bytes),
        } => format!(
            "pod {} to catch up with its master ({bytes} bytes behind)",
            names::broker_pod(cluster, g, member)
        ),
        Wait::SlaveBehind {
            group: g, member, ..
        } => format!(
            "pod {} to report how far behind its master it is",
            names::broker_pod(cluster, g, member)
        ),
        Wait::SendsStillArriving(g) => format!(
            "the master of {} to store no more sends (clients that refresh their routes late)",
            group(g)
        ),
        Wait::OtherGroupUnhealthy { rolling, unhealthy } => format!(
            "{} to be ready and caught up before {} rolls",
            group(unhealthy),
            group(rolling)
        ),
        Wait::MetadataUnknown(g) => format!("the topics of {} to be readable", group(g)),
        Wait::NoSyncSource(g) => format!("a ready master to copy topics from to {}", group(g)),
        ref other => format!("{other:?}"),
    }
}
