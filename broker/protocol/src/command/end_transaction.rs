//! END_TRANSACTION (37): the producer commits or rolls back a half message (sent oneway).

use super::command_header;

/// Values of `commitOrRollback` (the transaction bits of the message sysFlag).
pub mod commit_or_rollback {
    /// Unknown state: the broker ignores the request and checks back later.
    pub const NOT_TYPE: i32 = 0;
    pub const COMMIT: i32 = 0x2 << 2;
    pub const ROLLBACK: i32 = 0x3 << 2;
}

command_header! {
    /// The decision.
    pub struct EndTransactionRequestHeader {
        topic: Option<String> => "topic",
        producer_group: String => "producerGroup",
        /// Queue offset of the half message (from its send response).
        tran_state_table_offset: i64 => "tranStateTableOffset",
        /// Commit-log offset of the half message (from its offset msgId).
        commit_log_offset: i64 => "commitLogOffset",
        /// See [`commit_or_rollback`].
        commit_or_rollback: i32 => "commitOrRollback",
        /// `Boolean fromTransactionCheck = false` in Java, so always sent.
        from_transaction_check: bool => "fromTransactionCheck" or false,
        msg_id: String => "msgId",
        transaction_id: Option<String> => "transactionId",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_fields() {
        let header = EndTransactionRequestHeader {
            topic: Some("T".into()),
            producer_group: "pg".into(),
            tran_state_table_offset: 7,
            commit_log_offset: 4096,
            commit_or_rollback: commit_or_rollback::COMMIT,
            from_transaction_check: true,
            msg_id: "C0A8000100002A9F0000000000001000".into(),
            transaction_id: Some("tx-1".into()),
        };
        assert_eq!(commit_or_rollback::COMMIT, 8);
        assert_eq!(commit_or_rollback::ROLLBACK, 12);
        assert_round_trip_and_required(
            &header,
            &[
                "producerGroup",
                "tranStateTableOffset",
                "commitLogOffset",
                "commitOrRollback",
                "msgId",
            ],
        );
    }
}
