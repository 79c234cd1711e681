//! Master/slave replication ("HA") as Apache RocketMQ 4.x does it, without I/O: the byte frames
//! and the two state machines. The broker's tokio shells own the sockets and the clock and feed
//! these; the slave's writes go through [`crate::store::ReplicaWriter`].
//!
//! | module | what |
//! |---|---|
//! | [`frame`] | the offset report and the transfer header, encode/decode |
//! | [`master`] | per-slave confirmed offsets, what to send next, SYNC_MASTER waiters and lag |
//! | [`slave`] | report cadence, frame acceptance, silent-master detection, reconnect backoff |
//!
//! One connection per slave, on the master's `haListenPort`, raw TCP:
//!
//! ```text
//! slave                                         master
//!   |--- report: maxOffset (8 bytes) ------------->|  first report = where to start
//!   |<-- [phyOffset 8][size 4][size bytes] --------|  raw commit log, ≤ haTransferBatchSize
//!   |--- report after each applied frame --------->|  confirms; completes SYNC_MASTER waits
//!   |<-- [phyOffset 8][0 4] every 5 s when idle ---|  heartbeat
//!   |--- report every 5 s when idle -------------->|
//! ```
//!
//! A frame never crosses one of the master's commit log files (it is read from one mapped file),
//! and the slave appends it verbatim at the same offset, so the two commit logs are
//! byte-identical; the slave's dispatch builds its own consume queues and index from them.

pub mod frame;
pub mod master;
pub mod slave;

pub use frame::{FrameError, ReportReader, TransferHeader};
pub use master::{Lag, Master, MasterConfig, Registered, ReplicaStatus, ReportError, SlaveId};
pub use slave::{Slave, SlaveAction, SlaveConfig, SlaveError};
