//! The operator's view of a running cluster through RocketMQ's own admin API: what the change
//! planner needs to drain a group being removed and to give a new group the cluster's topics.
//!
//! A trait, so that reconcile tests run against a scripted cluster; [`Remoting`] is the real
//! one, over the remoting protocol to the pods' cluster DNS names, reached as
//! [`super::access`] says (TLS, ACL account).

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::access::Access;
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
    /// ADD_WRITE_PERM_OF_BROKER for `group` on every name server.
    fn release_writes<'a>(
        &'a self,
        namesrvs: &'a [String],
        group: &'a str,
    ) -> BoxFuture<'a, Result<(), String>>;
    /// Figures of the broker at `broker` (GET_BROKER_RUNTIME_INFO); `None` when it does not
    /// answer.
    fn runtime<'a>(&'a self, broker: &'a str) -> BoxFuture<'a, Option<BrokerRuntime>>;
    /// The `namesrvAddr` the broker at `broker` runs with; `None` when it does not answer.
    fn namesrvs_of<'a>(&'a self, broker: &'a str) -> BoxFuture<'a, Option<String>>;
    /// Gives the broker at `broker` the name-server list `list` (UPDATE_BROKER_CONFIG
    /// `namesrvAddr`): it registers with the new ones at once, no restart.
    fn tell_namesrvs<'a>(
        &'a self,
        broker: &'a str,
        list: &'a str,
    ) -> BoxFuture<'a, Result<(), String>>;
}

/// What a roll reads of a broker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BrokerRuntime {
    /// `commitLogMaxOffset`: a slave this far behind its master's is caught up.
    pub max_offset: Option<u64>,
    /// `msgPutTotalTodayNow`: moves while sends arrive.
    pub puts_today: Option<u64>,
}

/// Makes the admin API of one cluster, reached as its [`Access`] says.
pub trait AdminFactory: Send + Sync {
    fn connect(&self, access: Access) -> Arc<dyn ClusterAdmin>;
}

/// Connects [`Remoting`] clients, each request bounded by `timeout`.
pub struct RemotingFactory {
    pub timeout: Duration,
}

impl AdminFactory for RemotingFactory {
    fn connect(&self, access: Access) -> Arc<dyn ClusterAdmin> {
        Arc::new(Remoting::new(access, self.timeout))
    }
}

/// The real cluster, over the remoting protocol to the pods' cluster DNS names: name servers
/// and brokers each with their own TLS setting, every request signed when ACL is on.
pub struct Remoting {
    namesrv: rmq_admin::Admin,
    broker: rmq_admin::Admin,
}

impl Remoting {
    /// Each request bounded by `timeout`.
    pub fn new(access: Access, timeout: Duration) -> Remoting {
        Remoting {
            namesrv: rmq_admin::Admin::with_config(Vec::new(), timeout, access.namesrv),
            broker: rmq_admin::Admin::with_config(Vec::new(), timeout, access.broker),
        }
    }
}

impl Remoting {
    /// ADD_WRITE_PERM (`on`) or WIPE_WRITE_PERM of `group` on every name server, in turn; the
    /// first refusal names its name server.
    async fn set_writes(&self, namesrvs: &[String], group: &str, on: bool) -> Result<(), String> {
        for ns in namesrvs {
            let done = if on {
                self.namesrv.add_write_perm(ns, group).await
            } else {
                self.namesrv.wipe_write_perm(ns, group).await
            };
            done.map_err(|e| format!("{ns}: {e}"))?;
        }
        Ok(())
    }
}

/// A cluster whose servers cannot be reached as its spec requires (a Secret missing, no admin
/// account): every call fails with `reason`, so a drain waits saying why and deletes nothing,
/// and a new group is not counted as synced.
pub struct Unreachable(pub String);

impl ClusterAdmin for Unreachable {
    fn writes<'a>(&'a self, namesrvs: &'a [String], _group: &'a str) -> BoxFuture<'a, Writes> {
        // Unknown: shown as still on, so the planner asks to take them off and says why not.
        let n = u32::try_from(namesrvs.len()).unwrap_or(u32::MAX);
        Box::pin(async move { Writes { on: n, of: n } })
    }

    fn hold_writes<'a>(
        &'a self,
        _namesrvs: &'a [String],
        _group: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move { Err(self.0.clone()) })
    }

    fn messages_left<'a>(&'a self, _master: &'a str) -> BoxFuture<'a, Option<u64>> {
        Box::pin(async { None })
    }

    fn missing_metadata<'a>(
        &'a self,
        _source: &'a str,
        _target: &'a str,
    ) -> BoxFuture<'a, Option<u32>> {
        Box::pin(async { None })
    }

    fn sync_metadata<'a>(
        &'a self,
        _source: &'a str,
        _target: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move { Err(self.0.clone()) })
    }

    fn release_writes<'a>(
        &'a self,
        _namesrvs: &'a [String],
        _group: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move { Err(self.0.clone()) })
    }

    fn runtime<'a>(&'a self, _broker: &'a str) -> BoxFuture<'a, Option<BrokerRuntime>> {
        Box::pin(async { None })
    }

    fn namesrvs_of<'a>(&'a self, _broker: &'a str) -> BoxFuture<'a, Option<String>> {
        Box::pin(async { None })
    }

    fn tell_namesrvs<'a>(
        &'a self,
        _broker: &'a str,
        _list: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move { Err(self.0.clone()) })
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
                if let Ok(Some(route)) = self.namesrv.route_on(ns, group).await
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
        Box::pin(self.set_writes(namesrvs, group, false))
    }

    fn messages_left<'a>(&'a self, master: &'a str) -> BoxFuture<'a, Option<u64>> {
        Box::pin(rmq_admin::change::drain::measure(&self.broker, master))
    }

    fn missing_metadata<'a>(
        &'a self,
        source: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Option<u32>> {
        Box::pin(async move {
            let from = rmq_admin::change::tables(&self.broker, Some(source.to_owned())).await?;
            let to = rmq_admin::change::tables(&self.broker, Some(target.to_owned())).await?;
            Some(rmq_admin::change::metadata::missing(&from, &to).count())
        })
    }

    fn sync_metadata<'a>(
        &'a self,
        source: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            rmq_admin::change::sync(&self.broker, source, target)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
    }

    fn release_writes<'a>(
        &'a self,
        namesrvs: &'a [String],
        group: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(self.set_writes(namesrvs, group, true))
    }

    fn runtime<'a>(&'a self, broker: &'a str) -> BoxFuture<'a, Option<BrokerRuntime>> {
        Box::pin(async move {
            let info = self.broker.runtime_info(broker).await.ok()?;
            let figure = |key: &str| info.table.get(key).and_then(|v| v.parse::<u64>().ok());
            Some(BrokerRuntime {
                max_offset: figure("commitLogMaxOffset"),
                puts_today: figure("msgPutTotalTodayNow"),
            })
        })
    }

    fn namesrvs_of<'a>(&'a self, broker: &'a str) -> BoxFuture<'a, Option<String>> {
        Box::pin(async move {
            let config = self.broker.broker_config(broker).await.ok()?;
            Some(config.get("namesrvAddr").cloned().unwrap_or_default())
        })
    }

    fn tell_namesrvs<'a>(
        &'a self,
        broker: &'a str,
        list: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.broker
                .update_broker_config(broker, &format!("namesrvAddr={list}\n"))
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
    }
}
