//! The command line: mqadmin's subcommand names and short flags, with clap.
//!
//! `-n`, `--json` and `--timeout-ms` are global, so they go before or after the subcommand
//! (`rmqctl topicList -n ns:9876` as with mqadmin, or `rmqctl -n ns:9876 topicList`).

mod args;

use std::time::Duration;

use clap::{Parser, Subcommand};

pub use args::*;

/// Admin tool for RocketMQ-compatible name servers and brokers.
#[derive(Debug, Clone, Parser)]
#[command(name = "rmqctl", version, about, propagate_version = true)]
pub struct Cli {
    /// Name server address `host:port`; several separated by `;`
    #[arg(
        short = 'n',
        long = "namesrvAddr",
        env = "NAMESRV_ADDR",
        global = true,
        value_name = "ADDR",
        help_heading = "Global options"
    )]
    pub namesrv: Option<String>,

    /// Print one JSON document instead of a table
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,

    /// Time allowed for each request, connecting included
    #[arg(
        long = "timeout-ms",
        global = true,
        default_value_t = 5000,
        value_name = "MS",
        value_parser = clap::value_parser!(u64).range(1..=600_000),
        help_heading = "Global options"
    )]
    pub timeout_ms: u64,

    /// ACL account: every request is signed with it (brokers with aclEnable=true)
    #[arg(
        long = "access-key",
        env = "RMQ_ACCESS_KEY",
        global = true,
        value_name = "KEY",
        requires = "secret_key",
        help_heading = "Global options"
    )]
    pub access_key: Option<String>,

    /// The account's secret (better from the environment than on the command line)
    #[arg(
        long = "secret-key",
        env = "RMQ_SECRET_KEY",
        global = true,
        value_name = "SECRET",
        hide_env_values = true,
        requires = "access_key",
        help_heading = "Global options"
    )]
    pub secret_key: Option<String>,

    /// Connect over TLS (brokers and name servers with tls.server.mode permissive or enforcing)
    #[arg(long, env = "RMQ_TLS", global = true, help_heading = "Global options")]
    pub tls: bool,

    /// Check the servers' certificates against these PEM roots (implies --tls; without it any
    /// certificate is taken, as Apache's tls.client.authServer=false)
    #[arg(
        long = "tls-ca",
        env = "RMQ_TLS_CA",
        global = true,
        value_name = "PEM",
        help_heading = "Global options"
    )]
    pub tls_ca: Option<std::path::PathBuf>,

    /// A client certificate, for servers that require one (implies --tls)
    #[arg(
        long = "tls-cert",
        env = "RMQ_TLS_CERT",
        global = true,
        value_name = "PEM",
        requires = "tls_key",
        help_heading = "Global options"
    )]
    pub tls_cert: Option<std::path::PathBuf>,

    /// The client certificate's key (unencrypted PEM)
    #[arg(
        long = "tls-key",
        env = "RMQ_TLS_KEY",
        global = true,
        value_name = "PEM",
        requires = "tls_cert",
        help_heading = "Global options"
    )]
    pub tls_key: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The name server addresses of `-n`: split on `;`, trimmed, empty parts dropped.
    pub fn namesrv_addrs(&self) -> Vec<String> {
        self.namesrv
            .as_deref()
            .unwrap_or("")
            .split(';')
            .map(str::trim)
            .filter(|addr| !addr.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// The connection settings of the global options: ACL account, TLS, timeout.
    pub fn client_config(
        &self,
    ) -> Result<rmq_remoting::ClientConfig, rmq_remoting::tls::client::ClientTlsError> {
        let files = rmq_remoting::tls::client::ClientTlsFiles::from_flags(
            self.tls,
            self.tls_ca.clone(),
            self.tls_cert.clone(),
            self.tls_key.clone(),
        );
        Ok(rmq_remoting::ClientConfig {
            connect_timeout: self.timeout(),
            credentials: self.credentials(),
            tls: files
                .map(|files| rmq_remoting::tls::client::ClientTls::load(&files))
                .transpose()?,
            ..rmq_remoting::ClientConfig::default()
        })
    }

    /// The ACL account of `--access-key` and `--secret-key`, if given.
    pub fn credentials(&self) -> Option<rmq_protocol::acl::Credentials> {
        Some(rmq_protocol::acl::Credentials {
            access_key: self.access_key.clone()?,
            secret_key: self.secret_key.clone()?,
        })
    }
}

/// One admin action.
#[derive(Debug, Clone, Subcommand)]
#[command(rename_all = "camelCase")]
pub enum Command {
    /// List the brokers of every cluster, with version and TPS when the broker answers
    ClusterList(ClusterListArgs),
    /// Create or update a topic on every master of a cluster, or on one broker
    UpdateTopic(UpdateTopicArgs),
    /// Delete a topic from every master of a cluster, then from every name server
    DeleteTopic(DeleteTopicArgs),
    /// List every topic the name server knows
    TopicList,
    /// Print a topic's route as JSON
    TopicRoute(TopicArgs),
    /// Print min and max offsets of every queue of a topic
    TopicStatus(TopicArgs),
    /// Print a consumer group's offsets and lag per queue
    ConsumerProgress(ConsumerProgressArgs),
    /// Print a message by its offset message id
    QueryMsgById(QueryMsgByIdArgs),
    /// Find messages of a topic by key
    QueryMsgByKey(QueryMsgByKeyArgs),
    /// Show a message's trace (what clients with message trace on recorded about it)
    QueryMsgTraceById(QueryMsgTraceByIdArgs),
    /// List a consumer group's connections, subscriptions and consume settings
    ConsumerConnection(GroupArgs),
    /// Ask every consumer of a group for its running info: queues, subscriptions, TPS
    ConsumerStatus(ConsumerStatusArgs),
    /// Backlog, TPS and 24-hour counts of every topic and consuming group
    StatsAll(StatsAllArgs),
    /// List a producer group's connections to the brokers of a topic
    ProducerConnection(ProducerConnectionArgs),
    /// Print every runtime figure of a broker, or of every master of a cluster
    BrokerStatus(BrokerTargetArgs),
    /// Reset a consumer group's offsets on a topic to a time (consumers online take it at once)
    ResetOffsetByTime(ResetOffsetByTimeArgs),
    /// Move a consumer group's offsets on a topic to the end of each queue
    SkipAccumulatedMessage(ResetOffsetArgs),
    /// Create or change a subscription group on a broker or every master of a cluster
    UpdateSubGroup(UpdateSubGroupArgs),
    /// Delete a subscription group from a broker or every master of a cluster
    DeleteSubGroup(GroupOnBrokersArgs),
    /// Delete consume queue files that only point at deleted commit log data
    #[command(name = "cleanExpiredCQ")]
    CleanExpiredCq(BrokerTargetArgs),
    /// Change a broker setting at run time (brokers refuse, naming it, a key they cannot change)
    UpdateBrokerConfig(UpdateBrokerConfigArgs),
    /// Run a local cluster from a RocketCluster manifest (no Kubernetes needed)
    Up(UpArgs),
    /// Stop a local cluster started by `rmqctl up`
    Down(DownArgs),
    /// Bring a local cluster started by `rmqctl up --detach` to a changed manifest: ordered
    /// restarts, drained scale-in, synced scale-out
    Apply(ApplyArgs),
}

/// Longest topic name a broker accepts (`TopicValidator`).
pub const MAX_TOPIC_LEN: usize = 127;

/// Apache's topic rule: `^[%|a-zA-Z0-9_-]+$`, at most 127 characters.
pub fn parse_topic(topic: &str) -> Result<String, String> {
    let topic = topic.trim();
    if topic.is_empty() {
        return Err("the topic name is empty".to_owned());
    }
    if topic.len() > MAX_TOPIC_LEN {
        return Err(format!(
            "the topic name is {} characters long, more than {MAX_TOPIC_LEN}",
            topic.len()
        ));
    }
    if let Some(bad) = topic
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '%' | '|' | '_' | '-')))
    {
        return Err(format!(
            "{bad:?} is not allowed in a topic name (letters, digits, %, |, _ and - are)"
        ));
    }
    Ok(topic.to_owned())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use clap::error::ErrorKind;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("rmqctl").chain(args.iter().copied()))
    }

    #[test]
    fn subcommands_have_mqadmin_names() {
        for name in [
            "clusterList",
            "topicList",
            "topicRoute",
            "topicStatus",
            "updateTopic",
            "deleteTopic",
            "consumerProgress",
            "queryMsgById",
            "queryMsgByKey",
        ] {
            let error = parse(&[name, "--no-such-flag"]).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::UnknownArgument, "{name}");
        }
        assert_eq!(
            parse(&["cluster-list"]).unwrap_err().kind(),
            ErrorKind::InvalidSubcommand
        );
    }

    #[test]
    fn global_flags_go_after_the_subcommand_as_with_mqadmin() {
        let cli = parse(&[
            "topicList",
            "-n",
            "a:9876; b:9876;",
            "--json",
            "--timeout-ms",
            "250",
        ])
        .unwrap();
        assert_eq!(cli.namesrv_addrs(), ["a:9876", "b:9876"]);
        assert!(cli.json);
        assert_eq!(cli.timeout(), Duration::from_millis(250));
        let cli = parse(&["-n", "a:9876", "topicList"]).unwrap();
        assert_eq!(cli.namesrv_addrs(), ["a:9876"]);
        assert!(!cli.json);
        assert_eq!(cli.timeout(), Duration::from_secs(5));
    }

    #[test]
    fn update_topic_defaults_to_eight_queues_read_write_and_not_ordered() {
        let cli = parse(&["updateTopic", "-t", "T", "-c", "DefaultCluster"]).unwrap();
        let Command::UpdateTopic(args) = cli.command else {
            panic!("not updateTopic: {:?}", cli.command);
        };
        assert_eq!(args.topic, "T");
        assert_eq!(args.cluster.as_deref(), Some("DefaultCluster"));
        assert_eq!(args.broker, None);
        assert_eq!((args.read_queue_nums, args.write_queue_nums), (8, 8));
        assert_eq!(args.perm, 6);
        assert!(!args.order);
    }

    #[test]
    fn update_topic_takes_queue_counts_perm_and_order_values() {
        let cli = parse(&[
            "updateTopic",
            "-t",
            "T",
            "-b",
            "10.0.0.1:10911",
            "-r",
            "4",
            "-w",
            "2",
            "-p",
            "4",
            "-o",
            "true",
        ])
        .unwrap();
        let Command::UpdateTopic(args) = cli.command else {
            panic!("not updateTopic");
        };
        assert_eq!(args.broker.as_deref(), Some("10.0.0.1:10911"));
        assert_eq!(
            (args.read_queue_nums, args.write_queue_nums, args.perm),
            (4, 2, 4)
        );
        assert!(args.order);
    }

    #[test]
    fn update_topic_needs_exactly_one_of_cluster_and_broker() {
        let none = parse(&["updateTopic", "-t", "T"]).unwrap_err();
        assert_eq!(none.kind(), ErrorKind::MissingRequiredArgument);
        let both = parse(&["updateTopic", "-t", "T", "-c", "C", "-b", "b:1"]).unwrap_err();
        assert_eq!(both.kind(), ErrorKind::ArgumentConflict);
    }

    #[test]
    fn update_topic_rejects_bad_numbers_and_topic_names() {
        for args in [
            &["updateTopic", "-t", "T", "-c", "C", "-r", "0"][..],
            &["updateTopic", "-t", "T", "-c", "C", "-p", "16"],
            &["updateTopic", "-t", "bad topic", "-c", "C"],
        ] {
            assert_eq!(
                parse(args).unwrap_err().kind(),
                ErrorKind::ValueValidation,
                "{args:?}"
            );
        }
        let order = parse(&["updateTopic", "-t", "T", "-c", "C", "-o", "yes"]).unwrap_err();
        assert_eq!(order.kind(), ErrorKind::InvalidValue);
    }

    #[test]
    fn topic_names_follow_apaches_rule() {
        assert_eq!(
            parse_topic(" %RETRY%group_1|x-y ").unwrap(),
            "%RETRY%group_1|x-y"
        );
        assert!(parse_topic("").is_err());
        assert!(parse_topic("a.b").unwrap_err().contains("'.'"));
        assert!(parse_topic(&"t".repeat(128)).unwrap_err().contains("128"));
        assert!(parse_topic(&"t".repeat(127)).is_ok());
    }

    #[test]
    fn delete_topic_needs_topic_and_cluster() {
        assert_eq!(
            parse(&["deleteTopic", "-t", "T"]).unwrap_err().kind(),
            ErrorKind::MissingRequiredArgument
        );
        let cli = parse(&["deleteTopic", "-t", "T", "-c", "C"]).unwrap();
        assert!(
            matches!(cli.command, Command::DeleteTopic(DeleteTopicArgs { ref topic, ref cluster }) if topic == "T" && cluster == "C")
        );
    }

    #[test]
    fn query_msg_by_id_splits_comma_separated_ids() {
        let cli = parse(&["queryMsgById", "-i", "A,B"]).unwrap();
        let Command::QueryMsgById(args) = cli.command else {
            panic!("not queryMsgById");
        };
        assert_eq!(args.msg_ids, ["A", "B"]);
    }

    #[test]
    fn query_msg_by_key_defaults_to_all_time_and_64_messages() {
        let cli = parse(&["queryMsgByKey", "-t", "T", "-k", "order-1"]).unwrap();
        let Command::QueryMsgByKey(args) = cli.command else {
            panic!("not queryMsgByKey");
        };
        assert_eq!((args.topic.as_str(), args.key.as_str()), ("T", "order-1"));
        assert_eq!(args.begin_timestamp, 0);
        assert_eq!(args.end_timestamp, None);
        assert_eq!(args.max_num, 64);
    }

    #[test]
    fn consumer_progress_takes_a_group_and_an_optional_topic() {
        let cli = parse(&["consumerProgress", "-g", "cg", "-t", "T"]).unwrap();
        let Command::ConsumerProgress(args) = cli.command else {
            panic!("not consumerProgress");
        };
        assert_eq!(args.group, "cg");
        assert_eq!(args.topic.as_deref(), Some("T"));
        assert_eq!(
            parse(&["consumerProgress"]).unwrap_err().kind(),
            ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn up_takes_a_manifest_and_defaults_to_apaches_name_server_port_in_the_foreground() {
        let cli = parse(&["up", "-f", "deploy/examples/minimal.yaml"]).unwrap();
        let Command::Up(args) = cli.command else {
            panic!("not up");
        };
        assert_eq!(args.file, PathBuf::from("deploy/examples/minimal.yaml"));
        assert_eq!((args.dir, args.base_port, args.detach), (None, 9876, false));
        let cli = parse(&[
            "up",
            "-f",
            "m.yaml",
            "--dir",
            "/s",
            "--base-port",
            "30000",
            "--detach",
        ])
        .unwrap();
        let Command::Up(args) = cli.command else {
            panic!("not up");
        };
        assert_eq!(
            (args.dir, args.base_port, args.detach),
            (Some(PathBuf::from("/s")), 30000, true)
        );
        assert_eq!(
            parse(&["up"]).unwrap_err().kind(),
            ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            parse(&["up", "-f", "m", "--base-port", "80"])
                .unwrap_err()
                .kind(),
            ErrorKind::ValueValidation
        );
    }

    #[test]
    fn down_needs_nothing_and_purges_only_when_asked() {
        let cli = parse(&["down"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Down(DownArgs {
                dir: None,
                file: None,
                purge: false
            })
        ));
        let cli = parse(&["down", "-f", "m.yaml", "--purge"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Down(DownArgs { purge: true, .. })
        ));
    }

    #[test]
    fn the_command_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
