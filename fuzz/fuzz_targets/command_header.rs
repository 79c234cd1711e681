//! Arbitrary ext fields read as every typed command header: reading must never panic, and a
//! header that reads must write ext fields that read back to the same header, also after the
//! fields travel in a JSON header and (when no value is empty, which the binary form drops) in a
//! ROCKETMQ header.
//!
//! Input: byte 0 picks the header type (index into `CHECKS`, modulo its length); byte 1 picks how
//! the rest becomes ext fields: 0 a JSON header, 1 a ROCKETMQ header, anything else `key=value`
//! lines (as in `fuzz/dicts/command_header.dict`).

#![no_main]

use std::fmt::Debug;

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rmq_protocol::command::*;
use rmq_protocol::header::{self, binary, json};
use rmq_protocol::{CommandHeader, ExtFields, RemotingCommand, SerializeType};

/// One entry per header type; `seed_corpus.py` reads this list to build seeds, so keep one
/// `check::<module::Type>,` per line.
const CHECKS: &[fn(&ExtFields)] = &[
    check::<broker_config::GetBrokerConfigResponseHeader>,
    check::<check_transaction_state::CheckTransactionStateRequestHeader>,
    check::<consumer_send_msg_back::ConsumerSendMsgBackRequestHeader>,
    check::<create_topic::CreateTopicRequestHeader>,
    check::<delete_topic::DeleteTopicRequestHeader>,
    check::<delete_topic::DeleteTopicFromNamesrvRequestHeader>,
    check::<end_transaction::EndTransactionRequestHeader>,
    check::<get_all_topic_config::GetAllTopicConfigRequestHeader>,
    check::<get_all_topic_config::GetAllTopicConfigResponseHeader>,
    check::<get_consume_stats::GetConsumeStatsRequestHeader>,
    check::<get_consumer_list::GetConsumerListByGroupRequestHeader>,
    check::<get_earliest_msg_storetime::GetEarliestMsgStoretimeRequestHeader>,
    check::<get_earliest_msg_storetime::GetEarliestMsgStoretimeResponseHeader>,
    check::<get_max_offset::GetMaxOffsetRequestHeader>,
    check::<get_max_offset::GetMaxOffsetResponseHeader>,
    check::<get_min_offset::GetMinOffsetRequestHeader>,
    check::<get_min_offset::GetMinOffsetResponseHeader>,
    check::<get_route_info::GetRouteInfoRequestHeader>,
    check::<get_topic_stats::GetTopicStatsInfoRequestHeader>,
    check::<get_topics_by_cluster::GetTopicsByClusterRequestHeader>,
    check::<kv_config::PutKvConfigRequestHeader>,
    check::<kv_config::GetKvConfigRequestHeader>,
    check::<kv_config::GetKvConfigResponseHeader>,
    check::<kv_config::DeleteKvConfigRequestHeader>,
    check::<kv_config::GetKvListByNamespaceRequestHeader>,
    check::<notify_consumer_ids_changed::NotifyConsumerIdsChangedRequestHeader>,
    check::<pull_message::PullMessageRequestHeader>,
    check::<pull_message::PullMessageResponseHeader>,
    check::<query_consumer_offset::QueryConsumerOffsetRequestHeader>,
    check::<query_consumer_offset::QueryConsumerOffsetResponseHeader>,
    check::<query_data_version::QueryDataVersionRequestHeader>,
    check::<query_data_version::QueryDataVersionResponseHeader>,
    check::<query_message::QueryMessageRequestHeader>,
    check::<query_message::QueryMessageResponseHeader>,
    check::<register_broker::RegisterBrokerRequestHeader>,
    check::<register_broker::RegisterBrokerResponseHeader>,
    check::<search_offset::SearchOffsetRequestHeader>,
    check::<search_offset::SearchOffsetResponseHeader>,
    check::<send_message::SendMessageRequestHeader>,
    check::<send_message::SendMessageRequestHeaderV2>,
    check::<send_message::SendMessageResponseHeader>,
    check::<unregister_broker::UnRegisterBrokerRequestHeader>,
    check::<unregister_client::UnregisterClientRequestHeader>,
    check::<update_consumer_offset::UpdateConsumerOffsetRequestHeader>,
    check::<view_message::ViewMessageRequestHeader>,
    check::<wipe_write_perm::WipeWritePermOfBrokerRequestHeader>,
    check::<wipe_write_perm::WipeWritePermOfBrokerResponseHeader>,
    check::<wipe_write_perm::AddWritePermOfBrokerRequestHeader>,
    check::<wipe_write_perm::AddWritePermOfBrokerResponseHeader>,
];

fn check<H: CommandHeader + PartialEq + Debug>(fields: &ExtFields) {
    let Ok(header) = H::from_ext_fields(fields) else {
        return;
    };
    let written = header.to_ext_fields();
    let again = H::from_ext_fields(&written).expect("ext fields a header wrote read back");
    assert_eq!(
        again, header,
        "header changed through its ext fields {written:?}"
    );

    let mut command = RemotingCommand::request(0).with_header(&header);
    for serialize_type in [SerializeType::Json, SerializeType::RocketMq] {
        if serialize_type == SerializeType::RocketMq
            && written
                .iter()
                .any(|(key, value)| key.is_empty() || value.is_empty())
        {
            continue;
        }
        command.serialize_type = serialize_type;
        let mut encoded = BytesMut::new();
        header::encode(&command, &mut encoded).expect("a header's ext fields encode");
        let decoded =
            header::decode(serialize_type, &encoded).expect("a header we encoded decodes");
        let travelled = H::from_ext_fields(&decoded.ext_fields)
            .expect("a header read back after a trip through a frame header");
        assert_eq!(
            travelled, header,
            "header changed through a {serialize_type} header"
        );
    }
}

/// `key=value` lines; a line without `=` is a key with an empty value.
fn lines(text: &[u8]) -> ExtFields {
    let text = String::from_utf8_lossy(text);
    text.split('\n')
        .filter(|line| !line.is_empty())
        .map(|line| line.split_once('=').unwrap_or((line, "")))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let [which, form, rest @ ..] = data else {
        return;
    };
    let fields = match form {
        0 => match json::decode(rest) {
            Ok(command) => command.ext_fields,
            Err(_) => return,
        },
        1 => match binary::decode(rest) {
            Ok(command) => command.ext_fields,
            Err(_) => return,
        },
        _ => lines(rest),
    };
    CHECKS[usize::from(*which) % CHECKS.len()](&fields);
    // A V2 send header converts to V1 and back unchanged.
    if let Ok(v2) = send_message::SendMessageRequestHeaderV2::from_ext_fields(&fields) {
        let v1 = send_message::SendMessageRequestHeader::from(v2.clone());
        assert_eq!(send_message::SendMessageRequestHeaderV2::from(v1), v2);
    }
});
