//! [`RouteTable`]: what the name server knows about brokers and topics, as Apache's
//! `RouteInfoManager` (4.9.x) keeps it. Pure: no locks, sockets or clocks; the caller passes `now`
//! and the id of the connection a request came over.
//!
//! ```text
//! cluster_addr_table   cluster name → {broker name}
//! broker_addr_table    broker name  → BrokerData {cluster, name, broker id → address}
//! topic_queue_table    topic        → broker name → QueueData {read, write, perm, sysflag}
//! broker_live_table    broker addr  → BrokerLiveInfo {last update, timeout, data version, conn, HA addr}
//! ```
//!
//! Only masters (broker id 0) shape the queue data, and only when their data version changed
//! or they register for the first time; slaves just add their address. A broker leaves through
//! UNREGISTER_BROKER, when its connection closes, or after staying silent longer than its
//! timeout ([`RouteTable::scan_expired`]). When the last address of a broker name goes, the name
//! leaves its cluster and its queue data leaves every topic; topics left without queues go too.
//!
//! Filter servers are not kept: routes always carry an empty `filterServerTable`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rmq_protocol::body::perm;
use rmq_protocol::body::route::{BrokerData, ClusterInfo, MASTER_ID, QueueData, TopicRouteData};
use rmq_protocol::body::topic_config::{DataVersion, TopicConfig, TopicConfigSerializeWrapper};
use rmq_protocol::body::topic_list::TopicList;
use rmq_protocol::command::register_broker::RegisterBrokerRequestHeader;
use rmq_protocol::command::unregister_broker::UnRegisterBrokerRequestHeader;
use tracing::{info, warn};

/// Identifies the connection a registration came over (the transport's connection id).
pub type ConnId = u64;

/// `TopicSysFlag.FLAG_UNIT`.
pub const TOPIC_SYS_FLAG_UNIT: i32 = 0x1;
/// `TopicSysFlag.FLAG_UNIT_SUB`.
pub const TOPIC_SYS_FLAG_UNIT_SUB: i32 = 0x1 << 1;

/// The name server's routing state.
#[derive(Debug, Clone)]
pub struct RouteTable {
    topic_queue_table: BTreeMap<String, BTreeMap<String, QueueData>>,
    broker_addr_table: BTreeMap<String, BrokerData>,
    cluster_addr_table: BTreeMap<String, BTreeSet<String>>,
    broker_live_table: BTreeMap<String, BrokerLiveInfo>,
    default_timeout: Duration,
}

/// A registered broker address and when it was last heard from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerLiveInfo {
    pub last_update: Instant,
    /// Silence longer than this drops the broker.
    pub timeout: Duration,
    /// The topic table version of its last registration.
    pub data_version: DataVersion,
    /// The connection it registered over.
    pub conn: ConnId,
    pub ha_server_addr: String,
}

/// What a registering broker learns: a slave gets its live master's addresses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegisterBrokerResult {
    pub ha_server_addr: Option<String>,
    pub master_addr: Option<String>,
}

/// The answer to QUERY_DATA_VERSION.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataVersionQuery {
    /// The broker's version differs from the one registered (or it is not registered).
    pub changed: bool,
    /// The version registered here, if any.
    pub registered: Option<DataVersion>,
}

impl RouteTable {
    /// An empty table; brokers that do not send their own heartbeat timeout expire after
    /// `default_timeout` of silence.
    pub fn new(default_timeout: Duration) -> RouteTable {
        RouteTable {
            topic_queue_table: BTreeMap::new(),
            broker_addr_table: BTreeMap::new(),
            cluster_addr_table: BTreeMap::new(),
            broker_live_table: BTreeMap::new(),
            default_timeout,
        }
    }

    /// Changes the timeout given to later registrations.
    pub fn set_default_timeout(&mut self, timeout: Duration) {
        self.default_timeout = timeout;
    }

    /// Registers (or refreshes) a broker and, for a master with a new data version or on first
    /// registration, its topics.
    pub fn register_broker(
        &mut self,
        header: &RegisterBrokerRequestHeader,
        topics: TopicConfigSerializeWrapper,
        conn: ConnId,
        now: Instant,
    ) -> RegisterBrokerResult {
        let broker_name = &header.broker_name;
        let broker_addr = &header.broker_addr;
        let broker_id = header.broker_id;
        self.cluster_addr_table
            .entry(header.cluster_name.clone())
            .or_default()
            .insert(broker_name.clone());

        let mut first = false;
        let broker_data = self
            .broker_addr_table
            .entry(broker_name.clone())
            .or_insert_with(|| {
                first = true;
                BrokerData {
                    broker_name: broker_name.clone(),
                    cluster: header.cluster_name.clone(),
                    ..BrokerData::default()
                }
            });
        // One address has one id: a slave promoted to master re-registers under id 0 and its
        // old id goes.
        broker_data
            .broker_addrs
            .retain(|id, addr| addr != broker_addr || *id == broker_id);
        let old_addr = broker_data
            .broker_addrs
            .insert(broker_id, broker_addr.clone());
        if broker_id == MASTER_ID && old_addr.as_ref() != Some(broker_addr) {
            info!(cluster = %header.cluster_name, broker = %broker_name, old = ?old_addr, new = %broker_addr, "master address changed");
        }
        first |= old_addr.is_none();

        // Apache 5's "prime slave": while no master of the group is registered, the slave with
        // the smallest id speaks for the group's topics, read-only (a slave takes no sends). So
        // a group whose master is gone, or a name server that restarted meanwhile, still routes
        // consumers to the slave that holds the messages. Apache 4.x name servers take topics
        // from masters only.
        let is_master = broker_id == MASTER_ID;
        let is_prime_slave =
            !is_master && broker_data.broker_addrs.keys().next() == Some(&broker_id);
        if (is_master || is_prime_slave)
            && (first || self.is_data_version_changed(broker_addr, &topics.data_version))
        {
            for (key, config) in &topics.topic_config_table {
                if is_prime_slave {
                    let read_only = TopicConfig {
                        perm: config.perm & !perm::WRITE,
                        ..config.clone()
                    };
                    self.update_queue_data(broker_name, key, &read_only);
                } else {
                    self.update_queue_data(broker_name, key, config);
                }
            }
        }

        let timeout = header
            .heartbeat_timeout_millis
            .and_then(|millis| u64::try_from(millis).ok())
            .filter(|millis| *millis > 0)
            .map_or(self.default_timeout, Duration::from_millis);
        let previous = self.broker_live_table.insert(
            broker_addr.clone(),
            BrokerLiveInfo {
                last_update: now,
                timeout,
                data_version: topics.data_version,
                conn,
                ha_server_addr: header.ha_server_addr.clone(),
            },
        );
        if previous.is_none() {
            info!(broker = %broker_name, addr = %broker_addr, id = broker_id, ha = %header.ha_server_addr, "new broker registered");
        }

        let mut result = RegisterBrokerResult::default();
        if broker_id != MASTER_ID
            && let Some(master_addr) = self
                .broker_addr_table
                .get(broker_name)
                .and_then(BrokerData::master_addr)
            && let Some(master) = self.broker_live_table.get(master_addr)
        {
            result.ha_server_addr = Some(master.ha_server_addr.clone());
            result.master_addr = Some(master_addr.to_owned());
        }
        result
    }

    /// Removes one broker address, as UNREGISTER_BROKER asks. The broker's id is what leaves
    /// its group (Apache removes by id, whatever address that id has now).
    pub fn unregister_broker(&mut self, header: &UnRegisterBrokerRequestHeader) {
        let removed = self.broker_live_table.remove(&header.broker_addr);
        info!(addr = %header.broker_addr, found = removed.is_some(), "unregister broker");
        let emptied = match self.broker_addr_table.get_mut(&header.broker_name) {
            Some(broker_data) => {
                broker_data.broker_addrs.remove(&header.broker_id);
                broker_data.broker_addrs.is_empty()
            }
            None => false,
        };
        if emptied {
            self.broker_addr_table.remove(&header.broker_name);
            if let Some(names) = self.cluster_addr_table.get_mut(&header.cluster_name) {
                names.remove(&header.broker_name);
                if names.is_empty() {
                    self.cluster_addr_table.remove(&header.cluster_name);
                }
            }
            self.remove_topics_of_broker(&header.broker_name);
        }
    }

    /// Drops every broker silent for longer than its timeout at `now`; returns their addresses
    /// and the connections they registered over.
    pub fn scan_expired(&mut self, now: Instant) -> Vec<(String, ConnId)> {
        let expired: Vec<(String, ConnId)> = self
            .broker_live_table
            .iter()
            .filter(|(_, live)| now.saturating_duration_since(live.last_update) > live.timeout)
            .map(|(addr, live)| (addr.clone(), live.conn))
            .collect();
        for (addr, _) in &expired {
            warn!(addr = %addr, "broker expired: no registration within its timeout");
            self.remove_broker_addr(addr);
        }
        expired
    }

    /// Drops every broker registered over connection `conn`; returns their addresses.
    pub fn connection_closed(&mut self, conn: ConnId) -> Vec<String> {
        let gone: Vec<String> = self
            .broker_live_table
            .iter()
            .filter(|(_, live)| live.conn == conn)
            .map(|(addr, _)| addr.clone())
            .collect();
        for addr in &gone {
            info!(addr = %addr, "broker connection closed; removing it");
            self.remove_broker_addr(addr);
        }
        gone
    }

    /// The route of `topic`: its queue data and the broker groups serving them; `None` when no
    /// live broker group has the topic.
    pub fn route(&self, topic: &str) -> Option<TopicRouteData> {
        let queues = self.topic_queue_table.get(topic)?;
        let broker_datas: Vec<BrokerData> = queues
            .keys()
            .filter_map(|name| self.broker_addr_table.get(name).cloned())
            .collect();
        if broker_datas.is_empty() {
            return None;
        }
        Some(TopicRouteData {
            broker_datas,
            filter_server_table: BTreeMap::new(),
            order_topic_conf: None,
            queue_datas: queues.values().cloned().collect(),
        })
    }

    /// Every broker group and cluster.
    pub fn cluster_info(&self) -> ClusterInfo {
        ClusterInfo {
            broker_addr_table: self.broker_addr_table.clone(),
            cluster_addr_table: self.cluster_addr_table.clone(),
        }
    }

    /// Every topic with a route.
    pub fn all_topics(&self) -> Vec<String> {
        self.topic_queue_table.keys().cloned().collect()
    }

    /// Topics with queues on a broker group of `cluster` (empty for an unknown cluster).
    pub fn topics_by_cluster(&self, cluster: &str) -> Vec<String> {
        let Some(names) = self.cluster_addr_table.get(cluster) else {
            return Vec::new();
        };
        self.topic_queue_table
            .iter()
            .filter(|(_, queues)| names.iter().any(|name| queues.contains_key(name)))
            .map(|(topic, _)| topic.clone())
            .collect()
    }

    /// Apache's "system topics": cluster names and broker names (each is a topic on its
    /// brokers), with the address of one broker to ask.
    pub fn system_topics(&self) -> TopicList {
        let mut topics = BTreeSet::new();
        for (cluster, names) in &self.cluster_addr_table {
            topics.insert(cluster.clone());
            topics.extend(names.iter().cloned());
        }
        let broker_addr = self
            .broker_addr_table
            .values()
            .find_map(|data| data.broker_addrs.values().next().cloned());
        TopicList {
            broker_addr,
            topic_list: topics.into_iter().collect(),
        }
    }

    /// Topics whose (first) queue data has the unit flag.
    pub fn unit_topics(&self) -> Vec<String> {
        self.topics_where(|flag| flag & TOPIC_SYS_FLAG_UNIT != 0)
    }

    /// Topics whose (first) queue data has the unit-subscription flag.
    pub fn has_unit_sub_topics(&self) -> Vec<String> {
        self.topics_where(|flag| flag & TOPIC_SYS_FLAG_UNIT_SUB != 0)
    }

    /// Topics with the unit-subscription flag but not the unit flag.
    pub fn has_unit_sub_ununit_topics(&self) -> Vec<String> {
        self.topics_where(|flag| {
            flag & TOPIC_SYS_FLAG_UNIT == 0 && flag & TOPIC_SYS_FLAG_UNIT_SUB != 0
        })
    }

    /// Deletes a topic's routes; with `cluster`, only its queue data on that cluster's brokers.
    pub fn delete_topic(&mut self, topic: &str, cluster: Option<&str>) {
        let Some(cluster) = cluster else {
            self.topic_queue_table.remove(topic);
            return;
        };
        let (Some(names), Some(queues)) = (
            self.cluster_addr_table.get(cluster),
            self.topic_queue_table.get_mut(topic),
        ) else {
            return;
        };
        for name in names {
            queues.remove(name);
        }
        if queues.is_empty() {
            self.topic_queue_table.remove(topic);
        }
    }

    /// Clears the write bit of every topic's queue data on `broker_name`; returns how many
    /// topics it touched.
    pub fn wipe_write_perm(&mut self, broker_name: &str) -> i32 {
        self.update_perm(broker_name, |perm| perm & !perm::WRITE)
    }

    /// Sets every topic's queue data on `broker_name` to read-write (Apache sets exactly
    /// READ|WRITE, dropping other bits); returns how many topics it touched.
    pub fn add_write_perm(&mut self, broker_name: &str) -> i32 {
        self.update_perm(broker_name, |_| perm::READ | perm::WRITE)
    }

    /// Compares a broker's data version with the registered one; an unchanged version counts as
    /// a heartbeat and refreshes the broker's last update time.
    pub fn query_data_version(
        &mut self,
        broker_addr: &str,
        version: &DataVersion,
        now: Instant,
    ) -> DataVersionQuery {
        let changed = self.is_data_version_changed(broker_addr, version);
        if !changed && let Some(live) = self.broker_live_table.get_mut(broker_addr) {
            live.last_update = now;
        }
        DataVersionQuery {
            changed,
            registered: self
                .broker_live_table
                .get(broker_addr)
                .map(|live| live.data_version),
        }
    }

    /// The liveness record of a broker address.
    pub fn live_broker(&self, broker_addr: &str) -> Option<&BrokerLiveInfo> {
        self.broker_live_table.get(broker_addr)
    }

    fn is_data_version_changed(&self, broker_addr: &str, version: &DataVersion) -> bool {
        self.broker_live_table
            .get(broker_addr)
            .is_none_or(|live| live.data_version != *version)
    }

    fn update_queue_data(&mut self, broker_name: &str, key: &str, config: &TopicConfig) {
        // Apache keys the route by the config's own name; the map key is its fallback.
        let topic = if config.topic_name.is_empty() {
            key
        } else {
            &config.topic_name
        };
        let queue_data = QueueData {
            broker_name: broker_name.to_owned(),
            perm: config.perm,
            read_queue_nums: config.read_queue_nums,
            topic_sys_flag: config.topic_sys_flag,
            write_queue_nums: config.write_queue_nums,
        };
        let queues = self.topic_queue_table.entry(topic.to_owned()).or_default();
        match queues.insert(broker_name.to_owned(), queue_data) {
            None => info!(topic = %topic, broker = %broker_name, "new topic registered"),
            Some(old) if old != queues[broker_name] => {
                info!(topic = %topic, broker = %broker_name, ?old, new = ?queues[broker_name], "topic changed");
            }
            Some(_) => {}
        }
    }

    /// Removes an address from the live table and from its broker group, and the group from
    /// its cluster and topics when it was the group's last address (Apache's `onChannelDestroy`).
    fn remove_broker_addr(&mut self, broker_addr: &str) {
        self.broker_live_table.remove(broker_addr);
        let mut emptied = Vec::new();
        self.broker_addr_table.retain(|name, data| {
            data.broker_addrs.retain(|_, addr| addr != broker_addr);
            if data.broker_addrs.is_empty() {
                emptied.push(name.clone());
                false
            } else {
                true
            }
        });
        for name in emptied {
            self.cluster_addr_table.retain(|_, names| {
                names.remove(&name);
                !names.is_empty()
            });
            self.remove_topics_of_broker(&name);
        }
    }

    fn remove_topics_of_broker(&mut self, broker_name: &str) {
        self.topic_queue_table.retain(|_, queues| {
            queues.remove(broker_name);
            !queues.is_empty()
        });
    }

    fn update_perm(&mut self, broker_name: &str, change: impl Fn(i32) -> i32) -> i32 {
        let mut count = 0;
        for queues in self.topic_queue_table.values_mut() {
            if let Some(queue_data) = queues.get_mut(broker_name) {
                queue_data.perm = change(queue_data.perm);
                count += 1;
            }
        }
        count
    }

    /// Apache looks only at the first queue data of a topic; ours is the first by broker name.
    fn topics_where(&self, pick: impl Fn(i32) -> bool) -> Vec<String> {
        self.topic_queue_table
            .iter()
            .filter(|(_, queues)| {
                queues
                    .values()
                    .next()
                    .is_some_and(|queue_data| pick(queue_data.topic_sys_flag))
            })
            .map(|(topic, _)| topic.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests;
