//! The slave's side of replication, without I/O: when to report its offset, which frames to
//! accept, when to give up on a silent master and how long to wait before reconnecting.
//!
//! Reports go out at once on connecting (Apache 5.x; 4.x waits one heartbeat interval), after
//! every applied frame that moved the offset, and after `haSendHeartbeatInterval` without one.
//! A frame is applied only if it starts exactly at the slave's max offset (Apache accepts any
//! start while the slave's commit log is empty); anything else means the two streams diverged,
//! and the connection is dropped so that the next one starts from the slave's real offset.

use std::time::{Duration, Instant};

use super::frame::TransferHeader;

/// Slave settings, with Apache's key names.
#[derive(Debug, Clone)]
pub struct SlaveConfig {
    /// `haSendHeartbeatInterval` (5 s).
    pub heartbeat_interval: Duration,
    /// `haHousekeepingInterval` (20 s): a master silent this long is given up on.
    pub housekeeping_interval: Duration,
    /// First reconnect delay; doubled after each failed attempt up to `reconnect_max`.
    pub reconnect_min: Duration,
    /// Longest reconnect delay (Apache retries every 5 s).
    pub reconnect_max: Duration,
}

impl Default for SlaveConfig {
    fn default() -> Self {
        SlaveConfig {
            heartbeat_interval: Duration::from_millis(5000),
            housekeeping_interval: Duration::from_millis(20_000),
            reconnect_min: Duration::from_millis(200),
            reconnect_max: Duration::from_millis(5000),
        }
    }
}

/// Why the connection to the master must be dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlaveError {
    #[error("master sent data from offset {master}, the slave's commit log ends at {slave}")]
    OffsetMismatch { master: u64, slave: u64 },
    #[error("master silent for {silent_ms} ms (haHousekeepingInterval)")]
    MasterSilent { silent_ms: u64 },
    #[error("not connected")]
    NotConnected,
}

/// What the slave should do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlaveAction {
    /// Send this offset report.
    Report(u64),
    /// Drop the connection and reconnect.
    Reconnect(SlaveError),
}

#[derive(Debug, Clone)]
struct Session {
    last_write: Instant,
    last_read: Instant,
    reported: u64,
    /// Whether any frame arrived: a session that did is a success for the backoff.
    received: bool,
}

/// The slave's replication state.
#[derive(Debug, Clone)]
pub struct Slave {
    config: SlaveConfig,
    session: Option<Session>,
    failures: u32,
}

impl Slave {
    pub fn new(config: SlaveConfig) -> Self {
        Slave {
            config,
            session: None,
            failures: 0,
        }
    }

    pub fn is_connected(&self) -> bool {
        self.session.is_some()
    }

    /// Connected to the master; returns the first report to send.
    pub fn connected(&mut self, local_max: u64, now: Instant) -> u64 {
        self.session = Some(Session {
            last_write: now,
            last_read: now,
            reported: local_max,
            received: false,
        });
        local_max
    }

    /// A transfer header arrived. `Ok` means: read its body and append it.
    pub fn on_header(
        &mut self,
        header: &TransferHeader,
        local_max: u64,
        now: Instant,
    ) -> Result<(), SlaveError> {
        let session = self.session.as_mut().ok_or(SlaveError::NotConnected)?;
        session.last_read = now;
        session.received = true;
        if local_max != 0 && header.offset != local_max {
            return Err(SlaveError::OffsetMismatch {
                master: header.offset,
                slave: local_max,
            });
        }
        Ok(())
    }

    /// A frame's body was appended; returns the report to send if the offset moved.
    pub fn after_append(&mut self, local_max: u64, now: Instant) -> Option<u64> {
        let session = self.session.as_mut()?;
        session.last_read = now;
        if local_max > session.reported {
            session.reported = local_max;
            session.last_write = now;
            return Some(local_max);
        }
        None
    }

    /// A report was written (for reports from [`Slave::tick`]).
    pub fn on_reported(&mut self, offset: u64, now: Instant) {
        if let Some(session) = self.session.as_mut() {
            session.reported = session.reported.max(offset);
            session.last_write = now;
        }
    }

    /// What periodic work is due: a heartbeat report, or giving up on a silent master.
    pub fn tick(&mut self, local_max: u64, now: Instant) -> Option<SlaveAction> {
        let session = self.session.as_ref()?;
        let silent = now.saturating_duration_since(session.last_read);
        if silent > self.config.housekeeping_interval {
            return Some(SlaveAction::Reconnect(SlaveError::MasterSilent {
                silent_ms: silent.as_millis() as u64,
            }));
        }
        if now.saturating_duration_since(session.last_write) >= self.config.heartbeat_interval {
            return Some(SlaveAction::Report(local_max.max(session.reported)));
        }
        None
    }

    /// When [`Slave::tick`] next has something to do.
    pub fn next_tick(&self) -> Option<Instant> {
        let session = self.session.as_ref()?;
        Some(
            (session.last_write + self.config.heartbeat_interval)
                .min(session.last_read + self.config.housekeeping_interval),
        )
    }

    /// The connection ended (or could not be made); returns how long to wait before the next
    /// attempt.
    pub fn disconnected(&mut self) -> Duration {
        let productive = self.session.take().is_some_and(|s| s.received);
        if productive {
            self.failures = 0;
        } else {
            self.failures = self.failures.saturating_add(1);
        }
        let factor = 1u32 << self.failures.min(16);
        (self.config.reconnect_min * factor / 2)
            .clamp(self.config.reconnect_min, self.config.reconnect_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn slave() -> Slave {
        Slave::new(SlaveConfig::default())
    }

    #[test]
    fn the_first_report_goes_out_on_connect_with_the_local_max_offset() {
        let t0 = Instant::now();
        let mut s = slave();
        assert_eq!(s.connected(4096, t0), 4096);
        assert!(s.is_connected());
        assert_eq!(s.tick(4096, t0 + ms(100)), None);
    }

    #[test]
    fn a_frame_must_start_at_the_local_max_offset() {
        let t0 = Instant::now();
        let mut s = slave();
        s.connected(100, t0);
        let at = |offset| TransferHeader {
            offset,
            body_len: 10,
        };
        assert_eq!(s.on_header(&at(100), 100, t0), Ok(()));
        assert_eq!(
            s.on_header(&at(90), 100, t0),
            Err(SlaveError::OffsetMismatch {
                master: 90,
                slave: 100
            })
        );
        assert!(s.on_header(&at(110), 100, t0).is_err());
        // A heartbeat is checked the same way.
        assert!(s.on_header(&TransferHeader::heartbeat(7), 100, t0).is_err());
    }

    #[test]
    fn an_empty_slave_accepts_the_first_frame_wherever_it_starts() {
        let t0 = Instant::now();
        let mut s = slave();
        s.connected(0, t0);
        let header = TransferHeader {
            offset: 1 << 30,
            body_len: 5,
        };
        assert_eq!(s.on_header(&header, 0, t0), Ok(()));
    }

    #[test]
    fn a_report_follows_every_append_that_moved_the_offset() {
        let t0 = Instant::now();
        let mut s = slave();
        s.connected(0, t0);
        assert_eq!(s.after_append(500, t0 + ms(1)), Some(500));
        assert_eq!(s.after_append(500, t0 + ms(2)), None, "no move, no report");
        assert_eq!(s.after_append(900, t0 + ms(3)), Some(900));
    }

    #[test]
    fn a_heartbeat_report_goes_out_after_the_interval_without_writes() {
        let t0 = Instant::now();
        let mut s = slave();
        s.connected(10, t0);
        assert_eq!(s.next_tick(), Some(t0 + ms(5000)));
        assert_eq!(s.tick(10, t0 + ms(4999)), None);
        assert_eq!(
            s.on_header(&TransferHeader::heartbeat(10), 10, t0 + ms(4000)),
            Ok(())
        );
        assert_eq!(s.tick(10, t0 + ms(5000)), Some(SlaveAction::Report(10)));
        s.on_reported(10, t0 + ms(5000));
        assert_eq!(s.tick(10, t0 + ms(9999)), None);
    }

    #[test]
    fn a_master_silent_past_the_housekeeping_interval_is_given_up_on() {
        let t0 = Instant::now();
        let mut s = slave();
        s.connected(0, t0);
        s.on_reported(0, t0 + ms(16_000));
        assert_eq!(s.tick(0, t0 + ms(20_000)), None);
        assert_eq!(
            s.tick(0, t0 + ms(20_001)),
            Some(SlaveAction::Reconnect(SlaveError::MasterSilent {
                silent_ms: 20_001
            }))
        );
    }

    #[test]
    fn reconnect_delays_grow_while_attempts_fail_and_reset_after_a_productive_session() {
        let t0 = Instant::now();
        let mut s = slave();
        assert_eq!(s.disconnected(), ms(200));
        assert_eq!(s.disconnected(), ms(400));
        assert_eq!(s.disconnected(), ms(800));
        for _ in 0..10 {
            s.disconnected();
        }
        assert_eq!(s.disconnected(), ms(5000), "capped");
        s.connected(0, t0);
        assert_eq!(s.disconnected(), ms(5000), "connected but nothing received");
        s.connected(0, t0);
        s.on_header(&TransferHeader::heartbeat(0), 0, t0).unwrap();
        assert_eq!(s.disconnected(), ms(200));
    }

    #[test]
    fn without_a_connection_there_is_nothing_to_do() {
        let t0 = Instant::now();
        let mut s = slave();
        assert_eq!(s.tick(0, t0 + ms(60_000)), None);
        assert_eq!(s.after_append(5, t0), None);
        assert_eq!(
            s.on_header(&TransferHeader::heartbeat(0), 0, t0),
            Err(SlaveError::NotConnected)
        );
    }
}
