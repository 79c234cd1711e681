//! Requests the broker sends to its clients on its own: NOTIFY_CONSUMER_IDS_CHANGED.

use rmq_protocol::RemotingCommand;
use rmq_protocol::code::RequestCode;
use rmq_protocol::command::notify_consumer_ids_changed::NotifyConsumerIdsChangedRequestHeader;

use crate::state::Broker;

/// Tells every member of the listed groups that membership changed, so they rebalance.
pub fn consumer_ids_changed(broker: &Broker, groups: &[String]) {
    for group in groups {
        if broker
            .groups
            .get(group)
            .is_some_and(|g| !g.notify_consumer_ids_changed_enable)
        {
            continue;
        }
        let channels = broker.clients().consumer_channels(group);
        let header = NotifyConsumerIdsChangedRequestHeader {
            consumer_group: group.clone(),
        };
        for channel in channels {
            let request = RemotingCommand::request_with_header(
                RequestCode::NotifyConsumerIdsChanged,
                &header,
            );
            tokio::spawn(async move {
                let _ = channel.send_oneway(request).await;
            });
        }
    }
}
