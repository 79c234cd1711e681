//! The message model shared by the store (on disk) and the wire (pull, query and view bodies).
//!
//! | module | what |
//! |---|---|
//! | [`properties`] | the `name\u{1}value\u{2}` property string and well-known keys |
//! | [`hash`] | Java `String.hashCode`, used for tag codes and index keys |
//! | [`sysflag`] | `sysFlag` bits of a stored message |
//! | [`record`] | the stored message record: encode, decode, validate |
//! | [`msg_id`] | offset message ids (`storeHost | port | commit log offset` in hex) |

pub mod hash;
pub mod msg_id;
pub mod properties;
pub mod record;
pub mod sysflag;
