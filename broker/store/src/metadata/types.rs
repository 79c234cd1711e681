//! The contents of the metadata files, with Apache's JSON names and defaults.
//!
//! Fields are declared in alphabetical order because fastjson writes them so. A missing field
//! takes Apache's default; fields we do not model (newer Apache versions add some) are kept in
//! `extra` and written back, so a round trip through us loses nothing. The two offset files have
//! no `extra`: serde's `flatten` buffers the map, and integer map keys then no longer parse from
//! JSON strings (serde-rs/serde#1183); their unknown fields are dropped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::MetadataFile;

/// The topic model, its version stamp and filter type are the protocol's: `topics.json` holds
/// what GET_ALL_TOPIC_CONFIG and REGISTER_BROKER carry.
pub use rmq_protocol::body::topic_config::{DataVersion, TopicConfig, TopicFilterType};

/// Permission bits (`PermName`): 2 = write, 4 = read, 1 = inherit, 8 = priority.
pub const PERM_READ_WRITE: i32 = 6;

/// `config/topics.json` (`TopicConfigSerializeWrapper`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicConfigTable {
    pub data_version: DataVersion,
    pub topic_config_table: BTreeMap<String, TopicConfig>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl MetadataFile for TopicConfigTable {
    const FILE_NAME: &'static str = "topics.json";
}

/// `config/consumerOffset.json` (`ConsumerOffsetManager`): committed offsets by `topic@group`,
/// then queue id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerOffsetTable {
    /// 5.x only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_version: Option<DataVersion>,
    pub offset_table: BTreeMap<String, BTreeMap<i32, i64>>,
}

impl MetadataFile for ConsumerOffsetTable {
    const FILE_NAME: &'static str = "consumerOffset.json";
}

/// Apache's `SubscriptionGroupConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionGroupConfig {
    pub broker_id: i64,
    pub consume_broadcast_enable: bool,
    pub consume_enable: bool,
    pub consume_from_min_enable: bool,
    pub group_name: String,
    pub notify_consumer_ids_changed_enable: bool,
    pub retry_max_times: i32,
    pub retry_queue_nums: i32,
    pub which_broker_when_consume_slowly: i64,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Default for SubscriptionGroupConfig {
    fn default() -> Self {
        SubscriptionGroupConfig {
            broker_id: 0,
            consume_broadcast_enable: true,
            consume_enable: true,
            consume_from_min_enable: true,
            group_name: String::new(),
            notify_consumer_ids_changed_enable: true,
            retry_max_times: 16,
            retry_queue_nums: 1,
            which_broker_when_consume_slowly: 1,
            extra: BTreeMap::new(),
        }
    }
}

/// `config/subscriptionGroup.json` (`SubscriptionGroupManager`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionGroupTable {
    pub data_version: DataVersion,
    pub subscription_group_table: BTreeMap<String, SubscriptionGroupConfig>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl MetadataFile for SubscriptionGroupTable {
    const FILE_NAME: &'static str = "subscriptionGroup.json";
}

/// `config/delayOffset.json` (`DelayOffsetSerializeWrapper`): the delivery progress of each delay
/// level's queue in `SCHEDULE_TOPIC_XXXX`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DelayOffsetTable {
    /// 5.x only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_version: Option<DataVersion>,
    pub offset_table: BTreeMap<i32, i64>,
}

impl MetadataFile for DelayOffsetTable {
    const FILE_NAME: &'static str = "delayOffset.json";
}
