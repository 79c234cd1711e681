//! The local driver's eyes: a [`Snapshot`] of the running processes for the planner.
//!
//! | planner field | observed as |
//! |---|---|
//! | `running` | the process recorded in pids.json runs; its hash is the config file on disk (files are rewritten only when their process restarts) |
//! | broker `ready` | its `/readyz` answers 200 (store recovered, registered, a slave replicating) |
//! | name server `ready` | GET_BROKER_CLUSTER_INFO answers and lists, at its address, every ready broker whose config names it |
//! | `behind` | master's `commitLogMaxOffset` less the slave's (GET_BROKER_RUNTIME_INFO) |
//! | `namesrvs_current` | `namesrvAddr` of its config file is the spec's list |
//! | `writes` | on each name server of the spec, the write bit of the group's own topic (named after the group, on every broker) |
//! | `sends_arriving` | the master's `msgPutTotalTodayNow` moved over the last 2 s ([`Memory::sends_arriving`]) |
//! | `messages_left` | [`rmq_admin::change::drain::measure`] on the master |
//! | `metadata_missing` | [`rmq_admin::change::metadata::missing`] against the first synced group with a ready master |

use std::time::Duration;

use rmq_admin::Admin;
use rmq_admin::change::{drain, metadata, tables};
use rmq_operator::plan::hash::pod_hash;
use rmq_operator::plan::{Group, Member, Millis, Namesrv, Snapshot, Writes};
use rmq_protocol::body::perm;
use rmq_protocol::body::properties;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::setup::Change;
use super::{Memory, Processes};
use crate::local::plan::{BROKER_HEALTH_OFFSET, LOCAL_HOST, Node};

/// How long a `/readyz` may take.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(1);

/// The hash of a config text, as the planner compares them.
pub fn config_hash(text: &str) -> String {
    let entries = properties::parse(text);
    pod_hash(entries.iter().map(|(k, v)| (k.as_str(), v.as_str())), "")
}

/// `namesrvAddr` of a config text.
pub fn namesrv_addr(text: &str) -> Option<String> {
    properties::parse(text)
        .into_iter()
        .rev()
        .find(|(k, _)| k == "namesrvAddr")
        .map(|(_, v)| v)
}

/// What runs at `node`: the hash of its config file, when its process runs.
fn running(procs: &mut Processes, node: &Node) -> Option<(String, String)> {
    if !procs.runs(&node.name) {
        return None;
    }
    let text = std::fs::read_to_string(&node.config_path).ok()?;
    Some((config_hash(&text), text))
}

/// Observes the whole cluster.
pub async fn snapshot(
    change: &Change,
    procs: &mut Processes,
    memory: &mut Memory,
    now: Millis,
) -> Snapshot {
    let brokers = Admin::with_config(
        Vec::new(),
        super::setup::REQUEST_TIMEOUT,
        change.broker_client.clone(),
    );
    let namesrv_admin = Admin::with_config(
        Vec::new(),
        super::setup::REQUEST_TIMEOUT,
        change.namesrv_client.clone(),
    );
    let desired_groups = change.new.groups();
    let group_count = desired_groups.max(change.old.groups());
    let per_group = change.new.pods_per_group().max(change.old.pods_per_group());
    let spec_namesrvs = change.new_plan.namesrv_addr();

    // Brokers first: a name server is ready once it lists every ready broker.
    let mut groups = Vec::new();
    // (group, id, address, the name servers its config file names).
    let mut ready_brokers: Vec<(String, u32, String, String)> = Vec::new();
    for g in 0..group_count {
        let desired: Vec<String> = if g < desired_groups {
            (0..change.new.pods_per_group())
                .filter_map(|m| change.node(&change.broker_name(g, m)))
                .map(|n| config_hash(&n.config))
                .collect()
        } else {
            Vec::new()
        };
        let mut members = Vec::new();
        let mut max_offsets = Vec::new();
        let mut puts = None;
        for m in 0..per_group {
            let Some(node) = change.node(&change.broker_name(g, m)) else {
                members.push(Member::absent());
                max_offsets.push(None);
                continue;
            };
            let Some((hash, text)) = running(procs, node) else {
                members.push(Member::absent());
                max_offsets.push(None);
                continue;
            };
            let ready = readyz(node).await;
            if ready {
                ready_brokers.push((
                    change.group_name(g),
                    m,
                    node.addr.clone(),
                    namesrv_addr(&text).unwrap_or_default(),
                ));
            }
            let info = brokers.runtime_info(&node.addr).await.ok();
            let figure = |key: &str| {
                info.as_ref()
                    .and_then(|i| i.table.get(key))
                    .and_then(|v| v.parse::<u64>().ok())
            };
            let offset = figure("commitLogMaxOffset");
            if m == 0 {
                puts = figure("msgPutTotalTodayNow");
            }
            max_offsets.push(offset);
            members.push(Member {
                running: Some(hash),
                ready,
                behind: None,
                namesrvs_current: namesrv_addr(&text).as_deref() == Some(spec_namesrvs.as_str()),
            });
        }
        for m in 1..members.len() {
            if let (Some(master), Some(slave)) = (max_offsets[0], max_offsets[m]) {
                members[m].behind = Some(master.saturating_sub(slave));
            }
        }
        if g >= desired_groups && members.iter().all(|m| m.running.is_none()) {
            continue;
        }
        groups.push(Group {
            index: g,
            members,
            desired,
            writes: Writes::default(),
            writable_by_spec: writable_by_spec(change),
            writes_held_since: memory.held_since.get(&g).copied(),
            synced: memory.synced.contains(&g),
            metadata_missing: None,
            messages_left: None,
            force_delete: memory.force_delete,
            sends_arriving: puts.and_then(|count| memory.sends_arriving(g, now, count)),
        });
    }

    let mut namesrvs = Vec::new();
    let namesrv_count = change.new.name_servers().max(change.old.name_servers());
    for i in 0..namesrv_count {
        let Some(node) = change.node(&change.namesrv_name(i)) else {
            namesrvs.push(Namesrv {
                running: None,
                ready: false,
            });
            continue;
        };
        let Some((hash, _)) = running(procs, node) else {
            namesrvs.push(Namesrv {
                running: None,
                ready: false,
            });
            continue;
        };
        let ready =
            lists_every_ready_broker(&change.namesrv_client, &node.addr, &ready_brokers).await;
        namesrvs.push(Namesrv {
            running: Some(hash),
            ready,
        });
    }

    for group in &mut groups {
        let name = change.group_name(group.index);
        let master = change.node(&change.broker_name(group.index, 0));
        let master_runs = group.member(0).is_some_and(|m| m.running.is_some());
        if master_runs {
            group.writes = writes(&namesrv_admin, change, &name).await;
        }
        if group.index >= desired_groups
            && master_runs
            && let Some(master) = master
        {
            group.messages_left = drain::measure(&brokers, &master.addr).await;
        }
    }
    let mut snapshot = Snapshot {
        namesrvs,
        namesrv_desired: (0..change.new.name_servers())
            .filter_map(|i| change.node(&change.namesrv_name(i)))
            .map(|n| config_hash(&n.config))
            .collect(),
        groups,
        desired_groups,
        now,
    };
    measure_missing_metadata(change, &brokers, &mut snapshot).await;
    snapshot
}

/// `metadata_missing` of every unsynced group of the spec whose master is ready.
async fn measure_missing_metadata(change: &Change, brokers: &Admin, snapshot: &mut Snapshot) {
    let ready_master = |g: &Group| g.member(0).is_some_and(|m| m.ready);
    let Some(source) = snapshot
        .kept()
        .find(|g| g.synced && ready_master(g))
        .map(|g| g.index)
    else {
        return;
    };
    let targets: Vec<u32> = snapshot
        .kept()
        .filter(|g| !g.synced && ready_master(g))
        .map(|g| g.index)
        .collect();
    if targets.is_empty() {
        return;
    }
    let addr = |g| {
        change
            .node(&change.broker_name(g, 0))
            .map(|n| n.addr.clone())
    };
    let Some(source_tables) = tables(brokers, addr(source)).await else {
        return;
    };
    for target in targets {
        if let Some(target_tables) = tables(brokers, addr(target)).await {
            let count = metadata::missing(&source_tables, &target_tables).count();
            if let Some(group) = snapshot.groups.iter_mut().find(|g| g.index == target) {
                group.metadata_missing = Some(count);
            }
        }
    }
}

/// The group's write bit on each name server of the spec.
async fn writes(admin: &Admin, change: &Change, group: &str) -> Writes {
    let mut writes = Writes {
        on: 0,
        of: u32::try_from(change.new_plan.namesrvs.len()).unwrap_or(u32::MAX),
    };
    for ns in &change.new_plan.namesrvs {
        let Ok(Some(route)) = admin.route_on(&ns.addr, group).await else {
            continue;
        };
        if route
            .queue_datas
            .iter()
            .any(|q| q.broker_name == group && perm::is_writeable(q.perm))
        {
            writes.on += 1;
        }
    }
    writes
}

/// GET_BROKER_CLUSTER_INFO of `addr` lists every broker of `ready` that registers with it (a
/// name server just added is ready once it answers: brokers learn of it afterwards).
async fn lists_every_ready_broker(
    config: &rmq_remoting::ClientConfig,
    addr: &str,
    ready: &[(String, u32, String, String)],
) -> bool {
    let Ok(info) = Admin::with_config(
        vec![addr.to_owned()],
        super::setup::REQUEST_TIMEOUT,
        config.clone(),
    )
    .cluster_info()
    .await
    else {
        return false;
    };
    ready
        .iter()
        .filter(|(.., namesrvs)| namesrvs.split(';').any(|n| n.trim() == addr))
        .all(|(group, id, broker, _)| {
            info.broker_addr_table
                .get(group)
                .and_then(|g| g.broker_addrs.get(&i64::from(*id)))
                == Some(broker)
        })
}

/// `brokerPermission` of the spec keeps the write bit (Apache's default 6 does).
fn writable_by_spec(change: &Change) -> bool {
    change
        .new
        .spec
        .broker
        .config
        .get("brokerPermission")
        .and_then(|v| v.trim().parse::<i32>().ok())
        .is_none_or(perm::is_writeable)
}

/// GET `/readyz` on the broker's health port answers 200.
async fn readyz(node: &Node) -> bool {
    let Some(port) = node
        .addr
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse::<u16>().ok())
        .and_then(|p| p.checked_add(BROKER_HEALTH_OFFSET))
    else {
        return false;
    };
    let ask = async {
        let mut stream = TcpStream::connect((LOCAL_HOST, port)).await?;
        stream
            .write_all(b"GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .await?;
        let mut head = Vec::new();
        let mut buf = [0u8; 64];
        while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 256 {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<bool, std::io::Error>(status_is_ok(&head))
    };
    matches!(
        tokio::time::timeout(HEALTH_TIMEOUT, ask).await,
        Ok(Ok(true))
    )
}

/// An HTTP status line of 200.
fn status_is_ok(head: &[u8]) -> bool {
    let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    parts.next().is_some_and(|v| v.starts_with(b"HTTP/")) && parts.next() == Some(b"200")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_server_list_or_a_comment_does_not_change_a_config_hash_but_a_value_does() {
        let a = config_hash("# one\nbrokerId=0\nnamesrvAddr=a:1\n");
        assert_eq!(a, config_hash("namesrvAddr=a:1;b:2\nbrokerId=0\n"));
        assert_ne!(a, config_hash("brokerId=0\nflushDiskType=SYNC_FLUSH\n"));
    }

    #[test]
    fn only_a_200_status_line_is_ready() {
        assert!(status_is_ok(b"HTTP/1.1 200 OK\r\n"));
        assert!(!status_is_ok(b"HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(!status_is_ok(b"garbage 200\r\n"));
        assert!(!status_is_ok(b""));
    }

    #[test]
    fn the_last_name_server_list_of_a_config_counts() {
        assert_eq!(
            namesrv_addr("namesrvAddr=a:1\nnamesrvAddr=b:2\n").as_deref(),
            Some("b:2")
        );
        assert_eq!(namesrv_addr("brokerId=0\n"), None);
    }
}
