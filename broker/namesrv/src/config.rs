//! [`NamesrvConfig`]: the name server's settings, read from a Java properties file like Apache's
//! `namesrv.properties` (`-c FILE`).
//!
//! | key | default | what |
//! |---|---|---|
//! | `listenPort` | 9876 | TCP port; 0 picks a free one (the start log line says which) |
//! | `bindAddress` | 0.0.0.0 | address to listen on |
//! | `kvConfigPath` | `$HOME/namesrv/kvConfig.json` | the KV config file |
//! | `scanNotActiveBrokerInterval` | 5000 | ms between scans for silent brokers |
//! | `brokerChannelExpiredTime` | 120000 | ms a broker may stay silent before it is dropped (Apache's constant; a 5.x broker's `heartbeatTimeoutMillis` overrides it for that broker) |
//! | `orderMessageEnable` | false | add the `ORDER_TOPIC_CONFIG` KV entry of a topic to its route |
//! | `metricsExporterType` | DISABLE | `PROM` serves Prometheus metrics at `/metrics` (the broker's key; Apache's name server has no exporter) |
//! | `metricsPromExporterHost` | (empty: `bindAddress`) | IP address of the metrics endpoint |
//! | `metricsPromExporterPort` | 5557 | port of the metrics endpoint; 0 picks a free one |
//! | `tls.server.mode`, `tls.server.certPath`, ... | | TLS on the port, with Apache's keys ([`rmq_remoting::tls::config`]) |
//!
//! Unknown keys are logged and skipped, as Apache skips keys without a setter. A value that does
//! not parse is an error naming the key and the value: starting with a silently defaulted port
//! or path would be worse than not starting.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rmq_protocol::body::properties;
use rmq_protocol::conf::{self, Key, ValueError};
use rmq_protocol::conf_key;
use rmq_remoting::prometheus::{Exporter, ExporterHost};
use rmq_remoting::tls::config::TlsConfig;
use tracing::warn;

/// Apache's name server port.
pub const DEFAULT_LISTEN_PORT: u16 = 9876;
/// Apache's `RouteInfoManager.BROKER_CHANNEL_EXPIRED_TIME`.
pub const DEFAULT_BROKER_CHANNEL_EXPIRED_TIME: Duration = Duration::from_secs(120);
/// Apache 5.x `NamesrvConfig.scanNotActiveBrokerInterval`.
pub const DEFAULT_SCAN_NOT_ACTIVE_BROKER_INTERVAL: Duration = Duration::from_millis(5000);

/// The keys of `namesrv.properties`.
pub const KEYS: &[Key<NamesrvConfig>] = &[
    conf_key!("listenPort": listen_port = number(0, 65535)),
    conf_key!("bindAddress": bind_address = value),
    conf_key!("kvConfigPath": kv_config_path = value),
    conf_key!("scanNotActiveBrokerInterval": scan_not_active_broker_interval = millis(1)),
    conf_key!("brokerChannelExpiredTime": broker_channel_expired_time = millis(1)),
    conf_key!("orderMessageEnable": order_message_enable = value),
    conf_key!("metricsExporterType": metrics_exporter = value),
    conf_key!("metricsPromExporterHost": metrics_prom_host = value),
    conf_key!("metricsPromExporterPort": metrics_prom_port = number(0, 65535)),
];

/// Apache 5's default `metricsPromExporterPort`.
pub const DEFAULT_METRICS_PORT: u16 = 5557;

/// The name server's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamesrvConfig {
    pub listen_port: u16,
    pub bind_address: IpAddr,
    pub kv_config_path: PathBuf,
    pub scan_not_active_broker_interval: Duration,
    pub broker_channel_expired_time: Duration,
    pub order_message_enable: bool,
    pub metrics_exporter: Exporter,
    pub metrics_prom_host: ExporterHost,
    pub metrics_prom_port: u16,
    /// The `tls.*` keys (Apache's names): TLS on the port.
    pub tls: TlsConfig,
}

/// What [`NamesrvConfig::set`] did with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The key is ours and its value was applied.
    Applied,
    /// The key is not one of ours; nothing changed.
    Unknown,
}

/// Reading the configuration failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}", path.display())]
    ReadFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Value(#[from] ValueError),
}

impl Default for NamesrvConfig {
    fn default() -> NamesrvConfig {
        NamesrvConfig {
            listen_port: DEFAULT_LISTEN_PORT,
            bind_address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            kv_config_path: default_kv_config_path(),
            scan_not_active_broker_interval: DEFAULT_SCAN_NOT_ACTIVE_BROKER_INTERVAL,
            broker_channel_expired_time: DEFAULT_BROKER_CHANNEL_EXPIRED_TIME,
            order_message_enable: false,
            metrics_exporter: Exporter::Disable,
            metrics_prom_host: ExporterHost::default(),
            metrics_prom_port: DEFAULT_METRICS_PORT,
            tls: TlsConfig::default(),
        }
    }
}

impl NamesrvConfig {
    /// Reads a properties file over the defaults.
    pub fn load(path: &Path) -> Result<NamesrvConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
            path: path.to_path_buf(),
            source,
        })?;
        NamesrvConfig::from_properties_text(&text)
    }

    /// Parses properties text over the defaults; unknown keys are logged.
    pub fn from_properties_text(text: &str) -> Result<NamesrvConfig, ConfigError> {
        let mut config = NamesrvConfig::default();
        config.update(properties::parse(text))?;
        Ok(config)
    }

    /// Applies `entries` in order, all or nothing: on the first invalid value the configuration
    /// stays as it was. Unknown keys are logged and skipped.
    pub fn update(
        &mut self,
        entries: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(), ConfigError> {
        let mut next = self.clone();
        for (key, value) in entries {
            if next.set(&key, &value)? == Setting::Unknown {
                warn!(key = %key, value = %value, "unknown config key ignored");
            }
        }
        *self = next;
        Ok(())
    }

    /// Applies one key.
    pub fn set(&mut self, key: &str, value: &str) -> Result<Setting, ConfigError> {
        let known = conf::apply(KEYS, self, key, value)?
            || conf::apply(rmq_remoting::tls::config::KEYS, &mut self.tls, key, value)?;
        Ok(if known {
            Setting::Applied
        } else {
            Setting::Unknown
        })
    }

    /// The address to bind.
    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind_address, self.listen_port)
    }

    /// Every key with its current value, as GET_NAMESRV_CONFIG answers (sorted by key).
    pub fn to_properties(&self) -> Vec<(&'static str, String)> {
        let mut shown = conf::show(KEYS, self);
        shown.extend(conf::show(rmq_remoting::tls::config::KEYS, &self.tls));
        shown.sort();
        shown
    }
}

/// `$HOME/namesrv/kvConfig.json`, as Apache's `user.home` default; `./namesrv/kvConfig.json`
/// when there is no home directory.
pub fn default_kv_config_path() -> PathBuf {
    std::env::home_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("namesrv")
        .join("kvConfig.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_gives_apache_defaults() {
        let config = NamesrvConfig::from_properties_text("# nothing\n").unwrap();
        assert_eq!(config.listen_port, 9876);
        assert_eq!(config.bind_address, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(config.broker_channel_expired_time, Duration::from_secs(120));
        assert_eq!(
            config.scan_not_active_broker_interval,
            Duration::from_millis(5000)
        );
        assert!(config.kv_config_path.ends_with("namesrv/kvConfig.json"));
        assert!(!config.order_message_enable);
    }

    #[test]
    fn every_key_is_read_from_properties_text() {
        let config = NamesrvConfig::from_properties_text(
            "listenPort = 19876\nbindAddress=127.0.0.1\nkvConfigPath=/tmp/kv/kvConfig.json\n\
             scanNotActiveBrokerInterval=100\nbrokerChannelExpiredTime=3000\norderMessageEnable=true\n",
        )
        .unwrap();
        assert_eq!(config.listen_addr(), "127.0.0.1:19876".parse().unwrap());
        assert_eq!(
            config.kv_config_path,
            PathBuf::from("/tmp/kv/kvConfig.json")
        );
        assert_eq!(
            config.scan_not_active_broker_interval,
            Duration::from_millis(100)
        );
        assert_eq!(config.broker_channel_expired_time, Duration::from_secs(3));
        assert!(config.order_message_enable);
    }

    #[test]
    fn unknown_keys_are_skipped_not_fatal() {
        let mut config = NamesrvConfig::default();
        assert_eq!(
            config.set("rocketmqHome", "/opt/rocketmq").unwrap(),
            Setting::Unknown
        );
        let parsed =
            NamesrvConfig::from_properties_text("rocketmqHome=/opt\nlistenPort=1\n").unwrap();
        assert_eq!(parsed.listen_port, 1);
    }

    #[test]
    fn an_invalid_port_names_the_key_and_the_value() {
        let error = NamesrvConfig::from_properties_text("listenPort=abc\n").unwrap_err();
        assert!(matches!(
            &error,
            ConfigError::Value(ValueError { key, value, .. }) if key == "listenPort" && value == "abc"
        ));
        let text = error.to_string();
        assert!(
            text.contains("listenPort") && text.contains("\"abc\""),
            "{text}"
        );
        assert!(NamesrvConfig::from_properties_text("listenPort=70000\n").is_err());
    }

    #[test]
    fn zero_intervals_and_non_boolean_flags_are_rejected() {
        for text in [
            "scanNotActiveBrokerInterval=0",
            "brokerChannelExpiredTime=-5",
            "orderMessageEnable=yes",
            "bindAddress=localhost",
            "kvConfigPath=",
        ] {
            assert!(
                matches!(
                    NamesrvConfig::from_properties_text(text),
                    Err(ConfigError::Value(_))
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn a_failed_update_changes_nothing() {
        let mut config = NamesrvConfig::default();
        let result = config.update([
            ("listenPort".to_owned(), "1234".to_owned()),
            ("brokerChannelExpiredTime".to_owned(), "soon".to_owned()),
        ]);
        assert!(result.is_err());
        assert_eq!(config, NamesrvConfig::default());
    }

    #[test]
    fn properties_written_read_back_to_the_same_config() {
        let config = NamesrvConfig {
            listen_port: 1,
            bind_address: "127.0.0.1".parse().unwrap(),
            kv_config_path: PathBuf::from("/data/kv.json"),
            scan_not_active_broker_interval: Duration::from_millis(7),
            broker_channel_expired_time: Duration::from_millis(8),
            order_message_enable: true,
            metrics_exporter: Exporter::Prom,
            metrics_prom_host: ExporterHost(Some(IpAddr::V4(Ipv4Addr::LOCALHOST))),
            metrics_prom_port: 9,
            tls: TlsConfig {
                server_mode: rmq_remoting::tls::TlsMode::Enforcing,
                server_cert: Some(PathBuf::from("/tls/tls.crt")),
                server_key: Some(PathBuf::from("/tls/tls.key")),
                ..TlsConfig::default()
            },
        };
        let text = properties::write(config.to_properties().iter().map(|(k, v)| (*k, v.as_str())));
        assert_eq!(NamesrvConfig::from_properties_text(&text).unwrap(), config);
    }

    #[test]
    fn a_missing_file_is_a_read_error_naming_the_path() {
        let error = NamesrvConfig::load(Path::new("/nonexistent/namesrv.properties")).unwrap_err();
        assert!(matches!(error, ConfigError::ReadFile { .. }));
        assert!(
            error
                .to_string()
                .contains("/nonexistent/namesrv.properties")
        );
    }
}
