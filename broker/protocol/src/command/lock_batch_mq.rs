//! LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42): orderly consumers lock queues on the broker.
//! No headers; JSON bodies.

use serde::{Deserialize, Serialize};

use crate::body::{DecodeBodyError, EncodeBodyError, MessageQueue};

/// The LOCK_BATCH_MQ request body (UNLOCK_BATCH_MQ has the same shape).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LockBatchRequestBody {
    pub client_id: String,
    pub consumer_group: String,
    pub mq_set: Vec<MessageQueue>,
    pub only_this_broker: bool,
}

/// The UNLOCK_BATCH_MQ request body.
pub type UnlockBatchRequestBody = LockBatchRequestBody;

/// The LOCK_BATCH_MQ answer: the queues the client now holds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LockBatchResponseBody {
    #[serde(rename = "lockOKMQSet")]
    pub lock_ok_mq_set: Vec<MessageQueue>,
}

impl LockBatchRequestBody {
    /// Standard JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, EncodeBodyError> {
        crate::body::encode("LockBatchRequestBody", self)
    }

    /// Reads the body leniently.
    pub fn decode(bytes: &[u8]) -> Result<LockBatchRequestBody, DecodeBodyError> {
        crate::body::decode("LockBatchRequestBody", bytes)
    }
}

impl LockBatchResponseBody {
    /// Standard JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, EncodeBodyError> {
        crate::body::encode("LockBatchResponseBody", self)
    }

    /// Reads the body leniently.
    pub fn decode(bytes: &[u8]) -> Result<LockBatchResponseBody, DecodeBodyError> {
        crate::body::decode("LockBatchResponseBody", bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_java_lock_request_parses_and_round_trips() {
        let body = br#"{"consumerGroup":"g","clientId":"cid","onlyThisBroker":false,"mqSet":[{"brokerName":"b","queueId":0,"topic":"T"}]}"#;
        let request = LockBatchRequestBody::decode(body).unwrap();
        assert_eq!(request.consumer_group, "g");
        assert_eq!(request.mq_set[0].queue_id, 0);
        assert_eq!(
            LockBatchRequestBody::decode(&request.to_json().unwrap()).unwrap(),
            request
        );
    }

    #[test]
    fn the_response_uses_the_java_member_name() {
        let response = LockBatchResponseBody {
            lock_ok_mq_set: vec![MessageQueue {
                broker_name: "b".into(),
                queue_id: 2,
                topic: "T".into(),
            }],
        };
        let json = String::from_utf8(response.to_json().unwrap()).unwrap();
        assert_eq!(
            json,
            r#"{"lockOKMQSet":[{"brokerName":"b","queueId":2,"topic":"T"}]}"#
        );
        assert_eq!(
            LockBatchResponseBody::decode(json.as_bytes()).unwrap(),
            response
        );
    }
}
