//! The RocketMQ-compatible broker: Apache's remoting requests served over [`rmq_store`].
//!
//! | module | what |
//! |---|---|
//! | [`config`] | `broker.conf` keys into a validated [`BrokerConfig`] |
//! | [`launch`] | what the command line adds: `--set` overrides, waiting for `brokerIP1` in a file |
//! | [`durable_file`] | replacing a small file crash-safely (temp, fsync, rename, directory fsync) |
//! | [`state`] | [`Broker`]: the state processors and services share (imports no service) |
//! | [`startup`] | [`start`] / [`RunningBroker::shutdown`], the connection handler, periodic services |
//! | [`stop_signal`] | the stop signal every task watches |
//! | [`clock`] | the broker's wall clock, set by hand in tests |
//! | [`processor`] | one module per request family and the dispatch by code |
//! | [`notify`] | requests the broker sends to clients (NOTIFY_CONSUMER_IDS_CHANGED) |
//! | [`topics`] | topic table: system topics, auto-creation, names Apache accepts |
//! | [`groups`] | subscription groups |
//! | [`live_config`] | the `broker.conf` keys UPDATE_BROKER_CONFIG changes at run time, and the config file rewrite |
//! | [`offsets`] | committed consumer offsets |
//! | [`acl`] | plain ACL: `plain_acl.yml` accounts and permissions |
//! | [`tls`] | TLS of the broker's ports and of the connections it opens |
//! | [`clients`] | producer and consumer groups from heartbeats (pure) |
//! | [`long_poll`] | suspended pulls woken by message arrival |
//! | [`filter`] | tag subscription expressions |
//! | [`route`] | where a message is stored: every placement rule (DLQ, half, commit, delay, due, send-back), pure |
//! | [`register`] | registration with name servers |
//! | [`messaging`] | settings and shared state of retry/DLQ, delays, transactions, locks, SQL92, trace |
//! | [`schedule`] | delay levels: SCHEDULE_TOPIC_XXXX and the delivery service |
//! | [`transaction`] | half messages, op records and the check-back service |
//! | [`rebalance_lock`] | queue locks of orderly consumers |
//! | [`sql_filter`] | SQL92 property filters |
//! | [`props`] | editing stored property strings |
//! | [`metrics`] | Prometheus `/metrics` with Apache 5's metric names (`metricsExporterType=PROM`) |
//! | [`stats`] | traffic totals, per-second samples and the 10 s / 1 min / 10 min rates runtime info reports |
//! | [`health`] | `/livez` and `/readyz` (`healthListenPort`): registered, and a slave replicating |
//! | [`ha`] | master/slave replication: HA listener and client, SYNC_MASTER waits, metadata sync |

#![forbid(unsafe_code)]

pub mod acl;
pub mod clients;
pub mod clock;
pub mod config;
pub mod durable_file;
pub mod filter;
pub mod groups;
pub mod ha;
pub mod health;
pub mod launch;
pub mod live_config;
pub mod long_poll;
pub mod messaging;
pub mod metrics;
pub mod notify;
pub mod offsets;
pub mod processor;
pub mod props;
pub mod rebalance_lock;
pub mod register;
pub mod route;
pub mod schedule;
pub mod sql_filter;
pub mod startup;
pub mod state;
pub mod stats;
pub mod stop_signal;
pub mod tls;
pub mod topics;
pub mod transaction;

pub use config::{BrokerConfig, BrokerRole, ConfigError, MetricsExporter};
pub use startup::{RunningBroker, StartError, start, start_with_clock};
pub use state::Broker;
