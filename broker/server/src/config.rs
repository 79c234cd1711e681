//! `broker.conf`: Apache's keys, read from a Java properties file into a validated [`BrokerConfig`].
//!
//! Keys the broker does not own are offered to the store ([`StoreConfig::apply`]); keys neither
//! knows are logged and ignored, as Apache ignores them. A value that does not parse is a startup
//! error naming the key.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use rmq_protocol::body::perm;
use rmq_protocol::conf::{self, Key, Value, ValueError};
use rmq_protocol::conf_key;
use rmq_store::StoreConfig;

use crate::ha::config::HaConfig;

/// Where metrics go (`metricsExporterType`, Apache 5's key).
pub use rmq_remoting::prometheus::Exporter as MetricsExporter;
use rmq_remoting::prometheus::ExporterHost;

/// The replication role (`brokerRole`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerRole {
    AsyncMaster,
    SyncMaster,
    Slave,
}

impl BrokerRole {
    /// The name Apache writes.
    pub fn name(self) -> &'static str {
        match self {
            BrokerRole::AsyncMaster => "ASYNC_MASTER",
            BrokerRole::SyncMaster => "SYNC_MASTER",
            BrokerRole::Slave => "SLAVE",
        }
    }
}

/// A validated broker configuration.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    pub cluster_name: String,
    pub broker_name: String,
    pub broker_id: i64,
    /// Name servers at start, from `namesrvAddr` (`;`-separated `host:port`) or the
    /// `NAMESRV_ADDR` environment. UPDATE_BROKER_CONFIG may change the list: after start read
    /// [`crate::live_config::LiveConfig::namesrv_addrs`], not this.
    pub namesrv_addrs: Vec<String>,
    /// The host advertised to name servers and clients (an IP or a DNS name).
    pub broker_ip1: String,
    /// The host slaves reach this broker's HA port at (`brokerIP2`, registered as
    /// `haServerAddr`); empty: `brokerIP1`, as in Apache. Apart from `brokerIP1` when clients
    /// reach the broker through an address its slaves cannot use (a node port, a load balancer).
    pub broker_ip2: String,
    pub listen_port: u16,
    /// Address the listeners bind (`bindAddress`; Apache binds every interface).
    pub bind_address: IpAddr,
    /// Also serve `listenPort - 2`, the "VIP channel" older Java clients send to.
    pub fast_listen_enable: bool,
    pub ha_listen_port: u16,
    pub role: BrokerRole,
    pub auto_create_topic_enable: bool,
    pub auto_create_subscription_group: bool,
    pub default_topic_queue_nums: i32,
    pub broker_permission: i32,
    pub long_polling_enable: bool,
    pub short_polling_time: Duration,
    pub flush_consumer_offset_interval: Duration,
    pub register_name_server_period: Duration,
    pub register_broker_timeout: Duration,
    pub channel_expired_timeout: Duration,
    pub region_id: String,
    pub trace_on: bool,
    /// `aclEnable`: requests are checked against `plain_acl.yml`.
    pub acl_enable: bool,
    /// `rocketmqHome`: where `conf/plain_acl.yml` is; empty: the `ROCKETMQ_HOME` variable.
    pub rocketmq_home: String,
    /// Whether replies (SEND_REPLY_MESSAGE) are stored as well as pushed to the requester.
    pub store_reply_message_enable: bool,
    pub max_pull_batch: usize,
    pub metrics_exporter: MetricsExporter,
    /// Host the Prometheus endpoint binds; empty: `bindAddress`.
    pub metrics_prom_host: ExporterHost,
    pub metrics_prom_port: u16,
    /// `healthListenPort`: `/livez` and `/readyz` over HTTP ([`crate::health`]); 0: off.
    pub health_listen_port: u16,
    /// Topics with their own metric series; later ones count under `topic="_other"`.
    pub metrics_max_topics: usize,
    /// `useTLS`: the broker's own connections (name servers, the master) use TLS; unset:
    /// `tls.enable`, or on when the broker's ports enforce TLS (Apache's default).
    pub use_tls: Option<bool>,
    /// `innerClientAuthenticationCredentials` (Apache 5's key, JSON `{"accessKey": ..,
    /// "secretKey": ..}`): the account the broker signs its own requests with, for name
    /// servers and a master with ACL on.
    pub inner_credentials: Option<rmq_protocol::acl::Credentials>,
    /// The `tls.*` keys.
    pub tls: rmq_remoting::tls::config::TlsConfig,
    /// Retry/DLQ, transactions, ordered consumption, SQL92 and trace keys.
    pub messaging: crate::messaging::MessagingConfig,
    /// Replication keys (`haMasterAddress`, `slaveTimeout`, ...).
    pub ha: HaConfig,
    /// Everything the store owns (paths, flush mode, sizes, retention).
    pub store: StoreConfig,
    /// Keys that neither the broker nor the store knows (logged at startup).
    pub unknown_keys: Vec<String>,
    /// The file this configuration was read from (`-c`), where UPDATE_BROKER_CONFIG writes its
    /// changes back; not a key.
    pub config_file: Option<PathBuf>,
}

impl BrokerConfig {
    /// Apache's defaults, with the store under `$HOME/store`.
    pub fn new() -> BrokerConfig {
        let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
        BrokerConfig {
            cluster_name: "DefaultCluster".into(),
            broker_name: "broker-a".into(),
            broker_id: 0,
            namesrv_addrs: Vec::new(),
            broker_ip1: "127.0.0.1".into(),
            broker_ip2: String::new(),
            listen_port: 10911,
            bind_address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            fast_listen_enable: true,
            ha_listen_port: 10912,
            role: BrokerRole::AsyncMaster,
            auto_create_topic_enable: true,
            auto_create_subscription_group: true,
            default_topic_queue_nums: 8,
            broker_permission: perm::READ | perm::WRITE,
            long_polling_enable: true,
            short_polling_time: Duration::from_millis(1000),
            flush_consumer_offset_interval: Duration::from_millis(5000),
            register_name_server_period: Duration::from_millis(30_000),
            register_broker_timeout: Duration::from_millis(6000),
            channel_expired_timeout: Duration::from_millis(120_000),
            region_id: "DefaultRegion".into(),
            trace_on: true,
            acl_enable: false,
            rocketmq_home: String::new(),
            store_reply_message_enable: true,
            max_pull_batch: 32,
            metrics_exporter: MetricsExporter::Disable,
            metrics_prom_host: ExporterHost::default(),
            metrics_prom_port: 5557,
            health_listen_port: 0,
            metrics_max_topics: 1000,
            use_tls: None,
            inner_credentials: None,
            tls: rmq_remoting::tls::config::TlsConfig::default(),
            messaging: crate::messaging::MessagingConfig::default(),
            ha: HaConfig::default(),
            store: StoreConfig::new(home.join("store")),
            unknown_keys: Vec::new(),
            config_file: None,
        }
    }

    /// Reads properties text: defaults, then every entry in order.
    pub fn from_properties(text: &str) -> Result<BrokerConfig, ConfigError> {
        BrokerConfig::from_properties_with(text, &[])
    }

    /// Reads properties text, then `overrides` (`rmq-broker --set`) as if they followed the
    /// file's last line: the same keys, parsing and checks, a later entry winning.
    pub fn from_properties_with(
        text: &str,
        overrides: &[(String, String)],
    ) -> Result<BrokerConfig, ConfigError> {
        let mut config = BrokerConfig::new();
        let mut ha_port_set = false;
        let entries = rmq_protocol::body::properties::parse(text)
            .into_iter()
            .chain(overrides.iter().cloned());
        for (key, value) in entries {
            ha_port_set |= key == "haListenPort";
            config.apply(&key, &value)?;
        }
        if !ha_port_set {
            config.ha_listen_port = config.listen_port.saturating_add(1);
        }
        if config.namesrv_addrs.is_empty()
            && let Ok(env) = std::env::var("NAMESRV_ADDR")
        {
            config.namesrv_addrs = parse_addrs(&env).map_err(|expected| ValueError {
                key: "NAMESRV_ADDR".to_owned(),
                value: env.clone(),
                expected,
            })?;
        }
        if config.inner_credentials.is_none() {
            config.inner_credentials = inner_credentials_from(|name| std::env::var(name).ok());
        }
        config.validate()?;
        Ok(config)
    }

    /// Applies one key: the broker's own, then the messaging, replication and store keys.
    /// Unknown keys are remembered, not rejected.
    pub fn apply(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let known = conf::apply(KEYS, self, key, value)?
            || conf::apply(crate::messaging::KEYS, &mut self.messaging, key, value)?
            || conf::apply(crate::ha::config::KEYS, &mut self.ha, key, value)?
            || conf::apply(rmq_remoting::tls::config::KEYS, &mut self.tls, key, value)?
            || conf::apply(rmq_store::config::KEYS, &mut self.store, key, value)?;
        if !known && !IGNORED_KEYS.contains(&key) {
            self.unknown_keys.push(key.to_owned());
        }
        Ok(())
    }

    /// Every key of every section with its current value, as GET_BROKER_CONFIG answers.
    pub fn shown(&self) -> Vec<(&'static str, String)> {
        let mut shown = conf::show(KEYS, self);
        shown.extend(conf::show(crate::messaging::KEYS, &self.messaging));
        shown.extend(conf::show(crate::ha::config::KEYS, &self.ha));
        shown.extend(conf::show(rmq_remoting::tls::config::KEYS, &self.tls));
        shown.extend(conf::show(rmq_store::config::KEYS, &self.store));
        shown
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.role == BrokerRole::Slave && self.broker_id == 0 {
            return Err(ConfigError::Inconsistent(
                "brokerRole=SLAVE needs a brokerId greater than 0".into(),
            ));
        }
        if self.role != BrokerRole::Slave && self.broker_id != 0 {
            return Err(ConfigError::Inconsistent(format!(
                "brokerRole={} needs brokerId=0, not {}",
                self.role.name(),
                self.broker_id
            )));
        }
        if let Some(name) = self.broker_name.chars().find(|c| !valid_name_char(*c)) {
            return Err(ConfigError::Inconsistent(format!(
                "brokerName {:?} contains {name:?}; allowed are letters, digits, '-', '_' and '.'",
                self.broker_name
            )));
        }
        Ok(())
    }

    /// `brokerIP1:listenPort`, the address registered with name servers.
    pub fn broker_addr(&self) -> String {
        format!("{}:{}", self.broker_ip1, self.listen_port)
    }

    /// `brokerIP2:haListenPort` (`brokerIP1` when `brokerIP2` is not set), what slaves
    /// replicate from.
    pub fn ha_server_addr(&self) -> String {
        let host = if self.broker_ip2.is_empty() {
            &self.broker_ip1
        } else {
            &self.broker_ip2
        };
        format!("{host}:{}", self.ha_listen_port)
    }

    /// Whether this broker accepts sends (master with the write permission bit).
    pub fn is_writeable(&self) -> bool {
        perm::is_writeable(self.broker_permission) && self.role != BrokerRole::Slave
    }
}

impl Default for BrokerConfig {
    fn default() -> BrokerConfig {
        BrokerConfig::new()
    }
}

/// Keys Apache accepts that have no effect here (features not built, JVM tuning).
const IGNORED_KEYS: &[&str] = &[
    "sendMessageThreadPoolNums",
    "pullMessageThreadPoolNums",
    "useReentrantLockWhenPutMessage",
    "transientStorePoolEnable",
    "waitTimeMillsInSendQueue",
    "osPageCacheBusyTimeOutMills",
    "isEnableBatchPush",
];

/// The configuration is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Value(#[from] ValueError),
    #[error("{0}")]
    Inconsistent(String),
}

/// The broker's own keys of `broker.conf` (the messaging, replication and store keys are in
/// their sections' tables).
pub const KEYS: &[Key<BrokerConfig>] = &[
    conf_key!("brokerClusterName": cluster_name = value),
    conf_key!("brokerName": broker_name = value),
    conf_key!("brokerId": broker_id = number(0, i64::MAX)),
    conf_key!("namesrvAddr": namesrv_addrs = with(parse_addrs, |a: &Vec<String>| a.join(";"))),
    conf_key!("brokerIP1": broker_ip1 = value),
    conf_key!("brokerIP2": broker_ip2 = with(|v: &str| Ok(v.to_owned()), String::clone)),
    // 0 lets the kernel choose (tests); the chosen port is then advertised.
    conf_key!("listenPort": listen_port = number(0, 65535)),
    conf_key!("haListenPort": ha_listen_port = number(1, 65535)),
    conf_key!("bindAddress": bind_address = value),
    conf_key!("fastListenEnable": fast_listen_enable = value),
    conf_key!("brokerRole": role = value),
    conf_key!("autoCreateTopicEnable": auto_create_topic_enable = value),
    conf_key!("autoCreateSubscriptionGroup": auto_create_subscription_group = value),
    conf_key!("defaultTopicQueueNums": default_topic_queue_nums = number(1, 1024)),
    conf_key!("brokerPermission": broker_permission = number(0, 15)),
    conf_key!("longPollingEnable": long_polling_enable = value),
    conf_key!("shortPollingTimeMills": short_polling_time = millis(0)),
    conf_key!("flushConsumerOffsetInterval": flush_consumer_offset_interval = millis(0)),
    // Apache clamps the period to [10 s, 60 s]; tests may go lower.
    conf_key!("registerNameServerPeriod": register_name_server_period = millis(0)),
    conf_key!("registerBrokerTimeoutMills": register_broker_timeout = millis(0)),
    conf_key!("channelExpiredTimeout": channel_expired_timeout = millis(0)),
    conf_key!("regionId": region_id = value),
    conf_key!("traceOn": trace_on = value),
    conf_key!("aclEnable": acl_enable = value),
    conf_key!("rocketmqHome": rocketmq_home = with(|v: &str| Ok(v.trim().to_owned()), String::clone)),
    conf_key!("storeReplyMessageEnable": store_reply_message_enable = value),
    conf_key!("maxPullBatch": max_pull_batch = number(1, 100_000)),
    conf_key!("metricsExporterType": metrics_exporter = value),
    conf_key!("metricsPromExporterHost": metrics_prom_host = value),
    // 0 lets the kernel choose (tests).
    conf_key!("metricsPromExporterPort": metrics_prom_port = number(0, 65535)),
    conf_key!("metricsMaxTopics": metrics_max_topics = number(1, 1_000_000)),
    conf_key!("healthListenPort": health_listen_port = number(0, 65535)),
    conf_key!("useTLS": use_tls = with(|v: &str| bool_value(v).map(Some), |v: &Option<bool>| v.map(|b| b.to_string()).unwrap_or_default())),
    conf_key!("innerClientAuthenticationCredentials": inner_credentials = with(credentials, |c: &Option<rmq_protocol::acl::Credentials>| c.as_ref().map(|c| format!("{{\"accessKey\":\"{}\",\"secretKey\":\"<hidden>\"}}", c.access_key)).unwrap_or_default())),
];

fn bool_value(text: &str) -> Result<bool, &'static str> {
    <bool as Value>::parse_value(text).ok_or(<bool as Value>::EXPECTED)
}

/// The broker's own account from `ROCKETMQ_INNER_ACCESS_KEY` and `ROCKETMQ_INNER_SECRET_KEY`
/// (both set and not empty), so a Secret can hold it instead of `broker.conf`.
fn inner_credentials_from(
    env: impl Fn(&str) -> Option<String>,
) -> Option<rmq_protocol::acl::Credentials> {
    let access_key = env("ROCKETMQ_INNER_ACCESS_KEY").filter(|v| !v.is_empty())?;
    let secret_key = env("ROCKETMQ_INNER_SECRET_KEY").filter(|v| !v.is_empty())?;
    Some(rmq_protocol::acl::Credentials {
        access_key,
        secret_key,
    })
}

/// `{"accessKey":"..","secretKey":".."}`; empty: none.
fn credentials(text: &str) -> Result<Option<rmq_protocol::acl::Credentials>, &'static str> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Json {
        access_key: String,
        secret_key: String,
    }
    if text.is_empty() {
        return Ok(None);
    }
    let json: Json = serde_json::from_str(text)
        .map_err(|_| "JSON {\"accessKey\": \"..\", \"secretKey\": \"..\"}")?;
    Ok(Some(rmq_protocol::acl::Credentials {
        access_key: json.access_key,
        secret_key: json.secret_key,
    }))
}

impl Value for BrokerRole {
    const EXPECTED: &'static str = "ASYNC_MASTER, SYNC_MASTER or SLAVE";
    fn parse_value(text: &str) -> Option<BrokerRole> {
        [
            BrokerRole::AsyncMaster,
            BrokerRole::SyncMaster,
            BrokerRole::Slave,
        ]
        .into_iter()
        .find(|role| role.name() == text)
    }
    fn write_value(&self) -> String {
        self.name().to_owned()
    }
}

/// `namesrvAddr`: `host:port` entries separated by `;`; blanks around and between separators are
/// dropped (`a:9876;` is one name server). Empty reads as no name server, which a broker may
/// start with (UPDATE_BROKER_CONFIG refuses it: see `decide::config_update`).
pub fn parse_addrs(v: &str) -> Result<Vec<String>, &'static str> {
    let addrs: Vec<String> = v
        .split(';')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    if addrs.iter().all(|a| is_host_port(a)) {
        Ok(addrs)
    } else {
        Err("name servers as host:port, several separated by ';'")
    }
}

/// `host:port` with a port in 1..=65535, split at the last `:` as Apache's
/// `RemotingHelper.string2SocketAddress` does (so `[::1]:9876` is one).
fn is_host_port(addr: &str) -> bool {
    addr.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty()
            && !host.contains(char::is_whitespace)
            && port.parse::<u16>().is_ok_and(|p| p > 0)
    })
}

fn valid_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_store::FlushDiskType;

    #[test]
    fn the_brokers_own_account_comes_from_apaches_json_key_or_two_variables_and_is_never_shown() {
        let config = BrokerConfig::from_properties(
            "innerClientAuthenticationCredentials={\"accessKey\":\"inner01\",\"secretKey\":\"s3cr3t-key\"}\n",
        )
        .unwrap();
        let keys = config.inner_credentials.clone().unwrap();
        assert_eq!(
            (keys.access_key.as_str(), keys.secret_key.as_str()),
            ("inner01", "s3cr3t-key")
        );
        let shown = config.shown();
        assert!(
            shown.iter().all(|(_, v)| !v.contains("s3cr3t")),
            "{shown:?}"
        );
        assert!(
            BrokerConfig::from_properties("innerClientAuthenticationCredentials=inner01:x\n")
                .is_err()
        );

        let env = |name: &str| match name {
            "ROCKETMQ_INNER_ACCESS_KEY" => Some("inner02".to_owned()),
            "ROCKETMQ_INNER_SECRET_KEY" => Some("from-a-secret".to_owned()),
            _ => None,
        };
        let from_env = inner_credentials_from(env).unwrap();
        assert_eq!(from_env.access_key, "inner02");
        assert!(
            inner_credentials_from(|name| env(name).filter(|_| name.contains("ACCESS"))).is_none()
        );
    }

    #[test]
    fn apache_broker_conf_sets_broker_and_store_keys_and_derives_the_ha_port() {
        let config = BrokerConfig::from_properties(
            "brokerClusterName=c1\nbrokerName=broker-b\nbrokerId=0\nnamesrvAddr=n1:9876;n2:9876\n\
             brokerIP1=rmq-b-0.rmq-b.ns.svc\nlistenPort=20911\nbrokerRole=SYNC_MASTER\n\
             flushDiskType=SYNC_FLUSH\nstorePathRootDir=/data/store\ndeleteWhen=04\n",
        )
        .unwrap();
        assert_eq!(config.cluster_name, "c1");
        assert_eq!(config.namesrv_addrs, ["n1:9876", "n2:9876"]);
        assert_eq!(config.broker_addr(), "rmq-b-0.rmq-b.ns.svc:20911");
        assert_eq!(config.ha_server_addr(), "rmq-b-0.rmq-b.ns.svc:20912");
        assert_eq!(config.role, BrokerRole::SyncMaster);
        assert_eq!(config.store.flush_disk_type, FlushDiskType::SyncFlush);
        assert_eq!(config.store.root_dir, PathBuf::from("/data/store"));
    }

    #[test]
    fn a_name_server_list_is_host_port_entries_with_blanks_between_separators_dropped() {
        assert_eq!(
            parse_addrs(" n1:9876 ; ;[::1]:9876;"),
            Ok(vec!["n1:9876".to_owned(), "[::1]:9876".to_owned()])
        );
        assert_eq!(parse_addrs(""), Ok(Vec::new()), "no name server at all");
        for bad in [
            "n1",
            "n1:",
            "n1:0",
            "n1:65536",
            ":9876",
            "n 1:9876",
            "n1:9876;n2",
        ] {
            assert!(parse_addrs(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slaves_replicate_from_broker_ip2_when_it_is_set_and_from_broker_ip1_otherwise() {
        let one = BrokerConfig::from_properties("brokerIP1=10.0.0.7\nlistenPort=30002\n").unwrap();
        assert_eq!(one.ha_server_addr(), "10.0.0.7:30003");
        let two = BrokerConfig::from_properties(
            "brokerIP1=10.0.0.7\nlistenPort=30002\nbrokerIP2=b-0.b.ns.svc\nhaListenPort=10912\n",
        )
        .unwrap();
        assert_eq!(two.broker_addr(), "10.0.0.7:30002");
        assert_eq!(two.ha_server_addr(), "b-0.b.ns.svc:10912");
        assert!(two.unknown_keys.is_empty());
    }

    #[test]
    fn overrides_follow_the_file_with_the_same_checks() {
        let file = "brokerIP1=b-0.b.ns.svc\nlistenPort=30002\n";
        let set = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let config =
            BrokerConfig::from_properties_with(file, &[set("brokerIP1", "10.0.0.7")]).unwrap();
        assert_eq!(config.broker_addr(), "10.0.0.7:30002");
        assert_eq!(config.ha_listen_port, 30003, "derived after the overrides");
        let moved =
            BrokerConfig::from_properties_with(file, &[set("listenPort", "30004")]).unwrap();
        assert_eq!(moved.ha_listen_port, 30005);
        let bad = BrokerConfig::from_properties_with(file, &[set("listenPort", "x")]).unwrap_err();
        assert!(bad.to_string().contains("listenPort"), "{bad}");
        let slave = BrokerConfig::from_properties_with(file, &[set("brokerRole", "SLAVE")]);
        assert!(
            slave.is_err(),
            "checked as a whole once the overrides are in"
        );
    }

    #[test]
    fn unknown_keys_are_collected_not_fatal() {
        let config = BrokerConfig::from_properties("someFutureKey=1\nrocketmqHome=/opt\n").unwrap();
        assert_eq!(config.unknown_keys, ["someFutureKey"]);
    }

    #[test]
    fn invalid_values_name_the_key() {
        for (text, key) in [
            ("listenPort=abc", "listenPort"),
            ("brokerRole=LEADER", "brokerRole"),
            ("flushDiskType=SOMETIMES", "flushDiskType"),
            ("autoCreateTopicEnable=yes", "autoCreateTopicEnable"),
            ("bindAddress=localhost", "bindAddress"),
            ("namesrvAddr=n1:9876;n2", "namesrvAddr"),
            ("namesrvAddr=n1:port", "namesrvAddr"),
            ("namesrvAddr=:9876", "namesrvAddr"),
        ] {
            let err = BrokerConfig::from_properties(text).unwrap_err().to_string();
            assert!(err.contains(key), "{err}");
        }
    }

    #[test]
    fn slave_with_broker_id_zero_is_rejected() {
        let err = BrokerConfig::from_properties("brokerRole=SLAVE\nbrokerId=0\n").unwrap_err();
        assert!(err.to_string().contains("brokerId"));
        assert!(BrokerConfig::from_properties("brokerRole=SLAVE\nbrokerId=1\n").is_ok());
    }
}
