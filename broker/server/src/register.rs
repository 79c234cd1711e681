//! Registration with name servers: every `registerNameServerPeriod` (30 s) and whenever the topic
//! table changes, to every name server in parallel; UNREGISTER_BROKER at shutdown.

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

/// Registers now, then on every period tick or topic change, until stopping.
pub async fn run(broker: Arc<Broker>, stopping: watch::Receiver<bool>) {
    if broker.config.namesrv_addrs.is_empty() {
        warn!("no namesrvAddr configured: clients cannot find this broker");
        return;
    }
    let changed = broker.topics.changed();
    let stop = stopped(stopping);
    tokio::pin!(stop);
    let period = broker
        .config
        .register_name_server_period
        .max(Duration::from_millis(200));
    let mut rounds_unheard = 0;
    loop {
        let accepted = register_all(&broker).await;
        rounds_unheard = if accepted == 0 { rounds_unheard + 1 } else { 0 };
        let master_unknown = broker
            .replication
            .slave()
            .is_some_and(|slave| slave.master_addr().is_none());
        let next = next_round(period, rounds_unheard, master_unknown);
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(next) => {}
            () = changed.notified() => {}
        }
    }
}

/// How soon a slave without a known master registers again.
const MASTER_UNKNOWN_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between rounds no name server accepted.
const UNHEARD_RETRY_MAX: Duration = Duration::from_secs(5);

/// When the next registration round is due: after `period`, unless
/// - no name server accepted the last `rounds_unheard` rounds (one that starts before the name
///   servers, or lost them all): again after 1, 2, 4, then every 5 s, so clients find the broker
///   within seconds of a name server coming up instead of a whole period later;
/// - this is a slave that has not learnt its master's address from an answer: again every
///   second, instead of replicating nothing (and leaving a SYNC_MASTER answering
///   SLAVE_NOT_AVAILABLE) for a whole period.
pub fn next_round(period: Duration, rounds_unheard: u32, master_unknown: bool) -> Duration {
    let mut next = period;
    if rounds_unheard > 0 {
        let backoff = Duration::from_secs(1 << (rounds_unheard - 1).min(3));
        next = next.min(backoff.min(UNHEARD_RETRY_MAX));
    }
    if master_unknown {
        next = next.min(MASTER_UNKNOWN_RETRY);
    }
    next
}

/// One registration round to every name server; how many accepted.
pub async fn register_all(broker: &Broker) -> usize {
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
    let calls = broker.config.namesrv_addrs.iter().map(|addr| {
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

/// UNREGISTER_BROKER to every name server, best effort.
pub async fn unregister_all(broker: &Broker) {
    let header = UnRegisterBrokerRequestHeader {
        broker_name: broker.config.broker_name.clone(),
        broker_addr: broker.config.broker_addr(),
        cluster_name: broker.config.cluster_name.clone(),
        broker_id: broker.config.broker_id,
    };
    for addr in &broker.config.namesrv_addrs {
        let request = RemotingCommand::request_with_header(RequestCode::UnregisterBroker, &header);
        match broker
            .namesrv_client
            .invoke(addr, request, Duration::from_secs(3))
            .await
        {
            Ok(_) => info!(namesrv = %addr, "unregistered"),
            Err(error) => warn!(namesrv = %addr, %error, "unregistration failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: Duration = Duration::from_secs(30);

    #[test]
    fn a_broker_no_name_server_heard_retries_within_seconds_backing_off_to_five() {
        let waits: Vec<u64> = (1..=6)
            .map(|unheard| next_round(PERIOD, unheard, false).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 5, 5, 5]);
        assert_eq!(next_round(PERIOD, 0, false), PERIOD, "heard: the period");
        let short = Duration::from_millis(500);
        assert_eq!(
            next_round(short, 3, false),
            short,
            "never later than the period"
        );
    }

    #[test]
    fn a_slave_without_its_masters_address_asks_again_every_second() {
        assert_eq!(next_round(PERIOD, 0, true), MASTER_UNKNOWN_RETRY);
        assert_eq!(next_round(PERIOD, 2, true), MASTER_UNKNOWN_RETRY);
    }
}
