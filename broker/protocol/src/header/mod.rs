//! The two header serializations: JSON (serType 0) and ROCKETMQ binary (serType 1).
//!
//! [`encode`] and [`decode`] turn the header fields of a [`RemotingCommand`] into header bytes
//! and back; the frame around them (length, `hdrInfo`, body) is [`crate::frame`]'s business.

pub mod binary;
pub mod json;

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
    #[error("JSON header could not be written: {source}")]
    Json {
        #[source]
        source: serde_json::Error,
    },
}
