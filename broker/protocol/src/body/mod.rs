//! JSON bodies shared by several commands, and the fastjson dialect they travel in.
//!
//! | module | what |
//! |---|---|
//! | [`fastjson`] | write integer map keys unquoted like fastjson; read both forms |
//! | [`route`] | `TopicRouteData`, `BrokerData`, `QueueData`, `ClusterInfo` |
//! | [`topic_config`] | `TopicConfig`, `DataVersion`, `TopicConfigSerializeWrapper`, `RegisterBrokerBody` |
//! | [`register_compressed`] | the zlib form of `RegisterBrokerBody` (`compressedRegister=true`) |
//! | [`kv_table`] | `KVTable` |
//! | [`properties`] | Java `Properties` text (config files, broker-config bodies) |
//! | [`topic_list`] | `TopicList` |
//!
//! Struct fields are declared in alphabetical order so that serde writes them in fastjson's
//! order. Every field has a default: absent members (4.x peers lack 5.x fields) are not errors,
//! and unknown members are ignored.

pub mod fastjson;
pub mod kv_table;
pub mod properties;
pub mod register_compressed;
pub mod route;
pub mod topic_config;
pub mod topic_list;

use serde::{Deserialize, Serialize};

/// Topic permission bits (`PermName.java`).
pub mod perm {
    pub const PRIORITY: i32 = 0x1 << 3;
    pub const READ: i32 = 0x1 << 2;
    pub const WRITE: i32 = 0x1 << 1;
    pub const INHERIT: i32 = 0x1;

    /// Whether `perm` allows reading.
    pub fn is_readable(perm: i32) -> bool {
        perm & READ == READ
    }

    /// Whether `perm` allows writing.
    pub fn is_writeable(perm: i32) -> bool {
        perm & WRITE == WRITE
    }

    /// Whether topics may be auto-created from a topic with `perm`.
    pub fn is_inherited(perm: i32) -> bool {
        perm & INHERIT == INHERIT
    }
}

/// One queue of one topic on one broker.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MessageQueue {
    pub broker_name: String,
    pub queue_id: i32,
    pub topic: String,
}

/// Decoding a JSON body failed.
#[derive(Debug, thiserror::Error)]
#[error("{body} body is not valid JSON: {source}")]
pub struct DecodeBodyError {
    /// Which body was being read, e.g. `TopicRouteData`.
    pub body: &'static str,
    #[source]
    pub source: serde_json::Error,
}

/// Encoding a JSON body failed (only possible for maps with non-string keys).
#[derive(Debug, thiserror::Error)]
#[error("{body} body could not be written: {source}")]
pub struct EncodeBodyError {
    pub body: &'static str,
    #[source]
    pub source: serde_json::Error,
}

/// Reads a body leniently: standard JSON or fastjson's unquoted integer keys.
pub fn decode<T: serde::de::DeserializeOwned>(
    body: &'static str,
    bytes: &[u8],
) -> Result<T, DecodeBodyError> {
    let quoted = fastjson::quote_integer_keys(bytes);
    serde_json::from_slice(&quoted).map_err(|source| DecodeBodyError { body, source })
}

/// Reads a body whose maps may be keyed by objects (`ConsumeStats`, `TopicStatsTable`): such maps
/// must be declared with [`fastjson::deserialize_pairs`].
pub fn decode_object_keyed<T: serde::de::DeserializeOwned>(
    body: &'static str,
    bytes: &[u8],
) -> Result<T, DecodeBodyError> {
    let pairs = fastjson::object_keys_to_pairs(bytes);
    decode(body, &pairs)
}

/// Writes a body as standard JSON.
pub fn encode<T: Serialize>(body: &'static str, value: &T) -> Result<Vec<u8>, EncodeBodyError> {
    serde_json::to_vec(value).map_err(|source| EncodeBodyError { body, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perm_bits_match_java() {
        assert_eq!(perm::READ | perm::WRITE, 6);
        assert!(perm::is_readable(6) && perm::is_writeable(6) && !perm::is_inherited(6));
        assert!(perm::is_inherited(7));
        assert!(!perm::is_writeable(4));
    }

    #[test]
    fn message_queue_has_the_java_shape() {
        let queue = MessageQueue {
            broker_name: "broker-a".into(),
            queue_id: 1,
            topic: "T".into(),
        };
        let json = serde_json::to_string(&queue).unwrap();
        assert_eq!(json, r#"{"brokerName":"broker-a","queueId":1,"topic":"T"}"#);
        assert_eq!(
            decode::<MessageQueue>("MessageQueue", json.as_bytes()).unwrap(),
            queue
        );
    }

    #[test]
    fn decode_error_names_the_body() {
        let error = decode::<MessageQueue>("MessageQueue", b"{").unwrap_err();
        assert_eq!(error.body, "MessageQueue");
        assert!(
            error
                .to_string()
                .starts_with("MessageQueue body is not valid JSON")
        );
    }
}
