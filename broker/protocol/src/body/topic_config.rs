//! Topic configs and the registration body: `TopicConfig`, `DataVersion`,
//! `TopicConfigSerializeWrapper` (GET_ALL_TOPIC_CONFIG) and `RegisterBrokerBody`
//! (REGISTER_BROKER, uncompressed form).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{DecodeBodyError, EncodeBodyError};
use crate::command::{HeaderValue, header_field};

/// How a topic's messages are filtered by tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TopicFilterType {
    #[default]
    SingleTag,
    MultiTag,
}

impl TopicFilterType {
    /// The Java name.
    pub fn name(self) -> &'static str {
        match self {
            TopicFilterType::SingleTag => "SINGLE_TAG",
            TopicFilterType::MultiTag => "MULTI_TAG",
        }
    }

    /// The type of a Java name.
    pub fn from_name(name: &str) -> Option<TopicFilterType> {
        match name {
            "SINGLE_TAG" => Some(TopicFilterType::SingleTag),
            "MULTI_TAG" => Some(TopicFilterType::MultiTag),
            _ => None,
        }
    }
}

impl HeaderValue for TopicFilterType {
    const EXPECTED: &'static str = "SINGLE_TAG or MULTI_TAG";
    fn insert_into(&self, key: &'static str, fields: &mut crate::ExtFields) {
        fields.insert(key, self.name());
    }
    fn from_field(text: &str) -> Option<Self> {
        TopicFilterType::from_name(text.trim())
    }
}

header_field!(TopicFilterType);

impl Serialize for TopicFilterType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// By name, or by ordinal as fastjson also accepts.
impl<'de> Deserialize<'de> for TopicFilterType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            Ordinal(u64),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Name(name) => TopicFilterType::from_name(&name).ok_or_else(|| {
                serde::de::Error::custom(format!("unknown topic filter type {name:?}"))
            }),
            Raw::Ordinal(0) => Ok(TopicFilterType::SingleTag),
            Raw::Ordinal(1) => Ok(TopicFilterType::MultiTag),
            Raw::Ordinal(other) => Err(serde::de::Error::custom(format!(
                "unknown topic filter type {other}"
            ))),
        }
    }
}

/// One topic's config on one broker: the one model of `topics.json` (the store's metadata),
/// GET_ALL_TOPIC_CONFIG and REGISTER_BROKER. Fields are in alphabetical order because fastjson
/// writes them so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicConfig {
    /// 5.x; written as `{}` when empty, as Java does.
    pub attributes: BTreeMap<String, String>,
    pub order: bool,
    pub perm: i32,
    pub read_queue_nums: i32,
    pub topic_filter_type: TopicFilterType,
    pub topic_name: String,
    pub topic_sys_flag: i32,
    pub write_queue_nums: i32,
    /// Fields this model does not know (newer Apache versions add some), kept and written back
    /// so a round trip through us loses nothing.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Default for TopicConfig {
    /// Java's defaults: 16 queues each way, read and write permission.
    fn default() -> Self {
        TopicConfig {
            attributes: BTreeMap::new(),
            order: false,
            perm: super::perm::READ | super::perm::WRITE,
            read_queue_nums: 16,
            topic_filter_type: TopicFilterType::SingleTag,
            topic_name: String::new(),
            topic_sys_flag: 0,
            write_queue_nums: 16,
            extra: BTreeMap::new(),
        }
    }
}

/// A version stamp of a broker's topic table; a change makes name servers take the new table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DataVersion {
    pub counter: i64,
    /// 5.x only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_version: Option<i64>,
    pub timestamp: i64,
}

/// A broker's whole topic table with its version.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicConfigSerializeWrapper {
    pub data_version: DataVersion,
    pub topic_config_table: BTreeMap<String, TopicConfig>,
}

/// The REGISTER_BROKER body (uncompressed form).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RegisterBrokerBody {
    pub filter_server_list: Vec<String>,
    pub topic_config_serialize_wrapper: TopicConfigSerializeWrapper,
}

impl TopicConfigSerializeWrapper {
    /// Standard JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, EncodeBodyError> {
        super::encode("TopicConfigSerializeWrapper", self)
    }

    /// Reads standard or fastjson JSON.
    pub fn decode(bytes: &[u8]) -> Result<TopicConfigSerializeWrapper, DecodeBodyError> {
        super::decode("TopicConfigSerializeWrapper", bytes)
    }
}

impl RegisterBrokerBody {
    /// Standard JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, EncodeBodyError> {
        super::encode("RegisterBrokerBody", self)
    }

    /// Reads standard or fastjson JSON.
    pub fn decode(bytes: &[u8]) -> Result<RegisterBrokerBody, DecodeBodyError> {
        super::decode("RegisterBrokerBody", bytes)
    }
}

impl DataVersion {
    /// Reads standard or fastjson JSON (the QUERY_DATA_VERSION body).
    pub fn decode(bytes: &[u8]) -> Result<DataVersion, DecodeBodyError> {
        super::decode("DataVersion", bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(name: &str) -> TopicConfig {
        TopicConfig {
            topic_name: name.into(),
            read_queue_nums: 4,
            write_queue_nums: 4,
            perm: 6,
            ..TopicConfig::default()
        }
    }

    #[test]
    fn topic_config_has_the_java_shape() {
        let json = serde_json::to_string(&topic("T")).unwrap();
        assert_eq!(
            json,
            r#"{"attributes":{},"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"T","topicSysFlag":0,"writeQueueNums":4}"#
        );
    }

    #[test]
    fn register_body_round_trips() {
        let mut wrapper = TopicConfigSerializeWrapper {
            data_version: DataVersion {
                counter: 3,
                state_version: Some(0),
                timestamp: 1_700_000_000_000,
            },
            ..Default::default()
        };
        wrapper.topic_config_table.insert("T".into(), topic("T"));
        wrapper
            .topic_config_table
            .insert("TBW102".into(), topic("TBW102"));
        let body = RegisterBrokerBody {
            filter_server_list: vec![],
            topic_config_serialize_wrapper: wrapper,
        };
        let bytes = body.to_json().unwrap();
        assert!(String::from_utf8(bytes.clone()).unwrap().starts_with(
            r#"{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":3,"stateVersion":0,"timestamp":1700000000000},"topicConfigTable":{"T":{"#
        ));
        assert_eq!(RegisterBrokerBody::decode(&bytes).unwrap(), body);
    }

    #[test]
    fn a_4x_register_body_without_5x_fields_parses() {
        let body = br#"{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":1,"timestamp":1600000000000},"topicConfigTable":{"T":{"order":false,"perm":6,"readQueueNums":8,"topicFilterType":"SINGLE_TAG","topicName":"T","topicSysFlag":0,"writeQueueNums":8}}}}"#;
        let body = RegisterBrokerBody::decode(body).unwrap();
        let wrapper = body.topic_config_serialize_wrapper;
        assert_eq!(wrapper.data_version.state_version, None);
        assert_eq!(wrapper.data_version.counter, 1);
        assert_eq!(wrapper.topic_config_table["T"].read_queue_nums, 8);
        assert!(wrapper.topic_config_table["T"].attributes.is_empty());
    }

    #[test]
    fn filter_type_reads_names_and_ordinals_and_rejects_others() {
        let read = |json: &str| serde_json::from_str::<TopicFilterType>(json);
        assert_eq!(read(r#""MULTI_TAG""#).unwrap(), TopicFilterType::MultiTag);
        assert_eq!(read("0").unwrap(), TopicFilterType::SingleTag);
        assert!(read(r#""SQL""#).is_err());
        assert!(read("5").is_err());
    }

    #[test]
    fn data_version_body_parses() {
        let version =
            DataVersion::decode(br#"{"counter":7,"stateVersion":2,"timestamp":9}"#).unwrap();
        assert_eq!(
            version,
            DataVersion {
                counter: 7,
                state_version: Some(2),
                timestamp: 9
            }
        );
    }
}
