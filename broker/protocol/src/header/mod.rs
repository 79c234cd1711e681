//! The two header serializations: JSON (serType 0) and ROCKETMQ binary (serType 1).
//!
//! [`encode`] and [`decode`] turn the header fields of a [`RemotingCommand`] into header bytes
//! and back; the frame around them (length, `hdrInfo`, body) is [`crate::frame`]'s business.

pub mod binary;
pub mod json;
mod json_fast;

use bytes::BytesMut;

use crate::remoting_command::{RemotingCommand, SerializeType};

/// Appends the header of `command` to `dst`, serialized as `command.serialize_type` says.
pub fn encode(command: &RemotingCommand, dst: &mut BytesMut) -> Result<(), EncodeHeaderError> {
    match command.serialize_type {
        SerializeType::Json => json::encode(command, dst),
        SerializeType::RocketMq => binary::encode(command, dst),
    }
}

/// Reads header bytes into a command with an empty body.
pub fn decode(
    serialize_type: SerializeType,
    header: &[u8],
) -> Result<RemotingCommand, DecodeHeaderError> {
    match serialize_type {
        SerializeType::Json => json::decode(header),
        SerializeType::RocketMq => binary::decode(header),
    }
}

/// Decoding header bytes failed.
#[derive(Debug, thiserror::Error)]
pub enum DecodeHeaderError {
    #[error("JSON header is not valid: {source}")]
    Json {
        #[source]
        source: serde_json::Error,
    },
    #[error("ROCKETMQ header is truncated in `{field}`: {needed} bytes needed, {remaining} left")]
    Truncated {
        field: &'static str,
        needed: usize,
        remaining: usize,
    },
    #[error("ROCKETMQ header field `{field}` is not UTF-8")]
    InvalidUtf8 {
        field: &'static str,
        #[source]
        source: std::str::Utf8Error,
    },
}

/// Encoding a header failed: the command cannot be carried by the chosen serialization.
#[derive(Debug, thiserror::Error)]
pub enum EncodeHeaderError {
    #[error("{field} {value} does not fit the i16 of a ROCKETMQ header")]
    OutOfRange { field: &'static str, value: i32 },
    #[error("{field} of {len} bytes is longer than the {max} a ROCKETMQ header allows")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use proptest::prelude::*;

    use super::*;
    use crate::language::LanguageCode;

    /// Commands whose every field survives both serializations: i16 code and version, and
    /// non-empty strings (the binary form reads an empty string as absent).
    fn any_header() -> impl Strategy<Value = RemotingCommand> {
        (
            any::<i16>(),
            0..LanguageCode::ALL.len(),
            any::<i16>(),
            any::<i32>(),
            any::<i32>(),
            proptest::option::of("\\PC{1,30}"),
            proptest::collection::btree_map("\\PC{1,10}", "\\PC{1,20}", 0..8),
        )
            .prop_map(
                |(code, language, version, opaque, flag, remark, ext_fields)| RemotingCommand {
                    code: i32::from(code),
                    language: LanguageCode::ALL[language],
                    version: i32::from(version),
                    opaque,
                    flag,
                    remark,
                    ext_fields: ext_fields.into_iter().collect(),
                    body: Bytes::new(),
                    serialize_type: SerializeType::Json,
                },
            )
    }

    proptest! {
        #[test]
        fn any_header_round_trips_in_both_serializations(command in any_header()) {
            for serialize_type in [SerializeType::Json, SerializeType::RocketMq] {
                let command = RemotingCommand { serialize_type, ..command.clone() };
                let mut bytes = BytesMut::new();
                encode(&command, &mut bytes).unwrap();
                prop_assert_eq!(decode(serialize_type, &bytes).unwrap(), command);
            }
        }

        #[test]
        fn json_header_keeps_empty_and_control_character_strings(
            remark in "[\\x00-\\x1f\"\\\\]{0,8}",
            value in "[\\x00-\\x1f\"\\\\]{0,8}",
        ) {
            let command = RemotingCommand::request(11).with_remark(remark).with_ext_field("k", value);
            let mut bytes = BytesMut::new();
            encode(&command, &mut bytes).unwrap();
            prop_assert_eq!(decode(SerializeType::Json, &bytes).unwrap(), command);
        }
    }
}
