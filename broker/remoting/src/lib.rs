//! Tokio transport for Apache RocketMQ's remoting protocol, shared by the broker, the name server
//! and the tools. The bytes are [`rmq_protocol`]'s business; this crate moves them.
//!
//! | module | what |
//! |---|---|
//! | [`connection`] | [`FrameReader`]: buffered reads of whole frames; [`write_loop`]: one writer task per socket |
//! | [`server`] | [`serve`]: accept loop with a connection limit, one task per request, graceful shutdown |
//! | [`client`] | [`Client`]: one connection per address, requests matched to responses by `opaque`, timeouts |
//! | [`pending`] | [`Pending`]: requests waiting for their answers, shared by the client and the server's [`ConnHandle::request`] |
//! | [`tls`] | TLS on remoting ports with Apache's modes (disabled, permissive, enforcing) and certificate reload; TLS for the connections we open |
//! | [`prometheus`] | sharded counters, histograms, the text format and the `/metrics` endpoint of broker and name server |
//!
//! Rules every connection follows:
//! - a frame that cannot be delimited or decoded (negative or oversized length, header longer than
//!   the frame, unknown serialize type, invalid header) closes **that** connection, because the
//!   stream cannot be trusted after it; every other connection is untouched;
//! - requests on one connection run concurrently (a Java client sends every queue's long-polling
//!   pull over one connection), bounded per connection so one peer cannot exhaust memory;
//! - a response carries its request's `opaque` and serialize type; oneway requests get no answer.

#![forbid(unsafe_code)]

pub mod client;
pub mod connection;
pub mod pending;
pub mod prometheus;
pub mod server;
pub mod tls;

pub use client::{Client, ClientConfig, InvokeError};
pub use connection::{FrameReader, ReadCommandError, write_loop};
pub use pending::{ConnectionClosed, Pending};
pub use server::{ConnHandle, Handler, SendError, ServerConfig, serve};
