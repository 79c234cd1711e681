//! The decisions of the consumer requests, without I/O: which offset QUERY_CONSUMER_OFFSET
//! answers, and Apache's codes and remarks when a heartbeat, a consumer list or an offset query
//! is refused ([`ConsumerRefused`]).

use rmq_protocol::code::ResponseCode;

/// Why a consumer request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsumerRefused {
    #[error("heartbeat body is not valid: {0}")]
    HeartbeatBody(String),
    #[error("no consumer for this group, {0}")]
    NoConsumer(String),
    #[error("Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first")]
    OffsetNotFound,
    #[error("{0}")]
    Encode(String),
}

impl ConsumerRefused {
    pub fn code(&self) -> ResponseCode {
        match self {
            ConsumerRefused::OffsetNotFound => ResponseCode::QueryNotFound,
            _ => ResponseCode::SystemError,
        }
    }
}

/// QUERY_CONSUMER_OFFSET: the committed offset; for a group that never committed on a queue
/// whose first message is still offset 0, offset 0 (Apache's answer, unless the client sent
/// `setZeroIfNotFound=false`), else QUERY_NOT_FOUND so the client applies its
/// `consumeFromWhere`.
pub fn offset_to_answer(
    committed: Option<i64>,
    queue_min_offset: u64,
    set_zero_if_not_found: Option<bool>,
) -> Result<i64, ConsumerRefused> {
    match committed {
        Some(offset) => Ok(offset),
        None if queue_min_offset == 0 && set_zero_if_not_found != Some(false) => Ok(0),
        None => Err(ConsumerRefused::OffsetNotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committed_offset_is_answered_as_it_is() {
        assert_eq!(offset_to_answer(Some(42), 10, Some(false)), Ok(42));
    }

    #[test]
    fn a_group_without_a_commit_starts_at_zero_only_while_the_queue_still_starts_there() {
        assert_eq!(offset_to_answer(None, 0, None), Ok(0));
        assert_eq!(offset_to_answer(None, 0, Some(true)), Ok(0));
        let refused = offset_to_answer(None, 0, Some(false)).unwrap_err();
        assert_eq!(refused.code(), ResponseCode::QueryNotFound);
        assert_eq!(
            refused.to_string(),
            "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first"
        );
        assert_eq!(
            offset_to_answer(None, 5, None),
            Err(ConsumerRefused::OffsetNotFound)
        );
    }

    #[test]
    fn a_bad_heartbeat_or_an_empty_group_is_a_system_error() {
        for refused in [
            ConsumerRefused::HeartbeatBody("eof".into()),
            ConsumerRefused::NoConsumer("g".into()),
        ] {
            assert_eq!(refused.code(), ResponseCode::SystemError);
        }
        assert_eq!(
            ConsumerRefused::NoConsumer("g".into()).to_string(),
            "no consumer for this group, g"
        );
    }
}
