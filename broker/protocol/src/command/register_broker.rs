//! REGISTER_BROKER (103): a broker announces itself and its topics to a name server.
//!
//! The body is a [`RegisterBrokerBody`](crate::body::topic_config::RegisterBrokerBody) (JSON
//! unless `compressed`).

use super::command_header;

command_header! {
    /// The registration.
    pub struct RegisterBrokerRequestHeader {
        broker_name: String => "brokerName",
        /// `brokerIP1:listenPort`.
        broker_addr: String => "brokerAddr",
        cluster_name: String => "clusterName",
        /// `brokerIP2:haListenPort`.
        ha_server_addr: String => "haServerAddr",
        /// 0 is the master.
        broker_id: i64 => "brokerId",
        heartbeat_timeout_millis: Option<i64> => "heartbeatTimeoutMillis",
        /// Absent from brokers older than 5.x.
        enable_acting_master: Option<bool> => "enableActingMaster",
        /// The body is zlib-compressed in the compact form.
        compressed: bool => "compressed" or false,
        /// `CRC32 & 0x7FFFFFFF` of the body; 0 skips the check.
        body_crc32: i32 => "bodyCrc32" or 0,
    }
}

command_header! {
    /// The answer; a slave learns its master's addresses from it.
    pub struct RegisterBrokerResponseHeader {
        ha_server_addr: Option<String> => "haServerAddr",
        master_addr: Option<String> => "masterAddr",
    }
}

#[cfg(test)]
mod tests {
    use super::super::CommandHeader;
    use super::super::testing::{assert_round_trip_and_required, fields};
    use super::*;

    #[test]
    fn request_round_trips_and_requires_its_required_fields() {
        let header = RegisterBrokerRequestHeader {
            broker_name: "broker-a".into(),
            broker_addr: "10.0.0.1:10911".into(),
            cluster_name: "DefaultCluster".into(),
            ha_server_addr: "10.0.0.1:10912".into(),
            broker_id: 0,
            heartbeat_timeout_millis: Some(120_000),
            enable_acting_master: Some(false),
            compressed: false,
            body_crc32: 12345,
        };
        assert_round_trip_and_required(
            &header,
            &[
                "brokerName",
                "brokerAddr",
                "clusterName",
                "haServerAddr",
                "brokerId",
            ],
        );
    }

    #[test]
    fn a_4x_broker_header_without_compressed_or_crc_decodes() {
        let header = RegisterBrokerRequestHeader::from_ext_fields(&fields(&[
            ("brokerName", "broker-a"),
            ("brokerAddr", "10.0.0.1:10911"),
            ("clusterName", "DefaultCluster"),
            ("haServerAddr", "10.0.0.1:10912"),
            ("brokerId", "1"),
        ]))
        .unwrap();
        assert_eq!(header.broker_id, 1);
        assert!(!header.compressed);
        assert_eq!(header.body_crc32, 0);
        assert_eq!(header.enable_acting_master, None);
    }

    #[test]
    fn response_round_trips_with_master_addresses() {
        let header = RegisterBrokerResponseHeader {
            ha_server_addr: Some("10.0.0.1:10912".into()),
            master_addr: Some("10.0.0.1:10911".into()),
        };
        assert_round_trip_and_required(&header, &[]);
        assert!(
            RegisterBrokerResponseHeader::default()
                .to_ext_fields()
                .is_empty()
        );
    }
}
