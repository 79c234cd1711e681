//! `topicRoute`: GET_ROUTEINFO_BY_TOPIC, printed as pretty standard JSON (broker ids quoted,
//! whatever form the name server used), in both output modes.

use rmq_admin::Admin;
use rmq_protocol::body::route::TopicRouteData;

use crate::cli::TopicArgs;
use crate::error::CmdError;

/// The route as pretty JSON with a final newline.
pub fn render_topic_route(route: &TopicRouteData) -> Result<String, CmdError> {
    let mut text = serde_json::to_string_pretty(route).map_err(CmdError::Json)?;
    text.push('\n');
    Ok(text)
}

/// Asks the name server.
pub async fn run(admin: &Admin, args: &TopicArgs) -> Result<TopicRouteData, CmdError> {
    Ok(admin.topic_route(&args.topic).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_with_bare_broker_ids_prints_as_pretty_standard_json() {
        let body = br#"{"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#;
        let route = TopicRouteData::decode(body).unwrap();
        assert_eq!(
            render_topic_route(&route).unwrap(),
            r#"{
  "brokerDatas": [
    {
      "brokerAddrs": {
        "0": "10.0.0.1:10911",
        "1": "10.0.0.2:10911"
      },
      "brokerName": "broker-a",
      "cluster": "DefaultCluster"
    }
  ],
  "filterServerTable": {},
  "queueDatas": [
    {
      "brokerName": "broker-a",
      "perm": 6,
      "readQueueNums": 4,
      "topicSysFlag": 0,
      "writeQueueNums": 4
    }
  ]
}
"#
        );
    }
}
