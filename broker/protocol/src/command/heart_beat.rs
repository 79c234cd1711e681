//! HEART_BEAT (34): a client's producer and consumer groups with their subscriptions.
//! The header is empty; the body is [`HeartbeatData`] JSON.
//!
//! The enums are read by name or by Java ordinal (fastjson accepts both, and some non-Java
//! clients write ordinals); a value we do not know becomes `Unknown` instead of failing the
//! heartbeat, and is written back as `"UNKNOWN"`.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::body::{DecodeBodyError, EncodeBodyError};

/// Subscription expression meaning "every tag".
pub const SUB_ALL: &str = "*";

/// Declares a Java enum carried in JSON by name (or ordinal), with an `Unknown` catch-all.
macro_rules! java_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($variant:ident => $java:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( #[doc = $java] $variant, )*
            /// A name or ordinal this version does not know.
            Unknown,
        }

        impl $name {
            const KNOWN: &'static [$name] = &[$($name::$variant,)*];

            /// The Java name.
            pub fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $java, )*
                    $name::Unknown => "UNKNOWN",
                }
            }

            fn from_name(name: &str) -> $name {
                $name::KNOWN.iter().copied().find(|v| v.name() == name).unwrap_or($name::Unknown)
            }

            fn from_ordinal(ordinal: u64) -> $name {
                usize::try_from(ordinal)
                    .ok()
                    .and_then(|index| $name::KNOWN.get(index).copied())
                    .unwrap_or($name::Unknown)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.name())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct EnumVisitor;
                impl Visitor<'_> for EnumVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " name or ordinal"))
                    }
                    fn visit_str<E: de::Error>(self, name: &str) -> Result<$name, E> {
                        Ok($name::from_name(name))
                    }
                    fn visit_u64<E: de::Error>(self, ordinal: u64) -> Result<$name, E> {
                        Ok($name::from_ordinal(ordinal))
                    }
                    fn visit_i64<E: de::Error>(self, _: i64) -> Result<$name, E> {
                        Ok($name::Unknown)
                    }
                    fn visit_unit<E: de::Error>(self) -> Result<$name, E> {
                        Ok($name::Unknown)
                    }
                }
                deserializer.deserialize_any(EnumVisitor)
            }
        }
    };
}

java_enum! {
    /// Pull (actively) or push (passively) consumer.
    pub enum ConsumeType {
        ConsumeActively => "CONSUME_ACTIVELY",
        ConsumePassively => "CONSUME_PASSIVELY",
        ConsumePop => "CONSUME_POP",
    }
}

java_enum! {
    /// Each message to one member of the group (clustering) or to every member (broadcasting).
    pub enum MessageModel {
        Broadcasting => "BROADCASTING",
        Clustering => "CLUSTERING",
    }
}

java_enum! {
    /// Where a group with no committed offset starts.
    pub enum ConsumeFromWhere {
        ConsumeFromLastOffset => "CONSUME_FROM_LAST_OFFSET",
        ConsumeFromLastOffsetAndFromMinWhenBootFirst => "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST",
        ConsumeFromMinOffset => "CONSUME_FROM_MIN_OFFSET",
        ConsumeFromMaxOffset => "CONSUME_FROM_MAX_OFFSET",
        ConsumeFromFirstOffset => "CONSUME_FROM_FIRST_OFFSET",
        ConsumeFromTimestamp => "CONSUME_FROM_TIMESTAMP",
    }
}

/// The heartbeat body.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HeartbeatData {
    #[serde(rename = "clientID")]
    pub client_id: String,
    pub consumer_data_set: Vec<ConsumerData>,
    /// 5.x heartbeat v2; 0 (not written) in 4.x.
    #[serde(skip_serializing_if = "is_zero")]
    pub heartbeat_fingerprint: i32,
    pub producer_data_set: Vec<ProducerData>,
    /// 5.x heartbeat v2: subscriptions left out because unchanged.
    #[serde(skip_serializing_if = "is_false")]
    pub without_sub: bool,
}

/// One consumer group of the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerData {
    pub consume_from_where: ConsumeFromWhere,
    pub consume_type: ConsumeType,
    pub group_name: String,
    pub message_model: MessageModel,
    pub subscription_data_set: Vec<SubscriptionData>,
    pub unit_mode: bool,
}

/// One producer group of the client.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProducerData {
    pub group_name: String,
}

/// One topic subscription of a consumer group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionData {
    pub class_filter_mode: bool,
    /// Java `String.hashCode` of each tag of `tagsSet`.
    pub code_set: Vec<i32>,
    /// `TAG` or `SQL92`.
    pub expression_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_class_source: Option<String>,
    /// The expression as given: `*`, `TagA || TagB`, or SQL.
    pub sub_string: String,
    /// The C++ client writes it as a JSON string.
    #[serde(deserialize_with = "number_or_string")]
    pub sub_version: i64,
    pub tags_set: Vec<String>,
    pub topic: String,
}

impl Default for ConsumerData {
    fn default() -> Self {
        ConsumerData {
            consume_from_where: ConsumeFromWhere::ConsumeFromLastOffset,
            consume_type: ConsumeType::ConsumePassively,
            group_name: String::new(),
            message_model: MessageModel::Clustering,
            subscription_data_set: Vec::new(),
            unit_mode: false,
        }
    }
}

impl Default for SubscriptionData {
    fn default() -> Self {
        SubscriptionData {
            class_filter_mode: false,
            code_set: Vec::new(),
            expression_type: "TAG".to_owned(),
            filter_class_source: None,
            sub_string: SUB_ALL.to_owned(),
            sub_version: 0,
            tags_set: Vec::new(),
            topic: String::new(),
        }
    }
}

impl HeartbeatData {
    /// Standard JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, EncodeBodyError> {
        crate::body::encode("HeartbeatData", self)
    }

    /// Reads the body leniently.
    pub fn decode(bytes: &[u8]) -> Result<HeartbeatData, DecodeBodyError> {
        crate::body::decode("HeartbeatData", bytes)
    }
}

fn is_zero(value: &i32) -> bool {
    *value == 0
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// An `i64` written as a JSON number or as a string holding one.
fn number_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct NumberVisitor;
    impl Visitor<'_> for NumberVisitor {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer or a string holding one")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(E::custom)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            v.trim().parse().map_err(E::custom)
        }
        fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
            Ok(0)
        }
    }
    deserializer.deserialize_any(NumberVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAVA_HEARTBEAT: &str = r#"{"clientID":"10.0.0.5@12345#1","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY","groupName":"cg","messageModel":"CLUSTERING","subscriptionDataSet":[{"classFilterMode":false,"codeSet":[80786984],"expressionType":"TAG","subString":"TagA","subVersion":1700000000000,"tagsSet":["TagA"],"topic":"T"}],"unitMode":false}],"producerDataSet":[{"groupName":"pg"}]}"#;

    #[test]
    fn a_java_heartbeat_round_trips_byte_for_byte() {
        let data = HeartbeatData::decode(JAVA_HEARTBEAT.as_bytes()).unwrap();
        assert_eq!(data.client_id, "10.0.0.5@12345#1");
        let consumer = &data.consumer_data_set[0];
        assert_eq!(consumer.consume_type, ConsumeType::ConsumePassively);
        assert_eq!(consumer.message_model, MessageModel::Clustering);
        assert_eq!(consumer.subscription_data_set[0].tags_set, ["TagA"]);
        assert_eq!(data.producer_data_set[0].group_name, "pg");
        assert_eq!(
            String::from_utf8(data.to_json().unwrap()).unwrap(),
            JAVA_HEARTBEAT
        );
    }

    #[test]
    fn enums_are_read_by_ordinal_and_unknown_values_do_not_fail() {
        let body = br#"{"clientID":"c","consumerDataSet":[{"consumeFromWhere":4,"consumeType":1,"groupName":"g","messageModel":"GALAXY"}]}"#;
        let data = HeartbeatData::decode(body).unwrap();
        let consumer = &data.consumer_data_set[0];
        assert_eq!(
            consumer.consume_from_where,
            ConsumeFromWhere::ConsumeFromFirstOffset
        );
        assert_eq!(consumer.consume_type, ConsumeType::ConsumePassively);
        assert_eq!(consumer.message_model, MessageModel::Unknown);
        assert!(consumer.subscription_data_set.is_empty());
    }

    #[test]
    fn a_5x_heartbeat_v2_keeps_its_fingerprint() {
        let body = br#"{"clientID":"c","heartbeatFingerprint":-77,"withoutSub":true}"#;
        let data = HeartbeatData::decode(body).unwrap();
        assert_eq!(data.heartbeat_fingerprint, -77);
        assert!(data.without_sub);
        assert_eq!(
            HeartbeatData::decode(&data.to_json().unwrap()).unwrap(),
            data
        );
    }

    #[test]
    fn cpp_heartbeat_with_ordinal_enums_and_string_sub_version_decodes() {
        let body = br#"{"clientID":"1238-127.0.0.1@cpp-1238","consumerDataSet":[{"consumeFromWhere":4,"consumeType":1,"groupName":"cg1","messageModel":1,"subscriptionDataSet":[{"subString":"*","subVersion":"1795243238751","topic":"T1"}]}]}
"#;
        let data = HeartbeatData::decode(body).unwrap();
        let consumer = &data.consumer_data_set[0];
        assert_eq!(consumer.message_model, MessageModel::Clustering);
        assert_eq!(consumer.consume_type, ConsumeType::ConsumePassively);
        assert_eq!(
            consumer.subscription_data_set[0].sub_version,
            1_795_243_238_751
        );
        assert_eq!(consumer.subscription_data_set[0].topic, "T1");
    }
}
