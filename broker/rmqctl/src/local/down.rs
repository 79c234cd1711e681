//! `rmqctl down`: stop what `pids.json` records, brokers first (so they can unregister from
//! the name servers still running), then name servers; SIGTERM, up to 20 s, then SIGKILL.
//!
//! A cluster run by a foreground `rmqctl up` still alive is stopped through that process
//! (SIGTERM), which stops its children in the same order and removes `pids.json` itself.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::DownArgs;
use crate::local::error::DownError;
use crate::local::manifest;
use crate::local::pids::PidsFile;
use crate::local::plan::{self, Kind};
use crate::local::process::{self, Liveness, StopOutcome, Target};
use crate::local::up::STOP_GRACE;

/// How long a foreground `rmqctl up` may take to stop its cluster: two groups, each with the
/// grace period and the SIGKILL wait, and some slack.
const FOREGROUND_GRACE: Duration = Duration::from_secs(60);

/// What stopping left behind.
#[derive(Debug, Default)]
pub struct StopReport {
    /// Names of processes still running after SIGKILL.
    pub survivors: Vec<String>,
}

/// Runs `rmqctl down`.
pub fn run(args: &DownArgs) -> Result<(), DownError> {
    let dir = state_dir(args)?;
    if !dir.is_dir() {
        return Err(DownError::NoStateDir { dir });
    }
    let pids_path = plan::pids_path(&dir);
    match PidsFile::read(&pids_path)? {
        None => println!(
            "no cluster recorded in {}: nothing to stop",
            pids_path.display()
        ),
        Some(pids) => stop_recorded(&pids, &pids_path)?,
    }
    if args.purge {
        let empty = std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_none());
        if !empty && !plan::manifest_copy_path(&dir).is_file() {
            return Err(DownError::NotAStateDir { dir });
        }
        std::fs::remove_dir_all(&dir).map_err(|source| DownError::Remove {
            path: dir.clone(),
            source,
        })?;
        println!("removed {}", dir.display());
        // Drop `.rmq` too once its last cluster is gone; a non-empty one stays (the call fails).
        if let Some(parent) = dir
            .parent()
            .filter(|p| p.file_name() == Some(".rmq".as_ref()))
        {
            let _ = std::fs::remove_dir(parent);
        }
    }
    Ok(())
}

/// Stops the cluster of `pids`, then removes `pids_path`.
fn stop_recorded(pids: &PidsFile, pids_path: &Path) -> Result<(), DownError> {
    let up = pids.rmqctl_pid;
    if !pids.detached && process::liveness(up, pids.rmqctl_start_time) == Liveness::Running {
        println!(
            "cluster {} is run by rmqctl up (pid {up}) in the foreground: stopping it",
            pids.cluster
        );
        let mut target = [Target::pid("rmqctl up", up, pids.rmqctl_start_time)];
        match process::stop(&mut target, FOREGROUND_GRACE).as_slice() {
            [StopOutcome::Exited] => {}
            [StopOutcome::Killed] => println!(
                "rmqctl up (pid {up}) did not exit within {} s: killed with SIGKILL; stopping \
                 its processes directly",
                FOREGROUND_GRACE.as_secs()
            ),
            _ => println!("rmqctl up (pid {up}) is gone; stopping its processes directly"),
        }
        // It removed pids.json on a clean stop; whatever it left is handled below.
        if !pids_path.exists() {
            println!("cluster {} stopped", pids.cluster);
            return Ok(());
        }
    }
    let brokers = pids.of_kind(Kind::Broker).map(Target::recorded).collect();
    let namesrvs = pids.of_kind(Kind::Namesrv).map(Target::recorded).collect();
    let report = stop_in_order(brokers, namesrvs, STOP_GRACE, |line| println!("{line}"));
    if !report.survivors.is_empty() {
        return Err(DownError::Survived {
            names: report.survivors,
        });
    }
    match std::fs::remove_file(pids_path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(DownError::Remove {
            path: pids_path.to_path_buf(),
            source: error,
        }),
        _ => {
            println!("cluster {} stopped", pids.cluster);
            Ok(())
        }
    }
}

/// Stops `brokers`, then `namesrvs`, each group at once, with one line per process for
/// `report`.
pub fn stop_in_order(
    brokers: Vec<Target>,
    namesrvs: Vec<Target>,
    grace: Duration,
    mut report: impl FnMut(String),
) -> StopReport {
    let mut survivors = Vec::new();
    for (what, mut targets) in [("brokers", brokers), ("name servers", namesrvs)] {
        if targets.is_empty() {
            continue;
        }
        let list: Vec<String> = targets
            .iter()
            .map(|t| format!("{} (pid {})", t.name, t.pid))
            .collect();
        report(format!("stopping {what}: {}", list.join(", ")));
        let outcomes = process::stop(&mut targets, grace);
        for (target, outcome) in targets.iter().zip(outcomes) {
            let (name, pid) = (&target.name, target.pid);
            report(match outcome {
                StopOutcome::Exited => format!("stopped {name}"),
                StopOutcome::Killed => format!(
                    "{name} (pid {pid}) did not exit within {} s of SIGTERM: killed with SIGKILL",
                    grace.as_secs()
                ),
                StopOutcome::NotRunning => format!("{name} (pid {pid}) had already exited"),
                StopOutcome::PidReused => {
                    format!("{name}: pid {pid} now belongs to another program; left alone")
                }
                StopOutcome::Survived => {
                    survivors.push(name.clone());
                    format!("{name} (pid {pid}) is still running after SIGKILL")
                }
            });
        }
    }
    StopReport { survivors }
}

/// `--dir`; else `.rmq/<name>` of `-f`'s cluster; else the only `.rmq/*` with a pids.json.
fn state_dir(args: &DownArgs) -> Result<PathBuf, DownError> {
    if let Some(dir) = &args.dir {
        return Ok(dir.clone());
    }
    let root = Path::new(".rmq");
    if let Some(file) = &args.file {
        let (_, parsed) = manifest::load(file)?;
        let name = manifest::cluster_name(&parsed.cluster)
            .ok_or_else(|| DownError::NoName { path: file.clone() })?;
        return Ok(root.join(name));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|dir| plan::pids_path(dir).is_file())
        .collect();
    found.sort();
    match <[PathBuf; 1]>::try_from(found) {
        Ok([dir]) => Ok(dir),
        Err(found) => Err(DownError::WhichCluster {
            searched: root.to_path_buf(),
            found,
        }),
    }
}
