//! The decisions of END_TRANSACTION, without I/O: what the producer's state asks for, whether
//! the half record is the one it names, and what is stored. Refusals are
//! [`EndTransactionRefused`], with Apache's remarks (all SYSTEM_ERROR).

use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::end_transaction::commit_or_rollback;

/// What a producer's `commitOrRollback` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Commit,
    Rollback,
    /// UNKNOW (or any other value): Apache answers nothing; the check service asks again.
    Unknown(i32),
}

/// Reads `commitOrRollback`.
pub fn resolution(commit_or_rollback: i32) -> Resolution {
    match commit_or_rollback {
        commit_or_rollback::COMMIT => Resolution::Commit,
        commit_or_rollback::ROLLBACK => Resolution::Rollback,
        other => Resolution::Unknown(other),
    }
}

/// What resolving does to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Store the message in its real topic, then the op record.
    CommitAndMark,
    /// Only the op record: a rollback, or a commit of a transaction already resolved (a
    /// check-back and the producer's own answer can both arrive; the message is stored once).
    MarkOnly,
}

/// The action for a resolution; `first` is whether this transaction was not resolved yet.
pub fn action(resolution: Resolution, first: bool) -> Option<Action> {
    match resolution {
        Resolution::Commit if first => Some(Action::CommitAndMark),
        Resolution::Commit | Resolution::Rollback => Some(Action::MarkOnly),
        Resolution::Unknown(_) => None,
    }
}

/// Why END_TRANSACTION is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndTransactionRefused {
    #[error("Find prepared transaction message failed")]
    HalfNotFound,
    #[error("The producer group wrong")]
    ProducerGroup,
    #[error("The transaction state table offset wrong")]
    StateTableOffset,
    #[error("The commit log offset wrong")]
    CommitLogOffset,
    #[error("half message has no REAL_TOPIC")]
    NoRealTopic,
    #[error("{0}")]
    Store(String),
}

impl EndTransactionRefused {
    pub fn code(&self) -> ResponseCode {
        ResponseCode::SystemError
    }
}

/// What the stored half record says, for [`check_prepared`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HalfRecord<'a> {
    /// Its `PGROUP` property.
    pub producer_group: Option<&'a str>,
    pub queue_offset: i64,
    pub physical_offset: i64,
}

/// Apache's `checkPrepareMessage`: the half record must be the one the producer names (its
/// group, queue offset and commit-log offset).
pub fn check_prepared(
    half: &HalfRecord<'_>,
    producer_group: &str,
    tran_state_table_offset: i64,
    commit_log_offset: i64,
) -> Result<(), EndTransactionRefused> {
    if half.producer_group != Some(producer_group) {
        return Err(EndTransactionRefused::ProducerGroup);
    }
    if half.queue_offset != tran_state_table_offset {
        return Err(EndTransactionRefused::StateTableOffset);
    }
    if half.physical_offset != commit_log_offset {
        return Err(EndTransactionRefused::CommitLogOffset);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALF: HalfRecord<'static> = HalfRecord {
        producer_group: Some("pg"),
        queue_offset: 7,
        physical_offset: 4096,
    };

    #[test]
    fn commit_rollback_and_anything_else_are_read_as_apache_does() {
        assert_eq!(resolution(commit_or_rollback::COMMIT), Resolution::Commit);
        assert_eq!(
            resolution(commit_or_rollback::ROLLBACK),
            Resolution::Rollback
        );
        assert_eq!(resolution(0), Resolution::Unknown(0));
        assert_eq!(resolution(99), Resolution::Unknown(99));
    }

    #[test]
    fn a_transaction_is_stored_on_its_first_commit_only_and_unknown_changes_nothing() {
        assert_eq!(
            action(Resolution::Commit, true),
            Some(Action::CommitAndMark)
        );
        assert_eq!(action(Resolution::Commit, false), Some(Action::MarkOnly));
        assert_eq!(action(Resolution::Rollback, true), Some(Action::MarkOnly));
        assert_eq!(action(Resolution::Unknown(0), true), None);
    }

    #[test]
    fn a_half_record_other_than_the_one_named_is_refused_with_apaches_remark() {
        assert_eq!(check_prepared(&HALF, "pg", 7, 4096), Ok(()));
        let cases = [
            (
                check_prepared(&HALF, "other", 7, 4096),
                "The producer group wrong",
            ),
            (
                check_prepared(&HALF, "pg", 8, 4096),
                "The transaction state table offset wrong",
            ),
            (
                check_prepared(&HALF, "pg", 7, 0),
                "The commit log offset wrong",
            ),
            (
                check_prepared(
                    &HalfRecord {
                        producer_group: None,
                        ..HALF
                    },
                    "pg",
                    7,
                    4096,
                ),
                "The producer group wrong",
            ),
        ];
        for (result, remark) in cases {
            let refused = result.unwrap_err();
            assert_eq!(refused.code(), ResponseCode::SystemError);
            assert_eq!(refused.to_string(), remark);
        }
        assert_eq!(
            EndTransactionRefused::HalfNotFound.to_string(),
            "Find prepared transaction message failed"
        );
    }
}
