//! RESUME_CHECK_HALF_MESSAGE (323): put a half message that ran out of checks back in the half
//! topic with its check count reset, so the producer is asked about it again.

use super::command_header;

command_header! {
    /// The half message, by its offset message id.
    pub struct ResumeCheckHalfMessageRequestHeader {
        msg_id: Option<String> => "msgId",
    }
}
