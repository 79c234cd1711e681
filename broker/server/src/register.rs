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
    loop {
        register_all(&broker).await;
        // A slave learns its master's HA address from the registration answer; one that started
        // before its master registered asks again every second instead of replicating nothing
        // (and leaving a SYNC_MASTER answering SLAVE_NOT_AVAILABLE) for a whole period.
        let next = match broker.replication.slave() {
            Some(slave) if slave.master_addr().is_none() => period.min(MASTER_UNKNOWN_RETRY),
            _ => period,
        };
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(next) => {}
            () = changed.notified() => {}
        }
    }
}

/// How soon a slave without a known master registers again.
const MASTER_UNKNOWN_RETRY: Duration = Duration::from_secs(1);

/// One registration round to every name server.
pub async fn register_all(broker: &Broker) {
    let body = RegisterBrokerBody {
        filter_server_list: Vec::new(),
        topic_config_serialize_wrapper: broker.topics.wire_snapshot(broker.permission()),
    };
    let body = match body.to_json() {
        Ok(body) => bytes::Bytes::from(body),
        Err(error) => {
            warn!(%error, "registration body could not be encoded");
            return;
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
                }
                Ok(response) => warn!(namesrv = %addr, code = response.code, remark = ?response.remark, "registration refused"),
                Err(error) => warn!(namesrv = %addr, %error, "registration failed"),
            }
        }
    });
    // In parallel: one slow name server must not delay registration with the others.
    futures::future::join_all(calls).await;
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
