//! `updateBrokerConfig -k key -v value (-b addr | -c cluster)`: UPDATE_BROKER_CONFIG on one
//! broker or every master of a cluster. A key the broker cannot change at run time is refused
//! by the broker, with the key named, and stops the command there. A broker that applied the
//! change but could not write it to its config file (a read-only ConfigMap) says so; that is
//! a warning (stderr), and the change holds until that broker restarts.

use std::sync::Mutex;

use rmq_admin::Admin;

use super::broker_status::targets;
use super::{Applied, apply_each};
use crate::cli::UpdateBrokerConfigArgs;
use crate::error::CmdError;

/// The brokers changed, and a warning for each that could not keep the change past a restart.
pub async fn run(
    admin: &Admin,
    args: &UpdateBrokerConfigArgs,
) -> Result<(Applied, Vec<String>), CmdError> {
    let addrs = targets(admin, &args.target).await?;
    let properties = format!("{}={}\n", args.key, args.value);
    let properties = properties.as_str();
    let warnings = Mutex::new(Vec::new());
    let warnings_ref = &warnings;
    let applied = apply_each(
        format!("{}={}", args.key, args.value),
        addrs,
        |addr| async move {
            let remark = admin.update_broker_config(&addr, properties).await?;
            if let Some(remark) = remark {
                warnings_ref
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(format!("{addr}: {remark}"));
            }
            Ok(())
        },
    )
    .await?;
    let warnings = warnings
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok((applied, warnings))
}
