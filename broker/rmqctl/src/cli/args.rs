//! The arguments of each subcommand, with mqadmin's flag names.

use std::path::PathBuf;

use clap::{ArgAction, ArgGroup, Args};

use super::parse_topic;

/// `clusterList`.
#[derive(Debug, Clone, Args)]
pub struct ClusterListArgs {
    /// Only this cluster
    #[arg(short = 'c', long = "clusterName")]
    pub cluster: Option<String>,
}

/// A consumer or producer group.
#[derive(Debug, Clone, Args)]
pub struct GroupArgs {
    /// Group name
    #[arg(short = 'g', long = "consumerGroup")]
    pub group: String,
}

/// `consumerStatus`.
#[derive(Debug, Clone, Args)]
pub struct ConsumerStatusArgs {
    /// Consumer group
    #[arg(short = 'g', long = "consumerGroup")]
    pub group: String,
    /// Only this client, shown in full
    #[arg(short = 'i', long = "clientId")]
    pub client_id: Option<String>,
}

/// `statsAll`.
#[derive(Debug, Clone, Args)]
pub struct StatsAllArgs {
    /// Only topics with messages in or out in the last 24 hours
    #[arg(short = 'a', long = "activeTopic")]
    pub active_only: bool,
    /// Only this topic
    #[arg(short = 't', long = "topic")]
    pub topic: Option<String>,
}

/// `producerConnection`.
#[derive(Debug, Clone, Args)]
pub struct ProducerConnectionArgs {
    /// Producer group
    #[arg(short = 'g', long = "producerGroup")]
    pub group: String,
    /// A topic the group sends to (its brokers are asked)
    #[arg(short = 't', long = "topic")]
    pub topic: String,
}

/// One broker, or every master of a cluster.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("target").required(true).args(["broker", "cluster"])))]
pub struct BrokerTargetArgs {
    /// This broker only (`host:port`)
    #[arg(short = 'b', long = "brokerAddr")]
    pub broker: Option<String>,
    /// Every master of this cluster
    #[arg(short = 'c', long = "clusterName")]
    pub cluster: Option<String>,
}

/// A group's offsets on a topic.
#[derive(Debug, Clone, Args)]
pub struct ResetOffsetArgs {
    /// Consumer group
    #[arg(short = 'g', long = "group")]
    pub group: String,
    /// Topic
    #[arg(short = 't', long = "topic")]
    pub topic: String,
    /// Also move offsets forward (without it, only offsets that move back change)
    #[arg(short = 'f', long = "force", default_value_t = true, action = ArgAction::Set,
          value_name = "true|false")]
    pub force: bool,
}

/// `resetOffsetByTime`.
#[derive(Debug, Clone, Args)]
pub struct ResetOffsetByTimeArgs {
    #[command(flatten)]
    pub reset: ResetOffsetArgs,
    /// `now`, milliseconds since the epoch, or yyyy-MM-dd#HH:mm:ss:SSS (UTC)
    #[arg(short = 's', long = "timestamp")]
    pub time: String,
}

/// `updateSubGroup`, with `SubscriptionGroupConfig`'s defaults.
#[derive(Debug, Clone, Args)]
pub struct UpdateSubGroupArgs {
    /// Group name
    #[arg(short = 'g', long = "groupName")]
    pub group: String,
    #[command(flatten)]
    pub target: BrokerTargetArgs,
    /// Whether the group may consume
    #[arg(short = 's', long = "consumeEnable", default_value_t = true, action = ArgAction::Set)]
    pub consume_enable: bool,
    /// Start from the queue's minimum offset
    #[arg(short = 'm', long = "consumeFromMinEnable", default_value_t = false, action = ArgAction::Set)]
    pub consume_from_min_enable: bool,
    /// Broadcast consumption
    #[arg(short = 'd', long = "consumeBroadcastEnable", default_value_t = false, action = ArgAction::Set)]
    pub consume_broadcast_enable: bool,
    /// Retry queues
    #[arg(short = 'q', long = "retryQueueNums", default_value_t = 1)]
    pub retry_queue_nums: i32,
    /// Deliveries before the dead-letter queue
    #[arg(short = 'r', long = "retryMaxTimes", default_value_t = 16)]
    pub retry_max_times: i32,
    /// Broker id to consume from
    #[arg(short = 'i', long = "brokerId", default_value_t = 0)]
    pub broker_id: i64,
    /// Broker id to consume from when consumption is slow
    #[arg(
        short = 'w',
        long = "whichBrokerWhenConsumeSlowly",
        default_value_t = 1
    )]
    pub which_broker_when_consume_slowly: i64,
    /// Tell the group's consumers at once when members change
    #[arg(short = 'a', long = "notifyConsumerIdsChanged", default_value_t = true, action = ArgAction::Set)]
    pub notify_consumer_ids_changed_enable: bool,
}

/// A subscription group on a broker or every master of a cluster.
#[derive(Debug, Clone, Args)]
pub struct GroupOnBrokersArgs {
    /// Group name
    #[arg(short = 'g', long = "groupName")]
    pub group: String,
    #[command(flatten)]
    pub target: BrokerTargetArgs,
}

/// `updateBrokerConfig`.
#[derive(Debug, Clone, Args)]
pub struct UpdateBrokerConfigArgs {
    /// Setting name, as in broker.conf
    #[arg(short = 'k', long = "key")]
    pub key: String,
    /// New value
    #[arg(short = 'v', long = "value")]
    pub value: String,
    #[command(flatten)]
    pub target: BrokerTargetArgs,
}

/// `updateTopic`.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("target").required(true).args(["cluster", "broker"])))]
pub struct UpdateTopicArgs {
    /// Topic name
    #[arg(short = 't', long = "topic", value_parser = parse_topic)]
    pub topic: String,
    /// Create on every master of this cluster
    #[arg(short = 'c', long = "clusterName")]
    pub cluster: Option<String>,
    /// Create on this broker only (`host:port`)
    #[arg(short = 'b', long = "brokerAddr")]
    pub broker: Option<String>,
    /// Read queue count
    #[arg(short = 'r', long = "readQueueNums", default_value_t = 8, value_name = "N",
          value_parser = clap::value_parser!(i32).range(1..=65_535))]
    pub read_queue_nums: i32,
    /// Write queue count
    #[arg(short = 'w', long = "writeQueueNums", default_value_t = 8, value_name = "N",
          value_parser = clap::value_parser!(i32).range(1..=65_535))]
    pub write_queue_nums: i32,
    /// Permission bits: 2 write, 4 read, 6 read and write
    #[arg(short = 'p', long = "perm", default_value_t = 6, value_name = "BITS",
          value_parser = clap::value_parser!(i32).range(0..=15))]
    pub perm: i32,
    /// Ordered topic (also records the order config on the name servers)
    #[arg(short = 'o', long = "order", default_value_t = false, action = ArgAction::Set,
          value_name = "true|false")]
    pub order: bool,
}

/// `deleteTopic`.
#[derive(Debug, Clone, Args)]
pub struct DeleteTopicArgs {
    /// Topic name
    #[arg(short = 't', long = "topic")]
    pub topic: String,
    /// Delete from every master of this cluster
    #[arg(short = 'c', long = "clusterName")]
    pub cluster: String,
}

/// Subcommands that take only a topic.
#[derive(Debug, Clone, Args)]
pub struct TopicArgs {
    /// Topic name
    #[arg(short = 't', long = "topic")]
    pub topic: String,
}

/// `consumerProgress`.
#[derive(Debug, Clone, Args)]
pub struct ConsumerProgressArgs {
    /// Consumer group
    #[arg(short = 'g', long = "groupName")]
    pub group: String,
    /// Only this topic
    #[arg(short = 't', long = "topicName")]
    pub topic: Option<String>,
}

/// `queryMsgById`.
#[derive(Debug, Clone, Args)]
pub struct QueryMsgByIdArgs {
    /// Offset message id(s), comma-separated
    #[arg(
        short = 'i',
        long = "msgId",
        value_delimiter = ',',
        required = true,
        value_name = "ID"
    )]
    pub msg_ids: Vec<String>,
}

/// `queryMsgByKey`.
#[derive(Debug, Clone, Args)]
pub struct QueryMsgByKeyArgs {
    /// Topic name
    #[arg(short = 't', long = "topic")]
    pub topic: String,
    /// Message key
    #[arg(short = 'k', long = "msgKey")]
    pub key: String,
    /// Earliest store time, ms since the epoch
    #[arg(
        short = 'b',
        long = "beginTimestamp",
        default_value_t = 0,
        value_name = "MS"
    )]
    pub begin_timestamp: i64,
    /// Latest store time, ms since the epoch [default: now]
    #[arg(short = 'e', long = "endTimestamp", value_name = "MS")]
    pub end_timestamp: Option<i64>,
    /// Most messages each broker returns
    #[arg(short = 'm', long = "maxNum", default_value_t = 64, value_name = "N",
          value_parser = clap::value_parser!(i32).range(1..))]
    pub max_num: i32,
}

/// `queryMsgTraceById`.
#[derive(Debug, Clone, Args)]
pub struct QueryMsgTraceByIdArgs {
    /// The traced message's id (its UNIQ_KEY msgId)
    #[arg(short = 'i', long = "msgId")]
    pub msg_id: String,
    /// Trace topic
    #[arg(
        short = 't',
        long = "traceTopic",
        default_value = "RMQ_SYS_TRACE_TOPIC"
    )]
    pub trace_topic: String,
}

/// `up`.
#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    /// RocketCluster manifest, with any `kind: Secret` its spec.security names, e.g.
    /// deploy/examples/minimal.yaml or deploy/examples/local/secure.yaml
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    /// State directory: configs, stores, logs, pids.json [default: .rmq/{cluster name}]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Name servers listen on PORT, PORT+1, ...; brokers from PORT+1035 (10911 by default), 10 apart
    #[arg(long = "base-port", default_value_t = 9876, value_name = "PORT",
          value_parser = clap::value_parser!(u16).range(1024..))]
    pub base_port: u16,
    /// Return once the cluster is up and leave it running (stop it with `rmqctl down`)
    #[arg(long)]
    pub detach: bool,
}

/// `apply`.
#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// The changed RocketCluster manifest (same cluster name and spec.security as the running one)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    /// State directory given to `up` [default: .rmq/{cluster name}]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Seconds clients take to see a route change (Apache's clients poll every 30 s)
    #[arg(long = "route-refresh", default_value_t = 35, value_name = "SECONDS")]
    pub route_refresh: u64,
    /// Delete a removed group at once, even with messages its consumers have not consumed
    #[arg(long = "force-drain")]
    pub force_drain: bool,
    /// Delete a removed group with messages left once this many seconds have passed since
    /// its writes came off [default: wait for the consumers]
    #[arg(long = "drain-timeout", value_name = "SECONDS")]
    pub drain_timeout: Option<u64>,
    /// Stop after this many seconds (what is done stays done; apply again to go on)
    #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
    pub timeout: u64,
}

/// `down`.
#[derive(Debug, Clone, Args)]
pub struct DownArgs {
    /// State directory given to `up` [default: .rmq/{cluster name of -f}, or the only
    /// cluster under .rmq]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The manifest given to `up`, to find the default state directory
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Also delete the state directory: stores, logs, configs
    #[arg(long)]
    pub purge: bool,
}
