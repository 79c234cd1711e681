//! `queryMsgById -i id[,id...]`: an offset message id is the store host and the commit log
//! offset in hex, so VIEW_MESSAGE_BY_ID goes straight to that broker; no name server needed.

use rmq_admin::{Admin, RpcError};
use rmq_protocol::code::RequestCode;
use rmq_protocol::message::msg_id::parse_offset_msg_id;
use rmq_protocol::message::record::DecodeRecordError;
use serde::Serialize;

use super::message::{MessageView, decode_messages, render_message};
use crate::cli::QueryMsgByIdArgs;
use crate::error::CmdError;

/// The messages, in the order of the ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Messages {
    pub messages: Vec<MessageView>,
}

/// Where an offset message id points: the broker address and the commit log offset.
pub fn locate(msg_id: &str) -> Result<(String, i64), CmdError> {
    let msg_id = msg_id.trim();
    let (host, offset) = parse_offset_msg_id(msg_id).map_err(|source| CmdError::BadMsgId {
        id: msg_id.to_owned(),
        source,
    })?;
    Ok((host.to_string(), offset))
}

/// The messages one after another, a blank line between them.
pub fn render_messages(messages: &Messages) -> String {
    messages
        .messages
        .iter()
        .map(render_message)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Looks every id up in turn.
pub async fn run(admin: &Admin, args: &QueryMsgByIdArgs) -> Result<Messages, CmdError> {
    let mut messages = Vec::with_capacity(args.msg_ids.len());
    for msg_id in &args.msg_ids {
        let (addr, offset) = locate(msg_id)?;
        let body = admin.view_message(&addr, offset).await?;
        let decoded = decode_messages(&body).and_then(|mut found| {
            if found.is_empty() {
                return Err(DecodeRecordError::Truncated {
                    needed: 8,
                    available: 0,
                });
            }
            Ok(found.swap_remove(0))
        });
        let message = decoded.map_err(|source| RpcError::Decode {
            request: RequestCode::ViewMessageById.code(),
            addr: addr.clone(),
            what: "record",
            source: source.into(),
        })?;
        messages.push(message);
    }
    Ok(Messages { messages })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_msg_id_locates_the_broker_and_the_commit_log_offset() {
        assert_eq!(
            locate(" 0A00000100002A9F0000000000000400 ").unwrap(),
            ("10.0.0.1:10911".to_owned(), 1024)
        );
    }

    #[test]
    fn a_unique_key_of_the_wrong_length_is_not_an_offset_msg_id() {
        let error = locate("7F0000010DF418B4AAC2").unwrap_err();
        assert!(matches!(&error, CmdError::BadMsgId { id, .. } if id == "7F0000010DF418B4AAC2"));
        assert_eq!(
            error.to_string(),
            "\"7F0000010DF418B4AAC2\" is not an offset message id"
        );
    }

    #[test]
    fn several_messages_are_separated_by_a_blank_line() {
        let one = crate::commands::message::tests::record(b"a", 0, &[]);
        let message = decode_messages(&one).unwrap().remove(0);
        let text = render_messages(&Messages {
            messages: vec![message.clone(), message],
        });
        assert_eq!(text.matches("OffsetID:").count(), 2);
        assert!(text.contains("Body:                a\n\nOffsetID:"));
    }
}
