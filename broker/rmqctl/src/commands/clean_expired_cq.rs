//! `cleanExpiredCQ (-b addr | -c cluster)`: CLEAN_EXPIRED_CONSUMEQUEUE, which deletes only the
//! consume queue files whose entries all point at commit log data already deleted.

use rmq_admin::Admin;
use rmq_protocol::code::RequestCode;

use super::broker_status::targets;
use super::{Applied, apply_each};
use crate::cli::BrokerTargetArgs;
use crate::error::CmdError;

pub async fn run(admin: &Admin, args: &BrokerTargetArgs) -> Result<Applied, CmdError> {
    let addrs = targets(admin, args).await?;
    apply_each(
        "expired consume queues cleaned".to_owned(),
        addrs,
        |addr| async move {
            admin
                .plain(&addr, RequestCode::CleanExpiredConsumequeue)
                .await
        },
    )
    .await
}
