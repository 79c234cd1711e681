//! GET_CONSUMER_RUNNING_INFO (307) and CONSUME_MESSAGE_DIRECTLY (309): a tool asks the broker,
//! the broker passes the request to the named consumer and answers with the consumer's answer.

use super::command_header;

command_header! {
    /// GET_CONSUMER_RUNNING_INFO's query.
    pub struct GetConsumerRunningInfoRequestHeader {
        consumer_group: String => "consumerGroup",
        client_id: String => "clientId",
        jstack_enable: bool => "jstackEnable" or false,
    }
}

command_header! {
    /// CONSUME_MESSAGE_DIRECTLY's query: the stored message `msg_id` handed to one consumer.
    pub struct ConsumeMessageDirectlyResultRequestHeader {
        consumer_group: String => "consumerGroup",
        client_id: Option<String> => "clientId",
        msg_id: Option<String> => "msgId",
        broker_name: Option<String> => "brokerName",
        /// 5.x.
        topic: Option<String> => "topic",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn running_info_requires_group_and_client() {
        let header = GetConsumerRunningInfoRequestHeader {
            consumer_group: "g".into(),
            client_id: "c".into(),
            jstack_enable: false,
        };
        assert_round_trip_and_required(&header, &["consumerGroup", "clientId"]);
    }

    #[test]
    fn consume_directly_requires_only_the_group() {
        let header = ConsumeMessageDirectlyResultRequestHeader {
            consumer_group: "g".into(),
            client_id: Some("c".into()),
            msg_id: Some("0A0000010000000000000000000000FF".into()),
            broker_name: None,
            topic: None,
        };
        assert_round_trip_and_required(&header, &["consumerGroup"]);
    }
}
