use super::*;

const OLD: &str = "old";
const NEW: &str = "new";

fn member(hash: &str) -> Member {
    Member {
        running: Some(hash.to_owned()),
        ready: true,
        behind: Some(0),
        namesrvs_current: true,
    }
}

fn absent() -> Member {
    Member::absent()
}

/// A settled group of a master and `slaves` slaves, all running `hash`.
fn group(index: u32, slaves: usize, hash: &str) -> Group {
    Group {
        index,
        members: vec![member(hash); slaves + 1],
        desired: vec![hash.to_owned(); slaves + 1],
        writes: Writes { on: 2, of: 2 },
        writable_by_spec: true,
        writes_held_since: None,
        synced: true,
        metadata_missing: Some(0),
        messages_left: Some(0),
        force_delete: false,
        sends_arriving: Some(false),
    }
}

/// Two name servers and two SYNC_MASTER groups of one slave each, all settled on `OLD`.
fn cluster() -> Snapshot {
    Snapshot {
        namesrvs: vec![
            Namesrv {
                running: Some(OLD.to_owned()),
                ready: true
            };
            2
        ],
        namesrv_desired: vec![OLD.to_owned(); 2],
        groups: vec![group(0, 1, OLD), group(1, 1, OLD)],
        desired_groups: 2,
        now: 1_000_000,
    }
}

fn policy() -> Policy {
    Policy::default()
}

fn step(snapshot: &Snapshot) -> Step {
    next(snapshot, &policy())
}

fn act(action: Action) -> Step {
    Step::Act(action)
}

fn restart(group: u32, member: u32) -> Step {
    act(Action::RestartMember { group, member })
}

/// Group `g` asks for `NEW` on every ordinal.
fn change(snapshot: &mut Snapshot, g: usize) {
    for hash in &mut snapshot.groups[g].desired {
        *hash = NEW.to_owned();
    }
}

/// Group `g` has held writes for long enough that every client refreshed its routes.
fn held_long_ago(snapshot: &mut Snapshot, g: usize) {
    snapshot.groups[g].writes = Writes { on: 0, of: 2 };
    snapshot.groups[g].writes_held_since = Some(snapshot.now - policy().route_refresh);
}

#[test]
fn a_cluster_running_its_spec_is_done() {
    assert_eq!(step(&cluster()), Step::Done);
}

#[test]
fn a_missing_name_server_starts_before_anything_else() {
    let mut s = cluster();
    s.namesrv_desired.push(OLD.to_owned());
    change(&mut s, 0);
    assert_eq!(step(&s), act(Action::StartNamesrv(2)));
}

#[test]
fn name_servers_restart_one_at_a_time_and_only_while_all_are_ready() {
    let mut s = cluster();
    s.namesrv_desired = vec![NEW.to_owned(); 2];
    assert_eq!(step(&s), act(Action::RestartNamesrv(0)));
    s.namesrvs[0] = Namesrv {
        running: Some(NEW.to_owned()),
        ready: false,
    };
    assert_eq!(step(&s), Step::Wait(Wait::NamesrvNotReady(0)));
    s.namesrvs[0].ready = true;
    assert_eq!(step(&s), act(Action::RestartNamesrv(1)));
}

#[test]
fn brokers_are_told_a_shorter_name_server_list_before_the_removed_name_server_stops() {
    let mut s = cluster();
    s.namesrv_desired.pop();
    for g in &mut s.groups {
        for m in &mut g.members {
            m.namesrvs_current = false;
        }
    }
    assert_eq!(
        step(&s),
        act(Action::TellNamesrvs {
            group: 0,
            member: 0
        })
    );
    for g in &mut s.groups {
        for m in &mut g.members {
            m.namesrvs_current = true;
        }
    }
    assert_eq!(step(&s), act(Action::StopNamesrv(1)));
    s.namesrvs[1].running = None;
    assert_eq!(step(&s), Step::Done);
}

#[test]
fn adding_a_name_server_restarts_no_broker() {
    let mut s = cluster();
    s.namesrv_desired.push(OLD.to_owned());
    s.namesrvs.push(Namesrv {
        running: Some(OLD.to_owned()),
        ready: true,
    });
    s.groups[1].members[0].namesrvs_current = false;
    assert_eq!(
        step(&s),
        act(Action::TellNamesrvs {
            group: 1,
            member: 0
        })
    );
    s.groups[1].members[0].namesrvs_current = true;
    assert_eq!(step(&s), Step::Done);
}

#[test]
fn a_roll_takes_writes_off_the_group_then_waits_out_the_clients_route_refresh() {
    let mut s = cluster();
    change(&mut s, 0);
    assert_eq!(step(&s), act(Action::HoldWrites(0)));
    s.groups[0].writes = Writes { on: 0, of: 2 };
    s.groups[0].writes_held_since = Some(s.now - 5_000);
    assert_eq!(
        step(&s),
        Step::Wait(Wait::RoutesRefresh {
            group: 0,
            left: policy().route_refresh - 5_000
        })
    );
    held_long_ago(&mut s, 0);
    assert_eq!(step(&s), restart(0, 1));
}

#[test]
fn a_roll_restarts_nothing_while_sends_still_arrive_after_the_route_refresh() {
    let mut s = cluster();
    change(&mut s, 0);
    held_long_ago(&mut s, 0);
    for arriving in [Some(true), None] {
        s.groups[0].sends_arriving = arriving;
        assert_eq!(step(&s), Step::Wait(Wait::SendsStillArriving(0)));
    }
    s.groups[0].sends_arriving = Some(false);
    assert!(matches!(step(&s), Step::Act(Action::RestartMember { .. })));
}

#[test]
fn writes_still_on_some_name_server_are_taken_off_again() {
    let mut s = cluster();
    change(&mut s, 0);
    held_long_ago(&mut s, 0);
    s.groups[0].writes.on = 1;
    assert_eq!(step(&s), act(Action::HoldWrites(0)));
}

#[test]
fn a_roll_restarts_slaves_highest_first_each_ready_and_caught_up_before_the_next() {
    let mut s = cluster();
    s.groups[0] = group(0, 2, OLD);
    change(&mut s, 0);
    held_long_ago(&mut s, 0);
    assert_eq!(step(&s), restart(0, 2));
    s.groups[0].members[2] = Member {
        ready: false,
        behind: None,
        ..member(NEW)
    };
    assert_eq!(
        step(&s),
        Step::Wait(Wait::MemberNotReady {
            group: 0,
            member: 2
        })
    );
    s.groups[0].members[2].ready = true;
    s.groups[0].members[2].behind = Some(4096);
    assert_eq!(
        step(&s),
        Step::Wait(Wait::SlaveBehind {
            group: 0,
            member: 2,
            behind: Some(4096)
        })
    );
    s.groups[0].members[2].behind = Some(0);
    assert_eq!(step(&s), restart(0, 1));
    s.groups[0].members[1] = member(NEW);
    assert_eq!(step(&s), restart(0, 0));
}

#[test]
fn a_roll_never_restarts_a_master_whose_slave_is_not_caught_up() {
    let mut s = cluster();
    change(&mut s, 0);
    held_long_ago(&mut s, 0);
    s.groups[0].members[1] = member(NEW);
    for behind in [Some(1), Some(1 << 30), None] {
        s.groups[0].members[1].behind = behind;
        assert_eq!(
            step(&s),
            Step::Wait(Wait::SlaveBehind {
                group: 0,
                member: 1,
                behind
            })
        );
    }
    s.groups[0].members[1].ready = false;
    s.groups[0].members[1].behind = Some(0);
    assert_eq!(
        step(&s),
        Step::Wait(Wait::MemberNotReady {
            group: 0,
            member: 1
        })
    );
}

#[test]
fn a_restarted_master_that_registered_its_writes_again_has_them_taken_off_until_the_group_settles()
{
    let mut s = cluster();
    change(&mut s, 0);
    held_long_ago(&mut s, 0);
    s.groups[0].members = vec![member(NEW), member(NEW)];
    s.groups[0].members[1].ready = false;
    s.groups[0].writes.on = 2;
    assert_eq!(step(&s), act(Action::HoldWrites(0)));
}

#[test]
fn writes_come_back_once_every_pod_of_the_group_is_ready_and_caught_up() {
    let mut s = cluster();
    change(&mut s, 0);
    held_long_ago(&mut s, 0);
    s.groups[0].members = vec![member(NEW), member(NEW)];
    s.groups[0].members[1].behind = Some(10);
    assert!(matches!(step(&s), Step::Wait(Wait::SlaveBehind { .. })));
    s.groups[0].members[1].behind = Some(0);
    assert_eq!(step(&s), act(Action::ReleaseWrites(0)));
    s.groups[0].writes_held_since = None;
    s.groups[0].writes.on = 2;
    assert_eq!(step(&s), Step::Done);
}

#[test]
fn a_lone_group_rolls_without_taking_its_writes_off() {
    let mut s = cluster();
    s.groups.pop();
    s.desired_groups = 1;
    change(&mut s, 0);
    assert_eq!(step(&s), restart(0, 1));
}

#[test]
fn writes_stay_on_when_the_other_group_does_not_take_writes_everywhere() {
    let mut s = cluster();
    change(&mut s, 0);
    s.groups[1].writes.on = 1;
    assert!(matches!(
        step(&s),
        Step::Act(Action::RestartMember { group: 0, .. })
    ));
}

#[test]
fn a_group_does_not_roll_while_another_group_has_a_pod_not_ready_or_a_slave_behind() {
    let mut s = cluster();
    change(&mut s, 1);
    s.groups[0].members[1].ready = false;
    assert_eq!(
        step(&s),
        Step::Wait(Wait::OtherGroupUnhealthy {
            rolling: 1,
            unhealthy: 0
        })
    );
    s.groups[0].members[1].ready = true;
    s.groups[0].members[1].behind = Some(1);
    assert!(matches!(
        step(&s),
        Step::Wait(Wait::OtherGroupUnhealthy { .. })
    ));
}

#[test]
fn groups_roll_in_index_order_one_at_a_time() {
    let mut s = cluster();
    change(&mut s, 0);
    change(&mut s, 1);
    assert_eq!(step(&s), act(Action::HoldWrites(0)));
    held_long_ago(&mut s, 0);
    s.groups[0].members = vec![member(NEW), member(NEW)];
    assert_eq!(step(&s), act(Action::ReleaseWrites(0)));
    s.groups[0].writes_held_since = None;
    s.groups[0].writes.on = 2;
    assert_eq!(step(&s), act(Action::HoldWrites(1)));
}

#[test]
fn adding_a_slave_starts_it_with_the_groups_writes_on_and_restarts_no_master() {
    let mut s = cluster();
    s.groups[0].desired.push(OLD.to_owned());
    s.groups[0].members.push(absent());
    assert_eq!(
        step(&s),
        act(Action::StartMember {
            group: 0,
            member: 2
        })
    );
    // Started, it runs its spec: nothing of this group waits on it (another group's roll
    // does, until it is ready and caught up).
    s.groups[0].members[2] = Member {
        ready: false,
        behind: None,
        ..member(OLD)
    };
    assert_eq!(step(&s), Step::Done);
    change(&mut s, 1);
    assert_eq!(
        step(&s),
        Step::Wait(Wait::OtherGroupUnhealthy {
            rolling: 1,
            unhealthy: 0
        })
    );

    // A slave more while the template changes too: the restarts take the writes off first.
    let mut s = cluster();
    change(&mut s, 0);
    s.groups[0].desired.push(NEW.to_owned());
    s.groups[0].members.push(absent());
    assert_eq!(step(&s), act(Action::HoldWrites(0)));
}

#[test]
fn removing_a_slave_stops_the_highest_ordinal_only() {
    let mut s = cluster();
    s.groups[0] = group(0, 2, OLD);
    s.groups[0].desired.pop();
    held_long_ago(&mut s, 0);
    assert_eq!(
        step(&s),
        act(Action::StopMember {
            group: 0,
            member: 2
        })
    );
    s.groups[0].members[2] = absent();
    assert_eq!(step(&s), act(Action::ReleaseWrites(0)));
}

fn new_group(s: &mut Snapshot) {
    s.desired_groups = 3;
    s.groups.push(Group {
        members: vec![absent(), absent()],
        synced: false,
        metadata_missing: None,
        messages_left: None,
        writes: Writes::default(),
        ..group(2, 1, OLD)
    });
}

#[test]
fn a_new_group_starts_every_pod_then_gets_the_metadata_of_a_live_master_before_it_is_synced() {
    let mut s = cluster();
    new_group(&mut s);
    let start = |member| act(Action::StartMember { group: 2, member });
    assert_eq!(step(&s), start(0));
    s.groups[2].members[0] = Member {
        ready: false,
        ..member(OLD)
    };
    assert_eq!(step(&s), start(1));
    s.groups[2].members[1] = member(OLD);
    assert_eq!(
        step(&s),
        Step::Wait(Wait::MemberNotReady {
            group: 2,
            member: 0
        })
    );
    s.groups[2].members[0].ready = true;
    assert_eq!(step(&s), Step::Wait(Wait::MetadataUnknown(2)));
    s.groups[0].members[0].ready = false;
    s.groups[2].metadata_missing = Some(7);
    assert_eq!(
        step(&s),
        act(Action::SyncMetadata { from: 1, to: 2 }),
        "the first synced group with a ready master is the source"
    );
    s.groups[0].members[0].ready = true;
    assert_eq!(step(&s), act(Action::SyncMetadata { from: 0, to: 2 }));
    s.groups[2].metadata_missing = Some(0);
    assert_eq!(step(&s), act(Action::MarkSynced(2)));
}

#[test]
fn a_new_group_waits_when_no_synced_group_has_a_ready_master() {
    let mut s = cluster();
    new_group(&mut s);
    s.groups[2].members = vec![member(OLD), member(OLD)];
    for g in 0..2 {
        s.groups[g].members[0].ready = false;
    }
    assert_eq!(step(&s), Step::Wait(Wait::NoSyncSource(2)));
}

#[test]
fn the_groups_of_a_new_cluster_have_nothing_to_copy() {
    let mut s = cluster();
    for g in &mut s.groups {
        g.synced = false;
        g.metadata_missing = None;
    }
    assert_eq!(step(&s), act(Action::MarkSynced(0)));
}

fn removed_group(s: &mut Snapshot) {
    s.desired_groups = 1;
    s.groups[1].desired.clear();
    s.groups[1].messages_left = None;
}

#[test]
fn a_removed_group_loses_writes_first_and_is_kept_through_the_route_refresh() {
    let mut s = cluster();
    removed_group(&mut s);
    s.groups[1].messages_left = Some(0);
    assert_eq!(step(&s), act(Action::HoldWrites(1)));
    s.groups[1].writes = Writes { on: 0, of: 2 };
    s.groups[1].writes_held_since = Some(s.now - 1);
    assert_eq!(
        step(&s),
        Step::Wait(Wait::RoutesRefresh {
            group: 1,
            left: policy().route_refresh - 1
        })
    );
    s.groups[1].writes.on = 1;
    assert_eq!(step(&s), act(Action::HoldWrites(1)));
}

#[test]
fn a_drain_never_deletes_a_group_with_unconsumed_or_uncounted_messages() {
    let mut s = cluster();
    removed_group(&mut s);
    held_long_ago(&mut s, 1);
    s.now += 10 * 24 * 3_600_000;
    for left in [None, Some(1), Some(1_000_000)] {
        s.groups[1].messages_left = left;
        assert_eq!(
            step(&s),
            Step::Wait(Wait::Draining {
                group: 1,
                messages_left: left
            })
        );
    }
    s.groups[1].messages_left = Some(0);
    assert_eq!(step(&s), act(Action::DeleteGroup(1)));
}

#[test]
fn a_forced_or_timed_out_drain_deletes_with_messages_left() {
    let mut s = cluster();
    removed_group(&mut s);
    held_long_ago(&mut s, 1);
    s.groups[1].messages_left = Some(5);
    let timeout = Policy {
        drain_timeout: Some(policy().route_refresh + 60_000),
        ..policy()
    };
    assert!(matches!(
        next(&s, &timeout),
        Step::Wait(Wait::Draining { .. })
    ));
    s.now += 60_000;
    assert_eq!(next(&s, &timeout), act(Action::DeleteGroup(1)));
    s.now -= 60_000;
    s.groups[1].force_delete = true;
    assert_eq!(step(&s), act(Action::DeleteGroup(1)));
}

#[test]
fn removed_groups_drain_highest_index_first_and_do_not_count_as_taking_writes() {
    let mut s = cluster();
    s.groups.push(group(2, 1, OLD));
    removed_group(&mut s);
    s.groups[2].desired.clear();
    assert_eq!(step(&s), act(Action::HoldWrites(2)));
    // The one group left cannot hand its writes to a group being removed.
    change(&mut s, 0);
    assert!(matches!(
        step(&s),
        Step::Act(Action::RestartMember { group: 0, .. })
    ));
}

mod simulation;
