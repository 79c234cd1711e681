//! WIPE_WRITE_PERM_OF_BROKER (205) and ADD_WRITE_PERM_OF_BROKER (327): take a broker's topics
//! out of (or back into) the write routes, e.g. before a shutdown.

use super::command_header;

command_header! {
    /// Remove write permission of every topic of a broker.
    pub struct WipeWritePermOfBrokerRequestHeader {
        broker_name: String => "brokerName",
    }
}

command_header! {
    /// How many topics lost write permission.
    pub struct WipeWritePermOfBrokerResponseHeader {
        wipe_topic_count: i32 => "wipeTopicCount",
    }
}

command_header! {
    /// Give write permission back to every topic of a broker.
    pub struct AddWritePermOfBrokerRequestHeader {
        broker_name: String => "brokerName",
    }
}

command_header! {
    /// How many topics got write permission back.
    pub struct AddWritePermOfBrokerResponseHeader {
        add_topic_count: i32 => "addTopicCount",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn wipe_round_trips_and_requires_its_fields() {
        let request = WipeWritePermOfBrokerRequestHeader {
            broker_name: "broker-a".into(),
        };
        assert_round_trip_and_required(&request, &["brokerName"]);
        let response = WipeWritePermOfBrokerResponseHeader {
            wipe_topic_count: 3,
        };
        assert_round_trip_and_required(&response, &["wipeTopicCount"]);
    }

    #[test]
    fn add_round_trips_and_requires_its_fields() {
        let request = AddWritePermOfBrokerRequestHeader {
            broker_name: "broker-a".into(),
        };
        assert_round_trip_and_required(&request, &["brokerName"]);
        let response = AddWritePermOfBrokerResponseHeader { add_topic_count: 3 };
        assert_round_trip_and_required(&response, &["addTopicCount"]);
    }
}
