//! `rmq-namesrv`: runs a name server until SIGTERM or SIGINT.
//!
//! ```text
//! rmq-namesrv [-c namesrv.properties]
//! ```
//!
//! Logs go to stderr (`RUST_LOG` filters them, default `info`); the line
//! `rmq-namesrv listening on <addr>` says the server accepts requests. A config that cannot be
//! read or holds an invalid value stops the start with exit code 1 and a message naming it.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use rmq_namesrv::NamesrvConfig;
use tokio::signal::unix::{SignalKind, signal};
use tracing::info;
use tracing_subscriber::EnvFilter;

/// A RocketMQ-compatible name server.
#[derive(Debug, Parser)]
#[command(name = "rmq-namesrv", version)]
struct Args {
    /// Java properties file with the name server settings (defaults apply without it).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_unset| EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Plain stderr rather than a log event: the reason must show whatever RUST_LOG says.
            eprintln!("rmq-namesrv: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let config = match &args.config {
        Some(path) => {
            NamesrvConfig::load(path).with_context(|| format!("loading {}", path.display()))?
        }
        None => NamesrvConfig::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(async {
        // Install the handlers before serving, so an early SIGTERM is not the default "die".
        let mut terminate =
            signal(SignalKind::terminate()).context("cannot install the SIGTERM handler")?;
        let mut interrupt =
            signal(SignalKind::interrupt()).context("cannot install the SIGINT handler")?;
        let running = rmq_namesrv::start(config).await?;
        let name = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        info!("{name} received; shutting down");
        running.shutdown().await;
        Ok(())
    })
}
