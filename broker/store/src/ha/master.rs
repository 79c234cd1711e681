//! The master's side of replication, without I/O: which slaves are connected and what each has
//! confirmed, what to send each next, and the SYNC_MASTER waiters.
//!
//! A SYNC_MASTER append registers a waiter for its end offset ([`Master::register_wait`]). It is
//! decided at once when no connected slave is close enough (`haSlaveFallbehindMax`:
//! SLAVE_NOT_AVAILABLE) or a slave already confirmed the offset; otherwise it completes
//! `Replicated` as soon as any slave reports an offset at or past it ([`Master::on_report`]), or
//! `Timeout` when its deadline (`slaveTimeout`) passes first ([`Master::expire`]).
//!
//! Differences from Apache 4.x, where this is safer:
//! - Confirmations are per connection, not one service-wide maximum: a slave that reconnects from
//!   an older offset (its disk was replaced) confirms only what it really has again.
//! - A slave whose first report is past the master's end is refused (Apache only refuses later
//!   reports): its history diverged from ours, and its confirmations would be false.
//! - A slave counts as available only once it reported an offset; Apache counts a connection
//!   that has not reported yet.
//!
//! The caller supplies the clock (`now`) and the master's commit log end (`master_max`), and
//! carries the waiter token `W` (a channel sender in the broker, a number in tests).

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Master settings, with Apache's key names.
#[derive(Debug, Clone)]
pub struct MasterConfig {
    /// `mappedFileSizeCommitLog`: a slave reporting 0 is sent the master's last file from its
    /// start.
    pub file_size: u64,
    /// `haSlaveFallbehindMax` (256 MiB): a slave further behind than this does not count.
    pub fall_behind_max: u64,
    /// `slaveTimeout` (3 s in 4.9): how long a SYNC_MASTER append waits for a confirmation.
    pub wait_timeout: Duration,
    /// `haSendHeartbeatInterval` (5 s): an idle connection gets an empty frame this often.
    pub heartbeat_interval: Duration,
}

impl Default for MasterConfig {
    fn default() -> Self {
        MasterConfig {
            file_size: 1 << 30,
            fall_behind_max: 256 << 20,
            wait_timeout: Duration::from_millis(3000),
            heartbeat_interval: Duration::from_millis(5000),
        }
    }
}

/// Identifies one slave connection.
pub type SlaveId = u64;

/// How a SYNC_MASTER wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaStatus {
    /// A slave confirmed the end offset.
    Replicated,
    /// No connected slave was within `haSlaveFallbehindMax` when the wait began (SLAVE_NOT_AVAILABLE).
    SlaveNotAvailable,
    /// No slave confirmed within `slaveTimeout` (FLUSH_SLAVE_TIMEOUT).
    Timeout,
}

/// What [`Master::register_wait`] decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Registered<W> {
    /// Decided at once; the token comes back with the outcome.
    Decided(W, ReplicaStatus),
    /// Waiting until the returned deadline.
    Waiting(Instant),
}

/// A slave's report could not be accepted; the connection must be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error(
        "slave reports offset {offset}, past the master's end {master_max}: its commit log diverged"
    )]
    SlaveAhead { offset: u64, master_max: u64 },
    #[error("unknown slave connection {0}")]
    UnknownSlave(SlaveId),
}

/// Replication lag, for GET_BROKER_RUNTIME_INFO and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lag {
    /// Connected slaves.
    pub slaves: usize,
    /// Highest offset a connected slave confirmed.
    pub acked: Option<u64>,
    /// Master end minus `acked`.
    pub bytes: Option<u64>,
    /// Age of the oldest append no slave confirmed (0 when none). An upper bound when more than
    /// [`MAX_SAMPLES`] milliseconds of appends are unconfirmed.
    pub millis: Option<u64>,
}

/// Most append-time samples kept for [`Lag::millis`] (one per millisecond with appends).
pub const MAX_SAMPLES: usize = 100_000;

#[derive(Debug)]
struct Link {
    /// The first report: where the slave asked to start.
    requested: Option<u64>,
    /// The latest report.
    acked: Option<u64>,
    /// Where the next transfer starts; known after the first report.
    next: Option<u64>,
    last_write: Instant,
}

#[derive(Debug)]
struct Waiter<W> {
    deadline: Instant,
    token: W,
}

/// The master's replication state.
#[derive(Debug)]
pub struct Master<W> {
    config: MasterConfig,
    links: BTreeMap<SlaveId, Link>,
    next_id: SlaveId,
    /// Keyed by (end offset, registration number): confirmations complete a prefix.
    waiters: BTreeMap<(u64, u64), Waiter<W>>,
    next_seq: u64,
    /// (end offset, time) of appends, oldest first, coalesced per millisecond.
    samples: VecDeque<(u64, Instant)>,
}

impl<W> Master<W> {
    pub fn new(config: MasterConfig) -> Self {
        Master {
            config,
            links: BTreeMap::new(),
            next_id: 1,
            waiters: BTreeMap::new(),
            next_seq: 0,
            samples: VecDeque::new(),
        }
    }

    pub fn config(&self) -> &MasterConfig {
        &self.config
    }

    /// A slave connected. Nothing is sent to it before its first report.
    pub fn connect(&mut self, now: Instant) -> SlaveId {
        let id = self.next_id;
        self.next_id += 1;
        self.links.insert(
            id,
            Link {
                requested: None,
                acked: None,
                next: None,
                last_write: now,
            },
        );
        id
    }

    /// A slave's connection closed. Its waiters keep waiting: another slave, or this one after
    /// reconnecting, may still confirm in time.
    pub fn disconnect(&mut self, id: SlaveId) {
        self.links.remove(&id);
    }

    /// Connected slaves.
    pub fn slaves(&self) -> usize {
        self.links.len()
    }

    /// A slave reported its max offset. Returns the waiters this confirms.
    pub fn on_report(
        &mut self,
        id: SlaveId,
        offset: u64,
        master_max: u64,
    ) -> Result<Vec<(W, ReplicaStatus)>, ReportError> {
        let file_size = self.config.file_size.max(1);
        let link = self
            .links
            .get_mut(&id)
            .ok_or(ReportError::UnknownSlave(id))?;
        if offset > master_max {
            return Err(ReportError::SlaveAhead { offset, master_max });
        }
        if link.requested.is_none() {
            link.requested = Some(offset);
            // A new slave (0) starts at the master's last file, as Apache does: older files may
            // be deleted any time by retention, and copying them would delay catching up.
            link.next = Some(if offset == 0 {
                master_max - master_max % file_size
            } else {
                offset
            });
        }
        link.acked = Some(offset);
        Ok(self.confirm(offset))
    }

    /// Where the first report asked to start, once known.
    pub fn requested(&self, id: SlaveId) -> Option<u64> {
        self.links.get(&id).and_then(|l| l.requested)
    }

    /// Where the next transfer to this slave starts; `None` until its first report.
    pub fn next_transfer(&self, id: SlaveId) -> Option<u64> {
        self.links.get(&id).and_then(|l| l.next)
    }

    /// `len` bytes from `offset` (0 for a heartbeat) were written to the slave's socket.
    pub fn on_sent(&mut self, id: SlaveId, offset: u64, len: usize, now: Instant) {
        if let Some(link) = self.links.get_mut(&id) {
            debug_assert_eq!(link.next, Some(offset), "transfers follow next_transfer");
            link.next = Some(offset + len as u64);
            link.last_write = now;
        }
    }

    /// Whether the slave is due a heartbeat (nothing written for `haSendHeartbeatInterval`).
    pub fn heartbeat_due(&self, id: SlaveId, now: Instant) -> bool {
        self.links.get(&id).is_some_and(|l| {
            l.next.is_some()
                && now.saturating_duration_since(l.last_write) >= self.config.heartbeat_interval
        })
    }

    /// When the slave's next heartbeat is due if nothing is written before.
    pub fn heartbeat_at(&self, id: SlaveId) -> Option<Instant> {
        self.links
            .get(&id)
            .map(|l| l.last_write + self.config.heartbeat_interval)
    }

    /// Records that the master's commit log now ends at `end_offset` (for [`Lag::millis`]).
    pub fn on_append(&mut self, end_offset: u64, now: Instant) {
        let full = self.samples.len() >= MAX_SAMPLES;
        if let Some((end, at)) = self.samples.back_mut()
            && (full || now.saturating_duration_since(*at) < Duration::from_millis(1))
        {
            // A coalesced sample keeps its older time: lag time is over-, never underestimated.
            *end = (*end).max(end_offset);
        } else {
            self.samples.push_back((end_offset, now));
        }
    }

    /// Registers a SYNC_MASTER wait for `end_offset`.
    pub fn register_wait(&mut self, end_offset: u64, now: Instant, token: W) -> Registered<W> {
        let best = self.best_ack();
        if best.is_some_and(|acked| acked >= end_offset) {
            return Registered::Decided(token, ReplicaStatus::Replicated);
        }
        if !self.slave_available(end_offset) {
            return Registered::Decided(token, ReplicaStatus::SlaveNotAvailable);
        }
        let deadline = now + self.config.wait_timeout;
        self.waiters
            .insert((end_offset, self.next_seq), Waiter { deadline, token });
        self.next_seq += 1;
        Registered::Waiting(deadline)
    }

    /// Apache's `isSlaveOK`: a connected slave confirmed an offset less than
    /// `haSlaveFallbehindMax` behind `end_offset`.
    pub fn slave_available(&self, end_offset: u64) -> bool {
        self.best_ack()
            .is_some_and(|acked| end_offset.saturating_sub(acked) < self.config.fall_behind_max)
    }

    /// Completes waiters whose deadline passed with `Timeout`.
    pub fn expire(&mut self, now: Instant) -> Vec<(W, ReplicaStatus)> {
        if self.waiters.values().all(|w| w.deadline > now) {
            return Vec::new();
        }
        let (expired, kept): (BTreeMap<_, _>, BTreeMap<_, _>) = std::mem::take(&mut self.waiters)
            .into_iter()
            .partition(|(_, w)| w.deadline <= now);
        self.waiters = kept;
        expired
            .into_values()
            .map(|w| (w.token, ReplicaStatus::Timeout))
            .collect()
    }

    /// The earliest waiter deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.waiters.values().map(|w| w.deadline).min()
    }

    /// Waiters not yet decided.
    pub fn waiting(&self) -> usize {
        self.waiters.len()
    }

    /// Completes every waiter with `status` (shutdown).
    pub fn drain(&mut self, status: ReplicaStatus) -> Vec<(W, ReplicaStatus)> {
        std::mem::take(&mut self.waiters)
            .into_values()
            .map(|w| (w.token, status))
            .collect()
    }

    /// Highest offset a connected slave confirmed.
    pub fn best_ack(&self) -> Option<u64> {
        self.links.values().filter_map(|l| l.acked).max()
    }

    /// The replication lag when the master's commit log ends at `master_max`.
    pub fn lag(&self, master_max: u64, now: Instant) -> Lag {
        let acked = self.best_ack();
        let bytes = acked.map(|a| master_max.saturating_sub(a));
        let millis = acked.map(|a| {
            if a >= master_max {
                return 0;
            }
            self.samples
                .iter()
                .find(|(end, _)| *end > a)
                .map_or(0, |(_, at)| {
                    now.saturating_duration_since(*at).as_millis() as u64
                })
        });
        Lag {
            slaves: self.links.len(),
            acked,
            bytes,
            millis,
        }
    }

    fn confirm(&mut self, offset: u64) -> Vec<(W, ReplicaStatus)> {
        // Samples the best slave has passed are of no more use (lag is measured from it).
        let floor = self.best_ack().unwrap_or(0);
        while self.samples.front().is_some_and(|(end, _)| *end <= floor) {
            self.samples.pop_front();
        }
        let rest = self.waiters.split_off(&(offset.saturating_add(1), 0));
        std::mem::replace(&mut self.waiters, rest)
            .into_values()
            .map(|w| (w.token, ReplicaStatus::Replicated))
            .collect()
    }
}

#[cfg(test)]
mod tests;
