//! Admin client for Apache RocketMQ-compatible name servers and brokers over the remoting
//! protocol: the requests of `rmqctl`'s subcommands, and what a driver of cluster changes
//! (`rmqctl apply`, the operator) needs to observe.
//!
//! | module | what |
//! |---|---|
//! | [`client`] | the network shell: [`Admin`], one thin async function per request, each returning a decoded answer |
//! | [`change`] | what a driver of cluster changes observes: a broker's tables, what a new group lacks, messages a removed group still holds |
//! | [`error`] | [`RpcError`] (one request to one server) and [`CallNamesrvError`] (a request to whichever name server answers) |
//!
//! Requests to "the name server" ([`Admin::cluster_info`], [`Admin::topic_route`], ...) go to
//! the client's name servers in order, the next one only when a server does not answer at all;
//! every other request names the server it goes to.

#![forbid(unsafe_code)]

pub mod change;
pub mod client;
pub mod error;

pub use client::{Admin, now_millis};
pub use error::{CallNamesrvError, DecodeError, RpcError};
