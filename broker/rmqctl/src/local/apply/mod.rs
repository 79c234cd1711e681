//! `rmqctl apply -f changed.yaml`: brings a cluster started by `rmqctl up --detach` to a
//! changed manifest with the operator's change planner ([`rmq_operator::plan`]), over local
//! processes — the same rolls, drains and syncs the operator drives over the Kubernetes API.
//!
//! ```text
//! pids.json + manifest copy + new manifest ──setup (checks)──▶ Change (old and new plans)
//! loop: observe (processes, /readyz, admin API) ──▶ Snapshot ──plan::next──▶ Step
//!         Act(a)  ──act──▶ restart / start / stop a process, hold or release writes on every
//!                          name server, copy topics and groups, tell brokers the name servers,
//!                          delete a group
//!         Wait(w) ──▶ print it when it changes, poll again in 250 ms (until --timeout)
//!         Done    ──▶ the manifest copy becomes the new manifest
//! ```
//!
//! | module | what |
//! |---|---|
//! | [`setup`] | both manifests, same cluster and security, ports kept, clients and binaries |
//! | [`observe`] | the planner's [`Snapshot`](rmq_operator::plan::Snapshot) of local processes |
//! | [`act`] | each action, and [`act::Processes`]: start, stop, pids.json |
//! | [`error`] | [`ApplyError`] |
//!
//! Which topics and subscription groups a new group lacks, and how many messages a removed group
//! still holds, come from [`rmq_admin::change`], where the operator can observe them too.
//!
//! Memory the planner needs across steps (when writes came off a group, which groups are
//! synced) lives in this process: an `apply` that stops half-way is run again and finds the
//! rest — writes held and not given back are held again and the route refresh waited out
//! anew, which is safe.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rmq_operator::plan::{self, Action, Millis, Policy, Step, Wait};

pub mod act;
pub mod error;
pub mod observe;
pub mod setup;

pub use act::Processes;
pub use error::ApplyError;

use crate::cli::ApplyArgs;
use crate::local::plan as layout;
use crate::local::secure;

/// How often a waiting apply looks again.
const POLL: Duration = Duration::from_millis(250);

/// What the planner is told it did before.
#[derive(Debug, Default)]
pub struct Memory {
    /// Groups whose writes this apply took off, and when.
    pub held_since: BTreeMap<u32, Millis>,
    /// Groups that have the cluster's topics and subscription groups.
    pub synced: BTreeSet<u32>,
    /// `--force-drain`.
    pub force_delete: bool,
    /// Each master's `msgPutTotalTodayNow` as sampled, with the time: whether sends still
    /// arrive at a group whose writes are held.
    pub puts: BTreeMap<u32, Vec<(Millis, u64)>>,
}

/// How far back "sends still arrive" looks.
pub const SENDS_WINDOW: Millis = 2_000;

impl Memory {
    /// Records a master's put counter at `now`; whether it changed over the last
    /// [`SENDS_WINDOW`] (`None` until a sample that old exists).
    pub fn sends_arriving(&mut self, group: u32, now: Millis, count: u64) -> Option<bool> {
        let samples = self.puts.entry(group).or_default();
        samples.push((now, count));
        // Keep the newest sample at least a window old, and everything after it.
        while samples.len() > 1 && now.saturating_sub(samples[1].0) >= SENDS_WINDOW {
            samples.remove(0);
        }
        let (oldest_at, oldest) = samples[0];
        (now.saturating_sub(oldest_at) >= SENDS_WINDOW).then_some(oldest != count)
    }
}

/// Runs `rmqctl apply`.
pub async fn run(args: &ApplyArgs) -> Result<(), ApplyError> {
    let change = setup::prepare(args)?;
    let mut procs = Processes::new(change.pids.clone(), layout::pids_path(&change.dir));
    let mut memory = Memory {
        force_delete: args.force_drain,
        ..Memory::default()
    };
    // Groups that run now were synced when they started (by `up`, or an earlier apply).
    for g in 0..change.old.groups() {
        if procs.runs(&change.broker_name(g, 0)) {
            memory.synced.insert(g);
        }
    }
    let policy = Policy {
        route_refresh: args.route_refresh * 1000,
        caught_up_bytes: 0,
        drain_timeout: args.drain_timeout.map(|s| s * 1000),
    };
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.timeout);
    let mut last_wait: Option<Wait> = None;
    let mut actions = 0u32;
    loop {
        let now = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        let snapshot = observe::snapshot(&change, &mut procs, &mut memory, now).await;
        match plan::next(&snapshot, &policy) {
            Step::Done => break,
            Step::Act(action) => {
                println!("{}", describe(&change, &action));
                act::act(&change, &mut procs, &mut memory, &action, now).await?;
                actions += 1;
                last_wait = None;
            }
            Step::Wait(wait) => {
                if Instant::now() >= deadline {
                    return Err(ApplyError::TimedOut {
                        waited: Duration::from_secs(args.timeout),
                        last: describe_wait(&change, &wait),
                    });
                }
                if last_wait.as_ref().is_none_or(|w| !same_kind(w, &wait)) {
                    println!("waiting: {}", describe_wait(&change, &wait));
                }
                last_wait = Some(wait);
                tokio::time::sleep(POLL).await;
            }
        }
    }
    secure::write_file(
        &layout::manifest_copy_path(&change.dir),
        change.manifest_text.as_bytes(),
        true,
    )?;
    procs.pids.manifest = change
        .file
        .canonicalize()
        .unwrap_or_else(|_| change.file.clone());
    procs.pids.write(&procs.pids_path)?;
    println!(
        "cluster {} runs {} ({actions} steps, {} s)",
        change.new.name,
        change.file.display(),
        start.elapsed().as_secs()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_arrive_when_the_put_counter_moved_within_the_window_and_are_unknown_before_one() {
        let mut m = Memory::default();
        assert_eq!(m.sends_arriving(0, 0, 10), None);
        assert_eq!(m.sends_arriving(0, 1_000, 10), None);
        assert_eq!(m.sends_arriving(0, 2_000, 10), Some(false));
        assert_eq!(m.sends_arriving(0, 2_500, 11), Some(true));
        // The change at 2.5 s stays in view for a whole window.
        assert_eq!(m.sends_arriving(0, 4_000, 11), Some(true));
        assert_eq!(m.sends_arriving(0, 4_600, 11), Some(false));
    }
}

/// The same wait, but for figures that move (time left, bytes behind, messages left).
fn same_kind(a: &Wait, b: &Wait) -> bool {
    match (a, b) {
        (Wait::RoutesRefresh { group: x, .. }, Wait::RoutesRefresh { group: y, .. }) => x == y,
        (
            Wait::SlaveBehind {
                group: g1,
                member: m1,
                ..
            },
            Wait::SlaveBehind {
                group: g2,
                member: m2,
                ..
            },
        ) => (g1, m1) == (g2, m2),
        _ => a == b,
    }
}

/// One line for an action.
pub fn describe(change: &setup::Change, action: &Action) -> String {
    plan_names::action(change, action)
}

/// One line for a wait.
pub fn describe_wait(change: &setup::Change, wait: &Wait) -> String {
    plan_names::wait(change, wait)
}

mod plan_names {
    //! Planner steps in words, with the processes' names.

    use rmq_operator::plan::{Action, Wait};

    pub type Names = super::setup::Change;

    pub fn action(c: &Names, action: &Action) -> String {
        match *action {
            Action::StartNamesrv(i) => format!("starting {}", c.namesrv_name(i)),
            Action::RestartNamesrv(i) => {
                format!("restarting {} (its config changed)", c.namesrv_name(i))
            }
            Action::StopNamesrv(i) => format!("stopping {} (not in the spec)", c.namesrv_name(i)),
            Action::TellNamesrvs { group, member } => format!(
                "giving {} the name servers {}",
                c.broker_name(group, member),
                c.new_plan.namesrv_addr()
            ),
            Action::StartMember { group, member } => {
                format!("starting {}", c.broker_name(group, member))
            }
            Action::RestartMember { group, member } => format!(
                "restarting {} (its config changed)",
                c.broker_name(group, member)
            ),
            Action::StopMember { group, member } => format!(
                "stopping {} (not in the spec)",
                c.broker_name(group, member)
            ),
            Action::SyncMetadata { from, to } => format!(
                "copying topics and subscription groups from {} to {}",
                c.group_name(from),
                c.group_name(to)
            ),
            Action::MarkSynced(g) => format!("{} has the cluster's topics", c.group_name(g)),
            Action::HoldWrites(g) => {
                format!("taking writes off {} on every name server", c.group_name(g))
            }
            Action::ReleaseWrites(g) => format!(
                "giving writes back to {} on every name server",
                c.group_name(g)
            ),
            Action::DeleteGroup(g) => format!("deleting {} (drained)", c.group_name(g)),
        }
    }

    pub fn wait(c: &Names, wait: &Wait) -> String {
        match *wait {
            Wait::NamesrvNotReady(i) => format!(
                "{} to answer and list every ready broker",
                c.namesrv_name(i)
            ),
            Wait::MemberNotReady { group, member } => {
                format!("{} to be ready", c.broker_name(group, member))
            }
            Wait::SlaveBehind {
                group,
                member,
                behind,
            } => match behind {
                Some(bytes) => format!(
                    "{} to catch up with its master ({bytes} bytes behind)",
                    c.broker_name(group, member)
                ),
                None => format!(
                    "{} to report how far behind its master it is",
                    c.broker_name(group, member)
                ),
            },
            Wait::RoutesRefresh { group, left } => format!(
                "clients to refresh their routes away from {} ({} s left)",
                c.group_name(group),
                left.div_ceil(1000)
            ),
            Wait::SendsStillArriving(g) => format!(
                "clients to stop sending to {} (some have not refreshed their routes yet)",
                c.group_name(g)
            ),
            Wait::OtherGroupUnhealthy { rolling, unhealthy } => format!(
                "{} to be healthy before {} rolls",
                c.group_name(unhealthy),
                c.group_name(rolling)
            ),
            Wait::MetadataUnknown(g) => {
                format!("the topics of {} to be readable", c.group_name(g))
            }
            Wait::NoSyncSource(g) => {
                format!("a ready master to copy topics from to {}", c.group_name(g))
            }
            Wait::Draining {
                group,
                messages_left,
            } => match messages_left {
                Some(n) => format!(
                    "consumers to consume the {n} messages left on {} (--force-drain deletes it now)",
                    c.group_name(group)
                ),
                None => format!("{} to report its consumers' progress", c.group_name(group)),
            },
        }
    }
}
