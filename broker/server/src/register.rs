//! Registration with name servers: every `registerNameServerPeriod` (30 s) and whenever the topic
//! table changes, to every name server in parallel; UNREGISTER_BROKER at shutdown. A name server
//! that restarts knows no broker until each registers again: a connection to one that ends
//! starts a round at once, and rounds some name server did not accept come again within
//! seconds ([`next_round`]), so a restarted name server has this broker's routes seconds after
//! it is back, not a period later.
//!
//! The name servers are `namesrvAddr` as it is now
//! ([`crate::live_config::LiveConfig::namesrv_addrs`]), which UPDATE_BROKER_CONFIG may change.
//! A change wakes the loop; its next round first unregisters (best effort: a failure is logged)
//! from the name servers the list left out ([`left_out`]) and closes the connections to them,
//! then registers with the new list. Heartbeats to a removed name server stop with it. Both
//! happen in this one loop, one after the other, so no round still under way to a removed name
//! server can register the broker there again after its unregistration. Unregistering first
//! keeps a name server renamed in the list (an IP replaced by its DNS name) from being told to
//! forget the broker right after the registration under its new name.

use std::sync::Arc;
use std::time::Duration;

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::topic_config::RegisterBrokerBody;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::register_broker::{
    RegisterBrokerRequestHeader, RegisterBrokerResponseHeader,
};
use rmq_protocol::command::unregister_broker::UnRegisterBrokerRequestHeader;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::state::Broker;
use crate::stop_signal::stopped;

/// Registers now, then on every period tick, topic change or `namesrvAddr` change, until
/// stopping. Without name servers (possible only at start) it waits for a list.
pub async fn run(broker: Arc<Broker>, stopping: watch::Receiver<bool>) {
    let changed = broker.topics.changed();
    let stop = stopped(stopping);
    tokio::pin!(stop);
    let period = broker
        .config
        .register_name_server_period
        .max(Duration::from_millis(200));
    let mut rounds_unheard = 0;
    let mut rounds_partial = 0;
    // The name servers the last round registered with.
    let mut last: Vec<String> = Vec::new();
    let mut warned = false;
    loop {
        let namesrvs = broker.live.namesrv_addrs();
        let wait = if namesrvs.is_empty() {
            if !warned {
                warn!("no namesrvAddr configured: clients cannot find this broker");
                warned = true;
            }
            None
        } else {
            let gone = left_out(&last, &namesrvs);
            if !gone.is_empty() {
                unregister_from(&broker, &gone).await;
            }
            let accepted = register_all(&broker, &namesrvs).await;
            rounds_unheard = if accepted == 0 { rounds_unheard + 1 } else { 0 };
            rounds_partial = if accepted > 0 && accepted < namesrvs.len() {
                rounds_partial + 1
            } else {
                0
            };
            last = namesrvs;
            let master_unknown = broker
                .replication
                .slave()
                .is_some_and(|slave| slave.master_addr().is_none());
            Some(next_round(
                period,
                Unheard {
                    all: rounds_unheard,
                    some: rounds_partial,
                },
                master_unknown,
            ))
        };
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(wait.unwrap_or_default()), if wait.is_some() => {}
            () = changed.notified() => {}
            // A name server went away (restarting?): register with it as soon as it is back.
            // Not while rounds already retry on their schedule: a name server that closes
            // every connection (a TLS mismatch) must not drive rounds back to back.
            () = broker.namesrv_client.connection_closed(),
                if rounds_unheard == 0 && rounds_partial == 0 => {}
        }
    }
}

/// The name servers of `before` that `now` leaves out, in `before`'s order.
pub fn left_out(before: &[String], now: &[String]) -> Vec<String> {
    before
        .iter()
        .filter(|addr| !now.contains(addr))
        .cloned()
        .collect()
}

/// How soon a slave without a known master registers again.
const MASTER_UNKNOWN_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between rounds no name server accepted.
const UNHEARD_RETRY_MAX: Duration = Duration::from_secs(5);
/// Rounds some (not all) name servers did not accept are retried sooner this many times.
const PARTIAL_RETRIES: u32 = 5;

/// Consecutive rounds that did not reach every name server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unheard {
    /// Rounds no name server accepted.
    pub all: u32,
    /// Rounds some, not all, accepted.
    pub some: u32,
}

/// When the next registration round is due: after `period`, unless
/// - no name server accepted the last `unheard.all` rounds (one that starts before the name
///   servers, or lost them all): again after 1, 2, 4, then every 5 s, so clients find the broker
///   within seconds of a name server coming up instead of a whole period later;
/// - some name server did not accept the last `unheard.some` rounds (one restarting): again
///   after 1, 2, 4, 8, 16 s, then every period (one gone for good costs no more than a
///   period's rounds), so a restarted name server has this broker's routes within seconds;
/// - this is a slave that has not learnt its master's address from an answer: again every
///   second, instead of replicating nothing (and leaving a SYNC_MASTER answering
///   SLAVE_NOT_AVAILABLE) for a whole period.
pub fn next_round(period: Duration, unheard: Unheard, master_unknown: bool) -> Duration {
    let mut next = period;
    if unheard.all > 0 {
        let backoff = Duration::from_secs(1 << (unheard.all - 1).min(3));
        next = next.min(backoff.min(UNHEARD_RETRY_MAX));
    }
    if (1..=PARTIAL_RETRIES).contains(&unheard.some) {
        next = next.min(Duration::from_secs(1 << (unheard.some - 1)));
    }
    if master_unknown {
        next = next.min(MASTER_UNKNOWN_RETRY);
    }
    next
}

/// One registration round to every name server of `namesrvs`; how many accepted.
pub async fn register_all(broker: &Broker, namesrvs: &[String]) -> usize {
    let body = RegisterBrokerBody {
        filter_server_list: Vec::new(),
        topic_config_serialize_wrapper: broker.topics.wire_snapshot(broker.permission()),
    };
    let body = match body.to_json() {
        Ok(body) => bytes::Bytes::from(body),
        Err(error) => {
            warn!(%error, "registration body could not be encoded");
            return 0;
        }
    };
    let header = RegisterBrokerRequestHeader {
        broker_name: broker.config.broker_name.clone(),
        broker_addr: broker.config.broker_addr(),
        cluster_name: broker.config.cluster_name.clone(),
        ha_server_addr: broker.config.ha_server_addr(),
        broker_id: broker.config.broker_id,
        heartbeat_timeout_millis: None,
        enable_acting_master: None,
        compressed: false,
        // 0 tells name servers not to check: the body is sent uncompressed over TCP.
        body_crc32: 0,
    };
    let calls = namesrvs.iter().map(|addr| {
        let request = RemotingCommand::request_with_header(RequestCode::RegisterBroker, &header)
            .with_body(body.clone());
        async move {
            let result = broker
                .namesrv_client
                .invoke(addr, request, broker.config.register_broker_timeout)
                .await;
            match result {
                Ok(response) if response.code == ResponseCode::Success as i32 => {
                    let answer = response.decode_header::<RegisterBrokerResponseHeader>().ok();
                    if let Some(answer) = &answer {
                        broker.replication.on_registered(
                            answer.master_addr.as_deref(),
                            answer.ha_server_addr.as_deref(),
                        );
                    }
                    debug!(namesrv = %addr, master = ?answer.and_then(|a| a.master_addr), "registered");
                    true
                }
                Ok(response) => {
                    warn!(namesrv = %addr, code = response.code, remark = ?response.remark, "registration refused");
                    false
                }
                Err(error) => {
                    warn!(namesrv = %addr, %error, "registration failed");
                    false
                }
            }
        }
    });
    // In parallel: one slow name server must not delay registration with the others.
    let accepted = futures::future::join_all(calls).await;
    let accepted = accepted.into_iter().filter(|ok| *ok).count();
    if accepted > 0 {
        broker
            .registered
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
    accepted
}

/// UNREGISTER_BROKER to every name server, best effort (at shutdown).
pub async fn unregister_all(broker: &Broker) {
    unregister_from(broker, &broker.live.namesrv_addrs()).await;
}

/// UNREGISTER_BROKER to each of `namesrvs` in parallel, best effort: a failure is logged (a
/// name server left out of the list is often about to stop). The connection to each is closed
/// after, which also drops the broker from a name server that did not answer but is still up,
/// as Apache's name server forgets the brokers of a closed channel.
pub async fn unregister_from(broker: &Broker, namesrvs: &[String]) {
    let header = UnRegisterBrokerRequestHeader {
        broker_name: broker.config.broker_name.clone(),
        broker_addr: broker.config.broker_addr(),
        cluster_name: broker.config.cluster_name.clone(),
        broker_id: broker.config.broker_id,
    };
    let calls = namesrvs.iter().map(|addr| {
        let request = RemotingCommand::request_with_header(RequestCode::UnregisterBroker, &header);
        async move {
            let result = broker
                .namesrv_client
                .invoke(addr, request, UNREGISTER_TIMEOUT)
                .await;
            match result {
                Ok(response) if response.code == ResponseCode::Success as i32 => {
                    info!(namesrv = %addr, "unregistered");
                }
                Ok(response) => {
                    warn!(namesrv = %addr, code = response.code, remark = ?response.remark, "unregistration refused");
                }
                Err(error) => warn!(namesrv = %addr, %error, "unregistration failed"),
            }
            broker.namesrv_client.close(addr);
        }
    });
    futures::future::join_all(calls).await;
}

/// How long an unregistration may take: one that does not answer holds up shutdown, or the
/// first round with a changed list, no longer than this.
const UNREGISTER_TIMEOUT: Duration = Duration::from_secs(3);

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: Duration = Duration::from_secs(30);

    fn all(n: u32) -> Unheard {
        Unheard { all: n, some: 0 }
    }

    #[test]
    fn a_broker_no_name_server_heard_retries_within_seconds_backing_off_to_five() {
        let waits: Vec<u64> = (1..=6)
            .map(|unheard| next_round(PERIOD, all(unheard), false).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 5, 5, 5]);
        assert_eq!(
            next_round(PERIOD, Unheard::default(), false),
            PERIOD,
            "heard: the period"
        );
        let short = Duration::from_millis(500);
        assert_eq!(
            next_round(short, all(3), false),
            short,
            "never later than the period"
        );
    }

    #[test]
    fn a_name_server_missing_from_a_round_is_retried_within_seconds_then_every_period() {
        let waits: Vec<u64> = (1..=7)
            .map(|some| next_round(PERIOD, Unheard { all: 0, some }, false).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
    }

    #[test]
    fn the_name_servers_left_out_of_a_new_list_are_those_only_the_old_one_names() {
        let list = |addrs: &[&str]| addrs.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        assert_eq!(left_out(&list(&["a:1"]), &list(&["a:1", "b:2"])), list(&[]));
        assert_eq!(
            left_out(&list(&["a:1", "b:2", "c:3"]), &list(&["c:3", "d:4"])),
            list(&["a:1", "b:2"])
        );
        assert_eq!(
            left_out(&list(&[]), &list(&["a:1"])),
            list(&[]),
            "the first round leaves nothing out"
        );
    }

    #[test]
    fn a_slave_without_its_masters_address_asks_again_every_second() {
        assert_eq!(
            next_round(PERIOD, Unheard::default(), true),
            MASTER_UNKNOWN_RETRY
        );
        assert_eq!(next_round(PERIOD, all(2), true), MASTER_UNKNOWN_RETRY);
    }
}
