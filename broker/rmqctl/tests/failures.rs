#![allow(clippy::unwrap_used)]
//! How the real `rmqctl` binary fails: refusals shown with their response code and remark,
//! unreachable and silent servers within a bounded time, bad flags; exit 1 (2 for flags).

mod support;

use std::time::Duration;

use rmq_protocol::code::{RequestCode, ResponseCode};
use support::{
    FakeServer, Replies, cluster_info, dead_addr, group, rmqctl, rmqctl_with_env, route,
};

#[test]
fn a_refusing_broker_fails_update_topic_with_exit_1_naming_it_and_the_response_code() {
    let ns = FakeServer::start(|addr| {
        Replies::new()
            .ok(
                RequestCode::GetBrokerClusterInfo,
                cluster_info(&[group("DefaultCluster", "broker-a", &[(0, addr)])]),
            )
            .refuse(
                RequestCode::UpdateAndCreateTopic,
                ResponseCode::SystemError,
                "disk full",
            )
    });
    let run = rmqctl(&[
        "updateTopic",
        "-n",
        &ns.addr,
        "-t",
        "T",
        "-c",
        "DefaultCluster",
    ]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!(
            "rmqctl: creating topic \"T\" stopped at {0}: UPDATE_AND_CREATE_TOPIC(17) to {0} \
             was answered SYSTEM_ERROR(1): disk full\n",
            ns.addr
        )
    );
}

#[test]
fn delete_topic_in_an_unknown_cluster_deletes_nothing() {
    let ns = FakeServer::start(|addr| {
        Replies::new().ok(
            RequestCode::GetBrokerClusterInfo,
            cluster_info(&[group("DefaultCluster", "broker-a", &[(0, addr)])]),
        )
    });
    let run = rmqctl(&["deleteTopic", "-n", &ns.addr, "-t", "T", "-c", "Nope"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "rmqctl: cluster \"Nope\" is not in the name server's cluster info\n"
    );
    assert_eq!(ns.seen_codes(), [RequestCode::GetBrokerClusterInfo.code()]);
}

#[test]
fn a_key_no_broker_has_exits_1() {
    let ns = FakeServer::start(|addr| {
        Replies::new()
            .ok(
                RequestCode::GetRouteinfoByTopic,
                route(&[group("c", "broker-a", &[(0, addr)])]),
            )
            .refuse(RequestCode::QueryMessage, ResponseCode::QueryNotFound, "")
    });
    let run = rmqctl(&["queryMsgByKey", "-n", &ns.addr, "-t", "T", "-k", "nope"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "rmqctl: no message with key \"nope\" in topic \"T\"\n"
    );
}

#[test]
fn an_unreachable_name_server_fails_fast_with_exit_1_naming_its_address() {
    let dead = dead_addr();
    let run = rmqctl(&["clusterList", "-n", &dead, "--timeout-ms", "3000"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.starts_with(&format!(
            "rmqctl: GET_BROKER_CLUSTER_INFO(106) to {dead} failed: connecting to {dead} failed: "
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn the_next_name_server_is_tried_when_one_does_not_answer() {
    let ns = FakeServer::start(|_| {
        Replies::new().ok(
            RequestCode::GetAllTopicListFromNameserver,
            br#"{"topicList":["T"]}"#.to_vec(),
        )
    });
    let namesrv = format!("{};{}", dead_addr(), ns.addr);
    assert_eq!(rmqctl(&["topicList", "-n", &namesrv]).success(), "T\n");
    let both_dead = format!("{};{}", dead_addr(), dead_addr());
    let run = rmqctl(&["topicList", "-n", &both_dead]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.starts_with(&format!(
            "rmqctl: none of the name servers {both_dead} answered: "
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn a_topic_the_name_server_does_not_know_exits_1_with_the_response_code_and_remark() {
    let ns = FakeServer::start(|_| {
        Replies::new().refuse(
            RequestCode::GetRouteinfoByTopic,
            ResponseCode::TopicNotExist,
            "No topic route info in name server for the topic: nope",
        )
    });
    let run = rmqctl(&["topicRoute", "-n", &ns.addr, "-t", "nope"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!(
            "rmqctl: GET_ROUTEINFO_BY_TOPIC(105) to {} was answered TOPIC_NOT_EXIST(17): \
             No topic route info in name server for the topic: nope\n",
            ns.addr
        )
    );
}

#[test]
fn a_server_that_never_answers_is_given_up_on_after_the_timeout() {
    let ns =
        FakeServer::start(|_| Replies::new().silent(RequestCode::GetAllTopicListFromNameserver));
    let run = rmqctl(&["topicList", "-n", &ns.addr, "--timeout-ms", "300"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("got no response within 300ms"),
        "{}",
        run.stderr
    );
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn the_name_server_address_comes_from_namesrv_addr_when_n_is_absent() {
    let ns = FakeServer::start(|_| {
        Replies::new().ok(
            RequestCode::GetAllTopicListFromNameserver,
            br#"{"topicList":["T"]}"#.to_vec(),
        )
    });
    let run = rmqctl_with_env(&["topicList"], &[("NAMESRV_ADDR", &ns.addr)]);
    assert_eq!(run.success(), "T\n");
    let run = rmqctl(&["topicList"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        "rmqctl: no name server address: pass -n host:port (several separated by ';') or set NAMESRV_ADDR\n"
    );
}

#[test]
fn a_bad_flag_exits_2_with_clap_s_message() {
    let run = rmqctl(&["updateTopic", "-t", "T"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("required arguments were not provided"),
        "{}",
        run.stderr
    );
    let run = rmqctl(&["topicList", "--timeout-ms", "0"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("--timeout-ms"), "{}", run.stderr);
    let run = rmqctl(&["noSuchCommand"]);
    assert_eq!(run.code, Some(2));
}
