//! The decisions of a send-back, without I/O: where a failed message goes next, the
//! properties it is stored with, and why a send-back is refused ([`SendBackRefused`], with
//! Apache's code and remark).

use rmq_protocol::code::ResponseCode;
use rmq_protocol::message::properties::{self, keys};
use rmq_store::error::PutError;

use super::super::send::decide::SendRefused;
use crate::props;
use crate::route::Destination;
use crate::topics::DLQ_GROUP_TOPIC_PREFIX;

/// Why a send-back is refused.
#[derive(Debug, thiserror::Error)]
pub enum SendBackRefused {
    /// The refusals a send to the retry topic would get (group, broker and topic checks).
    #[error(transparent)]
    Send(#[from] SendRefused),
    #[error("look message by offset failed, {0}")]
    MessageNotFound(i64),
    #[error("{0}")]
    RetryTopic(String),
    /// Apache answers every failed append of a send-back with SYSTEM_ERROR.
    #[error("{0}")]
    Store(PutError),
}

impl SendBackRefused {
    pub fn code(&self) -> ResponseCode {
        match self {
            SendBackRefused::Send(refused) => refused.code(),
            SendBackRefused::MessageNotFound(_)
            | SendBackRefused::RetryTopic(_)
            | SendBackRefused::Store(_) => ResponseCode::SystemError,
        }
    }
}

/// Queues of a dead-letter topic (`DLQ_NUMS_PER_GROUP`).
pub const DLQ_QUEUE_NUMS: i32 = 1;

/// `%DLQ%<group>`.
pub fn dlq_topic(group: &str) -> String {
    format!("{DLQ_GROUP_TOPIC_PREFIX}{group}")
}

/// The properties of the message sent back (`RETRY_TOPIC` once, `ORIGIN_MESSAGE_ID` once,
/// `DELAY`, `WAIT=false`).
pub fn sent_back_properties(
    stored: &[u8],
    original_topic: &str,
    offset_msg_id: &str,
    destination: &Destination,
) -> Vec<u8> {
    let mut out = stored.to_vec();
    if properties::find(stored, keys::RETRY_TOPIC).is_none() {
        out = props::with(&out, keys::RETRY_TOPIC, original_topic);
    }
    out = props::with(&out, keys::WAIT, "false");
    let level = match destination {
        Destination::Retry { delay_level } => *delay_level,
        Destination::DeadLetter => 0,
    };
    out = props::with(&out, keys::DELAY, &level.to_string());
    let origin = properties::find(stored, keys::ORIGIN_MESSAGE_ID)
        .filter(|o| !o.trim().is_empty())
        .unwrap_or(offset_msg_id)
        .to_owned();
    props::with(&out, keys::ORIGIN_MESSAGE_ID, &origin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_protocol::message::properties;

    #[test]
    fn the_original_topic_and_first_msg_id_are_kept_across_attempts() {
        let stored = properties::encode([("TAGS", "a"), ("KEYS", "k")]);
        let first = sent_back_properties(
            &stored,
            "Orders",
            "ID1",
            &Destination::Retry { delay_level: 3 },
        );
        assert_eq!(properties::find(&first, keys::RETRY_TOPIC), Some("Orders"));
        assert_eq!(
            properties::find(&first, keys::ORIGIN_MESSAGE_ID),
            Some("ID1")
        );
        assert_eq!(properties::find(&first, keys::DELAY), Some("3"));
        assert_eq!(properties::find(&first, keys::WAIT), Some("false"));
        assert_eq!(properties::find(&first, keys::TAGS), Some("a"));
        // Second failure: the message now lives in %RETRY%g with a new offset id.
        let second = sent_back_properties(&first, "%RETRY%g", "ID2", &Destination::DeadLetter);
        assert_eq!(properties::find(&second, keys::RETRY_TOPIC), Some("Orders"));
        assert_eq!(
            properties::find(&second, keys::ORIGIN_MESSAGE_ID),
            Some("ID1")
        );
        assert_eq!(properties::find(&second, keys::DELAY), Some("0"));
    }

    #[test]
    fn send_back_refusals_share_the_sends_codes_and_read_or_store_failures_are_system_errors() {
        use rmq_protocol::code::ResponseCode;
        let group = SendBackRefused::from(SendRefused::GroupNotExist("g".into()));
        assert_eq!(group.code(), ResponseCode::SubscriptionGroupNotExist);
        assert_eq!(
            group.to_string(),
            "subscription group not exist, g http://rocketmq.apache.org/docs/faq/"
        );
        let broker = SendBackRefused::from(SendRefused::BrokerNotWriteable {
            broker_ip: "h".into(),
        });
        assert_eq!(broker.code(), ResponseCode::NoPermission);
        let missing = SendBackRefused::MessageNotFound(42);
        assert_eq!(missing.code(), ResponseCode::SystemError);
        assert_eq!(missing.to_string(), "look message by offset failed, 42");
        // A full disk is SERVICE_NOT_AVAILABLE for a send, SYSTEM_ERROR for a send-back.
        let full =
            SendBackRefused::Store(rmq_store::error::PutError::DiskFull { used_ratio: 0.99 });
        assert_eq!(full.code(), ResponseCode::SystemError);
        assert_eq!(
            SendBackRefused::RetryTopic("io".into()).code(),
            ResponseCode::SystemError
        );
    }
}
