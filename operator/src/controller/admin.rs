//! The operator's view of a running cluster through RocketMQ's own admin API: what the change
//! planner needs to drain a group being removed and to give a new group the cluster's topics.
//!
//! A trait, so that reconcile tests run against a scripted cluster; [`Remoting`] is the real
//! one, over the remoting protocol to the pods' cluster DNS names.

use futures::future::BoxFuture;

use crate::plan::Writes;

/// What the lifecycle driver asks of the cluster.
pub trait ClusterAdmin: Send + Sync {
    /// Name servers (of `namesrvs`) that route writes to `group`.
    fn writes<'a>(&'a self, namesrvs: &'a [String], group: &'a str) -> BoxFuture<'a, Writes>;
    /// WIPE_WRITE_PERM_OF_BROKER for `group` on every name server.
    fn hold_writes<'a>(
        &'a self,
        namesrvs: &'a [String],
        group: &'a str,
    ) -> BoxFuture<'a, Result<(), String>>;
    /// Messages on the master at `master` some consumer group has not consumed; `None` when it
    /// cannot be measured.
    fn messages_left<'a>(&'a self, master: &'a str) -> BoxFuture<'a, Option<u64>>;
    /// Topics and subscription groups the master at `source` has and `target` lacks.
    fn missing_metadata<'a>(
        &'a self,
        source: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Option<u32>>;
    /// Copies them.
    fn sync_metadata<'a>(
        &'a self,
        source: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<(), String>>;
}

/// The real cluster, over the remoting protocol (plain and unsigned: with `spec.security`
/// ACL or enforcing TLS these calls are refused, so a drain waits and says why, and nothing
/// is deleted).
pub struct Remoting {
    admin: rmq_admin::Admin,
}

impl Remoting {
    /// Each request bounded by `timeout`.
    pub fn new(timeout: std::time::Duration) -> Remoting {
        Remoting {
            admin: rmq_admin::Admin::new(Vec::new(), timeout),
        }
    }
}

impl ClusterAdmin for Remoting {
    fn writes<'a>(&'a self, namesrvs: &'a [String], group: &'a str) -> BoxFuture<'a, Writes> {
        Box::pin(async move {
            let mut writes = Writes {
                on: 0,
                of: u32::try_from(namesrvs.len()).unwrap_or(u32::MAX),
            };
            for ns in namesrvs {
                // The group's own topic (named after it, on every broker) carries its perm.
                if let Ok(Some(route)) = self.admin.route_on(ns, group).await
                    && route.queue_datas.iter().any(|q| {
                        q.broker_name == group && rmq_protocol::body::perm::is_writeable(q.perm)
                    })
                {
                    writes.on += 1;
                }
            }
            writes
        })
    }

    fn hold_writes<'a>(
        &'a self,
        namesrvs: &'a [String],
        group: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            for ns in namesrvs {
                self.admin
                    .wipe_write_perm(ns, group)
                    .await
                    .map_err(|e| format!("{ns}: {e}"))?;
            }
            Ok(())
        })
    }

    fn messages_left<'a>(&'a self, master: &'a str) -> BoxFuture<'a, Option<u64>> {
        Box::pin(rmq_admin::change::drain::measure(&self.admin, master))
    }

    fn missing_metadata<'a>(
        &'a self,
        source: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Option<u32>> {
        Box::pin(async move {
            let from = rmq_admin::change::tables(&self.admin, Some(source.to_owned())).await?;
            let to = rmq_admin::change::tables(&self.admin, Some(target.to_owned())).await?;
            Some(rmq_admin::change::metadata::missing(&from, &to).count())
        })
    }

    fn sync_metadata<'a>(
        &'a self,
        source: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            rmq_admin::change::sync(&self.admin, source, target)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
    }
}
