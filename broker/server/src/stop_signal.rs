//! The stop signal every long-running task watches.

use tokio::sync::watch;

/// Completes when `stopping` turns true.
pub async fn stopped(mut stopping: watch::Receiver<bool>) {
    let _ = stopping.wait_for(|s| *s).await;
}
