//! `updateSubGroup -g group (-b addr | -c cluster)`: create or change a subscription group on
//! one broker or every master of a cluster (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP).

use rmq_admin::Admin;
use serde_json::json;

use super::broker_status::targets;
use super::{Applied, apply_each};
use crate::cli::UpdateSubGroupArgs;
use crate::error::CmdError;

/// The `SubscriptionGroupConfig` body, with Java's field names.
pub fn group_config(args: &UpdateSubGroupArgs) -> serde_json::Value {
    json!({
        "groupName": args.group,
        "consumeEnable": args.consume_enable,
        "consumeFromMinEnable": args.consume_from_min_enable,
        "consumeBroadcastEnable": args.consume_broadcast_enable,
        "retryQueueNums": args.retry_queue_nums,
        "retryMaxTimes": args.retry_max_times,
        "brokerId": args.broker_id,
        "whichBrokerWhenConsumeSlowly": args.which_broker_when_consume_slowly,
        "notifyConsumerIdsChangedEnable": args.notify_consumer_ids_changed_enable,
    })
}

pub async fn run(admin: &Admin, args: &UpdateSubGroupArgs) -> Result<Applied, CmdError> {
    let addrs = targets(admin, &args.target).await?;
    let config = group_config(args);
    let config = &config;
    apply_each(
        format!("subscription group {:?} created or updated", args.group),
        addrs,
        |addr| async move { admin.update_group(&addr, config).await },
    )
    .await
}
