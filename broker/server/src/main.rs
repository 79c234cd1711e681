//! `rmq-broker -c broker.conf [--set key=value]... [--broker-ip1-file PATH]`: runs a broker
//! until SIGTERM or SIGINT, then shuts down cleanly.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use rmq_broker::BrokerConfig;
use rmq_broker::launch::{self, Poll};
use tokio::signal::unix::{Signal, SignalKind, signal};
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
    /// A broker.conf key applied after the file's, checked the same way (repeatable; the last
    /// of a key wins), e.g. `--set brokerIP1=10.0.0.7`.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = launch::parse_override)]
    set: Vec<(String, String)>,
    /// Wait until this file exists and is not empty, then advertise its content (trimmed) as
    /// brokerIP1, over the config file and --set. Not ready, and not registered, until then.
    #[arg(long = "broker-ip1-file", value_name = "PATH")]
    broker_ip1_file: Option<PathBuf>,
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
    let mut config = BrokerConfig::from_properties_with(&text, &args.set)
        .context("invalid broker configuration")?;
    config.config_file = args.config.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rmq-broker")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let mut signals = Signals::new()?;
        if let Some(path) = &args.broker_ip1_file {
            let got =
                launch::broker_ip1_from_file(&mut config, path, Poll::DEFAULT, signals.recv())
                    .await?;
            if !got {
                info!("stopped while waiting for brokerIP1");
                return Ok(());
            }
        }
        let running = rmq_broker::start(config)
            .await
            .context("broker failed to start")?;
        signals.recv().await;
        info!("shutting down");
        running.shutdown().await;
        Ok(())
    })
}

/// SIGTERM and SIGINT, listened to from start to shutdown.
struct Signals {
    term: Signal,
    int: Signal,
}

impl Signals {
    fn new() -> anyhow::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
        })
    }

    /// Completes at the next SIGTERM or SIGINT.
    async fn recv(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}
