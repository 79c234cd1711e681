//! REGISTER_BROKER (103), UNREGISTER_BROKER (104) and QUERY_DATA_VERSION (322): brokers
//! joining, leaving and checking in.

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::kv_table::KvTable;
use rmq_protocol::body::register_compressed;
use rmq_protocol::body::topic_config::{
    DataVersion, RegisterBrokerBody, TopicConfigSerializeWrapper,
};
use rmq_protocol::command::query_data_version::{
    QueryDataVersionRequestHeader, QueryDataVersionResponseHeader,
};
use rmq_protocol::command::register_broker::{
    RegisterBrokerRequestHeader, RegisterBrokerResponseHeader,
};
use rmq_protocol::command::unregister_broker::UnRegisterBrokerRequestHeader;
use rmq_protocol::language::version;

use super::{Namesrv, ProcessError, now, success};
use crate::kv::NAMESPACE_ORDER_TOPIC_CONFIG;
use crate::route::ConnId;

/// Registers the broker and, for a master, its topics. The answer carries the live master's
/// addresses to a slave, and the `ORDER_TOPIC_CONFIG` KV namespace (if any) as body.
pub(super) fn register(
    namesrv: &Namesrv,
    conn: ConnId,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let header: RegisterBrokerRequestHeader = request.decode_header()?;
    if header.body_crc32 != 0 {
        let actual = body_crc32(&request.body);
        if actual != header.body_crc32 {
            return Err(ProcessError::BodyCrcMismatch {
                expected: header.body_crc32,
                actual,
            });
        }
    }
    let topics = register_body(request, &header)?;
    let result = namesrv
        .routes_mut()
        .register_broker(&header, topics, conn, now());

    let mut response = success(request).with_header(&RegisterBrokerResponseHeader {
        ha_server_addr: result.ha_server_addr,
        master_addr: result.master_addr,
    });
    let order_topics = namesrv
        .kv()
        .namespace(NAMESPACE_ORDER_TOPIC_CONFIG)
        .cloned();
    if let Some(table) = order_topics {
        response = response.with_body(rmq_protocol::body::encode("KVTable", &KvTable { table })?);
    }
    Ok(response)
}

/// Removes one broker address.
pub(super) fn unregister(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let header: UnRegisterBrokerRequestHeader = request.decode_header()?;
    namesrv.routes_mut().unregister_broker(&header);
    Ok(success(request))
}

/// Tells a broker whether its topic table changed since it registered; an unchanged version
/// counts as a heartbeat. The body is the version registered here, if any.
pub(super) fn query_data_version(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let header: QueryDataVersionRequestHeader = request.decode_header()?;
    let version = DataVersion::decode(&request.body)?;
    let query = namesrv
        .routes_mut()
        .query_data_version(&header.broker_addr, &version, now());
    let mut response = success(request).with_header(&QueryDataVersionResponseHeader {
        changed: query.changed,
    });
    if let Some(registered) = query.registered {
        response = response.with_body(rmq_protocol::body::encode("DataVersion", &registered)?);
    }
    Ok(response)
}

/// Apache's `UtilAll.crc32`: CRC32 of the body with the sign bit cleared.
pub fn body_crc32(body: &[u8]) -> i32 {
    let crc = crc32fast::hash(body) & 0x7FFF_FFFF;
    // Cannot fail: the top bit is clear.
    i32::try_from(crc).unwrap_or(i32::MAX)
}

/// The topic table of a registration. Brokers before V3_0_11 send the wrapper bare; later ones
/// wrap it with the filter-server list. No body means an empty table at version 0.
fn register_body(
    request: &RemotingCommand,
    header: &RegisterBrokerRequestHeader,
) -> Result<TopicConfigSerializeWrapper, ProcessError> {
    if request.body.is_empty() {
        return Ok(TopicConfigSerializeWrapper::default());
    }
    if header.compressed {
        // The compact zlib form a broker sends with `compressedRegister=true`.
        return Ok(register_compressed::decode(&request.body)?.topic_config_serialize_wrapper);
    }
    if request.version >= version::V3_0_11 {
        Ok(RegisterBrokerBody::decode(&request.body)?.topic_config_serialize_wrapper)
    } else {
        Ok(TopicConfigSerializeWrapper::decode(&request.body)?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rmq_protocol::body::kv_table::KvTable;
    use rmq_protocol::body::register_compressed;
    use rmq_protocol::body::topic_config::{DataVersion, RegisterBrokerBody};
    use rmq_protocol::command::CommandHeader;
    use rmq_protocol::command::query_data_version::{
        QueryDataVersionRequestHeader, QueryDataVersionResponseHeader,
    };
    use rmq_protocol::command::register_broker::RegisterBrokerResponseHeader;
    use rmq_protocol::command::unregister_broker::UnRegisterBrokerRequestHeader;
    use rmq_protocol::{RemotingCommand, RequestCode, ResponseCode};

    use super::body_crc32;
    use crate::kv::NAMESPACE_ORDER_TOPIC_CONFIG;
    use crate::processor::testing::{namesrv, register_master, register_request};

    #[tokio::test]
    async fn a_registered_master_has_routes_and_a_slave_learns_its_master() {
        let (_dir, namesrv) = namesrv();
        register_master(&namesrv, "broker-a", "10.0.0.1:10911", &["T"]).await;
        assert!(namesrv.routes().route("T").is_some());

        let response = namesrv
            .process(
                2,
                &register_request("broker-a", "10.0.0.2:10911", 1, &["T"]),
            )
            .await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
        let header: RegisterBrokerResponseHeader = response.decode_header().unwrap();
        assert_eq!(header.master_addr.as_deref(), Some("10.0.0.1:10911"));
        assert_eq!(header.ha_server_addr.as_deref(), Some("10.0.0.1:10911-ha"));
        assert!(response.body.is_empty(), "no ORDER_TOPIC_CONFIG namespace");
    }

    #[tokio::test]
    async fn registration_answers_with_the_order_topic_namespace() {
        let (_dir, namesrv) = namesrv();
        namesrv
            .kv()
            .put(NAMESPACE_ORDER_TOPIC_CONFIG, "T", "broker-a:4")
            .unwrap();
        let response = namesrv
            .process(1, &register_request("broker-a", "a:1", 0, &[]))
            .await;
        let table: KvTable = rmq_protocol::body::decode("KVTable", &response.body).unwrap();
        assert_eq!(table.table["T"], "broker-a:4");
    }

    #[tokio::test]
    async fn a_body_crc_mismatch_is_refused_with_apaches_remark() {
        let (_dir, namesrv) = namesrv();
        let mut request = register_request("broker-a", "a:1", 0, &["T"]);
        let good = body_crc32(&request.body);
        request
            .ext_fields
            .insert("bodyCrc32", (good ^ 1).to_string());
        let response = namesrv.process(1, &request).await;
        assert_eq!(response.code, i32::from(ResponseCode::SystemError));
        assert_eq!(response.remark.as_deref(), Some("crc32 not match"));
        assert!(namesrv.routes().route("T").is_none());

        request.ext_fields.insert("bodyCrc32", good.to_string());
        let response = namesrv.process(1, &request).await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
    }

    /// `request` with its body in the compact zlib form (`compressedRegister=true`).
    fn compressed(mut request: RemotingCommand) -> RemotingCommand {
        let body = RegisterBrokerBody::decode(&request.body).unwrap();
        request.body = register_compressed::encode(&body).into();
        request.ext_fields.insert("compressed", "true");
        request
    }

    #[tokio::test]
    async fn a_compressed_body_registers_the_same_routes_as_the_json_one() {
        let (_dir, namesrv) = namesrv();
        let request = compressed(register_request("broker-a", "a:1", 0, &["T", "U"]));
        let response = namesrv.process(1, &request).await;
        assert_eq!(
            response.code,
            i32::from(ResponseCode::Success),
            "{response:?}"
        );
        for topic in ["T", "U"] {
            let route = namesrv.routes().route(topic).unwrap();
            assert_eq!(route.queue_datas[0].read_queue_nums, 4);
            assert_eq!(route.broker_datas[0].broker_addrs[&0], "a:1");
        }
    }

    #[tokio::test]
    async fn a_corrupt_compressed_body_is_refused_and_registers_nothing() {
        let (_dir, namesrv) = namesrv();
        let mut request = compressed(register_request("broker-a", "a:1", 0, &["T"]));
        let cut = request.body.len() - 4;
        request.body.truncate(cut);
        let response = namesrv.process(1, &request).await;
        assert_eq!(response.code, i32::from(ResponseCode::SystemError));
        assert!(response.remark.unwrap().contains("compressed"));
        assert!(namesrv.routes().cluster_info().broker_addr_table.is_empty());
    }

    #[tokio::test]
    async fn a_pre_3_0_11_broker_sends_the_topic_wrapper_bare() {
        let (_dir, namesrv) = namesrv();
        let mut request = register_request("broker-a", "a:1", 0, &[]);
        request.version = 20;
        request.body = br#"{"dataVersion":{"counter":1,"timestamp":1},"topicConfigTable":{"Old":{"perm":6,"readQueueNums":2,"topicName":"Old","writeQueueNums":2}}}"#.to_vec().into();
        let response = namesrv.process(1, &request).await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
        assert_eq!(
            namesrv.routes().route("Old").unwrap().queue_datas[0].write_queue_nums,
            2
        );
    }

    #[tokio::test]
    async fn unregister_removes_the_broker_and_its_routes() {
        let (_dir, namesrv) = namesrv();
        register_master(&namesrv, "broker-a", "a:1", &["T"]).await;
        let request = RemotingCommand::request_with_header(
            RequestCode::UnregisterBroker,
            &UnRegisterBrokerRequestHeader {
                broker_name: "broker-a".into(),
                broker_addr: "a:1".into(),
                cluster_name: "DefaultCluster".into(),
                broker_id: 0,
            },
        );
        let response = namesrv.process(1, &request).await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
        assert!(namesrv.routes().route("T").is_none());
    }

    #[tokio::test]
    async fn query_data_version_says_whether_the_broker_must_register_again() {
        let (_dir, namesrv) = namesrv();
        register_master(&namesrv, "broker-a", "a:1", &["T"]).await;
        let query = |counter: i64| {
            let version = DataVersion {
                counter,
                state_version: None,
                timestamp: 1,
            };
            RemotingCommand::request_with_header(
                RequestCode::QueryDataVersion,
                &QueryDataVersionRequestHeader {
                    broker_name: "broker-a".into(),
                    broker_addr: "a:1".into(),
                    cluster_name: "DefaultCluster".into(),
                    broker_id: 0,
                },
            )
            .with_body(serde_json::to_vec(&version).unwrap())
        };
        let same = namesrv.process(1, &query(1)).await;
        assert_eq!(same.code, i32::from(ResponseCode::Success));
        let header = QueryDataVersionResponseHeader::from_ext_fields(&same.ext_fields).unwrap();
        assert!(!header.changed);
        assert_eq!(DataVersion::decode(&same.body).unwrap().counter, 1);

        let newer = namesrv.process(1, &query(2)).await;
        let header: QueryDataVersionResponseHeader = newer.decode_header().unwrap();
        assert!(header.changed);

        let no_body = RemotingCommand {
            body: Default::default(),
            ..query(1)
        };
        let response = namesrv.process(1, &no_body).await;
        assert_eq!(response.code, i32::from(ResponseCode::SystemError));
    }

    #[test]
    fn body_crc_matches_javas_crc32_with_the_sign_bit_cleared() {
        // java.util.zip.CRC32 of "123456789" is 0xCBF43926.
        assert_eq!(body_crc32(b"123456789"), 0x4BF4_3926);
        assert_eq!(body_crc32(b""), 0);
    }
}
