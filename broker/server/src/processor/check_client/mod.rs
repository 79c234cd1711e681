//! CHECK_CLIENT_CONFIG (46): Java consumers with a SQL92 subscription ask the broker at start
//! whether it can filter with that expression (Apache `ClientManageProcessor.checkClientConfig`).
//! The rule is [`decide::check`]; this shell answers it.

pub mod decide;

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::ResponseCode;

use self::decide::check;
use super::reply::answer;
use crate::state::Broker;

/// Answers CHECK_CLIENT_CONFIG.
pub fn check_client_config(broker: &Broker, request: &RemotingCommand) -> RemotingCommand {
    match check(
        broker.config.messaging.enable_property_filter,
        &request.body,
    ) {
        Ok(()) => RemotingCommand::response_to(request, ResponseCode::Success),
        Err(refused) => answer(request, refused.code(), refused.to_string()),
    }
}
