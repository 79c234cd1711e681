//! Where a message is stored: every placement rule of the broker in one place, pure.
//!
//! | message | stored in | rule |
//! |---|---|---|
//! | a send | the topic and queue asked for | [`send`] → [`Route::AsAsked`] |
//! | a send to `%RETRY%<group>` at the group's reconsume limit | `%DLQ%<group>` queue 0, delay cleared | [`send`] → [`Route::DeadLetter`] |
//! | a send with `TRAN_MSG=true` | `RMQ_SYS_TRANS_HALF_TOPIC` queue 0, real topic and queue in `REAL_TOPIC`/`REAL_QID`, transaction bits cleared | [`send`] → [`Route::Half`], [`half_message`] |
//! | a committed half message | its `REAL_TOPIC`/`REAL_QID`, transaction type COMMIT | [`committed`] |
//! | anything plain or committed with `DELAY > 0` | `SCHEDULE_TOPIC_XXXX` queue `level - 1`, real address kept | [`delay_rewrite`] |
//! | a delayed message that is due | its `REAL_TOPIC`/`REAL_QID` | [`delivered`] |
//! | a message a consumer sends back | `%RETRY%<group>` through delay level `3 + reconsumeTimes`, or `%DLQ%<group>` past the limit | [`destination`] |
//!
//! The shells (`processor::send`, `processor::send_back`, `processor::end_transaction`,
//! `schedule`) apply these and do the appends.

use rmq_protocol::message::properties::keys;
use rmq_protocol::message::record::RecordView;
use rmq_protocol::message::sysflag;
use rmq_store::PutMessage;
use rmq_store::delay_level::DelayLevels;

use crate::props;

/// Where a single sent message is stored, before a `DELAY` (if any) parks it in
/// `SCHEDULE_TOPIC_XXXX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The topic and queue the producer asked for.
    AsAsked,
    /// `%DLQ%<group>` queue 0, its delay cleared: a send to `%RETRY%<group>` whose reconsume
    /// count reached the group's limit (Apache's `handleRetryAndDLQ`).
    DeadLetter,
    /// `RMQ_SYS_TRANS_HALF_TOPIC` queue 0, the real topic and queue kept in properties.
    Half,
}

/// Routes one sent message: `retry_limit` is the reconsume limit when the topic is a retry
/// topic, `transaction` whether it carries `TRAN_MSG=true`. The retry limit comes first, as in
/// Apache: a transactional send to a retry topic past its limit is dead-lettered.
pub fn send(reconsume_times: i32, retry_limit: Option<i32>, transaction: bool) -> Route {
    if retry_limit.is_some_and(|limit| reconsume_times >= limit) {
        Route::DeadLetter
    } else if transaction {
        Route::Half
    } else {
        Route::AsAsked
    }
}

/// The properties and sysFlag of a half message (`parseHalfMessageInner`): the real topic and
/// queue saved as properties, the transaction bits reset so the record gets a consume-queue slot
/// in the half topic.
pub fn half_message(
    topic: &str,
    queue_id: i32,
    sys_flag: i32,
    properties: &[u8],
) -> (Vec<u8>, i32) {
    let props = props::with(properties, keys::REAL_TOPIC, topic);
    let props = props::with(&props, keys::REAL_QID, &queue_id.to_string());
    let sys_flag = sysflag::with_transaction_type(sys_flag, sysflag::TRANSACTION_NOT_TYPE);
    (props, sys_flag)
}

/// Where a committed half message goes: its `REAL_TOPIC` and `REAL_QID` (0 when missing or not a
/// number) with the transaction type COMMIT; `None` without a `REAL_TOPIC`.
pub fn committed(half_properties: &[u8], half_sys_flag: i32) -> Option<(&str, i32, i32)> {
    let topic = rmq_protocol::message::properties::find(half_properties, keys::REAL_TOPIC)?;
    let queue_id = props::int(half_properties, keys::REAL_QID)
        .and_then(|q| i32::try_from(q).ok())
        .unwrap_or(0);
    let sys_flag = sysflag::with_transaction_type(half_sys_flag, sysflag::TRANSACTION_COMMIT_TYPE);
    Some((topic, queue_id, sys_flag))
}

/// The schedule queue and properties of a message with `delay_level` (its `DELAY`) that must
/// wait, or `None`.
pub fn delay_rewrite(
    levels: &DelayLevels,
    topic: &str,
    queue_id: i32,
    sys_flag: i32,
    properties: &[u8],
    delay_level: Option<i64>,
) -> Option<(i32, Vec<u8>)> {
    let tx = sysflag::transaction_type(sys_flag);
    if tx != sysflag::TRANSACTION_NOT_TYPE && tx != sysflag::TRANSACTION_COMMIT_TYPE {
        return None;
    }
    let level = delay_level?;
    if level <= 0 || levels.max_level() <= 0 {
        return None;
    }
    let level = level.min(i64::from(levels.max_level())) as i32;
    let mut rewritten = props::with(properties, keys::DELAY, &level.to_string());
    rewritten = props::with(&rewritten, keys::REAL_TOPIC, topic);
    rewritten = props::with(&rewritten, keys::REAL_QID, &queue_id.to_string());
    Some((level - 1, rewritten))
}

/// A due message rebuilt for its real topic (`messageTimeup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub topic: String,
    pub queue_id: i32,
}

impl Delivered {
    /// Apache stores the property string it read, DELAY included (the level is only cleared
    /// from the in-memory map), so consumers see the level the producer asked for.
    pub fn as_put<'a>(&'a self, view: &RecordView<'a>) -> PutMessage<'a> {
        copy_of(view, &self.topic, self.queue_id)
    }
}

/// A stored record written again, as it is, to `topic`/`queue_id` (a due delayed message, a
/// half message put back for its next check or set aside after too many).
pub fn copy_of<'a>(view: &RecordView<'a>, topic: &'a str, queue_id: i32) -> PutMessage<'a> {
    PutMessage {
        topic,
        queue_id,
        flag: view.flag(),
        sys_flag: view.sys_flag(),
        born_timestamp: view.born_timestamp(),
        born_host: view.born_host(),
        reconsume_times: view.reconsume_times(),
        prepared_transaction_offset: 0,
        body: view.body(),
        properties: view.properties(),
    }
}

/// Where a delayed record goes when due; `None` without a usable REAL_TOPIC/REAL_QID.
pub fn delivered(view: &RecordView<'_>) -> Option<Delivered> {
    let props = view.properties();
    let topic = rmq_protocol::message::properties::find(props, keys::REAL_TOPIC)?;
    let queue_id = props::int(props, keys::REAL_QID)?;
    if topic.is_empty() {
        return None;
    }
    Some(Delivered {
        topic: topic.to_owned(),
        queue_id: i32::try_from(queue_id).ok()?,
    })
}

/// Where a failed message goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The retry topic, through this delay level.
    Retry {
        delay_level: i32,
    },
    DeadLetter,
}

/// Apache's rule: dead letter once `reconsume_times >= max` or on a negative level; else retry
/// with the consumer's level, or `3 + reconsume_times` when it named none (0).
pub fn destination(
    reconsume_times: i32,
    max_reconsume_times: i32,
    delay_level: i32,
) -> Destination {
    if reconsume_times >= max_reconsume_times || delay_level < 0 {
        Destination::DeadLetter
    } else if delay_level == 0 {
        Destination::Retry {
            delay_level: 3 + reconsume_times,
        }
    } else {
        Destination::Retry { delay_level }
    }
}

#[cfg(test)]
mod tests;
