//! [`RemotingCommand`]: one request or response, header fields plus an opaque body.

use std::fmt;

use bytes::Bytes;

use crate::code::{RequestCode, ResponseCode};
use crate::command::{CommandHeader, ReadHeaderError};
use crate::language::{LanguageCode, version};

pub use crate::ext_fields::ExtFields;

/// Bit 0 of `flag`: the command is a response.
pub const FLAG_RESPONSE: i32 = 1 << 0;
/// Bit 1 of `flag`: the request expects no response.
pub const FLAG_ONEWAY: i32 = 1 << 1;

/// How the header of a frame is serialized: the top byte of `hdrInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum SerializeType {
    /// fastjson text; what Java clients send by default.
    #[default]
    Json = 0,
    /// The compact binary form of `RocketMQSerializable`.
    RocketMq = 1,
}

impl SerializeType {
    /// The `hdrInfo` top byte.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The serialize type of an `hdrInfo` top byte, if it is one.
    pub fn from_code(code: u8) -> Option<SerializeType> {
        match code {
            0 => Some(SerializeType::Json),
            1 => Some(SerializeType::RocketMq),
            _ => None,
        }
    }

    /// The name Java writes in `serializeTypeCurrentRPC`.
    pub fn name(self) -> &'static str {
        match self {
            SerializeType::Json => "JSON",
            SerializeType::RocketMq => "ROCKETMQ",
        }
    }
}

impl fmt::Display for SerializeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One remoting command: a request, a response, or a oneway request.
///
/// `code` is the raw wire value so that requests with codes we do not know can still be decoded
/// and answered; [`RemotingCommand::request_code`] and [`RemotingCommand::response_code`] look it
/// up in the tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemotingCommand {
    /// Request code (requests) or response code (responses).
    pub code: i32,
    /// Language of the sender.
    pub language: LanguageCode,
    /// The sender's `MQVersion` ordinal (see [`version`]).
    pub version: i32,
    /// Request id; a response carries its request's.
    pub opaque: i32,
    /// [`FLAG_RESPONSE`] and [`FLAG_ONEWAY`] bits.
    pub flag: i32,
    /// Human-readable text, usually the reason of an error.
    pub remark: Option<String>,
    /// Custom-header fields; empty means absent on the wire.
    pub ext_fields: ExtFields,
    /// Opaque body bytes (JSON, a message, a batch, stored records...).
    pub body: Bytes,
    /// How the header is serialized on the wire.
    pub serialize_type: SerializeType,
}

impl RemotingCommand {
    /// A request with no header fields and no body; the transport assigns `opaque`.
    ///
    /// The language is [`LanguageCode::Java`], not `RUST`: Java clients before 4.9 have no `RUST`
    /// constant, and fastjson may fail on an enum name it does not know.
    pub fn request(code: impl Into<i32>) -> RemotingCommand {
        RemotingCommand {
            code: code.into(),
            language: LanguageCode::Java,
            version: version::CURRENT,
            opaque: 0,
            flag: 0,
            remark: None,
            ext_fields: ExtFields::new(),
            body: Bytes::new(),
            serialize_type: SerializeType::Json,
        }
    }

    /// A request carrying `header` in its ext fields.
    pub fn request_with_header(
        code: impl Into<i32>,
        header: &impl CommandHeader,
    ) -> RemotingCommand {
        RemotingCommand::request(code).with_header(header)
    }

    /// The response to `request`: same opaque and serialize type, response bit set.
    pub fn response_to(request: &RemotingCommand, code: impl Into<i32>) -> RemotingCommand {
        RemotingCommand {
            code: code.into(),
            language: LanguageCode::Java,
            version: version::CURRENT,
            opaque: request.opaque,
            flag: FLAG_RESPONSE,
            remark: None,
            ext_fields: ExtFields::new(),
            body: Bytes::new(),
            serialize_type: request.serialize_type,
        }
    }

    /// The answer to a request whose code we do not serve, worded as Apache words it.
    pub fn request_code_not_supported(request: &RemotingCommand) -> RemotingCommand {
        RemotingCommand::response_to(request, ResponseCode::RequestCodeNotSupported)
            .with_remark(format!(" request type {} not supported", request.code))
    }

    /// Sets the remark.
    pub fn with_remark(mut self, remark: impl Into<String>) -> RemotingCommand {
        self.remark = Some(remark.into());
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<Bytes>) -> RemotingCommand {
        self.body = body.into();
        self
    }

    /// Adds the fields of `header` to the ext fields (replacing fields of the same name).
    pub fn with_header(mut self, header: &impl CommandHeader) -> RemotingCommand {
        self.ext_fields.extend_from(&header.to_ext_fields());
        self
    }

    /// Adds one ext field.
    pub fn with_ext_field(
        mut self,
        key: impl AsRef<str>,
        value: impl AsRef<str>,
    ) -> RemotingCommand {
        self.ext_fields.insert(key, value);
        self
    }

    /// Marks the request oneway: the peer must not answer it.
    pub fn into_oneway(mut self) -> RemotingCommand {
        self.flag |= FLAG_ONEWAY;
        self
    }

    /// Whether the response bit is set.
    pub fn is_response(&self) -> bool {
        self.flag & FLAG_RESPONSE != 0
    }

    /// Whether the oneway bit is set.
    pub fn is_oneway(&self) -> bool {
        self.flag & FLAG_ONEWAY != 0
    }

    /// The request code, if the table knows it.
    pub fn request_code(&self) -> Option<RequestCode> {
        RequestCode::from_code(self.code)
    }

    /// The response code, if the table knows it.
    pub fn response_code(&self) -> Option<ResponseCode> {
        ResponseCode::from_code(self.code)
    }

    /// Reads a typed header out of the ext fields.
    pub fn decode_header<H: CommandHeader>(&self) -> Result<H, ReadHeaderError> {
        H::from_ext_fields(&self.ext_fields)
    }
}

/// The remark an error is answered with: its message and every source's, `: `-joined, as
/// Apache's remark carries the exception and its causes.
pub fn error_remark(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_copies_opaque_and_serialize_type_and_sets_the_response_bit() {
        let mut request = RemotingCommand::request(RequestCode::GetRouteinfoByTopic).into_oneway();
        request.opaque = 42;
        request.serialize_type = SerializeType::RocketMq;
        let response = RemotingCommand::response_to(&request, ResponseCode::Success);
        assert_eq!(response.opaque, 42);
        assert_eq!(response.serialize_type, SerializeType::RocketMq);
        assert!(response.is_response());
        assert!(!response.is_oneway());
        assert_eq!(response.flag, FLAG_RESPONSE);
    }

    #[test]
    fn request_is_neither_response_nor_oneway_until_marked() {
        let request = RemotingCommand::request(RequestCode::HeartBeat);
        assert!(!request.is_response());
        assert!(!request.is_oneway());
        let oneway = request.into_oneway();
        assert!(oneway.is_oneway());
        assert_eq!(oneway.flag, FLAG_ONEWAY);
    }

    #[test]
    fn unknown_request_code_is_kept_and_answered_like_apache() {
        let mut request = RemotingCommand::request(4321);
        request.opaque = 9;
        assert_eq!(request.request_code(), None);
        let answer = RemotingCommand::request_code_not_supported(&request);
        assert_eq!(answer.code, 3);
        assert_eq!(answer.opaque, 9);
        assert_eq!(
            answer.remark.as_deref(),
            Some(" request type 4321 not supported")
        );
    }

    #[test]
    fn serialize_type_bytes_are_zero_and_one_only() {
        assert_eq!(SerializeType::from_code(0), Some(SerializeType::Json));
        assert_eq!(SerializeType::from_code(1), Some(SerializeType::RocketMq));
        assert_eq!(SerializeType::from_code(2), None);
    }
}
