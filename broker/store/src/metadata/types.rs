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

/// Apache's `DataVersion`: bumped on every change, compared by name servers and slaves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DataVersion {
    pub counter: i64,
    /// 5.x only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_version: Option<i64>,
    /// Milliseconds since the epoch of the last change.
    pub timestamp: i64,
}

/// How a topic's tags are filtered (`TopicFilterType`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TopicFilterType {
    #[default]
    SingleTag,
    MultiTag,
}

/// Permission bits (`PermName`): 2 = write, 4 = read, 1 = inherit, 8 = priority.
pub const PERM_READ_WRITE: i32 = 6;

/// Apache's `TopicConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicConfig {
    /// 5.x: e.g. `{"+message.type":"NORMAL"}`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    pub order: bool,
    pub perm: i32,
    pub read_queue_nums: i32,
    pub topic_filter_type: TopicFilterType,
    pub topic_name: String,
    pub topic_sys_flag: i32,
    pub write_queue_nums: i32,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            attributes: BTreeMap::new(),
            order: false,
            perm: PERM_READ_WRITE,
            read_queue_nums: 16,
            topic_filter_type: TopicFilterType::SingleTag,
            topic_name: String::new(),
            topic_sys_flag: 0,
            write_queue_nums: 16,
            extra: BTreeMap::new(),
        }
    }
}

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
