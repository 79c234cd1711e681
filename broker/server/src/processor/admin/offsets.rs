//! Offset tables admin tools and slaves read: GET_ALL_CONSUMER_OFFSET, GET_ALL_DELAY_OFFSET.

use rmq_protocol::RemotingCommand;
use rmq_store::metadata::DelayOffsetTable;
use rmq_store::metadata::json::to_fastjson_string;

use super::text_answer;
use crate::state::Broker;

/// GET_ALL_CONSUMER_OFFSET (43): `{"offsetTable":{"topic@group":{0:12}}}`.
pub fn all_consumer_offsets(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    text_answer(request, to_fastjson_string(&broker.offsets.snapshot()))
}

/// GET_ALL_DELAY_OFFSET (45): the delay scheduler's progress per level, as `delayOffset.json`
/// holds it (Apache answers `ScheduleMessageService.encode()`: the live table, not the file,
/// which is written only every `flushDelayOffsetInterval`).
pub fn all_delay_offset(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let table = DelayOffsetTable {
        data_version: None,
        offset_table: broker.messaging.delay_offsets.snapshot(),
    };
    text_answer(request, to_fastjson_string(&table))
}
