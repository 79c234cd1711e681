//! UNREGISTER_BROKER (104): a broker leaves a name server.

use super::command_header;

command_header! {
    /// The unregistration.
    pub struct UnRegisterBrokerRequestHeader {
        broker_name: String => "brokerName",
        broker_addr: String => "brokerAddr",
        cluster_name: String => "clusterName",
        broker_id: i64 => "brokerId",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_round_trip_and_required;
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_required_fields() {
        let header = UnRegisterBrokerRequestHeader {
            broker_name: "broker-a".into(),
            broker_addr: "10.0.0.1:10911".into(),
            cluster_name: "DefaultCluster".into(),
            broker_id: 0,
        };
        assert_round_trip_and_required(
            &header,
            &["brokerName", "brokerAddr", "clusterName", "brokerId"],
        );
    }
}
