//! The state every request processor and service shares: [`Broker`]. It imports no processor
//! and no service; start-up ([`crate::startup`]) builds it and starts what runs over it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rmq_remoting::{Client, ConnHandle};
use rmq_store::MessageStore;
use tokio::sync::watch;

use crate::clients::Clients;
use crate::clock::Clock;
use crate::config::BrokerConfig;
use crate::groups::Groups;
use crate::ha::Replication;
use crate::long_poll::PullWaiters;
use crate::messaging::Messaging;
use crate::offsets::ConsumerOffsets;
use crate::stats::{Counters, DayMarks, History, Items};
use crate::topics::Topics;

/// Everything request processors share.
#[derive(Debug)]
pub struct Broker {
    pub config: BrokerConfig,
    /// A name server accepted a registration since start (readiness).
    pub registered: std::sync::atomic::AtomicBool,
    pub store: Arc<MessageStore>,
    pub topics: Topics,
    pub groups: Groups,
    pub offsets: ConsumerOffsets,
    pub clients: Mutex<Clients<ConnHandle>>,
    pub waiters: Arc<PullWaiters>,
    /// The address written into offset message ids (the store host).
    pub store_host: SocketAddr,
    /// `brokerPermission`, changeable by UPDATE_BROKER_CONFIG.
    pub permission: AtomicI32,
    /// The other keys UPDATE_BROKER_CONFIG changes; read these, not `config`, for them.
    pub live: crate::live_config::LiveConfig,
    /// The ACL rules when `aclEnable=true`.
    pub acl: Option<Arc<crate::acl::rules::AclRules>>,
    pub started_at_ms: i64,
    /// The wall clock every processor and service reads.
    pub clock: Clock,
    /// Prometheus counters of the request paths.
    pub metrics: crate::metrics::Metrics,
    /// Traffic totals, bumped on the request paths.
    pub stats: Counters,
    /// Per-second samples of `stats` and the midnight totals, for the rates tools show.
    pub history: Mutex<(History, DayMarks)>,
    /// The minute/hour/day windows of VIEW_BROKER_STATS_DATA.
    pub items: Mutex<Items>,
    /// Client used to talk to name servers.
    pub namesrv_client: Client,
    /// Set when the broker is stopping: suspended pulls answer at once.
    pub stopping: watch::Receiver<bool>,
    /// Retry/DLQ, delay levels, transactions and queue locks.
    pub messaging: Messaging,
    /// Master/slave replication (`brokerRole`).
    pub replication: Replication,
}

impl Broker {
    /// Takes one sample of the traffic counters (the stats service, once a second).
    pub fn sample_stats(&self) {
        let now = self.clock.now_ms();
        let reading = self.stats.read();
        let mut history = self.history.lock().unwrap_or_else(PoisonError::into_inner);
        history.0.push(now, reading);
        history.1.observe(now, reading);
        drop(history);
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        let cluster = self.config.cluster_name.as_str();
        let put = reading.put_messages;
        let got = reading.got_messages;
        items.tick(now, "BROKER_PUT_NUMS", cluster, put, put);
        items.tick(now, "BROKER_GET_NUMS", cluster, got, got);
        for (topic, c) in self.metrics.topics() {
            let messages = c.messages_in.get();
            let bytes = c.bytes_in.get();
            items.tick(now, "TOPIC_PUT_NUMS", &topic, messages, messages);
            items.tick(now, "TOPIC_PUT_SIZE", &topic, bytes, messages);
        }
        for (topic, group, c) in self.metrics.groups() {
            let key = format!("{topic}@{group}");
            let pulls = c.pulls.get();
            let messages = c.messages.get();
            items.tick(now, "GROUP_GET_NUMS", &key, messages, pulls);
            items.tick(now, "GROUP_GET_SIZE", &key, c.bytes.get(), pulls);
        }
    }

    /// The rates and midnight totals, read under one lock.
    pub fn with_history<T>(&self, read: impl FnOnce(&History, &DayMarks) -> T) -> T {
        let history = self.history.lock().unwrap_or_else(PoisonError::into_inner);
        read(&history.0, &history.1)
    }

    /// The client table.
    pub fn clients(&self) -> MutexGuard<'_, Clients<ConnHandle>> {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `brokerPermission` now.
    pub fn permission(&self) -> i32 {
        self.permission.load(Ordering::Relaxed)
    }
}
