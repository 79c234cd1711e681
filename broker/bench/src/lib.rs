//! `rmq-bench`: an end-to-end load generator for RocketMQ-compatible clusters, speaking the
//! remoting protocol through a name server, in the spirit of Apache's `benchmark/producer.sh` and
//! `consumer.sh` but with latency histograms in microseconds.
//!
//! | module | what |
//! |---|---|
//! | [`cli`] | clap command line, `--duration` parsing, checks clap cannot express |
//! | [`message`] | stamped bodies (send time in µs), Java-like properties, send and batch requests |
//! | [`stats`] | pure counting: windows, histograms, rates, percentiles, text and JSON reports |
//! | [`route`] | routes from the name server, topic creation, broker reachability probe |
//! | [`run`] | the stop condition, output, the progress reporter shared by both subcommands |
//! | [`produce`] | sync / async / oneway / batch senders |
//! | [`consume`] | long-polling pull loops and produce→consume latency |
//! | [`error`] | [`BenchError`](error::BenchError): what stopped a run, naming the address |
//!
//! A run resolves its queues, probes every broker, then loads them until `--duration` or
//! `--count`; it prints a progress line per `--interval` and a summary (or one JSON document).
//! Memory is bounded by the load shape: at most `--threads`/`--inflight` requests (or one pull
//! per queue) are in flight, and the histograms have a fixed size.

#![forbid(unsafe_code)]

pub mod cli;
pub mod consume;
pub mod error;
pub mod message;
pub mod produce;
pub mod route;
pub mod run;
pub mod stats;
