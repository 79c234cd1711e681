//! Where a reply goes and what the replier is told: the requester named by the reply's
//! `REPLY_TO_CLIENT`, and Apache's remarks when the push cannot be made ([`ReplyRefused`]).

use rmq_protocol::code::ResponseCode;
use rmq_protocol::message::properties::{self, keys};

/// Why a reply did not reach its requester; the replier gets SYSTEM_ERROR with the remark
/// (the reply is stored all the same, when replies are stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyRefused {
    #[error("reply message properties[REPLY_TO_CLIENT] is null")]
    NoRequester,
    #[error("push reply message fail, channel of <{0}> not found.")]
    RequesterGone(String),
    /// Apache's remark, missing space included.
    #[error("push reply message to {0}fail.")]
    PushFailed(String),
}

impl ReplyRefused {
    pub fn code(&self) -> ResponseCode {
        ResponseCode::SystemError
    }
}

/// Whether a send answer means the reply is in the store: SUCCESS, or stored with a flush or
/// a slave late (Apache's PUT_OK, FLUSH_DISK_TIMEOUT, FLUSH_SLAVE_TIMEOUT,
/// SLAVE_NOT_AVAILABLE); then it is pushed too.
pub fn was_stored(code: i32) -> bool {
    [
        ResponseCode::Success,
        ResponseCode::FlushDiskTimeout,
        ResponseCode::FlushSlaveTimeout,
        ResponseCode::SlaveNotAvailable,
    ]
    .iter()
    .any(|stored| *stored as i32 == code)
}

/// The requester's client id, from the reply's properties.
pub fn requester(properties: &[u8]) -> Result<&str, ReplyRefused> {
    properties::find(properties, keys::REPLY_TO_CLIENT).ok_or(ReplyRefused::NoRequester)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_requester_is_the_reply_to_client_property() {
        let props = b"CORRELATION_ID\x01c-1\x02REPLY_TO_CLIENT\x0110.0.0.1@42\x02";
        assert_eq!(requester(props), Ok("10.0.0.1@42"));
    }

    #[test]
    fn a_reply_stored_late_is_still_pushed_and_a_refused_one_is_not() {
        assert!(was_stored(ResponseCode::Success as i32));
        assert!(was_stored(ResponseCode::FlushDiskTimeout as i32));
        assert!(was_stored(ResponseCode::SlaveNotAvailable as i32));
        assert!(!was_stored(ResponseCode::MessageIllegal as i32));
        assert!(!was_stored(ResponseCode::ServiceNotAvailable as i32));
    }

    #[test]
    fn a_reply_without_a_requester_is_refused_with_apaches_remark() {
        let refused = requester(b"CORRELATION_ID\x01c-1\x02").unwrap_err();
        assert_eq!(refused.code(), ResponseCode::SystemError);
        assert_eq!(
            refused.to_string(),
            "reply message properties[REPLY_TO_CLIENT] is null"
        );
        assert_eq!(
            ReplyRefused::RequesterGone("c".into()).to_string(),
            "push reply message fail, channel of <c> not found."
        );
    }
}
