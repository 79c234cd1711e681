#![allow(clippy::unwrap_used)]
//! A broker that starts before its name server registers within seconds of the name server
//! coming up, not a whole `registerNameServerPeriod` (30 s) later; its `/readyz` says so, and a
//! slave's follows its replication. A `namesrvAddr` changed by UPDATE_BROKER_CONFIG is
//! registered with at once, and a name server left out of it forgets the broker.

use std::path::Path;
use std::time::{Duration, Instant};

use rmq_broker::BrokerConfig;
use rmq_protocol::RemotingCommand;
use rmq_protocol::body::properties;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::get_route_info::GetRouteInfoRequestHeader;
use rmq_remoting::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "common/ports.rs"]
mod ports;
mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_started_before_its_name_server_is_routable_within_seconds_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let ns_port = ports::free_port();
    let text = format!(
        "brokerName=early-bird\nlistenPort=0\nbindAddress=127.0.0.1\nfastListenEnable=false\n\
         namesrvAddr=127.0.0.1:{ns_port}\nstorePathRootDir={}\nmappedFileSizeCommitLog=1048576\n",
        dir.path().join("store").display()
    );
    let broker = rmq_broker::start(BrokerConfig::from_properties(&text).unwrap())
        .await
        .unwrap();
    // Two rounds go unheard (at 0 s and 1 s) before the name server comes up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ns_conf = format!(
        "listenPort={ns_port}\nbindAddress=127.0.0.1\nkvConfigPath={}\n",
        dir.path().join("kv.json").display()
    );
    let namesrv =
        rmq_namesrv::start(rmq_namesrv::NamesrvConfig::from_properties_text(&ns_conf).unwrap())
            .await
            .unwrap();
    let up = Instant::now();
    let client = Client::default();
    loop {
        let info = client
            .invoke(
                &namesrv.local_addr().to_string(),
                RemotingCommand::request(RequestCode::GetBrokerClusterInfo),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        if String::from_utf8_lossy(&info.body).contains("early-bird") {
            break;
        }
        assert!(
            up.elapsed() < Duration::from_secs(8),
            "not registered 8 s after the name server came up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    broker.shutdown().await;
    namesrv.shutdown().await;
}

/// `GET path` on `port`: status line and body.
async fn get(port: u16, path: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: probe\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

async fn until_ready(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = get(port, "/readyz").await;
        if status.contains("200") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} never ready: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_waits_for_a_name_server_and_a_slaves_follows_its_replication() {
    let dir = tempfile::tempdir().unwrap();
    let (ns_port, master_health, slave_health) =
        (ports::free_port(), ports::free_port(), ports::free_port());
    let conf = |name: &str, health: u16, extra: &str| {
        format!(
            "brokerName=probed\nlistenPort=0\nbindAddress=127.0.0.1\nfastListenEnable=false\n\
             namesrvAddr=127.0.0.1:{ns_port}\nstorePathRootDir={}\nmappedFileSizeCommitLog=1048576\n\
             healthListenPort={health}\nhaHousekeepingInterval=2000\nhaSendHeartbeatInterval=500\n{extra}",
            dir.path().join(name).display()
        )
    };
    let master = rmq_broker::start(
        BrokerConfig::from_properties(&conf("master", master_health, "brokerRole=SYNC_MASTER\n"))
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(master.health_addr().map(|a| a.port()), Some(master_health));
    let (status, _) = get(master_health, "/livez").await;
    assert!(status.contains("200"), "{status}");
    let (status, body) = get(master_health, "/readyz").await;
    assert!(
        status.contains("503") && body.contains("registration"),
        "{status} {body}"
    );
    assert!(get(master_health, "/nothing").await.0.contains("404"));

    let ns_conf = format!(
        "listenPort={ns_port}\nbindAddress=127.0.0.1\nkvConfigPath={}\n",
        dir.path().join("kv.json").display()
    );
    let namesrv =
        rmq_namesrv::start(rmq_namesrv::NamesrvConfig::from_properties_text(&ns_conf).unwrap())
            .await
            .unwrap();
    until_ready(master_health, "the master").await;

    let ha_port = master.broker().config.ha_listen_port;
    let slave = rmq_broker::start(
        BrokerConfig::from_properties(&conf(
            "slave",
            slave_health,
            &format!("brokerRole=SLAVE\nbrokerId=1\nhaMasterAddress=127.0.0.1:{ha_port}\n"),
        ))
        .unwrap(),
    )
    .await
    .unwrap();
    until_ready(slave_health, "the slave").await;

    // The master goes: the slave stops being ready and says why.
    master.shutdown().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = get(slave_health, "/readyz").await;
        if status.contains("503") {
            assert!(body.contains("slave:"), "{body}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the slave stayed ready without its master"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    slave.shutdown().await;
    namesrv.shutdown().await;
}

/// A name server on a free loopback port.
async fn namesrv(dir: &Path, name: &str) -> rmq_namesrv::RunningNamesrv {
    let conf = format!(
        "listenPort=0\nbindAddress=127.0.0.1\nkvConfigPath={}\n",
        dir.join(format!("{name}-kv.json")).display()
    );
    rmq_namesrv::start(rmq_namesrv::NamesrvConfig::from_properties_text(&conf).unwrap())
        .await
        .unwrap()
}

/// A broker named `name` registering every 30 s (Apache's period: a registration seen sooner
/// was not a periodic one), with `namesrvAddr` set when `namesrvs` is.
async fn broker_with(dir: &Path, name: &str, namesrvs: Option<&str>) -> rmq_broker::RunningBroker {
    let namesrv_line = namesrvs.map_or(String::new(), |n| format!("namesrvAddr={n}\n"));
    let text = format!(
        "brokerName={name}\nlistenPort=0\nbindAddress=127.0.0.1\nfastListenEnable=false\n\
         registerNameServerPeriod=30000\n{namesrv_line}storePathRootDir={}\n\
         mappedFileSizeCommitLog=1048576\n",
        dir.join(name).display()
    );
    rmq_broker::start(BrokerConfig::from_properties(&text).unwrap())
        .await
        .unwrap()
}

/// Whether `namesrv`'s GET_BROKER_CLUSTER_INFO names `broker`.
async fn lists(client: &Client, namesrv: &str, broker: &str) -> bool {
    let request = RemotingCommand::request(RequestCode::GetBrokerClusterInfo);
    let info = client
        .invoke(namesrv, request, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(info.code, ResponseCode::Success as i32, "{info:?}");
    String::from_utf8_lossy(&info.body).contains(broker)
}

/// Polls `namesrv` until it lists `broker` (or, with `listed` false, no longer does), failing
/// after `limit`.
async fn until_listed(client: &Client, namesrv: &str, broker: &str, listed: bool, limit: Duration) {
    let deadline = Instant::now() + limit;
    while lists(client, namesrv, broker).await != listed {
        assert!(
            Instant::now() < deadline,
            "after {limit:?} {namesrv} still {} {broker}",
            if listed { "does not list" } else { "lists" }
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether `namesrv` has a route for `topic`.
async fn routes(client: &Client, namesrv: &str, topic: &str) -> bool {
    let header = GetRouteInfoRequestHeader {
        topic: topic.to_owned(),
        accept_standard_json_only: None,
    };
    let request = RemotingCommand::request_with_header(RequestCode::GetRouteinfoByTopic, &header);
    let answer = client
        .invoke(namesrv, request, Duration::from_secs(5))
        .await
        .unwrap();
    answer.code == ResponseCode::Success as i32
}

async fn update_config(client: &Client, broker: &str, body: &str) -> RemotingCommand {
    let request =
        RemotingCommand::request(RequestCode::UpdateBrokerConfig).with_body(body.to_owned());
    client
        .invoke(broker, request, Duration::from_secs(10))
        .await
        .unwrap()
}

/// `namesrvAddr` as GET_BROKER_CONFIG shows it.
async fn shown_namesrv_addr(client: &Client, broker: &str) -> Option<String> {
    let request = RemotingCommand::request(RequestCode::GetBrokerConfig);
    let answer = client
        .invoke(broker, request, Duration::from_secs(5))
        .await
        .unwrap();
    properties::parse(&String::from_utf8_lossy(&answer.body))
        .into_iter()
        .find(|(k, _)| k == "namesrvAddr")
        .map(|(_, v)| v)
}

/// Far below the 30 s registration period: only a round the change itself started gets there.
const AT_ONCE: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_server_list_changed_at_run_time_is_registered_with_at_once_and_one_left_out_forgets_the_broker()
 {
    let dir = tempfile::tempdir().unwrap();
    let (ns_a, ns_b) = (
        namesrv(dir.path(), "a").await,
        namesrv(dir.path(), "b").await,
    );
    let (a, b) = (ns_a.local_addr().to_string(), ns_b.local_addr().to_string());
    let running = broker_with(dir.path(), "roaming", Some(&a)).await;
    let (client, addr) = (Client::default(), running.local_addr().to_string());
    until_listed(&client, &a, "roaming", true, Duration::from_secs(10)).await;
    assert!(!lists(&client, &b, "roaming").await);

    // Added: registered with B at once, still with A.
    let added = update_config(&client, &addr, &format!("namesrvAddr={a};{b}\n")).await;
    assert_eq!(added.code, ResponseCode::Success as i32, "{added:?}");
    until_listed(&client, &b, "roaming", true, AT_ONCE).await;
    assert!(lists(&client, &a, "roaming").await);
    assert_eq!(
        shown_namesrv_addr(&client, &addr).await,
        Some(format!("{a};{b}"))
    );

    // A left out: A forgets the broker long before its 120 s expiry; B keeps it.
    let moved = update_config(&client, &addr, &format!("namesrvAddr={b}\n")).await;
    assert_eq!(moved.code, ResponseCode::Success as i32, "{moved:?}");
    until_listed(&client, &a, "roaming", false, AT_ONCE).await;
    assert!(lists(&client, &b, "roaming").await);

    // The next round (started by a new topic) goes to B only.
    let created = client
        .invoke(
            &addr,
            support::create_topic("AfterTheMove"),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(created.code, ResponseCode::Success as i32, "{created:?}");
    let deadline = Instant::now() + AT_ONCE;
    while !routes(&client, &b, "AfterTheMove").await {
        assert!(Instant::now() < deadline, "B never learnt the new topic");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!lists(&client, &a, "roaming").await);
    assert!(!routes(&client, &a, "AfterTheMove").await);

    // No name server, or one that is not host:port, is refused; the list stays B.
    for bad in [
        "namesrvAddr=\n",
        "namesrvAddr= ; \n",
        "namesrvAddr=127.0.0.1\n",
    ] {
        let refused = update_config(&client, &addr, bad).await;
        assert_eq!(refused.code, ResponseCode::SystemError as i32, "{bad:?}");
        let remark = refused.remark.unwrap_or_default();
        assert!(remark.contains("namesrvAddr"), "{bad:?}: {remark}");
    }
    assert_eq!(
        running.broker().live.namesrv_addrs(),
        std::slice::from_ref(&b)
    );
    assert_eq!(shown_namesrv_addr(&client, &addr).await, Some(b.clone()));

    // A later change of another key keeps the list.
    let other = update_config(&client, &addr, "traceOn=false\n").await;
    assert_eq!(other.code, ResponseCode::Success as i32, "{other:?}");
    assert_eq!(
        running.broker().live.namesrv_addrs(),
        std::slice::from_ref(&b)
    );
    assert!(lists(&client, &b, "roaming").await);

    running.shutdown().await;
    ns_a.shutdown().await;
    ns_b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_started_without_name_servers_registers_as_soon_as_it_is_given_one() {
    let dir = tempfile::tempdir().unwrap();
    let ns = namesrv(dir.path(), "only").await;
    let ns_addr = ns.local_addr().to_string();
    let running = broker_with(dir.path(), "latecomer", None).await;
    let (client, addr) = (Client::default(), running.local_addr().to_string());
    assert!(running.broker().live.namesrv_addrs().is_empty());

    let given = update_config(&client, &addr, &format!("namesrvAddr={ns_addr}\n")).await;
    assert_eq!(given.code, ResponseCode::Success as i32, "{given:?}");
    until_listed(&client, &ns_addr, "latecomer", true, AT_ONCE).await;

    running.shutdown().await;
    ns.shutdown().await;
}

/// A name server on `port`.
async fn namesrv_on(dir: &Path, port: u16) -> rmq_namesrv::RunningNamesrv {
    let conf = format!(
        "listenPort={port}\nbindAddress=127.0.0.1\nkvConfigPath={}\n",
        dir.join(format!("kv-{port}.json")).display()
    );
    rmq_namesrv::start(rmq_namesrv::NamesrvConfig::from_properties_text(&conf).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_name_server_has_the_broker_again_within_seconds_not_a_period_later() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (ports::free_port(), ports::free_port());
    let stays = namesrv_on(dir.path(), first).await;
    let restarts = namesrv_on(dir.path(), second).await;
    let list = format!("127.0.0.1:{first};127.0.0.1:{second}");
    let broker = broker_with(dir.path(), "comeback", Some(&list)).await;
    let client = Client::default();
    let second_addr = format!("127.0.0.1:{second}");
    until_listed(
        &client,
        &second_addr,
        "comeback",
        true,
        Duration::from_secs(5),
    )
    .await;

    // The name server stops and comes back on its port with an empty table, between two of
    // the broker's 30 s rounds.
    restarts.shutdown().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let back = namesrv_on(dir.path(), second).await;
    let up = Instant::now();
    until_listed(
        &client,
        &second_addr,
        "comeback",
        true,
        Duration::from_secs(10),
    )
    .await;
    assert!(up.elapsed() < Duration::from_secs(10), "{:?}", up.elapsed());
    // The other one never lost it.
    assert!(lists(&client, &format!("127.0.0.1:{first}"), "comeback").await);
    broker.shutdown().await;
    back.shutdown().await;
    stays.shutdown().await;
}
