//! The decisions of the look-up requests, without I/O: how many messages QUERY_MESSAGE may
//! return, what an empty queue's earliest store time is, and Apache's codes and remarks when a
//! look-up finds nothing ([`QueryRefused`]).

use rmq_protocol::code::ResponseCode;

/// Most messages one QUERY_MESSAGE returns (Apache's `defaultQueryMaxNum` is 32; mqadmin asks
/// for up to 64).
pub const MAX_QUERY_MESSAGES: usize = 64;

/// Why a look-up is answered without a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryRefused {
    #[error("can not find message, maybe time range not correct")]
    NoMessageByKey,
    #[error("can not find message by the offset, {0}")]
    NoMessageAtOffset(i64),
}

impl QueryRefused {
    pub fn code(&self) -> ResponseCode {
        match self {
            QueryRefused::NoMessageByKey => ResponseCode::QueryNotFound,
            QueryRefused::NoMessageAtOffset(_) => ResponseCode::SystemError,
        }
    }
}

/// How many messages QUERY_MESSAGE returns for `maxNum`: at least one, at most
/// [`MAX_QUERY_MESSAGES`].
pub fn query_limit(max_num: i32) -> usize {
    usize::try_from(max_num)
        .unwrap_or(0)
        .clamp(1, MAX_QUERY_MESSAGES)
}

/// GET_EARLIEST_MSG_STORETIME: the store time of the queue's oldest message, -1 when it has
/// none (as the Java store answers).
pub fn earliest_store_time(found: Option<i64>) -> i64 {
    found.unwrap_or(-1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_returns_between_one_and_sixty_four_messages() {
        assert_eq!(query_limit(32), 32);
        assert_eq!(query_limit(0), 1);
        assert_eq!(query_limit(-5), 1);
        assert_eq!(query_limit(1000), MAX_QUERY_MESSAGES);
    }

    #[test]
    fn nothing_found_by_key_is_query_not_found_and_nothing_at_an_offset_a_system_error() {
        assert_eq!(
            QueryRefused::NoMessageByKey.code(),
            ResponseCode::QueryNotFound
        );
        assert_eq!(
            QueryRefused::NoMessageByKey.to_string(),
            "can not find message, maybe time range not correct"
        );
        let at = QueryRefused::NoMessageAtOffset(42);
        assert_eq!(at.code(), ResponseCode::SystemError);
        assert_eq!(at.to_string(), "can not find message by the offset, 42");
    }

    #[test]
    fn an_empty_queue_has_no_earliest_store_time() {
        assert_eq!(earliest_store_time(None), -1);
        assert_eq!(
            earliest_store_time(Some(1_700_000_000_000)),
            1_700_000_000_000
        );
    }
}
