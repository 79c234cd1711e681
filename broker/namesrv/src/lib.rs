//! A name server that speaks Apache RocketMQ's remoting protocol: brokers register their
//! addresses and topics, clients ask where topics live. Behaviour follows Apache 4.9.x's
//! `RouteInfoManager` and `DefaultRequestProcessor`; the state is rebuilt from broker
//! registrations after a restart, except the KV config, which is persisted.
//!
//! | module | what |
//! |---|---|
//! | [`config`] | [`NamesrvConfig`]: Java properties file (`listenPort`, `bindAddress`, `kvConfigPath`, ...) |
//! | [`route`] | [`RouteTable`]: clusters, broker groups, topic queues, live brokers; pure, clock injected |
//! | [`kv`] | [`KvConfigStore`]: namespace → key → value, `kvConfig.json` written atomically |
//! | [`metrics`] | Prometheus `/metrics` (`metricsExporterType=PROM`): requests by code, route table counts |
//! | [`processor`] | [`Namesrv`]: state behind locks, one module per command family, dispatch by request code |
//! | [`server`] | [`start`] / [`RunningNamesrv`]: the remoting server and the expiry scan, graceful shutdown |
//!
//! The binary `rmq-namesrv` (`src/main.rs`) reads `-c FILE`, runs [`start`] and stops on SIGTERM
//! or SIGINT.
//!
//! ```text
//!  broker ──REGISTER_BROKER every 30 s──▶ ┌──────────── Namesrv ────────────┐
//!         ──QUERY_DATA_VERSION─────────▶ │ RwLock<RouteTable>               │◀── expiry scan
//!  client ──GET_ROUTEINFO_BY_TOPIC─────▶ │ Mutex<KvConfigStore> → kvConfig  │    (every 5 s,
//!  admin  ──KV / perm / topic admin────▶ │ RwLock<NamesrvConfig>            │     120 s silence)
//!                                        └──────────────────────────────────┘
//! ```

#![forbid(unsafe_code)]

pub mod config;
pub mod kv;
pub mod metrics;
pub mod processor;
pub mod route;
pub mod server;

pub use config::{ConfigError, NamesrvConfig};
pub use kv::{KvConfigError, KvConfigStore};
pub use processor::{Namesrv, ProcessError};
pub use route::{ConnId, RegisterBrokerResult, RouteTable};
pub use server::{RunningNamesrv, StartError, start};
