//! The change planner: what to do next to bring a running cluster to its spec, as a pure
//! function of what is observed. Two drivers run it in a loop — observe, [`next`], act — the
//! operator over the Kubernetes API and `rmqctl apply` over local processes, so the order of a
//! roll, a drain or a scale-out is decided once and tested here.
//!
//! ```text
//! Snapshot (pods/processes: hash running vs desired, ready, slave lag; per group: write
//!           permission on the name servers, messages left, metadata missing; the driver's
//!           memory: when writes were taken off, whether a new group was synced)
//!     ──next (pure)──▶ Step::Act(one action) | Step::Wait(why) | Step::Done
//! ```
//!
//! The order of one change, each phase finished before the next starts:
//!
//! 1. **Name servers** ([`namesrv`]): missing ones start; then, with every name server ready,
//!    changed ones restart one at a time, lowest ordinal first; every broker is told the new
//!    name-server list (no restart: a list is not part of a pod's hash); then name servers
//!    beyond the spec stop, highest first.
//! 2. **New groups** ([`lifecycle`]): their pods start; once the master is ready they get the
//!    topics and subscription groups of a live master of a group that was there before, and
//!    only then count as synced.
//! 3. **Rolls** ([`roll`]), one group at a time in index order, and only while every other group
//!    is healthy (every pod ready, every slave caught up): writes are taken off the group on every name server (when another group
//!    can take them) and the clients' route refresh is waited out, then until its master
//!    stores no more sends, so no send reaches a group that is restarting; then slaves, highest ordinal first, each restarted and waited on until
//!    ready and caught up; then the master, only once every slave is caught up; writes come
//!    back once the whole group is ready and caught up again.
//! 4. **Removed groups** ([`lifecycle`]), highest index first: writes off on every name server,
//!    the route refresh waited out, then the group is deleted only once every consumer group
//!    has consumed everything on it — or when the user forces it or set a drain timeout that
//!    has passed.
//!
//! A pod's hash covers what would make its process behave differently — its own config file
//! without `namesrvAddr`, and its template — so adding a slave or a name server restarts no
//! master.

pub mod hash;
pub mod lifecycle;
pub mod namesrv;
pub mod roll;

#[cfg(test)]
mod tests;

/// Milliseconds on the driver's clock.
pub type Millis = u64;

/// One name-server pod or process, by ordinal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namesrv {
    /// Hash of what runs; `None` when nothing runs at this ordinal.
    pub running: Option<String>,
    /// Ready: it answers, and (after a restart) every running broker has registered with it.
    pub ready: bool,
}

/// One broker pod or process of a group: ordinal 0 is the master, the others its slaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Hash of what runs; `None` when nothing runs at this ordinal.
    pub running: Option<String>,
    /// Its `/readyz`: store recovered, registered, and a slave replicating.
    pub ready: bool,
    /// Bytes a slave is behind its master; `None` when unknown (and for a master).
    pub behind: Option<u64>,
    /// Whether it registers with the name-server list of the spec.
    pub namesrvs_current: bool,
}

/// A group's write permission as the name servers route it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Writes {
    /// Name servers that route writes to the group.
    pub on: u32,
    /// Name servers asked.
    pub of: u32,
}

impl Member {
    /// Nothing runs at this ordinal.
    pub fn absent() -> Member {
        Member {
            running: None,
            ready: false,
            behind: None,
            namesrvs_current: false,
        }
    }
}

impl Writes {
    /// Every name server routes writes to it.
    pub fn all(self) -> bool {
        self.of > 0 && self.on == self.of
    }

    /// No name server routes writes to it.
    pub fn none(self) -> bool {
        self.on == 0
    }
}

/// One broker group, in the spec or still running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub index: u32,
    /// By ordinal; as long as the larger of what runs and what the spec asks.
    pub members: Vec<Member>,
    /// The hash each ordinal of the spec should run (empty for a removed group).
    pub desired: Vec<String>,
    /// Its write permission on the name servers.
    pub writes: Writes,
    /// Whether the spec lets the group take writes (`brokerPermission` keeps the write bit).
    pub writable_by_spec: bool,
    /// Memory: when the planner took writes off the group; `None` when it has not (or gave
    /// them back).
    pub writes_held_since: Option<Millis>,
    /// Memory: the group got the cluster's topics and subscription groups (or needs none).
    pub synced: bool,
    /// Topics and subscription groups a live master of a synced group has and this one lacks;
    /// `None` when not measured.
    pub metadata_missing: Option<u32>,
    /// Messages on the group some consumer group has not consumed; `None` when not measured.
    pub messages_left: Option<u64>,
    /// Whether its master stored sends lately (over the last seconds); `None` when not
    /// measured. A roll restarts nothing of a group whose writes are held while sends still
    /// arrive: some client has not seen the route without it yet.
    pub sends_arriving: Option<bool>,
    /// The user asked to delete the group without waiting for its messages to be consumed.
    pub force_delete: bool,
}

impl Group {
    /// Ordinal `m`, when the group has one.
    pub fn member(&self, m: u32) -> Option<&Member> {
        self.members.get(m as usize)
    }

    /// Something runs at some ordinal.
    pub fn exists(&self) -> bool {
        self.members.iter().any(|m| m.running.is_some())
    }

    /// Every ordinal of the spec runs its desired hash, is ready and (a slave) caught up, and
    /// nothing runs beyond the spec.
    pub fn settled(&self, policy: &Policy) -> bool {
        self.members
            .iter()
            .enumerate()
            .all(|(m, member)| match self.desired.get(m) {
                Some(hash) => {
                    member.running.as_ref() == Some(hash)
                        && member.ready
                        && (m == 0 || caught_up(member, policy))
                }
                None => member.running.is_none(),
            })
    }

    /// Every pod that runs is ready and (a slave) caught up, whatever it runs: the state in
    /// which another group may roll.
    pub fn healthy(&self, policy: &Policy) -> bool {
        self.members.iter().enumerate().all(|(m, member)| {
            member.running.is_none() || (member.ready && (m == 0 || caught_up(member, policy)))
        })
    }

    /// Some ordinal runs something other than the spec (or nothing where the spec has a pod).
    pub fn changed(&self) -> bool {
        let len = self.members.len().max(self.desired.len());
        (0..len).any(|m| {
            let running = self.members.get(m).and_then(|x| x.running.as_ref());
            running != self.desired.get(m)
        })
    }
}

/// A slave is within `policy.caught_up_bytes` of its master.
pub fn caught_up(member: &Member, policy: &Policy) -> bool {
    member.behind.is_some_and(|b| b <= policy.caught_up_bytes)
}

/// What the drivers observed, plus their memory of earlier steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// By ordinal; as long as the larger of what runs and the spec.
    pub namesrvs: Vec<Namesrv>,
    /// The hash each name-server ordinal of the spec should run.
    pub namesrv_desired: Vec<String>,
    /// By index; the groups of the spec first, then removed groups still running.
    pub groups: Vec<Group>,
    /// Groups in the spec.
    pub desired_groups: u32,
    pub now: Millis,
}

impl Snapshot {
    /// The group at `index`.
    pub fn group(&self, index: u32) -> Option<&Group> {
        self.groups.iter().find(|g| g.index == index)
    }

    /// Groups of the spec.
    pub fn kept(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter().filter(|g| g.index < self.desired_groups)
    }

    /// Groups still running that the spec no longer has.
    pub fn removed(&self) -> impl Iterator<Item = &Group> {
        self.groups
            .iter()
            .filter(|g| g.index >= self.desired_groups && g.exists())
    }
}

/// How long to wait and how close is close enough.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// How long clients take to see a route change: Apache's clients poll the name servers
    /// every 30 s (`pollNameServerInterval`), so 30 s plus a margin.
    pub route_refresh: Millis,
    /// A slave at most this many bytes behind its master is caught up.
    pub caught_up_bytes: u64,
    /// After writes came off a removed group, delete it even with messages left once this
    /// much time has passed; `None`: wait for the consumers however long it takes.
    pub drain_timeout: Option<Millis>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            route_refresh: 35_000,
            caught_up_bytes: 0,
            drain_timeout: None,
        }
    }
}

/// One thing a driver does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Start the name server at this ordinal.
    StartNamesrv(u32),
    /// Restart it so that it runs its desired hash.
    RestartNamesrv(u32),
    /// Stop it (beyond the spec).
    StopNamesrv(u32),
    /// Give this broker the spec's name-server list, without a restart.
    TellNamesrvs { group: u32, member: u32 },
    /// Start a broker pod or process that does not run.
    StartMember { group: u32, member: u32 },
    /// Restart a broker so that it runs its desired hash.
    RestartMember { group: u32, member: u32 },
    /// Stop a broker beyond the spec's `replicasPerGroup`.
    StopMember { group: u32, member: u32 },
    /// Copy the topics and subscription groups of `from`'s master to `to`'s.
    SyncMetadata { from: u32, to: u32 },
    /// Remember that `group` has the cluster's metadata (or needs none).
    MarkSynced(u32),
    /// WIPE_WRITE_PERM_OF_BROKER on every name server; the driver remembers the time.
    HoldWrites(u32),
    /// ADD_WRITE_PERM_OF_BROKER on every name server; the driver forgets the time.
    ReleaseWrites(u32),
    /// Delete the group: its pods or processes, with volumes as `pvcRetention` says.
    DeleteGroup(u32),
}

/// Why nothing can be done now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wait {
    NamesrvNotReady(u32),
    MemberNotReady {
        group: u32,
        member: u32,
    },
    /// A slave is behind its master (`None`: not measured).
    SlaveBehind {
        group: u32,
        member: u32,
        behind: Option<u64>,
    },
    /// Writes are off the group; clients have not all refreshed their routes yet.
    RoutesRefresh {
        group: u32,
        left: Millis,
    },
    /// Writes are off the group and the route refresh is over, but its master still stores
    /// sends (or that is not measured yet).
    SendsStillArriving(u32),
    /// Another group has a pod not ready or a slave behind, so this one may not roll.
    OtherGroupUnhealthy {
        rolling: u32,
        unhealthy: u32,
    },
    /// A new group's metadata is not measured yet.
    MetadataUnknown(u32),
    /// A new group has no synced group to copy from that is ready.
    NoSyncSource(u32),
    /// A removed group still has messages some consumer group has not consumed.
    Draining {
        group: u32,
        messages_left: Option<u64>,
    },
}

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Act(Action),
    Wait(Wait),
    /// The cluster runs its spec.
    Done,
}

/// The next step towards the spec.
pub fn next(snapshot: &Snapshot, policy: &Policy) -> Step {
    namesrv::next(snapshot)
        .or_else(|| lifecycle::next_new_group(snapshot))
        .or_else(|| roll::next(snapshot, policy))
        .or_else(|| lifecycle::next_removed_group(snapshot, policy))
        .unwrap_or(Step::Done)
}
