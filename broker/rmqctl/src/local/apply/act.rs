//! The local driver's hands: each planner [`Action`] done to local processes and through the
//! admin API, and [`Processes`], what runs and how it is started and stopped.

use std::collections::HashMap;
use std::path::PathBuf;

use rmq_admin::Admin;
use rmq_operator::crd::PvcRetentionPolicy;
use rmq_operator::plan::{Action, Millis};

use super::Memory;
use super::error::ApplyError;
use super::observe::namesrv_addr;
use super::setup::{Change, REQUEST_TIMEOUT};
use crate::local::UpError;
use crate::local::pids::{PidsFile, ProcessRecord};
use crate::local::plan::Node;
use crate::local::process::{self, Liveness, Readiness, StopOutcome, Target};
use crate::local::up::{LISTEN_TIMEOUT, STOP_GRACE};

/// Lines of a log quoted in an error.
const TAIL_LINES: usize = 15;

/// What runs, mirrored in pids.json after every start and stop.
pub struct Processes {
    pub pids: PidsFile,
    pub pids_path: PathBuf,
    /// Processes started by this `apply`: stopped through their handle, so none lingers as a
    /// zombie that still looks alive.
    children: HashMap<String, std::process::Child>,
}

impl Processes {
    pub fn new(pids: PidsFile, pids_path: PathBuf) -> Processes {
        Processes {
            pids,
            pids_path,
            children: HashMap::new(),
        }
    }

    /// The process recorded as `name` runs.
    pub fn runs(&mut self, name: &str) -> bool {
        if let Some(child) = self.children.get_mut(name) {
            return matches!(child.try_wait(), Ok(None));
        }
        self.pids
            .processes
            .iter()
            .find(|p| p.name == name)
            .is_some_and(|p| process::liveness(p.pid, p.start_time) == Liveness::Running)
    }

    /// Stops `name` (SIGTERM, up to [`STOP_GRACE`], then SIGKILL) and forgets it.
    pub fn stop(&mut self, name: &str) -> Result<(), ApplyError> {
        let target = match self.children.remove(name) {
            Some(child) => Some(Target::child(name, child)),
            None => self
                .pids
                .processes
                .iter()
                .find(|p| p.name == name)
                .map(Target::recorded),
        };
        if let Some(target) = target {
            let pid = target.pid;
            let mut targets = [target];
            if process::stop(&mut targets, STOP_GRACE) == [StopOutcome::Survived] {
                return Err(ApplyError::Survived {
                    name: name.to_owned(),
                    pid,
                });
            }
        }
        self.pids.processes.retain(|p| p.name != name);
        self.pids.write(&self.pids_path)?;
        Ok(())
    }

    /// Writes `node`'s config file, starts it and waits for its `listening on` line.
    pub async fn start(&mut self, change: &Change, node: &Node) -> Result<(), ApplyError> {
        write(&node.home, None)?;
        write(&node.config_path, Some(&node.config))?;
        let binary = change.binary(node.kind);
        let mut spawned =
            process::spawn(binary, node, change.inner.as_ref()).map_err(|source| {
                UpError::Spawn {
                    name: node.name.clone(),
                    binary: binary.to_path_buf(),
                    source,
                }
            })?;
        self.pids.processes.retain(|p| p.name != node.name);
        self.pids
            .processes
            .push(ProcessRecord::spawned(node, &spawned));
        self.pids.write(&self.pids_path)?;
        let from = spawned.log_from;
        let readiness =
            process::wait_ready(&mut spawned.child, &node.log, from, LISTEN_TIMEOUT).await;
        self.children.insert(node.name.clone(), spawned.child);
        let tail = || process::tail(&node.log, from, TAIL_LINES);
        match readiness {
            Readiness::Ready => Ok(()),
            Readiness::Exited(status) => Err(UpError::ExitedEarly {
                name: node.name.clone(),
                status: status.to_string(),
                tail: tail(),
                log: node.log.clone(),
            }
            .into()),
            Readiness::TimedOut => Err(UpError::NotListening {
                name: node.name.clone(),
                waited: LISTEN_TIMEOUT,
                rust_log: std::env::var("RUST_LOG").ok(),
                tail: tail(),
                log: node.log.clone(),
            }
            .into()),
        }
    }
}

/// Creates a directory (`text` None) or writes a file.
fn write(path: &std::path::Path, text: Option<&str>) -> Result<(), ApplyError> {
    let (action, result) = match text {
        None => ("create", std::fs::create_dir_all(path)),
        Some(text) => ("write", std::fs::write(path, text)),
    };
    result.map_err(|source| {
        UpError::StateDir {
            action,
            path: path.to_path_buf(),
            source,
        }
        .into()
    })
}

/// Does `action`.
pub async fn act(
    change: &Change,
    procs: &mut Processes,
    memory: &mut Memory,
    action: &Action,
    now: Millis,
) -> Result<(), ApplyError> {
    let brokers = Admin::with_config(Vec::new(), REQUEST_TIMEOUT, change.broker_client.clone());
    let namesrvs = Admin::with_config(Vec::new(), REQUEST_TIMEOUT, change.namesrv_client.clone());
    let node_of = |name: String| change.node(&name).cloned();
    match *action {
        Action::StartNamesrv(i) | Action::RestartNamesrv(i) => {
            if let Some(node) = node_of(change.namesrv_name(i)) {
                procs.stop(&node.name)?;
                procs.start(change, &node).await?;
            }
        }
        Action::StopNamesrv(i) => procs.stop(&change.namesrv_name(i))?,
        Action::StartMember { group, member } | Action::RestartMember { group, member } => {
            if let Some(node) = node_of(change.broker_name(group, member)) {
                procs.stop(&node.name)?;
                procs.start(change, &node).await?;
                if member == 0 && memory.held_since.contains_key(&group) {
                    keep_writes_off(change, &namesrvs, group).await?;
                }
            }
        }
        Action::StopMember { group, member } => procs.stop(&change.broker_name(group, member))?,
        Action::TellNamesrvs { group, member } => {
            if let Some(node) = node_of(change.broker_name(group, member)) {
                tell_namesrvs(change, &brokers, &node).await?;
            }
        }
        Action::HoldWrites(group) => {
            let name = change.group_name(group);
            for ns in &change.new_plan.namesrvs {
                namesrvs
                    .wipe_write_perm(&ns.addr, &name)
                    .await
                    .map_err(|e| {
                        ApplyError::request(
                            format!("take writes off {name} on the name server {}", ns.addr),
                            e,
                        )
                    })?;
            }
            memory.held_since.entry(group).or_insert(now);
        }
        Action::ReleaseWrites(group) => {
            let name = change.group_name(group);
            for ns in &change.new_plan.namesrvs {
                namesrvs
                    .add_write_perm(&ns.addr, &name)
                    .await
                    .map_err(|e| {
                        ApplyError::request(
                            format!("give writes back to {name} on the name server {}", ns.addr),
                            e,
                        )
                    })?;
            }
            memory.held_since.remove(&group);
        }
        Action::SyncMetadata { from, to } => sync_metadata(change, &brokers, from, to).await?,
        Action::MarkSynced(group) => {
            memory.synced.insert(group);
        }
        Action::DeleteGroup(group) => {
            let members = change.new.pods_per_group().max(change.old.pods_per_group());
            for m in (0..members).rev() {
                procs.stop(&change.broker_name(group, m))?;
            }
            delete_stores(change, group, members)?;
            memory.held_since.remove(&group);
        }
    }
    Ok(())
}

/// A master that starts registers its topics writable again. While its group's writes are
/// held, they are taken off again the moment each name server shows the registration (polled
/// every [`REWIPE_POLL`], for at most [`REWIPE_LIMIT`]), so clients refreshing their routes in
/// between are unlikely to see the group writable before its slaves are back. After the limit
/// the planner's next step takes them off anyway.
async fn keep_writes_off(change: &Change, namesrvs: &Admin, group: u32) -> Result<(), ApplyError> {
    let name = change.group_name(group);
    let deadline = std::time::Instant::now() + REWIPE_LIMIT;
    let mut pending: Vec<&str> = change
        .new_plan
        .namesrvs
        .iter()
        .map(|ns| ns.addr.as_str())
        .collect();
    while !pending.is_empty() && std::time::Instant::now() < deadline {
        let mut still = Vec::new();
        for addr in pending {
            let registered = match namesrvs.route_on(addr, &name).await {
                Ok(Some(route)) => route.queue_datas.iter().any(|q| q.broker_name == name),
                _ => false,
            };
            if !registered {
                still.push(addr);
                continue;
            }
            namesrvs.wipe_write_perm(addr, &name).await.map_err(|e| {
                ApplyError::request(
                    format!("take writes off {name} on the name server {addr}"),
                    e,
                )
            })?;
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(REWIPE_POLL).await;
        }
    }
    Ok(())
}

/// How often a restarted master's registration is looked for.
const REWIPE_POLL: std::time::Duration = std::time::Duration::from_millis(20);
/// How long it is looked for.
const REWIPE_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// UPDATE_BROKER_CONFIG `namesrvAddr` (the broker registers with the new list at once), then
/// the same line in its config file, for its next start.
async fn tell_namesrvs(change: &Change, brokers: &Admin, node: &Node) -> Result<(), ApplyError> {
    let list = change.new_plan.namesrv_addr();
    brokers
        .update_broker_config(&node.addr, &format!("namesrvAddr={list}\n"))
        .await
        .map_err(|e| {
            ApplyError::request(format!("give {} the name servers {list}", node.name), e)
        })?;
    let text = std::fs::read_to_string(&node.config_path).map_err(|source| UpError::StateDir {
        action: "read",
        path: node.config_path.clone(),
        source,
    })?;
    if namesrv_addr(&text).as_deref() != Some(list.as_str()) {
        write(&node.config_path, Some(&with_namesrv_addr(&text, &list)))?;
    }
    Ok(())
}

/// `text` with every `namesrvAddr` line replaced by one naming `list`.
pub fn with_namesrv_addr(text: &str, list: &str) -> String {
    let mut out = String::new();
    let mut done = false;
    for line in text.lines() {
        let key = line
            .trim_start()
            .split(['=', ':', ' '])
            .next()
            .unwrap_or("");
        if key == "namesrvAddr" {
            if !done {
                out.push_str(&format!("namesrvAddr={list}\n"));
                done = true;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if !done {
        out.push_str(&format!("namesrvAddr={list}\n"));
    }
    out
}

/// Copies what `to`'s master lacks from `from`'s master ([`rmq_admin::change::sync`]).
async fn sync_metadata(
    change: &Change,
    brokers: &Admin,
    from: u32,
    to: u32,
) -> Result<(), ApplyError> {
    let addr = |g| {
        change
            .node(&change.broker_name(g, 0))
            .map(|n| n.addr.clone())
    };
    let (Some(source), Some(target)) = (addr(from), addr(to)) else {
        return Ok(());
    };
    let copied = rmq_admin::change::sync(brokers, &source, &target)
        .await
        .map_err(|source| ApplyError::Sync {
            to: change.group_name(to),
            source,
        })?;
    println!(
        "copied {} topics and {} subscription groups from {} to {}",
        copied.topics.len(),
        copied.groups.len(),
        change.group_name(from),
        change.group_name(to)
    );
    Ok(())
}

/// A deleted group's directories go as `pvcRetention.whenScaled` says: kept by default.
fn delete_stores(change: &Change, group: u32, members: u32) -> Result<(), ApplyError> {
    let delete = change.new.spec.broker.pvc_retention.when_scaled == PvcRetentionPolicy::Delete;
    for m in 0..members {
        let Some(node) = change.node(&change.broker_name(group, m)) else {
            continue;
        };
        if delete {
            match std::fs::remove_dir_all(&node.home) {
                Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
                    return Err(UpError::StateDir {
                        action: "delete",
                        path: node.home.clone(),
                        source,
                    }
                    .into());
                }
                _ => println!(
                    "deleted {} (pvcRetention.whenScaled: Delete)",
                    node.home.display()
                ),
            }
        } else {
            println!(
                "kept {} (pvcRetention.whenScaled: Retain): a later group {group} starts from it",
                node.home.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_name_server_list_replaces_the_line_and_keeps_every_other() {
        let text = "# c\nbrokerId=0\nnamesrvAddr=a:1\nlistenPort=10911\n";
        assert_eq!(
            with_namesrv_addr(text, "a:1;b:2"),
            "# c\nbrokerId=0\nnamesrvAddr=a:1;b:2\nlistenPort=10911\n"
        );
        assert_eq!(
            with_namesrv_addr("brokerId=0", "x:1"),
            "brokerId=0\nnamesrvAddr=x:1\n"
        );
    }
}
