//! Optional Lease leader election, for running more than one operator replica.
//!
//! Without it, run exactly one replica (the chart's default, with a `Recreate` strategy): two
//! unelected replicas would both reconcile. With it, replicas wait on the Lease and only the
//! holder runs the controller; a holder that loses the Lease exits so that Kubernetes restarts it
//! as a standby, rather than risking two writers.

use kube::Client;
use kube_lease_manager::{LeaseManagerBuilder, LeaseManagerError};
use tokio::sync::watch;

/// Seconds a Lease stays valid after its last renewal.
pub const LEASE_DURATION_SECONDS: u64 = 15;
/// Seconds before expiry at which the holder renews.
pub const LEASE_GRACE_SECONDS: u64 = 5;

/// Where the Lease lives and who we are.
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    /// Namespace of the Lease (the operator's own).
    pub namespace: String,
    /// Name of the Lease.
    pub name: String,
    /// This replica's identity (its pod name).
    pub identity: String,
}

/// Failure of leader election.
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    /// The Lease could not be read or created.
    #[error("failed to set up the Lease {namespace}/{name}")]
    Setup {
        /// Namespace of the Lease.
        namespace: String,
        /// Name of the Lease.
        name: String,
        /// Cause.
        #[source]
        source: LeaseManagerError,
    },
    /// The election task stopped.
    #[error("leader election stopped")]
    Stopped,
}

/// A running election: [`Election::acquired`] resolves once this replica leads,
/// [`Election::lost`] once it no longer does.
pub struct Election {
    leading: watch::Receiver<bool>,
}

impl Election {
    /// Starts competing for the Lease.
    pub async fn start(client: Client, config: &LeaseConfig) -> Result<Self, LeaderError> {
        let manager = LeaseManagerBuilder::new(client, config.name.clone())
            .with_namespace(config.namespace.clone())
            .with_identity(config.identity.clone())
            .with_duration(LEASE_DURATION_SECONDS)
            .with_grace(LEASE_GRACE_SECONDS)
            .build()
            .await
            .map_err(|source| LeaderError::Setup {
                namespace: config.namespace.clone(),
                name: config.name.clone(),
                source,
            })?;
        let (leading, _task) = manager.watch().await;
        Ok(Self { leading })
    }

    /// Waits until this replica holds the Lease.
    pub async fn acquired(&mut self) -> Result<(), LeaderError> {
        self.leading
            .wait_for(|leading| *leading)
            .await
            .map(|_| ())
            .map_err(|_| LeaderError::Stopped)
    }

    /// Waits until this replica no longer holds the Lease.
    pub async fn lost(&mut self) {
        // A closed channel also means we can no longer claim to lead.
        let _ = self.leading.wait_for(|leading| !*leading).await;
    }
}
