//! The delay scheduler's task: delivery passes every 100 ms and the periodic offset persistence.

use std::sync::Arc;

use tokio::sync::watch;
use tracing::{error, info};

use super::{BackOff, TICK, deliver_due};
use crate::config::BrokerRole;
use crate::state::Broker;
use crate::stop_signal::stopped;

/// The scheduler of one broker: delivers due messages every 100 ms (masters only) and persists
/// progress every `flushDelayOffsetInterval`.
pub async fn run(broker: Arc<Broker>, stopping: watch::Receiver<bool>) {
    if broker.config.role == BrokerRole::Slave {
        return;
    }
    let stop = stopped(stopping);
    tokio::pin!(stop);
    let mut back_off = BackOff::new();
    let flush_every = broker.config.messaging.flush_delay_offset_interval;
    let mut last_flush = tokio::time::Instant::now();
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(TICK) => {}
        }
        let b = broker.clone();
        let mut bo = std::mem::take(&mut back_off);
        let pass = tokio::task::spawn_blocking(move || {
            let levels = &b.config.store.delay_levels;
            let now = b.clock.now_ms();
            let n = deliver_due(&b.store, levels, &b.messaging.delay_offsets, &mut bo, now);
            (n, bo)
        })
        .await;
        match pass {
            Ok((n, bo)) => {
                back_off = bo;
                if n > 0 {
                    info!(delivered = n, "delayed messages delivered");
                }
            }
            Err(join) => error!(error = %join, "delay delivery pass failed"),
        }
        if last_flush.elapsed() >= flush_every {
            last_flush = tokio::time::Instant::now();
            persist(&broker);
        }
    }
}

/// Writes `delayOffset.json`, logging a failure.
pub fn persist(broker: &Broker) {
    if let Err(e) = broker
        .messaging
        .delay_offsets
        .persist(&broker.config.store.config_dir())
    {
        error!(error = %e, "delayOffset.json could not be written");
    }
}
