//! Ports for servers the tests start as child processes.
//!
//! A port taken from the kernel (`bind 127.0.0.1:0`) and released lies in the ephemeral range
//! (32768–60999 on Linux), where every outgoing connection of every test running beside this one
//! also takes its local port: between the release and the child's bind, a client elsewhere can
//! take it, and the child fails with "Address already in use". Ports handed out here lie below
//! that range, where only another listener could take them, and start at a point that differs per
//! process, so two tests probing at once rarely meet.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The range probed: below Linux's default ephemeral range, above well-known services.
const FIRST: u16 = 20_000;
const SPAN: u16 = 12_000;

/// How far into the range this process has probed.
static NEXT: AtomicU16 = AtomicU16::new(0);

/// A port below the ephemeral range that nothing listened on a moment ago. Another test's
/// listener could still take it in between, which fails that start loudly, not silently.
pub fn free_port() -> u16 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let start = ((std::process::id().wrapping_mul(7919) ^ nanos) % u32::from(SPAN)) as u16;
    for _ in 0..SPAN {
        let step = NEXT.fetch_add(1, Ordering::Relaxed) % SPAN;
        let port = FIRST + (start + step) % SPAN;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {FIRST}..{}", FIRST + SPAN);
}
