//! [`Pending`]: requests sent on one connection and waiting for their responses, matched by
//! `opaque`. Shared by the [`Client`](crate::Client) (requests to servers) and the server's
//! [`ConnHandle::request`](crate::ConnHandle::request) (requests a broker sends its clients).
//!
//! A waiter is removed when its response arrives, when its caller gives up (the [`Waiter`] is
//! dropped: a timeout or a cancelled task) or when the connection closes ([`Pending::fail_all`]),
//! so the table never holds more than the requests really in flight.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rmq_protocol::RemotingCommand;
use tokio::sync::oneshot;

/// The requests of one connection that wait for a response.
#[derive(Debug, Default)]
pub struct Pending {
    waiters: Mutex<HashMap<i32, oneshot::Sender<RemotingCommand>>>,
}

/// What [`Pending::complete`] did with a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completed {
    /// A waiter took it.
    Delivered,
    /// Nobody waits for this `opaque` (its caller gave up, or the peer made it up).
    Late,
}

impl Pending {
    /// Registers a request with `opaque`; the returned [`Waiter`] resolves with its response.
    pub fn register(self: &Arc<Self>, opaque: i32) -> Waiter {
        let (tx, rx) = oneshot::channel();
        lock(&self.waiters).insert(opaque, tx);
        Waiter {
            pending: self.clone(),
            opaque,
            response: rx,
        }
    }

    /// Hands a response read from the connection to its waiter.
    pub fn complete(&self, response: RemotingCommand) -> Completed {
        let waiter = lock(&self.waiters).remove(&response.opaque);
        match waiter {
            // A waiter whose caller is gone between the remove and the send: nothing to do.
            Some(waiter) => match waiter.send(response) {
                Ok(()) => Completed::Delivered,
                Err(_) => Completed::Late,
            },
            None => Completed::Late,
        }
    }

    /// Fails every waiting request at once: the connection is gone.
    pub fn fail_all(&self) {
        lock(&self.waiters).clear();
    }

    /// Requests waiting now.
    pub fn len(&self) -> usize {
        lock(&self.waiters).len()
    }

    /// Whether no request waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One request's wait for its response; dropping it forgets the request.
#[derive(Debug)]
pub struct Waiter {
    pending: Arc<Pending>,
    opaque: i32,
    response: oneshot::Receiver<RemotingCommand>,
}

/// The connection closed before the response arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the connection closed before the response arrived")]
pub struct ConnectionClosed;

impl Waiter {
    /// The `opaque` the request must carry.
    pub fn opaque(&self) -> i32 {
        self.opaque
    }

    /// Waits for the response.
    pub async fn response(mut self) -> Result<RemotingCommand, ConnectionClosed> {
        (&mut self.response)
            .await
            .map_err(|_dropped| ConnectionClosed)
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        lock(&self.pending.waiters).remove(&self.opaque);
    }
}

/// `opaque` numbers for requests one side starts. Wraps after 2^31 requests, as Java's
/// `AtomicInteger` does; only uniqueness among requests in flight matters.
#[derive(Debug)]
pub struct Opaques(AtomicI32);

impl Default for Opaques {
    fn default() -> Opaques {
        Opaques(AtomicI32::new(1))
    }
}

impl Opaques {
    /// The next number.
    pub fn next(&self) -> i32 {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The map stays consistent even if a holder panicked: every update is one insert or remove.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use rmq_protocol::code::{RequestCode, ResponseCode};

    use super::*;

    fn response(opaque: i32) -> RemotingCommand {
        let mut request = RemotingCommand::request(RequestCode::CheckTransactionState);
        request.opaque = opaque;
        RemotingCommand::response_to(&request, ResponseCode::Success)
    }

    #[tokio::test]
    async fn a_response_reaches_the_waiter_of_its_opaque_and_no_other() {
        let pending = Arc::new(Pending::default());
        let first = pending.register(7);
        let second = pending.register(8);
        assert_eq!(pending.complete(response(8)), Completed::Delivered);
        assert_eq!(second.response().await.unwrap().opaque, 8);
        assert_eq!(pending.len(), 1);
        assert_eq!(pending.complete(response(7)), Completed::Delivered);
        assert_eq!(first.response().await.unwrap().opaque, 7);
        assert!(pending.is_empty());
    }

    #[test]
    fn a_waiter_dropped_by_its_caller_leaves_the_table_and_its_response_is_late() {
        let pending = Arc::new(Pending::default());
        drop(pending.register(3));
        assert!(pending.is_empty());
        assert_eq!(pending.complete(response(3)), Completed::Late);
    }

    #[tokio::test]
    async fn closing_the_connection_fails_every_waiter_at_once() {
        let pending = Arc::new(Pending::default());
        let waiters = [pending.register(1), pending.register(2)];
        pending.fail_all();
        for waiter in waiters {
            assert_eq!(waiter.response().await.unwrap_err(), ConnectionClosed);
        }
        assert!(pending.is_empty());
    }

    #[test]
    fn opaques_count_up_and_wrap_like_a_java_integer() {
        let opaques = Opaques(AtomicI32::new(i32::MAX));
        assert_eq!(opaques.next(), i32::MAX);
        assert_eq!(opaques.next(), i32::MIN);
    }
}
