//! UNREGISTER_CLIENT (35): a producer or consumer leaves a broker.

use super::command_header;

command_header! {
    /// The unregistration.
    pub struct UnregisterClientRequestHeader {
        client_id: String => "clientID",
        producer_group: Option<String> => "producerGroup",
        consumer_group: Option<String> => "consumerGroup",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_client_id() {
        let header = UnregisterClientRequestHeader {
            client_id: "10.0.0.5@123".into(),
            producer_group: None,
            consumer_group: Some("cg".into()),
        };
        assert_round_trip_and_required(&header, &["clientID"]);
    }
}
