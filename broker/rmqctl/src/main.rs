//! The `rmqctl` binary: parse flags (clap exits 2 on a bad one), run, print.
//! Failures go to stderr with their causes and exit 1.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use rmqctl::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("rmqctl: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let output = runtime.block_on(rmqctl::run(cli))?;
    for warning in &output.warnings {
        eprintln!("rmqctl: warning: {warning}");
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(output.stdout.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // `rmqctl topicList | head` closes the pipe early; that is not a failure.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
