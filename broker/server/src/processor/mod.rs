//! Request processors, one module per request family, and the single dispatch by request code.
//!
//! | module | codes |
//! |---|---|
//! | [`send`] | SEND_MESSAGE, SEND_MESSAGE_V2, SEND_BATCH_MESSAGE |
//! | [`pull`] | PULL_MESSAGE, LITE_PULL_MESSAGE (with long polling) |
//! | [`consumer`] | HEART_BEAT, UNREGISTER_CLIENT, GET_CONSUMER_LIST_BY_GROUP, QUERY/UPDATE_CONSUMER_OFFSET |
//! | [`query`] | GET_MAX/MIN_OFFSET, GET_EARLIEST_MSG_STORETIME, SEARCH_OFFSET_BY_TIMESTAMP, QUERY_MESSAGE, VIEW_MESSAGE_BY_ID |
//! | [`admin`] | topics, subscription groups, offsets, stats and broker config for tools |
//! | [`send_reply`] | SEND_REPLY_MESSAGE, SEND_REPLY_MESSAGE_V2: stored, then pushed to the requester (PUSH_REPLY_MESSAGE_TO_CLIENT) |
//! | [`send_back`] | CONSUMER_SEND_MSG_BACK: retry topic or dead-letter queue |
//! | [`end_transaction`] | END_TRANSACTION: commit or roll back a half message |
//! | [`lock`] | LOCK_BATCH_MQ, UNLOCK_BATCH_MQ for orderly consumers |
//! | [`check_client`] | CHECK_CLIENT_CONFIG: a consumer's SQL92 expression checked at start |
//! | [`connections`] | GET_CONSUMER/PRODUCER_CONNECTION_LIST, GET_ALL_PRODUCER_INFO, QUERY_TOPIC_CONSUME_BY_WHO |
//! | [`call_client`] | INVOKE_BROKER_TO_RESET_OFFSET, INVOKE_BROKER_TO_GET_CONSUMER_STATUS, GET_CONSUMER_RUNNING_INFO, CONSUME_MESSAGE_DIRECTLY: requests passed on to consumers |
//!
//! Each family but `lock` keeps its rules in a pure `decide` module: typed refusals carrying
//! Apache's code and remark, unit-tested without sockets. The lock rules are the pure
//! [`crate::rebalance_lock`]; the module here is the I/O around them.
//!
//! Every processor returns a response; a request whose header cannot be read gets Apache's
//! answer for that (SYSTEM_ERROR with the reason), never a dropped connection.

pub mod admin;
pub mod call_client;
pub mod check_client;
pub mod connections;
pub mod consumer;
pub mod end_transaction;
pub mod lock;
pub mod pull;
pub mod query;
pub mod reply;
pub mod send;
pub mod send_back;
pub mod send_reply;

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::RequestCode;
use rmq_remoting::ConnHandle;

use crate::state::Broker;

/// Answers one request.
pub async fn dispatch(
    broker: &Broker,
    conn: &ConnHandle,
    request: RemotingCommand,
) -> RemotingCommand {
    let Some(code) = request.request_code() else {
        return RemotingCommand::request_code_not_supported(&request);
    };
    match code {
        RequestCode::SendMessage | RequestCode::SendMessageV2 | RequestCode::SendBatchMessage => {
            send::send(broker, conn, &request).await
        }
        // 5.x lite pull consumers pull with their own code and the same header.
        RequestCode::SendReplyMessage | RequestCode::SendReplyMessageV2 => {
            send_reply::send_reply(broker, conn, &request).await
        }
        RequestCode::PullMessage | RequestCode::LitePullMessage => {
            pull::pull(broker, &request).await
        }
        RequestCode::ConsumerSendMsgBack => send_back::send_back(broker, &request),
        RequestCode::EndTransaction => {
            end_transaction::end_transaction(broker, conn, &request).await
        }
        RequestCode::LockBatchMq => lock::lock_batch(broker, &request),
        RequestCode::UnlockBatchMq => lock::unlock_batch(broker, &request),
        RequestCode::CheckClientConfig => check_client::check_client_config(broker, &request),
        RequestCode::HeartBeat => consumer::heart_beat(broker, conn, &request),
        RequestCode::UnregisterClient => consumer::unregister_client(broker, conn, &request),
        RequestCode::GetConsumerListByGroup => consumer::consumer_list(broker, &request),
        RequestCode::QueryConsumerOffset => consumer::query_offset(broker, &request),
        RequestCode::UpdateConsumerOffset => consumer::update_offset(broker, &request),
        RequestCode::GetMaxOffset => query::max_offset(broker, &request),
        RequestCode::GetMinOffset => query::min_offset(broker, &request),
        RequestCode::GetEarliestMsgStoretime => query::earliest_msg_store_time(broker, &request),
        RequestCode::SearchOffsetByTimestamp => query::search_offset(broker, &request),
        RequestCode::QueryMessage => query::query_message(broker, &request),
        RequestCode::ViewMessageById => query::view_message(broker, &request),
        RequestCode::UpdateAndCreateTopic => {
            admin::topic::update_and_create_topic(broker, &request)
        }
        RequestCode::DeleteTopicInBroker => admin::topic::delete_topic(broker, &request),
        RequestCode::GetAllTopicConfig => admin::topic::all_topic_config(broker, &request),
        RequestCode::UpdateAndCreateSubscriptiongroup => {
            admin::group::update_group(broker, &request)
        }
        RequestCode::DeleteSubscriptiongroup => admin::group::delete_group(broker, &request),
        RequestCode::GetAllSubscriptiongroupConfig => admin::group::all_groups(broker, &request),
        RequestCode::GetAllConsumerOffset => admin::offsets::all_consumer_offsets(broker, &request),
        RequestCode::GetAllDelayOffset => admin::offsets::all_delay_offset(broker, &request),
        RequestCode::ViewBrokerStatsData => admin::broker::stats_data(broker, &request),
        RequestCode::GetBrokerRuntimeInfo => admin::broker::runtime_info(broker, &request),
        RequestCode::GetTopicConfig => admin::topic::topic_config(broker, &request),
        RequestCode::GetSystemTopicListFromBroker => admin::topic::system_topics(broker, &request),
        RequestCode::GetSubscriptiongroupConfig => admin::group::group_config(broker, &request),
        RequestCode::QueryConsumeTimeSpan => admin::consume::time_span(broker, &request),
        RequestCode::QueryCorrectionOffset => admin::consume::correction_offset(broker, &request),
        RequestCode::CloneGroupOffset => admin::consume::clone_offsets(broker, &request),
        RequestCode::GetBrokerConsumeStats => {
            admin::consume::broker_consume_stats(broker, &request)
        }
        RequestCode::CleanExpiredConsumequeue => {
            admin::maintenance::clean_expired_queues(broker, &request).await
        }
        RequestCode::DeleteExpiredCommitlog => {
            admin::maintenance::delete_expired_commit_log(broker, &request).await
        }
        RequestCode::CleanUnusedTopic => {
            admin::maintenance::clean_unused_topics(broker, &request).await
        }
        RequestCode::QueryConsumeQueue => admin::maintenance::query_consume_queue(broker, &request),
        RequestCode::ResumeCheckHalfMessage => {
            admin::maintenance::resume_half_message(broker, &request)
        }
        RequestCode::GetTopicStatsInfo => admin::topic::topic_stats(broker, &request),
        RequestCode::GetConsumeStats => admin::group::consume_stats(broker, &request),
        RequestCode::GetBrokerConfig => admin::broker::broker_config(broker, &request),
        RequestCode::UpdateBrokerConfig => {
            admin::broker::update_broker_config(broker, &request).await
        }
        RequestCode::UpdateAndCreateAclConfig => admin::acl::update_account(broker, &request),
        RequestCode::DeleteAclConfig => admin::acl::delete_account(broker, &request),
        RequestCode::GetBrokerClusterAclInfo => admin::acl::acl_versions(broker, &request),
        RequestCode::UpdateGlobalWhiteAddrsConfig => {
            admin::acl::update_global_white(broker, &request)
        }
        RequestCode::GetBrokerClusterAclConfig => admin::acl::acl_config(broker, &request),
        RequestCode::GetConsumerConnectionList => {
            connections::consumer_connections(broker, &request)
        }
        RequestCode::GetProducerConnectionList => {
            connections::producer_connections(broker, &request)
        }
        RequestCode::QueryTopicConsumeByWho => connections::consumed_by(broker, &request),
        RequestCode::GetAllProducerInfo => connections::all_producers(broker, &request),
        RequestCode::InvokeBrokerToResetOffset => call_client::reset_offset(broker, &request).await,
        RequestCode::InvokeBrokerToGetConsumerStatus => {
            call_client::consumer_status(broker, &request).await
        }
        RequestCode::GetConsumerRunningInfo => call_client::running_info(broker, &request).await,
        RequestCode::ConsumeMessageDirectly => {
            call_client::consume_directly(broker, &request).await
        }
        _ => RemotingCommand::request_code_not_supported(&request),
    }
}
