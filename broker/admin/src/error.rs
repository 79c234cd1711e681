//! What can go wrong: [`RpcError`] for one request to one server, [`CallNamesrvError`] for a
//! request to whichever of the name servers answers.

use rmq_protocol::body::DecodeBodyError;
use rmq_protocol::code::{RequestCode, ResponseCode};
use rmq_protocol::command::ReadHeaderError;
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

/// A request to the name servers (tried in turn until one answers) failed.
#[derive(Debug, thiserror::Error)]
pub enum CallNamesrvError {
    /// The client was given no name server address.
    #[error("no name server address was given")]
    NoNamesrv,
    /// Several name servers, and none answered.
    #[error("none of the name servers {tried} answered")]
    Unreachable {
        /// The addresses tried, separated by `;`.
        tried: String,
        #[source]
        last: Box<RpcError>,
    },
    /// The only name server did not answer, or one answered with a refusal or an unreadable
    /// answer.
    #[error(transparent)]
    Rpc(Box<RpcError>),
}

/// Boxed: a [`RpcError`] is several times the size of the other variants.
impl From<RpcError> for CallNamesrvError {
    fn from(error: RpcError) -> CallNamesrvError {
        CallNamesrvError::Rpc(Box::new(error))
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

#[cfg(test)]
mod tests {
    use std::error::Error;

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
    fn name_servers_that_all_failed_are_listed_with_the_last_failure_as_the_cause() {
        let error = CallNamesrvError::Unreachable {
            tried: "a:9876;b:9876".into(),
            last: Box::new(RpcError::Refused {
                request: RequestCode::GetBrokerClusterInfo.code(),
                addr: "b:9876".into(),
                code: 1,
                remark: None,
            }),
        };
        assert_eq!(
            error.to_string(),
            "none of the name servers a:9876;b:9876 answered"
        );
        assert_eq!(
            error.source().map(ToString::to_string).as_deref(),
            Some("GET_BROKER_CLUSTER_INFO(106) to b:9876 was answered SYSTEM_ERROR(1)")
        );
    }

    #[test]
    fn a_failure_of_one_name_server_reads_as_its_request_error() {
        let error = CallNamesrvError::from(RpcError::Refused {
            request: RequestCode::GetRouteinfoByTopic.code(),
            addr: "a:9876".into(),
            code: 17,
            remark: None,
        });
        assert_eq!(
            error.to_string(),
            "GET_ROUTEINFO_BY_TOPIC(105) to a:9876 was answered TOPIC_NOT_EXIST(17)"
        );
    }
}
