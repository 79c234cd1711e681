//! Slave metadata sync (Apache's `SlaveSynchronize`): every 10 s, starting 3 s after start, a
//! slave copies from its master over remoting the topic configs, consumer offsets, delay offsets
//! and subscription groups; and the master's side of GET_ALL_DELAY_OFFSET.
//!
//! Beyond Apache: a replicated message that opens a queue (queue offset 0) starts a sync at once,
//! so a topic created on the master reaches the slave with its first message rather than up to
//! 10 s later; and until it has, the slave serves pulls of a topic its store holds records for
//! (see `topics::held_by_store`).
//!
//! As in Apache: topic configs and subscription groups are replaced when the master's data
//! version differs from ours; consumer offsets are merged (`putAll`); delay offsets are written to
//! `delayOffset.json` (the slave runs no delay scheduler; the file is what a promoted slave
//! would resume from).

use std::sync::Arc;
use std::time::Duration;

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::topic_config::TopicConfigSerializeWrapper;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_store::metadata::json::quote_bare_keys;
use rmq_store::metadata::{
    ConsumerOffsetTable, DataVersion, DelayOffsetTable, MetadataFile, SubscriptionGroupTable,
    TopicConfigTable,
};
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::state::Broker;
use crate::stop_signal::stopped;

/// First sync after start (Apache: 3 s).
const FIRST_SYNC: Duration = Duration::from_secs(3);
/// Between syncs (Apache: 10 s).
const SYNC_PERIOD: Duration = Duration::from_secs(10);
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// One part of the metadata could not be copied from the master.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{what}: request to the master at {master} failed")]
    Invoke {
        what: &'static str,
        master: String,
        #[source]
        source: rmq_remoting::InvokeError,
    },
    #[error("{what}: the master at {master} answered code {code}: {remark:?}")]
    Refused {
        what: &'static str,
        master: String,
        code: i32,
        remark: Option<String>,
    },
    #[error("{what}: the master's body is not valid JSON")]
    Body {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{what}: the master's body is not valid")]
    Wire {
        what: &'static str,
        #[source]
        source: rmq_protocol::body::DecodeBodyError,
    },
    #[error("{what}: could not be persisted")]
    Persist {
        what: &'static str,
        #[source]
        source: rmq_store::error::MetadataError,
    },
}

/// Syncs every `SYNC_PERIOD` while the master's address is known.
pub async fn run(broker: Arc<Broker>, stopping: watch::Receiver<bool>) {
    let stop = stopped(stopping);
    tokio::pin!(stop);
    let Some(slave) = broker.replication.slave().cloned() else {
        return;
    };
    let mut wait = FIRST_SYNC;
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(wait) => {}
            () = slave.metadata_due() => debug!("metadata sync now: replicated data opened a queue"),
        }
        wait = SYNC_PERIOD;
        sync_all(&broker).await;
    }
}

/// One round: each part on its own, so one failure does not stop the others.
pub async fn sync_all(broker: &Broker) {
    let Some(slave) = broker.replication.slave() else {
        return;
    };
    let Some(master) = slave.master_addr() else {
        debug!("metadata sync skipped: the master's address is not known yet");
        return;
    };
    if master == broker.config.broker_addr() {
        return;
    }
    for result in [
        sync_topics(broker, &master).await,
        sync_consumer_offsets(broker, &master).await,
        sync_delay_offsets(broker, &master).await,
        sync_groups(broker, &master).await,
    ] {
        if let Err(error) = result {
            warn!(%master, %error, cause = ?std::error::Error::source(&error), "metadata sync from the master failed");
        }
    }
}

async fn fetch(
    broker: &Broker,
    master: &str,
    code: RequestCode,
    what: &'static str,
) -> Result<bytes::Bytes, SyncError> {
    let request = RemotingCommand::request(code);
    let response = broker
        .namesrv_client
        .invoke(master, request, CALL_TIMEOUT)
        .await
        .map_err(|source| SyncError::Invoke {
            what,
            master: master.to_owned(),
            source,
        })?;
    if response.code != ResponseCode::Success as i32 {
        return Err(SyncError::Refused {
            what,
            master: master.to_owned(),
            code: response.code,
            remark: response.remark,
        });
    }
    Ok(response.body)
}

fn parse<T: DeserializeOwned>(what: &'static str, body: &[u8]) -> Result<T, SyncError> {
    serde_json::from_slice(&quote_bare_keys(body))
        .map_err(|source| SyncError::Body { what, source })
}

async fn sync_topics(broker: &Broker, master: &str) -> Result<(), SyncError> {
    const WHAT: &str = "topic configs";
    let body = fetch(broker, master, RequestCode::GetAllTopicConfig, WHAT).await?;
    let wire = TopicConfigSerializeWrapper::decode(&body)
        .map_err(|source| SyncError::Wire { what: WHAT, source })?;
    let table = TopicConfigTable {
        data_version: DataVersion {
            counter: wire.data_version.counter,
            state_version: None,
            timestamp: wire.data_version.timestamp,
        },
        topic_config_table: wire
            .topic_config_table
            .iter()
            .map(|(name, config)| (name.clone(), config.clone()))
            .collect(),
        extra: Default::default(),
    };
    let topics = table.topic_config_table.len();
    let replaced = broker
        .topics
        .replace_from_master(table)
        .map_err(|source| SyncError::Persist { what: WHAT, source })?;
    if replaced {
        info!(%master, topics, "slave topic configs updated from the master");
    }
    Ok(())
}

async fn sync_consumer_offsets(broker: &Broker, master: &str) -> Result<(), SyncError> {
    const WHAT: &str = "consumer offsets";
    let body = fetch(broker, master, RequestCode::GetAllConsumerOffset, WHAT).await?;
    let table: ConsumerOffsetTable = parse(WHAT, &body)?;
    broker.offsets.merge_from_master(table);
    broker
        .offsets
        .persist()
        .map_err(|source| SyncError::Persist { what: WHAT, source })?;
    debug!(%master, "slave consumer offsets updated from the master");
    Ok(())
}

async fn sync_delay_offsets(broker: &Broker, master: &str) -> Result<(), SyncError> {
    const WHAT: &str = "delay offsets";
    let body = fetch(broker, master, RequestCode::GetAllDelayOffset, WHAT).await?;
    let table: DelayOffsetTable = parse(WHAT, &body)?;
    let config_dir = broker.config.store.config_dir();
    let current = DelayOffsetTable::load_from(&config_dir)
        .ok()
        .flatten()
        .map(|l| l.value);
    if current.as_ref() != Some(&table) {
        table
            .persist_to(&config_dir)
            .map_err(|source| SyncError::Persist { what: WHAT, source })?;
        debug!(%master, "slave delay offsets updated from the master");
    }
    Ok(())
}

async fn sync_groups(broker: &Broker, master: &str) -> Result<(), SyncError> {
    const WHAT: &str = "subscription groups";
    let body = fetch(
        broker,
        master,
        RequestCode::GetAllSubscriptiongroupConfig,
        WHAT,
    )
    .await?;
    let table: SubscriptionGroupTable = parse(WHAT, &body)?;
    let groups = table.subscription_group_table.len();
    let replaced = broker
        .groups
        .replace_from_master(table)
        .map_err(|source| SyncError::Persist { what: WHAT, source })?;
    if replaced {
        info!(%master, groups, "slave subscription groups updated from the master");
    }
    Ok(())
}
