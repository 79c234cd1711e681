//! Requests of admin tools (mqadmin, rmqctl, dashboards): topics, subscription groups, committed
//! offsets, statistics and the broker's configuration. [`decide`] holds the rules and refusals;
//! one module per family does the lookups and writes.
//!
//! | module | codes |
//! |---|---|
//! | [`topic`] | UPDATE_AND_CREATE_TOPIC, DELETE_TOPIC_IN_BROKER, GET_ALL_TOPIC_CONFIG, GET_TOPIC_CONFIG, GET_TOPIC_STATS_INFO, GET_SYSTEM_TOPIC_LIST_FROM_BROKER |
//! | [`group`] | UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, DELETE_SUBSCRIPTIONGROUP, GET_ALL_SUBSCRIPTIONGROUP_CONFIG, GET_SUBSCRIPTIONGROUP_CONFIG, GET_CONSUME_STATS |
//! | [`offsets`] | GET_ALL_CONSUMER_OFFSET, GET_ALL_DELAY_OFFSET |
//! | [`consume`] | QUERY_CONSUME_TIME_SPAN, QUERY_CORRECTION_OFFSET, CLONE_GROUP_OFFSET, GET_BROKER_CONSUME_STATS |
//! | [`maintenance`] | CLEAN_EXPIRED_CONSUMEQUEUE, DELETE_EXPIRED_COMMITLOG, CLEAN_UNUSED_TOPIC, QUERY_CONSUME_QUEUE, RESUME_CHECK_HALF_MESSAGE |
//! | [`broker`] | GET_BROKER_RUNTIME_INFO, VIEW_BROKER_STATS_DATA, GET_BROKER_CONFIG, UPDATE_BROKER_CONFIG |
//! | [`acl`] | UPDATE_AND_CREATE_ACL_CONFIG, DELETE_ACL_CONFIG, GET_BROKER_CLUSTER_ACL_INFO, UPDATE_GLOBAL_WHITE_ADDRS_CONFIG, GET_BROKER_CLUSTER_ACL_CONFIG |

pub mod acl;
pub mod broker;
pub mod consume;
pub mod decide;
pub mod group;
pub mod maintenance;
pub mod offsets;
pub mod topic;

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;

use self::decide::AdminRefused;
use super::reply::answer;

/// Version string admin tools show (Apache's `MQVersion` name of the protocol we speak).
pub const BROKER_VERSION_DESC: &str = "V4_9_4";

/// The answer to a refused admin request.
fn refusal(request: &RemotingCommand, refused: &AdminRefused) -> RemotingCommand {
    answer(request, refused.code(), refused.to_string())
}

fn json_answer<E: std::fmt::Display>(
    request: &RemotingCommand,
    body: Result<Vec<u8>, E>,
) -> RemotingCommand {
    match body {
        Ok(body) => RemotingCommand::response_to(request, ResponseCode::Success).with_body(body),
        Err(error) => refusal(request, &AdminRefused::Failed(error.to_string())),
    }
}

fn text_answer<E: std::fmt::Display>(
    request: &RemotingCommand,
    body: Result<String, E>,
) -> RemotingCommand {
    json_answer(request, body.map(String::into_bytes))
}
