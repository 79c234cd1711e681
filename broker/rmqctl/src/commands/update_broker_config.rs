//! `updateBrokerConfig -k key -v value (-b addr | -c cluster)`: UPDATE_BROKER_CONFIG on one
//! broker or every master of a cluster. A key the broker cannot change at run time is refused
//! by the broker, with the key named, and stops the command there. A broker that applied the
//! change but could not write it to its config file (a read-only ConfigMap) says so; the
//! warning is printed to stderr, the change holds until that broker restarts.

use super::broker_status::targets;
use super::{Applied, apply_each};
use crate::admin::Admin;
use crate::cli::UpdateBrokerConfigArgs;
use crate::error::CmdError;

pub async fn run(admin: &Admin, args: &UpdateBrokerConfigArgs) -> Result<Applied, CmdError> {
    let addrs = targets(admin, &args.target).await?;
    let properties = format!("{}={}\n", args.key, args.value);
    let properties = properties.as_str();
    apply_each(
        format!("{}={}", args.key, args.value),
        addrs,
        |addr| async move {
            let remark = admin.update_broker_config(&addr, properties).await?;
            if let Some(remark) = remark {
                eprintln!("rmqctl: warning: {addr}: {remark}");
            }
            Ok(())
        },
    )
    .await
}
