//! CHECK_TRANSACTION_STATE (39): broker → producer, oneway: "what became of this half message?"
//! The body is the full stored record with its real topic and queue restored.

use super::command_header;

command_header! {
    /// The check.
    pub struct CheckTransactionStateRequestHeader {
        topic: Option<String> => "topic",
        tran_state_table_offset: i64 => "tranStateTableOffset",
        commit_log_offset: i64 => "commitLogOffset",
        /// The message's UNIQ_KEY.
        msg_id: Option<String> => "msgId",
        transaction_id: Option<String> => "transactionId",
        offset_msg_id: Option<String> => "offsetMsgId",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_offsets() {
        let header = CheckTransactionStateRequestHeader {
            topic: Some("T".into()),
            tran_state_table_offset: 7,
            commit_log_offset: 4096,
            msg_id: Some("uniq".into()),
            transaction_id: Some("tx".into()),
            offset_msg_id: Some("C0A8000100002A9F0000000000001000".into()),
        };
        assert_round_trip_and_required(&header, &["tranStateTableOffset", "commitLogOffset"]);
    }
}
