//! The planner run to the end on a toy cluster, checking on every step what a roll and a drain
//! must never do.

use super::*;

/// A toy cluster that does what it is told: a restarted pod runs its desired hash and becomes
/// ready (and caught up) one tick later; a restarted master registers its writes again and
/// leaves its slaves unready for a tick.
struct Sim {
    s: Snapshot,
    log: Vec<Action>,
}

impl Sim {
    fn apply(&mut self, action: &Action) {
        let s = &mut self.s;
        let now = s.now;
        match *action {
            Action::RestartMember { group, member } | Action::StartMember { group, member } => {
                let g = grp(s, group);
                let m = member as usize;
                if g.members.len() <= m {
                    g.members.resize(m + 1, absent());
                }
                g.members[m] = Member {
                    ready: false,
                    behind: None,
                    ..member_hash(&g.desired[m])
                };
                if m == 0 {
                    g.writes.on = g.writes.of;
                    for slave in g.members.iter_mut().skip(1) {
                        slave.ready = false;
                    }
                }
            }
            Action::StopMember { group, member } => {
                grp(s, group).members[member as usize] = absent();
            }
            Action::HoldWrites(group) => {
                let g = grp(s, group);
                g.writes.on = 0;
                g.writes_held_since.get_or_insert(now);
            }
            Action::ReleaseWrites(group) => {
                let g = grp(s, group);
                g.writes.on = g.writes.of;
                g.writes_held_since = None;
            }
            Action::SyncMetadata { to, .. } => grp(s, to).metadata_missing = Some(0),
            Action::MarkSynced(group) => grp(s, group).synced = true,
            Action::DeleteGroup(group) => s.groups.retain(|g| g.index != group),
            ref other => panic!("unexpected {other:?}"),
        }
        self.log.push(action.clone());
    }

    fn tick(&mut self) {
        self.s.now += 1_000;
        for g in &mut self.s.groups {
            for m in &mut g.members {
                if m.running.is_some() {
                    m.ready = true;
                    m.behind = Some(0);
                }
            }
            if g.metadata_missing.is_none() {
                g.metadata_missing = Some(3);
            }
        }
    }

    /// Runs the planner to Done, checking on every restart what a roll must never do.
    fn run(&mut self) {
        for _ in 0..10_000 {
            match next(&self.s, &policy()) {
                Step::Done => return,
                Step::Wait(_) => self.tick(),
                Step::Act(action) => {
                    self.check(&action);
                    self.apply(&action);
                }
            }
        }
        panic!("no end: {:?}", self.log);
    }

    fn check(&self, action: &Action) {
        let p = policy();
        if let Action::RestartMember { group, member } = *action {
            let g = self.s.group(group).unwrap();
            for other in self.s.kept().filter(|o| o.index != group) {
                assert!(
                    other.healthy(&p),
                    "{action:?} while {} unhealthy",
                    other.index
                );
            }
            assert!(g.writes.none(), "{action:?} with writes on");
            assert!(self.s.now - g.writes_held_since.unwrap() >= p.route_refresh);
            if member == 0 {
                for slave in g.members.iter().skip(1) {
                    assert!(slave.ready && caught_up(slave, &p), "{action:?}: {slave:?}");
                }
            }
        }
        if let Action::DeleteGroup(group) = *action {
            assert_eq!(self.s.group(group).unwrap().messages_left, Some(0));
        }
    }
}

fn member_hash(hash: &str) -> Member {
    member(hash)
}

fn grp(s: &mut Snapshot, index: u32) -> &mut Group {
    s.groups.iter_mut().find(|g| g.index == index).unwrap()
}

#[test]
fn a_change_of_every_kind_at_once_runs_to_the_spec_and_never_breaks_a_roll_rule() {
    let mut s = cluster();
    // Group 0: a new config; group 1: a slave more; group 2: new; group 3: removed.
    s.groups[0] = group(0, 2, OLD);
    change(&mut s, 0);
    s.groups[1].desired.push(OLD.to_owned());
    s.groups.push(Group {
        members: vec![absent(), absent()],
        synced: false,
        metadata_missing: None,
        ..group(2, 1, NEW)
    });
    s.groups.push(group(3, 1, OLD));
    s.groups[3].desired.clear();
    s.desired_groups = 3;
    let mut sim = Sim { s, log: vec![] };
    sim.run();
    let s = &sim.s;
    assert_eq!(s.groups.len(), 3, "{:?}", sim.log);
    for g in &s.groups {
        assert!(g.settled(&policy()) && g.synced && g.writes.all(), "{g:?}");
    }
    let first_restart_of_group_0 = sim
        .log
        .iter()
        .position(|a| matches!(a, Action::RestartMember { group: 0, .. }))
        .unwrap();
    assert_eq!(
        sim.log[first_restart_of_group_0],
        Action::RestartMember {
            group: 0,
            member: 2
        }
    );
    assert!(
        !sim.log.contains(&Action::RestartMember {
            group: 1,
            member: 0
        }),
        "a slave more restarted the master"
    );
    assert!(sim.log.contains(&Action::SyncMetadata { from: 0, to: 2 }));
    assert!(sim.log.contains(&Action::DeleteGroup(3)));
}
