//! UPDATE_NAMESRV_CONFIG (318) and GET_NAMESRV_CONFIG (319): the running configuration as Java
//! properties text in the body, both ways.
//!
//! Updates apply to the running name server: `brokerChannelExpiredTime` to later
//! registrations, `scanNotActiveBrokerInterval` from the next scan, `orderMessageEnable` at
//! once; `listenPort` and `bindAddress` are recorded but only matter at the next start. As in
//! Apache, the KV path cannot be changed this way (NO_PERMISSION). Updates are not written back
//! to the config file.

use rmq_protocol::body::properties;
use rmq_protocol::{RemotingCommand, ResponseCode};
use tracing::info;

use super::{Namesrv, ProcessError, success, write};

/// Keys an update may not touch, with Apache's answer.
const PROTECTED_KEYS: [&str; 2] = ["kvConfigPath", "configStorePath"];

/// Applies the properties of the body.
pub(super) fn update(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let text = String::from_utf8_lossy(&request.body);
    let entries = properties::parse(&text);
    if entries
        .iter()
        .any(|(key, _)| PROTECTED_KEYS.contains(&key.as_str()))
    {
        return Ok(
            RemotingCommand::response_to(request, ResponseCode::NoPermission)
                .with_remark("Can not update config path"),
        );
    }
    let updated = {
        let mut config = write(&namesrv.config);
        if let Err(error) = config.update(entries) {
            return Ok(
                RemotingCommand::response_to(request, ResponseCode::SystemError)
                    .with_remark(error.to_string()),
            );
        }
        config.clone()
    };
    namesrv
        .routes_mut()
        .set_default_timeout(updated.broker_channel_expired_time);
    info!(config = ?updated, "name server config updated");
    Ok(success(request))
}

/// The running configuration.
pub(super) fn get(
    namesrv: &Namesrv,
    request: &RemotingCommand,
) -> Result<RemotingCommand, ProcessError> {
    let config = namesrv.config().to_properties();
    let text = properties::write(config.iter().map(|(key, value)| (*key, value.as_str())));
    Ok(success(request).with_body(text))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use rmq_protocol::{RemotingCommand, RequestCode, ResponseCode};

    use crate::config::NamesrvConfig;
    use crate::processor::testing::{namesrv, register_master};

    fn update(body: &'static str) -> RemotingCommand {
        RemotingCommand::request(RequestCode::UpdateNamesrvConfig).with_body(body)
    }

    #[tokio::test]
    async fn get_answers_the_running_config_as_properties() {
        let (dir, namesrv) = namesrv();
        let response = namesrv
            .process(1, &RemotingCommand::request(RequestCode::GetNamesrvConfig))
            .await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
        let text = String::from_utf8(response.body.to_vec()).unwrap();
        assert!(text.contains("listenPort=9876\n"), "{text}");
        let parsed = NamesrvConfig::from_properties_text(&text).unwrap();
        assert_eq!(parsed.kv_config_path, dir.path().join("kvConfig.json"));
    }

    #[tokio::test]
    async fn update_applies_known_keys_and_refuses_path_changes_and_bad_values() {
        let (_dir, namesrv) = namesrv();
        let response = namesrv
            .process(
                1,
                &update("brokerChannelExpiredTime=30000\nsomethingElse=1\n"),
            )
            .await;
        assert_eq!(response.code, i32::from(ResponseCode::Success));
        assert_eq!(
            namesrv.config().broker_channel_expired_time,
            Duration::from_secs(30)
        );
        register_master(&namesrv, "broker-a", "a:1", &[]).await;
        assert_eq!(
            namesrv.routes().live_broker("a:1").unwrap().timeout,
            Duration::from_secs(30),
            "later registrations get the new expiry"
        );

        let response = namesrv
            .process(1, &update("kvConfigPath=/tmp/elsewhere.json\n"))
            .await;
        assert_eq!(response.code, i32::from(ResponseCode::NoPermission));
        assert_eq!(
            response.remark.as_deref(),
            Some("Can not update config path")
        );

        let response = namesrv
            .process(1, &update("scanNotActiveBrokerInterval=soon\n"))
            .await;
        assert_eq!(response.code, i32::from(ResponseCode::SystemError));
        assert!(
            response
                .remark
                .unwrap()
                .contains("scanNotActiveBrokerInterval")
        );
        assert_eq!(
            namesrv.config().scan_not_active_broker_interval,
            NamesrvConfig::default().scan_not_active_broker_interval
        );
    }
}
