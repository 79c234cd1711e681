//! Offsets and message look-ups: GET_MAX_OFFSET (30), GET_MIN_OFFSET (31),
//! GET_EARLIEST_MSG_STORETIME (32), SEARCH_OFFSET_BY_TIMESTAMP (29), QUERY_MESSAGE (12),
//! VIEW_MESSAGE_BY_ID (33).

pub mod decide;

use bytes::BytesMut;
use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::get_earliest_msg_storetime::{
    GetEarliestMsgStoretimeRequestHeader, GetEarliestMsgStoretimeResponseHeader,
};
use rmq_protocol::command::get_max_offset::{
    GetMaxOffsetRequestHeader, GetMaxOffsetResponseHeader,
};
use rmq_protocol::command::get_min_offset::{
    GetMinOffsetRequestHeader, GetMinOffsetResponseHeader,
};
use rmq_protocol::command::query_message::{QueryMessageRequestHeader, QueryMessageResponseHeader};
use rmq_protocol::command::search_offset::{SearchOffsetRequestHeader, SearchOffsetResponseHeader};
use rmq_protocol::command::view_message::ViewMessageRequestHeader;

use self::decide::QueryRefused;
use super::reply::{answer, bad_header, success_with};
use crate::state::Broker;

/// GET_MAX_OFFSET: the next offset to be written in a queue.
pub fn max_offset(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: GetMaxOffsetRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let offset = broker
        .store
        .max_offset_in_queue(&header.topic, header.queue_id) as i64;
    success_with(request, &GetMaxOffsetResponseHeader { offset })
}

/// GET_MIN_OFFSET: the oldest offset still stored.
pub fn min_offset(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: GetMinOffsetRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let offset = broker
        .store
        .min_offset_in_queue(&header.topic, header.queue_id) as i64;
    success_with(request, &GetMinOffsetResponseHeader { offset })
}

/// GET_EARLIEST_MSG_STORETIME: store time of the queue's oldest message (-1 when empty, as the
/// Java store answers).
pub fn earliest_msg_store_time(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: GetEarliestMsgStoretimeRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let timestamp = decide::earliest_store_time(
        broker
            .store
            .earliest_message_time(&header.topic, header.queue_id),
    );
    success_with(
        request,
        &GetEarliestMsgStoretimeResponseHeader { timestamp },
    )
}

/// SEARCH_OFFSET_BY_TIMESTAMP: the first offset stored at or after a time.
pub fn search_offset(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: SearchOffsetRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let offset = broker
        .store
        .offset_by_time(&header.topic, header.queue_id, header.timestamp) as i64;
    success_with(request, &SearchOffsetResponseHeader { offset })
}

/// QUERY_MESSAGE: messages of a topic whose KEYS or unique key is `key`, as stored records.
pub fn query_message(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: QueryMessageRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let max = decide::query_limit(header.max_num);
    let found = broker.store.query_by_key(
        &header.topic,
        &header.key,
        max,
        header.begin_timestamp,
        header.end_timestamp,
    );
    if found.is_empty() {
        let refused = QueryRefused::NoMessageByKey;
        return answer(request, refused.code(), refused.to_string());
    }
    let mut body = BytesMut::with_capacity(found.iter().map(|m| m.len()).sum());
    for message in &found {
        body.extend_from_slice(message);
    }
    let response_header = QueryMessageResponseHeader {
        index_last_update_timestamp: broker.clock.now_ms(),
        index_last_update_phyoffset: broker.store.dispatched_offset() as i64,
    };
    success_with(request, &response_header).with_body(body.freeze())
}

/// VIEW_MESSAGE_BY_ID: the stored record at a commit log offset (from an offset message id).
pub fn view_message(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: ViewMessageRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let record = u64::try_from(header.offset)
        .ok()
        .and_then(|offset| broker.store.read_record(offset));
    match record {
        Some(record) => {
            RemotingCommand::response_to(request, ResponseCode::Success).with_body(record)
        }
        None => {
            let refused = QueryRefused::NoMessageAtOffset(header.offset);
            answer(request, refused.code(), refused.to_string())
        }
    }
}
