//! NOTIFY_CONSUMER_IDS_CHANGED (40): broker → consumer, oneway: "rebalance now".

use super::command_header;

command_header! {
    /// The notification.
    pub struct NotifyConsumerIdsChangedRequestHeader {
        consumer_group: String => "consumerGroup",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_group() {
        let header = NotifyConsumerIdsChangedRequestHeader {
            consumer_group: "cg".into(),
        };
        assert_round_trip_and_required(&header, &["consumerGroup"]);
    }
}
