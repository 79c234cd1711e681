//! Finding the queues to load: routes from the name server, topic creation on the masters, and a
//! reachability probe of every broker before the clock starts.
//!
//! [`write_targets`] and [`read_targets`] are pure; [`Cluster`] is the network shell.

use std::time::Duration;

use rmq_protocol::RemotingCommand;
use rmq_protocol::body::perm;
use rmq_protocol::body::route::{ClusterInfo, TopicRouteData};
use rmq_protocol::body::topic_config::TopicFilterType;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::create_topic::CreateTopicRequestHeader;
use rmq_protocol::command::get_route_info::GetRouteInfoRequestHeader;
use rmq_remoting::{Client, ClientConfig, InvokeError};
use tokio::net::TcpStream;

use crate::error::BenchError;
use crate::message::{AUTO_CREATE_TOPIC, Target};
use crate::stats::response_label;

/// A master broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Master {
    pub broker_name: String,
    pub addr: String,
}

/// The name servers of `-n` and a client to ask them and the brokers.
#[derive(Debug, Clone)]
pub struct Cluster {
    client: Client,
    namesrv: Vec<String>,
    timeout: Duration,
}

impl Cluster {
    /// `timeout` bounds each request, connecting included.
    pub fn new(namesrv: Vec<String>, timeout: Duration) -> Cluster {
        Cluster::signing(namesrv, timeout, None)
    }

    /// [`Cluster::new`] signing every request with `credentials` (ACL).
    pub fn signing(
        namesrv: Vec<String>,
        timeout: Duration,
        credentials: Option<rmq_protocol::acl::Credentials>,
    ) -> Cluster {
        let config = ClientConfig {
            connect_timeout: timeout,
            credentials,
            ..ClientConfig::default()
        };
        Cluster::with_config(namesrv, timeout, config)
    }

    /// [`Cluster::new`] over connections made as `config` says (ACL account, TLS).
    pub fn with_config(namesrv: Vec<String>, timeout: Duration, config: ClientConfig) -> Cluster {
        Cluster {
            client: Client::new(config),
            namesrv,
            timeout,
        }
    }

    /// The client, for requests to brokers.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The route of `topic`; `None` when the name server knows no such topic.
    pub async fn topic_route(&self, topic: &str) -> Result<Option<TopicRouteData>, BenchError> {
        let header = GetRouteInfoRequestHeader {
            topic: topic.to_owned(),
            accept_standard_json_only: Some(true),
        };
        let request =
            RemotingCommand::request_with_header(RequestCode::GetRouteinfoByTopic, &header);
        let (addr, response) = self
            .call_namesrv(request, &[ResponseCode::TopicNotExist])
            .await?;
        if response.code == ResponseCode::TopicNotExist.code() {
            return Ok(None);
        }
        TopicRouteData::decode(&response.body)
            .map(Some)
            .map_err(|source| BenchError::BadBody {
                addr,
                what: "topic route",
                source,
            })
    }

    /// Every registered master, of every cluster.
    pub async fn masters(&self) -> Result<Vec<Master>, BenchError> {
        let request = RemotingCommand::request(RequestCode::GetBrokerClusterInfo);
        let (addr, response) = self.call_namesrv(request, &[]).await?;
        let info = ClusterInfo::decode(&response.body).map_err(|source| BenchError::BadBody {
            addr: addr.clone(),
            what: "cluster info",
            source,
        })?;
        let masters: Vec<Master> = info
            .broker_addr_table
            .values()
            .filter_map(|group| {
                Some(Master {
                    broker_name: group.broker_name.clone(),
                    addr: group.master_addr()?.to_owned(),
                })
            })
            .collect();
        if masters.is_empty() {
            return Err(BenchError::NoBroker { addr });
        }
        Ok(masters)
    }

    /// UPDATE_AND_CREATE_TOPIC with `queues` read and write queues on one master.
    pub async fn create_topic(
        &self,
        master: &Master,
        topic: &str,
        queues: u32,
    ) -> Result<(), BenchError> {
        let queues = i32::try_from(queues).unwrap_or(i32::MAX);
        let header = CreateTopicRequestHeader {
            topic: topic.to_owned(),
            default_topic: AUTO_CREATE_TOPIC.to_owned(),
            read_queue_nums: queues,
            write_queue_nums: queues,
            perm: perm::READ | perm::WRITE,
            topic_filter_type: TopicFilterType::SingleTag,
            topic_sys_flag: Some(0),
            order: false,
            attributes: None,
            force: None,
        };
        let request =
            RemotingCommand::request_with_header(RequestCode::UpdateAndCreateTopic, &header);
        let response = self
            .client
            .invoke(&master.addr, request, self.timeout)
            .await
            .map_err(|source| unreachable_broker(master, source))?;
        if response.code != ResponseCode::Success.code() {
            return Err(BenchError::BrokerRefused {
                addr: master.addr.clone(),
                topic: topic.to_owned(),
                request: "UPDATE_AND_CREATE_TOPIC",
                code: response_label(response.code),
                remark: response.remark.unwrap_or_default(),
            });
        }
        Ok(())
    }

    /// Opens (and closes) a TCP connection to every broker of `targets`, so that an unreachable
    /// broker stops the run with its address instead of filling the error counts.
    pub async fn probe(&self, targets: &[Target]) -> Result<(), BenchError> {
        let mut seen: Vec<&str> = Vec::new();
        for target in targets {
            if seen.contains(&target.addr.as_str()) {
                continue;
            }
            seen.push(&target.addr);
            let connected = tokio::time::timeout(self.timeout, TcpStream::connect(&target.addr))
                .await
                .unwrap_or_else(|_elapsed| {
                    Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no connection within {:?}", self.timeout),
                    ))
                });
            if let Err(source) = connected {
                return Err(BenchError::BrokerUnreachable {
                    broker: target.broker_name.clone(),
                    addr: target.addr.clone(),
                    source,
                });
            }
        }
        Ok(())
    }

    /// Asks the name servers in turn until one answers (a refusal is an answer); the answer must
    /// be SUCCESS or one of `also`.
    async fn call_namesrv(
        &self,
        request: RemotingCommand,
        also: &[ResponseCode],
    ) -> Result<(String, RemotingCommand), BenchError> {
        let mut last = None;
        for addr in &self.namesrv {
            match self
                .client
                .invoke(addr, request.clone(), self.timeout)
                .await
            {
                Ok(response) => {
                    let accepted = response.code == ResponseCode::Success.code()
                        || also.iter().any(|code| code.code() == response.code);
                    if !accepted {
                        return Err(BenchError::NamesrvRefused {
                            addr: addr.clone(),
                            request: request.code,
                            code: response_label(response.code),
                            remark: response.remark.unwrap_or_default(),
                        });
                    }
                    return Ok((addr.clone(), response));
                }
                Err(error) => last = Some((addr.clone(), error)),
            }
        }
        match last {
            Some((addr, source)) if self.namesrv.len() == 1 => {
                Err(BenchError::NamesrvUnreachable { addr, source })
            }
            Some((_, source)) => Err(BenchError::NamesrvsUnreachable {
                tried: self.namesrv.join(";"),
                source,
            }),
            // `Common::namesrv_addrs` refuses an empty list before a Cluster is made.
            None => Err(BenchError::Args(crate::cli::ArgError::NoNamesrv)),
        }
    }
}

fn unreachable_broker(master: &Master, source: InvokeError) -> BenchError {
    let source = match source {
        InvokeError::Connect { source, .. } => source,
        other => std::io::Error::other(other),
    };
    BenchError::BrokerUnreachable {
        broker: master.broker_name.clone(),
        addr: master.addr.clone(),
        source,
    }
}

/// The queues to send `topic`'s messages to: the first `queues` write queues of every writable
/// master in `route` (which may be TBW102's route for a topic to be auto-created).
pub fn write_targets(route: &TopicRouteData, topic: &str, queues: u32) -> Vec<Target> {
    targets(route, topic, Some(queues), |q| {
        perm::is_writeable(q.perm).then_some(q.write_queue_nums)
    })
}

/// The queues to pull of `topic`: the read queues of every readable master, at most `limit`.
pub fn read_targets(route: &TopicRouteData, topic: &str, limit: Option<u32>) -> Vec<Target> {
    targets(route, topic, limit, |q| {
        perm::is_readable(q.perm).then_some(q.read_queue_nums)
    })
}

fn targets(
    route: &TopicRouteData,
    topic: &str,
    limit: Option<u32>,
    usable: impl Fn(&rmq_protocol::body::route::QueueData) -> Option<i32>,
) -> Vec<Target> {
    let limit = limit.map_or(i32::MAX, |n| i32::try_from(n).unwrap_or(i32::MAX));
    let mut targets = Vec::new();
    for queue_data in &route.queue_datas {
        let Some(count) = usable(queue_data) else {
            continue;
        };
        let Some(addr) = route
            .broker_datas
            .iter()
            .find(|b| b.broker_name == queue_data.broker_name)
            .and_then(|b| b.master_addr())
        else {
            continue;
        };
        for queue_id in 0..count.min(limit) {
            targets.push(Target {
                topic: topic.to_owned(),
                broker_name: queue_data.broker_name.clone(),
                addr: addr.to_owned(),
                queue_id,
                default_queue_nums: limit.min(i32::from(u16::MAX)),
            });
        }
    }
    targets
}

/// The targets of the topics a producer loads: created first on every master with
/// `--create-topic`, else from each topic's route, else from TBW102's route (the broker
/// auto-creates the topic on the first send, as a Java producer relies on).
pub async fn producer_targets(
    cluster: &Cluster,
    topics: &[String],
    queues: u32,
    create: bool,
) -> Result<Vec<Target>, BenchError> {
    let mut all = Vec::new();
    if create {
        let masters = cluster.masters().await?;
        for topic in topics {
            for master in &masters {
                cluster.create_topic(master, topic, queues).await?;
                all.extend((0..queues).map(|queue_id| Target {
                    topic: topic.clone(),
                    broker_name: master.broker_name.clone(),
                    addr: master.addr.clone(),
                    queue_id: i32::try_from(queue_id).unwrap_or(i32::MAX),
                    default_queue_nums: i32::try_from(queues).unwrap_or(i32::MAX),
                }));
            }
        }
        return Ok(all);
    }
    let mut auto_route: Option<TopicRouteData> = None;
    for topic in topics {
        let route = match cluster.topic_route(topic).await? {
            Some(route) => route,
            None => match &auto_route {
                Some(route) => route.clone(),
                None => {
                    let route = cluster
                        .topic_route(AUTO_CREATE_TOPIC)
                        .await?
                        .ok_or_else(|| BenchError::NoRoute {
                            topic: topic.clone(),
                        })?;
                    auto_route = Some(route.clone());
                    route
                }
            },
        };
        let targets = write_targets(&route, topic, queues);
        if targets.is_empty() {
            return Err(BenchError::NoQueue {
                topic: topic.clone(),
                what: "writable",
            });
        }
        all.extend(targets);
    }
    Ok(all)
}

/// The targets of the topics a consumer pulls, waiting up to `wait` for topics that have no
/// route yet (a producer started at the same time may be about to create them).
pub async fn consumer_targets(
    cluster: &Cluster,
    topics: &[String],
    limit: Option<u32>,
    wait: Duration,
) -> Result<Vec<Target>, BenchError> {
    let started = tokio::time::Instant::now();
    let mut all = Vec::new();
    for topic in topics {
        let mut told = false;
        let route = loop {
            if let Some(route) = cluster.topic_route(topic).await? {
                break route;
            }
            if started.elapsed() >= wait {
                return Err(BenchError::RouteNeverCame {
                    topic: topic.clone(),
                    waited_s: wait.as_secs(),
                });
            }
            if !told {
                eprintln!("topic {topic} has no route yet; waiting up to {wait:?} for one");
                told = true;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        let targets = read_targets(&route, topic, limit);
        if targets.is_empty() {
            return Err(BenchError::NoQueue {
                topic: topic.clone(),
                what: "readable",
            });
        }
        all.extend(targets);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use rmq_protocol::body::route::{BrokerData, QueueData};

    use super::*;

    fn route(perm_b: i32) -> TopicRouteData {
        let broker = |name: &str, addr: Option<&str>| BrokerData {
            broker_addrs: addr
                .map(|a| BTreeMap::from([(0, a.to_owned())]))
                .unwrap_or_else(|| BTreeMap::from([(1, "10.0.0.9:10911".to_owned())])),
            broker_name: name.into(),
            cluster: "C".into(),
            enable_acting_master: None,
            zone_name: None,
        };
        let queues = |name: &str, perm: i32, read: i32, write: i32| QueueData {
            broker_name: name.into(),
            perm,
            read_queue_nums: read,
            write_queue_nums: write,
            topic_sys_flag: 0,
        };
        TopicRouteData {
            broker_datas: vec![
                broker("a", Some("127.0.0.1:10911")),
                broker("b", Some("127.0.0.1:10921")),
                broker("slave-only", None),
            ],
            filter_server_table: BTreeMap::new(),
            order_topic_conf: None,
            queue_datas: vec![
                queues("a", 6, 4, 4),
                queues("b", perm_b, 2, 3),
                queues("slave-only", 6, 4, 4),
            ],
        }
    }

    #[test]
    fn write_targets_cover_every_writable_master_up_to_the_asked_queues() {
        let targets = write_targets(&route(6), "T", 8);
        let got: Vec<(&str, i32)> = targets
            .iter()
            .map(|t| (t.broker_name.as_str(), t.queue_id))
            .collect();
        assert_eq!(
            got,
            [
                ("a", 0),
                ("a", 1),
                ("a", 2),
                ("a", 3),
                ("b", 0),
                ("b", 1),
                ("b", 2)
            ]
        );
        assert!(targets.iter().all(|t| t.topic == "T"));
        assert_eq!(targets[4].addr, "127.0.0.1:10921");
        assert_eq!(targets[0].default_queue_nums, 8);
        assert_eq!(write_targets(&route(6), "T", 2).len(), 4);
    }

    #[test]
    fn read_only_brokers_are_pulled_but_not_written() {
        let read_only = perm::READ;
        assert!(
            write_targets(&route(read_only), "T", 8)
                .iter()
                .all(|t| t.broker_name == "a")
        );
        let read = read_targets(&route(read_only), "T", None);
        assert_eq!(read.iter().filter(|t| t.broker_name == "b").count(), 2);
        assert_eq!(read_targets(&route(read_only), "T", Some(1)).len(), 2);
    }

    #[tokio::test]
    async fn an_unreachable_name_server_is_named_in_the_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        drop(listener);
        let cluster = Cluster::new(vec![addr.clone()], Duration::from_secs(2));
        let error = cluster.topic_route("T").await.unwrap_err();
        assert!(
            matches!(&error, BenchError::NamesrvUnreachable { addr: a, .. } if *a == addr),
            "{error:?}"
        );
        assert!(error.to_string().contains(&addr));
    }
}
