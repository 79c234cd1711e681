use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rmq_protocol::body::route::QueueData;
use rmq_protocol::body::topic_config::{DataVersion, TopicConfig, TopicConfigSerializeWrapper};
use rmq_protocol::command::register_broker::RegisterBrokerRequestHeader;
use rmq_protocol::command::unregister_broker::UnRegisterBrokerRequestHeader;

use super::*;

const EXPIRY: Duration = Duration::from_secs(120);

fn header(cluster: &str, name: &str, addr: &str, id: i64) -> RegisterBrokerRequestHeader {
    RegisterBrokerRequestHeader {
        broker_name: name.into(),
        broker_addr: addr.into(),
        cluster_name: cluster.into(),
        ha_server_addr: format!("{addr}-ha"),
        broker_id: id,
        heartbeat_timeout_millis: None,
        enable_acting_master: None,
        compressed: false,
        body_crc32: 0,
    }
}

fn topic(name: &str, queues: i32, perm: i32) -> TopicConfig {
    TopicConfig {
        topic_name: name.into(),
        read_queue_nums: queues,
        write_queue_nums: queues,
        perm,
        ..TopicConfig::default()
    }
}

fn topics(counter: i64, configs: &[TopicConfig]) -> TopicConfigSerializeWrapper {
    TopicConfigSerializeWrapper {
        data_version: DataVersion {
            counter,
            state_version: None,
            timestamp: 1000 + counter,
        },
        topic_config_table: configs
            .iter()
            .map(|config| (config.topic_name.clone(), config.clone()))
            .collect(),
    }
}

fn unregister(cluster: &str, name: &str, addr: &str, id: i64) -> UnRegisterBrokerRequestHeader {
    UnRegisterBrokerRequestHeader {
        broker_name: name.into(),
        broker_addr: addr.into(),
        cluster_name: cluster.into(),
        broker_id: id,
    }
}

/// broker-a (master a:1 on conn 1, slave a:2 on conn 2) with topic T, all at `t0`.
fn master_and_slave(t0: Instant) -> RouteTable {
    let mut table = RouteTable::new(EXPIRY);
    table.register_broker(
        &header("c", "broker-a", "a:1", 0),
        topics(1, &[topic("T", 4, 6)]),
        1,
        t0,
    );
    table.register_broker(
        &header("c", "broker-a", "a:2", 1),
        topics(1, &[topic("T", 4, 6)]),
        2,
        t0,
    );
    table
}

#[test]
fn master_registration_creates_cluster_broker_and_topic_route() {
    let t0 = Instant::now();
    let mut table = RouteTable::new(EXPIRY);
    let result = table.register_broker(
        &header("c", "broker-a", "a:1", 0),
        topics(1, &[topic("T", 4, 6), topic("TBW102", 8, 7)]),
        1,
        t0,
    );
    assert_eq!(result, RegisterBrokerResult::default());

    let route = table.route("T").unwrap();
    assert_eq!(route.broker_datas.len(), 1);
    assert_eq!(route.broker_datas[0].broker_name, "broker-a");
    assert_eq!(route.broker_datas[0].cluster, "c");
    assert_eq!(route.broker_datas[0].master_addr(), Some("a:1"));
    assert_eq!(
        route.queue_datas,
        vec![QueueData {
            broker_name: "broker-a".into(),
            perm: 6,
            read_queue_nums: 4,
            topic_sys_flag: 0,
            write_queue_nums: 4,
        }]
    );
    assert!(route.filter_server_table.is_empty());
    assert_eq!(
        table.all_topics(),
        vec!["T".to_owned(), "TBW102".to_owned()]
    );
}

#[test]
fn the_default_topic_route_comes_from_a_broker_registering_tbw102() {
    let mut table = RouteTable::new(EXPIRY);
    assert_eq!(table.route("TBW102"), None);
    table.register_broker(
        &header("c", "broker-a", "a:1", 0),
        topics(1, &[topic("TBW102", 8, 7)]),
        1,
        Instant::now(),
    );
    let route = table.route("TBW102").unwrap();
    assert_eq!(route.queue_datas[0].perm, 7);
    assert_eq!(route.queue_datas[0].write_queue_nums, 8);
}

#[test]
fn slave_registration_returns_the_live_masters_addresses() {
    let t0 = Instant::now();
    let mut table = RouteTable::new(EXPIRY);
    let alone = table.register_broker(&header("c", "broker-a", "a:2", 1), topics(1, &[]), 2, t0);
    assert_eq!(alone, RegisterBrokerResult::default(), "no master yet");

    table.register_broker(&header("c", "broker-a", "a:1", 0), topics(1, &[]), 1, t0);
    let result = table.register_broker(&header("c", "broker-a", "a:2", 1), topics(1, &[]), 2, t0);
    assert_eq!(result.master_addr.as_deref(), Some("a:1"));
    assert_eq!(result.ha_server_addr.as_deref(), Some("a:1-ha"));
    let group = &table.cluster_info().broker_addr_table["broker-a"];
    assert_eq!(
        group.broker_addrs,
        BTreeMap::from([(0, "a:1".to_owned()), (1, "a:2".to_owned())])
    );
}

#[test]
fn slave_topic_configs_do_not_change_queue_data() {
    let t0 = Instant::now();
    let mut table = master_and_slave(t0);
    table.register_broker(
        &header("c", "broker-a", "a:2", 1),
        topics(2, &[topic("T", 16, 2), topic("OnlyOnSlave", 1, 6)]),
        2,
        t0,
    );
    assert_eq!(table.route("T").unwrap().queue_datas[0].read_queue_nums, 4);
    assert_eq!(table.route("OnlyOnSlave"), None);
}

#[test]
fn a_slave_whose_master_is_not_registered_routes_its_topics_read_only() {
    let t0 = Instant::now();
    let mut table = RouteTable::new(EXPIRY);
    table.register_broker(
        &header("c", "broker-a", "a:2", 1),
        topics(1, &[topic("T", 4, 6)]),
        2,
        t0,
    );
    let route = table.route("T").expect("the slave's topic is routed");
    assert_eq!(route.queue_datas[0].perm, 4, "read-only");
    assert_eq!(
        route.broker_datas[0].broker_addrs,
        BTreeMap::from([(1, "a:2".to_owned())])
    );

    // The master comes back: its own config, writable, replaces the slave's.
    table.register_broker(
        &header("c", "broker-a", "a:1", 0),
        topics(1, &[topic("T", 4, 6)]),
        1,
        t0,
    );
    assert_eq!(table.route("T").unwrap().queue_datas[0].perm, 6);
}

#[test]
fn master_topic_changes_apply_only_when_the_data_version_changes() {
    let t0 = Instant::now();
    let mut table = RouteTable::new(EXPIRY);
    table.register_broker(
        &header("c", "broker-a", "a:1", 0),
        topics(1, &[topic("T", 4, 6)]),
        1,
        t0,
    );
    // Same version, different content: Apache trusts the version and skips the table.
    table.register_broker(
        &header("c", "broker-a", "a:1", 0),
        topics(1, &[topic("T", 8, 6), topic("U", 1, 6)]),
        1,
        t0,
    );
    assert_eq!(table.route("T").unwrap().queue_datas[0].read_queue_nums, 4);
    assert_eq!(table.route("U"), None);

    table.register_broker(
        &header("c", "broker-a", "a:1", 0),
        topics(2, &[topic("T", 8, 6), topic("U", 1, 6)]),
        1,
        t0,
    );
    assert_eq!(table.route("T").unwrap().queue_datas[0].read_queue_nums, 8);
    assert!(table.route("U").is_some());
}

#[test]
fn a_slave_promoted_to_master_on_the_same_address_keeps_one_id() {
    let t0 = Instant::now();
    let mut table = master_and_slave(t0);
    table.unregister_broker(&unregister("c", "broker-a", "a:1", 0));
    table.register_broker(
        &header("c", "broker-a", "a:2", 0),
        topics(5, &[topic("T", 4, 6)]),
        2,
        t0,
    );
    let group = &table.cluster_info().broker_addr_table["broker-a"];
    assert_eq!(group.broker_addrs, BTreeMap::from([(0, "a:2".to_owned())]));
}

#[test]
fn brokers_expire_only_after_120_seconds_of_silence() {
    let t0 = Instant::now();
    let mut table = master_and_slave(t0);
    assert!(
        table.scan_expired(t0 + EXPIRY).is_empty(),
        "exactly 120 s is still alive"
    );
    assert!(table.route("T").is_some());

    // The master refreshes; the slave stays silent.
    table.register_broker(
        &header("c", "broker-a", "a:1", 0),
        topics(1, &[topic("T", 4, 6)]),
        1,
        t0 + Duration::from_secs(60),
    );
    let expired = table.scan_expired(t0 + EXPIRY + Duration::from_millis(1));
    assert_eq!(expired, vec![("a:2".to_owned(), 2)]);
    let group = &table.cluster_info().broker_addr_table["broker-a"];
    assert_eq!(group.broker_addrs, BTreeMap::from([(0, "a:1".to_owned())]));
    assert!(table.live_broker("a:2").is_none());

    let expired = table.scan_expired(t0 + Duration::from_secs(181));
    assert_eq!(expired, vec![("a:1".to_owned(), 1)]);
    assert_eq!(table.route("T"), None);
    assert!(table.cluster_info().cluster_addr_table.is_empty());
    assert!(table.cluster_info().broker_addr_table.is_empty());
    assert!(table.all_topics().is_empty());
}

#[test]
fn a_heartbeat_timeout_from_the_broker_overrides_the_default() {
    let t0 = Instant::now();
    let mut table = RouteTable::new(EXPIRY);
    let mut short = header("c", "broker-a", "a:1", 0);
    short.heartbeat_timeout_millis = Some(10_000);
    table.register_broker(&short, topics(1, &[]), 1, t0);
    assert!(table.scan_expired(t0 + Duration::from_secs(10)).is_empty());
    assert_eq!(
        table.scan_expired(t0 + Duration::from_millis(10_001)),
        vec![("a:1".to_owned(), 1)]
    );
}

#[test]
fn connection_close_removes_only_brokers_registered_over_it() {
    let t0 = Instant::now();
    let mut table = master_and_slave(t0);
    table.register_broker(
        &header("c", "broker-b", "b:1", 0),
        topics(1, &[topic("T", 2, 6), topic("B", 2, 6)]),
        3,
        t0,
    );
    assert!(table.connection_closed(99).is_empty());

    assert_eq!(table.connection_closed(3), vec!["b:1".to_owned()]);
    assert_eq!(table.route("B"), None);
    let route = table.route("T").unwrap();
    assert_eq!(route.broker_datas.len(), 1);
    assert_eq!(route.broker_datas[0].broker_name, "broker-a");
    assert_eq!(route.queue_datas.len(), 1);
    assert_eq!(
        table.cluster_info().cluster_addr_table["c"],
        BTreeSet::from(["broker-a".to_owned()])
    );

    // Losing the master alone keeps the group, served by its slave.
    assert_eq!(table.connection_closed(1), vec!["a:1".to_owned()]);
    let route = table.route("T").unwrap();
    assert_eq!(route.broker_datas[0].master_addr(), None);
    assert_eq!(
        route.broker_datas[0].broker_addrs,
        BTreeMap::from([(1, "a:2".to_owned())])
    );
}

#[test]
fn a_broker_that_re_registered_over_a_new_connection_survives_the_old_ones_close() {
    let t0 = Instant::now();
    let mut table = RouteTable::new(EXPIRY);
    let broker = header("c", "broker-a", "a:1", 0);
    table.register_broker(&broker, topics(1, &[topic("T", 4, 6)]), 1, t0);
    table.register_broker(&broker, topics(1, &[topic("T", 4, 6)]), 2, t0);
    assert!(table.connection_closed(1).is_empty());
    assert!(table.route("T").is_some());
    assert_eq!(table.connection_closed(2), vec!["a:1".to_owned()]);
}

#[test]
fn unregistering_the_last_address_removes_the_group_cluster_and_topics() {
    let t0 = Instant::now();
    let mut table = master_and_slave(t0);
    table.unregister_broker(&unregister("c", "broker-a", "a:2", 1));
    assert!(table.route("T").is_some());
    assert!(table.live_broker("a:2").is_none());

    table.unregister_broker(&unregister("c", "broker-a", "a:1", 0));
    assert_eq!(table.route("T"), None);
    let info = table.cluster_info();
    assert!(info.broker_addr_table.is_empty());
    assert!(info.cluster_addr_table.is_empty());
}

#[test]
fn route_for_an_unknown_topic_is_none() {
    let table = master_and_slave(Instant::now());
    assert_eq!(table.route("Nope"), None);
}

#[test]
fn wipe_and_add_write_perm_count_the_topics_of_that_broker() {
    let t0 = Instant::now();
    let mut table = RouteTable::new(EXPIRY);
    table.register_broker(
        &header("c", "broker-a", "a:1", 0),
        topics(1, &[topic("T", 4, 6), topic("U", 4, 7), topic("R", 4, 4)]),
        1,
        t0,
    );
    table.register_broker(
        &header("c", "broker-b", "b:1", 0),
        topics(1, &[topic("T", 4, 6)]),
        2,
        t0,
    );
    assert_eq!(table.wipe_write_perm("broker-a"), 3);
    assert_eq!(table.wipe_write_perm("nobody"), 0);
    let perm_of = |table: &RouteTable, topic: &str, broker: &str| {
        table
            .route(topic)
            .unwrap()
            .queue_datas
            .into_iter()
            .find(|queue| queue.broker_name == broker)
            .unwrap()
            .perm
    };
    assert_eq!(perm_of(&table, "T", "broker-a"), 4);
    assert_eq!(perm_of(&table, "U", "broker-a"), 5, "other bits are kept");
    assert_eq!(
        perm_of(&table, "T", "broker-b"),
        6,
        "other brokers untouched"
    );

    assert_eq!(table.add_write_perm("broker-a"), 3);
    assert_eq!(
        perm_of(&table, "U", "broker-a"),
        6,
        "Apache sets exactly RW"
    );
    assert_eq!(perm_of(&table, "R", "broker-a"), 6);
}

#[test]
fn delete_topic_removes_it_everywhere_or_only_on_one_cluster() {
    let t0 = Instant::now();
    let mut table = RouteTable::new(EXPIRY);
    table.register_broker(
        &header("c1", "broker-a", "a:1", 0),
        topics(1, &[topic("T", 4, 6), topic("U", 4, 6)]),
        1,
        t0,
    );
    table.register_broker(
        &header("c2", "broker-b", "b:1", 0),
        topics(1, &[topic("T", 4, 6), topic("U", 4, 6)]),
        2,
        t0,
    );
    table.delete_topic("T", Some("c1"));
    let route = table.route("T").unwrap();
    assert_eq!(route.queue_datas.len(), 1);
    assert_eq!(route.queue_datas[0].broker_name, "broker-b");
    table.delete_topic("T", Some("unknown"));
    assert!(table.route("T").is_some());
    table.delete_topic("T", Some("c2"));
    assert_eq!(table.route("T"), None);

    table.delete_topic("U", None);
    assert_eq!(table.route("U"), None);
    assert!(table.all_topics().is_empty());
}

#[test]
fn cluster_info_lists_groups_by_cluster() {
    let t0 = Instant::now();
    let mut table = master_and_slave(t0);
    table.register_broker(&header("d", "broker-b", "b:1", 0), topics(1, &[]), 3, t0);
    let info = table.cluster_info();
    assert_eq!(
        info.cluster_addr_table,
        BTreeMap::from([
            ("c".to_owned(), BTreeSet::from(["broker-a".to_owned()])),
            ("d".to_owned(), BTreeSet::from(["broker-b".to_owned()])),
        ])
    );
    assert_eq!(info.broker_addr_table["broker-a"].broker_addrs.len(), 2);
    assert_eq!(info.broker_addr_table["broker-b"].cluster, "d");
}

#[test]
fn topics_by_cluster_and_system_topics_follow_the_clusters() {
    let t0 = Instant::now();
    let mut table = RouteTable::new(EXPIRY);
    table.register_broker(
        &header("c1", "broker-a", "a:1", 0),
        topics(1, &[topic("T", 4, 6), topic("A", 4, 6)]),
        1,
        t0,
    );
    table.register_broker(
        &header("c2", "broker-b", "b:1", 0),
        topics(1, &[topic("T", 4, 6), topic("B", 4, 6)]),
        2,
        t0,
    );
    assert_eq!(table.topics_by_cluster("c1"), vec!["A", "T"]);
    assert_eq!(table.topics_by_cluster("c2"), vec!["B", "T"]);
    assert!(table.topics_by_cluster("nope").is_empty());

    let system = table.system_topics();
    assert_eq!(system.topic_list, vec!["broker-a", "broker-b", "c1", "c2"]);
    assert_eq!(system.broker_addr.as_deref(), Some("a:1"));
}

#[test]
fn unit_topic_lists_follow_the_sys_flags() {
    let mut unit = topic("Unit", 1, 6);
    unit.topic_sys_flag = TOPIC_SYS_FLAG_UNIT;
    let mut sub = topic("Sub", 1, 6);
    sub.topic_sys_flag = TOPIC_SYS_FLAG_UNIT_SUB;
    let mut both = topic("Both", 1, 6);
    both.topic_sys_flag = TOPIC_SYS_FLAG_UNIT | TOPIC_SYS_FLAG_UNIT_SUB;
    let mut table = RouteTable::new(EXPIRY);
    table.register_broker(
        &header("c", "broker-a", "a:1", 0),
        topics(1, &[unit, sub, both, topic("Plain", 1, 6)]),
        1,
        Instant::now(),
    );
    assert_eq!(table.unit_topics(), vec!["Both", "Unit"]);
    assert_eq!(table.has_unit_sub_topics(), vec!["Both", "Sub"]);
    assert_eq!(table.has_unit_sub_ununit_topics(), vec!["Sub"]);
}

#[test]
fn an_unchanged_data_version_refreshes_the_broker_and_a_changed_one_does_not() {
    let t0 = Instant::now();
    let mut table = RouteTable::new(EXPIRY);
    let registered = topics(3, &[topic("T", 4, 6)]);
    let version = registered.data_version;
    table.register_broker(&header("c", "broker-a", "a:1", 0), registered, 1, t0);

    let t1 = t0 + Duration::from_secs(100);
    let newer = DataVersion {
        counter: 4,
        ..version
    };
    let query = table.query_data_version("a:1", &newer, t1);
    assert_eq!(
        query,
        DataVersionQuery {
            changed: true,
            registered: Some(version)
        }
    );
    assert_eq!(table.live_broker("a:1").unwrap().last_update, t0);

    let query = table.query_data_version("a:1", &version, t1);
    assert_eq!(
        query,
        DataVersionQuery {
            changed: false,
            registered: Some(version)
        }
    );
    assert_eq!(table.live_broker("a:1").unwrap().last_update, t1);
    assert!(
        table.scan_expired(t0 + Duration::from_secs(200)).is_empty(),
        "the query counted as a heartbeat"
    );

    let unknown = table.query_data_version("x:1", &version, t1);
    assert_eq!(
        unknown,
        DataVersionQuery {
            changed: true,
            registered: None
        }
    );
}
