//! `rmq-broker -c broker.conf`: runs a broker until SIGTERM or SIGINT, then shuts down cleanly.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use rmq_broker::BrokerConfig;
use tracing::{error, info};

/// See the workspace Cargo.toml: glibc malloc was a fifth of the broker's CPU under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A RocketMQ-compatible broker.
#[derive(Debug, Parser)]
#[command(name = "rmq-broker", version)]
struct Args {
    /// Apache-style broker.conf (Java properties).
    #[arg(short = 'c', long = "config")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            error!("{error:#}");
            eprintln!("rmq-broker: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let text = match &args.config {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?,
        None => String::new(),
    };
    let mut config =
        BrokerConfig::from_properties(&text).context("invalid broker configuration")?;
    config.config_file = args.config.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rmq-broker")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let running = rmq_broker::start(config)
            .await
            .context("broker failed to start")?;
        wait_for_signal().await?;
        info!("shutting down");
        running.shutdown().await;
        Ok(())
    })
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}
