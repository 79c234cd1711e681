//! What can go wrong: [`RpcError`] for one request to one server, [`CmdError`] for a subcommand.

use rmq_protocol::body::DecodeBodyError;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::ReadHeaderError;
use rmq_protocol::message::msg_id::ParseMsgIdError;
use rmq_protocol::message::record::DecodeRecordError;
use rmq_remoting::InvokeError;

/// One request to one server failed.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// No answer: connect refused, connection closed, timeout.
    #[error("{} to {addr} failed", request_name(.request))]
    Transport {
        /// The request code.
        request: i32,
        addr: String,
        #[source]
        source: InvokeError,
    },
    /// An answer other than SUCCESS (or the few codes a request treats as a normal outcome).
    #[error("{} to {addr} was answered {}{}", request_name(.request), response_name(.code), remark_suffix(.remark))]
    Refused {
        /// The request code.
        request: i32,
        addr: String,
        code: i32,
        remark: Option<String>,
    },
    /// SUCCESS, but the header or body does not read.
    #[error("{} to {addr} was answered with an unreadable {what}", request_name(.request))]
    Decode {
        /// The request code.
        request: i32,
        addr: String,
        what: &'static str,
        #[source]
        source: DecodeError,
    },
}

/// The part of an answer that did not read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Body(#[from] DecodeBodyError),
    #[error(transparent)]
    Header(#[from] ReadHeaderError),
    #[error(transparent)]
    Record(#[from] DecodeRecordError),
}

/// A subcommand failed.
#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    #[error(
        "no name server address: pass -n host:port (several separated by ';') or set NAMESRV_ADDR"
    )]
    NoNamesrv,
    #[error("TLS settings (--tls-ca, --tls-cert, --tls-key) cannot be used: {0}")]
    Tls(#[source] rmq_remoting::tls::client::ClientTlsError),
    #[error(transparent)]
    Rpc(Box<RpcError>),
    #[error("none of the name servers {tried} answered")]
    NamesrvsUnreachable {
        tried: String,
        #[source]
        last: Box<RpcError>,
    },
    #[error("cluster {cluster:?} is not in the name server's cluster info")]
    UnknownCluster { cluster: String },
    #[error("cluster {cluster:?} has no master broker")]
    NoMaster { cluster: String },
    #[error("broker {addr} is not in the name server's cluster info")]
    UnknownBroker { addr: String },
    #[error("topic {topic:?} has no broker in its route")]
    NoBroker { topic: String },
    #[error("{action} topic {topic:?} stopped at {addr}{}", done_suffix(.done))]
    Apply {
        /// `creating` or `deleting`.
        action: &'static str,
        topic: String,
        addr: String,
        /// Servers where the change was already applied.
        done: Vec<String>,
        #[source]
        source: Box<RpcError>,
    },
    #[error("{id:?} is not an offset message id")]
    BadMsgId {
        id: String,
        #[source]
        source: ParseMsgIdError,
    },
    #[error("no message with key {key:?} in topic {topic:?}")]
    NoMessage { topic: String, key: String },
    #[error("group {group:?} has no consume progress on any broker")]
    NoConsumeProgress { group: String },
    #[error("topic {topic:?} has no queue offsets on any broker")]
    NoTopicStats { topic: String },
    #[error("group {group:?} has no client online on any broker asked")]
    GroupNotOnline { group: String },
    #[error("bad -s: {reason}")]
    BadTime { reason: String },
    #[error("{action} stopped at broker {addr}{}", done_suffix(.done))]
    BrokerApply {
        /// What was being done, e.g. `deleting subscription group "g"`.
        action: String,
        addr: String,
        /// Brokers where it was already done.
        done: Vec<String>,
        #[source]
        source: Box<RpcError>,
    },
    #[error("the JSON output could not be written")]
    Json(#[source] serde_json::Error),
    #[error(transparent)]
    Up(#[from] crate::local::UpError),
    #[error(transparent)]
    Down(#[from] crate::local::DownError),
    #[error(transparent)]
    LocalApply(#[from] crate::local::ApplyError),
}

/// Boxed: a [`RpcError`] is several times the size of the other variants.
impl From<RpcError> for CmdError {
    fn from(error: RpcError) -> CmdError {
        CmdError::Rpc(Box::new(error))
    }
}

/// `GET_ROUTEINFO_BY_TOPIC(105)`, or the bare number for a code the table does not know.
pub fn request_name(code: &i32) -> String {
    match RequestCode::from_code(*code) {
        Some(known) => known.to_string(),
        None => format!("request {code}"),
    }
}

/// `TOPIC_NOT_EXIST(17)`, or the bare number for a code the table does not know.
pub fn response_name(code: &i32) -> String {
    match ResponseCode::from_code(*code) {
        Some(known) => known.to_string(),
        None => format!("unknown code {code}"),
    }
}

fn remark_suffix(remark: &Option<String>) -> String {
    match remark.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => format!(": {text}"),
        _ => String::new(),
    }
}

fn done_suffix(done: &[String]) -> String {
    if done.is_empty() {
        String::new()
    } else {
        format!(" (already applied on {})", done.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_request_the_server_the_response_code_and_the_remark() {
        let error = RpcError::Refused {
            request: RequestCode::GetRouteinfoByTopic.code(),
            addr: "127.0.0.1:9876".into(),
            code: 17,
            remark: Some("No topic route info in name server for the topic: T".into()),
        };
        assert_eq!(
            error.to_string(),
            "GET_ROUTEINFO_BY_TOPIC(105) to 127.0.0.1:9876 was answered TOPIC_NOT_EXIST(17): \
             No topic route info in name server for the topic: T"
        );
    }

    #[test]
    fn a_refusal_without_remark_or_with_an_unknown_code_still_reads() {
        let error = RpcError::Refused {
            request: RequestCode::DeleteTopicInBroker.code(),
            addr: "b:10911".into(),
            code: 999,
            remark: None,
        };
        assert_eq!(
            error.to_string(),
            "DELETE_TOPIC_IN_BROKER(215) to b:10911 was answered unknown code 999"
        );
    }

    #[test]
    fn a_partly_applied_change_lists_where_it_was_applied() {
        let error = CmdError::Apply {
            action: "creating",
            topic: "T".into(),
            addr: "b:10911".into(),
            done: vec!["a:10911".into()],
            source: Box::new(RpcError::Refused {
                request: RequestCode::UpdateAndCreateTopic.code(),
                addr: "b:10911".into(),
                code: 1,
                remark: Some("disk full".into()),
            }),
        };
        assert_eq!(
            error.to_string(),
            "creating topic \"T\" stopped at b:10911 (already applied on a:10911)"
        );
    }
}
