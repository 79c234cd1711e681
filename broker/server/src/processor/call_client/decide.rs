//! Requests a tool makes of a group's consumers through the broker: reset their offsets
//! (INVOKE_BROKER_TO_RESET_OFFSET), report where they stand (INVOKE_BROKER_TO_GET_CONSUMER_STATUS),
//! describe themselves (GET_CONSUMER_RUNNING_INFO), consume one stored message
//! (CONSUME_MESSAGE_DIRECTLY). Pure: which offsets, which consumers, and Apache's codes and
//! remarks for every refusal ([`CallRefused`]).

use rmq_protocol::body::MessageQueue;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::language::version;

use crate::clients::Member;

/// Why a call through the broker is refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallRefused {
    #[error("[reset-offset] reset offset failed, no topic in this broker. topic={0}")]
    NoTopic(String),
    /// Apache's spelling, capital H included.
    #[error("THe consumer group <{0}> not exist")]
    NoOffsets(String),
    #[error(
        "Consumer not online, so can not reset offset, Group: {group} Topic: {topic} Timestamp: {timestamp}"
    )]
    ResetWithNoConsumer {
        group: String,
        topic: String,
        timestamp: i64,
    },
    #[error("the client does not support this feature. version={}", version_desc(*.0))]
    ClientTooOld(i32),
    #[error("No Any Consumer online in the consumer group: [{0}]")]
    NoConsumerOnline(String),
    #[error("The Consumer <{group}> <{client}> not online")]
    ConsumerNotOnline { group: String, client: String },
    #[error(
        "The Consumer <{client}> Version <{}> too low to finish, please upgrade it to V3_1_8_SNAPSHOT",
        version_desc(*.version)
    )]
    ConsumerTooOld { client: String, version: i32 },
    #[error("consumer <{group}> <{client}> Timeout: {detail}")]
    Timeout {
        group: String,
        client: String,
        detail: String,
    },
    #[error("invoke consumer <{group}> <{client}> Exception: {detail}")]
    CallFailed {
        group: String,
        client: String,
        detail: String,
    },
    #[error("message {0} is not stored on this broker")]
    NoSuchMessage(String),
}

impl CallRefused {
    pub fn code(&self) -> ResponseCode {
        match self {
            CallRefused::ResetWithNoConsumer { .. } => ResponseCode::ConsumerNotOnline,
            CallRefused::Timeout { .. } => ResponseCode::ConsumeMsgTimeout,
            _ => ResponseCode::SystemError,
        }
    }
}

/// A version ordinal as Apache names the ones these rules draw lines at.
fn version_desc(ordinal: i32) -> String {
    match ordinal {
        version::V3_0_7_SNAPSHOT => "V3_0_7_SNAPSHOT".to_owned(),
        version::V3_1_8_SNAPSHOT => "V3_1_8_SNAPSHOT".to_owned(),
        version::V4_9_4 => "V4_9_4".to_owned(),
        other => format!("ordinal {other}"),
    }
}

/// One queue as a reset sees it: the group's committed offset and the offset the reset points
/// at (the first message stored at or after the time, or the queue's end for -1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueToReset {
    pub queue_id: i32,
    pub committed: Option<i64>,
    pub target: i64,
}

/// The new offset of every queue: the target where it moves the group back (or always, with
/// `force`), the committed offset otherwise. A queue the group never committed on refuses the
/// whole reset, as Apache's does.
pub fn reset_table(
    broker_name: &str,
    topic: &str,
    group: &str,
    queues: &[QueueToReset],
    force: bool,
) -> Result<Vec<(MessageQueue, i64)>, CallRefused> {
    queues
        .iter()
        .map(|q| {
            let committed = q
                .committed
                .ok_or_else(|| CallRefused::NoOffsets(group.to_owned()))?;
            let target = q.target.max(0);
            let offset = if force || target < committed {
                target
            } else {
                committed
            };
            let mq = MessageQueue {
                broker_name: broker_name.to_owned(),
                queue_id: q.queue_id,
                topic: topic.to_owned(),
            };
            Ok((mq, offset))
        })
        .collect()
}

/// Whether a group's consumers can all take a reset or a status request: one at least, none
/// older than V3_0_7_SNAPSHOT. `versions` are the online members'.
pub fn check_group_members(
    versions: &[i32],
    none_online: impl FnOnce() -> CallRefused,
) -> Result<(), CallRefused> {
    if versions.is_empty() {
        return Err(none_online());
    }
    match versions.iter().find(|v| **v < version::V3_0_7_SNAPSHOT) {
        Some(old) => Err(CallRefused::ClientTooOld(*old)),
        None => Ok(()),
    }
}

/// The consumer to ask for its running info or to consume a message: the named one, online
/// and not older than V3_1_8_SNAPSHOT.
pub fn callee<C>(
    group: &str,
    client: &str,
    member: Option<Member<C>>,
) -> Result<Member<C>, CallRefused> {
    match member {
        None => Err(CallRefused::ConsumerNotOnline {
            group: group.to_owned(),
            client: client.to_owned(),
        }),
        Some(m) if m.version < version::V3_1_8_SNAPSHOT => Err(CallRefused::ConsumerTooOld {
            client: client.to_owned(),
            version: m.version,
        }),
        Some(m) => Ok(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(queue_id: i32, committed: Option<i64>, target: i64) -> QueueToReset {
        QueueToReset {
            queue_id,
            committed,
            target,
        }
    }

    #[test]
    fn a_reset_moves_offsets_back_only_unless_forced() {
        let queues = [queue(0, Some(10), 4), queue(1, Some(10), 20)];
        let table = reset_table("b", "T", "g", &queues, false).unwrap();
        assert_eq!(
            table
                .iter()
                .map(|(mq, o)| (mq.queue_id, *o))
                .collect::<Vec<_>>(),
            [(0, 4), (1, 10)]
        );
        let forced = reset_table("b", "T", "g", &queues, true).unwrap();
        assert_eq!(forced[1].1, 20);
        assert_eq!(forced[0].0.broker_name, "b");
        assert_eq!(forced[0].0.topic, "T");
    }

    #[test]
    fn a_target_before_the_queue_is_offset_zero() {
        let table = reset_table("b", "T", "g", &[queue(0, Some(3), -1)], false).unwrap();
        assert_eq!(table[0].1, 0);
    }

    #[test]
    fn a_queue_without_a_committed_offset_refuses_the_reset_with_apaches_remark() {
        let refused = reset_table(
            "b",
            "T",
            "g",
            &[queue(0, Some(1), 0), queue(1, None, 0)],
            true,
        )
        .unwrap_err();
        assert_eq!(refused.code(), ResponseCode::SystemError);
        assert_eq!(refused.to_string(), "THe consumer group <g> not exist");
    }

    #[test]
    fn a_reset_with_no_consumer_online_is_consumer_not_online_so_tools_fall_back_to_offline() {
        let refused = check_group_members(&[], || CallRefused::ResetWithNoConsumer {
            group: "g".into(),
            topic: "T".into(),
            timestamp: 1_700_000_000_000,
        })
        .unwrap_err();
        assert_eq!(refused.code(), ResponseCode::ConsumerNotOnline);
        assert_eq!(
            refused.to_string(),
            "Consumer not online, so can not reset offset, Group: g Topic: T Timestamp: 1700000000000"
        );
    }

    #[test]
    fn a_member_older_than_3_0_7_refuses_a_group_request_before_anything_is_sent() {
        let refused = check_group_members(&[401, 20], || CallRefused::NoConsumerOnline("g".into()))
            .unwrap_err();
        assert_eq!(refused, CallRefused::ClientTooOld(20));
        assert!(check_group_members(&[version::V3_0_7_SNAPSHOT, 401], || unreachable!()).is_ok());
        let refused =
            check_group_members(&[], || CallRefused::NoConsumerOnline("g".into())).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "No Any Consumer online in the consumer group: [g]"
        );
    }

    fn member(version: i32) -> Member<()> {
        Member {
            channel: (),
            client_id: "c1".into(),
            language: rmq_protocol::LanguageCode::Java,
            version,
            last_heartbeat: std::time::Instant::now(),
        }
    }

    #[test]
    fn a_callee_must_be_online_and_at_least_3_1_8() {
        let refused = callee::<()>("g", "c1", None).unwrap_err();
        assert_eq!(refused.code(), ResponseCode::SystemError);
        assert_eq!(refused.to_string(), "The Consumer <g> <c1> not online");
        let refused = callee("g", "c1", Some(member(version::V3_0_7_SNAPSHOT))).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "The Consumer <c1> Version <V3_0_7_SNAPSHOT> too low to finish, please upgrade it to V3_1_8_SNAPSHOT"
        );
        assert!(callee("g", "c1", Some(member(version::V3_1_8_SNAPSHOT))).is_ok());
    }

    #[test]
    fn a_callee_that_does_not_answer_in_time_is_consume_msg_timeout() {
        let refused = CallRefused::Timeout {
            group: "g".into(),
            client: "c".into(),
            detail: "no answer within 10s".into(),
        };
        assert_eq!(refused.code(), ResponseCode::ConsumeMsgTimeout);
        assert_eq!(
            refused.to_string(),
            "consumer <g> <c> Timeout: no answer within 10s"
        );
    }
}
