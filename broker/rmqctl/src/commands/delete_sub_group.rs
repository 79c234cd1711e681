//! `deleteSubGroup -g group (-b addr | -c cluster)`: DELETE_SUBSCRIPTIONGROUP on one broker or
//! every master of a cluster.

use rmq_admin::Admin;

use super::broker_status::targets;
use super::{Applied, apply_each};
use crate::cli::GroupOnBrokersArgs;
use crate::error::CmdError;

pub async fn run(admin: &Admin, args: &GroupOnBrokersArgs) -> Result<Applied, CmdError> {
    let addrs = targets(admin, &args.target).await?;
    let group = args.group.as_str();
    apply_each(
        format!("subscription group {group:?} deleted"),
        addrs,
        |addr| async move { admin.delete_group(&addr, group).await },
    )
    .await
}
