//! CHECK_CLIENT_CONFIG (46): Java consumers with a SQL92 subscription ask the broker at start
//! whether it can filter with that expression (Apache `ClientManageProcessor.checkClientConfig`).
//!
//! Body: `{"clientId":"..","group":"..","subscriptionData":{"topic":"T","subString":"a > 1",
//! "expressionType":"SQL92",..}}`. TAG subscriptions always pass; SQL92 needs
//! `enablePropertyFilter=true` (else SYSTEM_ERROR) and an expression that parses (else
//! SUBSCRIPTION_PARSE_FAILED).

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;

use super::reply::answer;
use crate::sql_filter::select::{FilterRefused, MessageFilter};
use crate::state::Broker;

/// Answers CHECK_CLIENT_CONFIG.
pub fn check_client_config(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    let body: serde_json::Value = match serde_json::from_slice(&request.body) {
        Ok(body) => body,
        Err(error) => {
            return answer(
                request,
                ResponseCode::SystemError,
                format!("check client body is not valid JSON: {error}"),
            );
        }
    };
    let subscription = &body["subscriptionData"];
    if subscription.is_null() {
        return RemotingCommand::response_to(request, ResponseCode::Success);
    }
    let built = MessageFilter::build(
        broker.config.messaging.enable_property_filter,
        subscription["expressionType"].as_str(),
        subscription["subString"].as_str(),
    );
    match built {
        Ok(_) => RemotingCommand::response_to(request, ResponseCode::Success),
        Err(refused @ FilterRefused::NotSupported(_)) => {
            answer(request, ResponseCode::SystemError, refused.to_string())
        }
        Err(FilterRefused::Parse(error)) => answer(
            request,
            ResponseCode::SubscriptionParseFailed,
            error.to_string(),
        ),
    }
}
