//! The shapes of answers every processor gives.

use rmq_protocol::code::ResponseCode;
use rmq_protocol::{CommandHeader, ReadHeaderError, RemotingCommand};

/// The answer to a request whose header is missing a field or has one that does not parse.
pub fn bad_header(request: &RemotingCommand, error: &ReadHeaderError) -> RemotingCommand {
    RemotingCommand::response_to(request, ResponseCode::SystemError)
        .with_remark(format!("request header is not valid: {error}"))
}

/// A SUCCESS response with `header`.
pub fn success_with(request: &RemotingCommand, header: &impl CommandHeader) -> RemotingCommand {
    RemotingCommand::response_to(request, ResponseCode::Success).with_header(header)
}

/// A response with `code` and `remark`.
pub fn answer(
    request: &RemotingCommand,
    code: ResponseCode,
    remark: impl Into<String>,
) -> RemotingCommand {
    RemotingCommand::response_to(request, code).with_remark(remark)
}
