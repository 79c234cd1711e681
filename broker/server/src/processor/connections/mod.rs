//! Connection lists for tools: GET_CONSUMER_CONNECTION_LIST (203),
//! GET_PRODUCER_CONNECTION_LIST (204), QUERY_TOPIC_CONSUME_BY_WHO (300),
//! GET_ALL_PRODUCER_INFO (328).

pub mod decide;

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;
use rmq_protocol::command::connection_list::{
    GetConsumerConnectionListRequestHeader, GetProducerConnectionListRequestHeader,
};
use rmq_protocol::command::query_topic_consume_by_who::{
    GroupList, QueryTopicConsumeByWhoRequestHeader,
};
use rmq_remoting::ConnHandle;
use serde::Serialize;

use self::decide::ConnectionsRefused;
use super::reply::{answer, bad_header};
use crate::state::Broker;

fn addr_of(conn: &ConnHandle) -> String {
    conn.peer().to_string()
}

/// GET_CONSUMER_CONNECTION_LIST (203).
pub fn consumer_connections(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: GetConsumerConnectionListRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let group = &header.consumer_group;
    let decided =
        decide::consumer_connection(group, broker.clients().consumer_group(group), addr_of);
    json(request, decided)
}

/// GET_PRODUCER_CONNECTION_LIST (204).
pub fn producer_connections(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: GetProducerConnectionListRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let group = &header.producer_group;
    let clients = broker.clients();
    let decided = decide::producer_connection(
        group,
        clients.producer_group(group).map(|m| m.values()),
        addr_of,
    );
    drop(clients);
    json(request, decided)
}

/// GET_ALL_PRODUCER_INFO (328).
pub fn all_producers(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let now_ms = broker.clock.now_ms();
    let table = decide::producer_table(
        broker.clients().producer_groups(),
        addr_of,
        std::time::Instant::now(),
        now_ms,
    );
    json(request, Ok::<_, ConnectionsRefused>(table))
}

/// QUERY_TOPIC_CONSUME_BY_WHO (300).
pub fn consumed_by(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let header: QueryTopicConsumeByWhoRequestHeader = match request.decode_header() {
        Ok(header) => header,
        Err(error) => return bad_header(request, &error),
    };
    let online = broker.clients().groups_subscribed_to(&header.topic);
    let group_list = decide::who_consumes(online, broker.offsets.groups_of(&header.topic));
    json(
        request,
        Ok::<_, ConnectionsRefused>(GroupList { group_list }),
    )
}

fn json(
    request: &RemotingCommand,
    decided: Result<impl Serialize, ConnectionsRefused>,
) -> RemotingCommand {
    match decided.map(|body| serde_json::to_vec(&body)) {
        Ok(Ok(body)) => {
            RemotingCommand::response_to(request, ResponseCode::Success).with_body(body)
        }
        Ok(Err(error)) => answer(request, ResponseCode::SystemError, error.to_string()),
        Err(refused) => answer(request, refused.code(), refused.to_string()),
    }
}
