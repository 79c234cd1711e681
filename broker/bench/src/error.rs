//! Why a run could not start or finish: each variant names the address or topic it concerns.

use rmq_protocol::body::DecodeBodyError;
use rmq_remoting::InvokeError;

use crate::cli::ArgError;

/// A run failed before or instead of producing figures.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Args(#[from] ArgError),
    #[error("cannot reach the name server at {addr}")]
    NamesrvUnreachable {
        addr: String,
        #[source]
        source: InvokeError,
    },
    #[error("cannot reach any name server (tried {tried})")]
    NamesrvsUnreachable {
        tried: String,
        #[source]
        source: InvokeError,
    },
    #[error("the name server at {addr} answered request {request} with {code}: {remark}")]
    NamesrvRefused {
        addr: String,
        request: i32,
        code: String,
        remark: String,
    },
    #[error("the {what} from {addr} cannot be read")]
    BadBody {
        addr: String,
        what: &'static str,
        #[source]
        source: DecodeBodyError,
    },
    #[error(
        "topic {topic} has no route on the name server and brokers do not auto-create topics \
         (no TBW102 route): pass --create-topic or create it with `rmqctl updateTopic`"
    )]
    NoRoute { topic: String },
    #[error("topic {topic} has no route on the name server after waiting {waited_s} s")]
    RouteNeverCame { topic: String, waited_s: u64 },
    #[error("topic {topic} has no {what} queue on any master broker")]
    NoQueue { topic: String, what: &'static str },
    #[error("no master broker is registered with the name server at {addr}")]
    NoBroker { addr: String },
    #[error("cannot reach broker {broker} at {addr} (its address on the name server)")]
    BrokerUnreachable {
        broker: String,
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("broker at {addr} answered {request} for topic {topic} with {code}: {remark}")]
    BrokerRefused {
        addr: String,
        topic: String,
        request: &'static str,
        code: String,
        remark: String,
    },
    #[error("no message was acknowledged; {errors} requests failed (see the error counts)")]
    NothingAcknowledged { errors: u64 },
    #[error("writing the report failed")]
    Output(#[source] std::io::Error),
}
