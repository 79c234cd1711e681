//! Starts replication for a broker: the master's HA listener and tasks, or the slave's
//! connection and metadata sync.

use std::net::SocketAddr;
use std::sync::Arc;

use rmq_store::ha::SlaveConfig;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{Replication, master, slave, sync};
use crate::config::{BrokerConfig, BrokerRole};
use crate::state::Broker;

/// Binds the master's `haListenPort` on `bindAddress` (port 0: chosen by the kernel, tests).
pub async fn bind(config: &BrokerConfig) -> std::io::Result<Option<TcpListener>> {
    if config.role == BrokerRole::Slave {
        return Ok(None);
    }
    let addr = SocketAddr::new(config.bind_address, config.ha_listen_port);
    master::bind(addr).await.map(Some)
}

/// Starts the replication tasks of `broker`.
pub fn start(
    broker: &Arc<Broker>,
    listener: Option<TcpListener>,
    tls: &crate::tls::TlsSetup,
    stopping: &watch::Receiver<bool>,
    tasks: &mut JoinSet<()>,
) -> Result<(), rmq_store::error::ReplicaAppendError> {
    let store = broker.store.clone();
    match &broker.replication {
        Replication::Master(master) => {
            if let Some(listener) = listener {
                tasks.spawn(master::accept_loop(
                    master.clone(),
                    store.clone(),
                    listener,
                    tls.server.clone(),
                    stopping.clone(),
                ));
            }
            tasks.spawn(master::expire_loop(master.clone(), stopping.clone()));
            tasks.spawn(master::lag_log_loop(
                master.clone(),
                store,
                stopping.clone(),
            ));
        }
        Replication::Slave(slave) => {
            let writer = store.replica_writer()?;
            let ha = &broker.config.ha;
            tasks.spawn(slave::run(
                slave.clone(),
                writer,
                SlaveConfig {
                    heartbeat_interval: ha.heartbeat_interval,
                    housekeeping_interval: ha.housekeeping_interval,
                    ..SlaveConfig::default()
                },
                broker.config.store.commit_log_file_size as u64,
                tls.client.clone(),
                stopping.clone(),
            ));
            tasks.spawn(sync::run(broker.clone(), stopping.clone()));
        }
    }
    Ok(())
}
