//! The `rmq-bench` binary: parse, run on a tokio runtime, exit 1 with the cause on failure.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use rmq_bench::cli::{Cli, Command};
use rmq_bench::run::Printer;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (common, json) = match &cli.command {
        Command::Produce(args) => (&args.common, args.common.json),
        Command::Consume(args) => (&args.common, args.common.json),
    };
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = common.io_threads {
        runtime.worker_threads(usize::from(threads));
    }
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            return fail(
                json,
                &anyhow::Error::new(error).context("starting the runtime"),
            );
        }
    };
    let printer = Printer { json };
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Produce(args) => rmq_bench::produce::run(args, printer).await.map(drop),
            Command::Consume(args) => rmq_bench::consume::run(args, printer).await.map(drop),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(json, &anyhow::Error::new(error)),
    }
}

/// Prints the error with its causes (and, with `--json`, as a JSON document on stdout).
fn fail(json: bool, error: &anyhow::Error) -> ExitCode {
    let text = format!("{error:#}");
    eprintln!("rmq-bench: {text}");
    if json {
        println!("{}", serde_json::json!({ "error": text }));
    }
    ExitCode::FAILURE
}
