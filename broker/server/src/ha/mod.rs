//! Master/slave replication in the broker: thin tokio shells around the sans-IO state machines
//! of [`rmq_store::ha`].
//!
//! | module | what |
//! |---|---|
//! | [`config`] | `haMasterAddress`, `haSlaveFallbehindMax`, `slaveTimeout`, ... |
//! | [`master`] | `haListenPort` listener, per-slave streams, SYNC_MASTER waits, lag log |
//! | [`slave`] | connection to the master, append, report, reconnect |
//! | [`sync`] | slave metadata sync: every 10 s and when replicated data opens a queue |
//! | [`service`] | binds the HA listener and starts the tasks of the broker's role |
//!
//! What a send's answer promises, by role (Apache 4.9):
//! - `SYNC_MASTER`: SUCCESS only once a slave confirmed the message's end offset (with
//!   SYNC_FLUSH also once it is on the master's disk). No slave connected, or none within
//!   `haSlaveFallbehindMax`: SLAVE_NOT_AVAILABLE at once; no confirmation within `slaveTimeout`:
//!   FLUSH_SLAVE_TIMEOUT. In both cases the message is stored on the master. Messages sent with
//!   `WAIT=false` do not wait.
//! - `ASYNC_MASTER`: answered after the append (and flush); replication follows in the background.
//! - `SLAVE`: sends are refused (SERVICE_NOT_AVAILABLE, Apache's answer); pulls are served.

pub mod config;
pub mod master;
pub mod service;
pub mod slave;
pub mod sync;

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::message::record::RecordView;
use rmq_store::ha::{MasterConfig, ReplicaStatus};
use rmq_store::metadata::SubscriptionGroupConfig;
use rmq_store::{GetResult, MessageStore};

pub use config::HaConfig;
pub use master::{MasterHa, ReplicaWait};
pub use slave::{SlaveHa, SlaveStatus};

use crate::config::{BrokerConfig, BrokerRole};

/// Apache's remark when a slave is sent a message (`SendMessageProcessor`, SERVICE_NOT_AVAILABLE).
pub const SLAVE_REFUSES_SENDS: &str = "service not available now. It may be caused by one of the \
     following reasons: the broker's disk is full, messages are put to the slave, message store \
     has been shut down, etc.";

/// This broker's replication role and state.
#[derive(Debug)]
pub enum Replication {
    Master(Arc<MasterHa>),
    Slave(Arc<SlaveHa>),
}

/// The send response code from the flush outcome's code and the replication outcome, as
/// Apache's `thenCombine`: a failed replication wins.
pub fn response_code(flush_code: ResponseCode, replica: ReplicaStatus) -> ResponseCode {
    match replica {
        ReplicaStatus::Replicated => flush_code,
        ReplicaStatus::SlaveNotAvailable => ResponseCode::SlaveNotAvailable,
        ReplicaStatus::Timeout => ResponseCode::FlushSlaveTimeout,
    }
}

impl Replication {
    /// The replication of a broker with this configuration.
    pub fn new(config: &BrokerConfig) -> Replication {
        match config.role {
            BrokerRole::Slave => {
                Replication::Slave(Arc::new(SlaveHa::new(config.ha.master_address.clone())))
            }
            BrokerRole::SyncMaster | BrokerRole::AsyncMaster => {
                Replication::Master(Arc::new(MasterHa::new(
                    MasterConfig {
                        file_size: config.store.commit_log_file_size as u64,
                        fall_behind_max: config.ha.slave_fall_behind_max,
                        wait_timeout: config.ha.slave_timeout,
                        heartbeat_interval: config.ha.heartbeat_interval,
                    },
                    config.role == BrokerRole::SyncMaster,
                    config.ha.transfer_batch_size,
                    config.ha.housekeeping_interval,
                )))
            }
        }
    }

    /// The send path appended up to `end_offset`: wakes the streams to the slaves and, under
    /// SYNC_MASTER when the message waits (`WAIT` not false), returns the wait for a slave.
    pub fn replicate(&self, end_offset: u64, wait: bool) -> ReplicaWait {
        match self {
            Replication::Master(master) => master.appended(end_offset, wait),
            Replication::Slave(_) => ReplicaWait::Done(ReplicaStatus::Replicated),
        }
    }

    /// A name server answered our registration.
    pub fn on_registered(&self, master_addr: Option<&str>, ha_server_addr: Option<&str>) {
        if let Replication::Slave(slave) = self {
            slave.on_registered(master_addr, ha_server_addr);
        }
    }

    pub fn slave(&self) -> Option<&Arc<SlaveHa>> {
        match self {
            Replication::Slave(slave) => Some(slave),
            Replication::Master(_) => None,
        }
    }

    /// Entries for GET_BROKER_RUNTIME_INFO.
    pub fn runtime_info(&self, store: &MessageStore) -> Vec<(&'static str, String)> {
        let unknown = || "-1".to_owned();
        match self {
            Replication::Master(master) => {
                let lag = master.lag(store.commit_log_max_offset());
                vec![
                    ("haConnectionCount", lag.slaves.to_string()),
                    (
                        "haSlaveAckOffset",
                        lag.acked.map_or_else(unknown, |a| a.to_string()),
                    ),
                    (
                        "haReplicationLagBytes",
                        lag.bytes.map_or_else(unknown, |b| b.to_string()),
                    ),
                    (
                        "haReplicationLagMillis",
                        lag.millis.map_or_else(unknown, |m| m.to_string()),
                    ),
                    ("haSyncWaiting", master.waiting().to_string()),
                ]
            }
            Replication::Slave(slave) => {
                let status = slave.status();
                vec![
                    ("haMasterAddress", status.master_ha_addr.unwrap_or_default()),
                    ("haConnected", status.connected.to_string()),
                    (
                        "haMasterOffsetSeen",
                        status.master_offset.map_or_else(unknown, |o| o.to_string()),
                    ),
                    (
                        "haLastFrameAgoMillis",
                        status
                            .last_frame
                            .map_or_else(unknown, |t| t.elapsed().as_millis().to_string()),
                    ),
                ]
            }
        }
    }
}

/// Apache 4.9 `PullMessageProcessor`: the broker id the consumer should pull from next. Without
/// `slaveReadEnable` always the master; with it, the group's `whichBrokerWhenConsumeSlowly` when
/// the consumer is further behind than `accessMessageInMemoryMaxRatio` of RAM, else the group's
/// `brokerId`.
pub fn suggest_which_broker_id(
    ha: &HaConfig,
    group: Option<&SubscriptionGroupConfig>,
    store: &MessageStore,
    result: &GetResult,
) -> i64 {
    if !ha.slave_read_enable {
        return 0;
    }
    let Some(config) = group else {
        return 0;
    };
    let behind = result
        .messages
        .last()
        .and_then(physical_offset)
        .map(|pulled| store.commit_log_max_offset().saturating_sub(pulled));
    let memory = total_memory() * u64::from(ha.access_message_in_memory_max_ratio) / 100;
    suggest(
        behind,
        memory,
        config.broker_id,
        config.which_broker_when_consume_slowly,
    )
}

/// The pure rule behind [`suggest_which_broker_id`] once `slaveReadEnable` is on.
pub fn suggest(behind: Option<u64>, memory: u64, broker_id: i64, when_slow: i64) -> i64 {
    if behind.is_some_and(|b| b > memory) {
        when_slow
    } else {
        broker_id
    }
}

fn physical_offset(raw: &Bytes) -> Option<u64> {
    RecordView::decode(raw)
        .ok()
        .and_then(|v| u64::try_from(v.physical_offset()).ok())
}

/// Physical memory in bytes (`/proc/meminfo` MemTotal), read once; 0 if unknown.
fn total_memory() -> u64 {
    static TOTAL: OnceLock<u64> = OnceLock::new();
    *TOTAL.get_or_init(|| {
        std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .map_or(0, |kib| kib * 1024)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_replication_decides_the_answer_over_the_flush() {
        use ResponseCode::*;
        let cases = [
            (Success, ReplicaStatus::Replicated, Success),
            (
                FlushDiskTimeout,
                ReplicaStatus::Replicated,
                FlushDiskTimeout,
            ),
            (Success, ReplicaStatus::SlaveNotAvailable, SlaveNotAvailable),
            (FlushDiskTimeout, ReplicaStatus::Timeout, FlushSlaveTimeout),
        ];
        for (flush, replica, expected) in cases {
            assert_eq!(
                response_code(flush, replica),
                expected,
                "{flush:?} {replica:?}"
            );
        }
    }

    #[test]
    fn a_consumer_behind_more_than_the_memory_budget_is_sent_to_the_slow_consumer_broker() {
        assert_eq!(suggest(Some(101), 100, 0, 1), 1);
        assert_eq!(suggest(Some(100), 100, 0, 1), 0);
        assert_eq!(suggest(None, 100, 0, 1), 0, "nothing pulled: stay");
        assert_eq!(suggest(Some(5), 100, 2, 1), 2, "the group's own broker id");
    }
}
