//! `rmq-operator`: runs the RocketCluster controller with metrics, health endpoints and optional
//! leader election.

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser;
use kube::Client;
use kube::runtime::events::Reporter;
use rmq_operator::controller::{self, Context};
use rmq_operator::http::{self, Health};
use rmq_operator::leader::{Election, LeaseConfig};
use rmq_operator::metrics::Metrics;
use rmq_operator::validate::Environment;
use tracing_subscriber::EnvFilter;

/// Kubernetes operator for RocketCluster resources (rocketmq.rs/v1alpha1).
#[derive(Debug, Parser)]
#[command(name = "rmq-operator", version)]
struct Args {
    /// Watch only this namespace (all namespaces when empty).
    #[arg(long, env = "WATCH_NAMESPACE", default_value = "")]
    watch_namespace: String,
    /// Address of the /metrics, /healthz and /readyz endpoint.
    #[arg(long, env = "METRICS_ADDR", default_value = "0.0.0.0:8080")]
    metrics_addr: SocketAddr,
    /// Elect a leader through a Lease, so that several replicas can run.
    #[arg(long, env = "LEADER_ELECTION", default_value_t = false)]
    leader_election: bool,
    /// Name of the Lease used for leader election.
    #[arg(long, env = "LEADER_ELECTION_LEASE", default_value = "rmq-operator")]
    leader_election_lease: String,
    /// Namespace of the Lease (the operator's own namespace).
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pod_namespace: String,
    /// This replica's identity in the Lease and in events.
    #[arg(long, env = "POD_NAME", default_value = "rmq-operator")]
    pod_name: String,
    /// DNS domain of the Kubernetes cluster, used in the brokers' stable DNS names.
    #[arg(long, env = "CLUSTER_DOMAIN", default_value = "cluster.local")]
    cluster_domain: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,kube=warn")),
        )
        .init();
    let args = Args::parse();
    let watch_namespace =
        (!args.watch_namespace.is_empty()).then_some(args.watch_namespace.as_str());
    tracing::info!(
        watch_namespace = watch_namespace.unwrap_or("<all>"),
        leader_election = args.leader_election,
        "starting rmq-operator"
    );

    let metrics = Arc::new(Metrics::default());
    let health = Arc::new(Health::default());
    let listener = tokio::net::TcpListener::bind(args.metrics_addr)
        .await
        .with_context(|| format!("binding the metrics endpoint on {}", args.metrics_addr))?;
    let server = tokio::spawn(http::serve(
        listener,
        metrics.clone(),
        health.clone(),
        std::future::pending(),
    ));

    let client = Client::try_default()
        .await
        .context("connecting to the Kubernetes API (in-cluster config or KUBECONFIG)")?;
    let reporter = Reporter {
        controller: "rmq-operator".to_owned(),
        instance: Some(args.pod_name.clone()),
    };
    let ctx = Arc::new(Context::new(
        client.clone(),
        reporter,
        metrics,
        Environment {
            cluster_domain: args.cluster_domain.clone(),
        },
        k8s_openapi::jiff::Timestamp::now,
        Arc::new(rmq_operator::controller::admin::RemotingFactory {
            timeout: rmq_operator::controller::ADMIN_TIMEOUT,
        }),
    ));

    if args.leader_election {
        let lease = LeaseConfig {
            namespace: args.pod_namespace.clone(),
            name: args.leader_election_lease.clone(),
            identity: args.pod_name.clone(),
        };
        let mut election = Election::start(client, &lease).await?;
        // A standby is healthy and ready: it is doing its job, which is waiting.
        health.set_ready(true);
        tracing::info!(lease = %lease.name, identity = %lease.identity, "waiting for leadership");
        election.acquired().await?;
        tracing::info!("acquired leadership");
        tokio::select! {
            result = controller::run::run(ctx, watch_namespace) => result?,
            () = election.lost() => {
                // Exit rather than keep reconciling next to a new leader.
                anyhow::bail!("lost leadership of Lease {}; exiting to restart as a standby", lease.name);
            }
        }
    } else {
        health.set_ready(true);
        controller::run::run(ctx, watch_namespace).await?;
    }
    server.abort();
    tracing::info!("stopped");
    Ok(())
}
