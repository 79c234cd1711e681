//! Route bodies of the name server: `TopicRouteData` (GET_ROUTEINFO_BY_TOPIC) and `ClusterInfo`
//! (GET_BROKER_CLUSTER_INFO).
//!
//! ```text
//! {"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911"},"brokerName":"broker-a","cluster":"c"}],
//!  "filterServerTable":{},
//!  "queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{DecodeBodyError, EncodeBodyError, fastjson};

/// Broker id of a master.
pub const MASTER_ID: i64 = 0;

/// Where a topic lives: its queues per broker and the brokers' addresses.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicRouteData {
    pub broker_datas: Vec<BrokerData>,
    /// Broker address → filter server addresses (always empty here; Java sends `{}`).
    pub filter_server_table: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_topic_conf: Option<String>,
    pub queue_datas: Vec<QueueData>,
}

/// One broker group (master and slaves sharing a `brokerName`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerData {
    /// Broker id → `ip:port`; 0 is the master.
    pub broker_addrs: BTreeMap<i64, String>,
    pub broker_name: String,
    pub cluster: String,
    /// 5.x only; absent from 4.x peers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_acting_master: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_name: Option<String>,
}

/// A topic's queues on one broker group.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueData {
    pub broker_name: String,
    pub perm: i32,
    pub read_queue_nums: i32,
    pub topic_sys_flag: i32,
    pub write_queue_nums: i32,
}

/// Every broker group and which cluster it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClusterInfo {
    /// Broker name → broker group.
    pub broker_addr_table: BTreeMap<String, BrokerData>,
    /// Cluster name → broker names.
    pub cluster_addr_table: BTreeMap<String, BTreeSet<String>>,
}

/// Picks the `brokerAddrs` maps, wherever they sit.
fn broker_addrs(path: &[&str]) -> bool {
    path.last() == Some(&"brokerAddrs")
}

impl TopicRouteData {
    /// Standard JSON, for clients at 4.9.4 or later or that ask for it.
    pub fn to_json(&self) -> Result<Vec<u8>, EncodeBodyError> {
        super::encode("TopicRouteData", self)
    }

    /// fastjson's form with bare broker-id keys, as Apache answers clients before 4.9.4.
    pub fn to_fastjson(&self) -> Result<Vec<u8>, EncodeBodyError> {
        Ok(fastjson::unquote_integer_keys(
            &self.to_json()?,
            broker_addrs,
        ))
    }

    /// Reads either form.
    pub fn decode(bytes: &[u8]) -> Result<TopicRouteData, DecodeBodyError> {
        super::decode("TopicRouteData", bytes)
    }
}

impl BrokerData {
    /// The master's address, if the master is registered.
    pub fn master_addr(&self) -> Option<&str> {
        self.broker_addrs.get(&MASTER_ID).map(String::as_str)
    }
}

impl ClusterInfo {
    /// Standard JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, EncodeBodyError> {
        super::encode("ClusterInfo", self)
    }

    /// fastjson's form with bare broker-id keys.
    pub fn to_fastjson(&self) -> Result<Vec<u8>, EncodeBodyError> {
        Ok(fastjson::unquote_integer_keys(
            &self.to_json()?,
            broker_addrs,
        ))
    }

    /// Reads either form.
    pub fn decode(bytes: &[u8]) -> Result<ClusterInfo, DecodeBodyError> {
        super::decode("ClusterInfo", bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route() -> TopicRouteData {
        TopicRouteData {
            broker_datas: vec![BrokerData {
                broker_addrs: BTreeMap::from([
                    (0, "127.0.0.1:10911".into()),
                    (1, "127.0.0.2:10911".into()),
                ]),
                broker_name: "broker-a".into(),
                cluster: "DefaultCluster".into(),
                enable_acting_master: None,
                zone_name: None,
            }],
            filter_server_table: BTreeMap::new(),
            order_topic_conf: None,
            queue_datas: vec![QueueData {
                broker_name: "broker-a".into(),
                perm: 6,
                read_queue_nums: 4,
                topic_sys_flag: 0,
                write_queue_nums: 4,
            }],
        }
    }

    #[test]
    fn route_is_emitted_with_unquoted_broker_ids_and_parsed_back() {
        let bytes = route().to_fastjson().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text,
            r#"{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#
        );
        assert_eq!(TopicRouteData::decode(&bytes).unwrap(), route());
    }

    #[test]
    fn route_standard_form_quotes_broker_ids_and_parses_back() {
        let bytes = route().to_json().unwrap();
        assert!(
            String::from_utf8(bytes.clone())
                .unwrap()
                .contains(r#"{"0":"127.0.0.1:10911","1":"#)
        );
        assert_eq!(TopicRouteData::decode(&bytes).unwrap(), route());
    }

    #[test]
    fn the_apache_name_server_route_body_parses() {
        let body = br#"{"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":8,"topicSysFlag":0,"writeQueueNums":8}]}"#;
        let route = TopicRouteData::decode(body).unwrap();
        assert_eq!(route.broker_datas[0].master_addr(), Some("10.0.0.1:10911"));
        assert_eq!(route.broker_datas[0].enable_acting_master, Some(false));
        assert_eq!(route.queue_datas[0].write_queue_nums, 8);
    }

    #[test]
    fn topic_names_that_look_like_numbers_keep_their_quotes() {
        let mut info = ClusterInfo::default();
        let mut group = route().broker_datas[0].clone();
        group.broker_name = "123".into();
        info.broker_addr_table.insert("123".into(), group);
        info.cluster_addr_table
            .insert("DefaultCluster".into(), BTreeSet::from(["123".to_owned()]));
        let text = String::from_utf8(info.to_fastjson().unwrap()).unwrap();
        assert!(
            text.starts_with(r#"{"brokerAddrTable":{"123":{"brokerAddrs":{0:"#),
            "{text}"
        );
        assert_eq!(ClusterInfo::decode(text.as_bytes()).unwrap(), info);
    }

    #[test]
    fn a_broker_without_master_has_no_master_addr() {
        let mut group = route().broker_datas[0].clone();
        group.broker_addrs.remove(&0);
        assert_eq!(group.master_addr(), None);
    }
}
