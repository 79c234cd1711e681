//! What can go wrong in a subcommand: [`CmdError`]. One request's failure is
//! [`rmq_admin::RpcError`], a name-server request's [`rmq_admin::CallNamesrvError`].

use rmq_admin::{CallNamesrvError, RpcError};
use rmq_protocol::message::msg_id::ParseMsgIdError;

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
    /// Every name-server failure but [`CmdError::NoNamesrv`], which the CLI words itself.
    #[error(transparent)]
    Namesrv(CallNamesrvError),
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

/// A missing name server address is told with the flag and the variable that give one; every
/// other name-server failure reads as rmq-admin words it.
impl From<CallNamesrvError> for CmdError {
    fn from(error: CallNamesrvError) -> CmdError {
        match error {
            CallNamesrvError::NoNamesrv => CmdError::NoNamesrv,
            other => CmdError::Namesrv(other),
        }
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
    use rmq_protocol::code::RequestCode;

    use super::*;

    #[test]
    fn a_missing_name_server_address_is_told_with_the_flag_and_the_variable_that_give_one() {
        let error = CmdError::from(CallNamesrvError::NoNamesrv);
        assert!(matches!(error, CmdError::NoNamesrv));
        assert!(error.to_string().contains("pass -n host:port"), "{error}");
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
