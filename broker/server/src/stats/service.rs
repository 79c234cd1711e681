//! Samples the broker's counters once a second into its history and moves the day marks.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::state::Broker;
use crate::stop_signal::stopped;

/// Apache's sampling period (`StoreStatsService.FREQUENCY_OF_SAMPLING`).
const EVERY: Duration = Duration::from_secs(1);

/// Runs until the broker stops.
pub async fn run(broker: Arc<Broker>, stopping: watch::Receiver<bool>) {
    let stop = stopped(stopping);
    tokio::pin!(stop);
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = tick.tick() => {}
        }
        broker.sample_stats();
    }
}
