//! `/livez` and `/readyz` on `healthListenPort` (0, the default: off), for Kubernetes probes
//! and rolling restarts:
//!
//! - `/livez`: 200 while the process serves requests at all.
//! - `/readyz`: 200 once the broker can take its share of traffic: its store is recovered (the
//!   endpoint only starts after that), a name server accepted its registration (clients can
//!   find it), and a slave replicates: connected to its master, a frame or heartbeat within
//!   `haHousekeepingInterval`, and no further behind than `haSlaveFallbehindMax`. Otherwise 503
//!   with one line per reason.

use std::sync::Arc;
use std::time::Duration;

use rmq_remoting::prometheus::http::{Page, Pages};

use crate::state::Broker;

/// What readiness is decided from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// `namesrvAddr` (as it is now) names at least one name server.
    pub namesrv_configured: bool,
    /// A name server accepted a registration since start.
    pub registered: bool,
    /// For a slave: its replication.
    pub slave: Option<SlaveObserved>,
}

/// A slave's replication, as it sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaveObserved {
    pub connected: bool,
    /// Since the master's last frame or heartbeat.
    pub last_frame_ago: Option<Duration>,
    /// How far the master had got by its last frame.
    pub master_offset: Option<u64>,
    /// The end of this slave's commit log.
    pub local_offset: u64,
    /// `haHousekeepingInterval`: a master silent longer is lost.
    pub silence_limit: Duration,
    /// `haSlaveFallbehindMax`.
    pub max_behind: u64,
}

/// Ready, or why not (see the module documentation).
pub fn ready(observed: &Observed) -> Result<(), Vec<String>> {
    let mut not = Vec::new();
    if observed.namesrv_configured && !observed.registered {
        not.push("no name server has accepted this broker's registration yet".to_owned());
    }
    if let Some(slave) = &observed.slave {
        if !slave.connected {
            not.push("slave: not connected to its master".to_owned());
        } else {
            match slave.last_frame_ago {
                Some(ago) if ago <= slave.silence_limit => {}
                Some(ago) => not.push(format!(
                    "slave: nothing from the master for {} ms",
                    ago.as_millis()
                )),
                None => not.push("slave: nothing received from the master yet".to_owned()),
            }
            let behind = slave
                .master_offset
                .map_or(0, |m| m.saturating_sub(slave.local_offset));
            if behind > slave.max_behind {
                not.push(format!(
                    "slave: {behind} bytes behind the master (haSlaveFallbehindMax {})",
                    slave.max_behind
                ));
            }
        }
    }
    if not.is_empty() { Ok(()) } else { Err(not) }
}

/// What `broker` shows now.
pub fn observe(broker: &Broker) -> Observed {
    let slave = broker.replication.slave().map(|slave| {
        let status = slave.status();
        SlaveObserved {
            connected: status.connected,
            last_frame_ago: status.last_frame.map(|t| t.elapsed()),
            master_offset: status.master_offset,
            local_offset: broker.store.commit_log_max_offset(),
            silence_limit: broker.config.ha.housekeeping_interval,
            max_behind: broker.config.ha.slave_fall_behind_max,
        }
    });
    Observed {
        namesrv_configured: !broker.live.namesrv_addrs().is_empty(),
        registered: broker.registered.load(std::sync::atomic::Ordering::Relaxed),
        slave,
    }
}

fn text(status: &'static str, body: String) -> Page {
    Page {
        status,
        content_type: "text/plain; charset=utf-8",
        body,
    }
}

/// The pages of the health endpoint.
pub fn pages(broker: Arc<Broker>) -> Pages {
    Arc::new(move |path| match path {
        "/livez" => Some(text("200 OK", "ok\n".to_owned())),
        "/readyz" => Some(match ready(&observe(&broker)) {
            Ok(()) => text("200 OK", "ready\n".to_owned()),
            Err(reasons) => text("503 Service Unavailable", reasons.join("\n") + "\n"),
        }),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(registered: bool) -> Observed {
        Observed {
            namesrv_configured: true,
            registered,
            slave: None,
        }
    }

    fn slave(connected: bool, ago_ms: Option<u64>, behind: u64) -> Observed {
        Observed {
            slave: Some(SlaveObserved {
                connected,
                last_frame_ago: ago_ms.map(Duration::from_millis),
                master_offset: Some(1_000_000 + behind),
                local_offset: 1_000_000,
                silence_limit: Duration::from_secs(20),
                max_behind: 1024,
            }),
            ..master(true)
        }
    }

    #[test]
    fn a_master_is_ready_once_a_name_server_accepted_it() {
        assert!(ready(&master(false)).unwrap_err()[0].contains("registration"));
        assert_eq!(ready(&master(true)), Ok(()));
        let alone = Observed {
            namesrv_configured: false,
            ..master(false)
        };
        assert_eq!(
            ready(&alone),
            Ok(()),
            "without name servers nothing to wait for"
        );
    }

    #[test]
    fn a_slave_is_ready_only_while_it_replicates_close_behind() {
        assert_eq!(ready(&slave(true, Some(100), 0)), Ok(()));
        assert_eq!(ready(&slave(true, Some(100), 1024)), Ok(()));
        let behind = ready(&slave(true, Some(100), 1025)).unwrap_err();
        assert!(behind[0].contains("1025 bytes behind"), "{behind:?}");
        assert!(ready(&slave(false, Some(100), 0)).unwrap_err()[0].contains("not connected"));
        assert!(ready(&slave(true, None, 0)).unwrap_err()[0].contains("nothing received"));
        let silent = ready(&slave(true, Some(25_000), 0)).unwrap_err();
        assert!(silent[0].contains("25000 ms"), "{silent:?}");
    }
}
