//! Pure codec of Apache RocketMQ's remoting protocol: no I/O, no async.
//!
//! | module | what |
//! |---|---|
//! | [`acl`] | Apache's request signature (HMAC-SHA1 over the sorted ext field values and the body) |
//! | [`frame`] | the length-prefixed frame: cheap [`frame::check`], [`frame::parse`], [`frame::encode`] |
//! | [`header`] | the two header serializations: [`header::json`] (serType 0) and [`header::binary`] (serType 1) |
//! | [`remoting_command`] | [`RemotingCommand`]: code, language, version, opaque, flag, remark, ext fields, body |
//! | [`code`] | [`RequestCode`] and [`ResponseCode`] tables with explicit discriminants |
//! | [`language`] | [`LanguageCode`] and the `version` ordinals |
//! | [`command`] | one module per command: typed headers ([`CommandHeader`]) and command-specific bodies |
//! | [`conf`] | `broker.conf` / `namesrv.properties`: one table of keys per settings struct, one value error |
//! | [`body`] | shared JSON bodies (routes, cluster info, topic configs, ...) and fastjson's unquoted integer keys |
//! | [`batch`] | the SEND_BATCH_MESSAGE body |
//! | [`message`] | message properties, tag hash, the stored record, message ids |
//!
//! A frame on the wire, all integers big-endian:
//!
//! ```text
//! +--------------+----------------------------+------------------+----------------+
//! | length  i32  | hdrInfo i32                | header           | body           |
//! | = 4 + H + B  | = serType << 24 | H        | H bytes          | B bytes        |
//! +--------------+----------------------------+------------------+----------------+
//!                  serType 0: JSON text
//!                  serType 1: code i16 | language u8 | version i16 | opaque i32 | flag i32
//!                             | remarkLen i32 | remark | extLen i32 | (keyLen i16 | key | valLen i32 | val)*
//! length + 4 <= 16 MiB (MAX_FRAME_LEN)
//! ```
//!
//! Reading a connection: call [`frame::check`] on the buffered bytes until it says
//! `Complete { frame_len }`, then [`frame::parse`] those bytes (or let [`frame::decode`] do both).
//! A check error means the stream is broken and the connection must be closed.

#![forbid(unsafe_code)]

pub mod acl;
pub mod batch;
pub mod body;
pub mod code;
pub mod command;
pub mod conf;
pub mod decimal;
pub mod ext_fields;
pub mod frame;
pub mod header;
pub mod language;
pub mod message;
pub mod remoting_command;

pub use code::{RequestCode, ResponseCode};
pub use command::{CommandHeader, ReadHeaderError};
pub use language::LanguageCode;
pub use remoting_command::{
    ExtFields, FLAG_ONEWAY, FLAG_RESPONSE, RemotingCommand, SerializeType, error_remark,
};
